/// Why one part of the criteria is invalid; the caller turns it into a ``PulpError/Problem`` for its key.
struct CriteriaIssue: Error {
    /// What was wrong, for the error message.
    let reason: String

    init(_ reason: String) { self.reason = reason }
}

/// A dotted field path split once at compile time.
struct FieldPath: Sendable {
    /// The components between the dots, e.g. `pkglist`, `0`, `name`.
    let components: [String]
    /// Each component's value as an array index, when it is a non-negative decimal integer.
    let indices: [Int?]

    init(_ dotted: String) {
        components = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        indices = components.map { component in
            component.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ? Int(component) : nil
        }
    }
}

/// A compiled filter document: the AST that ``Criteria/matches(_:)`` walks for every document.
enum FilterNode: Sendable {
    /// The empty filter.
    case matchAll
    /// Every child matches (`$and`, or several keys in one filter object).
    case and([FilterNode])
    /// At least one child matches.
    case or([FilterNode])
    /// No child matches.
    case nor([FilterNode])
    /// A test on the values found at a path.
    case field(FieldClause)
}

/// One field's test. A class, so that walking the AST copies one reference rather than the path's arrays.
final class FieldClause: Sendable {
    /// Where the values are.
    let path: FieldPath
    /// What they must pass.
    let test: FieldTest
    /// The key of a one-component path such as `state`, which resolves with a single dictionary lookup.
    let simpleKey: String?

    init(path: FieldPath, test: FieldTest) {
        self.path = path
        self.test = test
        simpleKey = path.components.count == 1 ? path.components[0] : nil
    }
}

/// A test on all the values a path resolves to in one document (several when it crosses arrays).
enum FieldTest: Sendable {
    /// Some value passes (or, for a missing field, the missing value passes).
    case any(ValueTest)
    /// No value passes: `$ne`, `$nin`.
    case none(ValueTest)
    /// Whether the path resolves to at least one present value.
    case exists(Bool)
    /// The negation of a test: `$not`.
    indirect case not(FieldTest)
    /// All tests pass: several operators in one object, `$all`.
    case all([FieldTest])
    /// A fixed answer, e.g. `$all: []` matches nothing.
    case constant(Bool)
}

/// A test on one value found at a path; `nil` stands for a missing field.
enum ValueTest: Sendable {
    /// Equality; an array also matches when one of its elements is equal.
    case equals(QueryValue)
    /// `$gt`, `$gte`, `$lt`, `$lte` within one type bracket; an array also matches by its elements.
    case compare(ComparisonOperator, QueryValue)
    /// `$in`: equality with one of the operands.
    case oneOf(OperandSet)
    /// `$regex`: strings, or arrays with a matching string element.
    case regex(CriteriaRegex)
    /// `$size`: an array with exactly this many elements.
    case size(Int)
    /// `$elemMatch` with operators: an array element that passes the test.
    indirect case elementMatches(FieldTest)
    /// `$elemMatch` with a filter document: an object element that matches it.
    indirect case elementMatchesDocument(FilterNode)
}

/// The four ordering operators.
enum ComparisonOperator: Sendable {
    case greaterThan
    case greaterThanOrEqual
    case lessThan
    case lessThanOrEqual

    /// Whether an order (negative: the stored value is smaller) satisfies the operator.
    @inline(__always)
    func accepts(_ order: Int) -> Bool {
        switch self {
        case .greaterThan: order > 0
        case .greaterThanOrEqual: order >= 0
        case .lessThan: order < 0
        case .lessThanOrEqual: order <= 0
        }
    }
}

/// The operands of `$in`/`$nin`, with a hashed index of the strings when the list is long.
struct OperandSet: Sendable {
    /// Every operand, in the client's order.
    let values: [QueryValue]
    /// The string operands, hashed by their UTF-8, when there are more than a handful.
    let strings: Set<UTF8Key>?
    /// The operands that are not strings, checked one by one when `strings` is in use.
    let others: [QueryValue]
    /// Whether `null` is an operand, so that a missing field matches.
    let containsNull: Bool

    init(_ values: [QueryValue]) {
        self.values = values
        containsNull = values.contains(.null)
        var strings: Set<UTF8Key> = []
        var others: [QueryValue] = []
        for value in values {
            if case .string(let text) = value { strings.insert(UTF8Key(text)) } else { others.append(value) }
        }
        self.strings = strings.count > 8 ? strings : nil
        self.others = others
    }

    /// Whether `value` equals one of the operands.
    @inline(__always)
    func contains(_ value: JSONValue) -> Bool {
        if let strings {
            if case .string(let text) = value { return strings.contains(UTF8Key(text)) }
            for operand in others where operand.equals(value) { return true }
            return false
        }
        for operand in values where operand.equals(value) { return true }
        return false
    }
}

/// A string hashed and compared by its UTF-8 bytes, matching ``utf8Equal(_:_:)``.
struct UTF8Key: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool { utf8Equal(lhs.text, rhs.text) }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        if hashed == nil {
            Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
        hasher.combine(text.utf8.count)
    }
}
