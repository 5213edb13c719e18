extension Criteria {
    /// The keys a criteria object may have.
    public static let keys = ["filters", "sort", "limit", "skip", "fields"]

    /// Validates a client's criteria object (the `criteria` member of a search POST body).
    ///
    /// - Throws: ``PulpError`` (400) naming `criteria` when `json` is not an object, or else naming
    ///   every invalid key at once, unknown keys included. A `null` member counts as absent.
    public init(json: JSONValue) throws(PulpError) {
        guard case .object(let members) = json else {
            throw .invalid(
                "criteria",
                "must be an object with filters, sort, limit, skip or fields, got \(json.typeName)"
            )
        }
        try self.init(members: members, knownProblems: [:])
    }

    /// Validates the criteria of a search GET request, given its query parameters in order.
    ///
    /// `filters` and `sort` hold JSON text; `limit` and `skip` hold integers; each `field=x` adds a field
    /// (a repeated `filters`, `sort`, `limit` or `skip` keeps its last value, as Django's `QueryDict` does).
    /// The caller removes its own view options (such as `details`) first: any other name is refused.
    ///
    /// - Throws: ``PulpError`` (400) naming every invalid or unknown parameter at once.
    public init(queryItems: [(name: String, value: String)]) throws(PulpError) {
        var members: [String: JSONValue] = [:]
        var problems: [String: String] = [:]
        var fields: [JSONValue] = []
        var sawField = false
        for (name, value) in queryItems {
            switch name {
            case "filters", "sort":
                problems[name] = nil
                do {
                    members[name] = try JSONValue(parsing: value)
                } catch {
                    members[name] = nil
                    problems[name] = "is not valid JSON"
                }
            case "limit", "skip":
                members[name] = .string(value)
            case "field":
                sawField = true
                fields.append(.string(value))
            case "fields":
                problems[name] = "is not a query parameter; repeat field=<name> for each field instead"
            default:
                problems[name] = "is not a search parameter; expected filters, sort, limit, skip or field"
            }
        }
        if sawField, problems["fields"] == nil { members["fields"] = .array(fields) }
        try self.init(members: members, knownProblems: problems)
    }

    /// The criteria as the JSON object ``init(json:)`` reads; absent parts are left out.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["filters": .object(filters)]
        if !sort.isEmpty {
            object["sort"] = .array(sort.map { [.string($0.field), .string($0.direction.rawValue)] })
        }
        if let limit { object["limit"] = .int(limit) }
        if let skip { object["skip"] = .int(skip) }
        if let fields { object["fields"] = .array(fields.map(JSONValue.string)) }
        return .object(object)
    }

    /// Validates every member, reporting the five known keys in their usual order, then unknown keys sorted.
    private init(members: [String: JSONValue], knownProblems: [String: String]) throws(PulpError) {
        var problems: [PulpError.Problem] = []
        func check<Value>(_ key: String, _ parse: (JSONValue) throws(CriteriaIssue) -> Value) -> Value? {
            if let reason = knownProblems[key] {
                problems.append(.init(key, reason))
                return nil
            }
            guard let value = members[key], value != .null else { return nil }
            do throws(CriteriaIssue) {
                return try parse(value)
            } catch {
                problems.append(.init(key, error.reason))
                return nil
            }
        }
        let filters = check("filters", Criteria.parseFilters)
        let sort = check("sort", Criteria.parseSort)
        let limit = check("limit") { value throws(CriteriaIssue) in try Criteria.parseCount(value, minimum: 1) }
        let skip = check("skip") { value throws(CriteriaIssue) in try Criteria.parseCount(value, minimum: 0) }
        let fields = check("fields", Criteria.parseFields)
        let unknown = Set(members.keys).union(knownProblems.keys).subtracting(Criteria.keys).sorted()
        for key in unknown {
            problems.append(
                .init(key, knownProblems[key] ?? "is not a criteria key; expected filters, sort, limit, skip or fields")
            )
        }
        guard problems.isEmpty else { throw .invalidProperties(problems) }
        self.init(
            validated: filters?.document ?? [:],
            filters?.compiled ?? .matchAll,
            sort: sort ?? [],
            limit: limit,
            skip: skip,
            fields: fields
        )
    }

    private typealias ParsedFilters = (document: [String: JSONValue], compiled: FilterNode)

    private static func parseFilters(_ value: JSONValue) throws(CriteriaIssue) -> ParsedFilters {
        guard case .object(let document) = value else {
            throw CriteriaIssue("must be an object, got \(value.typeName)")
        }
        return (document, try FilterCompiler.compile(document))
    }

    private static func parseSort(_ value: JSONValue) throws(CriteriaIssue) -> [SortKey] {
        guard case .array(let entries) = value else {
            throw CriteriaIssue("must be a list of [field, direction] pairs, got \(value.typeName)")
        }
        var keys: [SortKey] = []
        for (position, entry) in entries.enumerated() {
            guard case .array(let pair) = entry, pair.count == 2 else {
                throw CriteriaIssue("entry \(position) must be a [field, direction] pair, got \(entry)")
            }
            guard case .string(let field) = pair[0] else {
                throw CriteriaIssue("entry \(position) must start with a field name string, got \(pair[0])")
            }
            let direction: SortDirection? =
                switch pair[1] {
                case .string(let text):
                    switch text.lowercased() {
                    case "ascending", "1": .ascending
                    case "descending", "-1": .descending
                    default: nil
                    }
                case .int(1): .ascending
                case .int(-1): .descending
                default: nil
                }
            guard let direction else {
                throw CriteriaIssue(
                    "entry \(position) has direction \(pair[1]); expected ascending, descending, 1 or -1"
                )
            }
            keys.append(SortKey(field: field, direction: direction))
        }
        return keys
    }

    /// `limit` (minimum 1) and `skip` (minimum 0): an integer or a decimal integer string; no Booleans,
    /// fractions or other text.
    private static func parseCount(_ value: JSONValue, minimum: Int) throws(CriteriaIssue) -> Int {
        let number: Int? =
            switch value {
            case .int(let number): number
            case .string(let text): Int(text)
            default: nil
            }
        guard let number, number >= minimum else {
            throw CriteriaIssue("must be an integer >= \(minimum), got \(value.typeName) \(value)")
        }
        return number
    }

    private static func parseFields(_ value: JSONValue) throws(CriteriaIssue) -> [String] {
        guard case .array(let elements) = value else {
            throw CriteriaIssue("must be a list of field name strings, got \(value.typeName)")
        }
        var fields: [String] = []
        for element in elements {
            guard case .string(let field) = element else {
                throw CriteriaIssue("must be a list of field name strings, found \(element.typeName) \(element)")
            }
            fields.append(field)
        }
        return fields
    }
}
