import Foundation
import PulpKit
import Testing

struct ISO8601RepeatingIntervalTests {
    /// Accepted schedules, their canonical form and recurrence count.
    static let accepted: [(String, String, Int?)] = [
        ("PT1H", "PT1H", nil),
        ("P1DT", "P1D", nil),
        ("00:00:00Z/P1DT", "00:00:00Z/P1D", nil),
        ("R5/2014-01-27T21:41:50Z/PT1H", "R5/2014-01-27T21:41:50Z/PT1H", 5),
        ("PT1H/2014-01-27T21:41:50Z", "2014-01-27T21:41:50Z/PT1H", nil),
        ("2014-01-27T21:41:50Z/R5/PT1H", "R5/2014-01-27T21:41:50Z/PT1H", 5),
        ("PT1H/R5", "R5/PT1H", 5),
        ("R05/PT1H", "R5/PT1H", 5),
        ("R1/P1W", "R1/P1W", 1),
        ("2030-01-01T00:00:00Z/P1D", "2030-01-01T00:00:00Z/P1D", nil),
        ("2014-01-31T00:00:00Z/P1M", "2014-01-31T00:00:00Z/P1M", nil),
        ("2014-01-27T21:41:50Z--PT1H", "2014-01-27T21:41:50Z/PT1H", nil),
        ("R3--P1W2D", "R3/P1W2D", 3),
        ("P1M", "P1M", nil),
        ("P1Y", "P1Y", nil),
        ("T09:30+05:30/P1D", "09:30:00+05:30/P1D", nil),
        ("12:00/PT12H", "12:00:00Z/PT12H", nil),
        ("2014-01-27T21:41:50+05:30/PT1H", "2014-01-27T21:41:50+05:30/PT1H", nil),
        ("2014-01-27T21:41:50-05:00--PT1H", "2014-01-27T21:41:50-05:00/PT1H", nil),
        ("20140127T214150Z/PT1H", "2014-01-27T21:41:50Z/PT1H", nil),
        ("R1/2014-W05-1T10:00Z/PT1H", "R1/2014-01-27T10:00:00Z/PT1H", 1),
        ("2014-027T00:00:00Z/PT1.5H", "2014-01-27T00:00:00Z/PT1.5H", nil),
        // Caught by the iso8601 fuzz target's round trip: written 00:00:00Z/P1D, which anchors a day earlier.
        ("23:59:59.9999999Z/P1D", "23:59:59.999999Z/P1D", nil),
        // Found by Fuzz/run.sh iso8601: the Double rounded to 86,400 s, written 24:00:00-05:00, which does not parse.
        ("T23:59:59.999999999999-05:00/P1D", "23:59:59.999999-05:00/P1D", nil),
    ]

    @Test(arguments: accepted)
    func parsesAcceptedSchedules(text: String, canonical: String, recurrences: Int?) throws {
        let interval = try RepeatingInterval(parsing: text)
        #expect(interval.description == canonical)
        #expect(interval.recurrences == recurrences)
        let reparsed = try RepeatingInterval(parsing: canonical)
        #expect(reparsed.description == canonical)
        #expect(
            reparsed.anchor(createdAt: ISO8601Fixtures.createdAt)
                == interval.anchor(createdAt: ISO8601Fixtures.createdAt)
        )
    }

    /// Refused schedules and the words the reason must contain.
    static let rejected: [(String, String)] = [
        ("R5/R6/PT1H", "Multiple recurrences specified"),
        ("PT1H/P1D", "Multiple interval durations specified"),
        ("2014-01-27T00:00:00Z/2014-01-28T00:00:00Z/PT1H", "Interval with start and end times is not supported"),
        ("2014-01-27T00:00:00Z/2014-01-28T00:00:00Z", "Interval with start and end times is not supported"),
        ("R5/2014-01-27T00:00:00Z/PT1H/2014-01-28T00:00:00Z", "Interval with start and end times is not supported"),
        ("R5", "No interval specification found"),
        ("2014-01-27T00:00:00Z", "No interval specification found"),
        ("R0/PT1H", "the recurrence count must be at least 1"),
        ("R/PT1H", "an unbounded recurrence 'R' is not supported"),
        ("R5x/PT1H", "is not a recurrence count"),
        ("R99999999999999999999/PT1H", "too large"),
        ("r5/PT1H", "upper case"),
        ("", "the schedule must not be empty"),
        ("PT1H/", "has an empty part"),
        ("/PT1H", "has an empty part"),
        ("PT1H//R5", "has an empty part"),
        ("PT0S", "the interval must be longer than zero"),
        ("PT", "the interval must be longer than zero"),
        ("P0D", "the interval must be longer than zero"),
        ("P0Y", "the interval must be longer than zero"),
        ("P0M", "the interval must be longer than zero"),
        ("2014-01-27T00:00:00Z/PT0S", "the interval must be longer than zero"),
        ("R5/2014-01-27T21:41:50Z/PT0.000001S", "shorter than a millisecond"),
        ("P", "'P' alone is not a duration"),
        ("2014-01-27/PT1H", "ISO 8601 time designator 'T' missing"),
        ("2014-01-27 21:41:50Z/PT1H", "ISO 8601 time designator 'T' missing"),
        ("-P1D", "must not carry a sign"),
        ("pt1h", "upper case"),
        (" PT1H", "whitespace"),
        ("PT1H ", "whitespace"),
        ("25:00:00Z/P1D", "hour 25 is out of range"),
        ("00:00:00z/P1D", "upper case"),
        ("2014-02-30T00:00:00Z/P1D", "day 30 is out of range"),
        ("P1.5M", "fractional years and months are not supported"),
    ]

    @Test(arguments: rejected)
    func refusesWithAReason(text: String, reason: String) {
        let error = #expect(throws: PulpError.self) { try RepeatingInterval(parsing: text) }
        #expect(ISO8601Fixtures.reason(of: error, field: "schedule").contains(reason))
    }

    @Test func errorsAreFourHundredsNamingTheField() {
        let error = #expect(throws: PulpError.self) {
            try RepeatingInterval(parsing: "R5/R6/PT1H", field: "iso_schedule")
        }
        #expect(error?.httpStatus == 400)
        #expect(error?.code == .invalidProperties)
        #expect(error?.propertyNames == ["iso_schedule"])
        #expect(error?.message == "Invalid properties: ['iso_schedule'] (iso_schedule: Multiple recurrences specified)")
    }

    @Test func timeOnlyStartIsAnchoredOnTheCreationDayInUTC() throws {
        let interval = try RepeatingInterval(parsing: "00:00:00Z/P1DT")
        let created = ISO8601Fixtures.createdAt
        #expect(interval.anchor(createdAt: created) == ISO8601Fixtures.date("2014-01-27T00:00:00Z"))
        #expect(interval.firstRun(createdAt: created).description == "2014-01-27T00:00:00Z")
        let grid = interval.grid(createdAt: created)
        #expect(grid.nextOccurrence(after: created) == ISO8601Fixtures.date("2014-01-28T00:00:00Z"))
        #expect(grid.lastOccurrence(atOrBefore: created)?.index == 0)
    }

    @Test func timeOnlyStartWithAnOffsetUsesTheCreationDayInThatOffset() throws {
        // 2014-01-27T22:15:00Z is already 2014-01-28 03:45 in India.
        let interval = try RepeatingInterval(parsing: "T09:30+05:30/P1D")
        let created = ISO8601Fixtures.createdAt
        #expect(interval.anchor(createdAt: created) == ISO8601Fixtures.date("2014-01-28T04:00:00Z"))
        #expect(interval.firstRun(createdAt: created).description == "2014-01-28T09:30:00+05:30")
    }

    @Test func naiveTimeOnlyStartIsUTC() throws {
        let interval = try RepeatingInterval(parsing: "12:00:00/P1D")
        guard case .timeOfDay(let time) = interval.start else {
            Issue.record("expected a time-of-day start")
            return
        }
        #expect(time.utcOffsetSeconds == nil)
        #expect(time.secondsSinceMidnight == 43_200)
        #expect(interval.firstRun(createdAt: ISO8601Fixtures.createdAt).description == "2014-01-27T12:00:00Z")
    }

    @Test func firstRunKeepsTheStartOffsetWithoutFraction() throws {
        let created = ISO8601Fixtures.createdAt
        let india = try RepeatingInterval(parsing: "2014-01-27T21:41:50.75+05:30/PT1H")
        #expect(india.firstRun(createdAt: created).description == "2014-01-27T21:41:50+05:30")
        #expect(india.anchor(createdAt: created) == ISO8601Fixtures.date("2014-01-27T16:11:50Z"))
        // Arithmetic is in UTC: the grid moves in whole hours from 16:11:50Z.
        #expect(
            india.grid(createdAt: created).nextOccurrence(after: created)
                == ISO8601Fixtures.date("2014-01-27T23:11:50Z")
        )
        let naive = try RepeatingInterval(parsing: "2014-01-27T21:41:50/PT1H")
        #expect(naive.firstRun(createdAt: created).utcOffsetSeconds == nil)
        #expect(naive.firstRun(createdAt: created).description == "2014-01-27T21:41:50Z")
    }

    @Test func withoutAStartTheAnchorIsTheCreationTimeToTheSecond() throws {
        let created = Date(timeIntervalSince1970: ISO8601Fixtures.createdAt.timeIntervalSince1970 + 0.75)
        let interval = try RepeatingInterval(parsing: "P1M")
        #expect(interval.anchor(createdAt: created) == ISO8601Fixtures.createdAt)
        #expect(interval.firstRun(createdAt: created).description == "2014-01-27T22:15:00Z")
        #expect(interval.grid(createdAt: created).occurrence(1) == ISO8601Fixtures.date("2014-02-27T22:15:00Z"))
    }

    @Test func buildsFromParts() throws {
        let interval = RepeatingInterval(
            duration: try ISO8601Duration(parsing: "PT1H"),
            start: .dateTime(try ISO8601DateTime(parsing: "2014-01-27T21:41:50Z")),
            recurrences: 5
        )
        #expect(interval == (try RepeatingInterval(parsing: "PT1H/R5/2014-01-27T21:41:50Z")))
        #expect(interval.start?.utcOffsetSeconds == 0)
        #expect(try ISO8601TimeOfDay(parsing: "T0930+0530").description == "09:30:00+05:30")
    }
}
