import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches `http` and `https` URLs with one `URLSession`, streaming each received chunk to the consumer.
///
/// HTTP statuses become ``PulpError``s (5xx, 408 and 429 transient; other 4xx permanent); a transfer that
/// receives nothing for the request's timeout fails as timed out; cancelling the calling task cancels the
/// transfer and throws `CancellationError`. `validateTLS == false` is honoured where the platform exposes
/// server trust (Apple platforms); on Linux certificates are always validated.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let delegate: SessionDelegate

    /// Creates a transport with its own ephemeral session (no cache, no cookies).
    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "pulpkit.download"
        delegate = SessionDelegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
    }

    deinit {
        session.invalidateAndCancel()
    }

    public func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        try Task.checkCancellation()
        var urlRequest = URLRequest(
            url: request.url,
            cachePolicy: .reloadIgnoringLocalCacheData,
            timeoutInterval: request.timeout.timeInterval
        )
        if let credentials = request.credentials {
            urlRequest.setValue(credentials.headerValue, forHTTPHeaderField: "Authorization")
        }
        let channel = ChunkChannel(request: request)
        let task = session.dataTask(with: urlRequest)
        delegate.register(channel, for: task.taskIdentifier)
        defer { delegate.unregister(task.taskIdentifier) }
        let box = TaskBox(task)
        return try await withTaskCancellationHandler {
            task.resume()
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await channel.watchForStall() }
                    defer { group.cancelAll() }
                    while let chunk = try await channel.next() {
                        try chunk.withUnsafeBytes { try sink($0) }
                    }
                }
            } catch {
                task.cancel()
                throw error
            }
            return channel.response
        } onCancel: {
            channel.cancel()
            box.task.cancel()
        }
    }
}

/// Holds a task for the cancellation handler.
private final class TaskBox: @unchecked Sendable {
    // @unchecked: `task` is immutable and `URLSessionTask.cancel()` is documented as thread-safe.
    let task: URLSessionTask

    init(_ task: URLSessionTask) { self.task = task }
}

/// Routes a session's delegate callbacks to the channel of each task.
private final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: the only stored state is `channels`, a `PulpMutex`, which is Sendable.
    private let channels = PulpMutex([Int: ChunkChannel]())

    func register(_ channel: ChunkChannel, for identifier: Int) {
        channels.withLock { $0[identifier] = channel }
    }

    func unregister(_ identifier: Int) {
        _ = channels.withLock { $0.removeValue(forKey: identifier) }
    }

    private func channel(_ task: URLSessionTask) -> ChunkChannel? {
        channels.withLock { $0[task.taskIdentifier] }
    }

    func urlSession(
        _ session: URLSession,
        dataTask: URLSessionDataTask,
        didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let channel = channel(dataTask) else { return completionHandler(.cancel) }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            channel.finish(channel.statusError(http.statusCode))
            return completionHandler(.cancel)
        }
        let length = response.expectedContentLength
        channel.setResponse(
            DownloadResponse(
                statusCode: (response as? HTTPURLResponse)?.statusCode,
                expectedContentLength: length >= 0 ? length : nil
            )
        )
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        channel(dataTask)?.push(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let channel = channel(task) else { return }
        channel.finish(error.map { channel.transportError($0) })
    }

    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        #if canImport(Darwin)
        if challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust,
            let trust = challenge.protectionSpace.serverTrust,
            channel(task)?.request.validateTLS == false
        {
            return completionHandler(.useCredential, URLCredential(trust: trust))
        }
        #endif
        completionHandler(.performDefaultHandling, nil)
    }
}

/// The chunks of one transfer, handed from the session's delegate queue to the task that consumes them.
///
/// `URLSession` offers no safe backpressure on Linux (suspending a running task restarts it), so chunks
/// are queued until consumed; the consumer writes them to disk, which normally keeps pace with the network.
private final class ChunkChannel: Sendable {
    private struct State {
        var chunks: [Data] = []
        var head = 0
        var done = false
        var failure: (any Error)?
        var cancelled = false
        var waiter: CheckedContinuation<Data?, any Error>?
        var response = DownloadResponse()
        var lastActivity = ContinuousClock.now
    }

    private enum Step {
        case chunk(Data)
        case end
        case fail(any Error)
        case wait
    }

    let request: DownloadRequest
    private let state = PulpMutex(State())

    init(request: DownloadRequest) {
        self.request = request
    }

    var response: DownloadResponse { state.withLock { $0.response } }

    func setResponse(_ response: DownloadResponse) {
        state.withLock {
            $0.response = response
            $0.lastActivity = .now
        }
    }

    /// Fails the transfer as timed out once it has gone `request.timeout` without data; returns when it ends.
    ///
    /// `URLSession` on Linux does not apply the request's timeout to a server that accepts and then stalls.
    func watchForStall() async {
        while !Task.isCancelled {
            let (last, ended) = state.withLock { ($0.lastActivity, $0.done || $0.cancelled) }
            if ended { return }
            let deadline = last + request.timeout
            if ContinuousClock.now >= deadline {
                let error = PulpError.download(
                    "timed out after \(request.timeout.secondsText)",
                    url: request.url,
                    transient: true
                )
                return finish(error)
            }
            try? await Task.sleep(until: deadline, clock: .continuous)
        }
    }

    func push(_ data: Data) {
        let waiter: CheckedContinuation<Data?, any Error>? = state.withLock { state in
            guard !state.done, !state.cancelled else { return nil }
            state.lastActivity = .now
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.chunks.append(data)
            return nil
        }
        waiter?.resume(returning: data)
    }

    /// Ends the transfer with `error`, or successfully if `nil`; only the first outcome counts.
    func finish(_ error: (any Error)?) {
        let waiter: CheckedContinuation<Data?, any Error>? = state.withLock { state in
            guard !state.done else { return nil }
            state.done = true
            state.failure = error
            guard state.head == state.chunks.count else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    func cancel() {
        let waiter: CheckedContinuation<Data?, any Error>? = state.withLock { state in
            state.cancelled = true
            state.chunks = []
            state.head = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: CancellationError())
    }

    /// The next chunk, `nil` at the end, or the transfer's error.
    func next() async throws -> Data? {
        try await withCheckedThrowingContinuation { continuation in
            let step: Step = state.withLock { state in
                if state.cancelled { return .fail(CancellationError()) }
                if state.head < state.chunks.count {
                    let chunk = state.chunks[state.head]
                    state.head += 1
                    if state.head == state.chunks.count {
                        state.chunks.removeAll(keepingCapacity: true)
                        state.head = 0
                    }
                    return .chunk(chunk)
                }
                if state.done { return state.failure.map { .fail($0) } ?? .end }
                state.waiter = continuation
                return .wait
            }
            switch step {
            case .chunk(let chunk): continuation.resume(returning: chunk)
            case .end: continuation.resume(returning: nil)
            case .fail(let error): continuation.resume(throwing: error)
            case .wait: break
            }
        }
    }

    /// The error for an unsuccessful HTTP status (see ``PulpError/downloadStatus(_:reason:url:fileID:line:)``).
    func statusError(_ status: Int) -> PulpError {
        let reason = HTTPURLResponse.localizedString(forStatusCode: status)
        return PulpError.downloadStatus(status, reason: reason, url: request.url)
    }

    /// The ``PulpError`` (or `CancellationError`) for an error `URLSession` reported.
    func transportError(_ error: any Error) -> any Error {
        guard let urlError = error as? URLError else {
            return PulpError.download("\(error)", url: request.url, transient: false)
        }
        let url = request.url
        switch urlError.code {
        case .cancelled:
            return CancellationError()
        case .timedOut:
            return PulpError.download("timed out after \(request.timeout.secondsText)", url: url, transient: true)
        case .cannotConnectToHost, .networkConnectionLost, .notConnectedToInternet, .cannotFindHost,
            .dnsLookupFailed, .resourceUnavailable, .badServerResponse, .cannotLoadFromNetwork:
            return PulpError.download(
                "connection failed: \(urlError.localizedDescription)",
                url: url,
                transient: true
            )
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
            .serverCertificateHasUnknownRoot, .secureConnectionFailed, .clientCertificateRejected:
            return PulpError.download(
                "TLS validation failed: \(urlError.localizedDescription)",
                url: url,
                transient: false
            )
        default:
            return PulpError.download(urlError.localizedDescription, url: url, transient: false)
        }
    }
}
