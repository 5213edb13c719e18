/// A value bound to or read from an SQLite statement.
package enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    package init(nilLiteral: ()) { self = .null }
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(floatLiteral value: Double) { self = .real(value) }
    package init(stringLiteral value: String) { self = .text(value) }
    package init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}

extension SQLiteValue {
    /// An integer column value.
    package static func int(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }

    /// A Boolean stored as 0 or 1.
    package static func bool(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }

    /// A text value, or null for `nil`.
    package static func optionalText(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }

    /// An integer value, or null for `nil`.
    package static func optionalInt(_ value: Int?) -> SQLiteValue { value.map(SQLiteValue.int) ?? .null }
}
