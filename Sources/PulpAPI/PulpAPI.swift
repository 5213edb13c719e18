public import PulpKit

/// Pulp's v2 REST surface as a function: give it a request, get the status, headers and JSON body.
///
/// It is transport-free, so any HTTP server can serve it in a few lines: turn the framework's
/// request into an ``APIRequest``, call ``handle(_:)``, and write the ``APIResponse`` back.
public struct PulpAPI: Sendable {
    /// The PulpKit instance the endpoints serve.
    public let pulp: Pulp
    /// The largest request body accepted, in bytes; larger ones get a 413.
    public let maximumBodySize: Int
    private let router: Router

    /// Creates the API over a PulpKit instance: every endpoint of the sync and scheduling and the content
    /// applicability specs, with the repository, importer, upload, consumer, task and task group endpoints
    /// around them.
    public init(pulp: Pulp, maximumBodySize: Int = 64 << 20) {
        self.pulp = pulp
        self.maximumBodySize = maximumBodySize
        var router = Router()
        TaskRoutes(dispatcher: pulp.dispatcher).register(on: &router)
        // Literal paths first: `…/repositories/actions/…` must not be read as a repository id.
        ConsumerRoutes(engine: pulp.applicability).register(on: &router)
        RepositoryRoutes(pulp: pulp).register(on: &router)
        UploadRoutes(pulp: pulp).register(on: &router)
        self.router = router
    }

    /// Answers one request. Errors come back as Pulp's JSON error body with their status: malformed
    /// JSON 400, an unknown path 404, a method the path does not support 405, a body over
    /// ``maximumBodySize`` 413.
    public func handle(_ request: APIRequest) async -> APIResponse {
        guard request.body.count <= maximumBodySize else {
            let error = PulpError(
                code: .payloadTooLarge,
                httpStatus: 413,
                message: "The request body has \(request.body.count) bytes; the limit is \(maximumBodySize)",
                propertyNames: ["body"]
            )
            return .error(error, for: request)
        }
        return await router.respond(to: request)
    }
}

extension APIRequest {
    /// The body parsed as JSON; `nil` when the body is empty or only whitespace.
    ///
    /// - Throws: a 400 ``PulpKit/PulpError`` when it is not valid JSON.
    func jsonBody() throws -> JSONValue? {
        guard body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        return try JSONValue(parsing: body)
    }

    /// The body parsed as a JSON object, `[:]` when empty.
    ///
    /// - Throws: a 400 ``PulpKit/PulpError`` when it is not valid JSON or not an object.
    func jsonObjectBody() throws -> [String: JSONValue] {
        guard let body = try jsonBody() else { return [:] }
        guard let object = body.objectValue else {
            throw PulpError.invalid("body", "must be a JSON object, not \(body.typeName)")
        }
        return object
    }
}
