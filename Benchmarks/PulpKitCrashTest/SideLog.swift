import Foundation

/// The side log of a crash run: one line per write the API acknowledged, appended by every writer child.
///
/// A line is appended only after the call that made the write returned, with one `write(2)` on a file
/// opened `O_APPEND`: a SIGKILL lands before the line or after it, never inside it. The log is not fsynced:
/// the run kills processes, not the machine, so the kernel keeps what `write` took.
struct SideLog: Sendable {
    /// The log file.
    let path: String
    private let descriptor: Int32

    /// Opens (creating) the log for appending.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CrashTestError("cannot open the side log \(path): \(errnoText())") }
    }

    /// Appends one record: its fields separated by spaces (no field holds a space or a newline).
    func append(_ fields: String...) {
        let line = Array((fields.joined(separator: " ") + "\n").utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written != line.count { fatalError("short write to the side log \(path): \(errnoText())") }
    }

    /// The complete records of the log at `path`, in order; a last line without its newline is left out.
    static func records(at path: String) throws -> [[Substring]] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // After the last newline: empty, or a torn line.
        return lines.map { $0.split(separator: " ") }
    }
}

/// A failure of the crash test itself (not of PulpKit), with what went wrong.
struct CrashTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `strerror(errno)` as a string.
func errnoText() -> String { String(cString: strerror(errno)) }
