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
    /// How long before their due time runs are claimed and their sync tasks stored, held back from
    /// workers, so that at the due time only the release of the hold is left (one small store write
    /// whatever the number of runs); `.zero` claims runs when they are due.
    ///
    /// A run claimed ahead is submitted at its due time, never before, unless its schedule is changed,
    /// disabled or deleted through the service in the meantime: then its task is withdrawn, its claim
    /// undone, and the change applies as if it had been made before the claim. If the process dies in
    /// this window, the held tasks are released once the dispatcher's worker timeout has passed since their
    /// due time: the runs are late, neither lost nor doubled.
    public var leadTime: Duration

    /// Creates a configuration; every value has a default.
    public init(
        name: String = SchedulerConfiguration.defaultName(),
        claimBatchSize: Int = 512,
        refreshInterval: Duration? = nil,
        retryDelay: Duration = .seconds(1),
        leadTime: Duration = .seconds(1)
    ) {
        self.name = name
        self.claimBatchSize = claimBatchSize
        self.refreshInterval = refreshInterval
        self.retryDelay = retryDelay
        self.leadTime = leadTime
    }

    /// The configuration with every value made usable: batches of at least 1, a refresh
    /// interval and a retry delay of at least a millisecond.
    func normalized() -> SchedulerConfiguration {
        var copy = self
        copy.claimBatchSize = max(1, claimBatchSize)
        copy.refreshInterval = refreshInterval.map { max($0, .milliseconds(1)) }
        copy.retryDelay = min(max(retryDelay, .milliseconds(1)), .seconds(30))
        copy.leadTime = max(leadTime, .zero)
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
    /// Runs claimed ahead that were not submitted because their schedule changed, was disabled or was
    /// deleted before their due time.
    public var voidedRuns = 0
    /// Runs claimed ahead that were given back (their tasks withdrawn, their claims undone) because the
    /// scheduler stopped before their due time.
    public var releasedRuns = 0

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

/// One submission of due runs, the release of their held tasks: what the lateness benchmark reads.
package struct SchedulerSubmission: Sendable, Hashable {
    /// The latest due time among the runs.
    package var dueTime: Date
    /// When the release began, and when it had committed: from then on workers and reads see the tasks.
    package var started: Date
    package var released: Date
    /// How many tasks it released.
    package var count: Int
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
/// Runs are claimed ``SchedulerConfiguration/leadTime`` ahead of their due time and their sync tasks stored
/// at once, held back from workers and reads (``TaskDispatcher/hold(_:forSubmissionAt:)``); at the due time
/// one small store write releases them all. A run is claimed before its task is stored, as Pulp persists
/// `last_run_at` before sending: a process that dies between the two loses that run (at most once per slot,
/// never twice). A change to a schedule made through the service before its claimed run is submitted
/// voids the run: its task is withdrawn and its claim undone. A dispatch that is refused (for example, an
/// `override_config` the importer's configuration no longer accepts) counts as a failure of the schedule;
/// a schedule whose repository or importer is gone is deleted.
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
        var submissions: [SchedulerSubmission] = []
    }

    /// A claimed run made ready: its sync task held, its claim kept pending by the service under `token`.
    private struct ReadyRun: Sendable {
        var token: Int
        var dueTime: Date
        var id: ScheduleID
        var task: TaskID
        var hold: TaskHoldID
        /// `nil` until the service hands the run over at its due time; then whether a change voided it.
        var voided: Bool?
    }

    /// Creates a scheduler of `service`'s schedules; start it with ``run()``.
    public init(service: ScheduleService, configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        self.service = service
        self.configuration = configuration.normalized()
    }

    /// What this scheduler has done so far.
    public var statistics: SchedulerStatistics { state.withLock { $0.statistics } }

    /// The latest submissions of due runs (up to 1,024), oldest first.
    package var submissions: [SchedulerSubmission] { state.withLock { $0.submissions } }

    private var clock: any WallClock { service.clock }

    /// Serves the schedules until cancelled, then returns; start it once.
    ///
    /// When it is cancelled, runs already due are still dispatched before it returns; the claims of runs
    /// not yet due are undone, so they are due again for any scheduler.
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
        var ready: [ReadyRun] = []
        while !Task.isCancelled {
            let pass = state.withLock { state in
                state.pass += 1
                state.statistics.wakeUps += 1
                state.pause = nil
                return state.pass
            }
            var deadline: Date?
            do {
                let claimed = try await claimAndPrepare(&ready)
                try await submitDue(&ready)
                let lead = Self.seconds(configuration.leadTime)
                deadline = try await service.store.earliestDueTime().map { $0.addingTimeInterval(-lead) }
                if claimed == 0, let early = deadline, early <= clock.now {
                    // Due within the lead time but not claimable: each such call has a run claimed ahead still
                    // to come (a call has one at a time), here or by another scheduler. Look again once that
                    // run is due here, or a lead time from now.
                    deadline = clock.now.addingTimeInterval(lead)
                }
                if let first = ready.first?.dueTime { deadline = min(deadline ?? first, first) }
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
        try? await submitDue(&ready)
        // Runs not yet due are given back; due ones whose release failed run when their holds expire.
        let notDue = ready.filter { $0.voided == nil }
        let undone = await service.giveBack(
            notDue.map(\.token),
            withdrawing: notDue.map(\.task),
            holds: Self.holds(of: notDue[...])
        )
        state.withLock { $0.statistics.releasedRuns += undone }
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

    /// Claims the runs due within the lead time, batch after batch, and holds each batch's tasks; runs that
    /// fall due meanwhile are released between batches. Refused runs count as failures of their schedules
    /// once the batches are done. Returns how many runs were claimed.
    ///
    /// The first batch is small, so the first runs of a burst are ready at once; batches then double up to
    /// ``SchedulerConfiguration/claimBatchSize``. The next batch is claimed while the current one is being
    /// held. Every claimed run is made ready, even when the loop is cancelled meanwhile. Changes that void
    /// runs wait until the batches are done (``ScheduleService/exclusively(_:)``).
    private func claimAndPrepare(_ ready: inout [ReadyRun]) async throws -> Int {
        var claimedCount = 0
        var refused: [ScheduleID] = []
        defer { state.withLock { [count = refused.count] in $0.statistics.failedDispatches += count } }
        let outcome = await Result {
            try await service.exclusively {
                var limit = min(16, configuration.claimBatchSize)
                var claimed = try await claim(limit: limit)
                while !claimed.isEmpty {
                    claimedCount += claimed.count
                    let more = claimed.count == limit && !Task.isCancelled
                    limit = min(limit * 2, configuration.claimBatchSize)
                    let nextLimit = limit
                    async let next = more ? claim(limit: nextLimit) : []
                    refused += await prepare(claimed, into: &ready)
                    try await submitDue(&ready)
                    claimed = try await next
                }
            }
        }
        // Outside the batches: recording an outcome may void runs, which waits for them to end.
        for id in refused { _ = try? await service.recordOutcome(of: id, succeeded: false) }
        try outcome.get()
        return claimedCount
    }

    /// Claims up to `limit` runs due within the lead time; each is held by the service, under the token
    /// given with it, from inside the claim's transaction.
    private func claim(limit: Int) async throws -> [(run: ClaimedRun, token: Int)] {
        let service = self.service
        let now = clock.now
        let tokens = PulpMutex<[Int]>([])
        do {
            let runs = try await service.store.claimDue(
                until: now.addingTimeInterval(Self.seconds(configuration.leadTime)),
                at: now,
                limit: limit,
                scheduler: configuration.name
            ) { runs in
                let held = service.holdPending(runs)
                tokens.withLock { $0 = held }
            }
            return Array(zip(runs, tokens.withLock { $0 }))
        } catch {
            // The claim did not commit: its runs were never claimed, so nothing is held for them.
            _ = service.takePending(tokens.withLock { $0 })
            throw error
        }
    }

    /// Makes claimed runs ready: checks each as a sync of its repository and holds its task, one hold per
    /// due time. Returns the schedules whose runs were refused, to count as failures; a schedule whose
    /// repository or importer is gone is deleted.
    private func prepare(_ runs: [(run: ClaimedRun, token: Int)], into ready: inout [ReadyRun]) async -> [ScheduleID] {
        let requests = await service.sync.scheduledRequests(runs.map(\.run.call))
        var accepted: [(run: ClaimedRun, token: Int, request: TaskRequest)] = []
        var refused: [ScheduleID] = []
        for (entry, request) in zip(runs, requests) {
            switch request {
            case .success(let request):
                accepted.append((entry.run, entry.token, request))
            case .failure(let error as PulpError) where error.code == .missingResource:
                _ = service.takePending([entry.token])
                await removeOrphan(entry.run.call)
            case .failure:
                _ = service.takePending([entry.token])
                refused.append(entry.run.id)
            }
        }
        let dispatcher = service.sync.dispatcher
        var added: [ReadyRun] = []
        var start = 0
        while start < accepted.count {
            // One hold per due time: the runs of a claim come in due order, so each due time is one stretch.
            let dueTime = accepted[start].run.dueTime
            var end = start + 1
            while end < accepted.count, accepted[end].run.dueTime == dueTime { end += 1 }
            let group = accepted[start..<end]
            start = end
            func keep(_ entry: (run: ClaimedRun, token: Int, request: TaskRequest), _ task: TaskID, _ hold: TaskHold) {
                added.append(
                    ReadyRun(token: entry.token, dueTime: dueTime, id: entry.run.id, task: task, hold: hold.id)
                )
            }
            if let hold = try? await dispatcher.hold(group.map(\.request), forSubmissionAt: dueTime) {
                for (entry, task) in zip(group, hold.tasks) { keep(entry, task, hold) }
                continue
            }
            // Each was checked above, so this is rare: each then gets its own answer.
            for entry in group {
                if let hold = try? await dispatcher.hold([entry.request], forSubmissionAt: dueTime) {
                    keep(entry, hold.tasks[0], hold)
                } else {
                    _ = service.takePending([entry.token])
                    refused.append(entry.run.id)
                }
            }
        }
        service.attachTasks(added.map { ($0.token, $0.task) })
        let sorted = ready.last.map { last in added.allSatisfy { $0.dueTime >= last.dueTime } } ?? true
        ready += added
        if !sorted { ready.sort { $0.dueTime < $1.dueTime } }
        return refused
    }

    /// Releases the held tasks of the ready runs that are due, in one store write that first withdraws the
    /// tasks of runs a change voided. A release the store refuses is retried on the next pass; should it
    /// never succeed, the holds expire and their runs are late.
    private func submitDue(_ ready: inout [ReadyRun]) async throws {
        let now = clock.now
        var count = 0
        while count < ready.count, ready[count].dueTime <= now { count += 1 }
        guard count > 0 else { return }
        // The service hands each run over once; a retried release reuses the answers.
        let unasked = (0..<count).filter { ready[$0].voided == nil }
        for (index, pending) in zip(unasked, service.takePending(unasked.map { ready[$0].token })) {
            ready[index].voided = !pending
        }
        let due = ready[..<count]
        let withdrawn = due.filter { $0.voided == true }.map(\.task)
        _ = try await service.sync.dispatcher.release(Self.holds(of: due), withdrawing: withdrawn)
        let submission = SchedulerSubmission(
            dueTime: ready[count - 1].dueTime,
            started: now,
            released: clock.now,
            count: count - withdrawn.count
        )
        ready.removeFirst(count)
        state.withLock { state in
            state.statistics.dispatched += submission.count
            state.statistics.voidedRuns += withdrawn.count
            state.submissions.append(submission)
            if state.submissions.count > 1_024 { state.submissions.removeFirst(512) }
        }
    }

    /// The holds of `runs`, each once, in order.
    private static func holds(of runs: ArraySlice<ReadyRun>) -> [TaskHoldID] {
        var seen: Set<TaskHoldID> = []
        return runs.map(\.hold).filter { seen.insert($0).inserted }
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
                group.addTask { try? await Self.sleep(clock, until: deadline) }
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

    /// Sleeps until `deadline`, waking close to it: a long timer may fire up to a tenth of its length late
    /// (dispatch's default leeway, 100 ms for a 1 s sleep), so the sleep is taken in steps that each stop a
    /// tenth of what is left before the deadline, and the last few milliseconds in one.
    private static func sleep(_ clock: any WallClock, until deadline: Date) async throws {
        while true {
            let remaining = deadline.timeIntervalSince(clock.now)
            guard remaining > 0.005 else { break }
            try await clock.sleep(until: deadline.addingTimeInterval(-remaining / 10))
        }
        try await clock.sleep(until: deadline)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
