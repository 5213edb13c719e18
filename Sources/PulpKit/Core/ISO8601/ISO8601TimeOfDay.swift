/// A time of day without a date, such as `00:00:00Z` or `T09:30+05:30`: the start of the spec's sample schedule
/// `00:00:00Z/P1DT`.
public struct ISO8601TimeOfDay: Sendable, Hashable, CustomStringConvertible {
    /// Seconds since midnight in the time's own offset, 0 ..< 86,400, with any fraction of a second.
    public let secondsSinceMidnight: Double
    /// The UTC offset in seconds as written, or `nil` when there was none (read as UTC).
    public let utcOffsetSeconds: Int?

    init(_ time: ParsedTime) {
        // Twelve nines after 23:59:59 would round to 86,400 in a Double: keep the written second.
        secondsSinceMidnight = min(Double(time.seconds) + time.fraction, Double(time.seconds + 1).nextDown)
        utcOffsetSeconds = time.utcOffset
    }

    /// Parses `hh:mm[:ss][.f]` with an optional offset, or any ISO 8601 time after a leading `T` (`T0930Z`);
    /// failures name `field`.
    public init(parsing text: String, field: String = "time") throws(PulpError) {
        do {
            self = try Self.parse(text)
        } catch {
            throw PulpError.invalid(field, error.reason)
        }
    }

    /// The canonical form: `HH:MM:SS`, a fraction only if there is one, then `Z` or the kept offset.
    ///
    /// Written from ``secondsSinceMidnight`` itself: rounding through a `Date` could carry `23:59:59.9999999` over
    /// to `00:00:00`, a day earlier for a schedule's anchor.
    public var description: String {
        let whole = secondsSinceMidnight.rounded(.down)
        let second = Int(whole)
        return ISO8601DateTime.twoDigits(second / 3600) + ":" + ISO8601DateTime.twoDigits(second / 60 % 60) + ":"
            + ISO8601DateTime.twoDigits(second % 60)
            + ISO8601DateTime.fractionAndOffset(secondsSinceMidnight - whole, offset: utcOffsetSeconds ?? 0)
    }

    /// Whether `text` looks like an extended-format time of day (`hh:`), so its errors are worth reporting as such.
    static func looksLikeTime(_ text: some StringProtocol) -> Bool {
        let scanner = ISO8601Scanner(text)
        return scanner.isDigit(at: 0) && scanner.isDigit(at: 1) && scanner.bytes.count > 2
            && scanner.bytes[2] == UInt8(ascii: ":")
    }

    /// Parses the grammar of ``init(parsing:field:)``.
    static func parse(_ text: some StringProtocol) throws(ISO8601Problem) -> ISO8601TimeOfDay {
        var scanner = ISO8601Scanner(text)
        guard !scanner.bytes.isEmpty else { throw ISO8601Problem("a time of day must not be empty") }
        if scanner.containsWhitespace { throw ISO8601Problem.whitespace }
        if scanner.peek == UInt8(ascii: "t") { throw ISO8601Problem.upperCase(UInt8(ascii: "t")) }
        if !scanner.take(UInt8(ascii: "T")), !looksLikeTime(text) {
            throw ISO8601Problem("a time of day needs the extended form hh:mm[:ss] or a leading 'T'")
        }
        return ISO8601TimeOfDay(try scanner.time())
    }
}
