import Foundation
import PulpFile
import PulpKit

/// A folder of files with its `PULP_MANIFEST`, in a temporary directory removed on deinit.
final class Feed: @unchecked Sendable {
    // Mutated only by the test that owns it, before and between syncs, never concurrently.
    let url: URL
    private(set) var files: [String: [UInt8]] = [:]

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pulpkit-feed-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes (or replaces) a file and rewrites the manifest.
    func put(_ name: String, _ text: String) throws {
        let bytes = Array(text.utf8)
        let path = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: path.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try Data(bytes).write(to: path)
        files[name] = bytes
        try writeManifest()
    }

    /// Deletes a file and rewrites the manifest.
    func delete(_ name: String) throws {
        try FileManager.default.removeItem(at: url.appendingPathComponent(name))
        files[name] = nil
        try writeManifest()
    }

    /// Replaces the manifest with raw text (for malformed and hostile manifests).
    func writeRawManifest(_ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent("PULP_MANIFEST"))
    }

    func writeManifest() throws {
        let entries = try files.keys.sorted().map { name in
            try FileManifest.Entry(name: name, sha256: SHA256.hash(files[name]!).hex, size: Int64(files[name]!.count))
        }
        try Data(try FileManifest(entries: entries).encoded).write(to: url.appendingPathComponent("PULP_MANIFEST"))
    }

    /// The importer configuration pointing at this feed.
    func configuration(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        extra.merging(["feed": .string(url.absoluteString)]) { current, _ in current }
    }
}

/// A transport that counts the requests per file name, then hands them to another transport; it can hold
/// every request for a name until released.
final class CountingTransport: HTTPTransport, @unchecked Sendable {
    // `counts` and `held` are guarded by `lock`.
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var held: Set<String> = []
    private var waiting: [CheckedContinuation<Void, Never>] = []
    let base: any HTTPTransport

    init(base: any HTTPTransport = RoutingTransport()) { self.base = base }

    func count(_ name: String) -> Int { lock.withLock { counts[name, default: 0] } }

    /// Requests for content files (not the manifest).
    var fileRequests: Int { lock.withLock { counts.filter { $0.key != "PULP_MANIFEST" }.values.reduce(0, +) } }

    func hold(_ name: String) { lock.withLock { _ = held.insert(name) } }

    func releaseAll() {
        let continuations = lock.withLock {
            held.removeAll()
            defer { waiting.removeAll() }
            return waiting
        }
        for continuation in continuations { continuation.resume() }
    }

    func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        let name = request.url.lastPathComponent
        let hold = lock.withLock {
            counts[name, default: 0] += 1
            return held.contains(name)
        }
        if hold {
            await withCheckedContinuation { continuation in
                let stillHeld = lock.withLock {
                    guard held.contains(name) else { return false }
                    waiting.append(continuation)
                    return true
                }
                if !stillHeld { continuation.resume() }
            }
            try Task.checkCancellation()
        }
        return try await base.stream(request, into: sink)
    }
}
