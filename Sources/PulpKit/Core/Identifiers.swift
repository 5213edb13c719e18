import Foundation

/// A typed identifier: a string that can only be used where its kind of resource is expected.
///
/// Conformers are one-line structs (``RepositoryID``, ``TaskID`` …); everything else comes from here.
public protocol PulpIdentifier: RawRepresentable<String>, Hashable, Comparable, Sendable, Codable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    /// Wraps a raw string.
    init(rawValue: String)
}

extension PulpIdentifier {
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.init(rawValue: rawValue) }

    /// Wraps a string literal.
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    /// The raw string.
    public var description: String { rawValue }

    /// Orders identifiers by their raw strings.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes from a plain JSON string.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes as a plain JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// A new random identifier: a lowercase version-4 UUID, as Pulp gives tasks.
    public static func random() -> Self { Self(rawValue: randomUUIDString()) }
}

/// Identifies a repository (`pulp:repository:<id>`).
public struct RepositoryID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a consumer (`pulp:consumer:<id>`).
public struct ConsumerID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a dispatched task.
public struct TaskID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a group of tasks dispatched together.
public struct TaskGroupID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a hold: tasks stored ahead of their submission (see ``TaskStore``'s rule 7).
public struct TaskHoldID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a scheduled call.
public struct ScheduleID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a content unit.
public struct UnitID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a sync history entry.
public struct HistoryEntryID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

extension UnitID {
    /// A new identifier that sorts after those made before it: a version-7 UUID (milliseconds since 1970,
    /// then random bits), so a batch of new units lands at the end of the stores' id indexes.
    public static func timeOrdered() -> UnitID { UnitID(rawValue: timeOrderedUUIDString()) }
}

/// A random version-4 UUID in lowercase, formatted without Foundation (it is on every dispatch's path).
func randomUUIDString() -> String {
    var generator = SystemRandomNumberGenerator()
    return uuidString(high: generator.next() & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000, low: generator.next())
}

/// A version-7 UUID in lowercase: 48 bits of Unix milliseconds, then random bits.
func timeOrderedUUIDString() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let milliseconds = UInt64(now.tv_sec) &* 1000 &+ UInt64(now.tv_nsec / 1_000_000)
    var generator = SystemRandomNumberGenerator()
    let high = milliseconds << 16 | (generator.next() & 0x0FFF) | 0x7000
    return uuidString(high: high, low: generator.next())
}

/// Formats 128 bits as a UUID, setting the RFC 4122 variant bits of `low`.
private func uuidString(high: UInt64, low rawLow: UInt64) -> String {
    let low = rawLow & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
    let hex = Array("0123456789abcdef".utf8)
    return String(unsafeUninitializedCapacity: 36) { buffer in
        var position = 0
        for (index, word) in [high, low].enumerated() {
            for nibble in (0..<16).reversed() {
                let digits = index * 16 + (15 - nibble)
                if digits == 8 || digits == 12 || digits == 16 || digits == 20 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                buffer[position] = hex[Int(word >> (UInt64(nibble) * 4) & 0xF)]
                position += 1
            }
        }
        return position
    }
}
