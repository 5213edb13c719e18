import Foundation

/// A ``ContentStore`` in memory: fast, shared by the tasks of one process, gone when it exits.
public final class InMemoryContentStore: ContentStore {
    private struct Tables {
        var units: [UnitID: ContentUnit] = [:]
        var idsByKey: [UnitNaturalKey: UnitID] = [:]
        var associations: [RepositoryID: Set<UnitID>] = [:]
    }

    private let tables = PulpMutex(Tables())

    /// Creates an empty store.
    public init() {}

    /// Inserts or updates units by natural key; returns them as stored.
    public func save(_ units: [ContentUnit]) async throws -> [ContentUnit] {
        tables.withLock { tables in
            units.map { unit in
                var stored = unit
                let key = unit.naturalKey
                if let id = tables.idsByKey[key] {
                    stored.id = id
                } else {
                    tables.idsByKey[key] = unit.id
                }
                tables.units[stored.id] = stored
                return stored
            }
        }
    }

    /// The units with these ids that exist, in the order given.
    public func units(withIDs ids: [UnitID]) async throws -> [ContentUnit] {
        tables.withLock { tables in ids.compactMap { tables.units[$0] } }
    }

    /// The unit stored under `key`, if any.
    public func unit(withKey key: UnitNaturalKey) async throws -> ContentUnit? {
        tables.withLock { tables in tables.idsByKey[key].flatMap { tables.units[$0] } }
    }

    /// A repository's units of `types` (every type when empty), ordered by id.
    public func units(in repository: RepositoryID, types: Set<String>) async throws -> [ContentUnit] {
        let units = tables.withLock { tables in
            (tables.associations[repository] ?? []).compactMap { id in
                tables.units[id].flatMap { types.isEmpty || types.contains($0.typeID) ? $0 : nil }
            }
        }
        // Sorted outside the lock, by position: comparing ids' first bytes as integers settles almost every
        // comparison without reading the strings, and no unit is moved until the order is known.
        let keys = units.map { UnitIDSortKey($0.id) }
        let order = units.indices.sorted { a, b in
            UnitIDSortKey.compare(keys[a], units[a].id, keys[b], units[b].id) < 0
        }
        return order.map { units[$0] }
    }

    /// Adds the existing units among `ids` to a repository; returns how many were new to it.
    public func associate(_ ids: [UnitID], with repository: RepositoryID) async throws -> Int {
        tables.withLock { tables in
            var added = 0
            for id in ids where tables.units[id] != nil {
                if tables.associations[repository, default: []].insert(id).inserted { added += 1 }
            }
            return added
        }
    }

    /// Removes `ids` from a repository; returns how many it held.
    public func unassociate(_ ids: [UnitID], from repository: RepositoryID) async throws -> Int {
        tables.withLock { tables in
            ids.reduce(0) { count, id in count + (tables.associations[repository]?.remove(id) == nil ? 0 : 1) }
        }
    }

    /// Removes every association of `repository`; returns how many.
    public func removeAssociations(of repository: RepositoryID) async throws -> Int {
        tables.withLock { $0.associations.removeValue(forKey: repository)?.count ?? 0 }
    }

    /// How many units of each type `repository` holds.
    public func unitCounts(in repository: RepositoryID) async throws -> [String: Int] {
        tables.withLock { tables in
            var counts: [String: Int] = [:]
            for id in tables.associations[repository] ?? [] {
                if let unit = tables.units[id] { counts[unit.typeID, default: 0] += 1 }
            }
            return counts
        }
    }
}
