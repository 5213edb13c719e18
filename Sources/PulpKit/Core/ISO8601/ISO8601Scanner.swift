/// Why a piece of ISO 8601 text was refused; the public parsers wrap it in `PulpError.invalid(field, reason)`.
struct ISO8601Problem: Error, Sendable, Equatable {
    /// A sentence that says what was wrong.
    var reason: String

    init(_ reason: String) { self.reason = reason }

    /// The text quoted for a message, shortened so a huge input cannot bloat an error body.
    static func quoted(_ text: some StringProtocol) -> String {
        text.count <= 64 ? "'\(text)'" : "'\(text.prefix(61))...'"
    }

    static func upperCase(_ byte: UInt8) -> ISO8601Problem {
        ISO8601Problem(
            "ISO 8601 designators must be upper case: found '\(Character(Unicode.Scalar(byte)))'"
        )
    }

    static let whitespace = ISO8601Problem("ISO 8601 text must not contain whitespace")
}

/// A time of day as parsed: whole seconds since midnight, the fraction of a second, and the UTC offset if given.
struct ParsedTime: Sendable, Equatable {
    /// Whole seconds since midnight, 0 ..< 86,400.
    var seconds: Int
    /// The fraction of a second, 0 ..< 1.
    var fraction: Double
    /// The UTC offset in seconds, or `nil` when the text had none.
    var utcOffset: Int?
}

/// A byte cursor over ASCII ISO 8601 text.
struct ISO8601Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ text: some StringProtocol) { bytes = Array(text.utf8) }

    var isAtEnd: Bool { index >= bytes.count }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Consumes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Whether the byte at `offset` from the cursor is an ASCII digit.
    func isDigit(at offset: Int = 0) -> Bool {
        let position = index + offset
        return position < bytes.count && bytes[position] >= UInt8(ascii: "0") && bytes[position] <= UInt8(ascii: "9")
    }

    /// Consumes exactly `count` digits and returns their value, or `nil` (consuming nothing) if they are not there.
    mutating func digits(_ count: Int) -> Int? {
        var value = 0
        for offset in 0..<count {
            guard isDigit(at: offset) else { return nil }
            value = value * 10 + Int(bytes[index + offset] - UInt8(ascii: "0"))
        }
        index += count
        return value
    }

    /// Consumes a run of digits; returns their count, the value of up to 18 leading digits, and whether more
    /// digits than that were present.
    mutating func digitRun() -> (count: Int, value: Int, overflow: Bool) {
        var count = 0
        var value = 0
        while isDigit() {
            if count < 18 { value = value * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
            count += 1
            index += 1
        }
        return (count, value, count > 18)
    }

    /// Consumes a decimal fraction introduced by `.` or `,`; `nil` if no separator is next.
    mutating func fraction() throws(ISO8601Problem) -> Double? {
        guard let separator = peek, separator == UInt8(ascii: ".") || separator == UInt8(ascii: ",") else {
            return nil
        }
        index += 1
        var mantissa = 0
        var scale = 1.0
        var count = 0
        while isDigit() {
            // 15 digits are exact in a Double; further digits are below any useful precision.
            if count < 15 {
                mantissa = mantissa * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                scale *= 10
            }
            count += 1
            index += 1
        }
        guard count > 0 else {
            throw ISO8601Problem("a decimal fraction needs digits after '\(Character(Unicode.Scalar(separator)))'")
        }
        return Double(mantissa) / scale
    }

    /// Parses a time of day to the end of the text: `hh[:mm[:ss]]` or `hh[mm[ss]]`, an optional fraction on the
    /// last component, then an optional `Z`, `±hh:mm`, `±hhmm` or `±hh`.
    mutating func time() throws(ISO8601Problem) -> ParsedTime {
        guard let hour = digits(2) else { throw ISO8601Problem("the time must start with a two-digit hour") }
        var minute = 0
        var second = 0
        var fractionUnit = 3600.0
        if take(UInt8(ascii: ":")) {
            guard let value = digits(2) else { throw ISO8601Problem("expected two-digit minutes after 'hh:'") }
            minute = value
            fractionUnit = 60
            if take(UInt8(ascii: ":")) {
                guard let value = digits(2) else { throw ISO8601Problem("expected two-digit seconds after 'hh:mm:'") }
                second = value
                fractionUnit = 1
            }
        } else if let value = digits(2) {
            minute = value
            fractionUnit = 60
            if let value = digits(2) {
                second = value
                fractionUnit = 1
            }
        }
        guard hour <= 23 else { throw ISO8601Problem("hour \(hour) is out of range (00-23)") }
        guard minute <= 59 else { throw ISO8601Problem("minute \(minute) is out of range (00-59)") }
        guard second <= 59 else { throw ISO8601Problem("second \(second) is out of range (00-59)") }
        var seconds = hour * 3600 + minute * 60 + second
        var fraction = 0.0
        if let value = try self.fraction() {
            let extra = value * fractionUnit
            let whole = extra.rounded(.down)
            seconds += Int(whole)
            fraction = extra - whole
        }
        let offset = try utcOffset()
        guard isAtEnd else { throw unexpected(what: "time") }
        return ParsedTime(seconds: seconds, fraction: fraction, utcOffset: offset)
    }

    /// Parses `Z`, `±hh:mm`, `±hhmm` or `±hh` if present.
    mutating func utcOffset() throws(ISO8601Problem) -> Int? {
        guard let byte = peek else { return nil }
        switch byte {
        case UInt8(ascii: "Z"):
            index += 1
            return 0
        case UInt8(ascii: "z"):
            throw ISO8601Problem.upperCase(byte)
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            index += 1
            guard let hours = digits(2) else {
                throw ISO8601Problem("a UTC offset needs a two-digit hour: +hh[:mm] or -hh[:mm]")
            }
            var minutes = 0
            if take(UInt8(ascii: ":")) {
                guard let value = digits(2) else {
                    throw ISO8601Problem("expected two-digit minutes in the UTC offset")
                }
                minutes = value
            } else if let value = digits(2) {
                minutes = value
            }
            guard hours <= 23 else { throw ISO8601Problem("UTC offset hour \(hours) is out of range (00-23)") }
            guard minutes <= 59 else { throw ISO8601Problem("UTC offset minute \(minutes) is out of range (00-59)") }
            let magnitude = hours * 3600 + minutes * 60
            return byte == UInt8(ascii: "-") ? -magnitude : magnitude
        default:
            return nil
        }
    }

    /// The problem for an unexpected byte at the cursor (or for missing text at the end).
    func unexpected(what: String) -> ISO8601Problem {
        guard let byte = peek else { return ISO8601Problem("the \(what) ends too early") }
        if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { return .upperCase(byte) }
        if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
        {
            return .whitespace
        }
        let text = String(decoding: bytes[index...].prefix(16), as: UTF8.self)
        return ISO8601Problem("unexpected text \(ISO8601Problem.quoted(text)) in the \(what)")
    }

    /// Whether the text holds whitespace anywhere.
    var containsWhitespace: Bool {
        bytes.contains {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r")
        }
    }
}
