/// An instant on the UTC time line, exact to the nanosecond: what a `{"$date": …}` filter value becomes.
struct QueryInstant: Sendable, Hashable, Comparable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    var seconds: Int
    /// Nanoseconds past `seconds`, in `0..<1_000_000_000`.
    var nanoseconds: Int

    static func < (lhs: QueryInstant, rhs: QueryInstant) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// Parses the one timestamp shape search criteria need: `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±hh:mm)`.
///
/// This is deliberately minimal and self-contained (no Foundation, no allocation) because it also runs
/// once per stored string when a filter compares with a `$date`. It is the single place to swap in
/// PulpKit's full ISO 8601 parser once that exists. Returns `nil` for anything else, including
/// out-of-range fields (`2014-02-30`, `T24:00:00`) and values without an offset.
func parseCriteriaTimestamp(_ text: String) -> QueryInstant? {
    var text = text
    return text.withUTF8 { bytes in parseCriteriaTimestamp(bytes) }
}

private func parseCriteriaTimestamp(_ bytes: UnsafeBufferPointer<UInt8>) -> QueryInstant? {
    // Fixed part: YYYY-MM-DDTHH:MM:SS is 19 bytes; the shortest suffix is "Z".
    guard bytes.count >= 20 else { return nil }
    func digits(_ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<start + count {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
    guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
        bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
        let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
        let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
        (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year),
        hour < 24, minute < 60, second < 60
    else { return nil }

    var index = 19
    var nanoseconds = 0
    if bytes[index] == UInt8(ascii: ".") {
        index += 1
        var scale = 100_000_000
        let start = index
        while index < bytes.count, let digit = digits(index, 1) {
            nanoseconds += digit * scale
            scale /= 10
            index += 1
        }
        guard index > start else { return nil }
    }

    guard index < bytes.count else { return nil }
    var offsetSeconds = 0
    switch bytes[index] {
    case UInt8(ascii: "Z"):
        index += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
        guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
            let offsetHours = digits(index + 1, 2), let offsetMinutes = digits(index + 4, 2),
            offsetHours < 24, offsetMinutes < 60
        else { return nil }
        offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        index += 6
    default:
        return nil
    }
    guard index == bytes.count else { return nil }

    let days = daysSinceEpoch(year: year, month: month, day: day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
    return QueryInstant(seconds: seconds, nanoseconds: nanoseconds)
}

private func daysInMonth(_ month: Int, year: Int) -> Int {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
private func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}
