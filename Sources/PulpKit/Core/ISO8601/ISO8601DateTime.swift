public import Foundation

/// An ISO 8601 date-time: the instant it names plus the UTC offset it was written with.
///
/// A value without an offset (naive) is taken as UTC, a deliberate difference from Pulp 2's server-local time.
public struct ISO8601DateTime: Sendable, Hashable, CustomStringConvertible {
    /// The instant.
    public let date: Date
    /// The UTC offset in seconds as written (`19800` for `+05:30`), or `nil` for a naive value, read as UTC.
    public let utcOffsetSeconds: Int?

    /// Wraps an instant that ``description`` writes with `utcOffsetSeconds` (less than a day either way).
    public init(date: Date, utcOffsetSeconds: Int? = 0) {
        precondition(abs(utcOffsetSeconds ?? 0) < CivilCalendar.secondsPerDay, "UTC offset must be under a day")
        self.date = date
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Parses a complete ISO 8601 date-time such as `2014-01-27T21:41:50Z`, `20140127T214150+0530` or
    /// `2014-W05-1T10:00Z`; the `T` is mandatory; failures name `field`.
    public init(parsing text: String, field: String = "date") throws(PulpError) {
        do {
            self = try Self.parse(text)
        } catch {
            throw PulpError.invalid(field, error.reason)
        }
    }

    /// The canonical form: `YYYY-MM-DDTHH:MM:SS`, a fraction only if there is one, then `Z` or the kept offset.
    ///
    /// The second is the date's whole second, the one a schedule's anchor uses; the fraction is rounded to the
    /// microsecond but never up into the next second, so `23:59:59.9999999` stays on its day.
    public var description: String {
        let offset = utcOffsetSeconds ?? 0
        let seconds = Self.wholeSeconds(date)
        return Self.format(seconds: seconds + offset)
            + Self.fractionAndOffset(date.timeIntervalSince1970 - Double(seconds), offset: offset)
    }
}

// MARK: - Pulp timestamps

extension ISO8601DateTime {
    /// Pulp's timestamp form `YYYY-MM-DDTHH:MM:SSZ`, in UTC, truncated to whole seconds.
    ///
    /// Used for every task, history and schedule timestamp, so it is written without Foundation formatters.
    public static func utcString(_ date: Date) -> String {
        let seconds = wholeSeconds(date)
        let dayNumber = CivilCalendar.floorDivide(seconds, CivilCalendar.secondsPerDay)
        let civil = CivilCalendar.civilDate(dayNumber: dayNumber)
        guard (0...9999).contains(civil.year) else { return format(seconds: seconds) + "Z" }
        let secondOfDay = seconds - dayNumber * CivilCalendar.secondsPerDay
        return String(unsafeUninitializedCapacity: 20) { buffer in
            @inline(__always) func put(_ value: Int, _ width: Int, at position: Int) {
                var value = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[position + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(civil.year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(civil.month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(civil.day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 17)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    /// Reads a timestamp written by ``utcString(_:)`` (exactly `YYYY-MM-DDTHH:MM:SSZ`); `nil` for any other text.
    ///
    /// Meant for stored timestamps; use ``init(parsing:field:)`` for user input.
    public static func utcDate(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
                bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                bytes[19] == UInt8(ascii: "Z")
            else { return nil }
            var valid = true
            @inline(__always) func number(_ position: Int, _ width: Int) -> Int {
                var value = 0
                for offset in 0..<width {
                    let digit = bytes[position + offset] &- UInt8(ascii: "0")
                    if digit > 9 { valid = false }
                    value = value * 10 + Int(digit)
                }
                return value
            }
            let year = number(0, 4)
            let month = number(5, 2)
            let day = number(8, 2)
            let hour = number(11, 2)
            let minute = number(14, 2)
            let second = number(17, 2)
            guard valid, (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: year, month: month),
                hour <= 23, minute <= 59, second <= 59
            else { return nil }
            let days = CivilCalendar.dayNumber(year: year, month: month, day: day)
            let seconds = days * CivilCalendar.secondsPerDay + hour * 3600 + minute * 60 + second
            return Date(timeIntervalSince1970: Double(seconds))
        }
    }
}

// MARK: - Internals

extension ISO8601DateTime {
    /// Seconds since 1970 rounded down to a whole second, clamped to about ±3 million years so it fits an `Int`.
    static func wholeSeconds(_ date: Date) -> Int {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds > -1e14 else { return -100_000_000_000_000 }
        guard seconds < 1e14 else { return 100_000_000_000_000 }
        return Int(seconds)
    }

    /// `date` truncated to a whole second.
    static func truncated(_ date: Date) -> Date { Date(timeIntervalSince1970: Double(wholeSeconds(date))) }

    /// `.` and the `fraction` of a second to the microsecond, rounded but at most `.999999` (nothing when it rounds
    /// to 0 or is not in 0 ..< 1), then `Z` for a zero `offset` or `±HH:MM`.
    static func fractionAndOffset(_ fraction: Double, offset: Int) -> String {
        var text = ""
        let micros = (fraction * 1_000_000).rounded()
        if fraction < 1, micros >= 1 {
            var digits = String(Int(min(micros, 999_999)))
            digits = String(repeating: "0", count: 6 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        if offset == 0 {
            text += "Z"
        } else {
            let magnitude = abs(offset) / 60
            text += (offset < 0 ? "-" : "+") + twoDigits(magnitude / 60) + ":" + twoDigits(magnitude % 60)
        }
        return text
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `YYYY-MM-DDTHH:MM:SS` for seconds since 1970 (years outside 0000-9999 get a sign and more digits).
    static func format(seconds: Int) -> String {
        let dayNumber = CivilCalendar.floorDivide(seconds, CivilCalendar.secondsPerDay)
        let civil = CivilCalendar.civilDate(dayNumber: dayNumber)
        let secondOfDay = seconds - dayNumber * CivilCalendar.secondsPerDay
        var year = String(abs(civil.year))
        if year.count < 4 { year = String(repeating: "0", count: 4 - year.count) + year }
        if civil.year < 0 {
            year = "-" + year
        } else if civil.year > 9999 {
            year = "+" + year
        }
        return year + "-" + twoDigits(civil.month) + "-" + twoDigits(civil.day) + "T" + twoDigits(secondOfDay / 3600)
            + ":" + twoDigits(secondOfDay / 60 % 60) + ":" + twoDigits(secondOfDay % 60)
    }

    /// Parses the full grammar; see ``init(parsing:field:)``.
    static func parse(_ text: String) throws(ISO8601Problem) -> ISO8601DateTime {
        var scanner = ISO8601Scanner(text)
        guard !scanner.bytes.isEmpty else { throw ISO8601Problem("an ISO 8601 date-time must not be empty") }
        guard let separator = scanner.bytes.firstIndex(of: UInt8(ascii: "T")) else {
            if scanner.bytes.contains(UInt8(ascii: "t")) { throw ISO8601Problem.upperCase(UInt8(ascii: "t")) }
            throw ISO8601Problem("ISO 8601 time designator 'T' missing")
        }
        if scanner.containsWhitespace { throw ISO8601Problem.whitespace }
        let dayNumber = try parseDate(&scanner, end: separator)
        scanner.index = separator + 1
        let time = try scanner.time()
        let seconds = dayNumber * CivilCalendar.secondsPerDay + time.seconds - (time.utcOffset ?? 0)
        // Near year 9999 a Double holds about 30 µs: a fraction must not round the instant up into the next second
        // (9999-12-31T23:59:59.99999 would become year 10000, whose text does not parse).
        let instant = min(Double(seconds) + time.fraction, Double(seconds + 1).nextDown)
        return ISO8601DateTime(date: Date(timeIntervalSince1970: instant), utcOffsetSeconds: time.utcOffset)
    }

    /// Parses a calendar, ordinal or week date (extended or basic) filling `bytes[..<end]`; returns its day number.
    static func parseDate(_ scanner: inout ISO8601Scanner, end: Int) throws(ISO8601Problem) -> Int {
        guard let year = scanner.digits(4) else {
            throw ISO8601Problem("the date must start with a four-digit year (YYYY-MM-DD, YYYY-DDD or YYYY-Www-D)")
        }
        guard year >= 1 else { throw ISO8601Problem("year 0000 is out of range (0001-9999)") }
        let extended = scanner.take(UInt8(ascii: "-"))
        let dayNumber: Int
        if scanner.peek == UInt8(ascii: "W") || scanner.peek == UInt8(ascii: "w") {
            if scanner.peek == UInt8(ascii: "w") { throw ISO8601Problem.upperCase(UInt8(ascii: "w")) }
            scanner.index += 1
            guard let week = scanner.digits(2) else { throw ISO8601Problem("expected a two-digit week after 'W'") }
            if extended, !scanner.take(UInt8(ascii: "-")) {
                throw ISO8601Problem("expected '-' between the week and the weekday (YYYY-Www-D)")
            }
            guard let weekday = scanner.digits(1) else { throw ISO8601Problem("expected a weekday digit (1-7)") }
            let weeks = CivilCalendar.isoWeeks(inYear: year)
            guard (1...weeks).contains(week) else {
                throw ISO8601Problem("week \(week) is out of range for \(year) (01-\(weeks))")
            }
            guard (1...7).contains(weekday) else { throw ISO8601Problem("weekday \(weekday) is out of range (1-7)") }
            dayNumber = CivilCalendar.firstISOWeekMonday(isoYear: year) + (week - 1) * 7 + (weekday - 1)
            // The last days of 9999-W52 are in January 10000, a year with no four-digit form to write back.
            guard dayNumber <= CivilCalendar.dayNumber(year: 9999, month: 12, day: 31) else {
                throw ISO8601Problem(
                    "\(year)-W\(twoDigits(week))-\(weekday) falls in year 10000, out of range (0001-9999)"
                )
            }
        } else if end - scanner.index == 3 {
            guard let ordinal = scanner.digits(3) else {
                throw ISO8601Problem("expected a three-digit day of the year")
            }
            let days = CivilCalendar.daysInYear(year)
            guard (1...days).contains(ordinal) else {
                throw ISO8601Problem("day of the year \(ordinal) is out of range for \(year) (001-\(days))")
            }
            dayNumber = CivilCalendar.dayNumber(year: year, month: 1, day: 1) + ordinal - 1
        } else {
            guard let month = scanner.digits(2) else { throw ISO8601Problem("expected a two-digit month") }
            if extended, !scanner.take(UInt8(ascii: "-")) {
                throw ISO8601Problem("expected '-' between the month and the day (YYYY-MM-DD)")
            }
            guard let day = scanner.digits(2) else { throw ISO8601Problem("expected a two-digit day of the month") }
            guard (1...12).contains(month) else { throw ISO8601Problem("month \(month) is out of range (01-12)") }
            let days = CivilCalendar.daysInMonth(year: year, month: month)
            guard (1...days).contains(day) else {
                throw ISO8601Problem("day \(day) is out of range for \(year)-\(twoDigits(month)) (01-\(days))")
            }
            dayNumber = CivilCalendar.dayNumber(year: year, month: month, day: day)
        }
        guard scanner.index == end else { throw scanner.unexpected(what: "date") }
        return dayNumber
    }
}
