import Foundation
import PulpKit
import Testing

/// Streams `request` through `transport` and returns the body and the response.
private func fetch(
    _ transport: SocketHTTPTransport,
    _ request: DownloadRequest
) async throws -> (body: String, response: DownloadResponse) {
    var bytes: [UInt8] = []
    let response = try await transport.stream(request) { bytes.append(contentsOf: $0) }
    return (String(decoding: bytes, as: UTF8.self), response)
}

private func ok(_ body: String, _ extra: String = "") -> String {
    "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
}

@Suite("Socket HTTP transport")
struct SocketHTTPTransportTests {
    @Test
    func sendsAMinimalGETWithHostPathQueryAndCredentials() async throws {
        let server = try ScriptedHTTPServer([.send(ok("hello"))])
        defer { server.stop() }
        let transport = SocketHTTPTransport()
        let request = DownloadRequest(
            url: server.url("dir/a%20b.iso?x=1"),
            credentials: BasicCredentials(username: "u", password: "p")
        )
        let (body, response) = try await fetch(transport, request)
        #expect(body == "hello")
        #expect(response == DownloadResponse(statusCode: 200, expectedContentLength: 5))
        let head = try #require(server.requests.first)
        #expect(head.hasPrefix("GET /dir/a%20b.iso?x=1 HTTP/1.1\r\n"))
        #expect(head.contains("\r\nHost: 127.0.0.1:\(server.port)\r\n"))
        #expect(head.contains("\r\nAuthorization: Basic dTpw\r\n"))
    }

    @Test
    func reusesAKeptAliveConnection() async throws {
        let server = try ScriptedHTTPServer([.send(ok("one")), .send(ok("two"))])
        defer { server.stop() }
        let transport = SocketHTTPTransport()
        #expect(try await fetch(transport, DownloadRequest(url: server.url("1"))).body == "one")
        #expect(try await fetch(transport, DownloadRequest(url: server.url("2"))).body == "two")
        #expect(server.connections == 1)
    }

    @Test
    func retriesOnANewConnectionWhenTheServerDroppedAnIdleOne() async throws {
        // The first reply promises keep-alive, but the server closes; the next request must not fail.
        let server = try ScriptedHTTPServer([.send(ok("one"), close: true), .send(ok("two"))])
        defer { server.stop() }
        let transport = SocketHTTPTransport()
        #expect(try await fetch(transport, DownloadRequest(url: server.url("1"))).body == "one")
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await fetch(transport, DownloadRequest(url: server.url("2"))).body == "two")
        #expect(server.connections == 2)
    }

    @Test
    func readsChunkedBodiesWithExtensionsAndTrailers() async throws {
        let chunked =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
        let server = try ScriptedHTTPServer([.send(chunked), .send(ok("next"))])
        defer { server.stop() }
        let transport = SocketHTTPTransport()
        let (body, response) = try await fetch(transport, DownloadRequest(url: server.url("c")))
        #expect(body == "hello, world")
        #expect(response.expectedContentLength == nil)
        #expect(try await fetch(transport, DownloadRequest(url: server.url("n"))).body == "next")
        #expect(server.connections == 1)
    }

    @Test
    func readsAnHTTP10BodyUntilTheServerCloses() async throws {
        let server = try ScriptedHTTPServer([.send("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it", close: true)])
        defer { server.stop() }
        let (body, response) = try await fetch(SocketHTTPTransport(), DownloadRequest(url: server.url("old")))
        #expect(body == "all of it")
        #expect(response.statusCode == 200)
    }

    @Test
    func followsRedirectsAndBoundsThem() async throws {
        let server = try ScriptedHTTPServer([
            .send("HTTP/1.1 302 Found\r\nLocation: /moved/b.iso\r\nContent-Length: 0\r\n\r\n"),
            .send(ok("moved")),
        ])
        defer { server.stop() }
        let (body, _) = try await fetch(SocketHTTPTransport(), DownloadRequest(url: server.url("a.iso")))
        #expect(body == "moved")
        #expect(server.requests.last?.hasPrefix("GET /moved/b.iso HTTP/1.1") == true)

        let loop = "HTTP/1.1 301 Moved\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"
        let looping = try ScriptedHTTPServer(Array(repeating: .send(loop), count: 4))
        defer { looping.stop() }
        let error = await #expect(throws: PulpError.self) {
            try await fetch(SocketHTTPTransport(maximumRedirects: 2), DownloadRequest(url: looping.url("x")))
        }
        #expect(error?.message.contains("more than 2 redirects") == true)
        #expect(error?.isTransient == false)
    }

    @Test(arguments: [(404, "Not Found", false), (503, "Service Unavailable", true), (429, "Too Many", true)])
    func unsuccessfulStatusesAreDownloadErrors(status: Int, reason: String, transient: Bool) async throws {
        let server = try ScriptedHTTPServer([.send("HTTP/1.1 \(status) \(reason)\r\nContent-Length: 3\r\n\r\nno!")])
        defer { server.stop() }
        let url = server.url("missing.iso")
        let error = await #expect(throws: PulpError.self) {
            try await fetch(SocketHTTPTransport(), DownloadRequest(url: url))
        }
        #expect(error?.message == "\(url.absoluteString): HTTP \(status) \(reason)")
        #expect(error?.data["upstream_status"] == .int(status))
        #expect(error?.isTransient == transient)
    }

    @Test
    func aStalledResponseTimesOut() async throws {
        let server = try ScriptedHTTPServer([.stall("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")])
        defer { server.stop() }
        let url = server.url("slow")
        let error = await #expect(throws: PulpError.self) {
            try await fetch(SocketHTTPTransport(), DownloadRequest(url: url, timeout: .milliseconds(300)))
        }
        #expect(error?.message == "\(url.absoluteString): timed out after 0.3 s")
        #expect(error?.isTransient == true)
    }

    @Test
    func aBodyCutShortIsATransientError() async throws {
        let server = try ScriptedHTTPServer([.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close: true)])
        defer { server.stop() }
        let error = await #expect(throws: PulpError.self) {
            try await fetch(SocketHTTPTransport(), DownloadRequest(url: server.url("short")))
        }
        #expect(error?.message.hasSuffix("connection closed after 3 of 10 bytes") == true)
        #expect(error?.isTransient == true)
    }

    @Test
    func oversizedAndMalformedHeadsAreRefused() async throws {
        let huge = "HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n"
        let server = try ScriptedHTTPServer([.stall(huge), .send("HTTP/1.1 2OO OK\r\n\r\n", close: true)])
        defer { server.stop() }
        let transport = SocketHTTPTransport()
        let oversize = await #expect(throws: PulpError.self) {
            try await fetch(transport, DownloadRequest(url: server.url("big")))
        }
        #expect(oversize?.message.hasSuffix("HTTP response head larger than 65536 bytes") == true)
        let malformed = await #expect(throws: PulpError.self) {
            try await fetch(transport, DownloadRequest(url: server.url("bad")))
        }
        #expect(malformed?.message.hasSuffix("malformed HTTP status line 'HTTP/1.1 2OO OK'") == true)
    }

    @Test
    func aRefusedConnectionIsTransient() async throws {
        let server = try ScriptedHTTPServer([])
        let url = server.url("gone")
        server.stop()
        let error = await #expect(throws: PulpError.self) {
            try await fetch(SocketHTTPTransport(), DownloadRequest(url: url))
        }
        #expect(error?.message.contains("connection failed") == true)
        #expect(error?.isTransient == true)
    }

    @Test
    func errorsFromTheSinkAreRethrownUnchanged() async throws {
        struct Full: Error {}
        let server = try ScriptedHTTPServer([.send(ok("data"))])
        defer { server.stop() }
        await #expect(throws: Full.self) {
            try await SocketHTTPTransport().stream(DownloadRequest(url: server.url("x"))) { _ in throw Full() }
        }
    }

    @Test
    func cancellingAbortsABlockedTransfer() async throws {
        let server = try ScriptedHTTPServer([.stall("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")])
        defer { server.stop() }
        let transport = SocketHTTPTransport()
        let url = server.url("slow")
        let task = Task { try await fetch(transport, DownloadRequest(url: url)) }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let started = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test
    func httpsGoesToTheOtherTransport() async throws {
        struct Recorder: HTTPTransport {
            func stream(
                _ request: DownloadRequest,
                into sink: (UnsafeRawBufferPointer) throws -> Void
            ) async throws -> DownloadResponse {
                try Array(request.url.absoluteString.utf8).withUnsafeBytes { try sink($0) }
                return DownloadResponse(statusCode: 200)
            }
        }
        let transport = SocketHTTPTransport(https: Recorder())
        let (body, _) = try await fetch(transport, DownloadRequest(url: URL(string: "https://example.com/a")!))
        #expect(body == "https://example.com/a")
    }
}
