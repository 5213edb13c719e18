// pulpkit-bench: prints one `name value unit` line per figure of the chosen suite.
//
//     swift run -c release pulpkit-bench core
//     swift run -c release pulpkit-bench --smoke     # every suite at a tiny size, for CI

import Foundation

let suites: [(name: String, run: (BenchmarkContext) async throws -> Void)] = [
    ("core", runCoreBenchmarks),
    ("tasks", runTaskBenchmarks),
    ("sync", runSyncBenchmarks),
    ("schedule", runScheduleBenchmarks),
]

let arguments = Array(CommandLine.arguments.dropFirst())
let smoke = arguments.contains("--smoke")
let requested = arguments.indices.filter { index in
    !arguments[index].hasPrefix("--") && (index == 0 || !BenchmarkContext.valuedOptions.contains(arguments[index - 1]))
}.map { arguments[$0] }
let unknown = requested.filter { name in !suites.contains { $0.name == name } }

guard unknown.isEmpty, smoke || !requested.isEmpty else {
    let names = suites.map(\.name).joined(separator: " | ")
    FileHandle.standardError.write(Data("usage: pulpkit-bench (\(names))... [--smoke] [--feed URL]\n".utf8))
    exit(2)
}

let context = BenchmarkContext(smoke: smoke)
for suite in suites where requested.isEmpty || requested.contains(suite.name) {
    try await suite.run(context)
}
