import Foundation
import PulpKit

/// Matches request paths against the API's routes and calls the handler of the matching method.
///
/// A route is a pattern such as `v2/tasks/{id}` (the `/pulp/api` prefix and the slashes around are
/// optional in requests). No matching pattern is a 404; a pattern without the request's method a 405.
struct Router: Sendable {
    typealias Handler = @Sendable (APIRequest, [String: String]) async throws -> APIResponse

    private struct Route: Sendable {
        let components: [String]
        var handlers: [String: Handler]
    }

    private var routes: [Route] = []

    /// Adds a handler for `method` on `pattern`; `{name}` captures one path component.
    mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let components = pattern.split(separator: "/").map(String.init)
        if let index = routes.firstIndex(where: { $0.components == components }) {
            routes[index].handlers[method] = handler
        } else {
            routes.append(Route(components: components, handlers: [method: handler]))
        }
    }

    /// Routes `request`, turning every thrown ``PulpError`` into its JSON error response.
    func respond(to request: APIRequest) async -> APIResponse {
        let components = Self.components(of: request.path)
        for route in routes {
            guard let parameters = Self.match(route.components, components) else { continue }
            guard let handler = route.handlers[request.method] else {
                let allowed = route.handlers.keys.sorted().joined(separator: ", ")
                let error = PulpError(
                    code: .methodNotAllowed,
                    httpStatus: 405,
                    message: "Method \(request.method) is not allowed on \(request.path); allowed: \(allowed)"
                )
                var response = APIResponse.error(error, for: request)
                response.headers["Allow"] = allowed
                return response
            }
            do {
                return try await handler(request, parameters)
            } catch let error as PulpError {
                return .error(error, for: request)
            } catch {
                return .error(PulpError.internalError("\(type(of: error)): \(error)"), for: request)
            }
        }
        return .error(PulpError.missingResource(["path": request.path]), for: request)
    }

    /// The path's components without the `/pulp/api` prefix, percent-decoded.
    static func components(of path: String) -> [String] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.count >= 2, parts[0] == "pulp", parts[1] == "api" { parts.removeFirst(2) }
        return parts.map { $0.removingPercentEncoding ?? $0 }
    }

    private static func match(_ pattern: [String], _ components: [String]) -> [String: String]? {
        guard pattern.count == components.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, components) {
            if expected.hasPrefix("{"), expected.hasSuffix("}") {
                parameters[String(expected.dropFirst().dropLast())] = actual
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}
