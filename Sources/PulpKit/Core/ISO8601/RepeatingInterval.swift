public import Foundation

/// A schedule as Pulp writes it: an ISO 8601 repeating interval such as `R5/2014-01-27T21:41:50Z/PT1H`,
/// `PT1H` or `00:00:00Z/P1DT`.
///
/// Parts are split on `/` or `--` and may come in any order: at most one `R<n>`, exactly one duration and at most
/// one start. Unlike Pulp 2, a time-only start and a months-or-years duration without a start are accepted.
public struct RepeatingInterval: Sendable, Hashable, CustomStringConvertible {
    /// Where the schedule's grid starts.
    public enum Start: Sendable, Hashable, CustomStringConvertible {
        /// A full date-time such as `2014-01-27T21:41:50Z`.
        case dateTime(ISO8601DateTime)
        /// A time of day such as `00:00:00Z`, taken on the day the schedule is created.
        case timeOfDay(ISO8601TimeOfDay)

        /// The canonical form of the start.
        public var description: String {
            switch self {
            case .dateTime(let value): value.description
            case .timeOfDay(let value): value.description
            }
        }

        /// The UTC offset the start was written with, `nil` if none.
        public var utcOffsetSeconds: Int? {
            switch self {
            case .dateTime(let value): value.utcOffsetSeconds
            case .timeOfDay(let value): value.utcOffsetSeconds
            }
        }
    }

    /// The number of runs from `R<n>` (at least 1), or `nil` to repeat forever.
    public let recurrences: Int?
    /// The start, or `nil` to start when the schedule is created.
    public let start: Start?
    /// The length of one interval.
    public let duration: ISO8601Duration

    /// Builds an interval from its parts; `recurrences`, when given, must be at least 1.
    public init(duration: ISO8601Duration, start: Start? = nil, recurrences: Int? = nil) {
        precondition((recurrences ?? 1) >= 1, "a repeating interval needs at least one recurrence")
        self.duration = duration
        self.start = start
        self.recurrences = recurrences
    }

    /// Parses a schedule string; every failure is a `PulpError.invalid(field, reason)` saying what was wrong.
    public init(parsing text: String, field: String = "schedule") throws(PulpError) {
        do {
            self = try Self.parse(text)
        } catch {
            throw PulpError.invalid(field, error.reason)
        }
    }

    /// The canonical form: `R<n>/<start>/<duration>`, leaving out the parts that are absent.
    public var description: String {
        var parts: [String] = []
        if let recurrences { parts.append("R\(recurrences)") }
        if let start { parts.append(start.description) }
        parts.append(duration.description)
        return parts.joined(separator: "/")
    }
}

// MARK: - Anchoring

extension RepeatingInterval {
    /// The first slot of the grid, to whole seconds: the start; a time-of-day start on the creation day (in the
    /// start's offset); or the creation time when there is no start.
    public func anchor(createdAt: Date) -> Date {
        switch start {
        case .dateTime(let value):
            return ISO8601DateTime.truncated(value.date)
        case .timeOfDay(let value):
            let offset = value.utcOffsetSeconds ?? 0
            let created = ISO8601DateTime.wholeSeconds(createdAt)
            let day = CivilCalendar.floorDivide(created + offset, CivilCalendar.secondsPerDay)
            let seconds = day * CivilCalendar.secondsPerDay + Int(value.secondsSinceMidnight.rounded(.down)) - offset
            return Date(timeIntervalSince1970: Double(seconds))
        case nil:
            return ISO8601DateTime.truncated(createdAt)
        }
    }

    /// Pulp's `first_run`: the anchor written with the start's own offset (`Z` without a start), no fraction.
    public func firstRun(createdAt: Date) -> ISO8601DateTime {
        // No start means "now", which Pulp writes in UTC with a `Z`; a naive start stays naive.
        let offset: Int? = if let start { start.utcOffsetSeconds } else { 0 }
        return ISO8601DateTime(date: anchor(createdAt: createdAt), utcOffsetSeconds: offset)
    }

    /// The grid of run slots: the anchor, then every ``duration`` counted from it.
    public func grid(createdAt: Date) -> ScheduleGrid {
        ScheduleGrid(anchor: anchor(createdAt: createdAt), duration: duration)
    }
}

// MARK: - Parsing

extension RepeatingInterval {
    /// Parses the grammar of ``init(parsing:field:)``.
    static func parse(_ text: String) throws(ISO8601Problem) -> RepeatingInterval {
        guard !text.isEmpty else { throw ISO8601Problem("the schedule must not be empty") }
        var recurrences: Int?
        var start: Start?
        var duration: ISO8601Duration?
        for part in split(text) {
            guard let first = part.utf8.first else {
                throw ISO8601Problem("the schedule \(ISO8601Problem.quoted(text)) has an empty part")
            }
            let second = part.utf8.dropFirst().first
            switch first {
            case UInt8(ascii: "R"), UInt8(ascii: "r"):
                guard recurrences == nil else { throw ISO8601Problem("Multiple recurrences specified") }
                recurrences = try parseRecurrences(part)
            case UInt8(ascii: "P"), UInt8(ascii: "p"):
                guard duration == nil else { throw ISO8601Problem("Multiple interval durations specified") }
                duration = try ISO8601Duration.parse(part)
            case UInt8(ascii: "+") where second == UInt8(ascii: "P"),
                UInt8(ascii: "-") where second == UInt8(ascii: "P"):
                throw ISO8601Problem("a duration must not carry a sign: \(ISO8601Problem.quoted(part))")
            default:
                guard start == nil else { throw ISO8601Problem("Interval with start and end times is not supported") }
                start = try parseStart(part)
            }
        }
        guard let duration else { throw ISO8601Problem("No interval specification found") }
        return RepeatingInterval(duration: duration, start: start, recurrences: recurrences)
    }

    /// Splits on `/` and `--`, keeping empty parts so they can be reported.
    static func split(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var partStart = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "/" {
                parts.append(text[partStart..<index])
                index = text.index(after: index)
                partStart = index
            } else if text[index] == "-", text[index...].hasPrefix("--") {
                parts.append(text[partStart..<index])
                index = text.index(index, offsetBy: 2)
                partStart = index
            } else {
                index = text.index(after: index)
            }
        }
        parts.append(text[partStart...])
        return parts
    }

    /// Parses `R<n>` with n >= 1 (`R05` is 5).
    static func parseRecurrences(_ part: Substring) throws(ISO8601Problem) -> Int {
        var scanner = ISO8601Scanner(part)
        if scanner.take(UInt8(ascii: "r")) { throw ISO8601Problem.upperCase(UInt8(ascii: "r")) }
        _ = scanner.take(UInt8(ascii: "R"))
        guard !scanner.isAtEnd else {
            throw ISO8601Problem("an unbounded recurrence 'R' is not supported: leave R<n> out to repeat forever")
        }
        let run = scanner.digitRun()
        guard run.count > 0, scanner.isAtEnd else {
            throw ISO8601Problem("\(ISO8601Problem.quoted(part)) is not a recurrence count: expected R<n> with n >= 1")
        }
        guard !run.overflow else {
            throw ISO8601Problem("the recurrence count in \(ISO8601Problem.quoted(part)) is too large")
        }
        guard run.value >= 1 else {
            throw ISO8601Problem("the recurrence count must be at least 1: \(ISO8601Problem.quoted(part))")
        }
        return run.value
    }

    /// Parses a start: a date-time (with `T`), or a time of day (`hh:mm[:ss]…` or `Thh…`).
    static func parseStart(_ part: Substring) throws(ISO8601Problem) -> Start {
        if part.utf8.first == UInt8(ascii: "T") || ISO8601TimeOfDay.looksLikeTime(part) {
            return .timeOfDay(try ISO8601TimeOfDay.parse(part))
        }
        return .dateTime(try ISO8601DateTime.parse(String(part)))
    }
}
