public import Foundation

/// Where tasks live: the durable record of every task and, at the same time, the queue workers claim from.
///
/// Several dispatchers, in one process or in several sharing one database, can serve one store; the
/// store alone decides which task runs where. Every conformer must keep these rules (the conformance
/// suite in PulpKitTesting checks them):
///
/// 1. **Submission order.** ``insert(_:)`` takes only new, waiting tasks (a duplicate id or any other
///    state is refused and nothing is stored) and gives each a ``TaskStatus/sequence`` greater than every
///    earlier one.
/// 2. **Reservations.** ``claim(worker:limit:at:)`` atomically takes, in sequence order, only waiting
///    tasks that no earlier *active* task (waiting, running, or canceled but not yet finished) shares
///    a resource with, marks them `running` with the worker and start time, and returns them. Two
///    claims never return the same task.
/// 3. **Completion.** ``finish(_:at:)`` applies ``TaskStatus/complete(with:at:)`` to tasks that are
///    still active and frees their resources; a completion for a task that already has a finish time
///    is ignored.
/// 4. **Cancellation.** ``cancel(_:at:)`` makes a waiting task `canceled` and finished at once, frees
///    its place in the queues, and never lets it be claimed; a running task becomes `canceled` but
///    keeps its resources until its worker reports the run is over; a complete task is unchanged.
/// 5. **Workers.** A worker heartbeats; ``recoverLostWorkers(heartbeatBefore:at:)`` ends in `error`
///    every active task whose worker has no heartbeat at or after the cutoff (a stale one or none at
///    all), frees their resources and forgets stale workers. ``removeWorker(_:at:)`` does the same for
///    one worker at once. ``stopRequests(worker:running:)`` tells a worker which of its runs to stop.
/// 6. **Durability.** A change is stored before the call that makes it returns.
public protocol TaskStore: Sendable {
    /// Adds new waiting tasks, in order, and returns them with their sequence numbers.
    ///
    /// - Throws: a 409 ``PulpError`` for an id already stored, a 400 for a task that is not new and
    ///   waiting; nothing is stored then.
    func insert(_ tasks: [TaskStatus]) async throws -> [TaskStatus]

    /// Checks new waiting tasks as ``insert(_:)`` would and does ahead of time what can be done before
    /// storing them (encoding their rows), so that ``insert(_:submittedAt:)`` costs little.
    ///
    /// - Throws: a 400 or 409 ``PulpError`` as ``insert(_:)`` does for what is wrong in the tasks themselves.
    func prepare(_ tasks: [TaskStatus]) throws -> [PreparedTask]

    /// Adds prepared tasks, in order, as ``insert(_:)`` does, each with the submit time read from `clock`
    /// once the write begins; returns them as stored.
    ///
    /// - Throws: a 409 ``PulpError`` for an id already stored; nothing is stored then.
    func insert(_ tasks: [PreparedTask], submittedAt clock: any WallClock) async throws -> [TaskStatus]

    /// Claims up to `limit` runnable tasks for `worker` (rule 2).
    func claim(worker: String, limit: Int, at now: Date) async throws -> [TaskStatus]

    /// Records that runs are over (rule 3) and returns the tasks as stored afterwards.
    func finish(_ completions: [TaskCompletion], at now: Date) async throws -> [TaskStatus]

    /// Records that runs are over, then claims up to `limit` tasks for `worker`: what a worker does
    /// between two tasks, in one step where the store can (one lock, one transaction).
    func finish(
        _ completions: [TaskCompletion],
        thenClaim limit: Int,
        worker: String,
        at now: Date
    ) async throws -> (finished: [TaskStatus], claimed: [TaskStatus])

    /// Replaces a running task's progress report.
    func updateProgress(of id: TaskID, to report: JSONValue) async throws

    /// Cancels one task (rule 4); `nil` when no task has this id.
    func cancel(_ id: TaskID, at now: Date) async throws -> TaskStatus?

    /// Cancels every incomplete task of a group and returns the group's tasks; empty for an unknown group.
    func cancelGroup(_ group: TaskGroupID, at now: Date) async throws -> [TaskStatus]

    /// One task, or `nil`.
    func task(_ id: TaskID) async throws -> TaskStatus?

    /// Every task in sequence order, optionally only those of one group.
    func tasks(inGroup group: TaskGroupID?) async throws -> [TaskStatus]

    /// How many tasks of `group` are in each state; all zeros for an unknown group.
    func summary(ofGroup group: TaskGroupID) async throws -> TaskGroupSummary

    /// Deletes complete tasks whose state is in `states`; returns how many.
    func deleteCompleted(states: Set<TaskState>) async throws -> Int

    /// Deletes complete tasks that finished before `cutoff`; returns how many.
    func purge(finishedBefore cutoff: Date) async throws -> Int

    /// Records that `worker` is alive.
    func heartbeat(worker: String, at now: Date) async throws

    /// Forgets a worker, ending in `error` any task still active under its name (rule 5): a worker that
    /// stops, or starts again under the same name, runs nothing. Returns the tasks it ended.
    func removeWorker(_ worker: String, at now: Date) async throws -> [TaskStatus]

    /// The tasks among `running` (those `worker` runs) whose runs must stop: cancelled, already ended
    /// (e.g. failed as lost), claimed by another worker, or deleted.
    func stopRequests(worker: String, running: [TaskID]) async throws -> [TaskID]

    /// Ends the active tasks of workers not heard from since `cutoff` in `error` (rule 5); returns them
    /// in sequence order.
    func recoverLostWorkers(heartbeatBefore cutoff: Date, at now: Date) async throws -> [TaskStatus]
}

/// A new waiting task checked, and encoded where its store can, ahead of being stored
/// (``TaskStore/prepare(_:)``); its submit time is set when ``TaskStore/insert(_:submittedAt:)`` stores it.
public struct PreparedTask: Sendable {
    /// The task to store; its ``TaskStatus/submitTime`` is replaced when it is stored.
    public let task: TaskStatus
    /// What the store made of it ahead of time (for SQLite, the row's values), or `nil`.
    package let encoded: (any Sendable)?

    /// Wraps a task checked by a store that prepares nothing ahead.
    public init(_ task: TaskStatus) {
        self.init(task, encoded: nil)
    }

    package init(_ task: TaskStatus, encoded: (any Sendable)?) {
        self.task = task
        self.encoded = encoded
    }
}

extension TaskStore {
    /// Checks the tasks and prepares nothing: for stores whose insert has nothing to do ahead.
    public func prepare(_ tasks: [TaskStatus]) throws -> [PreparedTask] {
        try TaskStatus.validateNew(tasks)
        return tasks.map { PreparedTask($0) }
    }

    /// Stamps the tasks with `clock`'s time, then inserts them: for stores without a faster path.
    public func insert(_ tasks: [PreparedTask], submittedAt clock: any WallClock) async throws -> [TaskStatus] {
        let now = clock.now
        return try await insert(
            tasks.map { prepared in
                var task = prepared.task
                task.submitTime = now
                return task
            }
        )
    }

    /// Records the completions, then claims: two steps, for stores with nothing faster.
    public func finish(
        _ completions: [TaskCompletion],
        thenClaim limit: Int,
        worker: String,
        at now: Date
    ) async throws -> (finished: [TaskStatus], claimed: [TaskStatus]) {
        let finished = try await finish(completions, at: now)
        let claimed = limit > 0 ? try await claim(worker: worker, limit: limit, at: now) : []
        return (finished, claimed)
    }
}

extension TaskStatus {
    /// Checks that a task can be inserted: new and waiting.
    static func validateNew(_ tasks: [TaskStatus]) throws(PulpError) {
        for task in tasks where task.state != .waiting || task.startTime != nil || task.finishTime != nil {
            throw PulpError.invalid(
                "state",
                "only new, waiting tasks can be inserted; \(task.id) is \(task.state.rawValue)"
            )
        }
        var seen: Set<TaskID> = []
        for task in tasks where !seen.insert(task.id).inserted {
            throw PulpError.conflict("Duplicate resource: task_id=\(task.id)", propertyNames: ["task_id"])
        }
    }

    /// Whether the run `worker` has of this task must stop (see ``TaskStore/stopRequests(worker:running:)``).
    func mustStop(on worker: String) -> Bool {
        state == .canceled || finishTime != nil || workerName != worker
    }

    /// The state a lost worker's task ends in: `error`, saying which worker was lost and since when.
    mutating func failForLostWorker(_ worker: String, lastHeartbeat: Date?, at now: Date) {
        let since = lastHeartbeat.map { " since \(ISO8601DateTime.utcString($0))" } ?? ""
        let message = "Worker \(worker) was lost (no heartbeat\(since)); the task was abandoned."
        complete(
            with: TaskCompletion(
                id: id,
                outcome: .failed(
                    TaskError(code: PulpError.Code.internalError.rawValue, description: message),
                    exception: "WorkerLost",
                    traceback: message
                )
            ),
            at: now
        )
    }
}
