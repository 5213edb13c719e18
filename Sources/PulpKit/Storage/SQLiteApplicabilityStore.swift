/// An ``ApplicabilityStore`` in an SQLite file: durable, and shared by every process that opens the same file.
///
/// One row per (repository, profile set) in `applicability`, its content types and unit ids as a compact JSON
/// object; the primary key serves a repository's reads, and an index on the profile set hash serves queries.
public final class SQLiteApplicabilityStore: ApplicabilityStore {
    private let executor: SQLiteExecutor

    /// Opens (creating if needed) the applicability table in the database file at `path`.
    ///
    /// With `.normal` (the default) every change is committed before it is reported and survives the process
    /// crashing; `.full` also survives a power loss, at an fsync per group commit.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the applicability table of an open database (shared with other stores through its executor),
    /// migrating it to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "applicability")
        schema.registerMigration(
            "create applicability",
            sql: """
                CREATE TABLE applicability (
                    repo_id TEXT NOT NULL,
                    profile_set_hash TEXT NOT NULL,
                    applicability TEXT NOT NULL,
                    PRIMARY KEY (repo_id, profile_set_hash)
                ) WITHOUT ROWID;
                CREATE INDEX applicability_profile_set ON applicability (profile_set_hash);
                """
        )
        return schema
    }()

    /// Stores records, replacing those with the same keys, in one transaction.
    public func save(_ records: [ApplicabilityRecord]) async throws {
        guard !records.isEmpty else { return }
        let rows = records.map { record in
            [
                SQLiteValue.text(record.key.repositoryID.rawValue), .text(record.key.profileSetHash),
                .text(Self.encode(record.applicability)),
            ]
        }
        try await executor.write { connection in
            for row in rows {
                try connection.execute(
                    """
                    INSERT INTO applicability (repo_id, profile_set_hash, applicability) VALUES (?, ?, ?)
                    ON CONFLICT (repo_id, profile_set_hash) DO UPDATE SET applicability = excluded.applicability
                    """,
                    row
                )
            }
        }
    }

    /// The records of these profile sets, ordered by key.
    public func records(forProfileSets hashes: Set<String>) async throws -> [ApplicabilityRecord] {
        let texts = try await executor.read { connection in
            var rows: [(ApplicabilityKey, String)] = []
            for hash in hashes {
                try connection.query(
                    "SELECT repo_id, applicability FROM applicability WHERE profile_set_hash = ?",
                    [.text(hash)]
                ) { row in
                    rows.append(
                        (ApplicabilityKey(repositoryID: RepositoryID(row.text(0)), profileSetHash: hash), row.text(1))
                    )
                }
            }
            return rows
        }
        return try texts.map { ApplicabilityRecord(key: $0.0, applicability: try Self.decode($0.1)) }
            .sorted { $0.key < $1.key }
    }

    /// The profile sets with a record for `repository`.
    public func profileSets(in repository: RepositoryID) async throws -> Set<String> {
        try await executor.read { connection in
            Set(
                try connection.rows(
                    "SELECT profile_set_hash FROM applicability WHERE repo_id = ?",
                    [.text(repository.rawValue)]
                ) { $0.text(0) }
            )
        }
    }

    /// Every key with a record, ordered.
    public func keys() async throws -> [ApplicabilityKey] {
        try await executor.read { connection in
            try connection.rows("SELECT repo_id, profile_set_hash FROM applicability", []) {
                ApplicabilityKey(repositoryID: RepositoryID($0.text(0)), profileSetHash: $0.text(1))
            }
        }
        .sorted()
    }

    /// Removes the records with these keys; returns how many there were.
    public func remove(_ keys: [ApplicabilityKey]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await executor.write { connection in
            try keys.reduce(0) { count, key in
                count
                    + (try connection.execute(
                        "DELETE FROM applicability WHERE repo_id = ? AND profile_set_hash = ?",
                        [.text(key.repositoryID.rawValue), .text(key.profileSetHash)]
                    ))
            }
        }
    }

    /// Removes every record of `repository`; returns how many.
    public func removeRecords(in repository: RepositoryID) async throws -> Int {
        try await executor.write { connection in
            try connection.execute("DELETE FROM applicability WHERE repo_id = ?", [.text(repository.rawValue)])
        }
    }

    /// Removes every record of these profile sets; returns how many.
    public func removeRecords(forProfileSets hashes: Set<String>) async throws -> Int {
        guard !hashes.isEmpty else { return 0 }
        return try await executor.write { connection in
            try hashes.reduce(0) { count, hash in
                count + (try connection.execute("DELETE FROM applicability WHERE profile_set_hash = ?", [.text(hash)]))
            }
        }
    }

    // MARK: - Encoding

    static func encode(_ applicability: [String: [UnitID]]) -> String {
        JSONValue.object(applicability.mapValues { .array($0.map { .string($0.rawValue) }) }).encoded()
    }

    static func decode(_ text: String) throws -> [String: [UnitID]] {
        guard case .object(let members) = try JSONValue(parsing: text) else {
            throw PulpError.internalError("An applicability row is not a JSON object")
        }
        var result: [String: [UnitID]] = [:]
        for (type, ids) in members {
            result[type] = (ids.arrayValue ?? []).compactMap { $0.stringValue.map(UnitID.init(rawValue:)) }
        }
        return result
    }
}
