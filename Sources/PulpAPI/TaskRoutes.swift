import PulpKit

/// `/v2/tasks/` and `/v2/task_groups/`: task reports, search, cancellation, purge and group summaries.
struct TaskRoutes: Sendable {
    let dispatcher: TaskDispatcher

    func register(on router: inout Router) {
        router.add("GET", "v2/tasks") { request, _ in
            let tasks = try await dispatcher.tasks(taggedWith: request.queryValues("tag"))
            return .ok(.array(tasks.map(\.json)))
        }
        router.add("DELETE", "v2/tasks") { request, _ in
            try await purge(states: request.queryValues("state"))
            return APIResponse(status: 204, body: nil)
        }
        router.add("GET", "v2/tasks/search") { request, _ in
            let items = request.query.map { (name: $0.name, value: $0.value) }
            return try await search(Criteria(queryItems: items))
        }
        router.add("POST", "v2/tasks/search") { request, _ in
            let body = try request.jsonObjectBody()
            guard let criteria = body["criteria"] else { throw PulpError.missingValues(["criteria"]) }
            return try await search(Criteria(json: criteria))
        }
        router.add("GET", "v2/tasks/{id}") { _, parameters in
            .ok(try await dispatcher.status(of: TaskID(parameters["id"]!)).json)
        }
        router.add("DELETE", "v2/tasks/{id}") { _, parameters in
            try await dispatcher.cancel(TaskID(parameters["id"]!))
            return .ok(.null)
        }
        router.add("GET", "v2/task_groups/{id}") { _, parameters in
            // Pulp serves no resource at a group's own href; clients append `state-summary/`.
            throw PulpError.missingResource(["task_group": parameters["id"]!])
        }
        router.add("DELETE", "v2/task_groups/{id}") { _, parameters in
            try await dispatcher.cancelGroup(TaskGroupID(parameters["id"]!))
            return .ok(.null)
        }
        for summary in ["state-summary", "state_summary"] {
            router.add("GET", "v2/task_groups/{id}/\(summary)") { _, parameters in
                .ok(try await dispatcher.summary(ofGroup: TaskGroupID(parameters["id"]!)).json)
            }
        }
    }

    private func search(_ criteria: Criteria) async throws -> APIResponse {
        let all = try await dispatcher.store.tasks(inGroup: nil)
        return .ok(.array(criteria.apply(to: all.map(\.json))))
    }

    /// `DELETE /v2/tasks/?state=…`: Pulp answers 403 without a state and 400 for a state it won't purge.
    private func purge(states: [String]) async throws {
        guard !states.isEmpty else {
            throw PulpError(
                code: .invalidProperties,
                httpStatus: 403,
                message: "No task state given to parameters list for delete.",
                propertyNames: ["state"]
            )
        }
        var parsed: Set<TaskState> = []
        for state in states {
            guard let value = TaskState(rawValue: state) else {
                throw PulpError.invalid("state", "Invalid task state passed to purge: \(state).")
            }
            parsed.insert(value)
        }
        try await dispatcher.deleteCompleted(states: parsed)
    }
}
