import Foundation
import PulpFile
import PulpKit
import PulpKitTesting

/// A seeded feed folder of files with random content and sizes, and its `PULP_MANIFEST`.
private struct GeneratedFeed {
    let url: URL
    let bytes: Int

    /// Writes `count` files of 1–64 KiB (seeded, so every run syncs the same feed).
    init(count: Int, in directory: URL) throws {
        url = directory.appendingPathComponent("feed", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        var random = SeededRandomNumberGenerator(seed: 10_000)
        var entries: [FileManifest.Entry] = []
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        for index in 0..<count {
            let size = Int.random(in: 1024...(64 << 10), using: &random)
            buffer.withUnsafeMutableBytes { raw in
                for offset in stride(from: 0, to: size, by: 8) {
                    var word = random.next()
                    withUnsafeBytes(of: &word) { bytes in
                        raw.baseAddress!.advanced(by: offset).copyMemory(
                            from: bytes.baseAddress!,
                            byteCount: min(8, size - offset)
                        )
                    }
                }
            }
            let content = buffer[..<size]
            let name = "dir\(index % 100)/file-\(index).bin"
            let path = url.appendingPathComponent(name)
            if index < 100 {
                try FileManager.default.createDirectory(
                    at: path.deletingLastPathComponent(),
                    withIntermediateDirectories: true
                )
            }
            try Data(content).write(to: path)
            entries.append(try FileManifest.Entry(name: name, sha256: SHA256.hash(content).hex, size: Int64(size)))
            total += size
        }
        try Data(try FileManifest(entries: entries).encoded).write(to: url.appendingPathComponent("PULP_MANIFEST"))
        bytes = total
    }
}

/// Creates repository `bench` with a file importer on `feed` and times one sync; fails loudly if it fails.
private func timeSync(
    _ harness: SyncHarness,
    _ repository: RepositoryID,
    overrideConfig: [String: JSONValue] = [:]
) async throws -> Double {
    var status: TaskStatus?
    let seconds = try await measureAsync {
        status = try await harness.syncAndWait(repository, overrideConfig: overrideConfig)
    }
    guard let status, status.state == .finished else {
        throw PulpError.internalError("the benchmark sync failed: \(String(describing: status?.error))")
    }
    return seconds
}

private func createRepository(
    _ harness: SyncHarness,
    _ id: RepositoryID,
    feed: URL,
    policy: DownloadPolicy,
    maxDownloads: Int? = nil
) async throws {
    var configuration: [String: JSONValue] = [
        "feed": .string(feed.absoluteString), "download_policy": .string(policy.rawValue),
    ]
    if let maxDownloads { configuration["max_downloads"] = .int(maxDownloads) }
    try await harness.repositories.create(
        Repository(id: id),
        importerTypeID: "iso_importer",
        importerConfiguration: configuration
    )
}

/// `sync.file_10k.seconds`, `sync.http_10k.seconds`, `sync.unchanged_manifest_10k.seconds`: the seeded
/// 10,000-file feed synced immediately (SQLite stores, SHA-256 verified) from `file://` and over HTTP from
/// `python3 -m http.server`, then re-synced with a byte-identical manifest; `sync.http_10k.keep_alive.seconds`:
/// the HTTP sync again with the server run as `--protocol HTTP/1.1`.
func benchmarkFileSync(_ context: BenchmarkContext) async throws {
    let count = context.size(10_000, smoke: 200)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let feed = try GeneratedFeed(count: count, in: directory)
    context.report("sync.feed_10k.mb", Double(feed.bytes) / 1e6, "MB")

    if context.includes("file") {
        try await SyncHarness.run(importers: [FileImporter()], backend: .sqlite) { harness in
            try await createRepository(harness, "file", feed: feed.url, policy: .immediate)
            context.report("sync.file_10k.seconds", try await timeSync(harness, "file"), "s")
            context.report("sync.unchanged_manifest_10k.seconds", try await timeSync(harness, "file"), "s")
        }
    }

    guard context.includes("http") else { return }
    guard LocalServer.python3Path != nil else {
        FileHandle.standardError.write(Data("python3 not found: no sync.http_10k.seconds\n".utf8))
        return
    }
    let server = try LocalServer.serving(feed.url)
    defer { server.stop() }
    try await SyncHarness.run(importers: [FileImporter()], backend: .sqlite) { harness in
        try await createRepository(harness, "http", feed: server.url(""), policy: .immediate)
        context.report("sync.http_10k.seconds", try await timeSync(harness, "http"), "s")
    }
    // The same feed from the same server keeping connections alive (`--protocol HTTP/1.1`): what the client
    // does when the server does not cap it at one request per connection.
    let keepAlive = try LocalServer.serving(feed.url, httpVersion: "HTTP/1.1")
    defer { keepAlive.stop() }
    try await SyncHarness.run(importers: [FileImporter()], backend: .sqlite) { harness in
        try await createRepository(harness, "http", feed: keepAlive.url(""), policy: .immediate)
        context.report("sync.http_10k.keep_alive.seconds", try await timeSync(harness, "http"), "s")
    }
    // The same feed with more downloads at once: `python3 -m http.server` answers one request per connection
    // and serves faster with more of them in flight.
    guard let wider = context.option("max-downloads").flatMap(Int.init) else { return }
    try await SyncHarness.run(importers: [FileImporter()], backend: .sqlite) { harness in
        try await createRepository(harness, "http", feed: server.url(""), policy: .immediate, maxDownloads: wider)
        context.report("sync.http_10k.max_downloads_\(wider).seconds", try await timeSync(harness, "http"), "s")
    }
}

/// `sync.noop_resync_100k.seconds`: a full re-sync (forced, so the manifest digest cannot short-cut it) of a
/// 100,000-unit manifest whose units are all in the repository already (recorded `on_demand`, so the feed
/// needs only its manifest).
func benchmarkNoopResync(_ context: BenchmarkContext) async throws {
    let count = context.size(100_000, smoke: 1_000)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
    let feed = directory.appendingPathComponent("feed", isDirectory: true)
    try FileManager.default.createDirectory(at: feed, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var random = SeededRandomNumberGenerator(seed: 100_000)
    let entries = try (0..<count).map { index in
        let digest = (0..<4).map { _ in String(random.next(), radix: 16).leftPadded(to: 16) }.joined()
        return try FileManifest.Entry(name: "pool/\(index % 256)/unit-\(index).iso", sha256: digest, size: Int64(index))
    }
    try Data(try FileManifest(entries: entries).encoded).write(to: feed.appendingPathComponent("PULP_MANIFEST"))

    try await SyncHarness.run(importers: [FileImporter()], backend: .sqlite) { harness in
        try await createRepository(harness, "big", feed: feed, policy: .onDemand)
        context.report("sync.first_sync_100k_on_demand.seconds", try await timeSync(harness, "big"), "s")
        let seconds = try await timeSync(harness, "big", overrideConfig: ["force_full": true])
        context.report("sync.noop_resync_100k.seconds", seconds, "s")
    }
}

/// `--feed URL`: syncs any file feed once (immediate policy, SQLite stores) and reports the time.
func benchmarkFeed(_ context: BenchmarkContext, _ feed: URL) async throws {
    try await SyncHarness.run(importers: [FileImporter()], backend: .sqlite) { harness in
        try await createRepository(harness, "feed", feed: feed, policy: .immediate)
        context.report("sync.feed.seconds", try await timeSync(harness, "feed"), "s")
        let counts = try await harness.repositories.repository("feed").contentUnitCounts
        context.report("sync.feed.units", Double(counts["iso"] ?? 0), "units")
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
