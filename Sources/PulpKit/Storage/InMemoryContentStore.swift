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
        // Copy-on-write snapshots: taking them copies nothing, so the lock is held only for that, and the
        // lookups, the sort and the one copy of each unit happen outside it (concurrent index builds do not
        // wait for each other; a write meanwhile copies the table instead of waiting).
        let (associated, units) = tables.withLock { tables in (tables.associations[repository] ?? [], tables.units) }
        // Sorted by position: comparing ids' first bytes as integers settles almost every comparison without
        // reading the strings.
        let ids = Array(associated)
        let keys = ids.map(UnitIDSortKey.init)
        let order = ids.indices.sorted { a, b in UnitIDSortKey.compare(keys[a], ids[a], keys[b], ids[b]) < 0 }
        var result: [ContentUnit] = []
        result.reserveCapacity(ids.count)
        for position in order {
            guard let index = units.index(forKey: ids[position]) else { continue }
            if types.isEmpty || types.contains(units.values[index].typeID) { result.append(units.values[index]) }
        }
        return result
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
