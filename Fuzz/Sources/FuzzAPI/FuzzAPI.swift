import Foundation
import FuzzCheck
import PulpAPI
import PulpKit
import PulpKitTesting

/// The statuses `PulpAPI.handle` may answer with; a 500 means a handler threw something other than a `PulpError`.
private let expectedStatuses: Set = [200, 201, 202, 204, 400, 403, 404, 405, 409, 413]

/// Reads the input as an HTTP request, `METHOD\nPATH[?QUERY]\nBODY`, and has a fresh `PulpAPI` over in-memory
/// storage with a few tasks in every state answer it. The API must not crash; its status must be one of
/// ``expectedStatuses``; every body but a 204's must be JSON that parses back to itself (with PulpKit's parser and
/// Foundation's); errors must carry Pulp's envelope; and a GET or HEAD must leave the stored tasks as they were.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPI(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let request = makeRequest(UnsafeBufferPointer(start: data, count: count))
    let exchange = Exchange()
    let done = DispatchSemaphore(value: 0)
    Task {
        await exchange.run(request)
        done.signal()
    }
    done.wait()
    guard let response = exchange.response else { fail("\(request.method) \(request.path): no answer") }
    verify(response, to: request)
    if request.method == "GET" || request.method == "HEAD" {
        check(exchange.tasksBefore == exchange.tasksAfter, "\(request.method) \(request.path) changed tasks")
    }
    return 0
}

/// One request against fresh storage, run on the concurrency pool while the fuzzer's thread waits.
private final class Exchange: @unchecked Sendable {
    var response: APIResponse?
    var tasksBefore: [TaskStatus] = []
    var tasksAfter: [TaskStatus] = []

    func run(_ request: APIRequest) async {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            let pulp = try await makePulp(contentRoot: root)
            let dispatcher = pulp.dispatcher
            tasksBefore = try await dispatcher.store.tasks(inGroup: nil)
            response = await PulpAPI(pulp: pulp).handle(request)
            tasksAfter = try await dispatcher.store.tasks(inGroup: nil)
        } catch {
            fail("the in-memory fixture failed: \(error)")
        }
    }
}

/// A `Pulp` over new in-memory stores (content under `contentRoot`) whose task store holds `finished-1`, `error-1`, `running-1`, `waiting-1` and the two
/// waiting tasks of group `group-1`, on a manual clock so every run sees the same times.
private func makePulp(contentRoot: URL) async throws -> Pulp {
    let clock = ManualWallClock()
    // A fixed worker name: the default one looks up the host name, which costs milliseconds.
    let pulp = try Pulp(
        configuration: PulpConfiguration(
            storage: .inMemory(contentRoot: contentRoot),
            workerCount: 2,
            clock: clock,
            workerName: "fuzz@localhost"
        )
    )
    let dispatcher = pulp.dispatcher
    let store = dispatcher.store
    dispatcher.register("test.echo") { context in context.task.arguments }
    let now = clock.now
    let tags = ["pulp:action:sync", "pulp:repository:zoo"]
    _ = try await store.insert([
        TaskStatus(id: "finished-1", name: "test.echo", arguments: ["x": 1], tags: tags, submitTime: now),
        TaskStatus(id: "error-1", name: "test.echo", resources: ["pulp:repository:zoo"], submitTime: now),
        TaskStatus(id: "running-1", name: "test.echo", tags: ["a", "b"], submitTime: now),
        TaskStatus(id: "waiting-1", name: "test.echo", resources: ["pulp:repository:zoo"], tags: tags, submitTime: now),
        TaskStatus(id: "grouped-1", name: "test.echo", groupID: "group-1", submitTime: now),
        TaskStatus(id: "grouped-2", name: "test.echo", tags: ["a"], groupID: "group-1", submitTime: now),
    ])
    _ = try await store.claim(worker: "worker-1", limit: 3, at: now)
    let failure = TaskError(PulpError.invalid("x", "is wrong"))
    _ = try await store.finish(
        [
            TaskCompletion(id: "finished-1", outcome: .finished(result: ["x": 1])),
            TaskCompletion(id: "error-1", outcome: .failed(failure, exception: "PulpError", traceback: "")),
        ],
        at: now
    )
    return pulp
}

/// `METHOD\nPATH[?QUERY]\nBODY`: the query split on `&` and `=` and percent-decoded; the body kept as bytes.
private func makeRequest(_ input: UnsafeBufferPointer<UInt8>) -> APIRequest {
    let parts = input.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
    let method = String(decoding: parts[0], as: UTF8.self)
    let target = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
    let body = parts.count > 2 ? Array(parts[2]) : []
    let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    var query: [APIRequest.QueryItem] = []
    if path.count > 1 {
        for item in path[1].split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            query.append(.init(name.removingPercentEncoding ?? name, value.removingPercentEncoding ?? value))
        }
    }
    return APIRequest(method: method, path: String(path[0]), query: query, body: body)
}

private func verify(_ response: APIResponse, to request: APIRequest) {
    let context = "\(request.method) \(request.path) answered \(response.status)"
    check(expectedStatuses.contains(response.status), "\(context): unexpected status, \(response)")
    guard let body = response.body else {
        check(response.status == 204, "\(context) without a body")
        return
    }
    check(response.status != 204, "\(context) with a body")
    let bytes = response.bodyBytes
    check((try? JSONValue(parsing: bytes)) == body, "\(context): the body does not parse back")
    check(
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil,
        "\(context): Foundation cannot read the body \(String(decoding: bytes, as: UTF8.self))"
    )
    if response.status >= 400 {
        check(body["http_status"] == .int(response.status), "\(context): the envelope has another status")
        check(body["http_request_method"] == .string(request.method), "\(context): no method in the envelope")
        check(body["error_message"]?.stringValue != nil, "\(context): no error_message")
        check(body.value(at: "error.code")?.stringValue != nil, "\(context): no error code")
    }
    if response.status == 405 {
        check(response.headers["Allow"]?.isEmpty == false, "\(context) without an Allow header")
    }
}
