import Foundation
import PulpKit
import Testing

/// The schedules of the spec pages and of PULP2-SEMANTICS §1.2, end to end: parse, `first_run`, grid.
struct ISO8601Tests {
    /// PULP2-SEMANTICS §1.2's worked examples, created at 2014-01-27T22:15:00Z: schedule, `first_run`,
    /// `remaining_runs`, and the grid slots that follow the creation time (months counted from the anchor, the
    /// deliberate difference of DESIGN.md).
    static let examples: [(String, String, Int?, [String])] = [
        (
            "PT1H", "2014-01-27T22:15:00Z", nil,
            ["2014-01-27T23:15:00Z", "2014-01-28T00:15:00Z", "2014-01-28T01:15:00Z"]
        ),
        (
            "R5/2014-01-27T21:41:50Z/PT1H", "2014-01-27T21:41:50Z", 5,
            ["2014-01-27T22:41:50Z", "2014-01-27T23:41:50Z", "2014-01-28T00:41:50Z", "2014-01-28T01:41:50Z"]
        ),
        (
            "2030-01-01T00:00:00Z/P1D", "2030-01-01T00:00:00Z", nil,
            ["2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"]
        ),
        (
            "2014-01-31T00:00:00Z/P1M", "2014-01-31T00:00:00Z", nil,
            ["2014-01-31T00:00:00Z", "2014-02-28T00:00:00Z", "2014-03-31T00:00:00Z", "2014-04-30T00:00:00Z"]
        ),
        (
            "PT1H/2014-01-27T21:41:50Z", "2014-01-27T21:41:50Z", nil,
            ["2014-01-27T22:41:50Z", "2014-01-27T23:41:50Z"]
        ),
        (
            "00:00:00Z/P1DT", "2014-01-27T00:00:00Z", nil,
            ["2014-01-28T00:00:00Z", "2014-01-29T00:00:00Z"]
        ),
    ]

    @Test(arguments: examples)
    func workedExamples(schedule: String, firstRun: String, remaining: Int?, slots: [String]) throws {
        let created = ISO8601Fixtures.createdAt
        let interval = try RepeatingInterval(parsing: schedule)
        #expect(interval.firstRun(createdAt: created).description == firstRun)
        #expect(interval.recurrences == remaining)
        let grid = interval.grid(createdAt: created)
        #expect(grid.anchor == ISO8601Fixtures.date(firstRun))
        var instant = created
        for slot in slots {
            instant = grid.nextOccurrence(after: instant)
            #expect(ISO8601Fixtures.text(instant) == slot)
        }
    }

    @Test func pastStartHasElapsedSlotsAtCreation() throws {
        let grid = try RepeatingInterval(parsing: "R5/2014-01-27T21:41:50Z/PT1H").grid(
            createdAt: ISO8601Fixtures.createdAt
        )
        let last = grid.lastOccurrence(atOrBefore: ISO8601Fixtures.createdAt)
        #expect(last?.index == 0)
        #expect(last?.date == ISO8601Fixtures.date("2014-01-27T21:41:50Z"))
    }

    @Test func futureStartHasNoElapsedSlot() throws {
        let grid = try RepeatingInterval(parsing: "2030-01-01T00:00:00Z/P1D").grid(createdAt: ISO8601Fixtures.createdAt)
        #expect(grid.lastOccurrence(atOrBefore: ISO8601Fixtures.createdAt) == nil)
    }

    @Test func startFirstAndDurationFirstAreTheSameSchedule() throws {
        #expect(
            try RepeatingInterval(parsing: "PT1H/2014-01-27T21:41:50Z")
                == RepeatingInterval(parsing: "2014-01-27T21:41:50Z/PT1H")
        )
    }

    @Test func specCreateSampleFirstRunIsTheCreationTime() throws {
        // spec: created at last_updated 1390858910.292712 with "PT1H": first_run = next_run = 2014-01-27T21:41:50Z.
        let created = Date(timeIntervalSince1970: 1_390_858_910.292712)
        let interval = try RepeatingInterval(parsing: "PT1H")
        #expect(interval.firstRun(createdAt: created).description == "2014-01-27T21:41:50Z")
        #expect(ISO8601DateTime.utcString(created) == "2014-01-27T21:41:50Z")
    }

    @Test func specListSampleNextRun() throws {
        // spec: "P1DT", first_run 2015-02-09T10:00:02Z, last_run_at 2015-02-09T10:00:23Z, next_run 2015-02-10T10:00:02Z.
        let interval = try RepeatingInterval(parsing: "P1DT")
        let firstRun = try #require(ISO8601DateTime.utcDate("2015-02-09T10:00:02Z"))
        let grid = interval.grid(createdAt: firstRun)
        let lastRun = try #require(ISO8601DateTime.utcDate("2015-02-09T10:00:23Z"))
        #expect(ISO8601DateTime.utcString(grid.nextOccurrence(after: lastRun)) == "2015-02-10T10:00:02Z")
        #expect(interval.description == "P1D")
    }

    @Test func specSampleScheduleWithATimeOnlyStartIsAccepted() throws {
        // Pulp 2 answers 400 for its own sample; PulpKit accepts it (DESIGN.md).
        let interval = try RepeatingInterval(parsing: "00:00:00Z/P1DT")
        #expect(interval.description == "00:00:00Z/P1D")
        #expect(interval.duration.seconds == 86_400)
        guard case .timeOfDay(let time) = interval.start else {
            Issue.record("expected a time-of-day start")
            return
        }
        #expect(time.secondsSinceMidnight == 0)
        #expect(time.utcOffsetSeconds == 0)
    }

    @Test func specHistorySampleTimestampIsNotADate() {
        // The spec's history sample shows "1970:00:00T00:00:00Z", which is not a valid timestamp.
        #expect(ISO8601DateTime.utcDate("1970:00:00T00:00:00Z") == nil)
        #expect(throws: PulpError.self) { try ISO8601DateTime(parsing: "1970:00:00T00:00:00Z") }
    }
}
