import Foundation

/// Creates, changes and deletes repositories and their importers, validating what the stores are given.
///
/// Deleting a repository removes its importer, its unit associations and its sync history, then tells
/// the observers registered with ``onDelete(_:)`` (the scheduler's schedules, applicability rows).
public final class RepositoryService: Sendable {
    /// Where repositories live.
    public let repositories: any RepositoryStore
    /// Where units and associations live.
    public let content: any ContentStore
    /// Where sync history lives.
    public let history: any HistoryStore
    /// The importers that can be attached to a repository.
    public let importers: ImporterRegistry
    /// The clock that stamps importer changes.
    public let clock: any WallClock
    private let deletionObservers = PulpMutex<[@Sendable (RepositoryID, _ importerOnly: Bool) async throws -> Void]>([])

    /// Creates the service over its stores.
    public init(
        repositories: any RepositoryStore,
        content: any ContentStore,
        history: any HistoryStore,
        importers: ImporterRegistry,
        clock: any WallClock = SystemWallClock()
    ) {
        self.repositories = repositories
        self.content = content
        self.history = history
        self.importers = importers
        self.clock = clock
    }

    /// Calls `observer` after a repository is deleted (`importerOnly == false`) or loses its importer
    /// (`importerOnly == true`), so what hangs off it (schedules, applicability) goes too.
    public func onDelete(_ observer: @escaping @Sendable (RepositoryID, _ importerOnly: Bool) async throws -> Void) {
        deletionObservers.withLock { $0.append(observer) }
    }

    /// Creates a repository, optionally with an importer; a 400 naming every bad field, a 409 for a taken id.
    @discardableResult
    public func create(
        _ repository: Repository,
        importerTypeID: String? = nil,
        importerConfiguration: [String: JSONValue] = [:]
    ) async throws -> Repository {
        var repository = repository
        try Repository.validate(id: repository.id.rawValue)
        if let importerTypeID {
            repository.importer = try makeImporter(importerTypeID, configuration: importerConfiguration)
        }
        try await repositories.create(repository)
        return repository
    }

    /// The repository with `id`, or a 404.
    public func repository(_ id: RepositoryID) async throws -> Repository {
        try await repositories.existingRepository(id)
    }

    /// The repositories matching `criteria`.
    public func repositories(matching criteria: Criteria = Criteria()) async throws -> [Repository] {
        try await repositories.repositories(matching: criteria)
    }

    /// Changes a repository's display name, description and notes (a `null` note removes that key).
    @discardableResult
    public func update(
        _ id: RepositoryID,
        displayName: String? = nil,
        description: JSONValue? = nil,
        notes: [String: JSONValue] = [:]
    ) async throws -> Repository {
        if let description, description != .null, description.stringValue == nil {
            throw PulpError.invalid("description", "must be a string or null, got \(description.typeName)")
        }
        return try await repositories.update(id) { repository in
            if let displayName { repository.displayName = displayName }
            if let description { repository.description = description.stringValue }
            for (key, value) in notes {
                if value == .null { repository.notes[key] = nil } else { repository.notes[key] = value }
            }
        }
    }

    /// Attaches (or replaces) a repository's importer with a validated configuration.
    ///
    /// Replacing an importer removes the old one first, as Pulp 2 does: its schedules go with it, even
    /// when the new importer is of the same type.
    @discardableResult
    public func setImporter(
        of id: RepositoryID,
        typeID: String,
        configuration: [String: JSONValue] = [:]
    ) async throws -> RepositoryImporter {
        let importer = try makeImporter(typeID, configuration: configuration)
        let replaced = PulpMutex(false)
        try await repositories.update(id) { repository in
            replaced.withLock { $0 = repository.importer != nil }
            repository.importer = importer
        }
        if replaced.withLock({ $0 }) {
            for observer in deletionObservers.withLock({ $0 }) { try await observer(id, true) }
        }
        return importer
    }

    /// Checks that `changes` can be merged into the importer's configuration; returns the merged configuration.
    ///
    /// - Throws: 404 when the repository has no importer (or `importerID` is not its importer's); 400 naming
    ///   every bad key of the result.
    @discardableResult
    public func validateImporterUpdate(
        of id: RepositoryID,
        importerID: String? = nil,
        changes: [String: JSONValue]
    ) async throws -> [String: JSONValue] {
        let existing = try await repository(id)
        guard let importer = existing.importer, importerID.map({ $0 == importer.id }) ?? true else {
            throw PulpError.missingResource(["importer": importerID ?? "", "repository": id.rawValue])
        }
        let plugin = try importers.existingImporter(ofType: importer.typeID)
        let merged = ImporterSettings.effectiveConfiguration(stored: importer.configuration, override: changes)
        let problems = importers.problems(in: merged, for: plugin)
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
        return merged
    }

    /// Merges `changes` into the importer's configuration (`null` removes a key) after validating the result.
    ///
    /// - Throws: 404 when the repository has no importer (or the id is not its importer's); 400 naming
    ///   every bad key, with the stored configuration unchanged.
    @discardableResult
    public func updateImporterConfiguration(
        of id: RepositoryID,
        importerID: String? = nil,
        changes: [String: JSONValue]
    ) async throws -> RepositoryImporter {
        let merged = try await validateImporterUpdate(of: id, importerID: importerID, changes: changes)
        let now = clock.now
        let stored = try await repositories.update(id) { repository in
            guard var importer = repository.importer, importerID.map({ $0 == importer.id }) ?? true else {
                throw PulpError.conflict("the importer of repository \(id) changed during the update")
            }
            importer.configuration = merged
            importer.lastUpdated = now
            repository.importer = importer
        }
        guard let importer = stored.importer else { throw PulpError.internalError("the importer vanished") }
        return importer
    }

    /// Removes a repository's importer (and so its schedules); 404 when it has none.
    public func removeImporter(of id: RepositoryID, importerID: String) async throws {
        try await repositories.update(id) { repository in
            guard repository.importer?.id == importerID else {
                throw PulpError.missingResource(["importer": importerID, "repository": id.rawValue])
            }
            repository.importer = nil
        }
        for observer in deletionObservers.withLock({ $0 }) { try await observer(id, true) }
    }

    /// Deletes a repository with its importer, associations and history; 404 when it does not exist.
    public func delete(_ id: RepositoryID) async throws {
        guard try await repositories.delete(id) else { throw Repository.missing(id) }
        try await content.removeAssociations(of: id)
        _ = try await history.deleteEntries(for: id)
        for observer in deletionObservers.withLock({ $0 }) { try await observer(id, false) }
    }

    /// Rebuilds a repository's unit counts from its associations, stamping additions and removals at `now`.
    @discardableResult
    public func refreshUnitCounts(of id: RepositoryID, added: Int = 0, removed: Int = 0) async throws -> Repository {
        let counts = try await content.unitCounts(in: id)
        let now = clock.now
        return try await repositories.update(id) { repository in
            repository.contentUnitCounts = counts
            if added > 0 { repository.lastUnitAdded = now }
            if removed > 0 { repository.lastUnitRemoved = now }
        }
    }

    /// A validated importer of `typeID`: a 400 naming the type or every bad configuration key.
    private func makeImporter(_ typeID: String, configuration: [String: JSONValue]) throws -> RepositoryImporter {
        let plugin = try importers.existingImporter(ofType: typeID)
        let cleaned = configuration.filter { $0.value != .null }
        let problems = importers.problems(in: cleaned, for: plugin)
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
        return RepositoryImporter(typeID: typeID, configuration: cleaned, lastUpdated: clock.now)
    }
}
