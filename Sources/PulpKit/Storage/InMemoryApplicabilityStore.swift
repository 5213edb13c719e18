/// An ``ApplicabilityStore`` in memory: fast, shared by the tasks of one process, gone when it exits.
///
/// Records are kept as saved, so a query shares their unit id arrays instead of copying them, and merges the
/// positions the engine computed with them (see ``ApplicabilityRecord``).
public final class InMemoryApplicabilityStore: ApplicabilityStore {
    private struct Tables {
        var records: [ApplicabilityKey: ApplicabilityRecord] = [:]
        var keysByProfileSet: [String: Set<RepositoryID>] = [:]
        var keysByRepository: [RepositoryID: Set<String>] = [:]

        mutating func remove(_ key: ApplicabilityKey) -> Bool {
            guard records.removeValue(forKey: key) != nil else { return false }
            keysByProfileSet[key.profileSetHash]?.remove(key.repositoryID)
            if keysByProfileSet[key.profileSetHash]?.isEmpty == true { keysByProfileSet[key.profileSetHash] = nil }
            keysByRepository[key.repositoryID]?.remove(key.profileSetHash)
            if keysByRepository[key.repositoryID]?.isEmpty == true { keysByRepository[key.repositoryID] = nil }
            return true
        }
    }

    private let tables = PulpMutex(Tables())

    /// Creates an empty store.
    public init() {}

    /// Stores records, replacing those with the same keys.
    public func save(_ records: [ApplicabilityRecord]) async throws {
        tables.withLock { tables in
            for record in records {
                tables.records[record.key] = record
                tables.keysByProfileSet[record.key.profileSetHash, default: []].insert(record.key.repositoryID)
                tables.keysByRepository[record.key.repositoryID, default: []].insert(record.key.profileSetHash)
            }
        }
    }

    /// The records of these profile sets, ordered by key.
    public func records(forProfileSets hashes: Set<String>) async throws -> [ApplicabilityRecord] {
        tables.withLock { tables in
            var result: [ApplicabilityRecord] = []
            for hash in hashes {
                for repository in tables.keysByProfileSet[hash] ?? [] {
                    if let record = tables.records[ApplicabilityKey(repositoryID: repository, profileSetHash: hash)] {
                        result.append(record)
                    }
                }
            }
            return result
        }
        .sorted { $0.key < $1.key }
    }

    /// The profile sets with a record for `repository`.
    public func profileSets(in repository: RepositoryID) async throws -> Set<String> {
        tables.withLock { $0.keysByRepository[repository] ?? [] }
    }

    /// Every key with a record, ordered.
    public func keys() async throws -> [ApplicabilityKey] {
        tables.withLock { Array($0.records.keys) }.sorted()
    }

    /// Removes the records with these keys; returns how many there were.
    public func remove(_ keys: [ApplicabilityKey]) async throws -> Int {
        tables.withLock { tables in keys.reduce(0) { $0 + (tables.remove($1) ? 1 : 0) } }
    }

    /// Removes every record of `repository`; returns how many.
    public func removeRecords(in repository: RepositoryID) async throws -> Int {
        tables.withLock { tables in
            let keys = (tables.keysByRepository[repository] ?? []).map {
                ApplicabilityKey(repositoryID: repository, profileSetHash: $0)
            }
            return keys.reduce(0) { $0 + (tables.remove($1) ? 1 : 0) }
        }
    }

    /// Removes every record of these profile sets; returns how many.
    public func removeRecords(forProfileSets hashes: Set<String>) async throws -> Int {
        tables.withLock { tables in
            var removed = 0
            for hash in hashes {
                for repository in tables.keysByProfileSet[hash] ?? [] {
                    if tables.remove(ApplicabilityKey(repositoryID: repository, profileSetHash: hash)) { removed += 1 }
                }
            }
            return removed
        }
    }
}
