public import Foundation

/// A ``TaskStore`` in an SQLite file: durable, and shared by every process that opens the same file.
///
/// Reservations live in the `task_reservations` table: one row per (resource, task) for every active
/// task, so each resource's line is its rows in sequence order. A waiting task's `blockers` column
/// counts the lines it is not at the head of; claims take waiting tasks with no blockers in sequence
/// order, inside one immediate transaction, so two processes never claim the same task. A held task's
/// `hold` column names a row of `task_holds`; it is hidden while that row exists (ending a hold deletes
/// one row, whatever the number of its tasks).
public final class SQLiteTaskStore: TaskStore {
    private let executor: SQLiteExecutor

    /// Opens (creating if needed) the task tables in the database file at `path`.
    ///
    /// With `.normal` (the default) every change is committed before it is reported and survives the
    /// process crashing; `.full` also survives a power loss, at an fsync per group commit.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the task tables of an open database (shared with other stores through its executor),
    /// migrating them to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "tasks")
        schema.registerMigration(
            "create tasks, reservations and workers",
            sql: """
                CREATE TABLE tasks (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    resources TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    group_id TEXT,
                    state TEXT NOT NULL,
                    worker TEXT,
                    submit_time REAL NOT NULL,
                    start_time REAL,
                    finish_time REAL,
                    progress TEXT NOT NULL,
                    result TEXT NOT NULL,
                    error TEXT,
                    exception TEXT,
                    traceback TEXT,
                    spawned TEXT NOT NULL,
                    blockers INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX tasks_ready ON tasks (sequence) WHERE state = 'waiting' AND blockers = 0;
                CREATE INDEX tasks_group ON tasks (group_id) WHERE group_id IS NOT NULL;
                CREATE INDEX tasks_active_worker ON tasks (worker) WHERE finish_time IS NULL;
                CREATE INDEX tasks_finish_time ON tasks (finish_time) WHERE finish_time IS NOT NULL;
                CREATE TABLE task_reservations (
                    resource TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    PRIMARY KEY (resource, sequence)
                ) WITHOUT ROWID;
                CREATE TABLE task_workers (name TEXT PRIMARY KEY, heartbeat REAL NOT NULL);
                """
        )
        schema.registerMigration(
            "hold tasks ahead of their submission",
            sql: """
                ALTER TABLE tasks ADD COLUMN hold TEXT;
                CREATE TABLE task_holds (id TEXT PRIMARY KEY, expiry REAL NOT NULL) WITHOUT ROWID;
                """
        )
        return schema
    }()

    private static let columns = """
        sequence, id, name, arguments, resources, tags, group_id, state, worker, submit_time, start_time,
        finish_time, progress, result, error, exception, traceback, spawned
        """

    // MARK: - Queue

    public func insert(_ tasks: [TaskStatus]) async throws -> [TaskStatus] {
        try TaskStatus.validateNew(tasks)
        return try await executor.write { try Self.insert(tasks, hold: nil, in: $0) }
    }

    public func insert(
        _ tasks: [TaskStatus],
        heldAs hold: TaskHoldID,
        expiringAt expiry: Date
    ) async throws -> [TaskStatus] {
        try TaskStatus.validateNew(tasks)
        return try await executor.write { connection in
            let added = try connection.execute(
                "INSERT INTO task_holds (id, expiry) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                [.text(hold.rawValue), .real(expiry.timeIntervalSince1970)]
            )
            guard added > 0 else {
                throw PulpError.conflict("Duplicate resource: hold=\(hold)", propertyNames: ["hold"])
            }
            return try Self.insert(tasks, hold: hold, in: connection)
        }
    }

    public func release(_ holds: [TaskHoldID], withdrawing: [TaskID]) async throws -> Set<TaskID> {
        try await executor.write { connection in
            var gone: Set<TaskID> = []
            for id in withdrawing {
                let found = try connection.firstRow(
                    "SELECT \(Self.columns), \(Self.held) FROM tasks WHERE id = ?",
                    [.text(id.rawValue)]
                ) { (try Self.task($0), $0.int(18) != 0) }
                guard let (task, held) = found else {
                    gone.insert(id)
                    continue
                }
                guard held else { continue }
                try connection.execute("DELETE FROM tasks WHERE sequence = ?", [.integer(task.sequence)])
                try Self.releaseReservations(of: task, in: connection)
                gone.insert(id)
            }
            for hold in holds {
                try connection.execute("DELETE FROM task_holds WHERE id = ?", [.text(hold.rawValue)])
            }
            return gone
        }
    }

    /// Whether a task is held: its hold has not ended.
    private static let held = "(hold IS NOT NULL AND hold IN (SELECT id FROM task_holds))"

    /// Whether a task can be seen and claimed: it is not held.
    private static let visible = "(hold IS NULL OR hold NOT IN (SELECT id FROM task_holds))"

    /// Inserts a task, its blockers counted by the caller; no row is stored when its id is taken.
    private static let insertSQL = """
        INSERT INTO tasks (id, name, arguments, resources, tags, group_id, state, worker, submit_time,
            start_time, finish_time, progress, result, error, exception, traceback, spawned, hold, blockers)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO NOTHING
        """

    /// Inserts new tasks in order, held under `hold` when given: one statement per task and one per
    /// reservation, and one look-up per resource of the batch for an existing line.
    private static func insert(
        _ tasks: [TaskStatus],
        hold: TaskHoldID?,
        in connection: SQLiteConnection
    ) throws -> [TaskStatus] {
        var looked: Set<String> = []
        var queued: Set<String> = []
        var stored: [TaskStatus] = []
        stored.reserveCapacity(tasks.count)
        for task in tasks {
            let resources = distinct(task.resources)
            var blockers = 0
            for resource in resources {
                if looked.insert(resource).inserted {
                    let line = try connection.firstRow(
                        "SELECT 1 FROM task_reservations WHERE resource = ? LIMIT 1",
                        [.text(resource)]
                    ) { _ in true }
                    if line != nil { queued.insert(resource) }
                }
                if queued.contains(resource) { blockers += 1 }
            }
            let values = bindings(task) + [.optionalText(hold?.rawValue), .int(blockers)]
            guard try connection.execute(insertSQL, values) > 0 else {
                throw PulpError.conflict("Duplicate resource: task_id=\(task.id)", propertyNames: ["task_id"])
            }
            var task = task
            task.sequence = connection.lastInsertRowID
            for resource in resources {
                try connection.execute(
                    "INSERT INTO task_reservations (resource, sequence) VALUES (?, ?)",
                    [.text(resource), .integer(task.sequence)]
                )
                queued.insert(resource)
            }
            stored.append(task)
        }
        return stored
    }

    private static func distinct(_ resources: [String]) -> [String] {
        var seen: Set<String> = []
        return resources.filter { seen.insert($0).inserted }
    }

    public func claim(worker: String, limit: Int, at now: Date) async throws -> [TaskStatus] {
        // Look before taking the write lock: an idle poll costs a read, not a write transaction.
        let anyReady = try await executor.read { connection in
            try connection.firstRow(
                "SELECT 1 FROM tasks WHERE state = 'waiting' AND blockers = 0 AND \(Self.visible) LIMIT 1"
            ) { _ in true } ?? false
        }
        guard anyReady else { return [] }
        return try await executor.write { try Self.claim(worker: worker, limit: limit, at: now, in: $0) }
    }

    public func finish(
        _ completions: [TaskCompletion],
        thenClaim limit: Int,
        worker: String,
        at now: Date
    ) async throws -> (finished: [TaskStatus], claimed: [TaskStatus]) {
        try await executor.write { connection in
            let finished = try Self.finish(completions, at: now, in: connection)
            return (finished, try Self.claim(worker: worker, limit: limit, at: now, in: connection))
        }
    }

    public func finish(_ completions: [TaskCompletion], at now: Date) async throws -> [TaskStatus] {
        try await executor.write { try Self.finish(completions, at: now, in: $0) }
    }

    public func updateProgress(of id: TaskID, to report: JSONValue) async throws {
        _ = try await executor.write { connection in
            try connection.execute(
                "UPDATE tasks SET progress = ? WHERE id = ? AND finish_time IS NULL",
                [.text(report.encoded()), .text(id.rawValue)]
            )
        }
    }

    public func cancel(_ id: TaskID, at now: Date) async throws -> TaskStatus? {
        try await executor.write { connection in
            guard let task = try Self.task(id, in: connection) else { return nil }
            return try Self.cancel(task, at: now, in: connection)
        }
    }

    public func cancelGroup(_ group: TaskGroupID, at now: Date) async throws -> [TaskStatus] {
        try await executor.write { connection in
            let tasks = try connection.rows(
                "SELECT \(Self.columns) FROM tasks WHERE group_id = ? AND \(Self.visible) ORDER BY sequence",
                [.text(group.rawValue)],
                Self.task
            )
            return try tasks.map { try Self.cancel($0, at: now, in: connection) }
        }
    }

    // MARK: - Queries

    public func task(_ id: TaskID) async throws -> TaskStatus? {
        try await executor.read { try Self.task(id, in: $0) }
    }

    public func tasks(inGroup group: TaskGroupID?) async throws -> [TaskStatus] {
        try await executor.read { connection in
            if let group {
                return try connection.rows(
                    "SELECT \(Self.columns) FROM tasks WHERE group_id = ? AND \(Self.visible) ORDER BY sequence",
                    [.text(group.rawValue)],
                    Self.task
                )
            }
            return try connection.rows(
                "SELECT \(Self.columns) FROM tasks WHERE \(Self.visible) ORDER BY sequence",
                [],
                Self.task
            )
        }
    }

    public func summary(ofGroup group: TaskGroupID) async throws -> TaskGroupSummary {
        try await executor.read { connection in
            var counts: [TaskState: Int] = [:]
            try connection.query(
                "SELECT state, COUNT(*) FROM tasks WHERE group_id = ? AND \(Self.visible) GROUP BY state",
                [.text(group.rawValue)]
            ) { row in
                if let state = TaskState(rawValue: row.text(0)) { counts[state] = row.int(1) }
            }
            return TaskGroupSummary(counts: counts)
        }
    }

    public func deleteCompleted(states: Set<TaskState>) async throws -> Int {
        let complete = states.filter(\.isComplete).map(\.rawValue).sorted()
        guard !complete.isEmpty else { return 0 }
        let placeholders = Array(repeating: "?", count: complete.count).joined(separator: ", ")
        return try await executor.write { connection in
            try connection.execute(
                "DELETE FROM tasks WHERE finish_time IS NOT NULL AND state IN (\(placeholders))",
                complete.map(SQLiteValue.text)
            )
        }
    }

    public func purge(finishedBefore cutoff: Date) async throws -> Int {
        // Look first, then delete in chunks, so a large purge never holds the write lock for long.
        let bound = SQLiteValue.real(cutoff.timeIntervalSince1970)
        var deleted = 0
        while try await executor.read({ connection in
            try connection.firstRow(
                "SELECT 1 FROM tasks WHERE finish_time IS NOT NULL AND finish_time < ? LIMIT 1",
                [bound]
            ) { _ in true } ?? false
        }) {
            deleted += try await executor.write { connection in
                try connection.execute(
                    """
                    DELETE FROM tasks WHERE sequence IN (
                        SELECT sequence FROM tasks WHERE finish_time IS NOT NULL AND finish_time < ? LIMIT 1000
                    )
                    """,
                    [bound]
                )
            }
        }
        return deleted
    }

    // MARK: - Workers

    public func heartbeat(worker: String, at now: Date) async throws {
        try await executor.write { connection in
            try connection.execute(
                "INSERT INTO task_workers (name, heartbeat) VALUES (?, ?) "
                    + "ON CONFLICT (name) DO UPDATE SET heartbeat = excluded.heartbeat",
                [.text(worker), .real(now.timeIntervalSince1970)]
            )
        }
    }

    public func removeWorker(_ worker: String, at now: Date) async throws -> [TaskStatus] {
        try await executor.write { connection in
            let last = try connection.firstRow(
                "SELECT heartbeat FROM task_workers WHERE name = ?",
                [.text(worker)]
            ) { Date(timeIntervalSince1970: $0.double(0)) }
            try connection.execute("DELETE FROM task_workers WHERE name = ?", [.text(worker)])
            return try Self.fail(worker: worker, lastHeartbeat: last, at: now, in: connection)
        }
    }

    public func stopRequests(worker: String, running: [TaskID]) async throws -> [TaskID] {
        guard !running.isEmpty else { return [] }
        return try await executor.read { connection in
            try running.filter { id in
                guard let task = try Self.task(id, in: connection) else { return true }
                return task.mustStop(on: worker)
            }
        }
    }

    public func recoverLostWorkers(heartbeatBefore cutoff: Date, at now: Date) async throws -> [TaskStatus] {
        let bound = SQLiteValue.real(cutoff.timeIntervalSince1970)
        // Lost: every worker with active tasks and no heartbeat since the cutoff, even with no row at all.
        let lostQuery = """
            SELECT DISTINCT tasks.worker, task_workers.heartbeat FROM tasks
            LEFT JOIN task_workers ON task_workers.name = tasks.worker
            WHERE tasks.finish_time IS NULL AND tasks.worker IS NOT NULL
                AND (task_workers.heartbeat IS NULL OR task_workers.heartbeat < ?)
            """
        let expiry = SQLiteValue.real(now.timeIntervalSince1970)
        let anyLost = try await executor.read { connection in
            try connection.firstRow(lostQuery, [bound]) { _ in true } != nil
                || connection.firstRow("SELECT 1 FROM task_workers WHERE heartbeat < ? LIMIT 1", [bound]) { _ in true }
                    != nil
                || connection.firstRow("SELECT 1 FROM task_holds WHERE expiry <= ? LIMIT 1", [expiry]) { _ in true }
                    != nil
        }
        guard anyLost else { return [] }
        return try await executor.write { connection in
            let lost = try connection.rows(lostQuery, [bound]) { row in
                (row.text(0), row.isNull(1) ? nil : Date(timeIntervalSince1970: row.double(1)))
            }
            try connection.execute("DELETE FROM task_workers WHERE heartbeat < ?", [bound])
            try connection.execute("DELETE FROM task_holds WHERE expiry <= ?", [expiry])
            return try lost.flatMap { worker, last in
                try Self.fail(worker: worker, lastHeartbeat: last, at: now, in: connection)
            }.sorted { $0.sequence < $1.sequence }
        }
    }

    // MARK: - Integrity

    /// Every way the stored queue breaks its own bookkeeping, described; empty when it is whole.
    ///
    /// For crash and stress checks: active tasks hold exactly one reservation row per resource and finished
    /// tasks none; a waiting task's `blockers` counts the lines it is not at the head of; states agree with
    /// their times and worker.
    package func integrityProblems() async throws -> [String] {
        try await executor.read { connection in
            let tasks = try connection.rows("SELECT \(Self.columns) FROM tasks ORDER BY sequence", [], Self.task)
            var lines: [String: [Int64]] = [:]
            try connection.query("SELECT resource, sequence FROM task_reservations ORDER BY resource, sequence") {
                lines[$0.text(0), default: []].append($0.int64(1))
            }
            let blockers = try Dictionary(
                uniqueKeysWithValues: connection.rows("SELECT sequence, blockers FROM tasks WHERE state = 'waiting'") {
                    ($0.int64(0), $0.int(1))
                }
            )
            return Self.integrityProblems(tasks: tasks, lines: lines, blockers: blockers)
        }
    }

    private static func integrityProblems(
        tasks: [TaskStatus],
        lines: [String: [Int64]],
        blockers: [Int64: Int]
    ) -> [String] {
        var problems: [String] = []
        let bySequence = Dictionary(uniqueKeysWithValues: tasks.map { ($0.sequence, $0) })
        for (resource, line) in lines {
            for sequence in line {
                guard let task = bySequence[sequence] else {
                    problems.append("reservation of \(resource) by missing task #\(sequence)")
                    continue
                }
                if task.finishTime != nil { problems.append("finished task \(task.id) still reserves \(resource)") }
                if !task.resources.contains(resource) { problems.append("task \(task.id) reserves \(resource)") }
            }
        }
        for task in tasks {
            let resources = Set(task.resources)
            if task.finishTime == nil {
                for resource in resources where !(lines[resource]?.contains(task.sequence) ?? false) {
                    problems.append("active task \(task.id) has no reservation of \(resource)")
                }
            }
            switch task.state {
            case .waiting:
                if task.startTime != nil || task.finishTime != nil {
                    problems.append("waiting task \(task.id) has times")
                }
                let expected = resources.filter { (lines[$0]?.first ?? task.sequence) < task.sequence }.count
                if blockers[task.sequence] != expected {
                    problems.append(
                        "waiting task \(task.id) has \(blockers[task.sequence] ?? -1) blockers, not \(expected)"
                    )
                }
            case .running:
                if task.startTime == nil || task.workerName == nil || task.finishTime != nil {
                    problems.append("running task \(task.id) lacks a start time or worker, or has a finish time")
                }
            case .finished, .error, .skipped:
                if task.finishTime == nil {
                    problems.append("\(task.state.rawValue) task \(task.id) has no finish time")
                }
            case .canceled, .accepted, .suspended:
                break
            }
        }
        return problems
    }

    // MARK: - Rows

    /// Ends every active task of `worker` in `error`, saying the worker was lost.
    private static func fail(
        worker: String,
        lastHeartbeat: Date?,
        at now: Date,
        in connection: SQLiteConnection
    ) throws -> [TaskStatus] {
        let tasks = try connection.rows(
            "SELECT \(columns) FROM tasks WHERE worker = ? AND finish_time IS NULL ORDER BY sequence",
            [.text(worker)],
            task
        )
        return try tasks.map { task in
            var task = task
            task.failForLostWorker(worker, lastHeartbeat: lastHeartbeat, at: now)
            try saveEnd(of: task, in: connection)
            return task
        }
    }

    private static func claim(
        worker: String,
        limit: Int,
        at now: Date,
        in connection: SQLiteConnection
    ) throws -> [TaskStatus] {
        guard limit > 0 else { return [] }
        let tasks = try connection.rows(
            """
            SELECT \(columns) FROM tasks WHERE state = 'waiting' AND blockers = 0 AND \(visible)
            ORDER BY sequence LIMIT ?
            """,
            [.int(limit)],
            task
        )
        return try tasks.map { task in
            var task = task
            task.state = .running
            task.workerName = worker
            task.startTime = now
            try connection.execute(
                "UPDATE tasks SET state = 'running', worker = ?, start_time = ? WHERE sequence = ?",
                [.text(worker), .real(now.timeIntervalSince1970), .integer(task.sequence)]
            )
            return task
        }
    }

    private static func finish(
        _ completions: [TaskCompletion],
        at now: Date,
        in connection: SQLiteConnection
    ) throws -> [TaskStatus] {
        try completions.compactMap { completion in
            guard var task = try task(completion.id, in: connection) else { return nil }
            guard task.isActive else { return task }
            task.complete(with: completion, at: now)
            try saveEnd(of: task, in: connection)
            return task
        }
    }

    private static func cancel(_ task: TaskStatus, at now: Date, in connection: SQLiteConnection) throws -> TaskStatus {
        guard !task.state.isComplete else { return task }
        var task = task
        task.state = .canceled
        if task.startTime == nil {
            task.finishTime = now
            try saveEnd(of: task, in: connection)
        } else {
            try connection.execute("UPDATE tasks SET state = 'canceled' WHERE sequence = ?", [.integer(task.sequence)])
        }
        return task
    }

    /// Writes a task's final fields and releases its reservations, moving the next tasks up their lines.
    private static func saveEnd(of task: TaskStatus, in connection: SQLiteConnection) throws {
        try connection.execute(
            """
            UPDATE tasks SET state = ?, finish_time = ?, result = ?, error = ?, exception = ?, traceback = ?,
                spawned = ?, blockers = 0
            WHERE sequence = ?
            """,
            [
                .text(task.state.rawValue), task.finishTime.map { .real($0.timeIntervalSince1970) } ?? .null,
                .text(task.result.encoded()), .optionalText(task.error?.json.encoded()),
                .optionalText(task.exception), .optionalText(task.traceback),
                .text(JSONValue.array(task.spawnedTasks.map { .string($0.rawValue) }).encoded()),
                .integer(task.sequence),
            ]
        )
        try releaseReservations(of: task, in: connection)
    }

    /// Takes a task out of its resources' lines, moving the next tasks up.
    private static func releaseReservations(of task: TaskStatus, in connection: SQLiteConnection) throws {
        for resource in Set(task.resources) {
            try connection.execute(
                "DELETE FROM task_reservations WHERE resource = ? AND sequence = ?",
                [.text(resource), .integer(task.sequence)]
            )
            // Only the removal of the head moves a new task to the front of this resource's line.
            let head = try connection.firstRow(
                "SELECT sequence FROM task_reservations WHERE resource = ? ORDER BY sequence LIMIT 1",
                [.text(resource)]
            ) { $0.int64(0) }
            guard let head, head > task.sequence else { continue }
            try connection.execute(
                "UPDATE tasks SET blockers = blockers - 1 WHERE sequence = ? AND state = 'waiting' AND blockers > 0",
                [.integer(head)]
            )
        }
    }

    private static func task(_ id: TaskID, in connection: SQLiteConnection) throws -> TaskStatus? {
        try connection.firstRow("SELECT \(columns) FROM tasks WHERE id = ? AND \(visible)", [.text(id.rawValue)], task)
    }

    private static func bindings(_ task: TaskStatus) -> [SQLiteValue] {
        [
            .text(task.id.rawValue), .text(task.name), .text(task.arguments.encoded()),
            .text(JSONValue.array(task.resources.map(JSONValue.string)).encoded()),
            .text(JSONValue.array(task.tags.map(JSONValue.string)).encoded()),
            .optionalText(task.groupID?.rawValue), .text(task.state.rawValue), .optionalText(task.workerName),
            .real(task.submitTime.timeIntervalSince1970),
            task.startTime.map { .real($0.timeIntervalSince1970) } ?? .null,
            task.finishTime.map { .real($0.timeIntervalSince1970) } ?? .null,
            .text(task.progressReport.encoded()), .text(task.result.encoded()),
            .optionalText(task.error?.json.encoded()), .optionalText(task.exception), .optionalText(task.traceback),
            .text(JSONValue.array(task.spawnedTasks.map { .string($0.rawValue) }).encoded()),
        ]
    }

    private static func task(_ row: SQLiteRow) throws -> TaskStatus {
        func json(_ index: Int32) throws -> JSONValue { try JSONValue(parsing: row.text(index)) }
        func strings(_ index: Int32) throws -> [String] { try json(index).arrayValue?.compactMap(\.stringValue) ?? [] }
        func date(_ index: Int32) -> Date? { row.isNull(index) ? nil : Date(timeIntervalSince1970: row.double(index)) }
        var task = TaskStatus(
            id: TaskID(row.text(1)),
            name: row.text(2),
            arguments: try json(3),
            resources: try strings(4),
            tags: try strings(5),
            groupID: row.optionalText(6).map(TaskGroupID.init(rawValue:)),
            submitTime: Date(timeIntervalSince1970: row.double(9))
        )
        task.sequence = row.int64(0)
        task.state = TaskState(rawValue: row.text(7)) ?? .error
        task.workerName = row.optionalText(8)
        task.startTime = date(10)
        task.finishTime = date(11)
        task.progressReport = try json(12)
        task.result = try json(13)
        task.error = try row.optionalText(14).flatMap { TaskError(json: try JSONValue(parsing: $0)) }
        task.exception = row.optionalText(15)
        task.traceback = row.optionalText(16)
        task.spawnedTasks = try strings(17).map(TaskID.init(rawValue:))
        return task
    }
}

/// How durable an SQLite store's commits are.
public enum SQLiteSynchronous: Sendable, Hashable {
    /// A commit survives the process crashing; the last commits may be lost if the machine loses power.
    case normal
    /// A commit is on disk before it returns (an fsync per commit).
    case full

    var level: SQLiteConfiguration.Synchronous {
        switch self {
        case .normal: .normal
        case .full: .full
        }
    }
}
