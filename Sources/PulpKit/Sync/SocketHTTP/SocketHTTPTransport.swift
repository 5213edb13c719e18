import Foundation

/// Fetches `http` URLs over plain POSIX sockets with HTTP/1.1, and hands `https` URLs to another transport.
///
/// Built for syncing many small files from one feed: connections are kept alive and reused where the server
/// allows it; each transfer runs as blocking reads on a thread of the transport's own (so the cooperative
/// pool is never blocked), and the consumer is called on that thread for each chunk received, with no
/// hand-off per chunk. Bodies may be delimited by `Content-Length`, `Transfer-Encoding: chunked` or the
/// server closing the connection (HTTP/1.0). Redirects (301, 302, 303, 307, 308) are followed up to
/// ``maximumRedirects``; credentials are sent to the redirect target only on the same host and port.
///
/// Errors follow ``HTTPTransport``: statuses become ``PulpError/downloadStatus(_:reason:url:fileID:line:)``;
/// a transfer that receives nothing for the request's timeout fails as timed out (transient); refused and
/// broken connections are transient; cancelling the calling task aborts the transfer with
/// `CancellationError`. There is no TLS here: `https` goes to ``https``.
public final class SocketHTTPTransport: HTTPTransport {
    /// The transport for `https` URLs, and for redirects to them.
    public let https: any HTTPTransport
    /// The most redirects followed for one request.
    public let maximumRedirects: Int
    private let threads = BlockingThreadPool(name: "pulpkit.http")
    private let connections = ConnectionPool()

    /// Creates a transport; `https` URLs go to `https` (a ``URLSessionTransport`` by default).
    public init(https: any HTTPTransport = URLSessionTransport(), maximumRedirects: Int = 5) {
        self.https = https
        self.maximumRedirects = max(0, maximumRedirects)
    }

    deinit {
        connections.closeAll()
    }

    public func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        var request = request
        var redirects = 0
        while true {
            try Task.checkCancellation()
            switch request.url.scheme?.lowercased() {
            case "http": break
            case "https": return try await https.stream(request, into: sink)
            default:
                throw PulpError.invalid(
                    "feed",
                    "unsupported URL scheme in \(PulpError.redacted(request.url)); use http or https"
                )
            }
            switch try await fetch(request, into: sink) {
            case .response(let response):
                return response
            case .redirect(let location):
                redirects += 1
                guard redirects <= maximumRedirects else {
                    throw PulpError.download(
                        "more than \(maximumRedirects) redirects",
                        url: request.url,
                        transient: false
                    )
                }
                if location.host != request.url.host || location.port != request.url.port {
                    request.credentials = nil
                }
                request.url = location
            }
        }
    }

    /// One request on one connection, run on a pool thread.
    private func fetch(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> Outcome {
        let target = try Target(request)
        let control = TransferControl()
        return try await withoutActuallyEscaping(sink) { sink in
            let consumer = BodySink(sink)
            return try await withTaskCancellationHandler {
                try await threads.run { [connections] in
                    // Drop the sink before the job returns, so it is not referenced once the caller resumes.
                    defer { consumer.release() }
                    return try Self.transfer(target, request, control, consumer, connections)
                }
            } onCancel: {
                control.cancel()
            }
        }
    }

    /// The blocking transfer: connect or reuse, send, read the head, stream the body.
    private static func transfer(
        _ target: Target,
        _ request: DownloadRequest,
        _ control: TransferControl,
        _ consumer: BodySink,
        _ connections: ConnectionPool
    ) throws -> Outcome {
        let url = request.url
        let timeout = request.timeout
        while true {
            let pooled = connections.take(target.key)
            let connection =
                try pooled
                ?? SocketConnection.open(
                    host: target.host,
                    port: target.port,
                    timeout: timeout,
                    url: url
                )
            try control.attach(connection)
            var keep = false
            var answered = false
            defer {
                control.detach()
                if keep { connections.put(connection) } else { connection.close() }
            }
            do {
                try connection.send(target.requestBytes, timeout: timeout, url: url)
                guard let head = try readHead(connection, timeout: timeout, url: url) else {
                    // A pooled connection the server had closed: try once more on a fresh one.
                    if pooled != nil { continue }
                    throw PulpError.download("connection closed before a response", url: url, transient: true)
                }
                answered = true
                if [301, 302, 303, 307, 308].contains(head.status), let location = head.header("location") {
                    guard let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                        throw PulpError.download("redirect to an invalid URL '\(location)'", url: url, transient: false)
                    }
                    return .redirect(next)
                }
                guard (200..<300).contains(head.status) else {
                    throw PulpError.downloadStatus(head.status, reason: head.reason, url: url)
                }
                let complete = try readBody(head.framing, connection, consumer, timeout: timeout, url: url)
                keep = complete && head.keepAlive && !connection.hasBufferedBytes
                var length: Int64?
                if case .length(let count) = head.framing { length = count }
                return .response(DownloadResponse(statusCode: head.status, expectedContentLength: length))
            } catch let error as PulpError {
                if control.isCancelled { throw CancellationError() }
                // A reused connection that failed before any response: the server had dropped it.
                if pooled != nil, error.isTransient, !answered { continue }
                throw error
            } catch {
                if control.isCancelled { throw CancellationError() }
                throw error
            }
        }
    }

    /// Reads and parses a final (non-1xx) response head; `nil` when the connection closes before any byte.
    private static func readHead(
        _ connection: SocketConnection,
        timeout: Duration,
        url: URL
    ) throws(PulpError) -> HTTPResponseHead? {
        var receivedAny = false
        while true {
            if let length = HTTPResponseHead.headLength(in: connection.buffered) {
                let head = try HTTPResponseHead(
                    parsing: UnsafeRawBufferPointer(rebasing: connection.buffered[..<length]),
                    url: url
                )
                connection.consume(length)
                if head.status >= 200 { return head }
                continue
            }
            if connection.isFull {
                throw PulpError.download(
                    "HTTP response head larger than \(SocketConnection.bufferSize) bytes",
                    url: url,
                    transient: false
                )
            }
            if try connection.fill(timeout: timeout, url: url) == 0 {
                if !receivedAny, connection.buffered.isEmpty { return nil }
                throw PulpError.download("connection closed in the response head", url: url, transient: true)
            }
            receivedAny = true
        }
    }

    /// Streams the body to the consumer; returns whether it ended by its framing (so the connection may be
    /// reused) rather than by the server closing.
    private static func readBody(
        _ framing: HTTPResponseHead.Framing,
        _ connection: SocketConnection,
        _ consumer: BodySink,
        timeout: Duration,
        url: URL
    ) throws -> Bool {
        switch framing {
        case .empty:
            return true
        case .length(let total):
            var remaining = total
            while remaining > 0 {
                if connection.buffered.isEmpty, try connection.fill(timeout: timeout, url: url) == 0 {
                    throw PulpError.download(
                        "connection closed after \(total - remaining) of \(total) bytes",
                        url: url,
                        transient: true
                    )
                }
                let take = Int(min(Int64(connection.buffered.count), remaining))
                try consumer.send(UnsafeRawBufferPointer(rebasing: connection.buffered[..<take]))
                connection.consume(take)
                remaining -= Int64(take)
            }
            return true
        case .chunked:
            var decoder = ChunkedDecoder()
            while !decoder.isDone {
                if connection.buffered.isEmpty, try connection.fill(timeout: timeout, url: url) == 0 {
                    throw PulpError.download("connection closed in a chunked body", url: url, transient: true)
                }
                let used = try decoder.feed(connection.buffered, url: url) { try consumer.send($0) }
                connection.consume(used)
            }
            return true
        case .untilClose:
            while true {
                if connection.buffered.isEmpty, try connection.fill(timeout: timeout, url: url) == 0 {
                    return false
                }
                try consumer.send(connection.buffered)
                connection.consume(connection.buffered.count)
            }
        }
    }

    private enum Outcome: Sendable {
        case response(DownloadResponse)
        case redirect(URL)
    }

    /// Where a request goes and the bytes that ask for it.
    private struct Target: Sendable {
        var host: String
        var port: Int
        var key: String
        var requestBytes: [UInt8]

        init(_ request: DownloadRequest) throws(PulpError) {
            let url = request.url
            guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
                let host = components.host, !host.isEmpty
            else {
                throw PulpError.invalid("feed", "\(PulpError.redacted(url)) has no host")
            }
            let port = components.port ?? 80
            guard (1...65535).contains(port) else {
                throw PulpError.invalid("feed", "\(PulpError.redacted(url)) has an invalid port")
            }
            var path = components.percentEncodedPath
            if path.isEmpty { path = "/" }
            if let query = components.percentEncodedQuery { path += "?" + query }
            let bracketed = host.contains(":") ? "[\(host)]" : host
            let hostHeader = components.port.map { "\(bracketed):\($0)" } ?? bracketed
            var credentials = request.credentials
            if credentials == nil, let user = components.user {
                credentials = BasicCredentials(
                    username: user.removingPercentEncoding ?? user,
                    password: components.password.map { $0.removingPercentEncoding ?? $0 } ?? ""
                )
            }
            guard !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }),
                !hostHeader.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F })
            else {
                throw PulpError.invalid("feed", "\(PulpError.redacted(url)) contains spaces or control characters")
            }
            var text = "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: PulpKit\r\n"
            text += "Accept: */*\r\nAccept-Encoding: identity\r\n"
            if let credentials { text += "Authorization: \(credentials.headerValue)\r\n" }
            text += "\r\n"
            self.host = host
            self.port = port
            self.key = "\(host):\(port)"
            self.requestBytes = Array(text.utf8)
        }
    }
}

/// The consumer of one transfer, called on the pool thread while the calling task waits for it.
private final class BodySink: @unchecked Sendable {
    // @unchecked: `sink` is not Sendable, but it is called only by the one pool thread running the transfer,
    // while the task that owns the sink is suspended awaiting that very job (`BlockingThreadPool.run`); the
    // task resumes only after the job's last call (the continuation's resumption orders the memory), and the
    // cancellation handler never touches it. So the sink is never used from two threads at once, nor after
    // `withoutActuallyEscaping` returns.
    private var sink: ((UnsafeRawBufferPointer) throws -> Void)?
    /// Whether any body bytes were handed over (a failed transfer is then not silently retried).
    private(set) var started = false

    init(_ sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.sink = sink
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        started = true
        try sink?(bytes)
    }

    /// Forgets the sink (the last thing the transfer's thread does with it).
    func release() {
        sink = nil
    }
}

/// Lets a cancellation handler abort a transfer blocked in a read on a pool thread.
private final class TransferControl: Sendable {
    private struct State {
        var connection: SocketConnection?
        var cancelled = false
    }

    private let state = PulpMutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Makes `connection` the one to abort on cancellation; throws if the transfer is cancelled already.
    func attach(_ connection: SocketConnection) throws(CancellationError) {
        let cancelled = state.withLock { state in
            state.connection = connection
            return state.cancelled
        }
        if cancelled { throw CancellationError() }
    }

    /// Forgets the connection (before it is closed or parked), so a late cancellation cannot touch it.
    func detach() {
        state.withLock { $0.connection = nil }
    }

    /// Marks the transfer cancelled and shuts its connection down, which wakes a blocked read or write.
    func cancel() {
        state.withLock { state in
            state.cancelled = true
            state.connection?.shutdownBoth()
        }
    }
}
