import PulpKit

/// `/v2/repositories/`: repositories and their importers, sync, download, sync history, schedules, uploads
/// and copies, as Pulp 2's `repo/cud.rst`, `repo/retrieval.rst`, `repo/sync.rst`, `content/upload.rst` and
/// `content/associate.rst` describe them.
struct RepositoryRoutes: Sendable {
    let pulp: Pulp

    func register(on router: inout Router) {
        router.add("POST", "v2/repositories") { request, _ in try await create(request) }
        router.add("GET", "v2/repositories") { request, _ in
            let repositories = try await pulp.repositories.repositories()
            return .ok(.array(repositories.map { json($0, request) }))
        }
        router.add("POST", "v2/repositories/search") { request, _ in
            let criteria = try Criteria(json: try request.fields().members["criteria"] ?? [:])
            return .ok(.array(try await pulp.repositories.repositories(matching: criteria).map { json($0, request) }))
        }
        router.add("GET", "v2/repositories/search") { request, _ in
            let criteria = try Criteria(queryItems: request.query.map { (name: $0.name, value: $0.value) })
            return .ok(.array(try await pulp.repositories.repositories(matching: criteria).map { json($0, request) }))
        }
        router.add("GET", "v2/repositories/{id}") { request, parameters in
            .ok(json(try await pulp.repositories.repository(id(parameters)), request))
        }
        router.add("PUT", "v2/repositories/{id}") { request, parameters in try await update(request, id(parameters)) }
        router.add("DELETE", "v2/repositories/{id}") { _, parameters in
            .accepted(try await pulp.deleteRepository(id(parameters)).json)
        }
        registerImporters(on: &router)
        registerActions(on: &router)
        registerSchedules(on: &router)
        router.add("GET", "v2/repositories/{id}/history/sync") { request, parameters in
            let query = try SyncHistoryQuery(
                limit: request.queryValues("limit").first,
                sort: request.queryValues("sort").first,
                startDate: request.queryValues("start_date").first,
                endDate: request.queryValues("end_date").first
            )
            let repository = try await pulp.repositories.repository(id(parameters))
            return .ok(
                .array(try await pulp.repositories.history.entries(for: repository.id, matching: query).map(\.json))
            )
        }
        router.add("POST", "v2/repositories/{id}/search/units") { request, parameters in
            let repository = try await pulp.repositories.repository(id(parameters))
            let criteria = try request.fields().members["criteria"] ?? [:]
            let types = criteria["type_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let filters = try Criteria(json: ["filters": criteria["filters"]?["unit"] ?? [:]])
            let units = try await pulp.repositories.content.units(in: repository.id, types: Set(types))
            return .ok(
                .array(
                    units.filter { filters.matches($0.json) }.map { unit in
                        [
                            "repo_id": .string(repository.id.rawValue), "unit_id": .string(unit.id.rawValue),
                            "unit_type_id": .string(unit.typeID), "metadata": unit.json,
                        ]
                    }
                )
            )
        }
    }

    private func id(_ parameters: [String: String]) -> RepositoryID { RepositoryID(parameters["id"]!) }

    private func json(_ repository: Repository, _ request: APIRequest) -> JSONValue {
        request.flag("details") || request.flag("importers") ? repository.detailedJSON : repository.json
    }

    /// `POST /v2/repositories/`: 201 with the repository; 409 for a taken id; 400 for bad values.
    private func create(_ request: APIRequest) async throws -> APIResponse {
        let body = try request.fields()
        let known: Set = [
            "id", "display_name", "description", "notes", "importer_type_id", "importer_config", "distributors",
        ]
        let unknown = body.members.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { throw PulpError.unsupportedProperties(unknown) }
        let repositoryID = try body.requiredString("id")
        let repository = try await pulp.repositories.create(
            Repository(
                id: RepositoryID(repositoryID),
                displayName: try body.string("display_name"),
                description: try body.string("description"),
                notes: try body.object("notes") ?? [:]
            ),
            importerTypeID: try body.string("importer_type_id"),
            importerConfiguration: try body.object("importer_config") ?? [:]
        )
        return .created(repository.json, at: repository.href)
    }

    /// `PUT /v2/repositories/<id>/`: `delta` changes at once (200); an `importer_config` becomes a task (202).
    private func update(_ request: APIRequest, _ id: RepositoryID) async throws -> APIResponse {
        let body = try request.fields()
        let delta = BodyFields(try body.object("delta") ?? [:])
        let description = delta.members["description"]
        var repository = try await pulp.repositories.update(
            id,
            displayName: try delta.string("display_name"),
            description: description,
            notes: try delta.object("notes") ?? [:]
        )
        if let changes = try body.object("importer_config") {
            guard let importer = repository.importer else {
                throw PulpError.missingResource(["importer": "", "repository": id.rawValue])
            }
            let report = try await pulp.updateImporter(of: id, importerID: importer.id, changes: changes)
            return .accepted(report.json)
        }
        repository = try await pulp.repositories.repository(id)
        return .ok(repository.json)
    }

    private func registerImporters(on router: inout Router) {
        router.add("GET", "v2/repositories/{id}/importers") { _, parameters in
            let repository = try await pulp.repositories.repository(id(parameters))
            return .ok(.array(repository.importer.map { [$0.json(repository: repository.id)] } ?? []))
        }
        router.add("POST", "v2/repositories/{id}/importers") { request, parameters in
            let body = try request.fields()
            let report = try await pulp.setImporter(
                of: id(parameters),
                typeID: try body.requiredString("importer_type_id"),
                configuration: try body.object("importer_config") ?? [:]
            )
            return .accepted(report.json)
        }
        router.add("GET", "v2/repositories/{id}/importers/{importer}") { _, parameters in
            let repository = try await pulp.repositories.repository(id(parameters))
            guard let importer = repository.importer, importer.id == parameters["importer"] else {
                throw PulpError.missingResource([
                    "importer": parameters["importer"]!, "repository": repository.id.rawValue,
                ])
            }
            return .ok(importer.json(repository: repository.id))
        }
        router.add("PUT", "v2/repositories/{id}/importers/{importer}") { request, parameters in
            let changes = try request.fields().object("importer_config") ?? [:]
            let report = try await pulp.updateImporter(
                of: id(parameters),
                importerID: parameters["importer"]!,
                changes: changes
            )
            return .accepted(report.json)
        }
        router.add("DELETE", "v2/repositories/{id}/importers/{importer}") { _, parameters in
            .accepted(try await pulp.removeImporter(of: id(parameters), importerID: parameters["importer"]!).json)
        }
    }

    private func registerActions(on router: inout Router) {
        router.add("POST", "v2/repositories/{id}/actions/sync") { request, parameters in
            let overrideConfig = try request.fields().object("override_config") ?? [:]
            return .accepted(try await pulp.sync.sync(repository: id(parameters), overrideConfig: overrideConfig).json)
        }
        router.add("POST", "v2/repositories/{id}/actions/download") { request, parameters in
            let verify = try request.fields().bool("verify_all_units") ?? false
            return .accepted(try await pulp.sync.download(repository: id(parameters), verifyAllUnits: verify).json)
        }
        router.add("POST", "v2/repositories/{id}/actions/import_upload") { request, parameters in
            let body = try request.fields()
            let report = try await pulp.uploads.importUpload(
                into: id(parameters),
                uploadID: try body.string("upload_id").map(UploadID.init(rawValue:)),
                typeID: try body.requiredString("unit_type_id"),
                unitKey: try body.object("unit_key") ?? [:],
                metadata: try body.object("unit_metadata") ?? [:]
            )
            return .accepted(report.json)
        }
        router.add("POST", "v2/repositories/{id}/actions/associate") { request, parameters in
            let body = try request.fields()
            let criteria = BodyFields(try body.object("criteria") ?? [:])
            let types = criteria.members["type_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let unitFilters = try BodyFields(try criteria.object("filters") ?? [:]).object("unit") ?? [:]
            let report = try await pulp.uploads.associate(
                into: id(parameters),
                from: RepositoryID(try body.requiredString("source_repo_id")),
                types: types,
                unitFilters: unitFilters
            )
            return .accepted(report.json)
        }
    }

    private func registerSchedules(on router: inout Router) {
        let collection = "v2/repositories/{id}/importers/{importer}/schedules/sync"
        router.add("POST", collection) { request, parameters in
            let call = try await pulp.schedules.create(
                repository: id(parameters),
                importer: parameters["importer"]!,
                body: try request.jsonObjectBody()
            )
            return .created(pulp.schedules.report(call), at: call.href)
        }
        router.add("GET", collection) { _, parameters in
            let calls = try await pulp.schedules.calls(repository: id(parameters), importer: parameters["importer"]!)
            return .ok(pulp.schedules.reports(calls))
        }
        router.add("GET", collection + "/{schedule}") { _, parameters in
            let call = try await pulp.schedules.call(
                ScheduleID(parameters["schedule"]!),
                repository: id(parameters),
                importer: parameters["importer"]!
            )
            return .ok(pulp.schedules.report(call))
        }
        router.add("PUT", collection + "/{schedule}") { request, parameters in
            let call = try await pulp.schedules.update(
                ScheduleID(parameters["schedule"]!),
                repository: id(parameters),
                importer: parameters["importer"]!,
                body: try request.jsonObjectBody()
            )
            return .ok(pulp.schedules.report(call))
        }
        router.add("DELETE", collection + "/{schedule}") { _, parameters in
            try await pulp.schedules.delete(
                ScheduleID(parameters["schedule"]!),
                repository: id(parameters),
                importer: parameters["importer"]!
            )
            return .ok(.null)
        }
    }
}

/// `/v2/content/uploads/`: upload requests (`content/upload.rst`).
struct UploadRoutes: Sendable {
    let pulp: Pulp

    func register(on router: inout Router) {
        router.add("POST", "v2/content/uploads") { _, _ in
            let id = try pulp.uploads.createUpload()
            let href = "/pulp/api/v2/content/uploads/\(id.rawValue)/"
            return .created(["_href": .string(href), "upload_id": .string(id.rawValue)], at: href)
        }
        router.add("GET", "v2/content/uploads") { _, _ in
            .ok(["upload_ids": .array(pulp.uploads.uploadIDs().map { .string($0.rawValue) })])
        }
        router.add("PUT", "v2/content/uploads/{id}/{offset}") { request, parameters in
            guard let offset = Int64(parameters["offset"]!) else {
                throw PulpError.invalid("offset", "must be a whole number, got '\(parameters["offset"]!)'")
            }
            try pulp.uploads.write(request.body, to: UploadID(parameters["id"]!), at: offset)
            return .ok(.null)
        }
        router.add("DELETE", "v2/content/uploads/{id}") { _, parameters in
            try pulp.uploads.deleteUpload(UploadID(parameters["id"]!))
            return .ok(.null)
        }
    }
}
