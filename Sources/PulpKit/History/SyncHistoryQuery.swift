public import Foundation

/// Which entries of a repository's sync history to return, in which order and how many.
///
/// Unlike Pulp 2, which compares the date bounds as strings and sorts by insertion, entries are
/// filtered by their real `started` instant and sorted by it; entries that started in the same second
/// keep the order they were appended in (reversed when descending).
public struct SyncHistoryQuery: Sendable, Hashable {
    /// The order of the entries by their `started` time.
    public enum SortDirection: String, Sendable, Hashable, CaseIterable {
        /// Oldest first.
        case ascending
        /// Newest first, the default.
        case descending
    }

    /// At most this many entries, the first in the chosen order; `nil` for all. A value below 1 returns none
    /// (a request's `limit` is refused unless it is at least 1).
    public var limit: Int?
    /// The order, newest first unless told otherwise.
    public var sort: SortDirection
    /// Only entries with `started` at or after this instant.
    public var startDate: Date?
    /// Only entries with `started` at or before this instant.
    public var endDate: Date?

    /// Creates a query; the default returns every entry, newest first.
    public init(limit: Int? = nil, sort: SortDirection = .descending, startDate: Date? = nil, endDate: Date? = nil) {
        self.limit = limit
        self.sort = sort
        self.startDate = startDate
        self.endDate = endDate
    }

    /// Validates the query parameters of `GET /pulp/api/v2/repositories/<repo_id>/history/sync/`; `nil`
    /// means the parameter was absent.
    ///
    /// `limit` is an integer of at least 1; `sort` is `ascending` or `descending`; `start_date` and `end_date`
    /// are complete ISO 8601 date-times (a date alone is refused), with any UTC offset (none means UTC).
    ///
    /// - Throws: one ``PulpError`` (400) naming every invalid parameter, in the order `limit`, `sort`,
    ///   `start_date`, `end_date`.
    public init(limit: String?, sort: String?, startDate: String?, endDate: String?) throws(PulpError) {
        var problems: [PulpError.Problem] = []
        var count: Int?
        if let limit {
            count = Int(limit)
            if count.map({ $0 < 1 }) ?? true {
                count = nil
                problems.append(.init("limit", "must be an integer >= 1, got \(Self.quoted(limit))"))
            }
        }
        var direction = SortDirection.descending
        if let sort {
            if let parsed = SortDirection(rawValue: sort) {
                direction = parsed
            } else {
                problems.append(.init("sort", "must be 'ascending' or 'descending', got \(Self.quoted(sort))"))
            }
        }
        func instant(_ text: String?, _ field: String) -> Date? {
            guard let text else { return nil }
            do {
                return try ISO8601DateTime(parsing: text, field: field).date
            } catch {
                // The parser names `field` in a one-problem error; keep its problems for the combined one.
                problems += error.subErrors.map { PulpError.Problem(field, Self.reason(of: $0, field: field)) }
                return nil
            }
        }
        let start = instant(startDate, "start_date")
        let end = instant(endDate, "end_date")
        guard problems.isEmpty else { throw .invalidProperties(problems) }
        self.init(limit: count, sort: direction, startDate: start, endDate: end)
    }

    /// Whether an entry that started at `started` lies within the date bounds (both inclusive).
    public func includes(started: Date) -> Bool {
        (startDate.map { started >= $0 } ?? true) && (endDate.map { started <= $0 } ?? true)
    }

    /// A sub-error's message without the `field: ` prefix ``PulpError/invalidProperties(_:fileID:line:)`` adds.
    private static func reason(of error: PulpError, field: String) -> String {
        let prefix = field + ": "
        return error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
    }

    /// User text quoted for a message, shortened so a huge parameter cannot bloat the error body.
    private static func quoted(_ text: String) -> String {
        text.count <= 64 ? "'\(text)'" : "'\(text.prefix(61))...'"
    }
}
