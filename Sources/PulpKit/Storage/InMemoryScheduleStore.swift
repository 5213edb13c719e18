public import Foundation

/// A ``ScheduleStore`` in memory: fast, shared by the tasks of one process, gone when it exits.
///
/// Due calls are found through a binary min-heap of due times, so ``earliestDueTime()`` and each claimed
/// call cost O(log n) whatever the number of schedules. A change pushes a new heap entry and leaves the
/// old one to be skipped (each entry carries the version of the call it was made for); the heap is
/// rebuilt when stale entries outnumber live ones.
public final class InMemoryScheduleStore: ScheduleStore {
    private let table = PulpMutex(ScheduleTable())

    /// Creates an empty store.
    public init() {}

    /// Stores a new call; a 409 when its id is taken (rule 1).
    public func insert(_ call: ScheduledCall) async throws {
        try table.withLock { table throws(PulpError) in try table.insert(call) }
    }

    /// The call with `id`, or `nil` (rule 2).
    public func call(_ id: ScheduleID) async throws -> ScheduledCall? {
        table.withLock { $0.rows[id]?.call }
    }

    /// A repository's calls (of `importer`, when given) in insertion order (rule 2).
    public func calls(repository: RepositoryID, importer: String?) async throws -> [ScheduledCall] {
        table.withLock { table in
            (table.byRepository[repository] ?? []).compactMap { id in
                guard let call = table.rows[id]?.call, importer.map({ $0 == call.importerID }) ?? true else {
                    return nil
                }
                return call
            }
        }
    }

    /// Applies `change` atomically; a 404 when the call does not exist (rule 3).
    public func update(
        _ id: ScheduleID,
        _ change: @escaping @Sendable (inout ScheduledCall) throws -> Void
    ) async throws -> ScheduledCall {
        try table.withLock { table in try table.update(id, change) }
    }

    /// Removes a call; returns whether it existed (rule 4).
    public func delete(_ id: ScheduleID) async throws -> Bool {
        table.withLock { $0.delete(id) }
    }

    /// Removes every call of `repository`; returns how many (rule 4).
    public func deleteCalls(repository: RepositoryID) async throws -> Int {
        table.withLock { table in
            let ids = table.byRepository[repository] ?? []
            for id in ids { table.delete(id) }
            return ids.count
        }
    }

    /// The earliest due time of any call, or `nil` (rule 5).
    public func earliestDueTime() async throws -> Date? {
        table.withLock { $0.earliestDueTime() }
    }

    /// Claims up to `limit` calls due at or before `horizon` for `scheduler`, each run at its due time or
    /// `now` (rule 6).
    public func claimDue(
        until horizon: Date,
        at now: Date,
        limit: Int,
        scheduler: String,
        onClaim: @escaping @Sendable ([ClaimedRun]) -> Void
    ) async throws -> [ClaimedRun] {
        table.withLock { table in
            let runs = table.claimDue(until: max(horizon, now), at: now, limit: limit, scheduler: scheduler)
            onClaim(runs)
            return runs
        }
    }
}

/// The in-memory schedule store's data: a plain value, changed only under the store's lock.
struct ScheduleTable {
    struct Row {
        var call: ScheduledCall
        let sequence: Int
        var version: Int
    }

    /// One heap entry: a due time of the call `id` as it was at `version`.
    struct DueEntry {
        var time: Date
        var sequence: Int
        var id: ScheduleID
        var version: Int

        /// Earlier due time first; insertion order breaks ties.
        static func precedes(_ lhs: DueEntry, _ rhs: DueEntry) -> Bool {
            lhs.time != rhs.time ? lhs.time < rhs.time : lhs.sequence < rhs.sequence
        }
    }

    private(set) var rows: [ScheduleID: Row] = [:]
    /// Each repository's call ids in insertion order.
    private(set) var byRepository: [RepositoryID: [ScheduleID]] = [:]
    private var heap: [DueEntry] = []
    private var nextSequence = 0
    private var nextVersion = 0

    mutating func insert(_ call: ScheduledCall) throws(PulpError) {
        guard rows[call.id] == nil else { throw ScheduledCall.duplicate(call.id) }
        nextSequence += 1
        rows[call.id] = Row(call: call, sequence: nextSequence, version: 0)
        byRepository[call.repositoryID, default: []].append(call.id)
        index(call.id)
    }

    mutating func update(
        _ id: ScheduleID,
        _ change: (inout ScheduledCall) throws -> Void
    ) throws -> ScheduledCall {
        guard var call = rows[id]?.call else { throw ScheduledCall.missing(id) }
        let before = call
        try change(&call)
        guard call.hasSameIdentity(as: before) else { throw ScheduledCall.identityChanged(id) }
        rows[id]?.call = call
        if call.dueTime != before.dueTime { index(id) }
        return call
    }

    @discardableResult
    mutating func delete(_ id: ScheduleID) -> Bool {
        guard let row = rows.removeValue(forKey: id) else { return false }
        let repository = row.call.repositoryID
        byRepository[repository]?.removeAll { $0 == id }
        if byRepository[repository]?.isEmpty == true { byRepository[repository] = nil }
        compactIfNeeded()
        return true
    }

    mutating func earliestDueTime() -> Date? {
        dropStaleTop()
        return heap.first?.time
    }

    mutating func claimDue(until horizon: Date, at now: Date, limit: Int, scheduler: String) -> [ClaimedRun] {
        var claimed: [ClaimedRun] = []
        // Calls whose run claimed ahead is still to come: put back once the claim is done.
        var aheadAlready: [DueEntry] = []
        defer { for entry in aheadAlready { push(entry) } }
        while claimed.count < limit {
            dropStaleTop()
            guard let top = heap.first, top.time <= horizon else { break }
            popTop()
            guard let call = rows[top.id]?.call else { continue }
            if let last = call.lastRunAt, last > now {
                aheadAlready.append(top)
                continue
            }
            var run = call
            run.recordDispatch(at: max(call.nextDue, now), by: scheduler)
            rows[top.id]?.call = run
            index(top.id)
            claimed.append(ClaimedRun(call: run, previousRunAt: call.lastRunAt))
        }
        return claimed
    }

    // MARK: - Heap

    /// Gives the call a new version and, when it will be due, a heap entry for it.
    private mutating func index(_ id: ScheduleID) {
        guard let row = rows[id] else { return }
        nextVersion += 1
        rows[id]?.version = nextVersion
        if let time = row.call.dueTime {
            push(DueEntry(time: time, sequence: row.sequence, id: id, version: nextVersion))
        }
        compactIfNeeded()
    }

    private func isLive(_ entry: DueEntry) -> Bool { rows[entry.id]?.version == entry.version }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isLive(top) { popTop() }
    }

    /// Rebuilds the heap from the live calls when stale entries outnumber them.
    private mutating func compactIfNeeded() {
        guard heap.count > 2 * rows.count + 64 else { return }
        heap = heap.filter(isLive)
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func push(_ entry: DueEntry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard DueEntry.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        guard heap.count > 1 else {
            heap.removeAll(keepingCapacity: true)
            return
        }
        heap[0] = heap.removeLast()
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var best = left
            if left + 1 < heap.count, DueEntry.precedes(heap[left + 1], heap[left]) { best = left + 1 }
            guard DueEntry.precedes(heap[best], heap[parent]) else { return }
            heap.swapAt(best, parent)
            parent = best
        }
    }
}
