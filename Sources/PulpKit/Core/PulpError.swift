/// The one error type of PulpKit: what went wrong, which input caused it, and the HTTP status it maps to.
///
/// Every refusal names the offending properties in ``propertyNames`` and says what was wrong in
/// ``message``. ``envelope(method:href:)`` renders the JSON error body of Pulp's v2 API.
public struct PulpError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, documented error code such as `PLK0015`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        /// Creates a code from its string form.
        public init(rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        /// An unexpected failure inside PulpKit or a plugin (500).
        public static let internalError = Code(rawValue: "PLK0000")
        /// Storage could not be read or written: a file, a lock, a corrupt database (500 or 503).
        public static let storageFailure = Code(rawValue: "PLK0001")
        /// A resource the request names does not exist (404).
        public static let missingResource = Code(rawValue: "PLK0009")
        /// One or more properties have invalid values (400).
        public static let invalidProperties = Code(rawValue: "PLK0015")
        /// Required properties are absent (400).
        public static let missingValues = Code(rawValue: "PLK0016")
        /// The request carries properties the operation does not accept (400).
        public static let unsupportedProperties = Code(rawValue: "PLK0017")
        /// The request conflicts with the current state, e.g. a duplicate id (409).
        public static let conflict = Code(rawValue: "PLK0018")
        /// The operation was cancelled before it completed.
        public static let cancelled = Code(rawValue: "PLK0023")
        /// The request body is not valid JSON (400).
        public static let malformedJSON = Code(rawValue: "PLK1009")
        /// The request used a method the resource does not support (405).
        public static let methodNotAllowed = Code(rawValue: "PLK1405")
        /// The request body exceeds the configured size limit (413).
        public static let payloadTooLarge = Code(rawValue: "PLK1413")
    }

    /// Where a ``PulpError`` was created, for logs and debugging.
    public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
        /// The `#fileID` of the throw site.
        public var fileID: String
        /// The line of the throw site.
        public var line: Int

        public var description: String { "\(fileID):\(line)" }
    }

    /// The stable error code.
    public var code: Code
    /// The HTTP status the error maps to.
    public var httpStatus: Int
    /// A sentence that says what was wrong and names the offending input.
    public var message: String
    /// The request properties at fault, e.g. `["schedule", "enabled"]`.
    public var propertyNames: [String]
    /// Extra structured detail, copied to the top level of the error envelope (e.g. `resources`).
    public var data: [String: JSONValue]
    /// Finer-grained errors, e.g. one per invalid property.
    public var subErrors: [PulpError]
    /// Where the error was created; not part of equality.
    public var location: SourceLocation

    /// Creates an error; prefer the static constructors, which keep codes and statuses consistent.
    public init(
        code: Code,
        httpStatus: Int,
        message: String,
        propertyNames: [String] = [],
        data: [String: JSONValue] = [:],
        subErrors: [PulpError] = [],
        fileID: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.httpStatus = httpStatus
        self.message = message
        self.propertyNames = propertyNames
        self.data = data
        self.subErrors = subErrors
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    public var description: String { "\(code) (\(httpStatus)): \(message)" }

    public static func == (lhs: PulpError, rhs: PulpError) -> Bool {
        lhs.code == rhs.code && lhs.httpStatus == rhs.httpStatus && lhs.message == rhs.message
            && lhs.propertyNames == rhs.propertyNames && lhs.data == rhs.data && lhs.subErrors == rhs.subErrors
    }
}

// MARK: - Constructors

extension PulpError {
    /// One invalid property and why: the building block of ``invalidProperties(_:fileID:line:)``.
    public struct Problem: Sendable, Hashable {
        /// The property at fault.
        public var property: String
        /// What was wrong with it.
        public var reason: String

        /// Creates a problem report for `property`.
        public init(_ property: String, _ reason: String) {
            self.property = property
            self.reason = reason
        }
    }

    /// A 400 for one property with an invalid value, e.g. `.invalid("limit", "must be an integer >= 1")`.
    public static func invalid(
        _ property: String,
        _ reason: String,
        fileID: String = #fileID,
        line: Int = #line
    )
        -> PulpError
    {
        invalidProperties([Problem(property, reason)], fileID: fileID, line: line)
    }

    /// A 400 naming every invalid property at once, in the order given, with one sub-error per problem.
    public static func invalidProperties(
        _ problems: [Problem],
        fileID: String = #fileID,
        line: Int = #line
    )
        -> PulpError
    {
        var names: [String] = []
        for problem in problems where !names.contains(problem.property) { names.append(problem.property) }
        let reasons = problems.map { "\($0.property): \($0.reason)" }.joined(separator: "; ")
        return PulpError(
            code: .invalidProperties,
            httpStatus: 400,
            message: "Invalid properties: \(pythonList(names))" + (reasons.isEmpty ? "" : " (\(reasons))"),
            propertyNames: names,
            data: ["property_names": .array(names.map(JSONValue.string))],
            subErrors: problems.map {
                PulpError(
                    code: .invalidProperties,
                    httpStatus: 400,
                    message: "\($0.property): \($0.reason)",
                    propertyNames: [$0.property],
                    fileID: fileID,
                    line: line
                )
            },
            fileID: fileID,
            line: line
        )
    }

    /// A 400 for properties the operation does not accept, e.g. `Unsupported properties: ['foo']`.
    public static func unsupportedProperties(
        _ names: [String],
        fileID: String = #fileID,
        line: Int = #line
    )
        -> PulpError
    {
        PulpError(
            code: .unsupportedProperties,
            httpStatus: 400,
            message: "Unsupported properties: \(pythonList(names))",
            propertyNames: names,
            data: ["unsupported_property_names": .array(names.map(JSONValue.string))],
            fileID: fileID,
            line: line
        )
    }

    /// A 400 for required properties that are absent, e.g. `Missing values for: ['criteria']`.
    public static func missingValues(_ names: [String], fileID: String = #fileID, line: Int = #line) -> PulpError {
        PulpError(
            code: .missingValues,
            httpStatus: 400,
            message: "Missing values for: \(pythonList(names))",
            propertyNames: names,
            data: ["missing_property_names": .array(names.map(JSONValue.string))],
            fileID: fileID,
            line: line
        )
    }

    /// A 404 for resources that do not exist, e.g. `.missingResource(["repository": "zoo"])`.
    public static func missingResource(
        _ resources: KeyValuePairs<String, String>,
        fileID: String = #fileID,
        line: Int = #line
    ) -> PulpError {
        let text = resources.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        var object: [String: JSONValue] = [:]
        for (kind, id) in resources { object[kind] = .string(id) }
        return PulpError(
            code: .missingResource,
            httpStatus: 404,
            message: "Missing resource(s): \(text)",
            propertyNames: resources.map(\.key),
            data: ["resources": .object(object)],
            fileID: fileID,
            line: line
        )
    }

    /// A 409 for a request that conflicts with what is stored, e.g. a duplicate id.
    public static func conflict(
        _ message: String,
        propertyNames: [String] = [],
        fileID: String = #fileID,
        line: Int = #line
    ) -> PulpError {
        PulpError(
            code: .conflict,
            httpStatus: 409,
            message: message,
            propertyNames: propertyNames,
            fileID: fileID,
            line: line
        )
    }

    /// A 400 for a body that is not valid JSON.
    public static func malformedJSON(_ detail: String, fileID: String = #fileID, line: Int = #line) -> PulpError {
        PulpError(
            code: .malformedJSON,
            httpStatus: 400,
            message: "Invalid JSON: \(detail)",
            fileID: fileID,
            line: line
        )
    }

    /// A 500 for a failure that is PulpKit's or a plugin's fault, not the caller's.
    public static func internalError(_ message: String, fileID: String = #fileID, line: Int = #line) -> PulpError {
        PulpError(code: .internalError, httpStatus: 500, message: message, fileID: fileID, line: line)
    }

    /// A storage failure naming the file: 503 when the database stayed locked, 500 otherwise.
    public static func storage(
        _ message: String,
        path: String,
        isBusy: Bool = false,
        fileID: String = #fileID,
        line: Int = #line
    ) -> PulpError {
        PulpError(
            code: .storageFailure,
            httpStatus: isBusy ? 503 : 500,
            message: "\(path): \(message)",
            data: ["path": .string(path)],
            fileID: fileID,
            line: line
        )
    }

    /// An operation that stopped because its task was cancelled.
    public static func cancelled(
        _ message: String = "The operation was cancelled",
        fileID: String = #fileID,
        line: Int = #line
    )
        -> PulpError
    {
        PulpError(code: .cancelled, httpStatus: 409, message: message, fileID: fileID, line: line)
    }

    /// Formats names the way Pulp's messages do: `['a', 'b']`.
    static func pythonList(_ names: [String]) -> String {
        "[" + names.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }
}

// MARK: - Envelope

extension PulpError {
    /// The inner `error` object of the envelope: `code`, `description`, `data`, `sub_errors`.
    public var errorObject: JSONValue {
        var data = self.data
        if data["property_names"] == nil, !propertyNames.isEmpty {
            data["property_names"] = .array(propertyNames.map(JSONValue.string))
        }
        return [
            "code": .string(code.rawValue),
            "description": .string(message),
            "data": .object(data),
            "sub_errors": .array(subErrors.map(\.errorObject)),
        ]
    }

    /// The JSON error body of Pulp's v2 API for this error.
    ///
    /// - Parameters:
    ///   - method: the request method, written as `http_request_method`.
    ///   - href: the request path, written as `_href`.
    public func envelope(method: String? = nil, href: String? = nil) -> JSONValue {
        var body: [String: JSONValue] = [
            "http_status": .int(httpStatus),
            "http_request_method": method.map(JSONValue.string) ?? .null,
            "_href": href.map(JSONValue.string) ?? .null,
            "error_message": .string(message),
            "exception": .null,
            "traceback": .null,
            "property_names": .array(propertyNames.map(JSONValue.string)),
            "error": errorObject,
        ]
        for (key, value) in data where body[key] == nil { body[key] = value }
        return .object(body)
    }
}
