public import Foundation

/// How a ``TaskDispatcher`` runs.
public struct TaskDispatcherConfiguration: Sendable {
    /// How many tasks this dispatcher runs at once; the number of cores by default.
    public var workerCount: Int
    /// The name this dispatcher's worker is known by in the store, shown as a task's `worker_name`.
    public var workerName: String
    /// How often it looks in the store for work dispatched elsewhere and for remote cancellations.
    public var pollInterval: Duration
    /// How often it records its heartbeat, recovers lost workers and purges old tasks.
    public var heartbeatInterval: Duration
    /// How long a worker may go without a heartbeat before its tasks are failed as lost (seconds).
    public var workerTimeout: TimeInterval
    /// How long complete tasks are kept (seconds); 7 days by default.
    public var retention: TimeInterval
    /// How long a drain lets running tasks finish before it cancels them.
    public var drainGracePeriod: Duration

    /// Creates a configuration; every value has Pulp's default.
    public init(
        workerCount: Int = ProcessInfo.processInfo.activeProcessorCount,
        workerName: String = TaskDispatcherConfiguration.defaultWorkerName(),
        pollInterval: Duration = .milliseconds(100),
        heartbeatInterval: Duration = .seconds(5),
        workerTimeout: TimeInterval = 30,
        retention: TimeInterval = 7 * 86_400,
        drainGracePeriod: Duration = .seconds(10)
    ) {
        self.workerCount = max(1, workerCount)
        self.workerName = workerName
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.workerTimeout = workerTimeout
        self.retention = retention
        self.drainGracePeriod = drainGracePeriod
    }

    /// The configuration with every value made usable: at least one worker, a poll interval of at
    /// least a millisecond, and a heartbeat interval of at most a third of the worker timeout.
    func normalized() -> TaskDispatcherConfiguration {
        var copy = self
        copy.workerCount = max(1, workerCount)
        copy.pollInterval = max(pollInterval, .milliseconds(1))
        copy.workerTimeout = max(workerTimeout, 1)
        copy.heartbeatInterval = min(max(heartbeatInterval, .milliseconds(10)), .seconds(copy.workerTimeout / 3))
        copy.retention = max(retention, 0)
        return copy
    }

    /// A name unique to this dispatcher: `worker-<random>@<host>`.
    public static func defaultWorkerName() -> String {
        "worker-\(UUID().uuidString.prefix(8).lowercased())@\(ProcessInfo.processInfo.hostName)"
    }
}

/// Runs every long operation of PulpKit as a task: dispatches, reserves resources, runs handlers,
/// records results, cancels, and reports.
///
/// Register handlers by name, then `dispatch` tasks; ``run()`` is the long-running loop that claims
/// tasks from the ``TaskStore`` and runs them (start it once, e.g. in a `ServiceGroup`). Dispatching
/// works without `run()`: the tasks wait in the store for any dispatcher that serves it.
///
/// Every dispatcher that runs (`run()`) on a shared store must register every handler name that is
/// dispatched to that store, as every Pulp worker has every plugin: any of them may claim any task.
public final class TaskDispatcher: Sendable {
    /// The store that holds every task and is the queue.
    public let store: any TaskStore
    /// The clock that stamps task times.
    public let clock: any WallClock
    /// How this dispatcher runs.
    public let configuration: TaskDispatcherConfiguration

    private let handlers = PulpMutex<[String: TaskHandler]>([:])
    let observers = PulpMutex<[@Sendable (TaskStatus) async -> Void]>([])
    /// The worker pool's decisions; see ``WorkerPoolStateMachine``.
    let pool: PulpMutex<WorkerPoolStateMachine>
    /// The Swift tasks running handlers here, for cancelling them one by one.
    let handles = PulpMutex(RunningHandles())
    let doorbell = Doorbell()

    /// Creates a dispatcher over `store`.
    public init(
        store: any TaskStore,
        clock: any WallClock = SystemWallClock(),
        configuration: TaskDispatcherConfiguration = TaskDispatcherConfiguration()
    ) {
        self.store = store
        self.clock = clock
        self.configuration = configuration.normalized()
        self.pool = PulpMutex(WorkerPoolStateMachine(workerCount: self.configuration.workerCount))
    }

    // MARK: - Handlers and observers

    /// Registers the handler that runs tasks named `name`; a later registration replaces it.
    public func register(_ name: String, handler: @escaping @Sendable (TaskContext) async throws -> JSONValue) {
        handlers.withLock { $0[name] = TaskHandler(validate: { _ in }, run: handler) }
    }

    /// Registers the handler of a typed kind; dispatches whose arguments do not decode are refused.
    public func register<Arguments>(
        _ kind: TaskKind<Arguments>,
        handler: @escaping @Sendable (TaskContext, Arguments) async throws -> JSONValue
    ) {
        let handler = TaskHandler(
            validate: { _ = try $0.decode(Arguments.self, field: "arguments") },
            run: { context in
                try await handler(context, try context.task.arguments.decode(Arguments.self, field: "arguments"))
            }
        )
        handlers.withLock { $0[kind.name] = handler }
    }

    /// Calls `observer` with the final status of every task this dispatcher ends, after it is stored:
    /// runs it completes, waiting tasks it cancels, and tasks of lost workers it recovers. Tasks ended
    /// by other dispatchers are reported to their observers.
    public func onCompletion(_ observer: @escaping @Sendable (TaskStatus) async -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func handler(named name: String) -> TaskHandler? { handlers.withLock { $0[name] } }

    // MARK: - Dispatch

    /// Stores a new waiting task and wakes the workers; returns its call report.
    ///
    /// - Throws: a 400 ``PulpError`` naming `name` (no such handler), `arguments` (they do not
    ///   decode), `resources` or `tags` (an empty string); nothing is stored then.
    public func dispatch(_ request: TaskRequest) async throws -> CallReport {
        let tasks = try await insert([request], group: nil)
        return CallReport(spawnedTasks: tasks.map { SpawnedTask($0.id) })
    }

    /// Stores several new waiting tasks in one store transaction and wakes the workers; returns their call
    /// reports in the order given. Dispatching many at once (a burst of scheduled runs) costs one write.
    ///
    /// - Throws: a 400 ``PulpError`` as ``dispatch(_:)-(TaskRequest)`` does, naming what is wrong in any of
    ///   them; nothing is stored then.
    public func dispatch(_ requests: [TaskRequest]) async throws -> [CallReport] {
        guard !requests.isEmpty else { return [] }
        return try await insert(requests, group: nil).map { CallReport(spawnedTasks: [SpawnedTask($0.id)]) }
    }

    /// Stores tasks now for their submission at `dueTime`, as one hold (``TaskStore``'s rule 7): they take
    /// their places in their resources' queues at once, but no worker and no read sees them until
    /// ``release(_:withdrawing:)`` ends the hold, one small store write whatever their number. This is how
    /// work is dispatched at an exact time: the scheduler holds its runs ahead of their due time.
    ///
    /// Each task's `submit_time` is `dueTime`, or now when that has passed. A hold its holder never
    /// releases (the process died) is released by any dispatcher's ``recoverLostWorkers()`` once the worker
    /// timeout has passed since that submit time.
    ///
    /// - Throws: a 400 ``PulpError`` as ``dispatch(_:)-(TaskRequest)`` does, naming what is wrong in any of
    ///   them; nothing is stored then.
    public func hold(_ requests: [TaskRequest], forSubmissionAt dueTime: Date) async throws -> TaskHold {
        try validate(requests)
        let hold = TaskHoldID.random()
        let submitTime = max(dueTime, clock.now)
        let tasks = newTasks(requests, group: nil, submitTime: submitTime)
        _ = try await store.insert(
            tasks,
            heldAs: hold,
            expiringAt: submitTime.addingTimeInterval(configuration.workerTimeout)
        )
        return TaskHold(id: hold, tasks: tasks.map(\.id))
    }

    /// Ends holds: deletes the held tasks of `withdrawing`, which will never run, then lets every other
    /// task of `holds` be seen and claimed, and wakes the workers. Returns the ids of `withdrawing` that are
    /// not stored afterwards; a task whose hold had already ended stays, and is not among them.
    @discardableResult
    public func release(_ holds: [TaskHoldID], withdrawing: [TaskID] = []) async throws -> Set<TaskID> {
        guard !holds.isEmpty || !withdrawing.isEmpty else { return [] }
        let gone = try await store.release(holds, withdrawing: withdrawing)
        if !holds.isEmpty, pool.withLock({ $0.hasFreeWorker }) { doorbell.ring() }
        return gone
    }

    /// Dispatches a task of a typed kind.
    public func dispatch<Arguments>(
        _ kind: TaskKind<Arguments>,
        _ arguments: Arguments,
        resources: [String] = [],
        tags: [String] = []
    ) async throws -> CallReport {
        try await dispatch(TaskRequest(kind, arguments, resources: resources, tags: tags))
    }

    /// Dispatches tasks as one group and returns the group's call report; all are validated first.
    public func dispatchGroup(_ requests: [TaskRequest], id: TaskGroupID = .random()) async throws -> GroupCallReport {
        _ = try await insert(requests, group: id)
        return GroupCallReport(groupID: id)
    }

    private func insert(_ requests: [TaskRequest], group: TaskGroupID?) async throws -> [TaskStatus] {
        try validate(requests)
        let stored = try await store.insert(newTasks(requests, group: group, submitTime: clock.now))
        // Busy workers claim the next task themselves when they finish; only a free one needs waking.
        if pool.withLock({ $0.hasFreeWorker }) { doorbell.ring() }
        return stored
    }

    private func newTasks(_ requests: [TaskRequest], group: TaskGroupID?, submitTime: Date) -> [TaskStatus] {
        requests.map {
            TaskStatus(
                name: $0.name,
                arguments: $0.arguments,
                resources: $0.resources,
                tags: $0.tags,
                groupID: group,
                submitTime: submitTime
            )
        }
    }

    private func validate(_ requests: [TaskRequest]) throws {
        let handlers = self.handlers.withLock { $0 }
        var problems: [PulpError.Problem] = []
        for request in requests {
            guard let handler = handlers[request.name] else {
                problems.append(.init("name", "no task handler is registered as '\(request.name)'"))
                continue
            }
            do {
                try handler.validate(request.arguments)
            } catch let error as PulpError {
                problems.append(.init("arguments", error.subErrors.first?.message ?? error.message))
            }
            if request.resources.contains(where: \.isEmpty) {
                problems.append(.init("resources", "a resource name cannot be empty"))
            }
            if request.tags.contains(where: \.isEmpty) {
                problems.append(.init("tags", "a tag cannot be empty"))
            }
        }
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
    }

    // MARK: - Cancellation and queries

    /// Cancels a task: a waiting one never runs, a running one is cancelled cooperatively and ends
    /// `canceled`; a complete one is left as it is. Returns the task's status.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown id.
    @discardableResult
    public func cancel(_ id: TaskID) async throws -> TaskStatus {
        let now = clock.now
        guard let task = try await store.cancel(id, at: now) else {
            throw PulpError.missingResource(["task_id": id.rawValue])
        }
        cancelLocally([id])
        await notify(Self.endedWaiting([task], at: now))
        return task
    }

    /// The tasks that this very cancellation ended while they were waiting (running ones end later).
    private static func endedWaiting(_ tasks: [TaskStatus], at now: Date) -> [TaskStatus] {
        tasks.filter { $0.state == .canceled && $0.startTime == nil && $0.finishTime == now }
    }

    /// Calls every observer with every task, in order.
    func notify(_ tasks: [TaskStatus]) async {
        guard !tasks.isEmpty else { return }
        let observers = self.observers.withLock { $0 }
        for task in tasks {
            for observer in observers { await observer(task) }
        }
    }

    /// Cancels every incomplete task of a group.
    ///
    /// - Throws: a 404 ``PulpError`` when the group has no tasks.
    public func cancelGroup(_ id: TaskGroupID) async throws {
        let now = clock.now
        let tasks = try await store.cancelGroup(id, at: now)
        guard !tasks.isEmpty else { throw PulpError.missingResource(["task_group": id.rawValue]) }
        cancelLocally(tasks.filter { $0.state == .canceled }.map(\.id))
        await notify(Self.endedWaiting(tasks, at: now))
    }

    func cancelLocally(_ ids: [TaskID]) {
        // Cancelled outside the lock (cancellation handlers may call back in); marking the ids as
        // cancelling first stops their workers from handing this Swift task on to another task.
        let running = handles.withLock { $0.markCancelling(ids) }
        for handle in running { handle.cancel() }
    }

    /// One task's status.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown id.
    public func status(of id: TaskID) async throws -> TaskStatus {
        guard let task = try await store.task(id) else { throw PulpError.missingResource(["task_id": id.rawValue]) }
        return task
    }

    /// The tasks whose Task Report JSON matches `criteria`, in submission order before the criteria's sort.
    public func tasks(matching criteria: Criteria = Criteria()) async throws -> [TaskStatus] {
        let tasks = try await store.tasks(inGroup: nil)
        let byID = Dictionary(tasks.map { ($0.id.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
        // `id` survives any `fields` projection, so it maps every matched report back to its task.
        return criteria.apply(to: tasks.map(\.json)).compactMap { $0["id"]?.stringValue.flatMap { byID[$0] } }
    }

    /// The tasks that carry every one of `tags` and belong to no group (Pulp's `GET /v2/tasks/?tag=…`).
    public func tasks(taggedWith tags: [String]) async throws -> [TaskStatus] {
        try await store.tasks(inGroup: nil).filter { task in
            task.groupID == nil && tags.allSatisfy(task.tags.contains)
        }
    }

    /// How many tasks of a group are in each state; zeros for an unknown group.
    public func summary(ofGroup id: TaskGroupID) async throws -> TaskGroupSummary {
        try await store.summary(ofGroup: id)
    }

    /// Deletes complete tasks in `states` (Pulp allows `finished`, `error` and `skipped`).
    ///
    /// - Throws: a 400 ``PulpError`` naming `state` when `states` is empty or holds another state.
    @discardableResult
    public func deleteCompleted(states: Set<TaskState>) async throws -> Int {
        let allowed: Set<TaskState> = [.finished, .error, .skipped]
        guard !states.isEmpty, states.isSubset(of: allowed) else {
            let bad = states.subtracting(allowed).map(\.rawValue).sorted()
            throw PulpError.invalid(
                "state",
                bad.isEmpty ? "no task state given" : "cannot purge tasks in state \(bad.joined(separator: ", "))"
            )
        }
        return try await store.deleteCompleted(states: states)
    }

    /// Deletes complete tasks older than the configured retention; returns how many.
    @discardableResult
    public func purgeExpiredTasks() async throws -> Int {
        try await store.purge(finishedBefore: clock.now.addingTimeInterval(-configuration.retention))
    }

    /// Fails the tasks of workers whose heartbeat is older than the worker timeout; returns them.
    @discardableResult
    public func recoverLostWorkers() async throws -> [TaskStatus] {
        let now = clock.now
        let cutoff = now.addingTimeInterval(-configuration.workerTimeout)
        let recovered = try await store.recoverLostWorkers(heartbeatBefore: cutoff, at: now)
        await notify(recovered)
        return recovered
    }
}

/// Tasks stored ahead of their submission by ``TaskDispatcher/hold(_:forSubmissionAt:)``.
public struct TaskHold: Sendable, Hashable {
    /// The hold, to end with ``TaskDispatcher/release(_:withdrawing:)``.
    public var id: TaskHoldID
    /// The held tasks, in the order of their requests.
    public var tasks: [TaskID]
}

/// The Swift tasks that run handlers on this dispatcher, by the task each one runs now.
struct RunningHandles {
    private var tasks: [TaskID: Task<Void, Never>] = [:]
    private var cancelling: Set<TaskID> = []

    /// Records the Swift task that runs `id`.
    mutating func register(_ id: TaskID, _ handle: Task<Void, Never>) { tasks[id] = handle }

    /// Forgets `id`'s Swift task; returns it unless a cancellation of `id` is under way.
    mutating func remove(_ id: TaskID) -> Task<Void, Never>? {
        let handle = tasks.removeValue(forKey: id)
        return cancelling.remove(id) == nil ? handle : nil
    }

    /// The Swift tasks running `ids`, marked so that none is reused for another task.
    mutating func markCancelling(_ ids: [TaskID]) -> [Task<Void, Never>] {
        ids.compactMap { id in
            guard let handle = tasks[id] else { return nil }
            cancelling.insert(id)
            return handle
        }
    }
}
