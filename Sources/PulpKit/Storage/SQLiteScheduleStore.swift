public import Foundation

/// A ``ScheduleStore`` in an SQLite file: durable, and shared by every scheduler that opens the same file.
///
/// Calls live in the `scheduled_calls` table, numbered in insertion order by its integer primary key. The
/// `due_at` column holds the due time of every call that will run (enabled, runs left) and is NULL for the
/// others; a partial index on it makes ``earliestDueTime()`` and each claim an index seek, whatever the
/// number of schedules. A claim is one immediate transaction (select the due rows, record their dispatch,
/// write them back), so two schedulers, in one process or several, never claim the same run. Times are
/// stored as REAL seconds since 1970.
public final class SQLiteScheduleStore: ScheduleStore {
    private let executor: SQLiteExecutor
    /// Parsed schedules by their text: reading a row then costs a lookup, not a parse (most schedules share
    /// a few texts). Emptied when it reaches ``IntervalCache/capacity``.
    private let intervals = IntervalCache()

    /// Opens (creating if needed) the schedule table in the database file at `path`.
    ///
    /// With `.normal` (the default) every change is committed before it is reported and survives the
    /// process crashing; `.full` also survives a power loss, at an fsync per group commit.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the schedule table of an open database (shared with other stores through its executor),
    /// migrating it to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "schedules")
        schema.registerMigration(
            "create scheduled_calls",
            sql: """
                CREATE TABLE scheduled_calls (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    repo_id TEXT NOT NULL,
                    importer_id TEXT NOT NULL,
                    schedule TEXT NOT NULL,
                    first_run TEXT NOT NULL,
                    overrides TEXT NOT NULL,
                    enabled INTEGER NOT NULL,
                    failure_threshold INTEGER,
                    consecutive_failures INTEGER NOT NULL,
                    remaining_runs INTEGER,
                    total_run_count INTEGER NOT NULL,
                    last_run_at REAL,
                    last_updated REAL NOT NULL,
                    next_due REAL NOT NULL,
                    due_at REAL,
                    claimed_by TEXT
                );
                CREATE INDEX scheduled_calls_due ON scheduled_calls (due_at, sequence) WHERE due_at IS NOT NULL;
                CREATE INDEX scheduled_calls_repository ON scheduled_calls (repo_id, sequence);
                """
        )
        return schema
    }()

    private static let columns = """
        sequence, id, repo_id, importer_id, schedule, first_run, overrides, enabled, failure_threshold,
        consecutive_failures, remaining_runs, total_run_count, last_run_at, last_updated, next_due, claimed_by
        """

    private static let insertSQL = """
        INSERT INTO scheduled_calls (id, repo_id, importer_id, schedule, first_run, overrides, enabled,
            failure_threshold, consecutive_failures, remaining_runs, total_run_count, last_run_at, last_updated,
            next_due, claimed_by, due_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO NOTHING
        """

    /// Writes back every column that can change; bound: the values of `mutableBindings`, then the sequence.
    private static let saveSQL = """
        UPDATE scheduled_calls SET schedule = ?, first_run = ?, overrides = ?, enabled = ?, failure_threshold = ?,
            consecutive_failures = ?, remaining_runs = ?, total_run_count = ?, last_run_at = ?, last_updated = ?,
            next_due = ?, claimed_by = ?, due_at = ?
        WHERE sequence = ?
        """

    /// Writes back what a claim changes (``ScheduledCall/recordDispatch(at:by:)``); bound: enabled,
    /// remaining runs, total run count, last run, next due, claimed by, due at, then the sequence.
    private static let claimSQL = """
        UPDATE scheduled_calls SET enabled = ?, remaining_runs = ?, total_run_count = ?, last_run_at = ?,
            next_due = ?, claimed_by = ?, due_at = ?
        WHERE sequence = ?
        """

    /// The due rows, earliest first; bound: now, limit.
    /// The calls due by a horizon (the first binding) whose last run is not after now (the second): one run
    /// of a call is claimed ahead at a time.
    private static let dueSQL = """
        SELECT \(columns) FROM scheduled_calls
        WHERE due_at IS NOT NULL AND due_at <= ? AND (last_run_at IS NULL OR last_run_at <= ?)
        ORDER BY due_at, sequence LIMIT ?
        """

    // MARK: - ScheduleStore

    /// Stores a new call; a 409 when its id is taken (rule 1).
    public func insert(_ call: ScheduledCall) async throws {
        try await executor.write { connection in
            let inserted = try connection.execute(
                Self.insertSQL,
                [.text(call.id.rawValue), .text(call.repositoryID.rawValue), .text(call.importerID)]
                    + Self.mutableBindings(call)
            )
            if inserted == 0 { throw ScheduledCall.duplicate(call.id) }
        }
    }

    /// Inserts many new calls in one transaction: all of them, or none when one id is taken (409).
    ///
    /// For bulk loads (imports, benchmarks); each call is one write, so batches of thousands pay one commit.
    package func insert(contentsOf calls: [ScheduledCall]) async throws {
        guard !calls.isEmpty else { return }
        try await executor.write { connection in
            for call in calls {
                let inserted = try connection.execute(
                    Self.insertSQL,
                    [.text(call.id.rawValue), .text(call.repositoryID.rawValue), .text(call.importerID)]
                        + Self.mutableBindings(call)
                )
                if inserted == 0 { throw ScheduledCall.duplicate(call.id) }
            }
        }
    }

    /// The call with `id`, or `nil` (rule 2).
    public func call(_ id: ScheduleID) async throws -> ScheduledCall? {
        try await executor.read { connection in
            try connection.firstRow(
                "SELECT \(Self.columns) FROM scheduled_calls WHERE id = ?",
                [.text(id.rawValue)],
                self.call
            )?.call
        }
    }

    /// A repository's calls (of `importer`, when given) in insertion order (rule 2).
    public func calls(repository: RepositoryID, importer: String?) async throws -> [ScheduledCall] {
        let rows = try await executor.read { connection in
            try connection.rows(
                "SELECT \(Self.columns) FROM scheduled_calls WHERE repo_id = ? ORDER BY sequence",
                [.text(repository.rawValue)],
                self.call
            )
        }
        return rows.map(\.call).filter { call in importer.map { $0 == call.importerID } ?? true }
    }

    /// Applies `change` in one transaction; a 404 when the call does not exist (rule 3).
    public func update(
        _ id: ScheduleID,
        _ change: @escaping @Sendable (inout ScheduledCall) throws -> Void
    ) async throws -> ScheduledCall {
        try await executor.write { connection in
            guard
                let (sequence, before) = try connection.firstRow(
                    "SELECT \(Self.columns) FROM scheduled_calls WHERE id = ?",
                    [.text(id.rawValue)],
                    self.call
                )
            else { throw ScheduledCall.missing(id) }
            var call = before
            try change(&call)
            guard call.hasSameIdentity(as: before) else { throw ScheduledCall.identityChanged(id) }
            try Self.save(call, sequence: sequence, in: connection)
            return call
        }
    }

    /// Removes a call; returns whether it existed (rule 4).
    public func delete(_ id: ScheduleID) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute("DELETE FROM scheduled_calls WHERE id = ?", [.text(id.rawValue)]) > 0
        }
    }

    /// Removes every call of `repository`; returns how many (rule 4).
    public func deleteCalls(repository: RepositoryID) async throws -> Int {
        try await executor.write { connection in
            try connection.execute("DELETE FROM scheduled_calls WHERE repo_id = ?", [.text(repository.rawValue)])
        }
    }

    /// The earliest due time of any call, or `nil` (rule 5): one seek in the due index.
    public func earliestDueTime() async throws -> Date? {
        try await executor.read { connection in
            try connection.firstRow(
                "SELECT due_at FROM scheduled_calls WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1"
            ) { Date(timeIntervalSince1970: $0.double(0)) }
        }
    }

    /// Claims up to `limit` calls due at or before `horizon` for `scheduler` in one immediate transaction,
    /// each run at its due time or `now` (rule 6).
    public func claimDue(
        until horizon: Date,
        at now: Date,
        limit: Int,
        scheduler: String,
        onClaim: @escaping @Sendable ([ClaimedRun]) -> Void
    ) async throws -> [ClaimedRun] {
        guard limit > 0 else { return [] }
        let bound = SQLiteValue.real(max(horizon, now).timeIntervalSince1970)
        let instant = SQLiteValue.real(now.timeIntervalSince1970)
        // Look before taking the write lock: a wake-up with nothing due costs a read, not a write transaction.
        let anyDue = try await executor.read { connection in
            try connection.firstRow(
                """
                SELECT 1 FROM scheduled_calls
                WHERE due_at IS NOT NULL AND due_at <= ? AND (last_run_at IS NULL OR last_run_at <= ?) LIMIT 1
                """,
                [bound, instant]
            ) { _ in true } ?? false
        }
        guard anyDue else { return [] }
        return try await executor.write { connection in
            let due = try connection.rows(Self.dueSQL, [bound, instant, .int(limit)], self.call)
            let claimedBy = SQLiteValue.text(scheduler)
            let runs = try due.map { sequence, call in
                var claimed = call
                // As it reads back: a REAL of seconds since 1970.
                let runTime = Date(timeIntervalSince1970: max(call.nextDue, now).timeIntervalSince1970)
                claimed.recordDispatch(at: runTime, by: scheduler)
                try connection.execute(
                    Self.claimSQL,
                    [
                        .bool(claimed.enabled), .optionalInt(claimed.remainingRuns), .int(claimed.totalRunCount),
                        .real(runTime.timeIntervalSince1970), .real(claimed.nextDue.timeIntervalSince1970), claimedBy,
                        claimed.dueTime.map { .real($0.timeIntervalSince1970) } ?? .null, .integer(sequence),
                    ]
                )
                return ClaimedRun(call: claimed, previousRunAt: call.lastRunAt)
            }
            onClaim(runs)
            return runs
        }
    }

    // MARK: - Rows

    /// The bindings of every column that can change, in `saveSQL`'s order (and `insertSQL`'s after the ids).
    private static func mutableBindings(_ call: ScheduledCall) -> [SQLiteValue] {
        [
            .text(call.schedule), .text(call.firstRun.description),
            .text(JSONValue.object(call.overrideConfig).encoded()),
            .bool(call.enabled), .optionalInt(call.failureThreshold), .int(call.consecutiveFailures),
            .optionalInt(call.remainingRuns), .int(call.totalRunCount),
            call.lastRunAt.map { .real($0.timeIntervalSince1970) } ?? .null,
            .real(call.lastUpdated.timeIntervalSince1970), .real(call.nextDue.timeIntervalSince1970),
            .optionalText(call.lastClaimedBy), call.dueTime.map { .real($0.timeIntervalSince1970) } ?? .null,
        ]
    }

    private static func save(_ call: ScheduledCall, sequence: Int64, in connection: SQLiteConnection) throws {
        try connection.execute(saveSQL, mutableBindings(call) + [.integer(sequence)])
    }

    private func call(_ row: SQLiteRow) throws -> (sequence: Int64, call: ScheduledCall) {
        let overrides = try JSONValue(parsing: row.text(6))
        guard case .object(let overrideConfig) = overrides else {
            throw PulpError.internalError("stored overrides of schedule \(row.text(1)) are not an object")
        }
        let schedule = row.text(4)
        let call = try ScheduledCall(
            restoringID: ScheduleID(row.text(1)),
            repositoryID: RepositoryID(row.text(2)),
            importerID: row.text(3),
            schedule: schedule,
            interval: try intervals.interval(of: schedule),
            firstRun: row.text(5),
            overrideConfig: overrideConfig,
            enabled: row.bool(7),
            failureThreshold: row.optionalInt(8),
            consecutiveFailures: row.int(9),
            remainingRuns: row.optionalInt(10),
            totalRunCount: row.int(11),
            lastRunAt: row.isNull(12) ? nil : Date(timeIntervalSince1970: row.double(12)),
            lastUpdated: Date(timeIntervalSince1970: row.double(13)),
            nextDue: Date(timeIntervalSince1970: row.double(14)),
            lastClaimedBy: row.optionalText(15)
        )
        return (row.int64(0), call)
    }

    /// Every stored call whose due column disagrees with its fields, described; empty when all agree.
    ///
    /// For crash and stress checks: `due_at` must be `next_due` for a call that will run (enabled, runs
    /// left) and NULL for the others, whatever transaction last wrote the row.
    package func integrityProblems() async throws -> [String] {
        try await executor.read { connection in
            try connection.rows(
                """
                SELECT id, enabled, remaining_runs, next_due, due_at FROM scheduled_calls
                WHERE (due_at IS NOT NULL) != (enabled != 0 AND (remaining_runs IS NULL OR remaining_runs > 0))
                    OR due_at != next_due
                """
            ) { row in
                "schedule \(row.text(0)): enabled \(row.bool(1)), remaining \(row.optionalInt(2).map(String.init) ?? "-"), "
                    + "next due \(row.double(3)), due at \(row.isNull(4) ? "NULL" : String(row.double(4)))"
            }
        }
    }
}

/// A bounded map from schedule texts to their parsed intervals, shared by a store's reads.
private final class IntervalCache: Sendable {
    /// The most texts kept before the cache is emptied.
    static let capacity = 4_096
    private let parsed = PulpMutex<[String: RepeatingInterval]>([:])

    /// `text` parsed, from the cache when it is there.
    func interval(of text: String) throws(PulpError) -> RepeatingInterval {
        if let interval = parsed.withLock({ $0[text] }) { return interval }
        let interval = try RepeatingInterval(parsing: text)
        parsed.withLock { parsed in
            if parsed.count >= Self.capacity { parsed.removeAll(keepingCapacity: true) }
            parsed[text] = interval
        }
        return interval
    }
}
