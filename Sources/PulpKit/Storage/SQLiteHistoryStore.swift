public import Foundation

/// A ``HistoryStore`` in an SQLite file: durable, and shared by every process that opens the same file.
///
/// Entries live in the `sync_history` table, numbered in append order by its integer primary key; the index
/// on `(repo_id, started, sequence)` serves each query as one range scan in the order asked, with no sort.
/// `started` and `completed` are stored as REAL seconds since 1970 (whole seconds, so exactly).
public final class SQLiteHistoryStore: HistoryStore {
    private let executor: SQLiteExecutor

    /// Opens (creating if needed) the history table in the database file at `path`.
    ///
    /// With `.normal` (the default) every change is committed before it is reported and survives the
    /// process crashing; `.full` also survives a power loss, at an fsync per group commit.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the history table of an open database (shared with other stores through its executor),
    /// migrating it to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "history")
        schema.registerMigration(
            "create sync_history",
            sql: """
                CREATE TABLE sync_history (
                    sequence INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    repo_id TEXT NOT NULL,
                    importer_id TEXT NOT NULL,
                    importer_type_id TEXT NOT NULL,
                    result TEXT NOT NULL,
                    started REAL NOT NULL,
                    completed REAL NOT NULL,
                    added_count INTEGER,
                    updated_count INTEGER,
                    removed_count INTEGER,
                    summary TEXT NOT NULL,
                    details TEXT NOT NULL,
                    error_message TEXT,
                    exception TEXT,
                    traceback TEXT
                );
                CREATE INDEX sync_history_repository ON sync_history (repo_id, started, sequence);
                CREATE INDEX sync_history_started ON sync_history (started);
                """
        )
        return schema
    }()

    private static let columns = """
        id, repo_id, importer_id, importer_type_id, result, started, completed, added_count, updated_count,
        removed_count, summary, details, error_message, exception, traceback
        """

    /// Appends one entry; on a duplicate id the insert changes nothing, and the 409 rolls back the rest.
    private static let insertSQL = """
        INSERT INTO sync_history (\(columns))
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO NOTHING
        """

    /// A repository's entries in a `started` range, newest first; bound: repository, start, end, limit.
    static let descendingSQL = """
        SELECT \(columns) FROM sync_history
        WHERE repo_id = ? AND started >= ? AND started <= ?
        ORDER BY started DESC, sequence DESC LIMIT ?
        """

    /// The same, oldest first.
    static let ascendingSQL = """
        SELECT \(columns) FROM sync_history
        WHERE repo_id = ? AND started >= ? AND started <= ?
        ORDER BY started ASC, sequence ASC LIMIT ?
        """

    // MARK: - HistoryStore

    /// Stores `entry`; a 409 when its id is already stored (rule 1).
    public func append(_ entry: SyncHistoryEntry) async throws {
        try await executor.write { try Self.insert(entry, in: $0) }
    }

    /// Appends many entries in one transaction: all of them, or none when one id is already stored (409).
    ///
    /// For bulk loads (imports, benchmarks); each call is one write, so batches of thousands pay one commit.
    package func append(contentsOf entries: [SyncHistoryEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await executor.write { connection in
            for entry in entries { try Self.insert(entry, in: connection) }
        }
    }

    /// One repository's entries that match `query`, in its order (rules 2 to 4).
    public func entries(
        for repository: RepositoryID,
        matching query: SyncHistoryQuery
    ) async throws -> [SyncHistoryEntry] {
        let limit = query.limit.map { max($0, 0) } ?? -1  // SQLite: a negative LIMIT means none
        guard limit != 0 else { return [] }
        // An absent bound is one no Date reaches, so both orders keep one statement each (and its index plan).
        let bindings: [SQLiteValue] = [
            .text(repository.rawValue),
            .real(query.startDate?.timeIntervalSince1970 ?? -Double.greatestFiniteMagnitude),
            .real(query.endDate?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude),
            .int(limit),
        ]
        let sql = query.sort == .descending ? Self.descendingSQL : Self.ascendingSQL
        return try await executor.read { try $0.rows(sql, bindings, Self.entry) }
    }

    /// Deletes every entry of `repository`; returns how many (rule 5).
    public func deleteEntries(for repository: RepositoryID) async throws -> Int {
        try await executor.write { connection in
            try connection.execute("DELETE FROM sync_history WHERE repo_id = ?", [.text(repository.rawValue)])
        }
    }

    /// Deletes every entry that started before `cutoff`; returns how many (rule 5).
    public func purge(startedBefore cutoff: Date) async throws -> Int {
        // Look first, then delete in chunks, so a large purge never holds the write lock for long.
        let bound = SQLiteValue.real(cutoff.timeIntervalSince1970)
        var deleted = 0
        while try await executor.read({ connection in
            try connection.firstRow("SELECT 1 FROM sync_history WHERE started < ? LIMIT 1", [bound]) { _ in true }
                ?? false
        }) {
            deleted += try await executor.write { connection in
                try connection.execute(
                    """
                    DELETE FROM sync_history WHERE sequence IN (
                        SELECT sequence FROM sync_history WHERE started < ? LIMIT 1000
                    )
                    """,
                    [bound]
                )
            }
        }
        return deleted
    }

    // MARK: - Rows

    private static func insert(_ entry: SyncHistoryEntry, in connection: SQLiteConnection) throws {
        let inserted = try connection.execute(
            insertSQL,
            [
                .text(entry.id.rawValue), .text(entry.repositoryID.rawValue), .text(entry.importerID),
                .text(entry.importerTypeID), .text(entry.result.rawValue),
                .real(entry.started.timeIntervalSince1970), .real(entry.completed.timeIntervalSince1970),
                .optionalInt(entry.addedCount), .optionalInt(entry.updatedCount), .optionalInt(entry.removedCount),
                .text(entry.summary.encoded()), .text(entry.details.encoded()),
                .optionalText(entry.errorMessage), .optionalText(entry.exception), .optionalText(entry.traceback),
            ]
        )
        if inserted == 0 { throw SyncHistoryEntry.duplicate(entry.id) }
    }

    private static func entry(_ row: SQLiteRow) throws -> SyncHistoryEntry {
        SyncHistoryEntry(
            id: HistoryEntryID(row.text(0)),
            repositoryID: RepositoryID(row.text(1)),
            importerID: row.text(2),
            importerTypeID: row.text(3),
            result: SyncResult(rawValue: row.text(4)) ?? .error,
            started: Date(timeIntervalSince1970: row.double(5)),
            completed: Date(timeIntervalSince1970: row.double(6)),
            addedCount: row.optionalInt(7),
            updatedCount: row.optionalInt(8),
            removedCount: row.optionalInt(9),
            summary: try JSONValue(parsing: row.text(10)),
            details: try JSONValue(parsing: row.text(11)),
            errorMessage: row.optionalText(12),
            exception: row.optionalText(13),
            traceback: row.optionalText(14)
        )
    }
}
