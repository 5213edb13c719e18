// Consumers, profiles and bindings: validated here, stored by the `ConsumerStore`, and kept consistent with the
// applicability records (a record nobody bound can use any more is removed).

extension ApplicabilityEngine {
    // MARK: - Consumers

    /// Registers a new consumer and returns it as stored.
    ///
    /// - Throws: a 400 ``PulpError`` naming `id` for an id Pulp would refuse, a 409 when it is taken.
    @discardableResult
    public func register(_ consumer: Consumer) async throws -> Consumer {
        try Consumer.validate(id: consumer.id.rawValue)
        try await consumers.register(consumer)
        return consumer
    }

    /// The consumer with `id`.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer when it does not exist.
    public func consumer(_ id: ConsumerID) async throws -> Consumer {
        try await consumers.existingConsumer(id)
    }

    /// The consumers matching `criteria` (applied to ``Consumer/json``), ordered by id unless it sorts.
    public func consumers(matching criteria: Criteria) async throws -> [Consumer] {
        try await consumers.consumers(matching: criteria)
    }

    /// Changes a consumer's display name, description or notes atomically; the id cannot change.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown consumer, or what `change` throws (nothing is stored).
    @discardableResult
    public func updateConsumer(
        _ id: ConsumerID,
        _ change: @escaping @Sendable (inout Consumer) throws -> Void
    ) async throws -> Consumer {
        try await consumers.update(id, change)
    }

    /// Deletes a consumer with its profiles and bindings, and the applicability records only it used.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer when it does not exist.
    public func deleteConsumer(_ id: ConsumerID) async throws {
        let before = try await summary(of: id)
        guard try await consumers.delete(id) else { throw Consumer.missing(id) }
        try await pruneRecords(usedBy: before)
    }

    // MARK: - Profiles

    /// Stores what a consumer has installed of one content type, replacing its profile of that type.
    ///
    /// The calculator registered for the type validates and normalises the profile (sorting RPM entries, so
    /// identical sets hash alike); a type no calculator reads is stored as sent. Records only the consumer's
    /// previous profile set used are removed; call ``regenerate(consumer:)`` to compute the new ones.
    ///
    /// - Throws: a 400 ``PulpError`` naming `content_type` when it is empty, or `profile` when the calculator
    ///   refuses it; a 404 for an unknown consumer. Nothing is stored then.
    @discardableResult
    public func setProfile(
        _ profile: JSONValue,
        contentType: String,
        for consumer: ConsumerID
    ) async throws
        -> UnitProfile
    {
        guard !contentType.isEmpty else { throw PulpError.invalid("content_type", "must not be empty") }
        let normalized =
            try registry.withLock { $0.calculator(forProfileType: contentType) }
            .map { calculator throws(PulpError) in try calculator.normalize(profile, contentType) } ?? profile
        let before = try await summary(of: consumer)
        let stored = UnitProfile(consumerID: consumer, contentType: contentType, profile: normalized)
        try await consumers.setProfile(stored)
        try await pruneRecords(usedBy: before)
        return stored
    }

    /// A consumer's profiles, ordered by content type.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown consumer.
    public func profiles(of consumer: ConsumerID) async throws -> [UnitProfile] {
        try await consumers.profiles(of: consumer)
    }

    /// A consumer's profile of one content type.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer, or the consumer and the profile's content type.
    public func profile(contentType: String, of consumer: ConsumerID) async throws -> UnitProfile {
        guard let profile = try await consumers.profiles(of: consumer).first(where: { $0.contentType == contentType })
        else { throw PulpError.missingResource(["consumer": consumer.rawValue, "content_type": contentType]) }
        return profile
    }

    /// Removes a consumer's profile of one content type, and the records only its previous profile set used.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer, or the consumer and the content type when it has no
    ///   such profile.
    public func deleteProfile(contentType: String, of consumer: ConsumerID) async throws {
        let before = try await summary(of: consumer)
        guard try await consumers.removeProfile(contentType: contentType, of: consumer) else {
            throw PulpError.missingResource(["consumer": consumer.rawValue, "content_type": contentType])
        }
        try await pruneRecords(usedBy: before)
    }

    // MARK: - Bindings

    /// Binds a consumer to a repository (optionally to one of its distributors) and returns the binding.
    /// Binding again with the same repository and distributor replaces the options.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer and/or the repository that does not exist; a 400
    ///   naming `distributor_id` when it is empty.
    @discardableResult
    public func bind(
        _ consumer: ConsumerID,
        to repository: RepositoryID,
        distributorID: String? = nil,
        notifyAgent: Bool = true,
        bindingConfig: [String: JSONValue] = [:]
    ) async throws -> ConsumerBinding {
        if distributorID?.isEmpty == true { throw PulpError.invalid("distributor_id", "must not be empty") }
        let consumerExists = try await consumers.consumer(consumer) != nil
        let repositoryExists = try await repositories.repository(repository) != nil
        switch (consumerExists, repositoryExists) {
        case (false, false):
            throw PulpError.missingResource(["consumer": consumer.rawValue, "repository": repository.rawValue])
        case (false, true): throw Consumer.missing(consumer)
        case (true, false): throw Repository.missing(repository)
        case (true, true): break
        }
        let binding = ConsumerBinding(
            consumerID: consumer,
            repositoryID: repository,
            distributorID: distributorID,
            notifyAgent: notifyAgent,
            bindingConfig: bindingConfig
        )
        try await consumers.bind(binding)
        return binding
    }

    /// Unbinds a consumer from a repository: from the binding with `distributorID`, or from every binding
    /// to the repository when it is `nil`. Records no bound consumer uses any more are removed.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer, or the consumer and the repository when no such
    ///   binding exists.
    public func unbind(
        _ consumer: ConsumerID,
        from repository: RepositoryID,
        distributorID: String? = nil
    )
        async throws
    {
        let before = try await summary(of: consumer)
        guard try await consumers.unbind(consumer, from: repository, distributorID: distributorID) > 0 else {
            throw PulpError.missingResource(["consumer": consumer.rawValue, "repository": repository.rawValue])
        }
        try await pruneRecords(usedBy: before)
    }

    /// A consumer's bindings, ordered by repository then distributor.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown consumer.
    public func bindings(of consumer: ConsumerID) async throws -> [ConsumerBinding] {
        try await consumers.bindings(of: consumer)
    }

    // MARK: - Cascades and cleanup

    /// Forgets a repository that was deleted: unbinds every consumer from it and removes its applicability
    /// records. Call it when deleting a repository; queries ignore deleted repositories even before.
    public func removeRepository(_ id: RepositoryID) async throws {
        try await consumers.removeBindings(to: id)
        try await store.removeRecords(in: id)
    }

    /// Removes every record no query can reach any more: of a repository that no longer exists, of a
    /// profile set no consumer has, or of a (repository, profile set) pair no bound consumer has. Returns
    /// how many (Pulp 2's orphan cleanup; the cascades above make it needed only after a crash or a race).
    @discardableResult
    public func removeStaleRecords() async throws -> Int {
        let keys = try await store.keys()
        var live: [RepositoryID: Set<String>] = [:]
        var repositoryExists: [RepositoryID: Bool] = [:]
        for repository in Set(keys.map(\.repositoryID)) {
            repositoryExists[repository] = try await repositories.repository(repository) != nil
        }
        let existing = Set(repositoryExists.filter(\.value).keys)
        for summary in try await consumers.summaries(boundTo: existing) {
            guard let hash = summary.profileSetHash else { continue }
            for repository in summary.repositories where existing.contains(repository) {
                live[repository, default: []].insert(hash)
            }
        }
        let stale = keys.filter { live[$0.repositoryID]?.contains($0.profileSetHash) != true }
        return try await store.remove(stale)
    }

    /// The consumer's summary, or a 404.
    private func summary(of consumer: ConsumerID) async throws -> ConsumerProfileSummary {
        guard let summary = try await consumers.summaries(of: [consumer]).first else {
            throw Consumer.missing(consumer)
        }
        return summary
    }

    /// Removes the records of `before`'s (repository, profile set) pairs that no consumer bound to that
    /// repository has any more.
    private func pruneRecords(usedBy before: ConsumerProfileSummary) async throws {
        guard let hash = before.profileSetHash, !before.repositories.isEmpty else { return }
        let stillUsed = try await consumers.repositories(boundWithProfileSet: hash)
        let stale = before.repositories.filter { !stillUsed.contains($0) }.map {
            ApplicabilityKey(repositoryID: $0, profileSetHash: hash)
        }
        if !stale.isEmpty { try await store.remove(stale) }
    }
}
