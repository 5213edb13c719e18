import Foundation
import Testing

@testable import PulpKit

/// The model on its own: the report's JSON, `first_run`, `next_run`, and the bookkeeping rules.
struct ScheduledCallTests {
    static let created = utc("2014-01-27T22:15:00Z")

    @Test func reportsExactlyTheSpecSampleForANewScheduleWithoutAStart() throws {
        // PULP2-SEMANTICS §1.1: created at 21:41:50.292712 with PT1H and a threshold of 3.
        let createdAt = Date(timeIntervalSince1970: 1_390_858_910.292712)
        let call = try ScheduledCall(
            id: "52e6d29edd01fb70bd0d9c37",
            repositoryID: "demo",
            importerID: "yum_importer",
            schedule: "PT1H",
            failureThreshold: 3,
            createdAt: createdAt
        )
        let expected = try JSONValue(
            parsing: """
                {"_id":"52e6d29edd01fb70bd0d9c37",
                 "_href":"/pulp/api/v2/repositories/demo/importers/yum_importer/schedules/sync/52e6d29edd01fb70bd0d9c37/",
                 "schedule":"PT1H","task":"pulp.server.tasks.repository.sync_with_auto_publish","args":["demo"],
                 "kwargs":{"overrides":{},"scheduled_call_id":"52e6d29edd01fb70bd0d9c37"},
                 "resource":"pulp:importer:demo:yum_importer","enabled":true,"failure_threshold":3,
                 "consecutive_failures":0,"remaining_runs":null,"total_run_count":0,
                 "first_run":"2014-01-27T21:41:50Z","last_run_at":null,"next_run":"2014-01-27T21:41:50Z",
                 "last_updated":1390858910.292712}
                """
        )
        var report = try #require(call.report(at: createdAt).objectValue)
        let lastUpdated = try #require(report.removeValue(forKey: "last_updated")?.doubleValue)
        #expect(abs(lastUpdated - 1_390_858_910.292712) < 1e-6)
        var rest = try #require(expected.objectValue)
        rest["last_updated"] = nil
        #expect(JSONValue.object(report) == .object(rest))
    }

    @Test func reportsTheListSampleAfterOneRun() throws {
        // The spec's list sample: P1DT first run 2015-02-09T10:00:02Z, run once at 10:00:23.
        var call = try ScheduledCall(
            id: "54d8852245ef4876fade7cc2",
            repositoryID: "test",
            importerID: "yum_importer",
            schedule: "P1DT",
            createdAt: utc("2015-02-09T10:00:02Z")
        )
        call.recordDispatch(at: utc("2015-02-09T10:00:23Z"), by: "s")
        call.lastUpdated = Date(timeIntervalSince1970: 1_423_476_133.825821)
        let report = call.report(at: utc("2015-02-09T12:00:00Z"))
        #expect(report["first_run"] == "2015-02-09T10:00:02Z")
        #expect(report["last_run_at"] == "2015-02-09T10:00:23Z")
        #expect(report["next_run"] == "2015-02-10T10:00:02Z")
        #expect(report["total_run_count"] == 1)
        #expect(report["failure_threshold"] == .null)
        #expect(report["schedule"] == "P1DT")
        #expect(report["resource"] == "pulp:importer:test:yum_importer")
        #expect(report.objectValue?.keys.sorted() == Self.reportKeys)
    }

    static let reportKeys = [
        "_href", "_id", "args", "consecutive_failures", "enabled", "failure_threshold", "first_run", "kwargs",
        "last_run_at", "last_updated", "next_run", "remaining_runs", "resource", "schedule", "task",
        "total_run_count",
    ]

    /// `first_run` keeps the start's offset; without a start it is the creation time in UTC.
    @Test(arguments: [
        ("PT1H", "2014-01-27T22:15:00Z"),
        ("R5/2014-01-27T21:41:50+05:30/PT1H", "2014-01-27T21:41:50+05:30"),
        ("2014-01-27T21:41:50.75Z/PT1H", "2014-01-27T21:41:50Z"),
        ("2014-01-27T21:41:50/PT1H", "2014-01-27T21:41:50Z"),
        ("00:00:00Z/P1DT", "2014-01-27T00:00:00Z"),
        ("P1M", "2014-01-27T22:15:00Z"),
    ])
    func firstRunKeepsTheStartsOffset(schedule: String, firstRun: String) throws {
        let call = try ScheduledCall(repositoryID: "zoo", importerID: "i", schedule: schedule, createdAt: Self.created)
        #expect(call.firstRun.description == firstRun)
        #expect(call.report(at: Self.created)["first_run"] == .string(firstRun))
    }

    @Test func nextRunIsTheFirstRunUntilTheFirstDispatchThenTheNextSlot() throws {
        var call = try ScheduledCall(
            repositoryID: "zoo",
            importerID: "i",
            schedule: "R5/2014-01-27T21:41:50Z/PT1H",
            createdAt: Self.created
        )
        // Past start, never run: due now, and next_run shows now as long as it has not run.
        #expect(call.isDue(at: Self.created))
        #expect(call.report(at: Self.created)["next_run"] == "2014-01-27T22:15:00Z")
        #expect(call.report(at: Self.created + 30)["next_run"] == "2014-01-27T22:15:30Z")
        call.recordDispatch(at: Self.created, by: "s")
        #expect(call.remainingRuns == 4)
        #expect(call.report(at: Self.created + 30)["next_run"] == "2014-01-27T22:41:50Z")
        #expect(!call.isDue(at: utc("2014-01-27T22:41:49Z")))
        #expect(call.isDue(at: utc("2014-01-27T22:41:50Z")))
        // A catch-up pending after a gap: next_run is now, not a slot in the past or the future.
        #expect(call.report(at: utc("2014-01-28T03:00:00Z"))["next_run"] == "2014-01-28T03:00:00Z")
        call.recordDispatch(at: utc("2014-01-28T03:00:00Z"), by: "s")
        #expect(call.nextDue == utc("2014-01-28T03:41:50Z"))
    }

    @Test func aFutureStartIsNotDueAndShowsTheStart() throws {
        let call = try ScheduledCall(
            repositoryID: "zoo",
            importerID: "i",
            schedule: "2030-01-01T00:00:00Z/P1D",
            createdAt: Self.created
        )
        #expect(!call.isDue(at: Self.created))
        #expect(call.dueTime == utc("2030-01-01T00:00:00Z"))
        #expect(call.report(at: Self.created)["next_run"] == "2030-01-01T00:00:00Z")
    }

    @Test func recurrencesCountDispatchesAndDisableAtZero() throws {
        var call = try ScheduledCall(repositoryID: "zoo", importerID: "i", schedule: "R2/PT1M", createdAt: Self.created)
        call.recordDispatch(at: Self.created, by: "s")
        #expect(call.remainingRuns == 1 && call.enabled)
        call.recordDispatch(at: Self.created + 60, by: "s")
        #expect(call.remainingRuns == 0 && !call.enabled && call.isExhausted)
        call.enabled = true
        #expect(call.dueTime == nil, "an exhausted schedule cannot be revived by re-enabling it")
        #expect(call.totalRunCount == 2)
    }

    @Test func failuresDisableAtTheThresholdOnlyWhileEnabledAndSuccessResets() throws {
        var call = try ScheduledCall(
            repositoryID: "zoo",
            importerID: "i",
            schedule: "PT1H",
            failureThreshold: 2,
            createdAt: Self.created
        )
        call.recordOutcome(succeeded: false, at: Self.created + 1)
        #expect(call.consecutiveFailures == 1 && call.enabled)
        call.recordOutcome(succeeded: true, at: Self.created + 2)
        #expect(call.consecutiveFailures == 0 && call.lastUpdated == Self.created + 2)
        call.recordOutcome(succeeded: false, at: Self.created + 3)
        call.recordOutcome(succeeded: false, at: Self.created + 4)
        #expect(call.consecutiveFailures == 2 && !call.enabled)
        call.recordOutcome(succeeded: false, at: Self.created + 5)
        #expect(call.consecutiveFailures == 3 && !call.enabled)
        call.enabled = true
        #expect(call.consecutiveFailures == 3, "re-enabling keeps the counter")
        call.recordOutcome(succeeded: false, at: Self.created + 6)
        #expect(!call.enabled, "one more failure disables it again")
    }

    @Test func aNullThresholdNeverDisables() throws {
        var call = try ScheduledCall(repositoryID: "zoo", importerID: "i", schedule: "PT1H", createdAt: Self.created)
        for second in 1...50 { call.recordOutcome(succeeded: false, at: Self.created + Double(second)) }
        #expect(call.consecutiveFailures == 50 && call.enabled)
    }

    @Test func reschedulingRecomputesTheFirstRunAndKeepsTheCounters() throws {
        var call = try ScheduledCall(repositoryID: "zoo", importerID: "i", schedule: "R3/PT1H", createdAt: Self.created)
        call.recordDispatch(at: Self.created, by: "s")
        call.recordOutcome(succeeded: false, at: Self.created + 10)
        let later = Self.created + 600
        try call.reschedule("R10/PT2H", at: later)
        #expect(call.schedule == "R10/PT2H")
        #expect(call.firstRun.description == "2014-01-27T22:25:00Z")
        #expect(call.remainingRuns == 2, "R3 → R10 keeps remaining_runs")
        #expect(call.totalRunCount == 1 && call.consecutiveFailures == 1)
        #expect(call.lastRunAt == Self.created)
        #expect(call.isDue(at: later), "without a start, a schedule that ran before fires at once")
        let unchanged = call
        #expect(throws: PulpError.self) { try call.reschedule("PT0S", at: later) }
        #expect(call == unchanged)
    }

    @Test func idsLookLikeObjectIDsThatStartWithTheCreationTime() {
        let id = ScheduleID.generate(at: Self.created)
        #expect(id.rawValue.count == 24)
        #expect(id.rawValue.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(id.rawValue.hasPrefix(String(1_390_860_900, radix: 16)))
        #expect(ScheduleID.generate(at: Self.created) != id)
    }
}
