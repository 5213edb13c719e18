/// A filter operand after compilation: a ``JSONValue`` in which `{"$date": …}` objects became instants.
enum QueryValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case date(QueryInstant)
    case array([QueryValue])
    case object([String: QueryValue])
}

/// Mongo's canonical type order, used for sorting and for the type bracketing of comparisons.
///
/// Documents never hold dates (``JSONValue`` has no such case): a date operand meets stored ISO
/// timestamp strings through ``QueryValue/compare(_:)`` instead.
enum TypeBracket: Int, Comparable {
    case null
    case number
    case string
    case object
    case array
    case bool
    case date

    static func < (lhs: TypeBracket, rhs: TypeBracket) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension JSONValue {
    /// The type bracket of a stored value.
    var bracket: TypeBracket {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int, .double: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }
}

// MARK: - Equality and comparison against stored values

extension QueryValue {
    /// Whether `value` equals this operand as Mongo sees it: numbers numerically, strings by Unicode
    /// scalars, a date against an ISO timestamp string by instant, arrays and objects member by member.
    func equals(_ value: JSONValue) -> Bool {
        switch self {
        case .string(let operand):
            guard case .string(let stored) = value else { return false }
            return utf8Equal(operand, stored)
        case .int(let operand):
            switch value {
            case .int(let stored): return operand == stored
            case .double(let stored): return compareNumbers(operand, stored) == 0
            default: return false
            }
        case .double(let operand):
            switch value {
            case .int(let stored): return compareNumbers(stored, operand) == 0
            case .double(let stored): return operand == stored
            default: return false
            }
        case .null:
            return value == .null
        case .bool(let operand):
            guard case .bool(let stored) = value else { return false }
            return operand == stored
        case .date(let operand):
            guard case .string(let stored) = value else { return false }
            return parseCriteriaTimestamp(stored) == operand
        case .array(let operands):
            guard case .array(let stored) = value, operands.count == stored.count else { return false }
            for (operand, element) in zip(operands, stored) where !operand.equals(element) { return false }
            return true
        case .object(let operands):
            guard case .object(let stored) = value, operands.count == stored.count else { return false }
            for (key, operand) in operands {
                guard let member = stored[key], operand.equals(member) else { return false }
            }
            return true
        }
    }

    /// How `value` orders against this operand (negative: `value` is smaller), or `nil` when they are in
    /// different type brackets, which never satisfy `$gt`, `$gte`, `$lt` or `$lte`.
    ///
    /// `nil` stands for a missing field, which brackets with `null`.
    func compare(_ value: JSONValue?) -> Int? {
        switch self {
        case .int(let operand):
            switch value {
            case .int(let stored)?: return stored < operand ? -1 : (stored == operand ? 0 : 1)
            case .double(let stored)?: return -compareNumbers(operand, stored)
            default: return nil
            }
        case .double(let operand):
            switch value {
            case .int(let stored)?: return compareNumbers(stored, operand)
            case .double(let stored)?: return compareDoubles(stored, operand)
            default: return nil
            }
        case .string(let operand):
            guard case .string(let stored)? = value else { return nil }
            return utf8Compare(stored, operand)
        case .date(let operand):
            guard case .string(let stored)? = value, let instant = parseCriteriaTimestamp(stored) else { return nil }
            return instant < operand ? -1 : (instant == operand ? 0 : 1)
        case .null:
            return value == nil || value == .null ? 0 : nil
        case .bool(let operand):
            guard case .bool(let stored)? = value else { return nil }
            return stored == operand ? 0 : (stored ? 1 : -1)
        case .array, .object:
            let operand = jsonValue
            guard let value, value.bracket == operand.bracket else { return nil }
            return orderValues(value, operand)
        }
    }

    /// The operand as a plain JSON value; dates become their UTC `Z` timestamp text.
    var jsonValue: JSONValue {
        switch self {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .date(let instant): .string(formatCriteriaTimestamp(instant))
        case .array(let elements): .array(elements.map(\.jsonValue))
        case .object(let members): .object(members.mapValues(\.jsonValue))
        }
    }
}

/// Formats an instant as `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`, for ordering operands against stored arrays
/// and objects (where a date can only meet strings).
private func formatCriteriaTimestamp(_ instant: QueryInstant) -> String {
    let days = instant.seconds >= 0 ? instant.seconds / 86_400 : (instant.seconds - 86_399) / 86_400
    let secondOfDay = instant.seconds - days * 86_400
    // Howard Hinnant's `civil_from_days`.
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
    text += "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
    if instant.nanoseconds > 0 { text += ".\(pad(instant.nanoseconds, 9))" }
    return text + "Z"
}

// MARK: - Primitive comparisons

/// Compares an integer with a floating-point number exactly (no rounding of large integers).
@inline(__always)
func compareNumbers(_ integer: Int, _ double: Double) -> Int {
    if double.isNaN { return 1 }  // Mongo orders NaN below every other number.
    if double >= 9_223_372_036_854_775_808.0 { return -1 }
    if double < -9_223_372_036_854_775_808.0 { return 1 }
    let whole = double.rounded(.down)
    let wholeInteger = Int(whole)
    if integer != wholeInteger { return integer < wholeInteger ? -1 : 1 }
    return whole == double ? 0 : -1
}

/// Compares two doubles, ordering NaN first as Mongo does.
@inline(__always)
func compareDoubles(_ lhs: Double, _ rhs: Double) -> Int {
    if lhs < rhs { return -1 }
    if lhs > rhs { return 1 }
    if lhs == rhs { return 0 }
    return lhs.isNaN ? (rhs.isNaN ? 0 : -1) : 1
}

/// Whether two strings have the same Unicode scalars (Mongo compares bytes, not canonical equivalence).
@inline(__always)
func utf8Equal(_ lhs: String, _ rhs: String) -> Bool {
    let left = lhs.utf8
    let right = rhs.utf8
    guard left.count == right.count else { return false }
    let fast = left.withContiguousStorageIfAvailable { leftBytes in
        right.withContiguousStorageIfAvailable { rightBytes in
            var index = 0
            while index < leftBytes.count {
                if leftBytes[index] != rightBytes[index] { return false }
                index += 1
            }
            return true
        }
    }
    if case .some(.some(let equal)) = fast { return equal }
    return left.elementsEqual(right)
}

/// Orders two strings by Unicode scalar value, which is the byte order of their UTF-8.
func utf8Compare(_ lhs: String, _ rhs: String) -> Int {
    let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
        rhs.utf8.withContiguousStorageIfAvailable { right in
            for index in 0..<min(left.count, right.count) where left[index] != right[index] {
                return left[index] < right[index] ? -1 : 1
            }
            return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
        }
    }
    if case .some(.some(let order)) = fast { return order }
    var left = lhs.utf8.makeIterator()
    var right = rhs.utf8.makeIterator()
    while true {
        switch (left.next(), right.next()) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case (let leftByte?, let rightByte?):
            if leftByte != rightByte { return leftByte < rightByte ? -1 : 1 }
        }
    }
}

/// Mongo's total order on stored values: brackets first, then numbers numerically, strings by scalars,
/// objects by their sorted (key, value) pairs, arrays element by element, `false` before `true`.
func orderValues(_ lhs: JSONValue, _ rhs: JSONValue) -> Int {
    // Nested switches rather than a switch over a tuple, which would copy both payloads.
    switch lhs {
    case .int(let left):
        switch rhs {
        case .int(let right): return left < right ? -1 : (left == right ? 0 : 1)
        case .double(let right): return compareNumbers(left, right)
        default: break
        }
    case .double(let left):
        switch rhs {
        case .int(let right): return -compareNumbers(right, left)
        case .double(let right): return compareDoubles(left, right)
        default: break
        }
    case .string(let left):
        if case .string(let right) = rhs { return utf8Compare(left, right) }
    case .null:
        if case .null = rhs { return 0 }
    case .bool(let left):
        if case .bool(let right) = rhs { return left == right ? 0 : (left ? 1 : -1) }
    case .array(let left):
        if case .array(let right) = rhs { return orderArrays(left, right) }
    case .object(let left):
        if case .object(let right) = rhs { return orderObjects(left, right) }
    }
    let leftBracket = lhs.bracket
    let rightBracket = rhs.bracket
    return leftBracket == rightBracket ? 0 : (leftBracket < rightBracket ? -1 : 1)
}

private func orderArrays(_ left: [JSONValue], _ right: [JSONValue]) -> Int {
    for (leftElement, rightElement) in zip(left, right) {
        let order = orderValues(leftElement, rightElement)
        if order != 0 { return order }
    }
    return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
}

private func orderObjects(_ left: [String: JSONValue], _ right: [String: JSONValue]) -> Int {
    let leftKeys = left.keys.sorted { utf8Compare($0, $1) < 0 }
    let rightKeys = right.keys.sorted { utf8Compare($0, $1) < 0 }
    for (leftKey, rightKey) in zip(leftKeys, rightKeys) {
        let keyOrder = utf8Compare(leftKey, rightKey)
        if keyOrder != 0 { return keyOrder }
        let order = orderValues(left[leftKey]!, right[rightKey]!)
        if order != 0 { return order }
    }
    return leftKeys.count == rightKeys.count ? 0 : (leftKeys.count < rightKeys.count ? -1 : 1)
}
