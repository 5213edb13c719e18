import Foundation

/// This program run again as a child process in another mode: how the crash and two-process runs get
/// processes they can kill, and fresh processes that share nothing with the parent but the files.
struct ChildProcess {
    private let process = Process()
    private let output = Pipe()

    /// Starts this executable with `arguments`; its standard error is the parent's, its output is captured.
    init(_ arguments: [String]) throws {
        process.executableURL = URL(
            fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        )
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
    }

    /// Whether it has not exited yet.
    var isRunning: Bool { process.isRunning }

    /// Kills it with SIGKILL (nothing of it runs after this) and waits for it to be gone.
    func kill() {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for it to exit; returns its exit status and what it printed.
    func finish() -> (status: Int32, output: String) {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether it ended by a signal rather than by exiting.
    var wasKilled: Bool { process.terminationReason == .uncaughtSignal }
}

/// The `name value` lines a child printed, as numbers by name.
func figures(in output: String) -> [String: Int] {
    var figures: [String: Int] = [:]
    for line in output.split(separator: "\n") {
        let fields = line.split(separator: " ")
        if fields.count >= 2, let value = Int(fields[1]) { figures[String(fields[0])] = value }
    }
    return figures
}

/// Prints one figure as `name value unit`, as pulpkit-bench does.
func report(_ name: String, _ value: Int, _ unit: String) {
    print("\(name) \(value) \(unit)")
}
