import PulpAPI
import PulpKit
import PulpKitTesting
import Testing

/// A PulpAPI over an in-memory Pulp with a `test.echo` task handler, served until `body` returns.
func withTaskAPI(_ body: (PulpAPI, TaskDispatcher) async throws -> Void) async throws {
    try await withAPI { api in
        api.pulp.dispatcher.register("test.echo") { context in context.task.arguments }
        try await body(api, api.pulp.dispatcher)
    }
}

struct TaskRoutesTests {
    @Test(arguments: ["/pulp/api/v2/tasks/", "/v2/tasks", "/pulp/api/v2/tasks"])
    func listsTasksWithAndWithoutThePrefixAndSlash(path: String) async throws {
        try await withTaskAPI { api, dispatcher in
            let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.echo", tags: ["t1"])).taskID)
            _ = try await dispatcher.waitForCompletion(of: id)
            let response = await api.handle(APIRequest(method: "GET", path: path))
            #expect(response.status == 200)
            #expect(response.body?.arrayValue?.count == 1)
        }
    }

    @Test func getsOneTaskReportAnd404sForAnUnknownOne() async throws {
        try await withTaskAPI { api, dispatcher in
            let report = try await dispatcher.dispatch(
                TaskRequest(name: "test.echo", arguments: ["x": 1], tags: ["pulp:action:test"])
            )
            let id = try #require(report.taskID)
            _ = try await dispatcher.waitForCompletion(of: id)
            let response = await api.handle(APIRequest(method: "GET", path: "/pulp/api/v2/tasks/\(id)/"))
            #expect(response.status == 200)
            #expect(response.body?["task_id"] == .string(id.rawValue))
            #expect(response.body?["state"] == "finished")
            #expect(response.body?["result"] == ["x": 1])
            #expect(response.body?["tags"] == ["pulp:action:test"])

            let missing = await api.handle(APIRequest(method: "GET", path: "/pulp/api/v2/tasks/nope/"))
            #expect(missing.status == 404)
            #expect(missing.body?["http_status"] == 404)
            #expect(missing.body?["http_request_method"] == "GET")
            #expect(missing.body?.value(at: "error.code") == "PLK0009")
        }
    }

    @Test func filtersByEveryTagAndHidesGroupedTasks() async throws {
        try await withTaskAPI { api, dispatcher in
            let both = try await dispatcher.dispatch(TaskRequest(name: "test.echo", tags: ["a", "b"]))
            _ = try await dispatcher.dispatch(TaskRequest(name: "test.echo", tags: ["a"]))
            _ = try await dispatcher.dispatchGroup([TaskRequest(name: "test.echo", tags: ["a", "b"])])
            let response = await api.handle(
                APIRequest(method: "GET", path: "/pulp/api/v2/tasks/", query: [.init("tag", "a"), .init("tag", "b")])
            )
            #expect(response.body?.arrayValue?.compactMap { $0["task_id"] } == [.string(both.taskID!.rawValue)])
        }
    }

    @Test func cancelsATaskWith200Null() async throws {
        try await withTaskAPI { api, dispatcher in
            dispatcher.register("test.sleep") { _ in
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.sleep")).taskID)
            let response = await api.handle(APIRequest(method: "DELETE", path: "/pulp/api/v2/tasks/\(id)/"))
            #expect(response.status == 200)
            #expect(response.body == .null)
            #expect(try await dispatcher.waitForCompletion(of: id).state == .canceled)
            let again = await api.handle(APIRequest(method: "DELETE", path: "/pulp/api/v2/tasks/\(id)/"))
            #expect(again.status == 200)
        }
    }

    @Test(arguments: ["state-summary", "state_summary"])
    func servesTheGroupSummaryAtBothSpellings(spelling: String) async throws {
        try await withTaskAPI { api, dispatcher in
            let group = try await dispatcher.dispatchGroup((0..<3).map { _ in TaskRequest(name: "test.echo") })
            for task in try await dispatcher.store.tasks(inGroup: group.groupID) {
                _ = try await dispatcher.waitForCompletion(of: task.id)
            }
            let response = await api.handle(
                APIRequest(method: "GET", path: "/pulp/api/v2/task_groups/\(group.groupID)/\(spelling)/")
            )
            #expect(response.status == 200)
            #expect(response.body?["finished"] == 3)
            #expect(response.body?["total"] == 3)
            let unknown = await api.handle(APIRequest(method: "GET", path: "/v2/task_groups/unknown/\(spelling)/"))
            #expect(unknown.status == 200)
            #expect(unknown.body?["total"] == 0)
            let root = await api.handle(APIRequest(method: "GET", path: group.href))
            #expect(root.status == 404)
        }
    }

    @Test func purgesTasksByStateWithPulpsStatuses() async throws {
        try await withTaskAPI { api, dispatcher in
            let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.echo")).taskID)
            _ = try await dispatcher.waitForCompletion(of: id)
            let none = await api.handle(APIRequest(method: "DELETE", path: "/pulp/api/v2/tasks/"))
            #expect(none.status == 403)
            let bad = await api.handle(
                APIRequest(method: "DELETE", path: "/pulp/api/v2/tasks/", query: [.init("state", "canceled")])
            )
            #expect(bad.status == 400)
            #expect(bad.body?["property_names"] == ["state"])
            let ok = await api.handle(
                APIRequest(method: "DELETE", path: "/pulp/api/v2/tasks/", query: [.init("state", "finished")])
            )
            #expect(ok.status == 204)
            #expect(ok.body == nil)
            #expect(await api.handle(APIRequest(method: "GET", path: "/pulp/api/v2/tasks/\(id)/")).status == 404)
        }
    }

    @Test func searchesWithCriteriaByPostAndGet() async throws {
        try await withTaskAPI { api, dispatcher in
            for tag in ["x", "y", "y"] {
                let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.echo", tags: [tag])).taskID)
                _ = try await dispatcher.waitForCompletion(of: id)
            }
            let post = await api.handle(
                APIRequest(
                    method: "POST",
                    path: "/pulp/api/v2/tasks/search/",
                    json: ["criteria": ["filters": ["tags": "y"], "fields": ["state"]]]
                )
            )
            #expect(post.status == 200)
            #expect(post.body?.arrayValue?.count == 2)
            #expect(post.body?.arrayValue?.first?["tags"] == nil)
            let get = await api.handle(
                APIRequest(
                    method: "GET",
                    path: "/pulp/api/v2/tasks/search/",
                    query: [.init("filters", #"{"tags": "x"}"#), .init("limit", "1")]
                )
            )
            #expect(get.body?.arrayValue?.count == 1)
            let missing = await api.handle(APIRequest(method: "POST", path: "/pulp/api/v2/tasks/search/", json: [:]))
            #expect(missing.status == 400)
            #expect(missing.body?["missing_property_names"] == ["criteria"])
            let badLimit = await api.handle(
                APIRequest(method: "POST", path: "/v2/tasks/search/", json: ["criteria": ["limit": 0]])
            )
            #expect(badLimit.status == 400)
            #expect(badLimit.body?["property_names"] == ["limit"])
        }
    }

    @Test func answersUnknownPathsWrongMethodsAndBadJSON() async throws {
        try await withTaskAPI { api, _ in
            #expect(await api.handle(APIRequest(method: "GET", path: "/pulp/api/v2/nothing/")).status == 404)
            let wrong = await api.handle(APIRequest(method: "PUT", path: "/pulp/api/v2/tasks/"))
            #expect(wrong.status == 405)
            #expect(wrong.headers["Allow"] == "DELETE, GET")
            let malformed = await api.handle(
                APIRequest(method: "POST", path: "/pulp/api/v2/tasks/search/", body: Array("{nope".utf8))
            )
            #expect(malformed.status == 400)
            #expect(malformed.body?.value(at: "error.code") == "PLK1009")
        }
    }
}
