/// Identifies an applicability record: a repository and a consumer profile set.
public struct ApplicabilityKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The repository whose content was compared.
    public var repositoryID: RepositoryID
    /// The ``ProfileHash/profileSetHash(of:)-([String])`` of the consumers it applies to.
    public var profileSetHash: String

    /// Creates a key.
    public init(repositoryID: RepositoryID, profileSetHash: String) {
        self.repositoryID = repositoryID
        self.profileSetHash = profileSetHash
    }

    /// Orders by repository, then by hash.
    public static func < (lhs: ApplicabilityKey, rhs: ApplicabilityKey) -> Bool {
        (lhs.repositoryID, lhs.profileSetHash) < (rhs.repositoryID, rhs.profileSetHash)
    }

    /// `<repository>/<hash>`.
    public var description: String { "\(repositoryID)/\(profileSetHash)" }
}

/// What applies from one repository to every consumer with one profile set (Pulp 2's
/// `RepoProfileApplicability`, one record per set instead of one per member profile).
///
/// Records the engine computes also carry the same units as positions in the index's id tables, which a
/// store that keeps records as values (``InMemoryApplicabilityStore``) hands back, so that the query merges
/// integers; equality and hashing look at ``key`` and ``applicability`` only.
public struct ApplicabilityRecord: Sendable, Hashable {
    /// The repository and the profile set.
    public var key: ApplicabilityKey
    /// For each content type computed, the applicable unit ids, sorted ascending, each once. A content type
    /// no calculator computed for this repository (it holds no content of that family) is absent; a record
    /// with no type at all only marks the pair as computed and takes no part in queries.
    public var applicability: [String: [UnitID]] {
        didSet { positions = [:] }
    }
    /// For some types of ``applicability``, the same units as positions in an id table; cleared whenever
    /// ``applicability`` changes.
    private(set) var positions: [String: UnitPositions]

    /// Creates a record.
    public init(key: ApplicabilityKey, applicability: [String: [UnitID]]) {
        self.key = key
        self.applicability = applicability
        positions = [:]
    }

    /// Creates a record whose `positions` (for some of its types) hold the same units as `applicability`.
    init(key: ApplicabilityKey, applicability: [String: [UnitID]], positions: [String: UnitPositions]) {
        self.key = key
        self.applicability = applicability
        self.positions = positions
    }

    /// The record with only the content types in `types`.
    func keeping(_ types: Set<String>) -> ApplicabilityRecord {
        ApplicabilityRecord(
            key: key,
            applicability: applicability.filter { types.contains($0.key) },
            positions: positions.filter { types.contains($0.key) }
        )
    }

    /// Whether both records have the same key and applicability.
    public static func == (lhs: ApplicabilityRecord, rhs: ApplicabilityRecord) -> Bool {
        lhs.key == rhs.key && lhs.applicability == rhs.applicability
    }

    /// Hashes the key and the applicability.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(applicability)
    }

    /// Creates a record for `repositoryID` and `profileSetHash`.
    public init(repositoryID: RepositoryID, profileSetHash: String, applicability: [String: [UnitID]]) {
        self.init(
            key: ApplicabilityKey(repositoryID: repositoryID, profileSetHash: profileSetHash),
            applicability: applicability
        )
    }
}

/// Where applicability records live, one per (repository, profile set).
///
/// Every conformer keeps these rules:
///
/// 1. **Upsert.** ``save(_:)`` stores each record under its key, replacing a record with the same key
///    whole (its content types included). Saving is atomic per call.
/// 2. **Reads.** ``records(forProfileSets:)`` returns every record whose profile set is among the hashes;
///    ``profileSets(in:)`` the profile sets that have a record for a repository. Records come back exactly
///    as saved (types, ids and their order).
/// 3. **Removal.** The `remove…` methods delete exactly the records they name and return how many.
/// 4. **Durability.** A change is stored before the call that makes it returns.
public protocol ApplicabilityStore: Sendable {
    /// Stores records, replacing those with the same keys (rule 1).
    func save(_ records: [ApplicabilityRecord]) async throws

    /// The records of these profile sets, in any repository, ordered by key (rule 2).
    func records(forProfileSets hashes: Set<String>) async throws -> [ApplicabilityRecord]

    /// The profile sets that have a record for `repository` (rule 2).
    func profileSets(in repository: RepositoryID) async throws -> Set<String>

    /// Every key that has a record, ordered (rule 2).
    func keys() async throws -> [ApplicabilityKey]

    /// Removes the records with these keys; returns how many there were (rule 3).
    @discardableResult
    func remove(_ keys: [ApplicabilityKey]) async throws -> Int

    /// Removes every record of a repository; returns how many (rule 3).
    @discardableResult
    func removeRecords(in repository: RepositoryID) async throws -> Int

    /// Removes every record of these profile sets; returns how many (rule 3).
    @discardableResult
    func removeRecords(forProfileSets hashes: Set<String>) async throws -> Int
}
