/// The decisions of one dispatcher's pool of workers, as a plain value: events in, actions out.
///
/// It knows how many tasks run here and whether the pool is idle, serving or draining; the dispatcher
/// calls it under a lock and carries out the actions (claiming, cancelling) outside the lock.
struct WorkerPoolStateMachine {
    enum Phase: Equatable {
        case idle
        case serving
        case draining(deadline: ContinuousClock.Instant)
    }

    /// What the dispatcher should do after a wake-up.
    enum WakeAction: Equatable {
        /// Claim up to this many tasks from the store.
        case claim(Int)
        /// Cancel the handlers of these tasks (the drain's grace period is over), then wait.
        case cancel([TaskID])
        /// Nothing runs and nothing may be claimed: stop.
        case stop
        /// Wait for the next wake-up.
        case wait
    }

    let workerCount: Int
    private(set) var phase = Phase.idle
    private(set) var running: Set<TaskID> = []
    private var cancelledForDrain: Set<TaskID> = []

    init(workerCount: Int) {
        self.workerCount = max(1, workerCount)
    }

    /// `run()` starts serving; `false` when the pool is already running.
    mutating func start() -> Bool {
        guard phase == .idle else { return false }
        phase = .serving
        return true
    }

    /// `run()` failed before serving: back to idle.
    mutating func abortStart() {
        if phase == .serving, running.isEmpty { phase = .idle }
    }

    /// The dispatcher woke up (a dispatch, a finished task, a poll tick): what now?
    mutating func wake(now: ContinuousClock.Instant) -> WakeAction {
        switch phase {
        case .idle:
            return .wait
        case .serving:
            let free = workerCount - running.count
            return free > 0 ? .claim(free) : .wait
        case .draining(let deadline):
            if running.isEmpty {
                phase = .idle
                cancelledForDrain = []
                return .stop
            }
            guard now >= deadline else { return .wait }
            // Past the deadline, cancel every run not yet cancelled, including runs a worker took on
            // just before the drain began.
            let uncancelled = running.subtracting(cancelledForDrain)
            guard !uncancelled.isEmpty else { return .wait }
            cancelledForDrain.formUnion(uncancelled)
            return .cancel(uncancelled.sorted())
        }
    }

    /// Tasks were claimed and are starting here.
    mutating func started(_ ids: [TaskID]) {
        running.formUnion(ids)
    }

    /// A worker finished `id` and went on to `next`, which it claimed itself.
    mutating func replace(_ id: TaskID, with next: TaskID) {
        running.remove(id)
        running.insert(next)
    }

    /// A task's run is over and recorded.
    mutating func finished(_ id: TaskID) {
        running.remove(id)
    }

    /// Stop claiming; let running tasks finish until `deadline`, then cancel them.
    mutating func drain(deadline: ContinuousClock.Instant) {
        if phase == .serving { phase = .draining(deadline: deadline) }
    }

    /// Whether the pool is still taking new work.
    var isServing: Bool { phase == .serving }

    /// Whether a worker is free to take a task.
    var hasFreeWorker: Bool { phase == .serving && running.count < workerCount }
}
