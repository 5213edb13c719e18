import Foundation
import PulpAPI
import PulpFile
import PulpKit
import PulpRPM
import Testing

/// A PulpAPI over an in-memory Pulp (file importer and RPM calculator registered), running until `body` returns.
func withAPI(_ body: (PulpAPI) async throws -> Void) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-api-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let pulp = try Pulp(configuration: .init(storage: .inMemory(contentRoot: root), workerCount: 4))
    pulp.register(FileImporter())
    try pulp.register(RPMApplicabilityCalculator())
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await pulp.run() }
        defer { group.cancelAll() }
        try await body(PulpAPI(pulp: pulp))
    }
}

extension PulpAPI {
    /// Sends a request with a JSON body (or none).
    func send(
        _ method: String,
        _ path: String,
        _ body: JSONValue? = nil,
        query: [APIRequest.QueryItem] = []
    ) async
        -> APIResponse
    {
        if let body { return await handle(APIRequest(method: method, path: path, query: query, json: body)) }
        return await handle(APIRequest(method: method, path: path, query: query))
    }

    /// Waits for the first task of a 202 call report and returns its report JSON.
    func waitForTask(of response: APIResponse) async throws -> JSONValue {
        #expect(response.status == 202, "\(String(describing: response.body))")
        let id = try #require(response.body?["spawned_tasks"]?[0]?["task_id"]?.stringValue)
        return try await pulp.dispatcher.waitForCompletion(of: TaskID(id)).json
    }
}

extension JSONValue {
    /// The element at `index` of an array.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
