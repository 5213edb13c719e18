import Foundation

/// The status line and the headers of an HTTP/1.x response, and how its body is delimited.
///
/// A pure value parsed from bytes, so the framing rules are unit-tested without a socket.
struct HTTPResponseHead: Sendable, Hashable {
    /// How the body of a response ends (RFC 9112 §6.3).
    enum Framing: Sendable, Hashable {
        /// No body at all (1xx, 204, 304).
        case empty
        /// Exactly this many bytes (`Content-Length`).
        case length(Int64)
        /// `Transfer-Encoding: chunked`.
        case chunked
        /// Everything until the server closes the connection (no length given).
        case untilClose
    }

    /// The largest head accepted, status line and headers together.
    static let maximumSize = 64 << 10

    /// The status code, e.g. 200.
    var status: Int
    /// The reason phrase as the server sent it (may be empty).
    var reason: String
    /// The minor version of `HTTP/1.x`.
    var minorVersion: Int
    /// The headers in the order received, names lowercased.
    var headers: [(name: String, value: String)]
    /// How the body is delimited.
    var framing: Framing
    /// Whether the connection may carry another request once this response's body is read.
    var keepAlive: Bool

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.minorVersion == rhs.minorVersion
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 }) && lhs.framing == rhs.framing
            && lhs.keepAlive == rhs.keepAlive
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        hasher.combine(framing)
    }

    /// The value of the first header called `name` (lowercase), if any.
    func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The length of the head at the start of `bytes` (through the blank line), or `nil` if it is incomplete.
    static func headLength(in bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 1
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if bytes[index - 1] == 0x0A { return index + 1 }
                if index >= 2, bytes[index - 1] == 0x0D, bytes[index - 2] == 0x0A { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    /// Parses a complete head (as measured by ``headLength(in:)``) of a response to a `GET`.
    ///
    /// - Throws: a ``PulpError`` for `url` naming what is malformed (status line, header line, length).
    init(parsing bytes: UnsafeRawBufferPointer, url: URL) throws(PulpError) {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else {
            throw PulpError.download("malformed HTTP response: empty head", url: url, transient: true)
        }
        let text = String(decoding: statusLine, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].count == 8,
            let minor = parts[0].last?.wholeNumberValue, parts[1].count == 3,
            let status = Int(parts[1]), (100...999).contains(status)
        else {
            throw PulpError.download(
                "malformed HTTP status line '\(text.prefix(80))'",
                url: url,
                transient: true
            )
        }
        self.status = status
        self.minorVersion = minor
        self.reason = parts.count > 2 ? String(parts[2]) : ""
        headers = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                !line[..<colon].contains(where: { $0 == 0x20 || $0 == 0x09 })
            else {
                throw PulpError.download(
                    "malformed HTTP header line '\(String(decoding: line.prefix(80), as: UTF8.self))'",
                    url: url,
                    transient: true
                )
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        let connection = headers.filter { $0.name == "connection" }.map { $0.value.lowercased() }
        let closes = connection.contains { $0.contains("close") }
        keepAlive = minor >= 1 ? !closes : connection.contains { $0.contains("keep-alive") }
        let encodings = headers.filter { $0.name == "transfer-encoding" }.map { $0.value.lowercased() }
        if status < 200 || status == 204 || status == 304 {
            framing = .empty
        } else if !encodings.isEmpty {
            guard encodings.last?.split(separator: ",").last?.trimmingCharacters(in: .whitespaces) == "chunked"
            else {
                throw PulpError.download(
                    "unsupported Transfer-Encoding '\(encodings.joined(separator: ", "))'",
                    url: url,
                    transient: false
                )
            }
            framing = .chunked
        } else if case let lengths = headers.filter({ $0.name == "content-length" }), !lengths.isEmpty {
            let values = Set(
                lengths.flatMap { $0.value.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            )
            guard values.count == 1, let value = values.first, !value.isEmpty, value.allSatisfy(\.isASCII),
                value.allSatisfy(\.isNumber), let length = Int64(value)
            else {
                throw PulpError.download(
                    "malformed Content-Length '\(lengths.map(\.value).joined(separator: ", ").prefix(80))'",
                    url: url,
                    transient: true
                )
            }
            framing = .length(length)
        } else {
            framing = .untilClose
            keepAlive = false
        }
    }
}

/// Decodes a `Transfer-Encoding: chunked` body fed in arbitrary pieces: a state machine that hands out the
/// data bytes and says when the last chunk and the trailers have been read.
struct ChunkedDecoder: Sendable {
    private enum State: Sendable {
        case size(value: UInt64, digits: Int, inExtension: Bool)
        case sizeLineFeed(value: UInt64)
        case data(remaining: UInt64)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine
        case trailerLineFeed(empty: Bool)
        case done
    }

    private var state = State.size(value: 0, digits: 0, inExtension: false)

    /// The longest trailer or extension text accepted before the body is called malformed.
    private var lineBytes = 0
    private static let maximumLine = 8 << 10

    /// Whether the terminating chunk and its trailers have been read.
    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes `bytes`, passing each run of body data to `emit`; returns how many bytes were consumed
    /// (fewer than given only once the body is done: the rest belongs to the next response).
    ///
    /// - Throws: a ``PulpError`` for `url` when the framing is malformed, or whatever `emit` throws.
    mutating func feed(
        _ bytes: UnsafeRawBufferPointer,
        url: URL,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var index = 0
        func malformed(_ what: String) -> PulpError {
            PulpError.download("malformed chunked body: \(what)", url: url, transient: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .size(let value, let digits, let inExtension):
                if byte == 0x0D {
                    guard digits > 0 else { throw malformed("missing chunk size") }
                    state = .sizeLineFeed(value: value)
                } else if byte == 0x0A {
                    guard digits > 0 else { throw malformed("missing chunk size") }
                    try startChunk(value)
                } else if inExtension {
                    lineBytes += 1
                    guard lineBytes <= Self.maximumLine else { throw malformed("chunk extension too long") }
                } else if let digit = Self.hexValue(byte) {
                    guard digits < 15 else { throw malformed("chunk size too large") }
                    state = .size(value: value << 4 | UInt64(digit), digits: digits + 1, inExtension: false)
                } else if byte == UInt8(ascii: ";") || byte == 0x20 || byte == 0x09, digits > 0 {
                    lineBytes = 0
                    state = .size(value: value, digits: digits, inExtension: true)
                } else {
                    throw malformed("invalid chunk size byte 0x\(String(byte, radix: 16))")
                }
                index += 1
            case .sizeLineFeed(let value):
                guard byte == 0x0A else { throw malformed("chunk size line not ended by CRLF") }
                try startChunk(value)
                index += 1
            case .data(let remaining):
                let available = UInt64(bytes.count - index)
                let take = Int(min(remaining, available))
                try emit(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                let left = remaining - UInt64(take)
                state = left == 0 ? .dataCR : .data(remaining: left)
            case .dataCR:
                if byte == 0x0D {
                    state = .dataLF
                } else if byte == 0x0A {
                    state = .size(value: 0, digits: 0, inExtension: false)
                } else {
                    throw malformed("chunk data not followed by CRLF")
                }
                index += 1
            case .dataLF:
                guard byte == 0x0A else { throw malformed("chunk data not followed by CRLF") }
                state = .size(value: 0, digits: 0, inExtension: false)
                index += 1
            case .trailerLineStart:
                if byte == 0x0D {
                    state = .trailerLineFeed(empty: true)
                } else if byte == 0x0A {
                    state = .done
                } else {
                    lineBytes = 1
                    state = .trailerLine
                }
                index += 1
            case .trailerLine:
                if byte == 0x0D {
                    state = .trailerLineFeed(empty: false)
                } else if byte == 0x0A {
                    state = .trailerLineStart
                } else {
                    lineBytes += 1
                    guard lineBytes <= Self.maximumLine else { throw malformed("trailer too long") }
                }
                index += 1
            case .trailerLineFeed(let empty):
                guard byte == 0x0A else { throw malformed("trailer line not ended by CRLF") }
                state = empty ? .done : .trailerLineStart
                index += 1
            case .done:
                return index
            }
        }
        return index
    }

    private mutating func startChunk(_ size: UInt64) throws(PulpError) {
        state = size == 0 ? .trailerLineStart : .data(remaining: size)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
