public import Foundation

/// Identifies an upload request: a file being uploaded in pieces before it is imported as a unit.
public struct UploadID: PulpIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Builds repositories without an importer, as Pulp 2's content API does: files are uploaded in pieces,
/// then imported as units (errata and other metadata-only units need no file), and units are copied
/// between repositories.
///
/// Imports and copies are tasks that reserve the destination repository, tagged
/// `pulp:action:import_upload` and `pulp:action:associate`.
public final class ContentUploadService: Sendable {
    /// The kind of the import task.
    public static let importTask = TaskKind<ImportUploadArguments>(
        "pulp.server.managers.content.upload.import_uploaded_unit"
    )
    /// The kind of the copy task.
    public static let associateTask = TaskKind<AssociateArguments>(
        "pulp.server.managers.repo.unit_association.associate_from_repo"
    )

    /// Repositories, content and history.
    public let repositories: RepositoryService
    /// Where unit files are stored.
    public let storage: ContentStorage
    /// The dispatcher that runs imports and copies.
    public let dispatcher: TaskDispatcher

    /// Creates the service and registers its task handlers with `dispatcher` (which hold the service weakly,
    /// so a discarded service and its dispatcher are freed).
    public init(repositories: RepositoryService, storage: ContentStorage, dispatcher: TaskDispatcher) {
        self.repositories = repositories
        self.storage = storage
        self.dispatcher = dispatcher
        dispatcher.register(Self.importTask) { [weak self] context, arguments in
            guard let self else { throw PulpError.internalError("The upload service is gone") }
            return try await self.runImport(context, arguments)
        }
        dispatcher.register(Self.associateTask) { [weak self] context, arguments in
            guard let self else { throw PulpError.internalError("The upload service is gone") }
            return try await self.runAssociate(context, arguments)
        }
    }

    private var content: any ContentStore { repositories.content }

    // MARK: - Upload requests

    /// Where upload requests keep their bytes.
    public var uploadsDirectory: URL { storage.root.appendingPathComponent("uploads", isDirectory: true) }

    /// Starts an upload: an empty file that ``write(_:to:at:)`` fills.
    public func createUpload() throws -> UploadID {
        try FileManager.default.createDirectory(at: uploadsDirectory, withIntermediateDirectories: true)
        let id = UploadID.random()
        guard
            FileManager.default.createFile(atPath: path(of: id), contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw PulpError.storage("cannot create the upload file", path: path(of: id)) }
        return id
    }

    /// Writes `bytes` at `offset` of an upload; 404 for an unknown upload, 400 for a negative offset.
    public func write(_ bytes: [UInt8], to id: UploadID, at offset: Int64) throws {
        guard offset >= 0 else { throw PulpError.invalid("offset", "must not be negative, got \(offset)") }
        guard let handle = FileHandle(forWritingAtPath: try existingPath(of: id)) else {
            throw PulpError.storage("cannot open the upload file", path: path(of: id))
        }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: bytes)
        } catch {
            throw PulpError.storage("cannot write the upload file: \(error.localizedDescription)", path: path(of: id))
        }
    }

    /// Deletes an upload; 404 when it does not exist.
    public func deleteUpload(_ id: UploadID) throws {
        unlink(try existingPath(of: id))
    }

    /// The ids of the uploads in progress, sorted.
    public func uploadIDs() -> [UploadID] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: uploadsDirectory.path)) ?? []
        return names.filter { UUID(uuidString: $0) != nil }.sorted().map(UploadID.init(rawValue:))
    }

    private func path(of id: UploadID) -> String { uploadsDirectory.appendingPathComponent(id.rawValue).path }

    private func existingPath(of id: UploadID) throws -> String {
        let path = path(of: id)
        guard UUID(uuidString: id.rawValue) != nil, FileManager.default.fileExists(atPath: path) else {
            throw PulpError.missingResource(["upload_request": id.rawValue])
        }
        return path
    }

    // MARK: - Import

    /// Dispatches the import of a unit into a repository: with an upload, its bytes become the unit's
    /// file; without one the unit is metadata only (an erratum).
    ///
    /// - Throws: 404 for an unknown repository or upload; 400 naming `unit_type_id` or `unit_key` when
    ///   they are empty. Nothing is dispatched then.
    public func importUpload(
        into repository: RepositoryID,
        uploadID: UploadID?,
        typeID: String,
        unitKey: [String: JSONValue],
        metadata: [String: JSONValue] = [:]
    ) async throws -> CallReport {
        var problems: [PulpError.Problem] = []
        if typeID.isEmpty { problems.append(.init("unit_type_id", "must be a non-empty content type id")) }
        if unitKey.isEmpty { problems.append(.init("unit_key", "must be a non-empty object")) }
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
        _ = try await repositories.repository(repository)
        if let uploadID { _ = try existingPath(of: uploadID) }
        return try await dispatcher.dispatch(
            TaskRequest(
                Self.importTask,
                ImportUploadArguments(
                    repositoryID: repository,
                    uploadID: uploadID,
                    typeID: typeID,
                    unitKey: unitKey,
                    metadata: metadata
                ),
                resources: [TaskResource.repository(repository)],
                tags: [TaskTag.repository(repository), TaskTag.action("import_upload")]
            )
        )
    }

    private func runImport(_ task: TaskContext, _ arguments: ImportUploadArguments) async throws -> JSONValue {
        var unit = ContentUnit(typeID: arguments.typeID, unitKey: arguments.unitKey, metadata: arguments.metadata)
        if let uploadID = arguments.uploadID {
            let source = try existingPath(of: uploadID)
            let incoming = try storage.incomingURL()
            guard link(source, incoming.path) == 0 else {
                throw PulpError.storage(
                    "cannot link the upload into storage: \(String(cString: strerror(errno)))",
                    path: source
                )
            }
            let digest: SHA256Digest
            do { digest = try SHA256.hash(fileAt: incoming.path) } catch {
                unlink(incoming.path)
                throw error
            }
            var info = stat()
            stat(incoming.path, &info)
            unit.size = Int64(info.st_size)
            unit.checksum = digest
            unit.storagePath = try storage.place(incoming, as: digest)
            unit.downloaded = true
            try storage.synchronize()
        }
        let stored = try await content.save([unit])
        let added = try await content.associate(stored.map(\.id), with: arguments.repositoryID)
        try await repositories.refreshUnitCounts(of: arguments.repositoryID, added: added)
        return [
            "success_flag": true,
            "summary": ["unit_id": .string(stored[0].id.rawValue), "added": .bool(added > 0)],
            "details": [:],
        ]
    }

    // MARK: - Copy

    /// Dispatches a copy into `destination` of the units of `source` of `types` (every type when empty)
    /// that match `unitFilters` (criteria filters over each unit's fields).
    ///
    /// - Throws: 404 for an unknown repository; 400 naming `criteria` for bad filters.
    public func associate(
        into destination: RepositoryID,
        from source: RepositoryID,
        types: [String] = [],
        unitFilters: [String: JSONValue] = [:]
    ) async throws -> CallReport {
        _ = try Criteria(json: ["filters": .object(unitFilters)])
        _ = try await repositories.repository(destination)
        _ = try await repositories.repository(source)
        return try await dispatcher.dispatch(
            TaskRequest(
                Self.associateTask,
                AssociateArguments(destination: destination, source: source, types: types, unitFilters: unitFilters),
                resources: [TaskResource.repository(destination)],
                tags: [TaskTag.repository(destination), TaskTag.repository(source), TaskTag.action("associate")]
            )
        )
    }

    private func runAssociate(_ task: TaskContext, _ arguments: AssociateArguments) async throws -> JSONValue {
        let criteria = try Criteria(json: ["filters": .object(arguments.unitFilters)])
        let units = try await content.units(in: arguments.source, types: Set(arguments.types))
            .filter { criteria.matches($0.json) }
        let added = try await content.associate(units.map(\.id), with: arguments.destination)
        try await repositories.refreshUnitCounts(of: arguments.destination, added: added)
        return [
            "units_successful": .array(
                units.map { ["type_id": .string($0.typeID), "unit_key": .object($0.unitKey)] }
            )
        ]
    }
}

/// The arguments of an import task.
public struct ImportUploadArguments: Codable, Sendable, Hashable {
    /// The repository the unit joins.
    public var repositoryID: RepositoryID
    /// The upload holding the unit's file, if it has one.
    public var uploadID: UploadID?
    /// The unit's content type.
    public var typeID: String
    /// The unit's key.
    public var unitKey: [String: JSONValue]
    /// The unit's other fields.
    public var metadata: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case repositoryID = "repo_id"
        case uploadID = "upload_id"
        case typeID = "unit_type_id"
        case unitKey = "unit_key"
        case metadata = "unit_metadata"
    }
}

/// The arguments of a copy task.
public struct AssociateArguments: Codable, Sendable, Hashable {
    /// The repository the units join.
    public var destination: RepositoryID
    /// The repository they are copied from.
    public var source: RepositoryID
    /// The content types copied (every type when empty).
    public var types: [String]
    /// Criteria filters over each unit's fields.
    public var unitFilters: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case destination = "dest_repo_id"
        case source = "source_repo_id"
        case types = "type_ids"
        case unitFilters = "unit_filters"
    }
}
