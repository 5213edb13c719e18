import PulpKit

/// `/v2/consumers/`: consumers, their unit profiles and bindings (`consumer/cud.rst`, `consumer/profile.rst`,
/// `consumer/bind.rst`), and the four content applicability endpoints of the spec.
struct ConsumerRoutes: Sendable {
    let engine: ApplicabilityEngine

    func register(on router: inout Router) {
        registerApplicability(on: &router)
        router.add("POST", "v2/consumers") { request, _ in
            let body = try request.fields()
            let consumer = try await engine.register(
                Consumer(
                    id: ConsumerID(try body.requiredString("id")),
                    displayName: try body.string("display_name"),
                    description: try body.string("description"),
                    notes: try body.object("notes") ?? [:]
                )
            )
            return .created(["consumer": consumer.json, "certificate": nil], at: consumer.href)
        }
        router.add("GET", "v2/consumers") { _, _ in
            .ok(.array(try await engine.consumers(matching: Criteria()).map(\.json)))
        }
        router.add("POST", "v2/consumers/search") { request, _ in
            let criteria = try Criteria(json: try request.fields().members["criteria"] ?? [:])
            return .ok(.array(try await engine.consumers(matching: criteria).map(\.json)))
        }
        router.add("GET", "v2/consumers/{id}") { _, parameters in
            .ok(try await engine.consumer(id(parameters)).json)
        }
        router.add("PUT", "v2/consumers/{id}") { request, parameters in
            let delta = BodyFields(try request.fields().object("delta") ?? [:])
            let displayName = try delta.string("display_name")
            let description = try delta.string("description")
            let notes = try delta.object("notes") ?? [:]
            let consumer = try await engine.updateConsumer(id(parameters)) { consumer in
                if let displayName { consumer.displayName = displayName }
                if let description { consumer.description = description }
                for (key, value) in notes { consumer.notes[key] = value == .null ? nil : value }
            }
            return .ok(consumer.json)
        }
        router.add("DELETE", "v2/consumers/{id}") { _, parameters in
            try await engine.deleteConsumer(id(parameters))
            return .ok(.null)
        }
        for method in ["POST", "PUT"] {
            router.add(method, "v2/consumers/{id}/profiles") { request, parameters in
                let body = try request.fields()
                guard let profile = body.members["profile"] else { throw PulpError.missingValues(["profile"]) }
                let stored = try await engine.setProfile(
                    profile,
                    contentType: try body.requiredString("content_type"),
                    for: id(parameters)
                )
                return method == "POST"
                    ? .created(
                        stored.json,
                        at: "/pulp/api/v2/consumers/\(parameters["id"]!)/profiles/\(stored.contentType)/"
                    )
                    : .ok(stored.json)
            }
        }
        router.add("GET", "v2/consumers/{id}/profiles") { _, parameters in
            .ok(.array(try await engine.profiles(of: id(parameters)).map(\.json)))
        }
        router.add("GET", "v2/consumers/{id}/profiles/{type}") { _, parameters in
            .ok(try await engine.profile(contentType: parameters["type"]!, of: id(parameters)).json)
        }
        router.add("DELETE", "v2/consumers/{id}/profiles/{type}") { _, parameters in
            try await engine.deleteProfile(contentType: parameters["type"]!, of: id(parameters))
            return .ok(.null)
        }
        router.add("POST", "v2/consumers/{id}/bindings") { request, parameters in
            let body = try request.fields()
            let binding = try await engine.bind(
                id(parameters),
                to: RepositoryID(try body.requiredString("repo_id")),
                distributorID: try body.string("distributor_id"),
                notifyAgent: try body.bool("notify_agent") ?? true,
                bindingConfig: try body.object("binding_config") ?? [:]
            )
            return .ok(["result": binding.json, "error": nil, "spawned_tasks": []])
        }
        router.add("GET", "v2/consumers/{id}/bindings") { _, parameters in
            .ok(.array(try await engine.bindings(of: id(parameters)).map(\.json)))
        }
        for pattern in ["v2/consumers/{id}/bindings/{repo}", "v2/consumers/{id}/bindings/{repo}/{distributor}"] {
            router.add("DELETE", pattern) { _, parameters in
                try await engine.unbind(
                    id(parameters),
                    from: RepositoryID(parameters["repo"]!),
                    distributorID: parameters["distributor"]
                )
                return .ok(["result": nil, "error": nil, "spawned_tasks": []])
            }
        }
    }

    private func id(_ parameters: [String: String]) -> ConsumerID { ConsumerID(parameters["id"]!) }

    /// The spec's four applicability endpoints.
    private func registerApplicability(on router: inout Router) {
        router.add("POST", "v2/consumers/actions/content/regenerate_applicability") { request, _ in
            let body = try request.jsonBody() ?? [:]
            return .accepted(try await engine.regenerate(ConsumerRegenerationRequest(json: body)).json)
        }
        router.add("POST", "v2/repositories/actions/content/regenerate_applicability") { request, _ in
            let body = try request.jsonBody() ?? [:]
            return .accepted(try await engine.regenerate(RepositoryRegenerationRequest(json: body)).json)
        }
        router.add("POST", "v2/consumers/{id}/actions/content/regenerate_applicability") { _, parameters in
            .accepted(try await engine.regenerate(consumer: id(parameters)).json)
        }
        router.add("POST", "v2/consumers/content/applicability") { request, _ in
            let body = try request.jsonBody() ?? [:]
            return .ok(ApplicabilityReport.json(try await engine.query(ApplicabilityQuery(json: body))))
        }
    }
}
