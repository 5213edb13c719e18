import Foundation
import PulpKit

/// `core`: schedule arithmetic, criteria evaluation and SQLite commits.
func runCoreBenchmarks(_ context: BenchmarkContext) async throws {
    try benchmarkNextOccurrences(context)
    try benchmarkCriteria(context)
    try benchmarkSQLiteTransactions(context)
}

/// `core.iso.next_occurrences_per_s`: next runs of a mixed set of fixed and calendar schedules.
private func benchmarkNextOccurrences(_ context: BenchmarkContext) throws {
    let createdAt = Date(timeIntervalSince1970: 1_390_860_900)
    let schedules = [
        "PT1H", "P1DT", "00:00:00Z/P1DT", "R5/2014-01-27T21:41:50Z/PT1H", "2014-01-31T00:00:00Z/P1M",
        "2012-02-29T12:00:00Z/P1Y", "PT30S", "P1W2D", "2014-01-27T21:41:50+05:30/PT6H", "2013-11-30T08:00:00Z/P3M",
    ]
    let grids = try schedules.map { try RepeatingInterval(parsing: $0).grid(createdAt: createdAt) }
    let count = context.size(10_000_000, smoke: 10_000)
    var instant = createdAt.timeIntervalSince1970
    var sink = 0.0
    let seconds = measure {
        for index in 0..<count {
            // Walk "now" forward irregularly so every call does real work on a new instant.
            instant += Double(index % 7919)
            sink +=
                grids[index % grids.count].nextOccurrence(after: Date(timeIntervalSince1970: instant))
                .timeIntervalSince1970
        }
    }
    blackHole(sink)
    context.report("core.iso.next_occurrences_per_s", Double(count) / seconds, "ops/s")
}

/// `core.criteria.documents_per_s`: a 3-clause filter evaluated over 100,000 task-like documents.
private func benchmarkCriteria(_ context: BenchmarkContext) throws {
    var generator = SystemRandomNumberGenerator()
    let states: [JSONValue] = ["waiting", "running", "finished", "error"]
    let documents: [JSONValue] = (0..<context.size(100_000, smoke: 1_000)).map { index in
        [
            "id": .string("task-\(index)"),
            "state": states[index % states.count],
            "size": .int(Int.random(in: 0..<1_000, using: &generator)),
            "tags": [.string("pulp:repository:r\(index % 50)"), index.isMultiple(of: 3) ? "a" : "c"],
            "worker_name": "worker-1",
        ]
    }
    let criteria = try Criteria(
        json: ["filters": ["state": "finished", "size": ["$gte": 100], "tags": ["$in": ["a", "b"]]]]
    )
    let rounds = context.smoke ? 1 : 20
    var matched = 0
    let seconds = measure {
        for _ in 0..<rounds {
            for document in documents where criteria.matches(document) { matched += 1 }
        }
    }
    blackHole(matched)
    context.report("core.criteria.documents_per_s", Double(documents.count * rounds) / seconds, "docs/s")
}

/// `core.sqlite.transactions_per_s`: single-row insert transactions, WAL, `synchronous=NORMAL`.
private func benchmarkSQLiteTransactions(_ context: BenchmarkContext) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let database = try SQLiteDatabase(path: directory.appendingPathComponent("bench.db").path)
    var schema = SQLiteSchema(store: "bench")
    schema.registerMigration("entries", sql: "CREATE TABLE entries (id INTEGER PRIMARY KEY, repo TEXT, started TEXT)")
    try database.migrate(schema)

    let count = context.size(50_000, smoke: 200)
    let seconds = try measure {
        for index in 0..<count {
            try database.write { connection in
                try connection.execute(
                    "INSERT INTO entries (repo, started) VALUES (?, ?)",
                    [.text("repo-\(index % 100)"), .text("2026-11-23T06:00:00Z")]
                )
            }
        }
    }
    context.report("core.sqlite.transactions_per_s", Double(count) / seconds, "tx/s")
}
