import Foundation
public import PulpKit

/// Checks that a ``PulpKit/HistoryStore`` keeps every rule its documentation states.
///
/// Call it from any test framework with a factory of fresh, empty stores; it throws a
/// ``ConformanceFailure`` naming the first broken rule:
///
/// ```swift
/// @Test func myStoreConforms() async throws {
///     try await HistoryStoreConformance.check { try MyHistoryStore(url: freshDatabase()) }
/// }
/// ```
public enum HistoryStoreConformance {
    /// Runs every rule, each against a new store from `makeStore`.
    public static func check(_ makeStore: () async throws -> any HistoryStore) async throws {
        try await append(try await makeStore())
        try await order(try await makeStore())
        try await filters(try await makeStore())
        try await isolation(try await makeStore())
        try await deletion(try await makeStore())
    }

    private static let start = Date(timeIntervalSince1970: 1_456_826_400)  // 2016-03-01T10:00:00Z

    private static let zoo = RepositoryID("zoo")
    private static let farm = RepositoryID("farm")

    /// A successful sync of `repository` that started `offset` seconds after `start`, named by its id.
    private static func entry(_ id: String, _ offset: TimeInterval, in repo: RepositoryID = zoo) -> SyncHistoryEntry {
        SyncHistoryEntry(
            id: HistoryEntryID(id),
            repositoryID: repo,
            importerID: "yum_importer",
            importerTypeID: "yum_importer",
            result: .success,
            started: start + offset,
            completed: start + offset + 133,
            addedCount: 32,
            updatedCount: 0,
            removedCount: 0,
            summary: [:],
            details: [:]
        )
    }

    private static func expect(_ condition: Bool, _ rule: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(rule: rule, detail: detail()) }
    }

    private static func ids(_ entries: [SyncHistoryEntry]) -> [String] { entries.map(\.id.rawValue) }

    private static func ids(
        _ store: any HistoryStore,
        _ query: SyncHistoryQuery = SyncHistoryQuery(),
        in repository: RepositoryID = zoo
    ) async throws -> [String] {
        ids(try await store.entries(for: repository, matching: query))
    }

    private static func append(_ store: any HistoryStore) async throws {
        let rule = "1. append"
        let failed = SyncHistoryEntry(
            id: "raised",
            repositoryID: zoo,
            importerID: "yum_importer",
            importerTypeID: "yum_importer",
            result: .error,
            started: start,
            completed: start + 2,
            summary: .null,
            details: .null,
            errorMessage: "boom",
            exception: "ValueError('boom')",
            traceback: "File \"sync.py\", line 1\n"
        )
        let success = entry("ok", 60)
        var reported = entry("reported", 120)
        reported.summary = ["packages": ["added": 3], "state": "FINISHED"]
        reported.details = ["errors": [], "size": 1.5]
        reported.removedCount = -2
        reported.result = .canceled
        for entry in [failed, success, reported] { try await store.append(entry) }
        let stored = try await store.entries(for: zoo, matching: SyncHistoryQuery(sort: .ascending))
        try expect(stored == [failed, success, reported], rule, "read back \(stored), expected what was appended")
        for entry in stored {
            let decoded = try SyncHistoryEntry(json: entry.json)
            try expect(decoded == entry, rule, "the JSON of \(entry.id) reads back as \(decoded)")
        }
        var duplicate = entry("ok", 600, in: farm)
        duplicate.importerID = "other"
        do {
            try await store.append(duplicate)
            throw ConformanceFailure(rule: rule, detail: "a duplicate id must be refused")
        } catch let error as PulpError {
            try expect(error.httpStatus == 409, rule, "a duplicate id must be a 409, got \(error)")
        }
        try expect(try await ids(store, in: farm).isEmpty, rule, "a refused append must store nothing")
        try expect(try await ids(store).count == 3, rule, "a refused append must leave the others alone")
    }

    private static func order(_ store: any HistoryStore) async throws {
        let rule = "2. order"
        // Appended out of time order; b, c and d started in the same second.
        for entry in [entry("e", 300), entry("b", 100), entry("a", 0), entry("c", 100), entry("d", 100)] {
            try await store.append(entry)
        }
        let ascending = try await ids(store, SyncHistoryQuery(sort: .ascending))
        try expect(ascending == ["a", "b", "c", "d", "e"], rule, "ascending gave \(ascending)")
        let descending = try await ids(store, SyncHistoryQuery(sort: .descending))
        try expect(descending == ["e", "d", "c", "b", "a"], rule, "descending gave \(descending)")
        let byDefault = try await ids(store)
        try expect(byDefault == descending, rule, "the default must be descending, got \(byDefault)")
    }

    private static func filters(_ store: any HistoryStore) async throws {
        let rule = "3. filters"
        for offset in 0..<10 { try await store.append(entry("t\(offset)", TimeInterval(offset * 60))) }
        let limited = try await ids(store, SyncHistoryQuery(limit: 3))
        try expect(limited == ["t9", "t8", "t7"], rule, "limit 3 descending gave \(limited)")
        let first = try await ids(store, SyncHistoryQuery(limit: 2, sort: .ascending))
        try expect(first == ["t0", "t1"], rule, "limit 2 ascending gave \(first)")
        let all = try await ids(store, SyncHistoryQuery(limit: 50))
        try expect(all.count == 10, rule, "a limit above the count must return all, got \(all.count)")
        let none = try await ids(store, SyncHistoryQuery(limit: 0))
        try expect(none.isEmpty, rule, "a limit of 0 must return nothing, got \(none)")
        let bounded = try await ids(
            store,
            SyncHistoryQuery(sort: .ascending, startDate: start + 120, endDate: start + 300)
        )
        try expect(bounded == ["t2", "t3", "t4", "t5"], rule, "bounds must be inclusive, got \(bounded)")
        let between = try await ids(
            store,
            SyncHistoryQuery(sort: .ascending, startDate: start + 90, endDate: start + 150)
        )
        try expect(between == ["t2"], rule, "bounds between entries gave \(between)")
        let limitedRange = try await ids(
            store,
            SyncHistoryQuery(limit: 2, startDate: start + 60, endDate: start + 420)
        )
        try expect(limitedRange == ["t7", "t6"], rule, "the limit must apply after the bounds, got \(limitedRange)")
        let onlyStart = try await ids(store, SyncHistoryQuery(startDate: start + 480))
        try expect(onlyStart == ["t9", "t8"], rule, "a start bound alone gave \(onlyStart)")
        let onlyEnd = try await ids(store, SyncHistoryQuery(sort: .ascending, endDate: start + 59))
        try expect(onlyEnd == ["t0"], rule, "an end bound alone gave \(onlyEnd)")
        let empty = try await ids(store, SyncHistoryQuery(startDate: start + 300, endDate: start + 120))
        try expect(empty.isEmpty, rule, "a start after the end must return nothing, got \(empty)")
    }

    private static func isolation(_ store: any HistoryStore) async throws {
        let rule = "4. isolation"
        try await store.append(entry("zoo-1", 0))
        try await store.append(entry("farm-1", 0, in: farm))
        try await store.append(entry("zoo-2", 60))
        try await store.append(entry("zoo", 30, in: RepositoryID("zo")))
        let zooIDs = try await ids(store)
        try expect(zooIDs == ["zoo-2", "zoo-1"], rule, "zoo's history gave \(zooIDs)")
        let farmIDs = try await ids(store, SyncHistoryQuery(limit: 5), in: farm)
        try expect(farmIDs == ["farm-1"], rule, "farm's history gave \(farmIDs)")
        let unknown = try await ids(store, in: RepositoryID("unknown"))
        try expect(unknown.isEmpty, rule, "an unknown repository must have no history, got \(unknown)")
    }

    private static func deletion(_ store: any HistoryStore) async throws {
        let rule = "5. deletion"
        for offset in 0..<4 {
            try await store.append(entry("zoo-\(offset)", TimeInterval(offset * 3600)))
            try await store.append(entry("farm-\(offset)", TimeInterval(offset * 3600), in: farm))
        }
        try await store.append(entry("old", -86_400, in: RepositoryID("attic")))
        let purgedNone = try await store.purge(startedBefore: start - 86_400)
        try expect(purgedNone == 0, rule, "purge must be strictly before the cutoff, removed \(purgedNone)")
        let purged = try await store.purge(startedBefore: start + 3600)
        try expect(purged == 3, rule, "purge before zoo-1 and farm-1 removed \(purged), expected 3")
        let zooIDs = try await ids(store, SyncHistoryQuery(sort: .ascending))
        try expect(zooIDs == ["zoo-1", "zoo-2", "zoo-3"], rule, "after the purge zoo has \(zooIDs)")
        let atticIDs = try await ids(store, in: RepositoryID("attic"))
        try expect(atticIDs.isEmpty, rule, "after the purge attic has \(atticIDs)")
        try await store.append(entry("zoo-0", 0))
        let deleted = try await store.deleteEntries(for: zoo)
        try expect(deleted == 4, rule, "deleteEntries removed \(deleted), expected 4")
        try expect(try await ids(store).isEmpty, rule, "a deleted repository must have no history")
        let farmIDs = try await ids(store, SyncHistoryQuery(sort: .ascending), in: farm)
        try expect(farmIDs == ["farm-1", "farm-2", "farm-3"], rule, "deleting zoo left farm with \(farmIDs)")
        try expect(try await store.deleteEntries(for: zoo) == 0, rule, "deleting again must remove nothing")
        try await store.append(entry("zoo-1", 0))
        try expect(try await ids(store) == ["zoo-1"], rule, "a deleted entry's id must be free again")
    }
}
