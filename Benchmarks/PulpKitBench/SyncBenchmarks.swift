import Foundation
import PulpKit

/// `sync`: the figures of the sync issue; with `--feed URL`, only the time to sync that feed once; with
/// `--only file|http|noop|sha256|history` (comma-separated), only those parts; with `--max-downloads N`, the
/// HTTP sync is also timed with `max_downloads` N (`sync.http_10k.max_downloads_N.seconds`).
func runSyncBenchmarks(_ context: BenchmarkContext) async throws {
    if let feed = context.option("feed") {
        try await benchmarkFeed(context, URL(string: feed)!)
        return
    }
    if context.includes("file") || context.includes("http") { try await benchmarkFileSync(context) }
    if context.includes("noop") { try await benchmarkNoopResync(context) }
    if context.includes("sha256") { try benchmarkSHA256(context) }
    if context.includes("history") { try await benchmarkHistoryQuery(context) }
}

extension BenchmarkContext {
    /// Whether `--only` (a comma-separated list of parts) is absent or names `part`.
    func includes(_ part: String) -> Bool {
        guard let only = option("only") else { return true }
        return only.split(separator: ",").contains { $0 == part }
    }
}

/// `sync.sha256.ratio_to_sha256sum`: PulpKit's SHA-256 over a 256 MiB file, as a fraction of the speed of
/// `sha256sum` on the same file (warm page cache, best of three each). Also prints both speeds.
private func benchmarkSHA256(_ context: BenchmarkContext) throws {
    let size = context.size(256 << 20, smoke: 1 << 20)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("blob").path
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: size)
    for index in stride(from: 0, to: size, by: 8) {
        withUnsafeBytes(of: generator.next()) { word in
            for offset in 0..<min(8, size - index) { bytes[index + offset] = word[offset] }
        }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    bytes = []

    var digest = SHA256Digest(hex: String(repeating: "0", count: 64))!
    let ours = try (0..<3).map { _ in try measure { digest = try SHA256.hash(fileAt: path) } }.min()!
    let megabytes = Double(size) / 1e6
    context.report("sync.sha256.pulpkit_mb_per_s", megabytes / ours, "MB/s")

    guard let tool = ["/usr/bin/sha256sum", "/bin/sha256sum"].first(where: FileManager.default.isExecutableFile)
    else {
        FileHandle.standardError.write(Data("sha256sum not found: no ratio\n".utf8))
        return
    }
    var reference = ""
    let theirs = try (0..<3).map { _ in
        try measure {
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = [path]
            process.standardOutput = output
            try process.run()
            let text = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            reference = String(decoding: text.prefix(64), as: UTF8.self)
        }
    }.min()!
    guard reference == digest.hex else {
        throw PulpError.internalError("SHA-256 mismatch with sha256sum: \(digest.hex) vs \(reference)")
    }
    context.report("sync.sha256.sha256sum_mb_per_s", megabytes / theirs, "MB/s")
    context.report("sync.sha256.ratio_to_sha256sum", theirs / ours, "ratio")
}
