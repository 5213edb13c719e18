// pulpkit-bench: prints one `name value unit` line per figure of the chosen suite.
//
//     swift run -c release pulpkit-bench core
//     swift run -c release pulpkit-bench --smoke     # every suite at a tiny size, for CI
//     swift run -c release pulpkit-bench applicability --size large [--workload DIR] [--output FILE]

import Foundation

let suites: [(name: String, run: (BenchmarkContext) async throws -> Void)] = [
    ("core", runCoreBenchmarks),
    ("tasks", runTaskBenchmarks),
    ("sync", runSyncBenchmarks),
    ("schedule", runScheduleBenchmarks),
    ("applicability", runApplicabilityBenchmarks),
]

/// Options that take a value (`--size medium`); other `--` arguments are flags.
let valueOptions: Set = ["--size", "--workload", "--output", "--save-workload", "--feed", "--only", "--max-downloads"]
var options: [String: String] = [:]
var arguments: [String] = []
var remaining = Array(CommandLine.arguments.dropFirst())[...]
while let argument = remaining.popFirst() {
    if valueOptions.contains(argument) {
        guard let value = remaining.popFirst() else {
            FileHandle.standardError.write(Data("\(argument) needs a value\n".utf8))
            exit(2)
        }
        options[String(argument.dropFirst(2))] = value
    } else {
        arguments.append(argument)
    }
}
let smoke = arguments.contains("--smoke")
let requested = arguments.filter { !$0.hasPrefix("--") }
let unknown = requested.filter { name in !suites.contains { $0.name == name } }

guard unknown.isEmpty, smoke || !requested.isEmpty else {
    let names = suites.map(\.name).joined(separator: " | ")
    let usage = "usage: pulpkit-bench (\(names))... [--smoke] [--size medium|large] [--workload DIR] [--output FILE]"
    let more = " [--save-workload DIR] [--feed URL] [--only PARTS] [--max-downloads N]\n"
    FileHandle.standardError.write(Data((usage + more).utf8))
    exit(2)
}

let context = BenchmarkContext(smoke: smoke, options: options)
for suite in suites where requested.isEmpty || requested.contains(suite.name) {
    try await suite.run(context)
}
