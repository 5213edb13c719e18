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
/// 7. **Holds.** ``insert(_:heldAs:expiringAt:)`` stores new tasks as ``insert(_:)`` does (sequence
///    numbers, places in their resources' lines) but hides them, from every claim and every read
///    (``task(_:)``, ``tasks(inGroup:)``, ``summary(ofGroup:)``, ``cancel(_:at:)``, ``cancelGroup(_:at:)``),
///    until ``release(_:withdrawing:)`` ends their hold, or ``recoverLostWorkers(heartbeatBefore:at:)``
///    finds the hold expired. A release's `withdrawing` deletes tasks that are still held, freeing their
///    places in the lines; a task whose hold has ended is never withdrawn.
public protocol TaskStore: Sendable {
    /// Adds new waiting tasks, in order, and returns them with their sequence numbers.
    ///
    /// - Throws: a 409 ``PulpError`` for an id already stored, a 400 for a task that is not new and
    ///   waiting; nothing is stored then.
    func insert(_ tasks: [TaskStatus]) async throws -> [TaskStatus]

    /// Adds new waiting tasks, in order, held under `hold` (rule 7): they take their sequence numbers and
    /// their places in the lines now, and are seen once the hold is released, or once `expiry` has passed
    /// and lost workers are recovered. Returns them with their sequence numbers.
    ///
    /// - Throws: as ``insert(_:)`` does, and a 409 ``PulpError`` naming `hold` for a hold already stored;
    ///   nothing is stored then.
    func insert(_ tasks: [TaskStatus], heldAs hold: TaskHoldID, expiringAt expiry: Date) async throws -> [TaskStatus]

    /// Ends holds (rule 7) in one transaction: first deletes the tasks of `withdrawing` that are still
    /// held, with their places in the lines, then lets every other task of `holds` be seen and claimed.
    /// Returns the ids of `withdrawing` that are not stored afterwards (deleted now, or never stored): the
    /// tasks that will never run. Unknown holds are ignored.
    func release(_ holds: [TaskHoldID], withdrawing: [TaskID]) async throws -> Set<TaskID>

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

    /// Ends the active tasks of workers not heard from since `cutoff` in `error` (rule 5), and releases
    /// the holds that expired by `now` (rule 7); returns the tasks it ended, in sequence order.
    func recoverLostWorkers(heartbeatBefore cutoff: Date, at now: Date) async throws -> [TaskStatus]
}

extension TaskStore {
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
