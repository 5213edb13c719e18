/// A calendar date (year, month, day) in the proleptic Gregorian calendar.
struct CivilDate: Hashable, Sendable {
    /// The year; 1 BC is year 0, as in ISO 8601.
    var year: Int
    /// The month, 1 (January) through 12.
    var month: Int
    /// The day of the month, 1 through 31.
    var day: Int
}

/// Proleptic Gregorian calendar arithmetic on UTC day numbers (days since 1970-01-01), without Foundation.
///
/// These functions sit on the scheduler's hot path, so they are branch-light integer arithmetic; the tests
/// cross-check them against Foundation's Gregorian `Calendar` in UTC.
enum CivilCalendar {
    /// Seconds in a UTC day (PulpKit ignores leap seconds, as POSIX time does).
    static let secondsPerDay = 86_400

    /// Floor division: rounds towards negative infinity, unlike `/`.
    @inline(__always)
    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// Whether `year` has a February 29.
    @inline(__always)
    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1...12) of `year`.
    @inline(__always)
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The number of days in `year`.
    static func daysInYear(_ year: Int) -> Int { isLeapYear(year) ? 366 : 365 }

    /// The day number (days since 1970-01-01) of a valid civil date.
    @inline(__always)
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        // Shift the year to start in March so the leap day is the last day of the shifted year.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day number (days since 1970-01-01) of `date`.
    static func dayNumber(_ date: CivilDate) -> Int {
        dayNumber(year: date.year, month: date.month, day: date.day)
    }

    /// The civil date of a day number (days since 1970-01-01).
    @inline(__always)
    static func civilDate(dayNumber: Int) -> CivilDate {
        let shifted = dayNumber + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return CivilDate(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    /// `date` moved by `months` calendar months, its day clamped to the length of the target month.
    @inline(__always)
    static func adding(months: Int, to date: CivilDate) -> CivilDate {
        let index = date.year * 12 + (date.month - 1) + months
        let year = floorDivide(index, 12)
        let month = index - year * 12 + 1
        return CivilDate(year: year, month: month, day: min(date.day, daysInMonth(year: year, month: month)))
    }

    /// The ISO weekday of a day number: 1 is Monday, 7 is Sunday.
    static func isoWeekday(dayNumber: Int) -> Int {
        // 1970-01-01 was a Thursday.
        let remainder = (dayNumber + 3) % 7
        return (remainder < 0 ? remainder + 7 : remainder) + 1
    }

    /// The day number of the Monday of ISO week 1 of `isoYear` (the week that holds January 4).
    static func firstISOWeekMonday(isoYear: Int) -> Int {
        let january4 = dayNumber(year: isoYear, month: 1, day: 4)
        return january4 - (isoWeekday(dayNumber: january4) - 1)
    }

    /// The number of ISO weeks (52 or 53) in `isoYear`.
    static func isoWeeks(inYear isoYear: Int) -> Int {
        (firstISOWeekMonday(isoYear: isoYear + 1) - firstISOWeekMonday(isoYear: isoYear)) / 7
    }
}
