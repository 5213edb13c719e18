import Foundation
import Testing

@testable import PulpKit

private let url = URL(string: "http://feed.example/a.iso")!

private func head(_ text: String) throws -> HTTPResponseHead {
    try Array(text.utf8).withUnsafeBytes { try HTTPResponseHead(parsing: $0, url: url) }
}

private func headLength(_ text: String) -> Int? {
    Array(text.utf8).withUnsafeBytes { HTTPResponseHead.headLength(in: $0) }
}

/// Decodes `body` fed in pieces of `piece` bytes; returns the data and how many bytes were left over.
private func decodeChunked(_ body: String, piece: Int) throws -> (data: String, leftover: Int, done: Bool) {
    var decoder = ChunkedDecoder()
    var data: [UInt8] = []
    let bytes = Array(body.utf8)
    var offset = 0
    while offset < bytes.count, !decoder.isDone {
        let end = min(bytes.count, offset + piece)
        let given = end - offset
        let used = try bytes[offset..<end].withUnsafeBytes { raw in
            try decoder.feed(raw, url: url) { data.append(contentsOf: $0) }
        }
        offset += used
        if used < given { break }
    }
    return (String(decoding: data, as: UTF8.self), bytes.count - offset, decoder.isDone)
}

@Suite("HTTP framing")
struct HTTPFramingTests {
    @Test
    func parsesStatusReasonAndHeaders() throws {
        let parsed = try head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-Name:  spaced value \r\n\r\n")
        #expect(parsed.status == 200 && parsed.reason == "OK" && parsed.minorVersion == 1)
        #expect(parsed.header("x-name") == "spaced value")
        #expect(parsed.framing == .length(12))
        #expect(parsed.keepAlive)
    }

    @Test
    func keepAliveFollowsTheVersionAndConnectionHeader() throws {
        #expect(try !head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keepAlive)
        #expect(try !head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive)
        #expect(try head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keepAlive)
        // Without a length the body ends at the close: never reusable.
        let open = try head("HTTP/1.1 200 OK\r\n\r\n")
        #expect(open.framing == .untilClose && !open.keepAlive)
    }

    @Test
    func chooseTheBodyFraming() throws {
        let both = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n"
        #expect(try head(both).framing == .chunked)
        #expect(try head("HTTP/1.1 204 No Content\r\n\r\n").framing == .empty)
        #expect(try head("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").framing == .empty)
        #expect(try head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n").framing == .length(7))
        #expect(try head("HTTP/1.1 200 OK\nContent-Length: 3\n\n").framing == .length(3))
    }

    @Test(arguments: [
        ("HTTP/2 200 OK\r\n\r\n", "malformed HTTP status line 'HTTP/2 200 OK'"),
        ("HTTP/1.1 20 OK\r\n\r\n", "malformed HTTP status line 'HTTP/1.1 20 OK'"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed HTTP header line 'no colon here'"),
        ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "malformed HTTP header line 'Bad Name: x'"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "malformed Content-Length '5, 6'"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed Content-Length '-1'"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding 'gzip'"),
    ])
    func malformedHeadsAreDownloadErrorsSayingWhat(text: String, reason: String) throws {
        let error = #expect(throws: PulpError.self) { try head(text) }
        #expect(error?.message == "\(url.absoluteString): \(reason)")
        #expect(error?.code == .downloadFailed)
    }

    @Test
    func findsTheEndOfAHead() {
        #expect(headLength("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody") == 25)
        #expect(headLength("HTTP/1.1 200 OK\nA: b\n\nbody") == 22)
        #expect(headLength("HTTP/1.1 200 OK\r\nA: b\r\n") == nil)
        #expect(headLength("") == nil)
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func decodesChunkedBodiesFedInAnyPieces(piece: Int) throws {
        let body = "4\r\nWiki\r\nB;ext=1\r\npedia is fu\r\n1\r\nn\r\n0\r\nTrailer: x\r\n\r\nNEXT"
        let decoded = try decodeChunked(body, piece: piece)
        #expect(decoded.data == "Wikipedia is fun")
        #expect(decoded.done)
        #expect(decoded.leftover == 4)
    }

    @Test(arguments: [
        ("Z\r\nabc\r\n0\r\n\r\n", "invalid chunk size byte 0x5a"),
        ("\r\n", "missing chunk size"),
        ("3\r\nabcX\r\n0\r\n\r\n", "chunk data not followed by CRLF"),
        ("1234567890abcdef0\r\n", "chunk size too large"),
        ("3\rabc", "chunk size line not ended by CRLF"),
    ])
    func malformedChunkedBodiesAreErrors(body: String, reason: String) throws {
        let error = #expect(throws: PulpError.self) { try decodeChunked(body, piece: 1000) }
        #expect(error?.message == "\(url.absoluteString): malformed chunked body: \(reason)")
        #expect(error?.isTransient == true)
    }
}
