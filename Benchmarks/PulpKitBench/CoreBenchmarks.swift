import Foundation
import PulpKit

/// `core`: schedule arithmetic, criteria evaluation and SQLite commits.
func runCoreBenchmarks(_ context: BenchmarkContext) async throws {
    try benchmarkSQLiteTransactions(context)
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
