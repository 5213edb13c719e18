import Foundation
import PulpKit
import PulpKitTesting
import Testing

/// A temporary directory with a `feed` folder of source files and a `store` folder for downloads.
private struct Sandbox: ~Copyable {
    let root: URL
    var feed: URL { root.appendingPathComponent("feed") }
    var store: URL { root.appendingPathComponent("store") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-download-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: feed, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes `bytes` as `name` in the feed and returns a request for its `file://` URL.
    func serve(_ name: String, _ bytes: [UInt8]) throws -> DownloadRequest {
        let url = feed.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return DownloadRequest(url: url)
    }

    /// The names in the store folder, hidden partial files included.
    func storeContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.path).sorted()
    }
}

private func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
}

private let sampleURL = URL(string: "https://feed.example/files/a.iso")!

/// A transport that plays back one scripted outcome per call and counts the calls.
private final class ScriptedTransport: HTTPTransport {
    enum Outcome: Sendable {
        case body([UInt8])
        case failure(PulpError)
    }

    private let script: PulpMutex<[Outcome]>
    private let count = PulpMutex(0)

    init(_ script: [Outcome]) { self.script = PulpMutex(script) }

    var calls: Int { count.withLock { $0 } }

    func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        count.withLock { $0 += 1 }
        let outcome = script.withLock { $0.isEmpty ? Outcome.body([]) : $0.removeFirst() }
        switch outcome {
        case .body(let bytes):
            try bytes.withUnsafeBytes { try sink($0) }
            return DownloadResponse(statusCode: 200, expectedContentLength: Int64(bytes.count))
        case .failure(let error):
            throw error
        }
    }
}

/// A transport that records how many streams run at once.
private final class ConcurrencyProbe: HTTPTransport {
    private let state = PulpMutex((current: 0, peak: 0))

    var peak: Int { state.withLock { $0.peak } }

    func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        state.withLock {
            $0.current += 1
            $0.peak = max($0.peak, $0.current)
        }
        defer { state.withLock { $0.current -= 1 } }
        try await Task.sleep(for: .milliseconds(20))
        try ([1, 2, 3] as [UInt8]).withUnsafeBytes { try sink($0) }
        return DownloadResponse()
    }
}

/// A transport that sends one chunk and then stalls until cancelled.
private struct StallingTransport: HTTPTransport {
    func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        try pattern(1000).withUnsafeBytes { try sink($0) }
        try await Task.sleep(for: .seconds(600))
        return DownloadResponse()
    }
}

struct DownloadFileTests {
    @Test func correctDownloadIsVerifiedAndPlaced() async throws {
        let sandbox = try Sandbox()
        let bytes = pattern(700_000)
        let request = try sandbox.serve("big.bin", bytes)
        let destination = sandbox.store.appendingPathComponent("big.bin")
        let downloader = Downloader(transport: FileTransport(chunkSize: 64 * 1024))
        let result = try await downloader.download(
            request,
            to: destination,
            expectedSize: Int64(bytes.count),
            expectedSHA256: SHA256.hash(bytes)
        )
        #expect(result == DownloadResult(bytes: Int64(bytes.count), sha256: SHA256.hash(bytes)))
        #expect(try Data(contentsOf: destination) == Data(bytes))
        #expect(try sandbox.storeContents() == ["big.bin"])
        let mode = try FileManager.default.attributesOfItem(atPath: destination.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func tooManyBytesAbortEarlyAndLeaveNothing() async throws {
        let sandbox = try Sandbox()
        let request = try sandbox.serve("a", pattern(12))
        let error = await #expect(throws: PulpError.self) {
            try await Downloader(transport: FileTransport(chunkSize: 4)).download(
                request,
                to: sandbox.store.appendingPathComponent("a"),
                expectedSize: 10
            )
        }
        #expect(error?.message.contains("size mismatch: expected 10 bytes, received at least 12") == true)
        #expect(error?.message.hasPrefix(request.url.absoluteString) == true)
        #expect(error?.isTransient == false)
        #expect(try sandbox.storeContents().isEmpty)
    }

    @Test func tooFewBytesFailAndLeaveNothing() async throws {
        let sandbox = try Sandbox()
        let request = try sandbox.serve("a", pattern(8))
        let error = await #expect(throws: PulpError.self) {
            try await Downloader().download(request, to: sandbox.store.appendingPathComponent("a"), expectedSize: 10)
        }
        #expect(error?.message.contains("size mismatch: expected 10 bytes, received 8") == true)
        #expect(try sandbox.storeContents().isEmpty)
    }

    @Test func wrongChecksumFailsAndLeavesNothing() async throws {
        let sandbox = try Sandbox()
        let bytes = pattern(100)
        let request = try sandbox.serve("a", bytes)
        let wrong = SHA256.hash([1, 2, 3])
        let error = await #expect(throws: PulpError.self) {
            try await Downloader().download(
                request,
                to: sandbox.store.appendingPathComponent("a"),
                expectedSize: 100,
                expectedSHA256: wrong
            )
        }
        let expected = "checksum mismatch: expected \(wrong.hex), got \(SHA256.hash(bytes).hex)"
        #expect(error?.message.contains(expected) == true)
        #expect(try sandbox.storeContents().isEmpty)
    }

    @Test func verifyFlagsOffAcceptMismatches() async throws {
        let sandbox = try Sandbox()
        let bytes = pattern(12)
        let request = try sandbox.serve("a", bytes)
        let destination = sandbox.store.appendingPathComponent("a")
        let result = try await Downloader().download(
            request,
            to: destination,
            expectedSize: 10,
            expectedSHA256: SHA256.hash([1]),
            verifySize: false,
            verifyChecksum: false
        )
        #expect(result.bytes == 12)
        #expect(result.sha256 == SHA256.hash(bytes))
        #expect(try sandbox.storeContents() == ["a"])
    }

    @Test func missingFileIsPermanentAndNotRetried() async throws {
        let sandbox = try Sandbox()
        let missing = sandbox.feed.appendingPathComponent("nope.rpm")
        let error = await #expect(throws: PulpError.self) {
            try await Downloader(retries: 3, backoff: .standard).download(
                DownloadRequest(url: missing),
                to: sandbox.store.appendingPathComponent("nope.rpm")
            )
        }
        #expect(error?.isTransient == false)
        #expect(error?.message.contains(missing.path) == true)
        #expect(error?.code == .downloadFailed)
        #expect(try sandbox.storeContents().isEmpty)
    }

    @Test func unsupportedSchemeIsA400NamingFeed() async throws {
        let sandbox = try Sandbox()
        let error = await #expect(throws: PulpError.self) {
            try await Downloader().download(
                DownloadRequest(url: URL(string: "ftp://mirror.example/a")!),
                to: sandbox.store.appendingPathComponent("a")
            )
        }
        #expect(error?.httpStatus == 400)
        #expect(error?.propertyNames == ["feed"])
    }

    @Test func credentialsNeverAppearInMessages() {
        let url = URL(string: "https://joe:secret@feed.example/a")!
        let error = PulpError.download("HTTP 500", url: url, transient: true)
        #expect(!error.message.contains("secret"))
        #expect(error.message == "https://feed.example/a: HTTP 500")
    }
}

struct DownloadRetryTests {
    @Test func transientFailuresAreRetried() async throws {
        let sandbox = try Sandbox()
        let transient = PulpError.download("HTTP 503 Service Unavailable", url: sampleURL, transient: true)
        let transport = ScriptedTransport([.failure(transient), .failure(transient), .body(pattern(5))])
        let downloader = Downloader(transport: transport, retries: 3, backoff: .immediate, random: { 1 })
        let result = try await downloader.download(
            DownloadRequest(url: sampleURL),
            to: sandbox.store.appendingPathComponent("a.iso"),
            expectedSize: 5
        )
        #expect(result.bytes == 5)
        #expect(transport.calls == 3)
        #expect(try sandbox.storeContents() == ["a.iso"])
    }

    @Test func retriesRunOut() async throws {
        let sandbox = try Sandbox()
        let transient = PulpError.download("timed out after 5 s", url: sampleURL, transient: true)
        let transport = ScriptedTransport(Array(repeating: .failure(transient), count: 5))
        let downloader = Downloader(transport: transport, retries: 2, backoff: .immediate, random: { 1 })
        await #expect(throws: transient) {
            try await downloader.download(
                DownloadRequest(url: sampleURL),
                to: sandbox.store.appendingPathComponent("a")
            )
        }
        #expect(transport.calls == 3)
    }

    @Test func permanentFailuresAreNotRetried() async throws {
        let sandbox = try Sandbox()
        let permanent = PulpError.download("HTTP 404 Not Found", url: sampleURL, transient: false, upstreamStatus: 404)
        let transport = ScriptedTransport([.failure(permanent), .body(pattern(5))])
        let downloader = Downloader(transport: transport, retries: 3, backoff: .immediate)
        await #expect(throws: permanent) {
            try await downloader.download(
                DownloadRequest(url: sampleURL),
                to: sandbox.store.appendingPathComponent("a")
            )
        }
        #expect(transport.calls == 1)
        #expect(try sandbox.storeContents().isEmpty)
    }

    @Test func backoffGrowsAndIsCapped() {
        let backoff = Downloader.Backoff(first: .seconds(1), multiplier: 2, cap: .seconds(5))
        #expect(backoff.delay(beforeRetry: 1, random: 1) == .seconds(1))
        #expect(backoff.delay(beforeRetry: 3, random: 1) == .seconds(4))
        #expect(backoff.delay(beforeRetry: 4, random: 1) == .seconds(5))
        #expect(backoff.delay(beforeRetry: 2, random: 0) == .seconds(1))
    }
}

struct DownloadConcurrencyTests {
    @Test func concurrencyLimitIsRespected() async throws {
        let sandbox = try Sandbox()
        let probe = ConcurrencyProbe()
        let downloader = Downloader(transport: probe, maxConcurrent: 5)
        let store = sandbox.store
        try await withThrowingTaskGroup(of: DownloadResult.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await downloader.download(
                        DownloadRequest(url: sampleURL),
                        to: store.appendingPathComponent("f\(index)")
                    )
                }
            }
            for try await result in group { #expect(result.bytes == 3) }
        }
        #expect(probe.peak == 5)
        #expect(try sandbox.storeContents().count == 20)
    }

    @Test func cancellationMidDownloadRemovesThePartialFile() async throws {
        let sandbox = try Sandbox()
        let downloader = Downloader(transport: StallingTransport())
        let destination = sandbox.store.appendingPathComponent("a")
        let task = Task { try await downloader.download(DownloadRequest(url: sampleURL), to: destination) }
        var sawPart = false
        for _ in 0..<500 {
            if try sandbox.storeContents().contains(where: { $0.hasPrefix(".a.part-") }) {
                sawPart = true
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(sawPart)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try sandbox.storeContents().isEmpty)
    }
}

struct DownloadHTTPTests {
    /// A server that accepts one connection and never answers.
    static let stallingServer = """
        import socket, time
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        print("listening on port", s.getsockname()[1])
        conns = []
        while True:
            c, _ = s.accept()
            conns.append(c)
        """

    @Test(
        .enabled(if: LocalServer.python3Path != nil, "python3 is not installed: no local HTTP server to test against")
    )
    func downloadsOverHTTPAndA404IsPermanent() async throws {
        let sandbox = try Sandbox()
        let bytes = pattern(300_000)
        _ = try sandbox.serve("pkg.rpm", bytes)
        let server = try LocalServer([
            "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", sandbox.feed.path,
        ])
        defer { server.stop() }
        let downloader = Downloader(retries: 2, backoff: .immediate)
        let destination = sandbox.store.appendingPathComponent("pkg.rpm")
        let result = try await downloader.download(
            DownloadRequest(url: server.url("pkg.rpm"), credentials: BasicCredentials(username: "u", password: "p")),
            to: destination,
            expectedSize: Int64(bytes.count),
            expectedSHA256: SHA256.hash(bytes)
        )
        #expect(result.bytes == Int64(bytes.count))
        #expect(try Data(contentsOf: destination) == Data(bytes))

        let error = await #expect(throws: PulpError.self) {
            try await downloader.download(
                DownloadRequest(url: server.url("missing.rpm")),
                to: sandbox.store.appendingPathComponent("missing.rpm")
            )
        }
        #expect(error?.isTransient == false)
        #expect(error?.data["upstream_status"] == .int(404))
        #expect(error?.message.contains("HTTP 404") == true)
        #expect(error?.message.contains(server.url("missing.rpm").absoluteString) == true)
        #expect(try sandbox.storeContents() == ["pkg.rpm"])
    }

    @Test(.enabled(if: LocalServer.python3Path != nil, "python3 is not installed: no local server to test against"))
    func aStalledFeedTimesOutWithAClearError() async throws {
        let sandbox = try Sandbox()
        let server = try LocalServer(["-c", Self.stallingServer])
        defer { server.stop() }
        let downloader = Downloader(retries: 0)
        let error = await #expect(throws: PulpError.self) {
            try await downloader.download(
                DownloadRequest(url: server.url("slow"), timeout: .seconds(1)),
                to: sandbox.store.appendingPathComponent("slow")
            )
        }
        #expect(error?.message == "\(server.url("slow").absoluteString): timed out after 1 s")
        #expect(error?.isTransient == true)
        #expect(try sandbox.storeContents().isEmpty)
    }

    @Test(.enabled(if: LocalServer.python3Path != nil, "python3 is not installed: no local server to test against"))
    func cancellingAnHTTPDownloadThrowsCancellationError() async throws {
        let sandbox = try Sandbox()
        let server = try LocalServer(["-c", Self.stallingServer])
        defer { server.stop() }
        let downloader = Downloader()
        let url = server.url("slow")
        let destination = sandbox.store.appendingPathComponent("slow")
        let task = Task { try await downloader.download(DownloadRequest(url: url), to: destination) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try sandbox.storeContents().isEmpty)
    }
}
