// pulpkit-crashtest: kills a process that writes to PulpKit's SQLite stores and checks what survived, and
// runs two processes on one store. Prints one `name value unit` line per figure; exits 1 on any violation.
//
//     swift run -c release pulpkit-crashtest --iterations 200 [--directory DIR]
//     swift run -c release pulpkit-crashtest --two-processes [--directory DIR]
//
// `--writer`, `--verify` and `--worker` are the modes the parent runs its children in.

import Foundation

let valueOptions: Set = ["--iterations", "--directory", "--writer", "--verify", "--log", "--worker", "--role"]
var options: [String: String] = [:]
var flags: Set<String> = []
var remaining = Array(CommandLine.arguments.dropFirst())[...]
while let argument = remaining.popFirst() {
    if valueOptions.contains(argument) {
        guard let value = remaining.popFirst() else {
            warn("\(argument) needs a value")
            exit(2)
        }
        options[String(argument.dropFirst(2))] = value
    } else {
        flags.insert(argument)
    }
}

/// The directory given with `--directory`, or a new temporary one.
func workDirectory(_ given: String?) throws -> URL {
    let url =
        given.map { URL(fileURLWithPath: $0, isDirectory: true) }
        ?? FileManager.default.temporaryDirectory.appendingPathComponent(
            "pulpkit-crashtest-\(UUID().uuidString.lowercased())",
            isDirectory: true
        )
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

if let data = options["writer"], let log = options["log"] {
    try await CrashWriter(directory: URL(fileURLWithPath: data, isDirectory: true), log: SideLog(path: log)).run()
} else if let data = options["verify"], let log = options["log"] {
    let findings = await CrashVerifier(directory: URL(fileURLWithPath: data, isDirectory: true), logPath: log).run()
    for problem in findings.problems.prefix(20) { warn(problem) }
    print("open_failures \(findings.openFailed ? 1 : 0)")
    print("lost_writes \(findings.lostWrites)")
    print("torn_files \(findings.tornFiles)")
    print("acknowledged \(findings.acknowledged)")
} else if let data = options["worker"], let role = options["role"], let log = options["log"] {
    try await TwoProcesses.work(
        directory: URL(fileURLWithPath: data, isDirectory: true),
        role: role,
        log: SideLog(path: log)
    )
} else if flags.contains("--two-processes") {
    let directory = try workDirectory(options["directory"])
    let start = ContinuousClock.now
    let passed = try await TwoProcesses.run(in: directory)
    warn("two processes done in \(ContinuousClock.now - start), in \(directory.path)")
    exit(passed ? 0 : 1)
} else if let iterations = options["iterations"].flatMap(Int.init), iterations > 0 {
    let directory = try workDirectory(options["directory"])
    let start = ContinuousClock.now
    let totals = try CrashLoop(iterations: iterations, workDirectory: directory).run()
    report("crash.iterations", totals.iterations, "iterations")
    report("crash.lost_writes", totals.lostWrites, "writes")
    report("crash.open_failures", totals.openFailures, "opens")
    report("crash.torn_files", totals.tornFiles, "files")
    warn("\(totals.acknowledged) acknowledged writes checked in \(ContinuousClock.now - start), in \(directory.path)")
    exit(totals.lostWrites + totals.openFailures + totals.tornFiles == 0 ? 0 : 1)
} else {
    warn("usage: pulpkit-crashtest --iterations N [--directory DIR] | --two-processes [--directory DIR]")
    exit(2)
}
