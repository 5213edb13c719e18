import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads `file://` URLs with `open`/`read` in fixed-size chunks, which `URLSession` cannot do on Linux.
///
/// A missing or unreadable file is a permanent error naming the path. Reads are local and short, so they run
/// on the calling thread; cancellation is checked between chunks.
public struct FileTransport: HTTPTransport {
    /// The number of bytes read per `read(2)` call.
    public var chunkSize: Int

    /// Creates a transport reading `chunkSize` bytes at a time (256 KiB by default).
    public init(chunkSize: Int = 256 * 1024) {
        self.chunkSize = max(1, chunkSize)
    }

    public func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        let url = request.url
        guard url.isFileURL else {
            throw PulpError.invalid("feed", "FileTransport reads only file URLs, not \(PulpError.redacted(url))")
        }
        try Task.checkCancellation()
        let path = url.path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw PulpError.download("cannot open \(path): \(Self.errorText(code))", url: url, transient: false)
        }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw PulpError.download("cannot read \(path): it is a directory", url: url, transient: false)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try Task.checkCancellation()
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 {
                try sink(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            } else if count == 0 {
                return DownloadResponse(statusCode: nil, expectedContentLength: Int64(status.st_size))
            } else if errno != EINTR {
                let code = errno
                throw PulpError.download("cannot read \(path): \(Self.errorText(code))", url: url, transient: false)
            }
        }
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// Sends `file` URLs to one transport and `http`/`https` URLs to another; any other scheme is a 400 naming `feed`.
public struct RoutingTransport: HTTPTransport {
    /// The transport for `file` URLs.
    public var file: any HTTPTransport
    /// The transport for `http` and `https` URLs.
    public var http: any HTTPTransport

    /// Creates a router; by default `file` URLs are read directly, `http` goes over sockets
    /// (``SocketHTTPTransport``) and `https` through `URLSession`.
    public init(file: any HTTPTransport = FileTransport(), http: any HTTPTransport = SocketHTTPTransport()) {
        self.file = file
        self.http = http
    }

    public func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse {
        switch request.url.scheme?.lowercased() {
        case "file": try await file.stream(request, into: sink)
        case "http", "https": try await http.stream(request, into: sink)
        default:
            throw PulpError.invalid(
                "feed",
                "unsupported URL scheme in \(PulpError.redacted(request.url)); use file, http or https"
            )
        }
    }
}
