/// The values a path reaches in one document, found without allocating.
///
/// Most paths cross no array: they resolve to one value (or to a missing field) with a few dictionary
/// lookups, and every test then looks at that value directly. When a non-numeric component meets an
/// array, Mongo tests each element instead; ``any(_:)`` walks those branches lazily and stops at the
/// first value the test accepts.
struct Candidates {
    private enum Resolution {
        case single(JSONValue?)
        case fanOut([JSONValue], next: Int)
    }

    private let path: FieldPath
    private let resolution: Resolution

    /// Resolves `path` in `document`.
    @inline(__always)
    init(resolving path: FieldPath, in document: JSONValue) {
        self.path = path
        var current = document
        var index = 0
        let components = path.components
        while index < components.count {
            switch current {
            case .object(let members):
                guard let next = members[components[index]] else {
                    resolution = .single(nil)
                    return
                }
                current = next
            case .array(let elements):
                if let position = path.indices[index] {
                    guard position < elements.count else {
                        resolution = .single(nil)
                        return
                    }
                    current = elements[position]
                } else {
                    resolution = .fanOut(elements, next: index)
                    return
                }
            default:
                resolution = .single(nil)
                return
            }
            index += 1
        }
        resolution = .single(current)
    }

    /// Whether `body` accepts at least one reached value; `nil` stands for a branch where the field is missing.
    @inline(__always)
    func any(_ body: (JSONValue?) -> Bool) -> Bool {
        switch resolution {
        case .single(let value): body(value)
        case .fanOut(let elements, let next): fanOut(elements, at: next, body)
        }
    }

    /// Tests `components[index]` in each element of an array the path crosses.
    private func fanOut(_ elements: [JSONValue], at index: Int, _ body: (JSONValue?) -> Bool) -> Bool {
        if elements.isEmpty { return body(nil) }
        for element in elements {
            // Mongo crosses one level of array per component: nested arrays are not opened.
            guard case .object(let members) = element, let next = members[path.components[index]] else {
                if body(nil) { return true }
                continue
            }
            if walk(next, at: index + 1, body) { return true }
        }
        return false
    }

    private func walk(_ value: JSONValue, at index: Int, _ body: (JSONValue?) -> Bool) -> Bool {
        guard index < path.components.count else { return body(value) }
        switch value {
        case .object(let members):
            guard let next = members[path.components[index]] else { return body(nil) }
            return walk(next, at: index + 1, body)
        case .array(let elements):
            if let position = path.indices[index] {
                return position < elements.count ? walk(elements[position], at: index + 1, body) : body(nil)
            }
            return fanOut(elements, at: index, body)
        default:
            return body(nil)
        }
    }
}

extension FilterNode {
    /// Whether `document` matches this filter.
    func matches(_ document: JSONValue) -> Bool {
        switch self {
        case .matchAll:
            return true
        case .and(let children):
            for child in children where !child.matches(document) { return false }
            return true
        case .or(let children):
            for child in children where child.matches(document) { return true }
            return false
        case .nor(let children):
            for child in children where child.matches(document) { return false }
            return true
        case .field(let clause):
            return clause.matches(document)
        }
    }

    /// Whether this is the empty filter, which needs no evaluation at all.
    var matchesEverything: Bool {
        if case .matchAll = self { return true }
        return false
    }

    /// A rough relative cost of evaluating the node, used to order the clauses of an AND.
    var cost: Int {
        switch self {
        case .matchAll: 0
        case .and(let children), .or(let children), .nor(let children): children.reduce(1) { $0 + $1.cost }
        case .field(let clause): (clause.simpleKey == nil ? 2 : 1) + clause.test.cost
        }
    }
}

extension FieldClause {
    /// Whether `document` passes; a one-key path takes the single-lookup fast path.
    @inline(__always)
    func matches(_ document: JSONValue) -> Bool {
        if let simpleKey {
            guard case .object(let members) = document else { return test.evaluate(single: nil) }
            return test.evaluate(single: member(simpleKey, of: members))
        }
        return test.evaluate(Candidates(resolving: path, in: document))
    }
}

extension FieldTest {
    /// Whether the values a path reached pass this test.
    func evaluate(_ candidates: Candidates) -> Bool {
        switch self {
        case .any(let test):
            return candidates.any { test.matches($0) }
        case .none(let test):
            return !candidates.any { test.matches($0) }
        case .exists(let flag):
            return candidates.any { $0 != nil } == flag
        case .not(let test):
            return !test.evaluate(candidates)
        case .all(let tests):
            for test in tests where !test.evaluate(candidates) { return false }
            return true
        case .constant(let answer):
            return answer
        }
    }

    /// ``evaluate(_:)`` for a path that reached exactly one value (or a missing field).
    func evaluate(single value: JSONValue?) -> Bool {
        switch self {
        case .any(let test):
            return test.matches(value)
        case .none(let test):
            return !test.matches(value)
        case .exists(let flag):
            return (value != nil) == flag
        case .not(let test):
            return !test.evaluate(single: value)
        case .all(let tests):
            for test in tests where !test.evaluate(single: value) { return false }
            return true
        case .constant(let answer):
            return answer
        }
    }

    /// A rough relative cost, for ordering clauses: plain comparisons are cheapest, regexes dearest.
    var cost: Int {
        switch self {
        case .any(let test), .none(let test): test.cost
        case .exists, .constant: 1
        case .not(let test): test.cost + 1
        case .all(let tests): tests.reduce(0) { $0 + $1.cost }
        }
    }
}

extension ValueTest {
    /// Whether one reached value (`nil`: missing) passes; arrays also pass by an element where Mongo says so.
    @inline(__always)
    func matches(_ value: JSONValue?) -> Bool {
        switch self {
        case .equals(let operand):
            guard let value else { return operand == .null }
            if operand.equals(value) { return true }
            guard case .array(let elements) = value else { return false }
            for element in elements where operand.equals(element) { return true }
            return false
        case .compare(let comparison, let operand):
            if let order = operand.compare(value), comparison.accepts(order) { return true }
            guard case .array(let elements)? = value else { return false }
            for element in elements {
                if let order = operand.compare(element), comparison.accepts(order) { return true }
            }
            return false
        case .oneOf(let operands):
            guard let value else { return operands.containsNull }
            if operands.contains(value) { return true }
            guard case .array(let elements) = value else { return false }
            for element in elements where operands.contains(element) { return true }
            return false
        case .regex(let regex):
            switch value {
            case .string(let text)?:
                return regex.matches(text)
            case .array(let elements)?:
                for case .string(let text) in elements where regex.matches(text) { return true }
                return false
            default:
                return false
            }
        case .size(let count):
            guard case .array(let elements)? = value else { return false }
            return elements.count == count
        case .elementMatches(let test):
            guard case .array(let elements)? = value else { return false }
            for element in elements where test.evaluate(single: element) { return true }
            return false
        case .elementMatchesDocument(let filter):
            guard case .array(let elements)? = value else { return false }
            for element in elements {
                if case .object = element, filter.matches(element) { return true }
            }
            return false
        }
    }

    /// A rough relative cost, for ordering clauses.
    var cost: Int {
        switch self {
        // Equality is usually the most selective test, ranges and sets less so.
        case .equals, .size: 1
        case .compare: 2
        case .oneOf(let operands): operands.values.count > 4 ? 4 : 3
        case .regex: 20
        case .elementMatches(let test): 5 + test.cost
        case .elementMatchesDocument(let filter): 5 + filter.cost
        }
    }
}

/// `members[key]` for a stored object, found by a linear scan when the object is small: cheaper than
/// hashing the key with the dictionary's per-instance seed, which is most of the cost of a lookup.
///
/// Keys compare by Unicode scalars, as Mongo compares them; objects of more than 16 members fall back to
/// the dictionary's own lookup (Swift string equality), which differs only for canonically equivalent
/// keys spelled with different scalars.
@inline(__always)
func member(_ key: String, of members: [String: JSONValue]) -> JSONValue? {
    guard members.count <= 16 else { return members[key] }
    let keys = members.keys
    var index = keys.startIndex
    let end = keys.endIndex
    while index != end {
        if utf8Equal(keys[index], key) { return members.values[index] }
        keys.formIndex(after: &index)
    }
    return nil
}
