import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

struct ISO8601CivilCalendarTests {
    @Test func everyDayFrom1900To2200MatchesFoundation() {
        let first = CivilCalendar.dayNumber(year: 1900, month: 1, day: 1)
        let last = CivilCalendar.dayNumber(year: 2200, month: 12, day: 31)
        var mismatches = 0
        for dayNumber in first...last {
            let civil = CivilCalendar.civilDate(dayNumber: dayNumber)
            let date = Date(timeIntervalSince1970: Double(dayNumber * 86_400))
            let expected = ISO8601Fixtures.gregorianUTC.dateComponents([.year, .month, .day, .weekday], from: date)
            // Foundation's weekday is 1 for Sunday; ISO's is 1 for Monday.
            let isoWeekday = (expected.weekday! + 5) % 7 + 1
            if civil.year != expected.year || civil.month != expected.month || civil.day != expected.day
                || CivilCalendar.dayNumber(civil) != dayNumber
                || CivilCalendar.isoWeekday(dayNumber: dayNumber) != isoWeekday
            {
                mismatches += 1
            }
        }
        #expect(last - first + 1 == 109_938)
        #expect(mismatches == 0)
    }

    @Test func monthLengthsFrom1900To2200MatchFoundation() {
        for year in 1900...2200 {
            for month in 1...12 {
                let date = ISO8601Fixtures.gregorianUTC.date(from: DateComponents(year: year, month: month, day: 1))!
                let expected = ISO8601Fixtures.gregorianUTC.range(of: .day, in: .month, for: date)!.count
                #expect(CivilCalendar.daysInMonth(year: year, month: month) == expected, "\(year)-\(month)")
            }
        }
    }

    /// Forward additions only: that is what a schedule grid does, and Foundation on Linux (6.3) mis-clamps some large
    /// backward ones (2260-08-29 minus 294 months gives 2236-02-28 although 2236 is a leap year).
    @Test func randomMonthAdditionsMatchFoundation() {
        var random = SeededRandomNumberGenerator(seed: 0x5055_4C50)
        let low = CivilCalendar.dayNumber(year: 1600, month: 1, day: 1)
        let high = CivilCalendar.dayNumber(year: 2400, month: 12, day: 31)
        for _ in 0..<5000 {
            let dayNumber = Int.random(in: low...high, using: &random)
            let months = Int.random(in: 0...2400, using: &random)
            let start = CivilCalendar.civilDate(dayNumber: dayNumber)
            let moved = CivilCalendar.adding(months: months, to: start)
            let startDate = Date(timeIntervalSince1970: Double(dayNumber * 86_400))
            let expected = ISO8601Fixtures.gregorianUTC.dateComponents(
                [.year, .month, .day],
                from: ISO8601Fixtures.gregorianUTC.date(byAdding: .month, value: months, to: startDate)!
            )
            #expect(
                [moved.year, moved.month, moved.day] == [expected.year, expected.month, expected.day],
                "\(start) + \(months) months"
            )
        }
    }

    @Test(arguments: [
        (CivilDate(year: 2014, month: 3, day: 31), -1, CivilDate(year: 2014, month: 2, day: 28)),
        (CivilDate(year: 2012, month: 3, day: 31), -1, CivilDate(year: 2012, month: 2, day: 29)),
        (CivilDate(year: 2260, month: 8, day: 29), -294, CivilDate(year: 2236, month: 2, day: 29)),
        (CivilDate(year: 1918, month: 12, day: 30), -1066, CivilDate(year: 1830, month: 2, day: 28)),
        (CivilDate(year: 2014, month: 1, day: 31), 1, CivilDate(year: 2014, month: 2, day: 28)),
        (CivilDate(year: 2014, month: 12, day: 15), 1, CivilDate(year: 2015, month: 1, day: 15)),
        (CivilDate(year: 1, month: 1, day: 31), -1, CivilDate(year: 0, month: 12, day: 31)),
    ])
    func addsMonthsWithEndOfMonthClamping(start: CivilDate, months: Int, expected: CivilDate) {
        #expect(CivilCalendar.adding(months: months, to: start) == expected)
    }

    @Test(arguments: [
        (2000, true), (2100, false), (1900, false), (2400, true), (2024, true), (2023, false), (1600, true),
    ])
    func leapYears(year: Int, isLeap: Bool) {
        #expect(CivilCalendar.isLeapYear(year) == isLeap)
        #expect(CivilCalendar.daysInYear(year) == (isLeap ? 366 : 365))
        #expect(CivilCalendar.daysInMonth(year: year, month: 2) == (isLeap ? 29 : 28))
    }

    @Test(arguments: [(2014, 52), (2015, 53), (2020, 53), (2021, 52), (2026, 53), (2009, 53), (2004, 53)])
    func isoWeeksInYear(year: Int, weeks: Int) {
        #expect(CivilCalendar.isoWeeks(inYear: year) == weeks)
    }

    @Test func isoWeekDatesFrom1990To2040MatchFoundation() {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let first = CivilCalendar.dayNumber(year: 1990, month: 1, day: 1)
        let last = CivilCalendar.dayNumber(year: 2040, month: 12, day: 31)
        var mismatches = 0
        for dayNumber in first...last {
            let date = Date(timeIntervalSince1970: Double(dayNumber * 86_400))
            let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear, .weekday], from: date)
            let isoWeekday = (parts.weekday! + 5) % 7 + 1
            let computed =
                CivilCalendar.firstISOWeekMonday(isoYear: parts.yearForWeekOfYear!) + (parts.weekOfYear! - 1) * 7
                + isoWeekday - 1
            if computed != dayNumber { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [(-7, -1), (-1, -1), (0, 0), (6, 0), (7, 1), (-8, -2)])
    func floorDivisionRoundsDown(value: Int, quotient: Int) {
        #expect(CivilCalendar.floorDivide(value, 7) == quotient)
    }
}
