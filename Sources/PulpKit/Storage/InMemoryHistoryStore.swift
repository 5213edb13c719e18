public import Foundation

/// A ``HistoryStore`` in memory: fast, shared by the tasks of one process, gone when it exits.
///
/// Each repository's entries are one array kept sorted by `started`, then by append order, so a query is
/// two binary searches and a slice.
public final class InMemoryHistoryStore: HistoryStore {
    private let table = PulpMutex(HistoryTable())

    /// Creates an empty store.
    public init() {}

    /// Stores `entry`; a 409 when its id is already stored (rule 1).
    public func append(_ entry: SyncHistoryEntry) async throws {
        try table.withLock { table throws(PulpError) in try table.append(entry) }
    }

    /// One repository's entries that match `query`, in its order (rules 2 to 4).
    public func entries(
        for repository: RepositoryID,
        matching query: SyncHistoryQuery
    ) async throws -> [SyncHistoryEntry] {
        table.withLock { $0.entries(for: repository, matching: query) }
    }

    /// Deletes every entry of `repository`; returns how many (rule 5).
    public func deleteEntries(for repository: RepositoryID) async throws -> Int {
        table.withLock { table in
            guard let entries = table.repositories.removeValue(forKey: repository) else { return 0 }
            for entry in entries { table.ids.remove(entry.id) }
            return entries.count
        }
    }

    /// Deletes every entry that started before `cutoff`; returns how many (rule 5).
    public func purge(startedBefore cutoff: Date) async throws -> Int {
        table.withLock { $0.purge(startedBefore: cutoff) }
    }
}

/// The in-memory store's data: a plain value, changed only under the store's lock.
struct HistoryTable {
    /// Each repository's entries, sorted by `started`; equal times stay in append order.
    var repositories: [RepositoryID: [SyncHistoryEntry]] = [:]
    /// Every stored id, for rule 1.
    var ids: Set<HistoryEntryID> = []

    mutating func append(_ entry: SyncHistoryEntry) throws(PulpError) {
        guard ids.insert(entry.id).inserted else { throw SyncHistoryEntry.duplicate(entry.id) }
        var entries = repositories.removeValue(forKey: entry.repositoryID) ?? []
        // After every entry that started at the same time or earlier: append order breaks ties.
        entries.insert(entry, at: Self.index(in: entries) { $0.started <= entry.started })
        repositories[entry.repositoryID] = entries
    }

    func entries(for repository: RepositoryID, matching query: SyncHistoryQuery) -> [SyncHistoryEntry] {
        guard let entries = repositories[repository] else { return [] }
        let lower = query.startDate.map { start in Self.index(in: entries) { $0.started < start } } ?? 0
        let upper = query.endDate.map { end in Self.index(in: entries) { $0.started <= end } } ?? entries.count
        guard lower < upper else { return [] }
        let count = min(max(query.limit ?? .max, 0), upper - lower)
        switch query.sort {
        case .ascending: return Array(entries[lower..<lower + count])
        case .descending: return entries[upper - count..<upper].reversed()
        }
    }

    mutating func purge(startedBefore cutoff: Date) -> Int {
        var removed = 0
        for (repository, entries) in repositories {
            let count = Self.index(in: entries) { $0.started < cutoff }
            guard count > 0 else { continue }
            for entry in entries[..<count] { ids.remove(entry.id) }
            removed += count
            repositories[repository] = count == entries.count ? nil : Array(entries[count...])
        }
        return removed
    }

    /// The first index whose entry is not `before`, for a predicate true on a prefix of `entries`.
    private static func index(in entries: [SyncHistoryEntry], where before: (SyncHistoryEntry) -> Bool) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if before(entries[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
