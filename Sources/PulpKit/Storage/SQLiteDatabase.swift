import CSQLite
import Foundation

/// How an ``SQLiteDatabase`` opens its file.
package struct SQLiteConfiguration: Sendable, Hashable {
    /// When a committed transaction reaches the disk.
    package enum Synchronous: String, Sendable, Hashable {
        /// WAL's `NORMAL`: a commit survives a crash of the process, but the last commits may be lost
        /// if the machine loses power.
        case normal = "NORMAL"
        /// `FULL`: every commit is on disk before it returns, at the cost of an fsync per commit.
        case full = "FULL"
    }

    /// The durability level; `.normal` by default.
    package var synchronous: Synchronous
    /// How long a writer waits for another connection's lock before failing with a 503 error.
    package var busyTimeout: Duration

    /// Creates a configuration.
    package init(synchronous: Synchronous = .normal, busyTimeout: Duration = .seconds(5)) {
        self.synchronous = synchronous
        self.busyTimeout = busyTimeout
    }
}

/// An SQLite database file in WAL mode, shared safely by the tasks of one process.
///
/// It owns one connection behind a lock; ``write(_:)`` runs a closure in an immediate transaction that
/// commits when the closure returns and rolls back when it throws, so a failed write leaves nothing
/// behind. Several processes may open the same file: SQLite's locks and the busy timeout serialise
/// their writers. Only `Storage/` uses this type; it is the ground every `SQLite*Store` stands on.
package final class SQLiteDatabase: Sendable {
    /// The database file.
    package let path: String
    /// How the file was opened.
    package let configuration: SQLiteConfiguration
    private let connection: PulpMutex<SQLiteConnection>

    /// Opens (creating with mode 0600 if needed) the database at `path`.
    ///
    /// - Throws: a storage ``PulpError`` naming the file when its directory is missing or unwritable,
    ///   when the file is not an SQLite database or is corrupt, or when it stays locked.
    package init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration()) throws(PulpError) {
        self.path = path
        self.configuration = configuration
        try Self.createFileIfMissing(path)

        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(handle)
            throw PulpError.storage("cannot open database: \(message)", path: path)
        }
        sqlite3_extended_result_codes(handle, 1)
        let milliseconds =
            configuration.busyTimeout.components.seconds * 1000
            + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))

        let connection = SQLiteConnection(path: path, handle: handle)
        do {
            // The first statement that reads the header: a corrupt or foreign file fails here.
            try connection.executeScript("PRAGMA journal_mode=WAL")
            try connection.executeScript("PRAGMA synchronous=\(configuration.synchronous.rawValue)")
            try connection.executeScript("PRAGMA foreign_keys=ON")
            // 64 MiB of page cache (the default is 2 MiB): a large sync's index updates land on random pages,
            // and a cache smaller than the indexes spills the same pages to the WAL again and again.
            try connection.executeScript("PRAGMA cache_size=-65536")
            try connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS pulpkit_schema_migrations (
                    store TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    PRIMARY KEY (store, version)
                )
                """
            )
        } catch {
            let reason =
                error.message.hasPrefix(path + ": ") ? String(error.message.dropFirst(path.count + 2)) : error.message
            throw PulpError.storage(
                "cannot use database (corrupt, not SQLite, or locked): \(reason)",
                path: path,
                isBusy: error.httpStatus == 503
            )
        }
        self.connection = PulpMutex(connection)
    }

    /// Runs `body` in an immediate (write) transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    package func write<Result: Sendable>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        try transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in a deferred (read) transaction, so it sees one consistent snapshot.
    @discardableResult
    package func read<Result: Sendable>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        try transaction("BEGIN DEFERRED", body)
    }

    private func transaction<Result: Sendable>(
        _ begin: String,
        _ body: (SQLiteConnection) throws -> Result
    ) throws -> Result {
        try connection.withLock { connection in
            // Cached statements: no re-parsing of BEGIN and COMMIT on every transaction.
            try connection.execute(begin)
            do {
                let result = try body(connection)
                try connection.execute("COMMIT")
                return result
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Brings `schema`'s tables up to its newest version, applying each missing migration once, in order.
    ///
    /// - Throws: a storage ``PulpError`` when the file holds a newer version of the schema than this
    ///   code knows (it was written by a newer PulpKit), or when a migration fails (nothing of it stays).
    package func migrate(_ schema: SQLiteSchema) throws {
        let path = self.path
        try write { connection in
            let applied =
                try connection.firstRow(
                    "SELECT MAX(version) FROM pulpkit_schema_migrations WHERE store = ?",
                    [.text(schema.store)]
                ) { $0.optionalInt(0) } ?? nil
            let current = applied ?? 0
            guard current <= schema.migrations.count else {
                throw PulpError.storage(
                    "the '\(schema.store)' schema is at version \(current), newer than the "
                        + "\(schema.migrations.count) this PulpKit knows; open it with a newer PulpKit",
                    path: path
                )
            }
            for (offset, migration) in schema.migrations.enumerated().dropFirst(current) {
                try migration.apply(connection)
                try connection.execute(
                    """
                    INSERT INTO pulpkit_schema_migrations (store, version, name, applied_at)
                    VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
                    """,
                    [.text(schema.store), .int(offset + 1), .text(migration.name)]
                )
            }
        }
    }

    /// What SQLite's `PRAGMA integrity_check` finds wrong with the file; empty when it is sound.
    package func integrityProblems() throws -> [String] {
        try read { connection in
            try connection.rows("PRAGMA integrity_check") { $0.text(0) }.filter { $0 != "ok" }
        }
    }

    /// The schema version of `store` in this file: how many of its migrations have run.
    package func schemaVersion(of store: String) throws -> Int {
        try read { connection in
            try connection.firstRow(
                "SELECT COALESCE(MAX(version), 0) FROM pulpkit_schema_migrations WHERE store = ?",
                [.text(store)]
            ) { $0.int(0) } ?? 0
        }
    }

    private static func createFileIfMissing(_ path: String) throws(PulpError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw PulpError.storage("cannot create or open database file: \(reason)", path: path)
        }
        close(descriptor)
    }
}

/// The versioned, append-only migrations of one store's tables.
///
/// A store registers its migrations in order; a migration once shipped is never edited or removed,
/// only followed by new ones. ``SQLiteDatabase/migrate(_:)`` records each applied version in the
/// `pulpkit_schema_migrations` table.
package struct SQLiteSchema: Sendable {
    /// One step of a schema.
    package struct Migration: Sendable {
        /// A short name, recorded when applied.
        package var name: String
        /// The change, run inside the migration transaction.
        package var apply: @Sendable (SQLiteConnection) throws -> Void
    }

    /// The store that owns these tables, e.g. `"tasks"`.
    package let store: String
    /// The migrations, oldest first; version N is `migrations[N - 1]`.
    package private(set) var migrations: [Migration] = []

    /// Creates an empty schema for `store`.
    package init(store: String) { self.store = store }

    /// Appends a migration that runs `sql` (one or more statements).
    package mutating func registerMigration(_ name: String, sql: String) {
        migrations.append(Migration(name: name) { try $0.executeScript(sql) })
    }

    /// Appends a migration that runs arbitrary code.
    package mutating func registerMigration(
        _ name: String,
        apply: @escaping @Sendable (SQLiteConnection) throws -> Void
    ) {
        migrations.append(Migration(name: name, apply: apply))
    }
}
