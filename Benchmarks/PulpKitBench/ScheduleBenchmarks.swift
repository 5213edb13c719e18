import Foundation
import PulpKit

#if canImport(Glibc)
import Glibc
#endif

/// `schedule`: 100,000 schedules on SQLite. The time to create them through `ScheduleService`, the resident
/// memory of a scheduler process serving them, its wake-ups while none is due, and the lateness of 10,000
/// runs due in the same second on the real clock.
func runScheduleBenchmarks(_ context: BenchmarkContext) async throws {
    // The RSS figure is taken in a child process that only serves the schedules (see `measureSchedulerRSS`).
    if let path = ProcessInfo.processInfo.environment[scheduleRSSVariable] {
        try await serveForRSS(databasePath: path)
        return
    }
    let world = try ScheduleWorld(repositories: context.size(1_000, smoke: 20))
    defer { world.remove() }
    try await world.addRepositories()

    let count = context.size(100_000, smoke: 2_000)
    let createSeconds = try await measureAsync {
        try await world.createSchedules(count, start: world.clock.now.addingTimeInterval(7_200))
    }
    context.report("schedule.create_100k.seconds", createSeconds, "s")

    context.report("schedule.rss_100k.mb", try measureSchedulerRSS(databasePath: world.schedulePath), "MB")

    let window = context.smoke ? 0.5 : 20.0
    let idle = try await measureIdleWakeUps(world, window: window)
    context.report("schedule.idle_wakeups_per_hour", idle.perHour, "wakeups/h")
    note(
        "idle: \(idle.wakeUps) wake-ups and \(format(idle.cpuSeconds * 1000)) ms of CPU in \(format(window)) s "
            + "with \(count) schedules, none due for 2 h; \(idle.changes) changes woke it \(idle.changeWakeUps) times"
    )

    let burst = context.size(10_000, smoke: 200)
    let margin = max(3, 3 * createSeconds / Double(count) * Double(burst))
    let (lateness, started) = try await measureLateness(world, count: burst, margin: margin)
    context.report("schedule.lateness.p50_ms", percentile(lateness, 0.50) * 1000, "ms")
    context.report("schedule.lateness.p99_ms", percentile(lateness, 0.99) * 1000, "ms")
    context.report("schedule.lateness.max_ms", (lateness.max() ?? 0) * 1000, "ms")
    note("lateness: \(started)")

    // The same burst with an in-memory task store: what the scheduler does when the queue costs little.
    let memory = try ScheduleWorld(
        repositories: world.repositoryCount,
        directory: world.directory.appendingPathComponent("memory"),
        schedulePath: world.schedulePath,
        memoryTasks: true
    )
    try await memory.addRepositories()
    let (memoryLateness, memoryStarted) = try await measureLateness(memory, count: burst, margin: margin)
    note(
        "lateness with an in-memory task store: p50 \(ms(percentile(memoryLateness, 0.5))), "
            + "p99 \(ms(percentile(memoryLateness, 0.99))), max \(ms(memoryLateness.last)); \(memoryStarted)"
    )
}

/// The environment variable that makes `pulpkit-bench schedule` the RSS child, serving that database.
private let scheduleRSSVariable = "PULPKIT_BENCH_SCHEDULE_RSS_DATABASE"

/// Repositories with a no-op importer, an SQLite task store and an SQLite schedule store in a temporary
/// directory, and the services over them, on the real clock.
private final class ScheduleWorld: Sendable {
    let directory: URL
    let repositoryCount: Int
    let clock = SystemWallClock()
    let repositories: RepositoryService
    let dispatcher: TaskDispatcher
    let service: ScheduleService

    var schedulePath: String { directory.appendingPathComponent("schedules.db").path }

    init(
        repositories repositoryCount: Int,
        directory: URL? = nil,
        schedulePath: String? = nil,
        memoryTasks: Bool = false
    ) throws {
        let directory =
            directory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.repositoryCount = repositoryCount
        repositories = RepositoryService(
            repositories: InMemoryRepositoryStore(),
            content: InMemoryContentStore(),
            history: InMemoryHistoryStore(),
            importers: ImporterRegistry([NoOpImporter()]),
            clock: clock
        )
        let tasks: any TaskStore =
            memoryTasks
            ? InMemoryTaskStore() : try SQLiteTaskStore(path: directory.appendingPathComponent("tasks.db").path)
        dispatcher = TaskDispatcher(store: tasks, clock: clock)
        let sync = SyncService(
            repositories: repositories,
            storage: try ContentStorage(root: directory.appendingPathComponent("storage")),
            dispatcher: dispatcher
        )
        let store = try SQLiteScheduleStore(
            path: schedulePath ?? directory.appendingPathComponent("schedules.db").path
        )
        service = ScheduleService(store: store, sync: sync)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    func repository(_ index: Int) -> RepositoryID { RepositoryID("repo-\(index % repositoryCount)") }

    func addRepositories() async throws {
        for index in 0..<repositoryCount {
            try await repositories.create(Repository(id: repository(index)), importerTypeID: NoOpImporter.type)
        }
    }

    /// Creates `count` schedules through the service, 64 requests at a time (as concurrent API clients
    /// would), starting from `start` and spread over the next hour, with a mix of intervals.
    func createSchedules(_ count: Int, start: Date, spread: Int = 3_600, prefix: String = "") async throws {
        let intervals = ["PT1H", "PT6H", "P1D", "P1W", "P1M"]
        let first = start.timeIntervalSince1970.rounded(.up)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= 64 { try await group.next() }
                let begin = Date(timeIntervalSince1970: first + Double(spread == 0 ? 0 : index % spread))
                let schedule = ISO8601DateTime.utcString(begin) + "/" + intervals[index % intervals.count]
                group.addTask {
                    _ = try await self.service.create(
                        repository: self.repository(index),
                        importer: NoOpImporter.type,
                        schedule: schedule,
                        overrideConfig: index % 3 == 0 ? ["remove_missing": true] : [:]
                    )
                }
            }
            try await group.waitForAll()
        }
    }
}

/// An importer that syncs nothing.
private struct NoOpImporter: Importer {
    static let type = "bench_importer"
    let typeID = NoOpImporter.type
    let contentTypes: Set<String> = ["bench_unit"]
    func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] { [] }
    func sync(_ context: SyncContext) async throws -> SyncReport { SyncReport() }
}

// MARK: - Resident memory

/// The resident memory, in MB, of a fresh process that opens the database and runs a scheduler over it,
/// read from its `/proc/self/status` once the scheduler has looked at the store and gone to sleep.
private func measureSchedulerRSS(databasePath: String) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = ["schedule"]
    var environment = ProcessInfo.processInfo.environment
    environment[scheduleRSSVariable] = databasePath
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0,
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("rss_kb ") }),
        let kilobytes = Double(line.dropFirst("rss_kb ".count))
    else { throw BenchmarkError("the RSS child failed (status \(process.terminationStatus)): \(text)") }
    return kilobytes / 1024
}

/// The RSS child: serves the database with a scheduler until its first pause, then prints `rss_kb <n>`.
private func serveForRSS(databasePath: String) async throws {
    let world = try ScheduleWorld(repositories: 1, schedulePath: databasePath)
    defer { world.remove() }
    let scheduler = Scheduler(service: world.service)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await scheduler.run() }
        guard let pause = await scheduler.nextPause(after: 0), pause.deadline != nil else {
            throw BenchmarkError("the scheduler found nothing to wait for")
        }
        print("rss_kb \(residentKilobytes())")
        group.cancelAll()
    }
}

/// `VmRSS` of this process, in kB.
private func residentKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

// MARK: - Idle

/// Runs a scheduler over the stored schedules (none due for two hours) for `window` seconds of real time
/// and counts its wake-ups after the first look, extrapolated to an hour; then makes three changes and
/// counts the wake-ups they cause.
private func measureIdleWakeUps(
    _ world: ScheduleWorld,
    window: TimeInterval
) async throws -> (perHour: Double, wakeUps: Int, cpuSeconds: Double, changes: Int, changeWakeUps: Int) {
    let scheduler = Scheduler(service: world.service)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await scheduler.run() }
        defer { group.cancelAll() }
        guard let first = await scheduler.nextPause(after: 0), let deadline = first.deadline,
            deadline.timeIntervalSince(world.clock.now) > 3_600
        else { throw BenchmarkError("the idle scheduler should sleep for over an hour") }
        let before = scheduler.statistics.wakeUps
        let cpuBefore = cpuSeconds()
        try await Task.sleep(for: .seconds(window))
        let wakeUps = scheduler.statistics.wakeUps - before
        let cpu = cpuSeconds() - cpuBefore
        // Three changes: each wakes the scheduler once.
        let calls = try await world.service.calls(repository: world.repository(0), importer: NoOpImporter.type)
        var pass = first.pass
        for call in calls.prefix(3) {
            _ = try await world.service.update(
                call.id,
                repository: call.repositoryID,
                importer: call.importerID,
                failureThreshold: .some(5)
            )
            pass = try await nextPause(of: scheduler, after: pass).pass
        }
        try await Task.sleep(for: .milliseconds(50))
        let changeWakeUps = scheduler.statistics.wakeUps - before - wakeUps
        return (Double(wakeUps) * 3_600 / window, wakeUps, cpu, min(calls.count, 3), changeWakeUps)
    }
}

/// CPU time (user and system) used by this process so far, in seconds.
private func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

private func nextPause(of scheduler: Scheduler, after pass: Int) async throws -> SchedulerPause {
    guard let pause = await scheduler.nextPause(after: pass) else { throw BenchmarkError("the scheduler stopped") }
    return pause
}

// MARK: - Lateness

/// Adds `count` schedules all due at the same whole second, `margin` seconds or more from now, starts a
/// scheduler (real clock, default configuration: runs claimed and their tasks held ahead) and the
/// dispatcher's workers, and returns each run's lateness: the time the release that submitted its task
/// had committed (from then on workers and reads see it, not before) minus the due time; and a line on
/// when the tasks were held, what a worker's claim cost meanwhile, and when a worker started the first.
private func measureLateness(
    _ world: ScheduleWorld,
    count: Int,
    margin: TimeInterval
) async throws -> (lateness: [Double], started: String) {
    let due = Date(timeIntervalSince1970: world.clock.now.addingTimeInterval(margin).timeIntervalSince1970.rounded(.up))
    try await world.createSchedules(count, start: due, spread: 0)
    guard world.clock.now < due.addingTimeInterval(-0.2) else {
        throw BenchmarkError("creating the burst took longer than its \(margin) s margin")
    }
    let scheduler = Scheduler(service: world.service)
    var firstStart: Date?
    var held: Date?
    var probe: TimeInterval = 0
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await scheduler.run() }
        group.addTask { try await world.dispatcher.run() }
        defer { group.cancelAll() }
        var pause = try await nextPause(of: scheduler, after: 0)
        // Asleep until the burst is a lead time away (or until it is due, if it was claimed at once).
        guard let deadline = pause.deadline, deadline <= due, deadline > due.addingTimeInterval(-margin) else {
            throw BenchmarkError("the scheduler should sleep until the burst")
        }
        while scheduler.statistics.dispatched < count {
            pause = try await nextPause(of: scheduler, after: pause.pass)
            // Asleep until the due time: every run is claimed and its task held.
            if held == nil, pause.deadline == due {
                held = world.clock.now
                // An idle worker's look at the queue while the burst is held (it must find nothing).
                let begin = world.clock.now
                let claimed = try await world.dispatcher.store.claim(worker: "probe", limit: 1, at: begin)
                probe = world.clock.now.timeIntervalSince(begin)
                guard claimed.isEmpty else { throw BenchmarkError("a held task was claimed before its due time") }
            }
        }
        // The workers were idle and waiting: the first run starts as soon as they see the tasks.
        while firstStart == nil {
            try await Task.sleep(for: .milliseconds(10))
            firstStart = try await world.dispatcher.tasks(matching: Criteria()).compactMap(\.startTime).min()
        }
    }
    let tasks = try await world.dispatcher.tasks(matching: Criteria())
    guard tasks.count == count, tasks.allSatisfy({ $0.submitTime == due }) else {
        throw BenchmarkError("\(tasks.count) sync tasks for \(count) runs, or some not submitted at the due time")
    }
    guard let firstStart, firstStart >= due else { throw BenchmarkError("a run started before its due time") }
    let submissions = scheduler.submissions.filter { $0.dueTime == due }
    guard submissions.map(\.count).reduce(0, +) == count else {
        throw BenchmarkError("the submissions of the burst released \(submissions.map(\.count)) tasks")
    }
    let lateness = submissions.flatMap { Array(repeating: $0.released.timeIntervalSince(due), count: $0.count) }
    let began = submissions.map { $0.started.timeIntervalSince(due) }.min() ?? 0
    guard let held else { throw BenchmarkError("the scheduler never slept with the burst held") }
    let started =
        "every task held \(ms(due.timeIntervalSince(held))) before the due time (a claim then took "
        + "\(ms(probe))); \(submissions.count) release(s), the first begun \(ms(began)) after the due time; "
        + "the first run started \(ms(firstStart.timeIntervalSince(due))) after it"
    return (lateness.sorted(), started)
}

private func format(_ value: Double) -> String { String(format: "%.1f", value) }

private func ms(_ seconds: Double?) -> String { format((seconds ?? 0) * 1000) + " ms" }

/// A line of context on standard error, beside the figures on standard output.
private func note(_ text: String) {
    FileHandle.standardError.write(Data("  schedule: \(text)\n".utf8))
}

/// A benchmark that could not measure what it meant to.
private struct BenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
