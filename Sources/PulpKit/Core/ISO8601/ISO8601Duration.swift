/// A positive ISO 8601 duration `PnYnMnWnDTnHnMnS`: a calendar part in months and a fixed part in seconds.
///
/// Years and months are whole (they have no fixed length); weeks, days, hours, minutes and seconds are exact, with
/// UTC days of 86,400 s. Zero durations are refused, unlike Pulp 2, which crashes on them, and so are durations
/// without a calendar part shorter than a millisecond.
public struct ISO8601Duration: Sendable, Hashable, CustomStringConvertible {
    /// The components as written; absent components are zero.
    public struct Components: Sendable, Hashable {
        /// The `nY` component.
        public let years: Int
        /// The `nM` component before `T`.
        public let months: Int
        /// The `nW` component.
        public let weeks: Double
        /// The `nD` component.
        public let days: Double
        /// The `nH` component.
        public let hours: Double
        /// The `nM` component after `T`.
        public let minutes: Double
        /// The `nS` component.
        public let seconds: Double
    }

    /// The components as written.
    public let components: Components
    /// The calendar part: `years * 12 + months`, added as calendar months with end-of-month clamping.
    public let months: Int
    /// The fixed part in seconds: weeks, days, hours, minutes and seconds.
    public let seconds: Double

    /// Whether the duration has a calendar part (years or months), whose length depends on where it starts.
    public var isCalendar: Bool { months != 0 }

    /// Parses `PnYnMnWnDTnHnMnS` (e.g. `PT1H`, `P1DT`, `P1W2D`, `PT1.5H`); failures name `field`.
    public init(parsing text: String, field: String = "duration") throws(PulpError) {
        do {
            self = try Self.parse(text)
        } catch {
            throw PulpError.invalid(field, error.reason)
        }
    }

    init(components: Components) {
        self.components = components
        months = components.years * 12 + components.months
        seconds =
            components.weeks * 604_800 + components.days * 86_400 + components.hours * 3600 + components.minutes * 60
            + components.seconds
    }

    /// The canonical form: zero components dropped, no dangling `T` (`P1DT` is `P1D`), fractions kept (`PT1.5H`).
    /// A component that nine decimals write as 0 is dropped too, so that the text reads back as itself.
    public var description: String {
        func written(_ parts: [(Double, String)]) -> String {
            parts.map { (Self.format($0.0), $0.1) }.filter { $0.0 != "0" }.map { $0.0 + $0.1 }.joined()
        }
        let date = written([
            (Double(components.years), "Y"), (Double(components.months), "M"), (components.weeks, "W"),
            (components.days, "D"),
        ])
        let time = written([(components.hours, "H"), (components.minutes, "M"), (components.seconds, "S")])
        let text = "P" + date + (time.isEmpty ? "" : "T" + time)
        return text == "P" ? "PT0S" : text
    }
}

// MARK: - Parsing

extension ISO8601Duration {
    /// The longest duration accepted: 10,000 years, so grid arithmetic can never overflow.
    static let maximumMonths = 120_000
    /// The longest fixed part accepted: 10,000 years of 365.25 days.
    static let maximumSeconds = 315_576_000_000.0
    /// The shortest fixed-only duration accepted: a millisecond. Shorter steps would run a grid out of indices
    /// within a human lifetime and fall below what a `Date` in year 9999 can tell apart.
    static let minimumSeconds = 0.001

    /// Parses the grammar of ``init(parsing:field:)``.
    static func parse(_ text: some StringProtocol) throws(ISO8601Problem) -> ISO8601Duration {
        var scanner = ISO8601Scanner(text)
        guard let first = scanner.peek else { throw ISO8601Problem("a duration must not be empty") }
        if first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            throw ISO8601Problem(
                "a duration must not carry a sign: \(ISO8601Problem.quoted(text)); intervals run forwards only"
            )
        }
        if first == UInt8(ascii: "p") { throw ISO8601Problem.upperCase(first) }
        guard scanner.take(UInt8(ascii: "P")) else {
            throw ISO8601Problem("\(ISO8601Problem.quoted(text)) is not an ISO 8601 duration (PnYnMnWnDTnHnMnS)")
        }
        if scanner.containsWhitespace { throw ISO8601Problem.whitespace }
        guard !scanner.isAtEnd else {
            throw ISO8601Problem("'P' alone is not a duration: give at least one component, e.g. P1D or PT1H")
        }
        // Slots in order: Y M W D | H M S.
        var values = [Double](repeating: 0, count: 7)
        var lastSlot = -1
        var inTime = false
        var fractionalSlot: Int?
        while let byte = scanner.peek {
            if byte == UInt8(ascii: "T") {
                guard !inTime else { throw ISO8601Problem("a duration has at most one time designator 'T'") }
                inTime = true
                scanner.index += 1
                continue
            }
            guard scanner.isDigit() else { throw scanner.unexpected(what: "duration") }
            let integer = scanner.digitRun()
            guard !integer.overflow else { throw tooLong }
            let fraction = try scanner.fraction()
            guard let designator = scanner.peek else {
                throw ISO8601Problem("the number at the end of the duration has no designator (Y, M, W, D, H, M or S)")
            }
            let slot: Int
            switch (designator, inTime) {
            case (UInt8(ascii: "Y"), false): slot = 0
            case (UInt8(ascii: "M"), false): slot = 1
            case (UInt8(ascii: "W"), false): slot = 2
            case (UInt8(ascii: "D"), false): slot = 3
            case (UInt8(ascii: "H"), true): slot = 4
            case (UInt8(ascii: "M"), true): slot = 5
            case (UInt8(ascii: "S"), true): slot = 6
            default:
                if designator >= UInt8(ascii: "a") && designator <= UInt8(ascii: "z") {
                    throw ISO8601Problem.upperCase(designator)
                }
                let name = Character(Unicode.Scalar(designator))
                throw ISO8601Problem(
                    inTime
                        ? "'\(name)' is not a time component of a duration (H, M or S after 'T')"
                        : "'\(name)' is not a date component of a duration (Y, M, W or D before 'T')"
                )
            }
            scanner.index += 1
            guard slot > lastSlot else {
                throw ISO8601Problem("duration components must appear once each, in the order Y M W D T H M S")
            }
            if fractionalSlot != nil {
                throw ISO8601Problem("only the last (lowest-order) component of a duration may have a fraction")
            }
            if let fraction {
                guard slot >= 2 else {
                    throw ISO8601Problem(
                        "fractional years and months are not supported: they have no exact calendar length"
                    )
                }
                fractionalSlot = slot
                values[slot] = Double(integer.value) + fraction
            } else {
                values[slot] = Double(integer.value)
            }
            lastSlot = slot
        }
        guard values[0] * 12 + values[1] <= Double(maximumMonths) else { throw tooLong }
        let duration = ISO8601Duration(
            components: Components(
                years: Int(values[0]),
                months: Int(values[1]),
                weeks: values[2],
                days: values[3],
                hours: values[4],
                minutes: values[5],
                seconds: values[6]
            )
        )
        guard duration.seconds <= maximumSeconds else { throw tooLong }
        guard duration.months > 0 || duration.seconds > 0 else {
            throw ISO8601Problem("the interval must be longer than zero: \(ISO8601Problem.quoted(text)) is empty")
        }
        guard duration.months > 0 || duration.seconds >= minimumSeconds else {
            throw ISO8601Problem(
                "the interval \(ISO8601Problem.quoted(text)) is shorter than a millisecond, the shortest supported"
            )
        }
        return duration
    }

    static var tooLong: ISO8601Problem { ISO8601Problem("the duration is too long: at most 10,000 years") }

    /// A component value without exponent notation: `1`, `1.5`, `0.000001` (at most nine decimals).
    static func format(_ value: Double) -> String {
        let whole = value.rounded(.down)
        var nanos = Int(((value - whole) * 1_000_000_000).rounded())
        var integer = Int(whole)
        if nanos == 1_000_000_000 {
            integer += 1
            nanos = 0
        }
        guard nanos != 0 else { return String(integer) }
        var digits = String(nanos)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(integer).\(digits)"
    }
}
