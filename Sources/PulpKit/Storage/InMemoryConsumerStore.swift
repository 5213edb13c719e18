/// A ``ConsumerStore`` in memory: fast, shared by the tasks of one process, gone when it exits.
///
/// Identical profiles (same content type and hash) are stored once and shared by every consumer that has
/// them, as a fleet's hosts mostly do.
public final class InMemoryConsumerStore: ConsumerStore {
    private struct SharedProfile {
        var profile: JSONValue
        var users: Int
    }

    private struct Tables {
        var consumers: [ConsumerID: Consumer] = [:]
        var profiles: [ConsumerID: [String: UnitProfile]] = [:]
        var profileSetHashes: [ConsumerID: String] = [:]
        var bindings: [ConsumerID: [ConsumerBinding]] = [:]
        var consumersByRepository: [RepositoryID: Set<ConsumerID>] = [:]
        var consumersByProfileSet: [String: Set<ConsumerID>] = [:]
        var shared: [String: SharedProfile] = [:]

        func existing(_ id: ConsumerID) throws(PulpError) {
            guard consumers[id] != nil else { throw Consumer.missing(id) }
        }

        /// Recomputes a consumer's profile set hash after its profiles changed.
        mutating func refreshProfileSet(of id: ConsumerID) {
            let new = ProfileHash.profileSetHash(of: (profiles[id] ?? [:]).values)
            let old = profileSetHashes[id]
            guard new != old else { return }
            if let old {
                consumersByProfileSet[old]?.remove(id)
                if consumersByProfileSet[old]?.isEmpty == true { consumersByProfileSet[old] = nil }
            }
            profileSetHashes[id] = new
            if let new { consumersByProfileSet[new, default: []].insert(id) }
        }

        /// Returns `profile` with its content shared with an identical stored profile, counting the use.
        mutating func share(_ profile: UnitProfile) -> UnitProfile {
            let key = profile.contentType + "\u{0}" + profile.profileHash
            var shared = self.shared[key] ?? SharedProfile(profile: profile.profile, users: 0)
            shared.users += 1
            self.shared[key] = shared
            var result = profile
            result.profile = shared.profile
            return result
        }

        mutating func release(_ profile: UnitProfile) {
            let key = profile.contentType + "\u{0}" + profile.profileHash
            guard var shared = self.shared[key] else { return }
            shared.users -= 1
            self.shared[key] = shared.users > 0 ? shared : nil
        }

        mutating func refreshRepositories(of id: ConsumerID, before: Set<RepositoryID>) {
            let after = Set((bindings[id] ?? []).map(\.repositoryID))
            for repository in before.subtracting(after) {
                consumersByRepository[repository]?.remove(id)
                if consumersByRepository[repository]?.isEmpty == true { consumersByRepository[repository] = nil }
            }
            for repository in after.subtracting(before) { consumersByRepository[repository, default: []].insert(id) }
        }

        func summary(of id: ConsumerID) -> ConsumerProfileSummary {
            let repositories = Set((bindings[id] ?? []).map(\.repositoryID)).sorted()
            return ConsumerProfileSummary(
                consumerID: id,
                profileSetHash: profileSetHashes[id],
                repositories: repositories
            )
        }
    }

    private let tables = PulpMutex(Tables())

    /// Creates an empty store.
    public init() {}

    /// Stores a new consumer; a 409 when the id is taken.
    public func register(_ consumer: Consumer) async throws {
        try tables.withLock { tables throws(PulpError) in
            guard tables.consumers[consumer.id] == nil else { throw Consumer.duplicate(consumer.id) }
            tables.consumers[consumer.id] = consumer
        }
    }

    /// The consumer with `id`, or `nil`.
    public func consumer(_ id: ConsumerID) async throws -> Consumer? {
        tables.withLock { $0.consumers[id] }
    }

    /// The consumers whose JSON matches `criteria`, ordered by id unless it sorts.
    public func consumers(matching criteria: Criteria) async throws -> [Consumer] {
        let all = tables.withLock { Array($0.consumers.values) }.sorted { $0.id < $1.id }
        return Consumer.select(all, matching: criteria)
    }

    /// Applies `change` to the stored consumer atomically; a 404 when it does not exist.
    public func update(
        _ id: ConsumerID,
        _ change: @escaping @Sendable (inout Consumer) throws -> Void
    ) async throws -> Consumer {
        try tables.withLock { tables in
            guard var consumer = tables.consumers[id] else { throw Consumer.missing(id) }
            try change(&consumer)
            consumer.id = id
            tables.consumers[id] = consumer
            return consumer
        }
    }

    /// Removes the consumer with its profiles and bindings; returns whether it existed.
    public func delete(_ id: ConsumerID) async throws -> Bool {
        tables.withLock { tables in
            guard tables.consumers.removeValue(forKey: id) != nil else { return false }
            for profile in (tables.profiles.removeValue(forKey: id) ?? [:]).values { tables.release(profile) }
            tables.refreshProfileSet(of: id)
            tables.profileSetHashes[id] = nil
            let before = Set((tables.bindings.removeValue(forKey: id) ?? []).map(\.repositoryID))
            tables.refreshRepositories(of: id, before: before)
            return true
        }
    }

    /// Stores `profile`, replacing the consumer's profile of the same type; a 404 for an unknown consumer.
    public func setProfile(_ profile: UnitProfile) async throws {
        try tables.withLock { tables throws(PulpError) in
            try tables.existing(profile.consumerID)
            if let old = tables.profiles[profile.consumerID]?[profile.contentType] { tables.release(old) }
            tables.profiles[profile.consumerID, default: [:]][profile.contentType] = tables.share(profile)
            tables.refreshProfileSet(of: profile.consumerID)
        }
    }

    /// Removes the consumer's profile of `contentType`; returns whether it had one.
    public func removeProfile(contentType: String, of consumer: ConsumerID) async throws -> Bool {
        try tables.withLock { tables throws(PulpError) in
            try tables.existing(consumer)
            guard let old = tables.profiles[consumer]?.removeValue(forKey: contentType) else { return false }
            tables.release(old)
            tables.refreshProfileSet(of: consumer)
            return true
        }
    }

    /// The consumer's profiles, ordered by content type; a 404 for an unknown consumer.
    public func profiles(of consumer: ConsumerID) async throws -> [UnitProfile] {
        try tables.withLock { tables throws(PulpError) in
            try tables.existing(consumer)
            return (tables.profiles[consumer] ?? [:]).values.sorted { $0.contentType < $1.contentType }
        }
    }

    /// Stores `binding`, replacing one with the same repository and distributor; returns whether it is new.
    public func bind(_ binding: ConsumerBinding) async throws -> Bool {
        try tables.withLock { tables throws(PulpError) in
            try tables.existing(binding.consumerID)
            let id = binding.consumerID
            var bindings = tables.bindings[id] ?? []
            let before = Set(bindings.map(\.repositoryID))
            let index = bindings.firstIndex {
                $0.repositoryID == binding.repositoryID && $0.distributorID == binding.distributorID
            }
            if let index { bindings[index] = binding } else { bindings.append(binding) }
            tables.bindings[id] = bindings
            tables.refreshRepositories(of: id, before: before)
            return index == nil
        }
    }

    /// Removes the consumer's bindings to `repository` (only the one with `distributorID` unless it is `nil`).
    public func unbind(
        _ consumer: ConsumerID,
        from repository: RepositoryID,
        distributorID: String?
    ) async throws
        -> Int
    {
        try tables.withLock { tables throws(PulpError) in
            try tables.existing(consumer)
            var bindings = tables.bindings[consumer] ?? []
            let before = Set(bindings.map(\.repositoryID))
            let count = bindings.count
            bindings.removeAll {
                $0.repositoryID == repository && (distributorID == nil || $0.distributorID == distributorID)
            }
            tables.bindings[consumer] = bindings.isEmpty ? nil : bindings
            tables.refreshRepositories(of: consumer, before: before)
            return count - bindings.count
        }
    }

    /// The consumer's bindings, ordered by repository then distributor; a 404 for an unknown consumer.
    public func bindings(of consumer: ConsumerID) async throws -> [ConsumerBinding] {
        try tables.withLock { tables throws(PulpError) in
            try tables.existing(consumer)
            return (tables.bindings[consumer] ?? []).sorted(by: ConsumerBinding.precedes)
        }
    }

    /// Removes every binding to `repository`; returns how many.
    public func removeBindings(to repository: RepositoryID) async throws -> Int {
        tables.withLock { tables in
            var removed = 0
            for id in tables.consumersByRepository[repository] ?? [] {
                let bindings = tables.bindings[id] ?? []
                let kept = bindings.filter { $0.repositoryID != repository }
                removed += bindings.count - kept.count
                tables.bindings[id] = kept.isEmpty ? nil : kept
            }
            tables.consumersByRepository[repository] = nil
            return removed
        }
    }

    /// The summaries of the consumers among `consumers` that exist, in the order given.
    public func summaries(of consumers: [ConsumerID]) async throws -> [ConsumerProfileSummary] {
        tables.withLock { tables in
            consumers.compactMap { tables.consumers[$0] == nil ? nil : tables.summary(of: $0) }
        }
    }

    /// The summaries of every consumer bound to one of `repositories`, ordered by consumer id.
    public func summaries(boundTo repositories: Set<RepositoryID>) async throws -> [ConsumerProfileSummary] {
        tables.withLock { tables in
            var ids: Set<ConsumerID> = []
            for repository in repositories { ids.formUnion(tables.consumersByRepository[repository] ?? []) }
            return ids.sorted().map { tables.summary(of: $0) }
        }
    }

    /// The repositories some consumer whose profile set has `hash` is bound to.
    public func repositories(boundWithProfileSet hash: String) async throws -> Set<RepositoryID> {
        tables.withLock { tables in
            var result: Set<RepositoryID> = []
            for id in tables.consumersByProfileSet[hash] ?? [] {
                for binding in tables.bindings[id] ?? [] { result.insert(binding.repositoryID) }
            }
            return result
        }
    }

    /// For each of `hashes` some consumer has, that consumer's non-empty profiles, ordered by content type.
    public func profileSets(_ hashes: Set<String>) async throws -> [String: [UnitProfile]] {
        tables.withLock { tables in
            var result: [String: [UnitProfile]] = [:]
            for hash in hashes {
                guard let member = tables.consumersByProfileSet[hash]?.min() else { continue }
                result[hash] = (tables.profiles[member] ?? [:]).values.filter { !$0.isEmpty }
                    .sorted { $0.contentType < $1.contentType }
            }
            return result
        }
    }
}

extension Consumer {
    /// The consumers (ordered by id) whose JSON matches `criteria`, in the criteria's order and page.
    static func select(_ consumers: [Consumer], matching criteria: Criteria) -> [Consumer] {
        if criteria.filters.isEmpty, criteria.sort.isEmpty {
            // Nothing to match or order by: page over the id order without building documents.
            let start = min(criteria.skip ?? 0, consumers.count)
            let end = criteria.limit.map { min(start + $0, consumers.count) } ?? consumers.count
            return Array(consumers[start..<end])
        }
        let byID = Dictionary(uniqueKeysWithValues: consumers.map { ($0.id.rawValue, $0) })
        return criteria.apply(to: consumers.map(\.json)).compactMap { document in
            document["id"]?.stringValue.flatMap { byID[$0] }
        }
    }
}

extension ConsumerBinding {
    /// Orders bindings by repository, then distributor (no distributor first).
    static func precedes(_ lhs: ConsumerBinding, _ rhs: ConsumerBinding) -> Bool {
        if lhs.repositoryID != rhs.repositoryID { return lhs.repositoryID < rhs.repositoryID }
        return (lhs.distributorID ?? "") < (rhs.distributorID ?? "")
    }
}
