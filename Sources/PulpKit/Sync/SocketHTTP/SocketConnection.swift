import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection with a read buffer: blocking reads and writes bounded by a stall timeout.
///
/// A connection is used by one transfer at a time: it is either owned by the transfer that opened or took
/// it, or parked in a ``ConnectionPool`` (where it is touched only under the pool's lock).
final class SocketConnection: @unchecked Sendable {
    // @unchecked: the descriptor and buffer are used only by the one transfer that owns the connection at a
    // time (see above); the hand-over through the pool's lock orders one owner's accesses before the next's.

    /// The size of the read buffer, which is also the largest response head accepted.
    static let bufferSize = HTTPResponseHead.maximumSize

    let descriptor: Int32
    /// `host:port`, the pool key.
    let key: String
    private let buffer: UnsafeMutableRawBufferPointer
    /// The unconsumed bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var isClosed = false

    private init(descriptor: Int32, key: String) {
        self.descriptor = descriptor
        self.key = key
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Connects to `host:port`, each attempt and each later read or write bounded by `timeout`.
    ///
    /// - Throws: a transient ``PulpError`` for `url` (cannot resolve, refused, timed out).
    static func open(host: String, port: Int, timeout: Duration, url: URL) throws(PulpError) -> SocketConnection {
        let key = "\(host):\(port)"
        var lastError = EHOSTUNREACH
        for address in try addresses(host: host, port: port, url: url) {
            let descriptor = socket(address.family, socketStream, 0)
            guard descriptor >= 0 else {
                lastError = errno
                continue
            }
            let connection = SocketConnection(descriptor: descriptor, key: key)
            connection.setOptions(timeout: timeout)
            var storage = address.storage
            let result = withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, address.length) }
            }
            if result == 0 { return connection }
            lastError = errno
            connection.close()
            if lastError == EINPROGRESS || lastError == EAGAIN || lastError == ETIMEDOUT {
                throw PulpError.download("timed out after \(timeout.secondsText)", url: url, transient: true)
            }
        }
        throw PulpError.download("connection failed: \(errorText(lastError))", url: url, transient: true)
    }

    /// Asks Linux to acknowledge received data at once instead of up to 40 ms later. A server that writes
    /// a response's head and body in two small sends with Nagle's algorithm on (Python's `http.server` with
    /// HTTP/1.1) otherwise waits for that delayed acknowledgement before the body of every response on a
    /// kept-alive connection. The kernel clears the flag as it sees fit, so it is set again after each read.
    private func acknowledgeQuickly() {
        #if os(Linux)
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    private func setOptions(timeout: Duration) {
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        acknowledgeQuickly()
        #if os(macOS) || os(iOS)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let (seconds, attoseconds) = max(timeout, .milliseconds(1)).components
        var interval = timeval()
        interval.tv_sec = .init(seconds)
        interval.tv_usec = .init(attoseconds / 1_000_000_000_000)
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, size)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &interval, size)
    }

    /// Whether an idle connection still looks usable: nothing to read (no close, no stray bytes) yet.
    var isReusable: Bool {
        guard !isClosed, start == end else { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Whether bytes beyond the last response are buffered (a misbehaving server): never reuse then.
    var hasBufferedBytes: Bool { start != end }

    /// Writes all of `bytes`.
    ///
    /// - Throws: a transient ``PulpError`` for `url` when the connection fails or stalls for the timeout.
    func send(_ bytes: [UInt8], timeout: Duration, url: URL) throws(PulpError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                sendBytes(descriptor, raw.baseAddress! + sent, raw.count - sent)
            }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EINTR {
                continue
            } else {
                throw failure(errno, timeout: timeout, url: url)
            }
        }
    }

    /// Reads more bytes into the buffer (after moving what is unconsumed to its front); returns how many,
    /// 0 when the server closed the connection.
    ///
    /// - Throws: a transient ``PulpError`` for `url` on a connection error or a stall longer than `timeout`.
    func fill(timeout: Duration, url: URL) throws(PulpError) -> Int {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count, start > 0 {
            let count = end - start
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count)
            start = 0
            end = count
        }
        guard end < buffer.count else { return 0 }
        while true {
            let count = read(descriptor, buffer.baseAddress! + end, buffer.count - end)
            if count >= 0 {
                end += count
                acknowledgeQuickly()
                return count
            }
            if errno != EINTR { throw failure(errno, timeout: timeout, url: url) }
        }
    }

    /// The unconsumed buffered bytes; valid until the next ``fill(timeout:url:)`` or ``consume(_:)``.
    var buffered: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[start..<end])
    }

    /// Whether the buffer is full (so a head that has not ended yet is too large).
    var isFull: Bool { start == 0 && end == buffer.count }

    /// Marks `count` buffered bytes as consumed.
    func consume(_ count: Int) {
        start += count
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Aborts any blocked read or write from another thread (cancellation); the owner still closes.
    func shutdownBoth() {
        _ = shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// Closes the descriptor (once).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = closeDescriptor(descriptor)
    }

    private func failure(_ code: Int32, timeout: Duration, url: URL) -> PulpError {
        if code == EAGAIN || code == EWOULDBLOCK {
            return PulpError.download("timed out after \(timeout.secondsText)", url: url, transient: true)
        }
        return PulpError.download("connection failed: \(Self.errorText(code))", url: url, transient: true)
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    private struct Address {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    /// The addresses of `host` (an IPv4 literal without a look-up).
    private static func addresses(host: String, port: Int, url: URL) throws(PulpError) -> [Address] {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: v4) { raw.copyMemory(from: $0) }
            }
            return [Address(family: AF_INET, storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))]
        }
        var hints = addrinfo()
        hints.ai_socktype = socketStream
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            let reason = String(cString: gai_strerror(status))
            throw PulpError.download("cannot resolve \(host): \(reason)", url: url, transient: true)
        }
        defer { freeaddrinfo(list) }
        var result: [Address] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let address = current.pointee.ai_addr,
                current.pointee.ai_addrlen <= socklen_t(MemoryLayout<sockaddr_storage>.size)
            {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { raw in
                    raw.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen)))
                }
                result.append(
                    Address(family: current.pointee.ai_family, storage: storage, length: current.pointee.ai_addrlen)
                )
            }
            entry = current.pointee.ai_next
        }
        return result
    }
}

/// Idle keep-alive connections by `host:port`, at most a few per key.
final class ConnectionPool: Sendable {
    private let idle = PulpMutex([String: [SocketConnection]]())
    private let limitPerKey: Int

    init(limitPerKey: Int = 16) {
        self.limitPerKey = limitPerKey
    }

    /// An idle connection to `key` that still looks usable, if any (stale ones are closed).
    func take(_ key: String) -> SocketConnection? {
        while let connection = idle.withLock({ $0[key]?.popLast() }) {
            if connection.isReusable { return connection }
            connection.close()
        }
        return nil
    }

    /// Parks a connection whose last response was read completely, or closes it when the pool is full.
    func put(_ connection: SocketConnection) {
        let kept = idle.withLock { idle in
            guard idle[connection.key, default: []].count < limitPerKey else { return false }
            idle[connection.key, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes every idle connection.
    func closeAll() {
        let all = idle.withLock { idle in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }
}

#if canImport(Darwin)
private let socketStream = SOCK_STREAM
private func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    Darwin.send(descriptor, bytes, count, 0)
}
#else
private let socketStream = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
private func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    Glibc.send(descriptor, bytes, count, Int32(MSG_NOSIGNAL))
}
#endif

private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
