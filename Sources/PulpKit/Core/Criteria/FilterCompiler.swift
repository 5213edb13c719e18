/// Turns a client's `filters` object into a ``FilterNode``, refusing what Mongo (or PulpKit) would refuse.
///
/// Keys are visited in sorted order so that the same filters always compile to the same tree.
enum FilterCompiler {
    typealias JSONObject = [String: JSONValue]

    /// Compiles a whole filter document.
    static func compile(_ filters: JSONObject) throws(CriteriaIssue) -> FilterNode {
        try compileDocument(filters)
    }

    private static func compileDocument(_ document: JSONObject) throws(CriteriaIssue) -> FilterNode {
        var nodes: [FilterNode] = []
        for key in document.keys.sorted() {
            let value = document[key]!
            if key.hasPrefix("$") {
                nodes.append(try compileLogical(key, value))
            } else {
                nodes.append(.field(FieldClause(path: FieldPath(key), test: try compileFieldValue(value, path: key))))
            }
        }
        switch nodes.count {
        case 0: return .matchAll
        case 1: return nodes[0]
        // Cheap, usually selective clauses first: the result is the same, the work is not.
        default:
            return .and(
                nodes.enumerated().sorted { ($0.element.cost, $0.offset) < ($1.element.cost, $1.offset) }.map(\.element)
            )
        }
    }

    private static func compileLogical(_ name: String, _ value: JSONValue) throws(CriteriaIssue) -> FilterNode {
        guard ["$and", "$or", "$nor"].contains(name) else {
            throw CriteriaIssue("unknown top-level operator '\(name)'; only $and, $or and $nor are supported")
        }
        guard case .array(let items) = value, !items.isEmpty else {
            throw CriteriaIssue("'\(name)' needs a non-empty array of filter objects, got \(describe(value))")
        }
        var children: [FilterNode] = []
        for item in items {
            guard case .object(let document) = item else {
                throw CriteriaIssue("'\(name)' needs a non-empty array of filter objects, found \(describe(item))")
            }
            children.append(try compileDocument(document))
        }
        switch name {
        case "$and": return .and(children)
        case "$or": return .or(children)
        default: return .nor(children)
        }
    }

    /// The value of a field key: an operator object, or a value for implicit equality.
    private static func compileFieldValue(_ value: JSONValue, path: String) throws(CriteriaIssue) -> FieldTest {
        if case .object(let members) = value, members.count != 1 || members["$date"] == nil {
            let operatorCount = members.keys.count { $0.hasPrefix("$") }
            if operatorCount == members.count, operatorCount > 0 {
                return try compileOperators(members, path: path)
            }
            if operatorCount > 0 {
                throw CriteriaIssue("the value of '\(path)' mixes operators and plain keys")
            }
        }
        return .any(.equals(try operand(value)))
    }

    /// An object of field operators, ANDed together.
    private static func compileOperators(_ members: JSONObject, path: String) throws(CriteriaIssue) -> FieldTest {
        var tests: [FieldTest] = []
        if members["$options"] != nil, members["$regex"] == nil {
            throw CriteriaIssue("'$options' for '\(path)' needs a '$regex' beside it")
        }
        for name in members.keys.sorted() {
            let value = members[name]!
            switch name {
            case "$eq":
                tests.append(.any(.equals(try operand(value))))
            case "$ne":
                tests.append(.none(.equals(try operand(value))))
            case "$gt":
                tests.append(.any(.compare(.greaterThan, try operand(value))))
            case "$gte":
                tests.append(.any(.compare(.greaterThanOrEqual, try operand(value))))
            case "$lt":
                tests.append(.any(.compare(.lessThan, try operand(value))))
            case "$lte":
                tests.append(.any(.compare(.lessThanOrEqual, try operand(value))))
            case "$in":
                tests.append(.any(.oneOf(try operands(value, of: name, path: path))))
            case "$nin":
                tests.append(.none(.oneOf(try operands(value, of: name, path: path))))
            case "$exists":
                guard case .bool(let flag) = value else {
                    throw CriteriaIssue("'$exists' for '\(path)' needs true or false, got \(describe(value))")
                }
                tests.append(.exists(flag))
            case "$regex":
                tests.append(.any(.regex(try regex(value, members["$options"], path: path))))
            case "$options":
                continue  // Read together with $regex.
            case "$not":
                tests.append(.not(try compileNot(value, path: path)))
            case "$all":
                tests.append(try compileAll(value, path: path))
            case "$size":
                guard case .int(let count) = value, count >= 0 else {
                    throw CriteriaIssue("'$size' for '\(path)' needs a non-negative integer, got \(describe(value))")
                }
                tests.append(.any(.size(count)))
            case "$elemMatch":
                tests.append(.any(try compileElementMatch(value, path: path)))
            default:
                throw CriteriaIssue("unknown operator '\(name)' for '\(path)'")
            }
        }
        return tests.count == 1 ? tests[0] : .all(tests)
    }

    private static func regex(
        _ pattern: JSONValue,
        _ options: JSONValue?,
        path: String
    ) throws(CriteriaIssue)
        -> CriteriaRegex
    {
        guard case .string(let text) = pattern else {
            throw CriteriaIssue("'$regex' for '\(path)' needs a string, got \(describe(pattern))")
        }
        var letters = ""
        if let options {
            guard case .string(let given) = options else {
                throw CriteriaIssue("'$options' for '\(path)' needs a string, got \(describe(options))")
            }
            letters = given
        }
        return try CriteriaRegex(pattern: text, options: letters, operatorName: "$regex")
    }

    /// `$not` takes an operator object or a string, which Pulp compiles to a regular expression.
    private static func compileNot(_ value: JSONValue, path: String) throws(CriteriaIssue) -> FieldTest {
        switch value {
        case .string(let pattern):
            return .any(.regex(try CriteriaRegex(pattern: pattern, options: "", operatorName: "$not")))
        case .object(let members) where !members.isEmpty && members.keys.allSatisfy({ $0.hasPrefix("$") }):
            return try compileOperators(members, path: path)
        default:
            throw CriteriaIssue(
                "'$not' for '\(path)' needs an operator object or a regular expression string, got \(describe(value))"
            )
        }
    }

    /// `$all`: every listed value is present; an entry may be an `$elemMatch` object.
    private static func compileAll(_ value: JSONValue, path: String) throws(CriteriaIssue) -> FieldTest {
        guard case .array(let entries) = value else {
            throw CriteriaIssue("'$all' for '\(path)' needs an array, got \(describe(value))")
        }
        guard !entries.isEmpty else { return .constant(false) }
        var tests: [FieldTest] = []
        for entry in entries {
            if case .object(let members) = entry, members.count == 1, let condition = members["$elemMatch"] {
                tests.append(.any(try compileElementMatch(condition, path: path)))
            } else {
                tests.append(.any(.equals(try operand(entry))))
            }
        }
        return tests.count == 1 ? tests[0] : .all(tests)
    }

    /// `$elemMatch` with operators (`{$gte: 80, $lt: 85}`) tests elements themselves; with field keys or
    /// logical operators it is a filter document for object elements.
    private static func compileElementMatch(_ value: JSONValue, path: String) throws(CriteriaIssue) -> ValueTest {
        guard case .object(let members) = value else {
            throw CriteriaIssue("'$elemMatch' for '\(path)' needs an object, got \(describe(value))")
        }
        let logical: Set<String> = ["$and", "$or", "$nor"]
        let isOperatorForm =
            !members.isEmpty && members.keys.allSatisfy { $0.hasPrefix("$") && !logical.contains($0) }
        if isOperatorForm {
            return .elementMatches(try compileOperators(members, path: path))
        }
        return .elementMatchesDocument(try compileDocument(members))
    }

    private static func operands(
        _ value: JSONValue,
        of operatorName: String,
        path: String
    ) throws(CriteriaIssue)
        -> OperandSet
    {
        guard case .array(let elements) = value else {
            throw CriteriaIssue("'\(operatorName)' for '\(path)' needs an array, got \(describe(value))")
        }
        var operands: [QueryValue] = []
        operands.reserveCapacity(elements.count)
        for element in elements {
            if case .object(let members) = element, members.keys.contains(where: { $0.hasPrefix("$") }),
                members.count != 1 || members["$date"] == nil
            {
                throw CriteriaIssue("'\(operatorName)' for '\(path)' cannot hold operators, found \(element)")
            }
            operands.append(try operand(element))
        }
        return OperandSet(operands)
    }

    /// A literal operand, with every one-key `{"$date": "<ISO 8601>"}` object (at any depth) turned into
    /// an instant.
    static func operand(_ value: JSONValue) throws(CriteriaIssue) -> QueryValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let elements):
            var operands: [QueryValue] = []
            operands.reserveCapacity(elements.count)
            for element in elements { operands.append(try operand(element)) }
            return .array(operands)
        case .object(let members):
            if members.count == 1, let date = members["$date"] {
                guard case .string(let text) = date, let instant = parseCriteriaTimestamp(text) else {
                    throw CriteriaIssue(
                        "'$date' needs an ISO 8601 date and time such as \"2014-01-27T21:41:50Z\", got \(date)"
                    )
                }
                return .date(instant)
            }
            var operands: [String: QueryValue] = [:]
            operands.reserveCapacity(members.count)
            for (key, member) in members { operands[key] = try operand(member) }
            return .object(operands)
        }
    }

    /// A short description of a bad operand for error messages: its JSON text, shortened.
    private static func describe(_ value: JSONValue) -> String {
        let text = value.encoded()
        return text.count > 60 ? "\(value.typeName) \(text.prefix(57))..." : "\(value.typeName) \(text)"
    }
}
