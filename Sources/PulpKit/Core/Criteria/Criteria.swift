/// A Pulp search query: which documents match, in what order, which page, and which fields to return.
///
/// Build one from a client's JSON with ``init(json:)`` or a GET request's query with
/// ``init(queryItems:)``; both validate exactly as Pulp 2 does and report every bad key in one
/// ``PulpError``. The filters are compiled once, so ``matches(_:)`` and ``apply(to:)`` never re-read
/// JSON per document. A value is always valid: its properties are read-only.
public struct Criteria: Sendable, Hashable {
    /// The Mongo-style filter document; empty matches every document.
    public let filters: [String: JSONValue]
    /// The sort keys, most significant first.
    public let sort: [SortKey]
    /// The most documents to return (at least 1), or `nil` for no limit.
    public let limit: Int?
    /// How many sorted documents to leave out before the first returned one (0 or more), or `nil`.
    public let skip: Int?
    /// The (possibly dotted) fields to keep, or `nil` for whole documents; `id`, `_id`, `_href` are kept.
    public let fields: [String]?

    private let compiledFilter: FilterNode
    private let compiledSort: [CompiledSortKey]
    private let projection: Projection?

    /// Criteria that match every document, unsorted and whole.
    public init() {
        filters = [:]
        sort = []
        limit = nil
        skip = nil
        fields = nil
        compiledFilter = .matchAll
        compiledSort = []
        projection = nil
    }

    /// Creates criteria from typed parts, validating them as ``init(json:)`` does.
    ///
    /// - Throws: ``PulpError`` (400) naming every invalid part: `filters`, `limit` or `skip`.
    public init(
        filters: [String: JSONValue] = [:],
        sort: [SortKey] = [],
        limit: Int? = nil,
        skip: Int? = nil,
        fields: [String]? = nil
    ) throws(PulpError) {
        var problems: [PulpError.Problem] = []
        var compiled = FilterNode.matchAll
        do throws(CriteriaIssue) {
            compiled = try FilterCompiler.compile(filters)
        } catch {
            problems.append(.init("filters", error.reason))
        }
        if let limit, limit < 1 { problems.append(.init("limit", "must be an integer >= 1, got \(limit)")) }
        if let skip, skip < 0 { problems.append(.init("skip", "must be an integer >= 0, got \(skip)")) }
        guard problems.isEmpty else { throw .invalidProperties(problems) }
        self.init(validated: filters, compiled, sort: sort, limit: limit, skip: skip, fields: fields)
    }

    init(
        validated filters: [String: JSONValue],
        _ compiledFilter: FilterNode,
        sort: [SortKey],
        limit: Int?,
        skip: Int?,
        fields: [String]?
    ) {
        self.filters = filters
        self.sort = sort
        self.limit = limit
        self.skip = skip
        self.fields = fields
        self.compiledFilter = compiledFilter
        compiledSort = sort.map { CompiledSortKey(path: FieldPath($0.field), descending: $0.direction == .descending) }
        projection = fields.map { Projection(fields: $0) }
    }

    /// Whether `document` matches ``filters``, with MongoDB's semantics.
    public func matches(_ document: JSONValue) -> Bool {
        compiledFilter.matches(document)
    }

    /// Runs the whole query: filter, then sort (stable), then skip, then limit, then project ``fields``.
    public func apply(to documents: [JSONValue]) -> [JSONValue] {
        var result = compiledFilter.matchesEverything ? documents : documents.filter { compiledFilter.matches($0) }
        result = CompiledSortKey.sort(result, by: compiledSort)
        if let skip, skip > 0 { result.removeFirst(min(skip, result.count)) }
        if let limit, limit < result.count { result.removeLast(result.count - limit) }
        if let projection { result = result.map { projection.apply(to: $0) } }
        return result
    }

    /// Compares the client-visible parts; the compiled forms follow from them.
    public static func == (lhs: Criteria, rhs: Criteria) -> Bool {
        lhs.filters == rhs.filters && lhs.sort == rhs.sort && lhs.limit == rhs.limit && lhs.skip == rhs.skip
            && lhs.fields == rhs.fields
    }

    /// Hashes the client-visible parts.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(filters)
        hasher.combine(sort)
        hasher.combine(limit)
        hasher.combine(skip)
        hasher.combine(fields)
    }
}

extension Criteria {
    /// One sort key: a (possibly dotted) field and a direction.
    public struct SortKey: Sendable, Hashable {
        /// The field to sort by; arrays sort by their smallest element ascending, largest descending.
        public var field: String
        /// Which way to sort.
        public var direction: SortDirection

        /// Creates a sort key, ascending unless told otherwise.
        public init(field: String, direction: SortDirection = .ascending) {
            self.field = field
            self.direction = direction
        }
    }

    /// The direction of a ``SortKey``.
    public enum SortDirection: String, Sendable, Hashable, CaseIterable {
        /// Smallest first, in Mongo's cross-type order.
        case ascending
        /// Largest first.
        case descending
    }
}
