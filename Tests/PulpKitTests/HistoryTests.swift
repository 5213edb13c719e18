import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// Entries and instants shared by the history suites.
enum HistoryFixtures {
    /// The instant of a `YYYY-MM-DDTHH:MM:SSZ` text.
    static func date(_ text: String) -> Date { ISO8601Fixtures.date(text) }

    /// A successful sync of `repository` started at `started` (`YYYY-MM-DDTHH:MM:SSZ`), named by its id.
    static func entry(_ id: String, _ started: String, repository: RepositoryID = "zoo") -> SyncHistoryEntry {
        SyncHistoryEntry(
            id: HistoryEntryID(id),
            repositoryID: repository,
            importerID: "yum_importer",
            importerTypeID: "yum_importer",
            result: .success,
            started: date(started),
            completed: date(started).addingTimeInterval(60),
            addedCount: 1,
            updatedCount: 0,
            removedCount: 0,
            summary: [:],
            details: [:]
        )
    }
}

// MARK: - Stores

struct HistoryStoreTests {
    @Test func theInMemoryStoreConforms() async throws {
        try await HistoryStoreConformance.check { InMemoryHistoryStore() }
    }

    @Test func theSQLiteStoreConforms() async throws {
        let directory = try TemporaryDirectory()
        var count = 0
        try await HistoryStoreConformance.check {
            count += 1
            return try SQLiteHistoryStore(path: directory.path("history-\(count).db"))
        }
    }

    @Test func aBrokenStoreIsCaughtWithTheRuleItBreaks() async throws {
        // A store that ignores the requested direction: always oldest first.
        final class AlwaysAscending: HistoryStore {
            let base = InMemoryHistoryStore()
            func append(_ entry: SyncHistoryEntry) async throws { try await base.append(entry) }
            func entries(
                for repository: RepositoryID,
                matching query: SyncHistoryQuery
            ) async throws -> [SyncHistoryEntry] {
                var query = query
                query.sort = .ascending
                return try await base.entries(for: repository, matching: query)
            }
            func deleteEntries(for repository: RepositoryID) async throws -> Int {
                try await base.deleteEntries(for: repository)
            }
            func purge(startedBefore cutoff: Date) async throws -> Int { try await base.purge(startedBefore: cutoff) }
        }
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await HistoryStoreConformance.check { AlwaysAscending() }
        }
        #expect(failure?.rule == "2. order")
    }

    @Test(arguments: StorageBackend.allCases)
    func concurrentAppendsAreAllKeptInOrder(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.historyStore(in: directory)
        let base = HistoryFixtures.date("2016-03-01T00:00:00Z")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    var entry = HistoryFixtures.entry("e\(index)", "2016-03-01T00:00:00Z")
                    entry.started = base.addingTimeInterval(TimeInterval(index * 7 % 200))
                    try await store.append(entry)
                }
            }
            try await group.waitForAll()
        }
        let entries = try await store.entries(for: "zoo", matching: SyncHistoryQuery(sort: .ascending))
        #expect(entries.count == 200)
        #expect(entries.map(\.started) == entries.map(\.started).sorted())
    }

    @Test(arguments: StorageBackend.allCases)
    func retentionPurgesEntriesOlderThanSixtyDaysByDefault(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.historyStore(in: directory)
        let now = HistoryFixtures.date("2016-05-01T00:00:00Z")
        let ages: [(String, TimeInterval)] = [
            ("61d", 61 * 86_400), ("60d1s", 60 * 86_400 + 1), ("60d", 60 * 86_400), ("59d", 59 * 86_400), ("now", 0),
        ]
        for (index, (id, age)) in ages.enumerated() {
            var entry = HistoryFixtures.entry(id, "2016-01-01T00:00:00Z", repository: index % 2 == 0 ? "zoo" : "farm")
            entry.started = now.addingTimeInterval(-age)
            try await store.append(entry)
        }
        #expect(SyncHistoryEntry.defaultRetention == 60 * 86_400)
        #expect(try await store.purge(at: now) == 2)
        let zoo = try await store.entries(for: "zoo", matching: SyncHistoryQuery(sort: .ascending))
        let farm = try await store.entries(for: "farm", matching: SyncHistoryQuery(sort: .ascending))
        #expect(zoo.map(\.id) == ["60d", "now"])
        #expect(farm.map(\.id) == ["59d"])
        #expect(try await store.purge(at: now) == 0)
        #expect(try await store.purge(olderThan: 86_400, at: now) == 2)
        #expect(try await store.entries(for: "zoo", matching: SyncHistoryQuery()).map(\.id) == ["now"])
    }

    @Test(arguments: StorageBackend.allCases)
    func fractionalSecondsAreDroppedSoWhatIsShownIsWhatFiltersSee(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.historyStore(in: directory)
        var entry = HistoryFixtures.entry("a", "2016-03-01T10:00:00Z")
        entry.started = HistoryFixtures.date("2016-03-01T10:00:00Z").addingTimeInterval(0.75)
        entry.completed = HistoryFixtures.date("2016-03-01T10:02:13Z").addingTimeInterval(0.999)
        #expect(entry.started == HistoryFixtures.date("2016-03-01T10:00:00Z"))
        #expect(entry.completed == HistoryFixtures.date("2016-03-01T10:02:13Z"))
        try await store.append(entry)
        let query = try SyncHistoryQuery(
            limit: nil,
            sort: nil,
            startDate: "2016-03-01T10:00:00Z",
            endDate: "2016-03-01T10:00:00Z"
        )
        #expect(try await store.entries(for: "zoo", matching: query) == [entry])
    }

    @Test func theSQLiteStoreKeepsEntriesAcrossReopening() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("history.db")
        let entry = HistoryFixtures.entry("kept", "2016-03-01T10:00:00Z")
        try await SQLiteHistoryStore(path: path).append(entry)
        let reopened = try SQLiteHistoryStore(path: path)
        #expect(try await reopened.entries(for: "zoo", matching: SyncHistoryQuery()) == [entry])
        await #expect(throws: PulpError.self) { try await reopened.append(entry) }
    }

    @Test func theSQLiteStoreSharesADatabaseWithTheTaskStore() async throws {
        let directory = try TemporaryDirectory()
        let executor = SQLiteExecutor(database: try SQLiteDatabase(path: directory.path("pulp.db")))
        let history = try SQLiteHistoryStore(executor: executor)
        let tasks = try SQLiteTaskStore(executor: executor)
        try await history.append(HistoryFixtures.entry("a", "2016-03-01T10:00:00Z"))
        _ = try await tasks.insert([TaskStatus(name: "t", submitTime: HistoryFixtures.date("2016-03-01T10:00:00Z"))])
        #expect(try executor.database.schemaVersion(of: "history") == 1)
        #expect(try await history.entries(for: "zoo", matching: SyncHistoryQuery()).count == 1)
        #expect(try await tasks.tasks(inGroup: nil).count == 1)
    }

    @Test(arguments: [SQLiteHistoryStore.descendingSQL, SQLiteHistoryStore.ascendingSQL])
    func sqliteQueriesScanTheRepositoryIndexWithoutSorting(sql: String) async throws {
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(path: directory.path("history.db"))
        _ = try SQLiteHistoryStore(executor: SQLiteExecutor(database: database))
        let plan = try database.read { connection in
            try connection.rows("EXPLAIN QUERY PLAN " + sql, ["zoo", 0.0, 1.0, 100]) { $0.text(3) }
        }
        #expect(plan.count == 1)
        #expect(plan.first?.contains("USING INDEX sync_history_repository") == true, "\(plan)")
        #expect(!plan.joined().contains("TEMP B-TREE"), "\(plan)")
    }

    @Test func sqliteBulkAppendStoresAllOrNothing() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteHistoryStore(path: directory.path("history.db"))
        try await store.append(HistoryFixtures.entry("b", "2016-03-01T10:00:00Z"))
        let batch = ["a", "b", "c"].map { HistoryFixtures.entry($0, "2016-03-01T11:00:00Z") }
        let error = await #expect(throws: PulpError.self) { try await store.append(contentsOf: batch) }
        #expect(error?.httpStatus == 409)
        #expect(try await store.entries(for: "zoo", matching: SyncHistoryQuery()).map(\.id) == ["b"])
        try await store.append(contentsOf: ["a", "c"].map { HistoryFixtures.entry($0, "2016-03-01T11:00:00Z") })
        #expect(try await store.entries(for: "zoo", matching: SyncHistoryQuery()).map(\.id) == ["c", "a", "b"])
    }

    @Test(arguments: StorageBackend.allCases)
    func aDuplicateIsAConflictNamingTheID(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.historyStore(in: directory)
        try await store.append(HistoryFixtures.entry("same", "2016-03-01T10:00:00Z"))
        let error = await #expect(throws: PulpError.self) {
            try await store.append(HistoryFixtures.entry("same", "2016-03-02T10:00:00Z", repository: "farm"))
        }
        #expect(error?.code == .conflict)
        #expect(error?.httpStatus == 409)
        #expect(error?.propertyNames == ["id"])
        #expect(error?.message.contains("same") == true)
    }
}

// MARK: - Date filters

struct HistoryDateFilterTests {
    /// Entries at 10:00, 10:30 and 11:00 UTC, then bounds written with offsets and the entries they select.
    static let cases: [(String?, String?, [HistoryEntryID])] = [
        ("2016-03-01T15:30:00+05:30", "2016-03-01T16:00:00+05:30", ["b", "a"]),
        ("2016-03-01T15:30:01+05:30", nil, ["c", "b"]),
        (nil, "2016-03-01T16:29:59+05:30", ["b", "a"]),
        ("2016-03-01T05:00:00-05:00", "2016-03-01T05:00:00-05:00", ["a"]),
        ("2016-02-29T23:30:00-10:30", "2016-03-01T06:00:00-05:00", ["c", "b", "a"]),
        ("2016-03-01T11:00:00+00:00", nil, ["c"]),
        ("20160301T160000+0530", nil, ["c", "b"]),
        ("2016-03-01T10:30:00.001Z", nil, ["c"]),
        ("2016-03-01T10:00:00", "2016-03-01T10:00:00", ["a"]),
    ]

    @Test(arguments: StorageBackend.allCases, cases)
    func boundsWithOffsetsAreComparedAsInstants(
        kind: StorageBackend,
        bounds: (start: String?, end: String?, expected: [HistoryEntryID])
    ) async throws {
        let (start, end, expected) = bounds
        let directory = try TemporaryDirectory()
        let store = try kind.historyStore(in: directory)
        for (id, started) in [("a", "10:00:00"), ("b", "10:30:00"), ("c", "11:00:00")] {
            try await store.append(HistoryFixtures.entry(id, "2016-03-01T\(started)Z"))
        }
        let query = try SyncHistoryQuery(limit: nil, sort: nil, startDate: start, endDate: end)
        #expect(try await store.entries(for: "zoo", matching: query).map(\.id) == expected)
    }

    @Test func includesIsInclusiveAtBothEnds() {
        let start = HistoryFixtures.date("2016-03-01T10:00:00Z")
        let query = SyncHistoryQuery(startDate: start, endDate: start.addingTimeInterval(60))
        #expect(query.includes(started: start))
        #expect(query.includes(started: start.addingTimeInterval(60)))
        #expect(!query.includes(started: start.addingTimeInterval(-1)))
        #expect(!query.includes(started: start.addingTimeInterval(61)))
        #expect(SyncHistoryQuery().includes(started: .distantPast))
    }
}

// MARK: - Entry JSON

struct HistoryEntryJSONTests {
    @Test func aSuccessfulEntryHasEveryKeyOfPulp() throws {
        let entry = SyncHistoryEntry(
            id: "52e6d29edd01fb70bd0d9c37",
            repositoryID: "zoo",
            importerID: "yum_importer",
            importerTypeID: "yum_importer",
            result: .success,
            started: HistoryFixtures.date("2016-03-01T10:00:00Z"),
            completed: HistoryFixtures.date("2016-03-01T10:02:13Z"),
            addedCount: 32,
            updatedCount: 0,
            removedCount: 0,
            summary: [:],
            details: [:]
        )
        let expected = try JSONValue(
            parsing: """
                {"_id":"52e6d29edd01fb70bd0d9c37","id":"52e6d29edd01fb70bd0d9c37","repo_id":"zoo",
                 "importer_id":"yum_importer","importer_type_id":"yum_importer","result":"success",
                 "started":"2016-03-01T10:00:00Z","completed":"2016-03-01T10:02:13Z","added_count":32,
                 "updated_count":0,"removed_count":0,"summary":{},"details":{},"error_message":null,
                 "exception":null,"traceback":null}
                """
        )
        #expect(entry.json == expected)
        #expect(entry.json.objectValue.map { Set($0.keys) } == Set(SyncHistoryEntry.jsonKeys))
        #expect(SyncHistoryEntry.jsonKeys.count == 16)
        #expect(try SyncHistoryEntry(json: entry.json) == entry)
    }

    @Test func anEntryOfARaisedSyncHasNullCountsAndReportsAndItsError() throws {
        let entry = SyncHistoryEntry(
            id: "e1",
            repositoryID: "zoo",
            importerID: "yum_importer",
            importerTypeID: "yum_importer",
            result: .error,
            started: HistoryFixtures.date("1999-12-31T23:59:59Z"),
            completed: HistoryFixtures.date("2000-01-01T00:00:01Z"),
            errorMessage: "boom",
            exception: "ValueError('boom',)",
            traceback: "  File \"sync.py\", line 3, in sync\n"
        )
        let json = entry.json
        #expect(json.objectValue?.count == 16)
        for key in ["added_count", "updated_count", "removed_count", "summary", "details"] {
            #expect(json[key] == .null, "\(key)")
        }
        #expect(json["result"] == "error")
        #expect(json["started"] == "1999-12-31T23:59:59Z")
        #expect(json["completed"] == "2000-01-01T00:00:01Z")
        #expect(json["error_message"] == "boom")
        #expect(json["exception"] == "ValueError('boom',)")
        #expect(json["traceback"] == "  File \"sync.py\", line 3, in sync\n")
        #expect(try SyncHistoryEntry(json: json) == entry)
    }

    @Test(arguments: SyncResult.allCases)
    func everyResultIsWrittenAsPulpSpellsIt(result: SyncResult) throws {
        var entry = HistoryFixtures.entry("e", "2016-03-01T10:00:00Z")
        entry.result = result
        #expect(entry.json["result"]?.stringValue == result.rawValue)
        #expect(["success", "failed", "error", "canceled"].contains(result.rawValue))
        #expect(try SyncHistoryEntry(json: entry.json).result == result)
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2016-03-01T10:00:00Z", 0.999),
        ("1969-12-31T23:59:59Z", 0.5),
        ("2038-01-19T03:14:08Z", 0.25),
    ])
    func timestampsAreUTCWholeSeconds(text: String, fraction: Double) {
        let started = HistoryFixtures.date(text).addingTimeInterval(fraction)
        var entry = HistoryFixtures.entry("e", "2016-03-01T10:00:00Z")
        entry.started = started
        entry.completed = started
        #expect(entry.json["started"]?.stringValue == text)
        #expect(entry.json["completed"]?.stringValue == text)
    }

    @Test func pulpsOwnDocumentIsReadWithItsObjectID() throws {
        let document = try JSONValue(
            parsing: """
                {"_id":{"$oid":"52e6d29edd01fb70bd0d9c37"},"id":"52e6d29edd01fb70bd0d9c37","repo_id":"zoo",
                 "importer_id":"yum_importer","importer_type_id":"yum_importer","result":"error",
                 "started":"2016-03-01T15:30:00+05:30","completed":"2016-03-01T10:02:13Z","added_count":null,
                 "updated_count":null,"removed_count":null,"summary":null,"details":null,"error_message":"boom",
                 "exception":"ValueError('boom',)","traceback":["  File \\"a.py\\"\\n", "  File \\"b.py\\"\\n"],
                 "_ns":"repo_sync_results"}
                """
        )
        let entry = try SyncHistoryEntry(json: document)
        #expect(entry.id == "52e6d29edd01fb70bd0d9c37")
        #expect(entry.started == HistoryFixtures.date("2016-03-01T10:00:00Z"))
        #expect(entry.traceback == "  File \"a.py\"\n  File \"b.py\"\n")
        #expect(entry.json["_id"] == "52e6d29edd01fb70bd0d9c37")
        #expect(entry.json["_ns"] == nil)
    }

    @Test func absentNullableKeysReadAsNull() throws {
        let entry = try SyncHistoryEntry(
            json: [
                "id": "e", "repo_id": "zoo", "importer_id": "i", "importer_type_id": "t", "result": "canceled",
                "started": "2016-03-01T10:00:00Z", "completed": "2016-03-01T10:00:05Z",
            ]
        )
        #expect(entry.addedCount == nil && entry.summary == .null && entry.traceback == nil)
        #expect(entry.result == .canceled)
    }

    static let valid: JSONValue = HistoryFixtures.entry("e", "2016-03-01T10:00:00Z").json

    /// Changes to a valid entry's JSON (`nil` removes the key) and the keys the error must name, in order.
    static let invalid: [([String: JSONValue?], [String])] = [
        (["_id": nil, "id": nil], ["id"]),
        (["_id": 5], ["_id"]),
        (["_id": "other"], ["_id"]),
        (["id": 5], ["id"]),
        (["repo_id": nil], ["repo_id"]),
        (["importer_id": .null], ["importer_id"]),
        (["importer_type_id": 1], ["importer_type_id"]),
        (["result": "finished"], ["result"]),
        (["started": "2016-03-01"], ["started"]),
        (["completed": 1_456_826_400], ["completed"]),
        (["added_count": "1"], ["added_count"]),
        (["removed_count": 1.5], ["removed_count"]),
        (["error_message": 1], ["error_message"]),
        (["exception": ["a"]], ["exception"]),
        (["traceback": [1]], ["traceback"]),
        (
            ["traceback": 1, "result": "ok", "repo_id": nil, "started": "x", "updated_count": true],
            ["repo_id", "result", "started", "updated_count", "traceback"]
        ),
    ]

    @Test(arguments: invalid)
    func badDocumentsNameEveryBadKeyInOrder(changes: [String: JSONValue?], keys: [String]) {
        var members = Self.valid.objectValue ?? [:]
        for (key, value) in changes { members[key] = value }
        let error = #expect(throws: PulpError.self) { try SyncHistoryEntry(json: .object(members)) }
        #expect(error?.httpStatus == 400)
        #expect(error?.propertyNames == keys)
    }

    @Test func aDocumentMustBeAnObject() {
        let error = #expect(throws: PulpError.self) { try SyncHistoryEntry(json: ["a"]) }
        #expect(error?.propertyNames == ["entry"])
    }
}

// MARK: - Query parameters

struct HistoryQueryParsingTests {
    typealias Parameters = (limit: String?, sort: String?, startDate: String?, endDate: String?)

    static let utc10 = HistoryFixtures.date("2016-03-01T10:00:00Z")

    /// Accepted parameters and the query they give.
    static let accepted: [(Parameters, SyncHistoryQuery)] = [
        ((nil, nil, nil, nil), SyncHistoryQuery(limit: nil, sort: .descending, startDate: nil, endDate: nil)),
        (("1", nil, nil, nil), SyncHistoryQuery(limit: 1)),
        (("100", nil, nil, nil), SyncHistoryQuery(limit: 100)),
        (("007", nil, nil, nil), SyncHistoryQuery(limit: 7)),
        ((nil, "ascending", nil, nil), SyncHistoryQuery(sort: .ascending)),
        ((nil, "descending", nil, nil), SyncHistoryQuery(sort: .descending)),
        ((nil, nil, "2016-03-01T10:00:00Z", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, "2016-03-01T15:30:00+05:30", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, "2016-03-01T05:00:00-0500", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, "20160301T100000Z", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, "2016-061T10:00Z", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, "2016-W09-2T10:00:00Z", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, "2016-03-01T10:00:00", nil), SyncHistoryQuery(startDate: utc10)),
        ((nil, nil, nil, "2016-03-01T10:00:00.5Z"), SyncHistoryQuery(endDate: utc10.addingTimeInterval(0.5))),
        (
            ("5", "ascending", "2016-03-01T10:00:00Z", "2016-03-01T15:30:00+05:30"),
            SyncHistoryQuery(limit: 5, sort: .ascending, startDate: utc10, endDate: utc10)
        ),
    ]

    @Test(arguments: accepted)
    func parsesValidParameters(parameters: Parameters, expected: SyncHistoryQuery) throws {
        let query = try SyncHistoryQuery(
            limit: parameters.limit,
            sort: parameters.sort,
            startDate: parameters.startDate,
            endDate: parameters.endDate
        )
        #expect(query == expected)
    }

    static let badLimits = ["0", "-1", "", "abc", "1.5", " 5", "5 ", "1e3", "99999999999999999999"]
    static let badSorts = ["", "up", "asc", "Ascending", "DESCENDING", "-1", "1"]
    static let badDates = [
        "", "2016-03-01", "10:00:00Z", "2016-03-01 10:00:00Z", "yesterday", "2016-02-30T00:00:00Z",
        "2016-03-01T24:00:00Z", "2016-03-01T10:00:00+24:00", "1456826400",
    ]

    /// Runs the parser with one parameter set to `value` and returns its error.
    private func refusal(_ parameter: String, _ value: String) -> PulpError? {
        #expect(throws: PulpError.self) {
            try SyncHistoryQuery(
                limit: parameter == "limit" ? value : nil,
                sort: parameter == "sort" ? value : nil,
                startDate: parameter == "start_date" ? value : nil,
                endDate: parameter == "end_date" ? value : nil
            )
        }
    }

    @Test(arguments: badLimits)
    func refusesABadLimit(value: String) {
        let error = refusal("limit", value)
        #expect(error?.code == .invalidProperties)
        #expect(error?.httpStatus == 400)
        #expect(error?.propertyNames == ["limit"])
        #expect(error?.message.contains("must be an integer >= 1") == true)
    }

    @Test(arguments: badSorts)
    func refusesABadSort(value: String) {
        let error = refusal("sort", value)
        #expect(error?.httpStatus == 400)
        #expect(error?.propertyNames == ["sort"])
        #expect(error?.message.contains("'ascending' or 'descending'") == true)
    }

    @Test(arguments: ["start_date", "end_date"], badDates)
    func refusesABadDate(parameter: String, value: String) {
        let error = refusal(parameter, value)
        #expect(error?.httpStatus == 400)
        #expect(error?.propertyNames == [parameter])
        #expect(error?.subErrors.count == 1)
        // The parser's own reason, once, after the parameter's name.
        #expect(error?.subErrors.first?.message.hasPrefix("\(parameter): ") == true)
        #expect(error?.subErrors.first?.message.hasPrefix("\(parameter): \(parameter)") == false)
    }

    @Test func aDateWithoutATimeSaysTheTimeIsMissing() {
        let error = refusal("start_date", "2016-03-01")
        #expect(error?.message.contains("time designator 'T' missing") == true)
    }

    static let several: [(Parameters, [String])] = [
        (("0", "up", "2016-03-01", nil), ["limit", "sort", "start_date"]),
        (("x", "x", "x", "x"), ["limit", "sort", "start_date", "end_date"]),
        ((nil, "x", nil, "2016-03-01"), ["sort", "end_date"]),
        (("-3", nil, "2016-03-01T10:00:00Z", "x"), ["limit", "end_date"]),
        ((nil, nil, "x", "y"), ["start_date", "end_date"]),
    ]

    @Test(arguments: several)
    func reportsEveryBadParameterInOneErrorInOrder(parameters: Parameters, names: [String]) {
        let error = #expect(throws: PulpError.self) {
            try SyncHistoryQuery(
                limit: parameters.limit,
                sort: parameters.sort,
                startDate: parameters.startDate,
                endDate: parameters.endDate
            )
        }
        #expect(error?.httpStatus == 400)
        #expect(error?.code == .invalidProperties)
        #expect(error?.propertyNames == names)
        #expect(error?.subErrors.map(\.propertyNames) == names.map { [$0] })
        let list = "[" + names.map { "'\($0)'" }.joined(separator: ", ") + "]"
        #expect(error?.message.hasPrefix("Invalid properties: \(list)") == true)
        #expect(error?.envelope()["property_names"] == .array(names.map(JSONValue.string)))
    }
}
