import Foundation

/// A ``ContentStore`` in an SQLite file: durable, and shared by every process that opens the same file.
///
/// Units live in `content_units`, numbered by an integer `seq` in insertion order and found by natural key
/// through a small index on `(type_id, key_hash)`, the first 8 bytes of the SHA-256 of the canonical unit
/// key (the key text itself is compared on every match, so a hash collision never merges two units; an
/// index of whole keys would be large and updated at random pages, which made big syncs write-bound); associations in `repository_units`, keyed by
/// `(repo_id, unit_seq)` so a repository's units are one range scan and new associations append. A batch
/// of units is saved in one transaction.
public final class SQLiteContentStore: ContentStore {
    private let executor: SQLiteExecutor

    /// Opens (creating if needed) the content tables in the database file at `path`.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the content tables of an open database, migrating them to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "content")
        schema.registerMigration(
            "create content_units and repository_units",
            sql: """
                CREATE TABLE content_units (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    type_id TEXT NOT NULL,
                    unit_key TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    size INTEGER,
                    checksum TEXT,
                    storage_path TEXT,
                    downloaded INTEGER NOT NULL,
                    catalog_url TEXT,
                    key_hash INTEGER NOT NULL
                );
                CREATE INDEX content_units_key ON content_units (type_id, key_hash);
                CREATE TABLE repository_units (
                    repo_id TEXT NOT NULL,
                    unit_seq INTEGER NOT NULL,
                    PRIMARY KEY (repo_id, unit_seq)
                ) WITHOUT ROWID;
                CREATE INDEX repository_units_unit ON repository_units (unit_seq);
                """
        )
        return schema
    }()

    private static let columns =
        "id, type_id, unit_key, metadata, size, checksum, storage_path, downloaded, catalog_url"

    private static let findSQL = "SELECT id, unit_key FROM content_units WHERE type_id = ? AND key_hash = ?"

    private static let insertSQL = """
        INSERT INTO content_units (\(columns), key_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static let updateSQL = """
        UPDATE content_units SET metadata = ?, size = ?, checksum = ?, storage_path = ?, downloaded = ?,
            catalog_url = ?
        WHERE id = ?
        """

    /// Inserts or updates units by natural key in one transaction; returns them as stored.
    public func save(_ units: [ContentUnit]) async throws -> [ContentUnit] {
        guard !units.isEmpty else { return [] }
        return try await executor.write { connection in
            try units.map { unit in
                var stored = unit
                let key = stored.naturalKey
                let hash = SQLiteValue.integer(Self.keyHash(key.canonicalKey))
                var existing: String?
                try connection.query(Self.findSQL, [.text(key.typeID), hash]) { row in
                    if existing == nil, row.text(1) == key.canonicalKey { existing = row.text(0) }
                }
                let fields: [SQLiteValue] = [
                    .text(JSONValue.object(unit.metadata).encoded()), unit.size.map { .integer($0) } ?? .null,
                    .optionalText(unit.checksum?.hex), .optionalText(unit.storagePath), .bool(unit.downloaded),
                    .optionalText(unit.catalogURL?.absoluteString),
                ]
                if let existing {
                    stored.id = UnitID(existing)
                    try connection.execute(Self.updateSQL, fields + [.text(existing)])
                } else {
                    try connection.execute(
                        Self.insertSQL,
                        [.text(unit.id.rawValue), .text(key.typeID), .text(key.canonicalKey)] + fields + [hash]
                    )
                }
                return stored
            }
        }
    }

    /// The first 8 bytes of the SHA-256 of a canonical unit key, as a signed 64-bit integer.
    private static func keyHash(_ canonicalKey: String) -> Int64 {
        Int64(bitPattern: SHA256.hash(canonicalKey.utf8).bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The units with these ids that exist, in the order given.
    public func units(withIDs ids: [UnitID]) async throws -> [ContentUnit] {
        guard !ids.isEmpty else { return [] }
        let found = try await executor.read { connection in
            try ids.compactMap { id in
                try connection.firstRow(
                    "SELECT \(Self.columns) FROM content_units WHERE id = ?",
                    [.text(id.rawValue)],
                    Self.unit
                )
            }
        }
        return found
    }

    /// The unit stored under `key`, if any.
    public func unit(withKey key: UnitNaturalKey) async throws -> ContentUnit? {
        try await executor.read { connection in
            try connection.firstRow(
                "SELECT \(Self.columns) FROM content_units WHERE type_id = ? AND key_hash = ? AND unit_key = ?",
                [.text(key.typeID), .integer(Self.keyHash(key.canonicalKey)), .text(key.canonicalKey)],
                Self.unit
            )
        }
    }

    /// A repository's units of `types` (every type when empty), ordered by id.
    public func units(in repository: RepositoryID, types: Set<String>) async throws -> [ContentUnit] {
        let sortedTypes = types.sorted()
        let filter =
            sortedTypes.isEmpty ? "" : " AND u.type_id IN (\(sortedTypes.map { _ in "?" }.joined(separator: ", ")))"
        let sql = """
            SELECT u.id, u.type_id, u.unit_key, u.metadata, u.size, u.checksum, u.storage_path, u.downloaded,
                u.catalog_url
            FROM repository_units r JOIN content_units u ON u.seq = r.unit_seq
            WHERE r.repo_id = ?\(filter) ORDER BY u.id
            """
        let bindings = [SQLiteValue.text(repository.rawValue)] + sortedTypes.map { .text($0) }
        return try await executor.read { try $0.rows(sql, bindings, Self.unit) }
    }

    /// A repository's units of `types` as summaries, ordered by id, read straight from their columns: no
    /// JSON decoding, no URL parsing.
    public func unitSummaries(in repository: RepositoryID, types: Set<String>) async throws -> [ContentUnitSummary] {
        let sortedTypes = types.sorted()
        let filter =
            sortedTypes.isEmpty ? "" : " AND u.type_id IN (\(sortedTypes.map { _ in "?" }.joined(separator: ", ")))"
        let sql = """
            SELECT u.id, u.type_id, u.unit_key, u.size, u.checksum, u.storage_path, u.downloaded
            FROM repository_units r JOIN content_units u ON u.seq = r.unit_seq
            WHERE r.repo_id = ?\(filter) ORDER BY u.id
            """
        let bindings = [SQLiteValue.text(repository.rawValue)] + sortedTypes.map { .text($0) }
        return try await executor.read { connection in
            try connection.rows(sql, bindings) { row in
                ContentUnitSummary(
                    id: UnitID(row.text(0)),
                    naturalKey: UnitNaturalKey(typeID: row.text(1), canonicalKey: row.text(2)),
                    size: row.isNull(3) ? nil : row.int64(3),
                    checksum: row.optionalText(4).flatMap { SHA256Digest(hex: $0) },
                    storagePath: row.optionalText(5),
                    downloaded: row.bool(6)
                )
            }
        }
    }

    /// Adds the existing units among `ids` to a repository in one transaction; returns how many were new to it.
    public func associate(_ ids: [UnitID], with repository: RepositoryID) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await executor.write { connection in
            try ids.reduce(0) { count, id in
                count
                    + (try connection.execute(
                        """
                        INSERT INTO repository_units (repo_id, unit_seq)
                        SELECT ?, seq FROM content_units WHERE id = ?
                        ON CONFLICT (repo_id, unit_seq) DO NOTHING
                        """,
                        [.text(repository.rawValue), .text(id.rawValue)]
                    ))
            }
        }
    }

    /// Removes `ids` from a repository in one transaction; returns how many it held.
    public func unassociate(_ ids: [UnitID], from repository: RepositoryID) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await executor.write { connection in
            try ids.reduce(0) { count, id in
                count
                    + (try connection.execute(
                        """
                        DELETE FROM repository_units
                        WHERE repo_id = ? AND unit_seq = (SELECT seq FROM content_units WHERE id = ?)
                        """,
                        [.text(repository.rawValue), .text(id.rawValue)]
                    ))
            }
        }
    }

    /// Removes every association of `repository`; returns how many.
    public func removeAssociations(of repository: RepositoryID) async throws -> Int {
        try await executor.write { connection in
            try connection.execute("DELETE FROM repository_units WHERE repo_id = ?", [.text(repository.rawValue)])
        }
    }

    /// How many units of each type `repository` holds.
    public func unitCounts(in repository: RepositoryID) async throws -> [String: Int] {
        let rows = try await executor.read { connection in
            try connection.rows(
                """
                SELECT u.type_id, count(*) FROM repository_units r JOIN content_units u ON u.seq = r.unit_seq
                WHERE r.repo_id = ? GROUP BY u.type_id
                """,
                [.text(repository.rawValue)]
            ) { ($0.text(0), $0.int(1)) }
        }
        return Dictionary(rows, uniquingKeysWith: +)
    }

    /// Every stored unit in insertion order, for crash and stress checks that must see orphans too.
    package func allUnits() async throws -> [ContentUnit] {
        try await executor.read { try $0.rows("SELECT \(Self.columns) FROM content_units ORDER BY seq", [], Self.unit) }
    }

    /// Reads one unit row (columns in the order of `columns`).
    private static func unit(_ row: SQLiteRow) throws -> ContentUnit {
        ContentUnit(
            id: UnitID(row.text(0)),
            typeID: row.text(1),
            unitKey: try JSONValue(parsing: row.text(2)).objectValue ?? [:],
            metadata: try JSONValue(parsing: row.text(3)).objectValue ?? [:],
            size: row.isNull(4) ? nil : row.int64(4),
            checksum: row.optionalText(5).flatMap { SHA256Digest(hex: $0) },
            storagePath: row.optionalText(6),
            downloaded: row.bool(7),
            catalogURL: row.optionalText(8).flatMap { URL(string: $0) }
        )
    }
}
