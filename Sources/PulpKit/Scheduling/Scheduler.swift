package import Foundation

/// How a ``Scheduler`` runs.
public struct SchedulerConfiguration: Sendable {
    /// The name this scheduler claims runs under, kept with each schedule it dispatches.
    public var name: String
    /// The most due schedules claimed in one store transaction; their runs are dispatched in one more.
    public var claimBatchSize: Int
    /// The longest this scheduler sleeps without looking at the store, or `nil` to sleep until the next due
    /// time or a change made through its ``ScheduleService``.
    ///
    /// Leave it `nil` when every process that changes schedules runs a scheduler (each sees its own changes
    /// at once, and the earliest due time is read from the shared store); set it when schedules are also
    /// changed by processes without one, so their changes are seen within this interval.
    public var refreshInterval: Duration?
    /// The first wait after the store failed; it doubles on each further failure, up to 30 s.
    public var retryDelay: Duration

    /// Creates a configuration; every value has a default.
    public init(
        name: String = SchedulerConfiguration.defaultName(),
        claimBatchSize: Int = 512,
        refreshInterval: Duration? = nil,
        retryDelay: Duration = .seconds(1)
    ) {
        self.name = name
        self.claimBatchSize = claimBatchSize
        self.refreshInterval = refreshInterval
        self.retryDelay = retryDelay
    }

    /// The configuration with every value made usable: batches of at least 1, a refresh
    /// interval and a retry delay of at least a millisecond.
    func normalized() -> SchedulerConfiguration {
        var copy = self
        copy.claimBatchSize = max(1, claimBatchSize)
        copy.refreshInterval = refreshInterval.map { max($0, .milliseconds(1)) }
        copy.retryDelay = min(max(retryDelay, .milliseconds(1)), .seconds(30))
        return copy
    }

    /// A name unique to this scheduler: `scheduler-<random>@<host>`.
    public static func defaultName() -> String {
        "scheduler-\(UUID().uuidString.prefix(8).lowercased())@\(ProcessInfo.processInfo.hostName)"
    }
}

/// What a ``Scheduler`` has done since it was created.
public struct SchedulerStatistics: Sendable, Hashable {
    /// How many times its loop woke up and looked at the store (the first look included).
    public var wakeUps = 0
    /// Runs dispatched as sync tasks.
    public var dispatched = 0
    /// Claimed runs whose dispatch was refused (counted as failures of their schedules).
    public var failedDispatches = 0
    /// Claimed schedules deleted because their repository or importer no longer exists.
    public var removedOrphans = 0
    /// Times the store could not be read or written (the loop then retries with backoff).
    public var storeErrors = 0

    /// Creates empty statistics.
    public init() {}
}

/// Where a ``Scheduler``'s loop went to sleep: after which pass, and until when (`nil`: until a change).
package struct SchedulerPause: Sendable, Hashable {
    /// The number of the pass that ended with this pause, from 1.
    package var pass: Int
    /// When the loop wakes up by itself.
    package var deadline: Date?
}

/// Dispatches scheduled syncs when they are due.
///
/// ``run()`` is the long-running loop: it sleeps on the service's clock until the earliest due time
/// (woken early when a schedule is created, changed or deleted through its ``ScheduleService``), claims
/// the due schedules from the store (several schedulers on one store never claim the same run), and
/// dispatches each as a sync task with its `override_config` and `scheduled_call_id`. The sync task
/// reserves its repository, so a run never overlaps another sync of it; the service counts the
/// outcomes. With nothing due it sleeps until a change, never polling. It stops when cancelled.
///
/// A run is claimed before it is dispatched, as Pulp persists `last_run_at` before sending: a process
/// that dies between the two loses that run (at most once per slot, never twice). A dispatch that is
/// refused (for example, an `override_config` the importer's configuration no longer accepts) counts
/// as a failure of the schedule; a schedule whose repository or importer is gone is deleted.
public final class Scheduler: Sendable {
    /// The schedules, their store and clock, and the sync service that dispatches runs.
    public let service: ScheduleService
    /// How this scheduler runs.
    public let configuration: SchedulerConfiguration
    private let doorbell = Doorbell()
    private let state = PulpMutex(LoopState())

    private struct LoopState {
        var started = false
        var finished = false
        var pass = 0
        var pause: SchedulerPause?
        var waiters: [(after: Int, continuation: CheckedContinuation<SchedulerPause?, Never>)] = []
        var statistics = SchedulerStatistics()
    }

    /// Creates a scheduler of `service`'s schedules; start it with ``run()``.
    public init(service: ScheduleService, configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        self.service = service
        self.configuration = configuration.normalized()
    }

    /// What this scheduler has done so far.
    public var statistics: SchedulerStatistics { state.withLock { $0.statistics } }

    private var clock: any WallClock { service.clock }

    /// Serves the schedules until cancelled, then returns; start it once.
    ///
    /// Runs already claimed when it is cancelled are still dispatched before it returns.
    ///
    /// - Throws: a 409 ``PulpError`` when it is already running or has run.
    public func run() async throws {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else {
            throw PulpError.conflict("This scheduler is already running; start run() once")
        }
        let token = service.addChangeListener { [doorbell] in doorbell.ring() }
        defer {
            service.removeChangeListener(token)
            let waiters = state.withLock { state in
                state.finished = true
                defer { state.waiters.removeAll() }
                return state.waiters.map(\.continuation)
            }
            for waiter in waiters { waiter.resume(returning: nil) }
        }
        var retryDelay = configuration.retryDelay
        while !Task.isCancelled {
            let pass = state.withLock { state in
                state.pass += 1
                state.statistics.wakeUps += 1
                state.pause = nil
                return state.pass
            }
            var deadline: Date?
            do {
                try await claimAndDispatch()
                deadline = try await service.store.earliestDueTime()
                retryDelay = configuration.retryDelay
            } catch {
                if Task.isCancelled { break }
                state.withLock { $0.statistics.storeErrors += 1 }
                deadline = clock.now.addingTimeInterval(Self.seconds(retryDelay))
                retryDelay = min(retryDelay * 2, .seconds(30))
            }
            if let refresh = configuration.refreshInterval {
                let limit = clock.now.addingTimeInterval(Self.seconds(refresh))
                deadline = min(deadline ?? limit, limit)
            }
            // Due again already: a full batch was claimed, or time moved on while dispatching.
            if let deadline, deadline <= clock.now { continue }
            announce(SchedulerPause(pass: pass, deadline: deadline))
            await pause(until: deadline)
        }
    }

    /// Returns the first pause of the loop after pass `pass` (0 for the first), once the loop is in it;
    /// `nil` when ``run()`` has ended. Tests and benchmarks use it to know the scheduler is idle.
    package func nextPause(after pass: Int) async -> SchedulerPause? {
        await withCheckedContinuation { continuation in
            let ready: SchedulerPause?? = state.withLock { state in
                if let pause = state.pause, pause.pass > pass { return .some(pause) }
                if state.finished { return .some(nil) }
                state.waiters.append((pass, continuation))
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    // MARK: - Loop

    /// Claims and dispatches due runs, batch after batch, until none is due.
    ///
    /// The first batch is small, so the first runs of a burst leave at once; batches then double up to
    /// ``SchedulerConfiguration/claimBatchSize``. The next batch is claimed while the current one is being
    /// dispatched. Every claimed run is dispatched, even when the loop is cancelled meanwhile.
    private func claimAndDispatch() async throws {
        let store = service.store
        let name = configuration.name
        var limit = min(16, configuration.claimBatchSize)
        var claimed = try await store.claimDue(at: clock.now, limit: limit, scheduler: name)
        while !claimed.isEmpty {
            let more = claimed.count == limit && !Task.isCancelled
            limit = min(limit * 2, configuration.claimBatchSize)
            let nextLimit = limit
            async let next = more ? store.claimDue(at: clock.now, limit: nextLimit, scheduler: name) : []
            await dispatch(claimed)
            claimed = try await next
        }
    }

    /// Dispatches claimed runs as sync tasks, stored in one transaction; a refusal counts as a failure of
    /// its schedule, and a schedule whose repository or importer is gone is deleted.
    private func dispatch(_ calls: [ScheduledCall]) async {
        let outcomes = await service.sync.syncScheduled(calls)
        var dispatched = 0
        for (call, outcome) in zip(calls, outcomes) {
            switch outcome {
            case .success:
                dispatched += 1
            case .failure(let error as PulpError) where error.code == .missingResource:
                await removeOrphan(call)
            case .failure:
                state.withLock { $0.statistics.failedDispatches += 1 }
                _ = try? await service.recordOutcome(of: call.id, succeeded: false)
            }
        }
        state.withLock { [dispatched] in $0.statistics.dispatched += dispatched }
    }

    private func removeOrphan(_ call: ScheduledCall) async {
        guard (try? await service.store.delete(call.id)) == true else { return }
        state.withLock { $0.statistics.removedOrphans += 1 }
    }

    private func announce(_ pause: SchedulerPause) {
        let ready = state.withLock { state in
            state.pause = pause
            let ready = state.waiters.filter { $0.after < pause.pass }.map(\.continuation)
            state.waiters.removeAll { $0.after < pause.pass }
            return ready
        }
        for waiter in ready { waiter.resume(returning: pause) }
    }

    /// Sleeps until `deadline` (forever when `nil`), a change, or cancellation, whichever comes first.
    private func pause(until deadline: Date?) async {
        let clock = self.clock
        let doorbell = self.doorbell
        await withTaskGroup(of: Void.self) { group in
            if let deadline {
                group.addTask { try? await clock.sleep(until: deadline) }
            }
            group.addTask {
                // Cancelling this wait (the deadline came first, or run() was cancelled) rings the bell to end it.
                await withTaskCancellationHandler {
                    await doorbell.wait()
                } onCancel: {
                    doorbell.ring()
                }
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
