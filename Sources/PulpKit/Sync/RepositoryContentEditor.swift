import Foundation

/// Puts content into repositories without an importer, as Pulp 2's upload (`import_upload`, which also
/// takes units without a file, such as errata) and `associate` actions do, so hosts and tests can build
/// repositories from data.
///
/// Every change keeps the repository's ``Repository/contentUnitCounts`` true, and stamps
/// ``Repository/lastUnitAdded`` or ``Repository/lastUnitRemoved`` when units were added or removed.
public struct RepositoryContentEditor: Sendable {
    /// The repositories edited.
    public let repositories: any RepositoryStore
    /// Where the units and their associations are stored.
    public let content: any ContentStore
    /// The clock that stamps the changes.
    public let clock: any WallClock

    /// Creates an editor over the two stores.
    public init(repositories: any RepositoryStore, content: any ContentStore, clock: any WallClock = SystemWallClock())
    {
        self.repositories = repositories
        self.content = content
        self.clock = clock
    }

    /// Stores units (a stored unit with the same type and key keeps its id and takes the new fields) and adds
    /// them to a repository; returns them as stored, in the order given.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown repository; a 400 naming `type_id` or `unit_key` when a
    ///   unit has an empty type or an empty key. Nothing is stored then.
    @discardableResult
    public func add(_ units: [ContentUnit], to repository: RepositoryID) async throws -> [ContentUnit] {
        _ = try await repositories.existingRepository(repository)
        var problems: [PulpError.Problem] = []
        for (position, unit) in units.enumerated() {
            if unit.typeID.isEmpty { problems.append(.init("type_id", "unit \(position) has an empty content type")) }
            if unit.unitKey.isEmpty { problems.append(.init("unit_key", "unit \(position) has an empty unit key")) }
        }
        guard problems.isEmpty else { throw PulpError.invalidProperties(problems) }
        let stored = try await content.save(units)
        let added = try await content.associate(stored.map(\.id), with: repository)
        try await refreshCounts(of: repository, added: added > 0, removed: false)
        return stored
    }

    /// Adds to `destination` the units among `ids` that `source` holds (Pulp 2's `associate` action); returns
    /// how many were new to it.
    ///
    /// - Throws: a 404 ``PulpError`` naming whichever repository does not exist.
    @discardableResult
    public func copy(_ ids: [UnitID], from source: RepositoryID, to destination: RepositoryID) async throws -> Int {
        _ = try await repositories.existingRepository(source)
        _ = try await repositories.existingRepository(destination)
        let wanted = Set(ids)
        let held = try await content.units(in: source).map(\.id).filter { wanted.contains($0) }
        let added = try await content.associate(held, with: destination)
        try await refreshCounts(of: destination, added: added > 0, removed: false)
        return added
    }

    /// Removes units from a repository (they stay stored, as Pulp's orphans do); returns how many it held.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown repository.
    @discardableResult
    public func remove(_ ids: [UnitID], from repository: RepositoryID) async throws -> Int {
        _ = try await repositories.existingRepository(repository)
        let removed = try await content.unassociate(ids, from: repository)
        try await refreshCounts(of: repository, added: false, removed: removed > 0)
        return removed
    }

    private func refreshCounts(of repository: RepositoryID, added: Bool, removed: Bool) async throws {
        let counts = try await content.unitCounts(in: repository)
        let now = clock.now
        try await repositories.update(repository) { stored in
            stored.contentUnitCounts = counts
            if added { stored.lastUnitAdded = now }
            if removed { stored.lastUnitRemoved = now }
        }
    }
}
