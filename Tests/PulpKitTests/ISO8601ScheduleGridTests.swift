import Foundation
import PulpKit
import PulpKitTesting
import Testing

struct ISO8601ScheduleGridTests {
    static func grid(_ anchor: String, _ duration: String) throws -> ScheduleGrid {
        ScheduleGrid(anchor: ISO8601Fixtures.date(anchor), duration: try ISO8601Duration(parsing: duration))
    }

    /// Anchor, duration, and the first occurrences, counted from the anchor with day-of-month clamping.
    static let calendarGrids: [(String, String, [String])] = [
        (
            "2014-01-31T00:00:00Z", "P1M",
            [
                "2014-01-31T00:00:00Z", "2014-02-28T00:00:00Z", "2014-03-31T00:00:00Z", "2014-04-30T00:00:00Z",
                "2014-05-31T00:00:00Z", "2014-06-30T00:00:00Z",
            ]
        ),
        ("2024-01-31T12:00:00Z", "P1M", ["2024-01-31T12:00:00Z", "2024-02-29T12:00:00Z", "2024-03-31T12:00:00Z"]),
        (
            "2024-02-29T00:00:00Z", "P1Y",
            [
                "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z", "2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z",
                "2028-02-29T00:00:00Z",
            ]
        ),
        ("2096-02-29T00:00:00Z", "P4Y", ["2096-02-29T00:00:00Z", "2100-02-28T00:00:00Z", "2104-02-29T00:00:00Z"]),
        ("1996-02-29T00:00:00Z", "P4Y", ["1996-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2004-02-29T00:00:00Z"]),
        (
            "2014-08-31T06:30:00Z", "P3M",
            ["2014-08-31T06:30:00Z", "2014-11-30T06:30:00Z", "2015-02-28T06:30:00Z", "2015-05-31T06:30:00Z"]
        ),
        ("2014-01-31T00:00:00Z", "P1M1D", ["2014-01-31T00:00:00Z", "2014-03-01T00:00:00Z", "2014-04-02T00:00:00Z"]),
        ("2014-12-31T23:00:00Z", "P1MT2H", ["2014-12-31T23:00:00Z", "2015-02-01T01:00:00Z", "2015-03-01T03:00:00Z"]),
    ]

    @Test(arguments: calendarGrids)
    func countsMonthsFromTheAnchor(anchor: String, duration: String, expected: [String]) throws {
        let grid = try Self.grid(anchor, duration)
        for (index, text) in expected.enumerated() {
            #expect(ISO8601Fixtures.text(grid.occurrence(index)) == text, "occurrence \(index)")
            let last = grid.lastOccurrence(atOrBefore: ISO8601Fixtures.date(text))
            #expect(last?.index == index)
            #expect(last.map { ISO8601Fixtures.text($0.date) } == text)
        }
    }

    @Test func anOccurrenceExactlyOnTheInstantCounts() throws {
        let grid = try Self.grid("2014-01-27T22:15:00Z", "PT1H")
        let slot = ISO8601Fixtures.date("2014-01-27T23:15:00Z")
        #expect(grid.lastOccurrence(atOrBefore: slot)?.index == 1)
        #expect(grid.lastOccurrence(atOrBefore: slot)?.date == slot)
        #expect(grid.nextOccurrence(after: slot) == ISO8601Fixtures.date("2014-01-28T00:15:00Z"))
        let justBefore = slot.addingTimeInterval(-0.001)
        #expect(grid.lastOccurrence(atOrBefore: justBefore)?.index == 0)
        #expect(grid.nextOccurrence(after: justBefore) == slot)
    }

    @Test(arguments: ["PT1H", "P1M", "P1Y", "P1W2D"])
    func beforeTheAnchorThereIsNoLastAndTheNextIsTheAnchor(duration: String) throws {
        let grid = try Self.grid("2030-01-01T00:00:00Z", duration)
        #expect(grid.lastOccurrence(atOrBefore: ISO8601Fixtures.createdAt) == nil)
        #expect(grid.nextOccurrence(after: ISO8601Fixtures.createdAt) == grid.anchor)
        #expect(grid.lastOccurrence(atOrBefore: grid.anchor)?.index == 0)
        #expect(grid.nextOccurrence(after: grid.anchor) == grid.occurrence(1))
        #expect(grid.occurrence(-3) == grid.anchor)
    }

    @Test func aOneSecondGridAnsweredFiftyYearsLater() throws {
        let grid = try Self.grid("2014-01-27T22:15:00Z", "PT1S")
        let later = ISO8601Fixtures.date("2064-01-27T22:15:00Z")
        let elapsed = Int(later.timeIntervalSince(grid.anchor))
        #expect(grid.lastOccurrence(atOrBefore: later)?.index == elapsed)
        #expect(grid.nextOccurrence(after: later) == later.addingTimeInterval(1))
        #expect(grid.nextOccurrence(after: later.addingTimeInterval(0.5)) == later.addingTimeInterval(1))
        #expect(grid.lastOccurrence(atOrBefore: later.addingTimeInterval(0.5))?.index == elapsed)
    }

    @Test func aMonthlyGridAnsweredFiveHundredYearsLater() throws {
        let grid = try Self.grid("2014-01-31T00:00:00Z", "P1M")
        let later = ISO8601Fixtures.date("2514-03-30T23:59:59Z")
        let last = grid.lastOccurrence(atOrBefore: later)
        #expect(last?.index == 500 * 12 + 1)
        #expect(last.map { ISO8601Fixtures.text($0.date) } == "2514-02-28T00:00:00Z")
        #expect(ISO8601Fixtures.text(grid.nextOccurrence(after: later)) == "2514-03-31T00:00:00Z")
    }

    @Test func hugeInstantsDoNotCrash() throws {
        for duration in ["PT1S", "P1M", "PT0.001S"] {
            let grid = try Self.grid("2014-01-27T22:15:00Z", duration)
            for instant in [
                Date.distantFuture, Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: .infinity),
            ] {
                #expect(grid.lastOccurrence(atOrBefore: instant) != nil)
                _ = grid.nextOccurrence(after: instant)
            }
            #expect(grid.lastOccurrence(atOrBefore: .distantPast) == nil)
            #expect(grid.nextOccurrence(after: Date(timeIntervalSince1970: .nan)) == grid.anchor)
        }
    }

    @Test(arguments: ["PT1H", "P1D", "PT1.5H", "P1W2D", "PT0.25S", "P1M", "P1Y", "P3M", "P1M1D", "P1YT36H", "P2M"])
    func lastAndNextBracketEveryInstant(duration: String) throws {
        var random = SeededRandomNumberGenerator(seed: UInt64(duration.utf8.count) &* 7919)
        let parsed = try ISO8601Duration(parsing: duration)
        for _ in 0..<2000 {
            let anchor = Date(timeIntervalSince1970: Double(Int.random(in: 0...4_000_000_000, using: &random)))
            let grid = ScheduleGrid(anchor: anchor, duration: parsed)
            let instant = anchor.addingTimeInterval(Double.random(in: 0...2_000_000_000, using: &random))
            guard let last = grid.lastOccurrence(atOrBefore: instant) else {
                Issue.record("no occurrence at or before an instant after the anchor")
                continue
            }
            let next = grid.nextOccurrence(after: instant)
            #expect(last.date == grid.occurrence(last.index))
            #expect(last.date <= instant)
            #expect(next > instant)
            #expect(next == grid.occurrence(last.index + 1))
        }
    }

    @Test func calendarOccurrencesMatchFoundationCountedFromTheAnchor() {
        var random = SeededRandomNumberGenerator(seed: 2024)
        let calendar = ISO8601Fixtures.gregorianUTC
        for _ in 0..<3000 {
            let anchor = Date(
                timeIntervalSince1970: Double(Int.random(in: -2_000_000_000...4_000_000_000, using: &random))
            )
            let months = Int.random(in: 1...24, using: &random)
            let index = Int.random(in: 0...600, using: &random)
            let duration = try! ISO8601Duration(parsing: "P\(months)M")
            let grid = ScheduleGrid(anchor: anchor, duration: duration)
            let expected = calendar.date(byAdding: .month, value: index * months, to: anchor)!
            #expect(grid.occurrence(index) == expected, "\(anchor) + \(index) x P\(months)M")
        }
    }

    @Test func lastOccurrenceMatchesALinearScan() throws {
        let grid = try Self.grid("2012-02-29T13:00:00Z", "P1M2DT3H")
        var random = SeededRandomNumberGenerator(seed: 7)
        let occurrences = (0...800).map(grid.occurrence)
        for _ in 0..<2000 {
            let instant = grid.anchor.addingTimeInterval(Double.random(in: 0...2_000_000_000, using: &random))
            let expected = occurrences.lastIndex { $0 <= instant }!
            #expect(grid.lastOccurrence(atOrBefore: instant)?.index == expected)
        }
    }
}
