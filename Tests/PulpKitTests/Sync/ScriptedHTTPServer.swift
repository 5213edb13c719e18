import Foundation
import PulpKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP server on 127.0.0.1 that answers each request with the next scripted reply, byte for byte:
/// for testing a client's framing, keep-alive, redirect, stall and error handling against exact responses.
final class ScriptedHTTPServer: @unchecked Sendable {
    // @unchecked: every mutable field is inside `state`, a `PulpMutex`; `listener` and `port` are immutable.

    /// What to do with one request.
    enum Reply: Sendable {
        /// Write these bytes, then keep the connection open for the next request (or close it).
        case send(String, close: Bool = false)
        /// Write these bytes and then nothing more, keeping the connection open until the server stops.
        case stall(String = "")
    }

    private struct State {
        var replies: [Reply]
        var requests: [String] = []
        var connections = 0
        var open: [Int32] = []
        var stopped = false
    }

    private let listener: Int32
    /// The port the server listens on.
    let port: Int
    private let state: PulpMutex<State>

    /// Starts serving `replies`, one per request in order; a request beyond them gets a 500 and a close.
    init(_ replies: [Reply]) throws {
        state = PulpMutex(State(replies: replies))
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 16) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        guard bound else { throw PulpError.internalError("cannot listen: \(String(cString: strerror(errno)))") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The URL of `path` on this server.
    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)/\(path)")! }

    /// The request heads received so far, in order.
    var requests: [String] { state.withLock { $0.requests } }

    /// How many connections were accepted.
    var connections: Int { state.withLock { $0.connections } }

    /// Stops accepting and shuts every open connection down (their threads close them).
    ///
    /// Descriptors are shut down and closed only under the lock, and leave `open` as they are closed, so a
    /// number the process has reused for another socket is never touched.
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for descriptor in state.open { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    deinit { stop() }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            let stopped = state.withLock { state in
                if !state.stopped {
                    state.connections += 1
                    state.open.append(connection)
                }
                return state.stopped
            }
            if stopped {
                close(connection)
                return
            }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer {
            state.withLock { state in
                state.open.removeAll { $0 == connection }
                close(connection)
            }
        }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            guard let end = findHeadEnd(pending) else {
                let count = read(connection, &buffer, buffer.count)
                if count <= 0 { return }
                pending += buffer[..<count]
                continue
            }
            let head = String(decoding: pending[..<end], as: UTF8.self)
            pending.removeFirst(end)
            let reply: Reply = state.withLock { state in
                state.requests.append(head)
                return state.replies.isEmpty
                    ? .send("HTTP/1.1 500 Unscripted\r\nContent-Length: 0\r\n\r\n", close: true)
                    : state.replies.removeFirst()
            }
            switch reply {
            case .send(let text, let close):
                write(connection, text)
                if close { return }
            case .stall(let text):
                write(connection, text)
                while read(connection, &buffer, buffer.count) > 0 {}
                return
            }
        }
    }

    private func write(_ connection: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { raw in
                send(connection, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return }
            sent += count
        }
    }

    private func findHeadEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 3..<bytes.count where bytes[index - 3...index].elementsEqual([13, 10, 13, 10]) {
            return index + 1
        }
        return nil
    }
}
