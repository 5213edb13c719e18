public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads files to disk through an ``HTTPTransport``: bounded concurrency, retries, streaming verification.
///
/// Each download streams into `.<name>.part-<uuid>` beside the destination while hashing, checks size and
/// SHA-256, `fsync`s and renames into place; on any failure or cancellation the partial file is removed.
public final class Downloader: Sendable {
    /// How long to wait before each retry: exponential from `first`, multiplied by `multiplier`, at most `cap`.
    public struct Backoff: Sendable, Hashable {
        /// The delay before the first retry.
        public var first: Duration
        /// The factor by which the delay grows with each further retry.
        public var multiplier: Double
        /// The longest delay.
        public var cap: Duration

        /// Creates a backoff policy.
        public init(first: Duration, multiplier: Double, cap: Duration) {
            self.first = first
            self.multiplier = multiplier
            self.cap = cap
        }

        /// Half a second, doubling, at most 30 seconds.
        public static let standard = Backoff(first: .milliseconds(500), multiplier: 2, cap: .seconds(30))
        /// No delay between retries, for tests.
        public static let immediate = Backoff(first: .zero, multiplier: 1, cap: .zero)

        /// The delay before retry number `retry` (from 1), scaled by a jitter `random` in 0...1 to 50–100 %.
        public func delay(beforeRetry retry: Int, random: Double) -> Duration {
            let growth = pow(max(1, multiplier), Double(max(0, retry - 1)))
            let base = min(cap.timeInterval, first.timeInterval * growth)
            let jittered = base * (0.5 + 0.5 * min(1, max(0, random)))
            return .nanoseconds(Int64(jittered * 1e9))
        }
    }

    /// The transport that fetches the bytes.
    public let transport: any HTTPTransport
    /// The most downloads that stream at once (an importer's `max_downloads`).
    public let maxConcurrent: Int
    /// How many times a transient failure is retried before it is reported.
    public let retries: Int
    /// The delay policy between retries.
    public let backoff: Backoff
    private let random: @Sendable () -> Double
    private let permits: AsyncSemaphore

    /// Creates a downloader; `maxConcurrent` is at least 1 and `retries` at least 0.
    ///
    /// `random` returns a jitter fraction in 0...1 (1 means the full backoff delay); inject it for tests.
    public init(
        transport: any HTTPTransport = RoutingTransport(),
        maxConcurrent: Int = 5,
        retries: Int = 3,
        backoff: Backoff = .standard,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.transport = transport
        self.maxConcurrent = max(1, maxConcurrent)
        self.retries = max(0, retries)
        self.backoff = backoff
        self.random = random
        self.permits = AsyncSemaphore(permits: self.maxConcurrent)
    }

    /// Downloads `request` to `destination`, verifying size and SHA-256 where expected values are given.
    ///
    /// With `durable` (the default) the file and its directory entry are synced to disk before the call
    /// returns; a caller that stores many files passes `false` and makes a whole batch durable at once (see
    /// ``ContentStorage/synchronize()``) before recording it.
    ///
    /// - Throws: a ``PulpError`` naming the URL (size or checksum mismatch, HTTP or I/O failure, timeout) after
    ///   any retries, or `CancellationError`; nothing is left at `destination` or beside it.
    public func download(
        _ request: DownloadRequest,
        to destination: URL,
        expectedSize: Int64? = nil,
        expectedSHA256: SHA256Digest? = nil,
        verifySize: Bool = true,
        verifyChecksum: Bool = true,
        durable: Bool = true
    ) async throws -> DownloadResult {
        try await download(
            request,
            toPath: destination.path,
            expectedSize: expectedSize,
            expectedSHA256: expectedSHA256,
            verifySize: verifySize,
            verifyChecksum: verifyChecksum,
            durable: durable
        )
    }

    /// ``download(_:to:expectedSize:expectedSHA256:verifySize:verifyChecksum:durable:)`` to a file path.
    func download(
        _ request: DownloadRequest,
        toPath destination: String,
        expectedSize: Int64?,
        expectedSHA256: SHA256Digest?,
        verifySize: Bool,
        verifyChecksum: Bool,
        durable: Bool
    ) async throws -> DownloadResult {
        var retry = 0
        while true {
            do {
                try await permits.acquire()
                defer { permits.release() }
                return try await attempt(
                    request,
                    to: destination,
                    expectedSize: verifySize ? expectedSize : nil,
                    expectedSHA256: verifyChecksum ? expectedSHA256 : nil,
                    durable: durable
                )
            } catch let error as PulpError where error.isTransient && retry < retries {
                retry += 1
                try await Task.sleep(for: backoff.delay(beforeRetry: retry, random: random()))
            }
        }
    }

    /// One try: stream into a new partial file, verify, then rename into place.
    private func attempt(
        _ request: DownloadRequest,
        to destinationPath: String,
        expectedSize: Int64?,
        expectedSHA256: SHA256Digest?,
        durable: Bool
    ) async throws -> DownloadResult {
        let url = request.url
        let slash = destinationPath.lastIndex(of: "/")
        let name = slash.map { destinationPath[destinationPath.index(after: $0)...] } ?? destinationPath[...]
        guard !name.isEmpty else {
            throw PulpError.invalid("destination", "\(destinationPath) does not name a file")
        }
        let directory = slash.map { $0 == destinationPath.startIndex ? "/" : String(destinationPath[..<$0]) } ?? "."
        let partPath = "\(directory)/.\(name).part-\(UUID().uuidString.lowercased())"
        let file = try PartFile(path: partPath)
        var placed = false
        defer {
            file.close()
            if !placed { unlink(partPath) }
        }
        var hasher = SHA256()
        var received: Int64 = 0
        _ = try await transport.stream(request) { chunk in
            let total = received + Int64(chunk.count)
            if let expectedSize, total > expectedSize {
                throw PulpError.download(
                    "size mismatch: expected \(expectedSize) bytes, received at least \(total)",
                    url: url,
                    transient: false
                )
            }
            try file.write(chunk)
            hasher.update(chunk)
            received = total
        }
        if let expectedSize, received != expectedSize {
            throw PulpError.download(
                "size mismatch: expected \(expectedSize) bytes, received \(received)",
                url: url,
                transient: false
            )
        }
        let digest = hasher.finalize()
        if let expectedSHA256, digest != expectedSHA256 {
            throw PulpError.download(
                "checksum mismatch: expected \(expectedSHA256.hex), got \(digest.hex)",
                url: url,
                transient: false
            )
        }
        try Task.checkCancellation()
        if durable { try file.sync() }
        guard rename(partPath, destinationPath) == 0 else {
            throw PulpError.storage("cannot move download into place: \(errorText(errno))", path: destinationPath)
        }
        placed = true
        if durable { syncDirectory(directory) }
        return DownloadResult(bytes: received, sha256: digest)
    }
}

/// What a completed download wrote: its size and SHA-256.
public struct DownloadResult: Sendable, Hashable {
    /// The number of bytes written.
    public var bytes: Int64
    /// The SHA-256 of the bytes written.
    public var sha256: SHA256Digest

    /// Creates a result.
    public init(bytes: Int64, sha256: SHA256Digest) {
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// A partial download file, created exclusively with mode 0600.
private final class PartFile {
    let path: String
    private var descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw PulpError.storage("cannot create download file: \(errorText(errno))", path: path)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = posixWrite(descriptor, base, remaining)
            if written > 0 {
                base += written
                remaining -= written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                throw PulpError.storage("cannot write download file: \(errorText(errno))", path: path)
            }
        }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else {
            throw PulpError.storage("cannot fsync download file: \(errorText(errno))", path: path)
        }
    }

    func close() {
        guard descriptor >= 0 else { return }
        posixClose(descriptor)
        descriptor = -1
    }
}

/// Makes a rename in `directory` durable; best effort.
private func syncDirectory(_ directory: String) {
    let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    _ = close(descriptor)
}

private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func posixClose(_ descriptor: Int32) {
    _ = close(descriptor)
}

private func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
