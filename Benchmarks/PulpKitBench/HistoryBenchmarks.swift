import Foundation
import PulpKit

/// `history`: the newest 100 sync history entries of one repository, among 1,000,000 entries of 100
/// repositories in SQLite; the median of 50 queries, each on another repository, after one warm-up query.
func benchmarkHistoryQuery(_ context: BenchmarkContext) async throws {
    let total = context.size(1_000_000, smoke: 2_000)
    let repositories = 100
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteHistoryStore(path: directory.appendingPathComponent("history.db").path)

    // A sync every minute somewhere, each repository in turn: entries arrive in `started` order, as they do live.
    let first = Date(timeIntervalSince1970: 1_456_826_400)
    for batchStart in stride(from: 0, to: total, by: 50_000) {
        let batch = (batchStart..<min(batchStart + 50_000, total)).map { index in
            SyncHistoryEntry(
                repositoryID: RepositoryID("repo-\(index % repositories)"),
                importerID: "yum_importer",
                importerTypeID: "yum_importer",
                result: index % 20 == 0 ? .failed : .success,
                started: first.addingTimeInterval(TimeInterval(index * 60)),
                completed: first.addingTimeInterval(TimeInterval(index * 60 + 45)),
                addedCount: index % 7,
                updatedCount: 0,
                removedCount: 0,
                summary: ["state": "FINISHED"],
                details: [:]
            )
        }
        try await store.append(contentsOf: batch)
    }

    let query = SyncHistoryQuery(limit: 100)
    let expected = min(100, total / repositories)
    var samples: [Double] = []
    for run in 0...50 {
        let repository = RepositoryID("repo-\((run * 37) % repositories)")
        var count = 0
        let seconds = try await measureAsync {
            count = try await store.entries(for: repository, matching: query).count
        }
        guard count == expected else {
            throw BenchmarkFailure("history query returned \(count) entries, expected \(expected)")
        }
        if run > 0 { samples.append(seconds) }
    }
    samples.sort()
    let median = (samples[samples.count / 2 - 1] + samples[samples.count / 2]) / 2
    context.report("history.query_1m.ms", median * 1000, "ms")
}

/// A benchmark that could not measure what it meant to.
private struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
