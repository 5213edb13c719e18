public import Foundation

/// A ``TaskStore`` in memory: fast, shared by the dispatchers of one process, gone when it exits.
public final class InMemoryTaskStore: TaskStore {
    private let table = PulpMutex(TaskTable())

    /// Creates an empty store.
    public init() {}

    public func insert(_ tasks: [TaskStatus]) async throws -> [TaskStatus] {
        try TaskStatus.validateNew(tasks)
        return try table.withLock { table throws(PulpError) in try table.insertNew(tasks, hold: nil) }
    }

    public func insert(
        _ tasks: [TaskStatus],
        heldAs hold: TaskHoldID,
        expiringAt expiry: Date
    ) async throws -> [TaskStatus] {
        try TaskStatus.validateNew(tasks)
        return try table.withLock { table throws(PulpError) in try table.insertNew(tasks, hold: (hold, expiry)) }
    }

    public func release(_ holds: [TaskHoldID], withdrawing: [TaskID]) async throws -> Set<TaskID> {
        table.withLock { $0.release(holds, withdrawing: withdrawing) }
    }

    public func claim(worker: String, limit: Int, at now: Date) async throws -> [TaskStatus] {
        table.withLock { $0.claim(worker: worker, limit: limit, at: now) }
    }

    public func finish(_ completions: [TaskCompletion], at now: Date) async throws -> [TaskStatus] {
        table.withLock { table in completions.compactMap { table.finish($0, at: now) } }
    }

    public func finish(
        _ completions: [TaskCompletion],
        thenClaim limit: Int,
        worker: String,
        at now: Date
    ) async throws -> (finished: [TaskStatus], claimed: [TaskStatus]) {
        table.withLock { table in
            let finished = completions.compactMap { table.finish($0, at: now) }
            return (finished, table.claim(worker: worker, limit: limit, at: now))
        }
    }

    public func updateProgress(of id: TaskID, to report: JSONValue) async throws {
        table.withLock { table in
            guard let sequence = table.sequences[id], table.tasks[sequence]?.isActive == true else { return }
            table.tasks[sequence]?.progressReport = report
        }
    }

    public func cancel(_ id: TaskID, at now: Date) async throws -> TaskStatus? {
        table.withLock { $0.cancel(id, at: now) }
    }

    public func cancelGroup(_ group: TaskGroupID, at now: Date) async throws -> [TaskStatus] {
        table.withLock { table in
            table.visible { $0.groupID == group }.compactMap { table.cancel($0.id, at: now) }
        }
    }

    public func task(_ id: TaskID) async throws -> TaskStatus? {
        table.withLock { $0.visibleTask(id) }
    }

    public func tasks(inGroup group: TaskGroupID?) async throws -> [TaskStatus] {
        table.withLock { table in table.visible { group == nil || $0.groupID == group } }
    }

    public func summary(ofGroup group: TaskGroupID) async throws -> TaskGroupSummary {
        table.withLock { table in
            var counts: [TaskState: Int] = [:]
            for task in table.visible(where: { $0.groupID == group }) { counts[task.state, default: 0] += 1 }
            return TaskGroupSummary(counts: counts)
        }
    }

    public func deleteCompleted(states: Set<TaskState>) async throws -> Int {
        table.withLock { $0.delete { $0.state.isComplete && !$0.isActive && states.contains($0.state) } }
    }

    public func purge(finishedBefore cutoff: Date) async throws -> Int {
        table.withLock { $0.delete { !$0.isActive && ($0.finishTime ?? .distantFuture) < cutoff } }
    }

    public func heartbeat(worker: String, at now: Date) async throws {
        table.withLock { $0.workers[worker] = now }
    }

    public func removeWorker(_ worker: String, at now: Date) async throws -> [TaskStatus] {
        table.withLock { table in
            let last = table.workers.removeValue(forKey: worker)
            return table.fail(ofWorkers: [worker: last], at: now)
        }
    }

    public func stopRequests(worker: String, running: [TaskID]) async throws -> [TaskID] {
        table.withLock { table in
            running.filter { id in
                guard let task = table.sequences[id].flatMap({ table.tasks[$0] }) else { return true }
                return task.mustStop(on: worker)
            }
        }
    }

    public func recoverLostWorkers(heartbeatBefore cutoff: Date, at now: Date) async throws -> [TaskStatus] {
        table.withLock { $0.recoverLostWorkers(heartbeatBefore: cutoff, at: now) }
    }
}

/// The in-memory store's data and its queue logic: a plain value, changed only under the store's lock.
///
/// Each resource has a FIFO of the active tasks that reserve it, in sequence order. A waiting task's
/// `blockers` counts the resources whose FIFO it is not at the head of; it is runnable at zero, and
/// runnable tasks wait in `ready` in sequence order. A held task is in its lines but neither in `ready`
/// nor seen by reads until its hold ends.
struct TaskTable {
    var tasks: [Int64: TaskStatus] = [:]
    var sequences: [TaskID: Int64] = [:]
    var queues: [String: [Int64]] = [:]
    var blockers: [Int64: Int] = [:]
    var ready = SequenceQueue()
    var running: Set<Int64> = []
    var workers: [String: Date] = [:]
    var lastSequence: Int64 = 0
    /// The holds not yet ended: their tasks, in sequence order, and when they expire.
    var holds: [TaskHoldID: (sequences: [Int64], expiry: Date)] = [:]
    /// The hold of each held task.
    var heldBy: [Int64: TaskHoldID] = [:]

    /// Inserts new tasks, held under `hold` when given, or none of them when an id or the hold is taken (409).
    mutating func insertNew(
        _ tasks: [TaskStatus],
        hold: (id: TaskHoldID, expiry: Date)?
    ) throws(PulpError) -> [TaskStatus] {
        if let duplicate = tasks.first(where: { sequences[$0.id] != nil }) {
            throw PulpError.conflict("Duplicate resource: task_id=\(duplicate.id)", propertyNames: ["task_id"])
        }
        guard let hold else { return tasks.map { insert($0, held: false) } }
        if holds[hold.id] != nil {
            throw PulpError.conflict("Duplicate resource: hold=\(hold.id)", propertyNames: ["hold"])
        }
        let stored = tasks.map { insert($0, held: true) }
        for task in stored { heldBy[task.sequence] = hold.id }
        holds[hold.id] = (stored.map(\.sequence), hold.expiry)
        return stored
    }

    private mutating func insert(_ task: TaskStatus, held: Bool) -> TaskStatus {
        var task = task
        lastSequence += 1
        task.sequence = lastSequence
        var count = 0
        for resource in Self.distinct(task.resources) {
            if let queue = queues[resource], !queue.isEmpty { count += 1 }
            queues[resource, default: []].append(task.sequence)
        }
        tasks[task.sequence] = task
        sequences[task.id] = task.sequence
        if count > 0 {
            blockers[task.sequence] = count
        } else if !held {
            ready.append(task.sequence)  // the newest sequence: `ready` stays sorted
        }
        return task
    }

    /// A task that is not held, or `nil`.
    func visibleTask(_ id: TaskID) -> TaskStatus? {
        guard let sequence = sequences[id], heldBy[sequence] == nil else { return nil }
        return tasks[sequence]
    }

    /// The tasks that are not held and match, in sequence order.
    func visible(where matches: (TaskStatus) -> Bool) -> [TaskStatus] {
        tasks.values.filter { heldBy[$0.sequence] == nil && matches($0) }.sorted { $0.sequence < $1.sequence }
    }

    /// Deletes the held tasks of `withdrawing`, then ends `holds`: their other tasks join the queue.
    /// Returns the ids of `withdrawing` no longer stored.
    mutating func release(_ holds: [TaskHoldID], withdrawing: [TaskID]) -> Set<TaskID> {
        var gone: Set<TaskID> = []
        for id in withdrawing {
            guard let sequence = sequences[id] else {
                gone.insert(id)
                continue
            }
            guard heldBy.removeValue(forKey: sequence) != nil, let task = tasks.removeValue(forKey: sequence) else {
                continue
            }
            sequences.removeValue(forKey: id)
            release(task)
            gone.insert(id)
        }
        for hold in holds {
            guard let ended = self.holds.removeValue(forKey: hold) else { continue }
            for sequence in ended.sequences where heldBy.removeValue(forKey: sequence) != nil {
                if blockers[sequence] == nil { ready.insert(sequence) }
            }
        }
        return gone
    }

    mutating func claim(worker: String, limit: Int, at now: Date) -> [TaskStatus] {
        ready.popFirst(limit).map { sequence in
            tasks[sequence]!.state = .running
            tasks[sequence]!.workerName = worker
            tasks[sequence]!.startTime = now
            running.insert(sequence)
            return tasks[sequence]!
        }
    }

    mutating func finish(_ completion: TaskCompletion, at now: Date) -> TaskStatus? {
        guard let sequence = sequences[completion.id], heldBy[sequence] == nil, var task = tasks[sequence] else {
            return nil
        }
        guard task.isActive else { return task }
        task.complete(with: completion, at: now)
        tasks[sequence] = task
        release(task)
        return task
    }

    mutating func cancel(_ id: TaskID, at now: Date) -> TaskStatus? {
        guard let sequence = sequences[id], heldBy[sequence] == nil, var task = tasks[sequence] else { return nil }
        guard !task.state.isComplete else { return task }
        if task.state == .waiting {
            task.state = .canceled
            task.finishTime = now
            tasks[sequence] = task
            release(task)
        } else {
            task.state = .canceled
            tasks[sequence] = task
        }
        return task
    }

    mutating func recoverLostWorkers(heartbeatBefore cutoff: Date, at now: Date) -> [TaskStatus] {
        // Lost: every worker with running tasks and no heartbeat since the cutoff, even with no row at all.
        var lost: [String: Date?] = [:]
        for sequence in running {
            guard let worker = tasks[sequence]?.workerName else { continue }
            let last = workers[worker]
            if last.map({ $0 < cutoff }) ?? true { lost[worker] = last }
        }
        for (worker, last) in workers where last < cutoff { workers.removeValue(forKey: worker) }
        _ = release(holds.filter { $0.value.expiry <= now }.map(\.key), withdrawing: [])
        return fail(ofWorkers: lost, at: now)
    }

    /// Ends the running tasks of `lost` workers (with their last heartbeat, if any) in `error`.
    mutating func fail(ofWorkers lost: [String: Date?], at now: Date) -> [TaskStatus] {
        guard !lost.isEmpty else { return [] }
        var failed: [TaskStatus] = []
        for sequence in running.sorted() {
            guard var task = tasks[sequence], let worker = task.workerName, let last = lost[worker] else { continue }
            task.failForLostWorker(worker, lastHeartbeat: last, at: now)
            tasks[sequence] = task
            release(task)
            failed.append(task)
        }
        return failed
    }

    mutating func delete(where shouldDelete: (TaskStatus) -> Bool) -> Int {
        let doomed = tasks.values.filter(shouldDelete)
        for task in doomed {
            tasks.removeValue(forKey: task.sequence)
            sequences.removeValue(forKey: task.id)
        }
        return doomed.count
    }

    /// The resources without repeats; no allocation for the common zero or one.
    private static func distinct(_ resources: [String]) -> [String] {
        resources.count < 2 ? resources : Array(Set(resources))
    }

    /// Takes a task that is no longer active out of its queues and lets the next in line move up.
    private mutating func release(_ task: TaskStatus) {
        let sequence = task.sequence
        running.remove(sequence)
        if blockers.removeValue(forKey: sequence) == nil { ready.remove(sequence) }
        for resource in Self.distinct(task.resources) {
            guard var queue = queues[resource], let index = queue.firstIndex(of: sequence) else { continue }
            queue.remove(at: index)
            if queue.isEmpty {
                queues.removeValue(forKey: resource)
                continue
            }
            queues[resource] = queue
            // Only the removal of the head moves a new task to the front of this resource's line.
            guard index == 0, let head = queue.first, let remaining = blockers[head] else { continue }
            if remaining > 1 {
                blockers[head] = remaining - 1
            } else {
                blockers.removeValue(forKey: head)
                if heldBy[head] == nil { ready.insert(head) }
            }
        }
    }
}

/// Sequence numbers in ascending order, cheap to pop from the front and to insert into.
struct SequenceQueue {
    private var storage: [Int64] = []
    private var start = 0

    var isEmpty: Bool { start == storage.count }

    /// Adds a sequence larger than every one present.
    mutating func append(_ sequence: Int64) { storage.append(sequence) }

    /// Adds a sequence in order.
    mutating func insert(_ sequence: Int64) {
        storage.insert(sequence, at: position(of: sequence))
    }

    /// Removes a sequence if present.
    mutating func remove(_ sequence: Int64) {
        let index = position(of: sequence)
        if index < storage.count, storage[index] == sequence { storage.remove(at: index) }
    }

    /// Removes and returns up to `count` of the smallest sequences.
    mutating func popFirst(_ count: Int) -> ArraySlice<Int64> {
        let end = min(start + max(count, 0), storage.count)
        let taken = storage[start..<end]
        start = end
        if start > 1024, start * 2 > storage.count {
            storage.removeFirst(start)
            start = 0
            return ArraySlice(taken)
        }
        return taken
    }

    private func position(of sequence: Int64) -> Int {
        var low = start
        var high = storage.count
        while low < high {
            let middle = (low + high) / 2
            if storage[middle] < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
