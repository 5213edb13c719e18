public import Foundation

/// Where sync history lives: one ``SyncHistoryEntry`` per sync of each repository.
///
/// The sync task appends an entry whatever its outcome; the history API reads a repository's entries
/// through a ``SyncHistoryQuery``; deleting a repository deletes its entries; a periodic job purges entries
/// older than the retention age. Every conformer must keep these rules (the conformance suite in
/// PulpKitTesting checks them):
///
/// 1. **Append.** ``append(_:)`` stores the entry whole: a query returns it equal to what was appended.
///    An id already stored, in any repository, is refused with a 409 ``PulpError`` and nothing is stored.
/// 2. **Order.** ``entries(for:matching:)`` sorts by `started`, ascending or descending as asked; entries
///    with the same `started` keep the order they were appended in when ascending, and the reverse when
///    descending (so one order is exactly the other reversed).
/// 3. **Filters.** `startDate` and `endDate` are inclusive bounds on `started`, compared as instants;
///    `limit` keeps the first entries in the chosen order, after filtering (none for a limit below 1).
/// 4. **Isolation.** A query returns only the entries of its repository; an unknown repository has none
///    (the 404 for a missing repository is the caller's).
/// 5. **Deletion.** ``deleteEntries(for:)`` removes every entry of one repository; ``purge(startedBefore:)``
///    removes, across repositories, the entries whose `started` is strictly before the cutoff. Both return
///    how many they removed.
/// 6. **Durability.** A change is stored before the call that makes it returns.
public protocol HistoryStore: Sendable {
    /// Stores a new entry (rule 1).
    ///
    /// - Throws: a 409 ``PulpError`` when an entry with this id is already stored; nothing is stored then.
    func append(_ entry: SyncHistoryEntry) async throws

    /// One repository's entries that match `query`, in its order (rules 2 to 4).
    func entries(for repository: RepositoryID, matching query: SyncHistoryQuery) async throws -> [SyncHistoryEntry]

    /// Deletes every entry of a repository, when the repository is deleted; returns how many (rule 5).
    func deleteEntries(for repository: RepositoryID) async throws -> Int

    /// Deletes the entries of every repository that started before `cutoff` (rule 5); returns how many.
    ///
    /// The retention age is the caller's: ``SyncHistoryEntry/defaultRetention`` (60 days) unless configured.
    func purge(startedBefore cutoff: Date) async throws -> Int
}

extension HistoryStore {
    /// Deletes the entries that started more than `age` seconds before `now`: the retention job's one call.
    public func purge(
        olderThan age: TimeInterval = SyncHistoryEntry.defaultRetention,
        at now: Date
    ) async throws -> Int {
        try await purge(startedBefore: now.addingTimeInterval(-max(age, 0)))
    }
}

extension SyncHistoryEntry {
    /// The 409 for appending an id that is already stored.
    static func duplicate(_ id: HistoryEntryID) -> PulpError {
        PulpError.conflict("Duplicate resource: history_entry_id=\(id)", propertyNames: ["id"])
    }
}
