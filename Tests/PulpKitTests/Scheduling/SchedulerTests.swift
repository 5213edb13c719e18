import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// The scheduler's loop on a manual clock (no real sleeps), except one short real-clock test.
struct SchedulerTests {
    static let importer = SchedulingTestImporter.type

    /// PULP2-SEMANTICS §1.2's worked examples, each created at 2014-01-27T22:15:00Z, with DESIGN.md's month
    /// rule: the dispatch times an ideal scheduler produces.
    static let workedExamples: [(String, [String])] = [
        ("PT1H", ["2014-01-27T22:15:00Z", "2014-01-27T23:15:00Z", "2014-01-28T00:15:00Z"]),
        (
            "R5/2014-01-27T21:41:50Z/PT1H",
            [
                "2014-01-27T22:15:00Z", "2014-01-27T22:41:50Z", "2014-01-27T23:41:50Z", "2014-01-28T00:41:50Z",
                "2014-01-28T01:41:50Z",
            ]
        ),
        ("2030-01-01T00:00:00Z/P1D", []),
        (
            "2014-01-31T00:00:00Z/P1M",
            ["2014-01-31T00:00:00Z", "2014-02-28T00:00:00Z", "2014-03-31T00:00:00Z", "2014-04-30T00:00:00Z"]
        ),
        ("PT1H/2014-01-27T21:41:50Z", ["2014-01-27T22:15:00Z", "2014-01-27T22:41:50Z", "2014-01-27T23:41:50Z"]),
    ]

    @Test(arguments: workedExamples)
    func dispatchesTheWorkedExamples(schedule: String, expected: [String]) async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let call = try await harness.schedule(schedule)
        let scheduler = Scheduler(service: harness.service, configuration: .noLeadTime)
        try await whileRunning(scheduler) {
            var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
            try await stepper.waitForPause()
            while try await harness.syncTasks(of: call.id).count < expected.count { try await stepper.step() }
            #expect(try await harness.dispatchTimes(of: call.id) == expected)
            let stored = try await harness.stored(call.id)
            #expect(stored.totalRunCount == expected.count)
            if schedule.hasPrefix("R5") {
                #expect(stored.remainingRuns == 0 && !stored.enabled)
                #expect(stepper.pause?.deadline == nil, "an exhausted schedule leaves nothing to wake up for")
            } else if expected.isEmpty {
                #expect(stepper.pause?.deadline == utc("2030-01-01T00:00:00Z"))
                #expect(harness.service.report(stored)["next_run"] == "2030-01-01T00:00:00Z")
            }
        }
    }

    @Test func rFiveCountsDownAtEachDispatchThenDisables() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let call = try await harness.schedule("R5/PT10M")
        let scheduler = Scheduler(service: harness.service, configuration: .noLeadTime)
        try await whileRunning(scheduler) {
            var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
            var remaining: [Int?] = []
            try await stepper.waitForPause()
            remaining.append(try await harness.stored(call.id).remainingRuns)
            for _ in 0..<4 {
                try await stepper.step()
                remaining.append(try await harness.stored(call.id).remainingRuns)
            }
            #expect(remaining == [4, 3, 2, 1, 0])
            let stored = try await harness.stored(call.id)
            #expect(!stored.enabled && stored.totalRunCount == 5)
            #expect(stepper.pause?.deadline == nil)
            // Re-enabling an exhausted schedule does not revive it.
            _ = try await harness.service.update(call.id, repository: "zoo", importer: Self.importer, enabled: true)
            try await stepper.waitForPause()
            #expect(stepper.pause?.deadline == nil)
            harness.manualClock.advance(by: 86_400)
            #expect(try await harness.syncTasks(of: call.id).count == 5)
        }
    }

    @Test func afterALongGapDispatchesExactlyOneCatchUpRunThenReturnsToTheGrid() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let call = try await harness.schedule("PT1H")
        let scheduler = Scheduler(service: harness.service, configuration: .noLeadTime)
        try await whileRunning(scheduler) {
            var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
            try await stepper.waitForPause()
            // The scheduler sleeps until 23:15; time jumps ten hours past it (a suspended host, a stall).
            let next = try await stepper.advance(to: utc("2014-01-28T08:35:00Z"))
            #expect(next == utc("2014-01-28T09:15:00Z"))
            try await stepper.step()
            #expect(
                try await harness.dispatchTimes(of: call.id) == [
                    "2014-01-27T22:15:00Z", "2014-01-28T08:35:00Z", "2014-01-28T09:15:00Z",
                ]
            )
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func aRestartedSchedulerCatchesUpOnceForTheWholeDowntime(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try SchedulingHarness(store: try backend.scheduleStore(in: directory))
        try await harness.addRepositories()
        let hourly = try await harness.schedule("PT1H")
        let daily = try await harness.schedule("2014-01-27T06:00:00Z/P1D")
        let first = Scheduler(service: harness.service, configuration: .noLeadTime)
        try await whileRunning(first) {
            _ = await first.nextPause(after: 0)
        }
        harness.manualClock.advance(to: utc("2014-01-30T12:30:00Z"))
        let second = Scheduler(service: harness.service, configuration: .noLeadTime)
        let deadline = try await whileRunning(second) {
            var stepper = SchedulerStepper(second, clock: harness.manualClock)
            return try await stepper.waitForPause()
        }
        #expect(deadline == utc("2014-01-30T13:15:00Z"))
        #expect(try await harness.dispatchTimes(of: hourly.id) == ["2014-01-27T22:15:00Z", "2014-01-30T12:30:00Z"])
        #expect(try await harness.dispatchTimes(of: daily.id) == ["2014-01-27T22:15:00Z", "2014-01-30T12:30:00Z"])
        #expect(try await harness.stored(daily.id).nextDue == utc("2014-01-31T06:00:00Z"))
    }

    @Test func dispatchesASyncTaskWithTheOverridesAndTheScheduleID() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let call = try await harness.schedule("PT1H", overrideConfig: ["flavour": "mild", "remove_missing": true])
        let scheduler = Scheduler(service: harness.service)
        try await whileRunning(scheduler) {
            _ = await scheduler.nextPause(after: 0)
        }
        let task = try #require(try await harness.syncTasks(of: call.id).first)
        #expect(task.name == SyncService.syncTask.name)
        #expect(
            task.arguments == [
                "repo_id": "zoo", "sync_config_override": ["flavour": "mild", "remove_missing": true],
                "scheduled_call_id": .string(call.id.rawValue),
            ]
        )
        #expect(task.resources == ["pulp:repository:zoo"])
        #expect(task.tags == ["pulp:repository:zoo", "pulp:action:sync"])
        let stored = try await harness.stored(call.id)
        #expect(stored.lastRunAt == utc("2014-01-27T22:15:00Z") && stored.lastClaimedBy == scheduler.configuration.name)
        #expect(stored.lastUpdated == call.lastUpdated, "a dispatch leaves last_updated alone")
        #expect(scheduler.statistics.dispatched == 1)
    }

    @Test func failuresDisableAtTheThresholdAndStayDisabledUntilReEnabled() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let completions = CompletionRecorder(harness.dispatcher)
        harness.importer.setOutcome(.raise)
        let call = try await harness.schedule("PT1H", failureThreshold: 3)
        let scheduler = Scheduler(service: harness.service, configuration: .noLeadTime)
        try await whileServing(harness.dispatcher) {
            try await whileRunning(scheduler) {
                var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
                try await stepper.waitForPause()
                var counters: [Int] = []
                for run in 1...3 {
                    if run > 1 { try await stepper.step() }
                    let done = await completions.waitFor(run)
                    #expect(done.last?.state == .error)
                    counters.append(try await harness.stored(call.id).consecutiveFailures)
                }
                #expect(counters == [1, 2, 3])
                #expect(try await !harness.stored(call.id).enabled)
                // Disabled: its next slot (if the scheduler still had it in view) dispatches nothing, and it
                // leaves nothing to wake for.
                if stepper.pause?.deadline != nil { try await stepper.step() }
                #expect(stepper.pause?.deadline == nil)
                harness.manualClock.advance(by: 86_400)
                #expect(try await harness.syncTasks(of: call.id).count == 3)
                // Re-enabling keeps the counter, so the next failure disables it again.
                let enabled = try await harness.service.update(
                    call.id,
                    repository: "zoo",
                    importer: Self.importer,
                    enabled: true
                )
                #expect(enabled.consecutiveFailures == 3)
                try await stepper.waitForPause()
                _ = await completions.waitFor(4)
                let stored = try await harness.stored(call.id)
                #expect(stored.consecutiveFailures == 4 && !stored.enabled)
                #expect(try await harness.dispatchTimes(of: call.id).count == 4)
            }
        }
    }

    @Test func successResetsTheFailureCounter() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let completions = CompletionRecorder(harness.dispatcher)
        let call = try await harness.schedule("PT1H", failureThreshold: 3)
        let scheduler = Scheduler(service: harness.service, configuration: .noLeadTime)
        var counters: [Int] = []
        try await whileServing(harness.dispatcher) {
            try await whileRunning(scheduler) {
                var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
                let outcomes: [SchedulingTestImporter.Outcome] = [
                    .raise, .reportFailure, .succeed, .raise, .raise, .succeed,
                ]
                for (index, outcome) in outcomes.enumerated() {
                    harness.importer.setOutcome(outcome)
                    if index == 0 { try await stepper.waitForPause() } else { try await stepper.step() }
                    _ = await completions.waitFor(index + 1)
                    counters.append(try await harness.stored(call.id).consecutiveFailures)
                }
            }
        }
        #expect(counters == [1, 2, 0, 1, 2, 0])
        #expect(try await harness.stored(call.id).enabled)
    }

    @Test func aCancelledRunCountsAsASuccess() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let call = try await harness.schedule("PT1H", failureThreshold: 3)
        try await harness.service.recordOutcome(of: call.id, succeeded: false)
        try await harness.service.recordOutcome(of: call.id, succeeded: false)
        let scheduler = Scheduler(service: harness.service)
        try await whileRunning(scheduler) {
            _ = await scheduler.nextPause(after: 0)
        }
        let task = try #require(try await harness.syncTasks(of: call.id).first)
        try await harness.dispatcher.cancel(task.id)
        #expect(try await harness.stored(call.id).consecutiveFailures == 0)
    }

    @Test func aRefusedDispatchCountsAsAFailure() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let call = try await harness.schedule("PT1H", overrideConfig: ["flavour": "mild"], failureThreshold: 2)
        harness.importer.refuseFlavours()
        let scheduler = Scheduler(service: harness.service)
        try await whileRunning(scheduler) {
            var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
            try await stepper.waitForPause()
            try await stepper.step()
        }
        let stored = try await harness.stored(call.id)
        #expect(stored.consecutiveFailures == 2 && !stored.enabled && stored.totalRunCount == 2)
        #expect(try await harness.syncTasks(of: call.id).isEmpty)
        #expect(scheduler.statistics.failedDispatches == 2)
    }

    @Test func aScheduleWhoseRepositoryIsGoneIsDeletedInsteadOfDispatched() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        // Stored behind the service's back, as a process without the cascade might leave it.
        let orphan = try ScheduledCall(
            repositoryID: "gone",
            importerID: Self.importer,
            schedule: "PT1H",
            createdAt: harness.clock.now
        )
        let foreign = try ScheduledCall(
            repositoryID: "zoo",
            importerID: "yum_importer",
            schedule: "PT1H",
            createdAt: harness.clock.now
        )
        try await harness.service.store.insert(orphan)
        try await harness.service.store.insert(foreign)
        let scheduler = Scheduler(service: harness.service)
        try await whileRunning(scheduler) {
            _ = await scheduler.nextPause(after: 0)
        }
        #expect(try await harness.service.store.call(orphan.id) == nil)
        #expect(try await harness.service.store.call(foreign.id) == nil)
        #expect(scheduler.statistics.removedOrphans == 2)
        #expect(try await harness.dispatcher.store.tasks(inGroup: nil).isEmpty)
    }

    @Test func oneBatchDispatchesTheGoodRunsTogetherAndSettlesTheOthersOneByOne() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let good = try await harness.schedule("PT1H")
        let alsoGood = try await harness.schedule("PT1H", repository: "farm")
        let refused = try await harness.schedule("PT1H", overrideConfig: ["flavour": "mild"], failureThreshold: 5)
        let orphan = try ScheduledCall(
            repositoryID: "gone",
            importerID: Self.importer,
            schedule: "PT1H",
            createdAt: harness.clock.now
        )
        try await harness.service.store.insert(orphan)
        harness.importer.refuseFlavours()
        let scheduler = Scheduler(service: harness.service)
        try await whileRunning(scheduler) {
            _ = await scheduler.nextPause(after: 0)
        }
        let goodTasks = try await harness.syncTasks(of: good.id) + harness.syncTasks(of: alsoGood.id)
        #expect(goodTasks.count == 2)
        // Stored in one transaction: one submit time, consecutive sequence numbers.
        #expect(Set(goodTasks.map(\.submitTime)).count == 1)
        #expect(
            goodTasks.map(\.tags) == [
                ["pulp:repository:zoo", "pulp:action:sync"], ["pulp:repository:farm", "pulp:action:sync"],
            ]
        )
        #expect(try await harness.syncTasks(of: refused.id).isEmpty)
        #expect(try await harness.stored(refused.id).consecutiveFailures == 1)
        #expect(try await harness.service.store.call(orphan.id) == nil)
        let statistics = scheduler.statistics
        #expect(statistics.dispatched == 2 && statistics.failedDispatches == 1 && statistics.removedOrphans == 1)
    }

    @Test func wakesOnceForEachChangeAndNeverWhileIdle() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        let scheduler = Scheduler(service: harness.service, configuration: .noLeadTime)
        try await whileRunning(scheduler) {
            var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
            #expect(try await stepper.waitForPause() == nil, "with no schedules it waits for a change")
            // A far-future schedule: one wake-up, then a sleep until its start.
            let future = try await harness.schedule("2030-01-01T00:00:00Z/P1D")
            #expect(try await stepper.waitForPause() == utc("2030-01-01T00:00:00Z"))
            // A schedule due now is dispatched at once, without waiting for the clock.
            let now = try await harness.schedule("PT1H")
            #expect(try await stepper.waitForPause() == utc("2014-01-27T23:15:00Z"))
            #expect(try await harness.syncTasks(of: now.id).count == 1)
            // An update that moves the earliest due time, then a delete.
            _ = try await harness.service.update(now.id, repository: "zoo", importer: Self.importer, enabled: false)
            #expect(try await stepper.waitForPause() == utc("2030-01-01T00:00:00Z"))
            try await harness.service.delete(future.id, repository: "zoo", importer: Self.importer)
            #expect(try await stepper.waitForPause() == nil)
            #expect(scheduler.statistics.wakeUps == 5, "one wake-up at start and one per change")
            harness.manualClock.advance(by: 3 * 86_400)
            #expect(scheduler.statistics.wakeUps == 5)
            #expect(harness.manualClock.sleeperCount == 0, "idle with nothing due, it sleeps on no timer")
        }
    }

    @Test func runsOnceAndStopsWhenCancelled() async throws {
        let harness = try SchedulingHarness()
        try await harness.addRepositories()
        _ = try await harness.schedule("2030-01-01T00:00:00Z/P1D")
        let scheduler = Scheduler(service: harness.service)
        let running = Task { try await scheduler.run() }
        _ = await scheduler.nextPause(after: 0)
        let again = await #expect(throws: PulpError.self) { try await scheduler.run() }
        #expect(again?.httpStatus == 409)
        running.cancel()
        try await running.value
        #expect(await scheduler.nextPause(after: 1) == nil)
        #expect(harness.manualClock.sleeperCount == 0)
    }

    /// Two schedulers, each with its own connection to one SQLite file (as two processes would have),
    /// race for the same 1,000 slots: 10 `PT1S` schedules over 100 seconds, claimed 3 at a time, when
    /// due or a second ahead.
    @Test(arguments: [0, 1])
    func twoSchedulersOnOneSQLiteFileDispatchEverySlotExactlyOnce(leadSeconds: Int) async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("schedules.db")
        let clock = ManualWallClock()
        let tasks = InMemoryTaskStore()
        let repositories = InMemoryRepositoryStore()
        let harnesses = try [0, 1].map { _ in
            try SchedulingHarness(
                store: try SQLiteScheduleStore(path: path),
                clock: clock,
                taskStore: tasks,
                repositoryStore: repositories
            )
        }
        try await harnesses[0].addRepositories()
        var calls: [ScheduledCall] = []
        for index in 0..<10 {
            calls.append(try await harnesses[index % 2].schedule("PT1S", repository: index < 5 ? "zoo" : "farm"))
        }
        let schedulers = harnesses.enumerated().map { index, harness in
            Scheduler(
                service: harness.service,
                configuration: .init(
                    name: "scheduler-\(index)",
                    claimBatchSize: 3,
                    leadTime: .seconds(leadSeconds)
                )
            )
        }
        let slots = 100
        try await whileRunning(schedulers[0]) {
            try await whileRunning(schedulers[1]) {
                var passes = [0, 0]
                for slot in 0..<slots {
                    if slot > 0 { clock.advance(by: 1) }
                    for index in 0..<2 {
                        let pause = try #require(await schedulers[index].nextPause(after: passes[index]))
                        passes[index] = pause.pass
                    }
                    // Both asleep, so every run of this slot (and of the next, a second ahead) is claimed.
                    #expect(
                        try await harnesses[0].service.store.earliestDueTime() == clock.now + 1 + Double(leadSeconds)
                    )
                }
            }
        }
        let start = ScheduleStoreConformance.start
        let expected = (0..<slots).map { ISO8601DateTime.utcString(start + Double($0)) }
        for call in calls {
            #expect(try await harnesses[0].dispatchTimes(of: call.id) == expected)
            #expect(try await harnesses[1].stored(call.id).totalRunCount == slots)
        }
        let dispatched = schedulers.map(\.statistics.dispatched)
        #expect(dispatched.reduce(0, +) == calls.count * slots)
        #expect(dispatched.allSatisfy { $0 > 0 }, "both schedulers claimed runs: \(dispatched)")
    }

    /// A real clock: a `PT1S` schedule's next run after the first pause (due on the next whole second) is
    /// dispatched within 100 ms of its due time.
    ///
    /// A plain task sleeping until the same instant is the control: when the whole test run keeps the
    /// machine's cores busy, every task wakes late, so the bound is 100 ms after the control woke.
    ///
    /// A shared CI machine can stall the whole process for longer than the bound even so; the measurement is
    /// taken up to three times and fails only when every attempt misses.
    @Test func aOneSecondScheduleFiresWithinOneHundredMillisecondsOnTheRealClock() async throws {
        var misses: [String] = []
        for _ in 0..<3 {
            let (lateness, bound) = try await measureOneSecondScheduleLateness()
            if lateness >= 0 && lateness < bound { return }
            misses.append(
                "dispatched \(lateness * 1000) ms after its due time; the control woke \((bound - 0.1) * 1000) ms late"
            )
        }
        Issue.record("every attempt missed: \(misses)")
    }

    /// One real-clock measurement: how late the run was dispatched, and the bound it must be under.
    private func measureOneSecondScheduleLateness() async throws -> (lateness: Double, bound: Double) {
        let clock = SystemWallClock()
        let harness = try SchedulingHarness(clock: clock)
        try await harness.addRepositories()
        let call = try await harness.schedule("PT1S")
        let scheduler = Scheduler(service: harness.service)
        let (due, task, control) = try await whileRunning(scheduler) {
            // The first pass dispatches the first run at once (two, when it straddles a second) and sleeps
            // until the next one is due.
            let first = try #require(await scheduler.nextPause(after: 0))
            let due = try #require(first.deadline)
            async let control: Date = {
                try await clock.sleep(until: due)
                return clock.now
            }()
            let before = try await harness.syncTasks(of: call.id).count
            var pass = first.pass
            while try await harness.syncTasks(of: call.id).count <= before {
                pass = try #require(await scheduler.nextPause(after: pass)).pass
            }
            return (due, try await harness.syncTasks(of: call.id)[before], try await control)
        }
        #expect(call.grid.lastOccurrence(atOrBefore: due)?.date == due, "the run is due on the grid")
        let lateness = task.submitTime.timeIntervalSince(due)
        let bound = max(control.timeIntervalSince(due), 0) + 0.1
        return (lateness, bound)
    }
}
