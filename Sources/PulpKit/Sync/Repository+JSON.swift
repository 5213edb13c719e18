import Foundation

extension Repository {
    /// The repository as Pulp 2's REST API shows it (`repo/retrieval.rst`), without its importers.
    ///
    /// Criteria searches run over this document, so `{"filters": {"notes.team": "web"}}` works as in Pulp.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id.rawValue),
            "_id": .string(id.rawValue),
            "_href": .string(href),
            "_ns": "repos",
            "display_name": .string(displayName),
            "description": description.map(JSONValue.string) ?? .null,
            "notes": .object(notes),
            "content_unit_counts": .object(contentUnitCounts.mapValues { .int($0) }),
            "total_repository_units": .int(totalUnitCount),
            "last_unit_added": lastUnitAdded.map { .string(ISO8601DateTime.utcString($0)) } ?? .null,
            "last_unit_removed": lastUnitRemoved.map { .string(ISO8601DateTime.utcString($0)) } ?? .null,
        ]
        object["distributors"] = []
        return .object(object)
    }

    /// The repository with its importer listed, as `GET …/repositories/<id>/?details=true` shows it.
    public var detailedJSON: JSONValue {
        guard case .object(var object) = json else { return json }
        object["importers"] = .array(importer.map { [$0.json(repository: id)] } ?? [])
        return .object(object)
    }
}

extension RepositoryImporter {
    /// The importer as Pulp 2 shows it (`repo/retrieval.rst`, "Retrieve Importers Associated with a Repository").
    public func json(repository: RepositoryID) -> JSONValue {
        [
            "id": .string(id),
            "_id": .string(id),
            "_ns": "repo_importers",
            "_href": .string("/pulp/api/v2/repositories/\(repository.rawValue)/importers/\(id)/"),
            "repo_id": .string(repository.rawValue),
            "importer_type_id": .string(typeID),
            "config": .object(configuration),
            "last_sync": lastSync.map { .string(ISO8601DateTime.utcString($0)) } ?? .null,
            "last_updated": lastUpdated.map { .string(ISO8601DateTime.utcString($0)) } ?? .null,
            "last_override_config": .object(lastOverrideConfig),
            "scratchpad": scratchpad,
        ]
    }
}
