/// Where consumers, their unit profiles and their repository bindings live.
///
/// The store keeps values as given: validation, profile normalisation and hashing happen before (in
/// ``ApplicabilityEngine``). Every conformer keeps these rules:
///
/// 1. **Register.** ``register(_:)`` stores a new consumer; an id already stored is a 409 and nothing
///    changes.
/// 2. **Read.** ``consumer(_:)`` returns what was stored, or `nil`; ``consumers(matching:)`` applies the
///    criteria to each consumer's ``Consumer/json`` (ordered by id unless the criteria sort).
/// 3. **Update.** ``update(_:_:)`` applies a change atomically: the change sees the stored value, and what it
///    leaves is stored, unless it throws, in which case nothing changes. The id cannot change. A missing
///    consumer is a 404.
/// 4. **Delete.** ``delete(_:)`` removes the consumer with its profiles and bindings, and returns whether it
///    existed.
/// 5. **Profiles.** A consumer has at most one profile per content type: ``setProfile(_:)`` replaces the
///    one of the same type. Profiles and bindings of an unknown consumer are a 404 and nothing changes.
/// 6. **Bindings.** ``bind(_:)`` stores one binding per (consumer, repository, distributor), replacing an
///    equal key's options; ``unbind(_:from:distributorID:)`` removes the named ones.
/// 7. **Summaries.** A summary's ``ConsumerProfileSummary/profileSetHash`` is
///    ``ProfileHash/profileSetHash(of:)-(Sequence<UnitProfile>)`` of the consumer's current profiles, and its
///    repositories are those of its current bindings, sorted, each once.
/// 8. **Profile sets.** ``profileSets(_:)`` returns, for each hash that some consumer's profile set has now,
///    that consumer's non-empty profiles (any such consumer: their profiles are identical).
/// 9. **Durability.** A change is stored before the call that makes it returns.
public protocol ConsumerStore: Sendable {
    /// Stores a new consumer (rule 1).
    func register(_ consumer: Consumer) async throws

    /// The consumer with `id`, or `nil` (rule 2).
    func consumer(_ id: ConsumerID) async throws -> Consumer?

    /// The consumers matching `criteria`, in its order and page (rule 2).
    func consumers(matching criteria: Criteria) async throws -> [Consumer]

    /// Changes a stored consumer atomically and returns the stored result (rule 3).
    @discardableResult
    func update(
        _ id: ConsumerID,
        _ change: @escaping @Sendable (inout Consumer) throws -> Void
    ) async throws
        -> Consumer

    /// Removes a consumer with its profiles and bindings; returns whether it existed (rule 4).
    @discardableResult
    func delete(_ id: ConsumerID) async throws -> Bool

    /// Stores a profile, replacing the consumer's profile of the same content type (rule 5).
    func setProfile(_ profile: UnitProfile) async throws

    /// Removes a consumer's profile of one content type; returns whether it had one (rule 5).
    @discardableResult
    func removeProfile(contentType: String, of consumer: ConsumerID) async throws -> Bool

    /// A consumer's profiles, ordered by content type; a 404 for an unknown consumer.
    func profiles(of consumer: ConsumerID) async throws -> [UnitProfile]

    /// Stores a binding (rule 6); returns whether it is new. A 404 for an unknown consumer.
    @discardableResult
    func bind(_ binding: ConsumerBinding) async throws -> Bool

    /// Removes a consumer's bindings to a repository: the one with `distributorID`, or every one when it is
    /// `nil` (rule 6). Returns how many.
    @discardableResult
    func unbind(_ consumer: ConsumerID, from repository: RepositoryID, distributorID: String?) async throws -> Int

    /// A consumer's bindings, ordered by repository then distributor; a 404 for an unknown consumer.
    func bindings(of consumer: ConsumerID) async throws -> [ConsumerBinding]

    /// Removes every binding to a repository (which is being deleted); returns how many.
    @discardableResult
    func removeBindings(to repository: RepositoryID) async throws -> Int

    /// The summaries of the consumers with these ids that exist, in the order given (rule 7).
    func summaries(of consumers: [ConsumerID]) async throws -> [ConsumerProfileSummary]

    /// The summaries of every consumer bound to one of `repositories`, ordered by consumer id (rule 7).
    func summaries(boundTo repositories: Set<RepositoryID>) async throws -> [ConsumerProfileSummary]

    /// The repositories that some consumer whose profile set has `hash` is bound to (rule 7).
    func repositories(boundWithProfileSet hash: String) async throws -> Set<RepositoryID>

    /// For each of `hashes` that a consumer's profile set has now, that consumer's non-empty profiles,
    /// ordered by content type (rule 8). Hashes no consumer has are left out.
    func profileSets(_ hashes: Set<String>) async throws -> [String: [UnitProfile]]
}

extension ConsumerStore {
    /// The consumer with `id`, or a 404 ``PulpError`` naming it.
    public func existingConsumer(_ id: ConsumerID) async throws -> Consumer {
        guard let consumer = try await consumer(id) else { throw Consumer.missing(id) }
        return consumer
    }
}
