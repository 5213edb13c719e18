// The request bodies of the four applicability endpoints, read with the field names and errors Pulp 2 uses,
// so the REST layer only routes.

/// The body of `POST /v2/consumers/actions/content/regenerate_applicability/`:
/// `{"consumer_criteria": {…}}`.
public struct ConsumerRegenerationRequest: Sendable, Hashable {
    /// Which consumers to regenerate applicability for.
    public var consumerCriteria: Criteria

    /// Creates a request.
    public init(consumerCriteria: Criteria) { self.consumerCriteria = consumerCriteria }

    /// Reads a request body; other members are ignored, as Pulp 2 does.
    ///
    /// - Throws: a 400 ``PulpError``: missing values `consumer_criteria` when absent or `null`; invalid
    ///   `consumer_criteria` (the criteria's own problems as sub-errors) when it is not valid criteria, or
    ///   `body` when the body is not an object.
    public init(json: JSONValue) throws(PulpError) {
        consumerCriteria = try readCriteria(json, member: "consumer_criteria")
    }
}

/// The body of `POST /v2/repositories/actions/content/regenerate_applicability/`:
/// `{"repo_criteria": {…}, "parallel": false}`.
public struct RepositoryRegenerationRequest: Sendable, Hashable {
    /// Which repositories to regenerate applicability for.
    public var repositoryCriteria: Criteria
    /// Whether to run as a group of parallel tasks.
    public var parallel: Bool

    /// Creates a request.
    public init(repositoryCriteria: Criteria, parallel: Bool = false) {
        self.repositoryCriteria = repositoryCriteria
        self.parallel = parallel
    }

    /// Reads a request body; other members are ignored, as Pulp 2 does.
    ///
    /// `parallel` may be absent, `null`, `true` or `false`; other falsy values (`0`, `""`, `[]`, `{}`) mean
    /// `false`, as in Pulp 2.
    ///
    /// - Throws: a 400 ``PulpError``: missing values `repo_criteria`; invalid `repo_criteria` with the
    ///   criteria's problems as sub-errors; invalid `parallel` for any other value; invalid `body` when the
    ///   body is not an object.
    public init(json: JSONValue) throws(PulpError) {
        repositoryCriteria = try readCriteria(json, member: "repo_criteria")
        switch json["parallel"] ?? .null {
        case .null, .bool(false), .int(0), .string(""): parallel = false
        case .bool(true): parallel = true
        case .double(let value) where value == 0: parallel = false
        case .array(let elements) where elements.isEmpty: parallel = false
        case .object(let members) where members.isEmpty: parallel = false
        case let other:
            throw PulpError.invalid("parallel", "must be true or false, got \(other.encoded())")
        }
    }
}

/// The body of `POST /v2/consumers/content/applicability/`: `{"criteria": {…}, "content_types": [...]}`.
public struct ApplicabilityQuery: Sendable, Hashable {
    /// Which consumers to report on, and the page.
    public var criteria: Criteria
    /// The content types to report, or `nil` for all.
    public var contentTypes: [String]?

    /// Creates a query.
    public init(criteria: Criteria, contentTypes: [String]? = nil) {
        self.criteria = criteria
        self.contentTypes = contentTypes
    }

    /// Reads a request body; other members are ignored, as Pulp 2 does.
    ///
    /// - Throws: a 400 ``PulpError``: invalid `criteria` when the body is not an object with a `criteria`
    ///   object (or the criteria are invalid, with their problems as sub-errors); invalid `content_types`
    ///   unless it is absent, `null`, or an array of non-empty strings.
    public init(json: JSONValue) throws(PulpError) {
        guard case .object(let members) = json, let criteria = members["criteria"], criteria != .null else {
            throw PulpError.invalid("criteria", "the body must be a JSON object with a 'criteria' key")
        }
        do {
            self.criteria = try Criteria(json: criteria)
        } catch {
            throw criteriaError(error, member: "criteria")
        }
        switch members["content_types"] ?? .null {
        case .null: contentTypes = nil
        case .array(let elements):
            var names: [String] = []
            for element in elements {
                guard case .string(let name) = element, !name.isEmpty else {
                    throw PulpError.invalid(
                        "content_types",
                        "must be an array of non-empty content type names, got \(element.encoded())"
                    )
                }
                names.append(name)
            }
            contentTypes = names
        case let other:
            throw PulpError.invalid("content_types", "must index an array, got \(other.typeName)")
        }
    }
}

extension ApplicabilityEngine {
    /// Serves a consumer regeneration request body: its call report.
    public func regenerate(_ request: ConsumerRegenerationRequest) async throws -> CallReport {
        try await regenerate(consumers: request.consumerCriteria)
    }

    /// Serves a repository regeneration request body: a call report, or a group call report when parallel.
    public func regenerate(_ request: RepositoryRegenerationRequest) async throws -> RegenerationReport {
        try await regenerate(repositories: request.repositoryCriteria, parallel: request.parallel)
    }

    /// Serves an applicability query body: the collated reports.
    public func query(_ request: ApplicabilityQuery) async throws -> [ApplicabilityReport] {
        try await query(consumers: request.criteria, contentTypes: request.contentTypes)
    }
}

/// The criteria under `member` of a request body.
private func readCriteria(_ body: JSONValue, member: String) throws(PulpError) -> Criteria {
    guard case .object(let members) = body else {
        throw PulpError.invalid("body", "must be a JSON object with '\(member)', got \(body.typeName)")
    }
    guard let value = members[member], value != .null else { throw PulpError.missingValues([member]) }
    do {
        return try Criteria(json: value)
    } catch {
        throw criteriaError(error, member: member)
    }
}

/// A criteria error renamed to the body member that held the criteria, keeping its problems as sub-errors.
private func criteriaError(_ error: PulpError, member: String) -> PulpError {
    var renamed = PulpError.invalid(member, error.message)
    renamed.subErrors = error.subErrors.isEmpty ? [error] : error.subErrors
    return renamed
}
