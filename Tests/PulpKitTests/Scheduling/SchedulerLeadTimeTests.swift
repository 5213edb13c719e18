import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// Runs claimed a lead time ahead of their due time (the default, one second), on a manual clock.
struct SchedulerLeadTimeTests {
    static let importer = SchedulingTestImporter.type

    /// A `PT1H` schedule created at 22:15:00 (the harness's start): its first run leaves at once, the next is
    /// claimed at 23:14:59 and submitted at 23:15:00. Returns the stepper paused after the claim.
    private func claimSecondRun(
        _ harness: SchedulingHarness,
        _ scheduler: Scheduler,
        _ call: ScheduledCall
    ) async throws -> SchedulerStepper {
        var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
        #expect(try await stepper.waitForPause() == utc("2014-01-27T23:14:59Z"))
        #expect(try await harness.syncTasks(of: call.id).count == 1)
        // Claimed a second ahead: the bookkeeping is recorded, the task is not submitted yet.
        #expect(try await stepper.step() == utc("2014-01-27T23:15:00Z"))
        #expect(try await harness.syncTasks(of: call.id).count == 1)
        #expect(try await harness.stored(call.id).totalRunCount == 2)
        return stepper
    }

    /// A harness with a schedule of `zoo` and a scheduler of it, not yet running.
    private func scheduled(
        _ schedule: String,
        overrideConfig: [String: JSONValue] = [:],
        taskStore: any TaskStore = InMemoryTaskStore()
    ) async throws -> (SchedulingHarness, ScheduledCall, Scheduler) {
        let harness = try SchedulingHarness(taskStore: taskStore)
        try await harness.addRepositories()
        let call = try await harness.schedule(schedule, overrideConfig: overrideConfig)
        return (harness, call, Scheduler(service: harness.service))
    }

    @Test func runsClaimedAheadAreSubmittedAtTheirDueTimeNotBefore() async throws {
        let (harness, call, scheduler) = try await scheduled("PT1H", overrideConfig: ["flavour": "mild"])
        try await whileRunning(scheduler) {
            var stepper = try await claimSecondRun(harness, scheduler, call)
            harness.manualClock.advance(to: utc("2014-01-27T23:14:59Z").addingTimeInterval(0.999))
            #expect(try await harness.syncTasks(of: call.id).count == 1, "not before its due time")
            #expect(try await stepper.step() == utc("2014-01-28T00:14:59Z"))
            #expect(
                try await harness.dispatchTimes(of: call.id) == ["2014-01-27T22:15:00Z", "2014-01-27T23:15:00Z"]
            )
            let task = try #require(try await harness.syncTasks(of: call.id).last)
            #expect(task.submitTime == utc("2014-01-27T23:15:00Z"))
            #expect(task.arguments["sync_config_override"] == ["flavour": "mild"])
            let stored = try await harness.stored(call.id)
            #expect(stored.lastRunAt == utc("2014-01-27T23:15:00Z") && stored.totalRunCount == 2)
            #expect(scheduler.statistics.dispatched == 2 && scheduler.statistics.voidedRuns == 0)
        }
    }

    @Test func anUpdateInsideTheLeadWindowAppliesToTheRunAsIfMadeBeforeItsClaim() async throws {
        let (harness, call, scheduler) = try await scheduled("PT1H", overrideConfig: ["flavour": "mild"])
        try await whileRunning(scheduler) {
            var stepper = try await claimSecondRun(harness, scheduler, call)
            let updated = try await harness.service.update(
                call.id,
                repository: "zoo",
                importer: Self.importer,
                overrideConfig: ["flavour": "hot"]
            )
            // The claim is undone, then claimed again with the new configuration for the same slot.
            #expect(updated.totalRunCount == 1 && updated.lastRunAt == utc("2014-01-27T22:15:00Z"))
            #expect(try await stepper.waitForPause() == utc("2014-01-27T23:15:00Z"))
            try await stepper.step()
            let tasks = try await harness.syncTasks(of: call.id)
            #expect(tasks.count == 2)
            #expect(tasks.last?.submitTime == utc("2014-01-27T23:15:00Z"))
            #expect(tasks.last?.arguments["sync_config_override"] == ["flavour": "hot"])
            #expect(try await harness.stored(call.id).totalRunCount == 2)
            #expect(scheduler.statistics.voidedRuns == 1)
        }
    }

    @Test func aScheduleDisabledInsideTheLeadWindowIsNotDispatched() async throws {
        let (harness, call, scheduler) = try await scheduled("R3/PT1H")
        try await whileRunning(scheduler) {
            var stepper = try await claimSecondRun(harness, scheduler, call)
            _ = try await harness.service.update(call.id, repository: "zoo", importer: Self.importer, enabled: false)
            #expect(try await stepper.waitForPause() == utc("2014-01-27T23:15:00Z"))
            try await stepper.step()
            harness.manualClock.advance(by: 86_400)
            #expect(try await harness.dispatchTimes(of: call.id) == ["2014-01-27T22:15:00Z"])
            let stored = try await harness.stored(call.id)
            #expect(stored.totalRunCount == 1 && stored.remainingRuns == 2 && !stored.enabled)
            #expect(stored.lastRunAt == utc("2014-01-27T22:15:00Z"))
            #expect(stored.nextDue == utc("2014-01-27T23:15:00Z"))
        }
    }

    @Test func aScheduleDeletedInsideTheLeadWindowIsNotDispatched() async throws {
        let (harness, call, scheduler) = try await scheduled("PT1H")
        try await whileRunning(scheduler) {
            var stepper = try await claimSecondRun(harness, scheduler, call)
            try await harness.service.delete(call.id, repository: "zoo", importer: Self.importer)
            try await stepper.waitForPause()
            harness.manualClock.advance(to: utc("2014-01-27T23:15:00Z"))
            try await stepper.waitForPause()
            #expect(try await harness.syncTasks(of: call.id).count == 1)
            #expect(scheduler.statistics.voidedRuns == 1 && scheduler.statistics.dispatched == 1)
        }
    }

    @Test func aStoppedSchedulerGivesBackTheRunsItClaimedAhead() async throws {
        let (harness, call, scheduler) = try await scheduled("R3/PT1H")
        try await whileRunning(scheduler) {
            _ = try await claimSecondRun(harness, scheduler, call)
        }
        // Cancelled a second before the run: its claim is undone, as if it had never been made.
        let stored = try await harness.stored(call.id)
        #expect(stored.totalRunCount == 1 && stored.remainingRuns == 2 && stored.enabled)
        #expect(stored.lastRunAt == utc("2014-01-27T22:15:00Z"))
        #expect(try await harness.service.store.earliestDueTime() == utc("2014-01-27T23:15:00Z"))
        #expect(scheduler.statistics.releasedRuns == 1)
        // Another scheduler takes the run at its due time.
        let next = Scheduler(service: harness.service)
        try await whileRunning(next) {
            var stepper = SchedulerStepper(next, clock: harness.manualClock)
            try await stepper.waitForPause()
            harness.manualClock.advance(to: utc("2014-01-27T23:15:00Z"))
            try await stepper.waitForPause()
            #expect(
                try await harness.dispatchTimes(of: call.id) == ["2014-01-27T22:15:00Z", "2014-01-27T23:15:00Z"]
            )
        }
    }

    /// A run whose held task its scheduler could not release (the store refused, then the scheduler stopped,
    /// as a process that dies would) runs once its hold expires, and is never claimed again.
    @Test func aHoldItsSchedulerCannotReleaseRunsLateAndOnce() async throws {
        let tasks = ScriptedTaskStore()
        let (harness, call, scheduler) = try await scheduled("PT1H", taskStore: tasks)
        try await whileRunning(scheduler) {
            var stepper = SchedulerStepper(scheduler, clock: harness.manualClock)
            #expect(try await stepper.waitForPause() == utc("2014-01-27T23:14:59Z"))
            #expect(try await stepper.step() == utc("2014-01-27T23:15:00Z"))
            tasks.refusesReleases.withLock { $0 = true }
            try await stepper.step()
            #expect(scheduler.statistics.storeErrors >= 1 && scheduler.statistics.dispatched == 1)
        }
        tasks.refusesReleases.withLock { $0 = false }
        #expect(try await harness.syncTasks(of: call.id).count == 1, "held, not submitted")
        #expect(try await harness.stored(call.id).totalRunCount == 2, "the claim is kept")
        // The worker timeout (30 s) after the due time, recovery ends the hold: the run is submitted late.
        harness.manualClock.advance(to: utc("2014-01-27T23:15:29Z"))
        _ = try await harness.dispatcher.recoverLostWorkers()
        #expect(try await harness.syncTasks(of: call.id).count == 1)
        harness.manualClock.advance(to: utc("2014-01-27T23:15:30Z"))
        _ = try await harness.dispatcher.recoverLostWorkers()
        #expect(try await harness.dispatchTimes(of: call.id) == ["2014-01-27T22:15:00Z", "2014-01-27T23:15:00Z"])
        // Another scheduler does not claim that slot again.
        let next = Scheduler(service: harness.service)
        let deadline = try await whileRunning(next) {
            var stepper = SchedulerStepper(next, clock: harness.manualClock)
            return try await stepper.waitForPause()
        }
        #expect(deadline == utc("2014-01-28T00:14:59Z"))
        #expect(try await harness.syncTasks(of: call.id).count == 2)
    }
}
