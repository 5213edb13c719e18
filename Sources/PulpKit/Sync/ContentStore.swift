import Foundation

/// Where content units and their repository associations live.
///
/// A unit is stored once, identified by its ``UnitNaturalKey`` (type and unit key); repositories hold units
/// through associations. Every conformer keeps these rules:
///
/// 1. **Upsert by key.** ``save(_:)`` stores each unit under its natural key: a key not stored yet is
///    inserted with the unit's id; a key already stored keeps its stored id and takes every other field
///    of the new value. It returns the units as stored, in the order given.
/// 2. **Associations.** ``associate(_:with:)`` and ``unassociate(_:from:)`` change only the named pairs and
///    return how many changed; a pair already present (or absent) is not counted. Units of unknown ids are
///    ignored.
/// 3. **Reads.** ``units(in:types:)`` returns the repository's units ordered by id; an empty `types`
///    means every type; ``unitSummaries(in:types:)`` returns the same units, in the same order, as
///    ``ContentUnitSummary`` values. ``unitCounts(in:)`` counts them per type.
/// 4. **Cascade.** ``removeAssociations(of:)`` drops every association of a deleted repository. Units
///    themselves stay, as Pulp's orphans do.
/// 5. **Durability.** A change is stored before the call that makes it returns.
public protocol ContentStore: Sendable {
    /// Inserts or updates units by natural key; returns them as stored (rule 1).
    @discardableResult
    func save(_ units: [ContentUnit]) async throws -> [ContentUnit]

    /// The units with these ids that exist, in the order given.
    func units(withIDs ids: [UnitID]) async throws -> [ContentUnit]

    /// The unit stored under a natural key, if any.
    func unit(withKey key: UnitNaturalKey) async throws -> ContentUnit?

    /// A repository's units of the given types (all types when empty), ordered by id (rule 3).
    func units(in repository: RepositoryID, types: Set<String>) async throws -> [ContentUnit]

    /// A repository's units of the given types (all types when empty) as light summaries, ordered by id
    /// (rule 3): what a re-sync compares with its feed. The default maps ``units(in:types:)``; a store that
    /// can read the summary fields without decoding whole units should do so.
    func unitSummaries(in repository: RepositoryID, types: Set<String>) async throws -> [ContentUnitSummary]

    /// Adds units to a repository; returns how many were not there yet (rule 2).
    @discardableResult
    func associate(_ ids: [UnitID], with repository: RepositoryID) async throws -> Int

    /// Removes units from a repository; returns how many were there (rule 2).
    @discardableResult
    func unassociate(_ ids: [UnitID], from repository: RepositoryID) async throws -> Int

    /// Removes every association of a repository (rule 4); returns how many.
    @discardableResult
    func removeAssociations(of repository: RepositoryID) async throws -> Int

    /// How many units of each type a repository holds (rule 3).
    func unitCounts(in repository: RepositoryID) async throws -> [String: Int]
}

extension ContentStore {
    /// A repository's units as summaries, from ``units(in:types:)``.
    public func unitSummaries(in repository: RepositoryID, types: Set<String>) async throws -> [ContentUnitSummary] {
        try await units(in: repository, types: types).map(ContentUnitSummary.init)
    }

    /// Every unit of a repository, ordered by id.
    public func units(in repository: RepositoryID) async throws -> [ContentUnit] {
        try await units(in: repository, types: [])
    }

    /// The unit with `id`, if it exists.
    public func unit(withID id: UnitID) async throws -> ContentUnit? {
        try await units(withIDs: [id]).first
    }
}
