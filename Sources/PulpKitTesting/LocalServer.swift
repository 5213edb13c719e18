public import Foundation
import PulpKit

/// A Python process serving on a port of 127.0.0.1 that it chose and printed: `python3 -m http.server` over a
/// folder, or any script that prints `port N`; stopped by ``stop()``.
public final class LocalServer {
    /// The path of `python3` on `PATH`, if there is one: tests that need a server are skipped without it.
    public static let python3Path: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    private let process = Process()
    /// The port the server listens on.
    public let port: Int

    /// Serves the files of `directory` over HTTP with `python3 -m http.server`: by default as HTTP/1.0, one
    /// request per connection; with `httpVersion` `"HTTP/1.1"`, keeping connections alive.
    public static func serving(_ directory: URL, httpVersion: String = "HTTP/1.0") throws -> LocalServer {
        // `--protocol` is Python 3.11's; HTTP/1.0 is the default of every version.
        let version = httpVersion == "HTTP/1.0" ? [] : ["--protocol", httpVersion]
        let arguments = ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory.path]
        return try LocalServer(arguments + version)
    }

    /// Starts `python3 -u arguments` and waits (up to 10 s) for a stdout line containing `port N`.
    ///
    /// - Throws: a ``PulpError`` when python3 is missing or the process prints no port.
    public init(_ arguments: [String]) throws {
        guard let python3 = Self.python3Path else { throw PulpError.internalError("python3 is not installed") }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: python3)
        process.arguments = ["-u"] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        var found: Int?
        let deadline = Date().addingTimeInterval(10)
        while found == nil, Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let range = text.range(of: #"port (\d+)"#, options: .regularExpression) {
                found = Int(text[range].dropFirst(5))
            }
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw PulpError.internalError("the Python server printed no port: \(text)")
        }
        port = found
    }

    /// The URL of `path` on this server.
    public func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)/\(path)")! }

    /// Kills the server with SIGKILL: the child inherits the test process's blocked SIGTERM, so `terminate()`
    /// does not stop it, and `waitUntilExit()` spins forever inside a Swift task on Linux; Foundation reaps it.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
    }
}
