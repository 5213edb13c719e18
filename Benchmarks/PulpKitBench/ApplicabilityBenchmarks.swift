import Foundation
import PulpKit
import PulpKitTesting
import PulpRPM

/// `applicability`: full regeneration, regeneration after a repository update, the query for every consumer,
/// EVR comparisons per second and peak memory, on a generated (`--size medium|large`) or loaded
/// (`--workload DIR`) workload. `--output FILE` writes the query's answer; `--save-workload DIR` writes the
/// generated workload in the directory format.
func runApplicabilityBenchmarks(_ context: BenchmarkContext) async throws {
    let size: String
    var workload: ApplicabilityWorkload
    if let directory = context.options["workload"] {
        size = "workload"
        workload = try ApplicabilityWorkload.load(from: URL(fileURLWithPath: directory))
    } else {
        let requested = context.smoke ? "smoke" : context.options["size"] ?? "medium"
        let shapes = ["medium": WorkloadShape.medium, "large": .large, "smoke": .smoke]
        guard let shape = shapes[requested] else {
            throw PulpError.invalid("size", "must be medium or large, got '\(requested)'")
        }
        size = context.smoke ? "medium" : requested
        var generator = WorkloadGenerator(shape: shape)
        workload = try generator.generate()
    }
    if let directory = context.options["save-workload"] {
        try workload.save(to: URL(fileURLWithPath: directory))
    }
    note(
        "\(workload.repositories.count) repositories, \(workload.rpmCount) rpms, \(workload.erratumCount) errata, "
            + "\(workload.profiles.count) profiles, \(workload.consumers.count) consumers"
    )

    let repositories = InMemoryRepositoryStore()
    let content = InMemoryContentStore()
    let consumers = InMemoryConsumerStore()
    let dispatcher = TaskDispatcher(store: InMemoryTaskStore(), configuration: .init(pollInterval: .milliseconds(1)))
    let engine = ApplicabilityEngine(
        consumers: consumers,
        repositories: repositories,
        content: content,
        store: InMemoryApplicabilityStore(),
        dispatcher: dispatcher
    )
    try engine.register(RPMApplicabilityCalculator())
    let editor = RepositoryContentEditor(repositories: repositories, content: content)
    try await load(workload, into: engine, editor: editor)
    let update = workload.update
    let evrSample = evrPairs(from: workload)
    workload = ApplicabilityWorkload(repositories: [], profiles: [], consumers: [], update: nil)

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        defer { group.cancelAll() }

        var cpu = processCPUSeconds()
        let regeneration = try await measureAsync {
            let report = try await engine.regenerate(consumers: Criteria())
            let status = try await dispatcher.waitForCompletion(of: report.taskID!)
            guard status.state == .finished else { throw PulpError.internalError("regeneration: \(status.json)") }
            note("full regeneration: \(status.result.encoded())")
        }
        note("full regeneration used \(processCPUSeconds() - cpu) s of CPU")
        context.report("applicability.\(size).regenerate.seconds", regeneration, "s")

        if let update, !update.units.isEmpty {
            try await editor.add(update.units, to: update.id)
            cpu = processCPUSeconds()
            let refresh = try await measureAsync {
                guard
                    case .task(let report) = try await engine.regenerate(
                        repositories: try Criteria(filters: ["id": .string(update.id.rawValue)])
                    )
                else { return }
                let status = try await dispatcher.waitForCompletion(of: report.taskID!)
                guard status.state == .finished else { throw PulpError.internalError("refresh: \(status.json)") }
                note("after \(update.units.count) new rpms in \(update.id): \(status.result.encoded())")
            }
            note("repository regeneration used \(processCPUSeconds() - cpu) s of CPU")
            context.report("applicability.\(size).repo_regenerate.seconds", refresh, "s")
        }

        var reports: [ApplicabilityReport] = []
        cpu = processCPUSeconds()
        var times: [Double] = []
        for _ in 0..<3 {
            times.append(try await measureAsync { reports = try await engine.query(consumers: Criteria()) })
        }
        let query = times.sorted()[1]
        note("three queries used \(processCPUSeconds() - cpu) s of CPU")
        let unitCount = reports.reduce(0) { $0 + $1.applicability.values.reduce(0) { $0 + $1.count } }
        note("query: \(reports.count) reports, \(unitCount) unit ids")
        context.report("applicability.\(size).query.seconds", query, "s")

        if let output = context.options["output"] {
            try Data(ApplicabilityReport.json(reports).encoded().utf8).write(to: URL(fileURLWithPath: output))
        }
    }

    context.report(
        "applicability.evr.comparisons_per_s",
        evrComparisonsPerSecond(evrSample, smoke: context.smoke),
        "ops/s"
    )
    context.report("applicability.\(size).peak_rss.mb", peakResidentMegabytes(), "MB")
}

/// Loads a workload through the stores (profiles already normalised, so their hashes are computed once each).
private func load(
    _ workload: ApplicabilityWorkload,
    into engine: ApplicabilityEngine,
    editor: RepositoryContentEditor
)
    async throws
{
    for repository in workload.repositories {
        try await editor.repositories.create(Repository(id: repository.id))
        try await editor.add(repository.units, to: repository.id)
    }
    let hashes = workload.profiles.map { ProfileHash.hash(of: $0.profile) }
    for consumer in workload.consumers {
        try await engine.consumers.register(Consumer(id: consumer.id))
        try await engine.consumers.setProfile(
            UnitProfile(
                consumerID: consumer.id,
                contentType: RPMContentType.rpm,
                profile: workload.profiles[consumer.profile].profile,
                profileHash: hashes[consumer.profile]
            )
        )
        for repository in consumer.repositories {
            try await engine.consumers.bind(ConsumerBinding(consumerID: consumer.id, repositoryID: repository))
        }
    }
}

/// Pairs of EVRs of the same package from the workload's repositories: what regeneration compares.
private func evrPairs(from workload: ApplicabilityWorkload) -> [(EVR, EVR)] {
    var byName: [String: [EVR]] = [:]
    for repository in workload.repositories {
        for unit in repository.units where unit.typeID == RPMContentType.rpm {
            guard let package = try? RPMPackage(unit: unit) else { continue }
            byName[package.nevra.name, default: []].append(package.nevra.evr)
        }
    }
    var pairs: [(EVR, EVR)] = []
    for evrs in byName.values.sorted(by: { $0.count > $1.count }) where evrs.count > 1 {
        for index in evrs.indices.dropFirst() { pairs.append((evrs[index - 1], evrs[index])) }
        if pairs.count >= 4_096 { break }
    }
    return pairs
}

private func evrComparisonsPerSecond(_ pairs: [(EVR, EVR)], smoke: Bool) -> Double {
    guard !pairs.isEmpty else { return 0 }
    let rounds = smoke ? 20 : max(1, 20_000_000 / pairs.count)
    var total = 0
    let seconds = measure {
        for _ in 0..<rounds {
            for (a, b) in pairs { total &+= EVR.compare(a, b) }
        }
    }
    blackHole(total)
    return Double(rounds * pairs.count) / seconds
}

/// The process's peak resident set (VmHWM), in MB.
private func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes / 1024
}

/// User and system CPU time of the whole process so far: with the machine shared, a steadier figure than
/// wall time for comparing changes.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

private func note(_ text: String) {
    FileHandle.standardError.write(Data("# \(text)\n".utf8))
}
