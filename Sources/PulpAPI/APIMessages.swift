public import PulpKit

/// One HTTP request, as any server framework can hand it to ``PulpAPI/handle(_:)``.
public struct APIRequest: Sendable, Hashable {
    /// One `name=value` pair of the query string, in order; a name may repeat (`tag=a&tag=b`).
    public struct QueryItem: Sendable, Hashable {
        /// The decoded name.
        public var name: String
        /// The decoded value.
        public var value: String

        /// Creates a query item.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The method, e.g. `GET`.
    public var method: String
    /// The path, with or without the `/pulp/api` prefix, e.g. `/pulp/api/v2/tasks/<id>/`.
    public var path: String
    /// The query items.
    public var query: [QueryItem]
    /// The raw body; empty when there is none.
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, path: String, query: [QueryItem] = [], body: [UInt8] = []) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.body = body
    }

    /// Creates a request whose body is a JSON value.
    public init(method: String, path: String, query: [QueryItem] = [], json: JSONValue) {
        self.init(method: method, path: path, query: query, body: Array(json.encoded().utf8))
    }

    /// The values of every query item named `name`, in order.
    public func queryValues(_ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }
}

/// One HTTP response: a status, headers and a JSON body (or none, for 204).
public struct APIResponse: Sendable, Hashable {
    /// The HTTP status.
    public var status: Int
    /// Extra headers, e.g. `Location` for 201.
    public var headers: [String: String]
    /// The JSON body; `nil` for an empty body.
    public var body: JSONValue?

    /// Creates a response.
    public init(status: Int, headers: [String: String] = [:], body: JSONValue?) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 JSON text, empty for no body.
    public var bodyBytes: [UInt8] { body.map { Array($0.encoded().utf8) } ?? [] }

    /// `200 OK` with a body.
    static func ok(_ body: JSONValue) -> APIResponse { APIResponse(status: 200, body: body) }

    /// `202 Accepted` with a call report.
    static func accepted(_ body: JSONValue) -> APIResponse { APIResponse(status: 202, body: body) }

    /// The JSON error envelope of `error` for `request`.
    static func error(_ error: PulpError, for request: APIRequest) -> APIResponse {
        APIResponse(status: error.httpStatus, body: error.envelope(method: request.method, href: request.path))
    }
}
