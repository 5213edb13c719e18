import Foundation
import PulpKit

/// Two processes, each running a whole `Pulp` on one SQLite directory: schedules both serve and tasks both
/// dispatch, then a check that every schedule slot was dispatched once and every task ran once.
enum TwoProcesses {
    /// The no-op importer both processes register, so scheduled syncs run anywhere.
    struct NoOpImporter: Importer {
        let typeID = "noop_importer"
        let contentTypes: Set<String> = []
        func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] { [] }
        func sync(_ context: SyncContext) async throws -> SyncReport { SyncReport() }
    }

    static let taskName = "pulpkit.crashtest.two-processes"
    static let schedules = 100
    /// Runs per schedule (`R<n>`): `schedules * runsPerSchedule` slots in all.
    static let runsPerSchedule = 10
    /// Tasks dispatched by each process.
    static let tasksPerProcess = 2_500
    static let roles = ["a", "b"]

    static func configuration(_ directory: URL, role: String) -> PulpConfiguration {
        PulpConfiguration(storage: .sqlite(directory: directory), workerCount: 4, workerName: "two-processes-\(role)")
    }

    // MARK: - Parent

    /// Sets up the repositories and schedules, runs both processes, and checks what they did.
    static func run(in workDirectory: URL) async throws -> Bool {
        let data = workDirectory.appendingPathComponent("data", isDirectory: true)
        try await setUp(data)
        let children = try roles.map { role in
            try ChildProcess(["--worker", data.path, "--role", role, "--log", runLog(workDirectory, role).path])
        }
        var lockErrors = 0
        for (role, child) in zip(roles, children) {
            let (status, output) = child.finish()
            guard status == 0, let errors = figures(in: output)["lock_errors"] else {
                throw CrashTestError("process \(role) failed (status \(status)): \(output)")
            }
            lockErrors += errors
        }
        var runs: [String: Int] = [:]
        for role in roles {
            for record in try SideLog.records(at: runLog(workDirectory, role).path) {
                runs[String(record[0]), default: 0] += 1
            }
        }
        let pulp = try Pulp(configuration: configuration(data, role: "checker"))
        let tasks = try await pulp.dispatcher.store.tasks(inGroup: nil)
        var slotsBySchedule: [String: Int] = [:]
        for task in tasks where task.name == SyncService.syncTask.name {
            if let id = task.arguments["scheduled_call_id"]?.stringValue { slotsBySchedule[id, default: 0] += 1 }
        }
        var duplicateSlots = 0
        for (id, count) in slotsBySchedule where count > runsPerSchedule {
            warn("schedule \(id) was dispatched \(count) times, for \(runsPerSchedule) slots")
            duplicateSlots += count - runsPerSchedule
        }
        var syncRuns = 0
        for index in 0..<schedules {
            syncRuns += try await pulp.repositories.history.entries(
                for: repository(index),
                matching: SyncHistoryQuery()
            )
            .count
        }
        let plain = tasks.filter { $0.name == taskName }
        let notRun = plain.filter { runs[$0.id.rawValue] == nil }.count
        let duplicateTasks =
            runs.values.reduce(0) { $0 + $1 - 1 } + max(0, syncRuns - slotsBySchedule.values.reduce(0, +))
        let unfinished = tasks.filter { $0.state != .finished }
        for task in unfinished.prefix(10) {
            warn("task \(task.id) (\(task.name)) ended \(task.state.rawValue): \(task.error?.json ?? .null)")
        }
        let slots = slotsBySchedule.values.reduce(0, +)
        report("twoproc.slots_dispatched", slots, "slots")
        report("twoproc.duplicate_slots", duplicateSlots, "slots")
        report("twoproc.tasks_run", runs.count, "tasks")
        report("twoproc.duplicate_tasks", duplicateTasks, "tasks")
        report("twoproc.lock_errors", lockErrors, "errors")
        warn(
            "\(plain.count) tasks dispatched, \(notRun) never ran, \(unfinished.count) not finished; \(syncRuns) syncs ran"
        )
        return slots == schedules * runsPerSchedule && duplicateSlots == 0 && duplicateTasks == 0 && lockErrors == 0
            && runs.count == roles.count * tasksPerProcess && plain.count == runs.count && unfinished.isEmpty
    }

    private static func runLog(_ workDirectory: URL, _ role: String) -> URL {
        workDirectory.appendingPathComponent("runs-\(role).log")
    }

    private static func repository(_ index: Int) -> RepositoryID { RepositoryID("two-processes-\(index)") }

    /// Creates the repositories with the no-op importer and one `R<n>` schedule each, starting in two seconds.
    private static func setUp(_ data: URL) async throws {
        let pulp = try Pulp(configuration: configuration(data, role: "setup"))
        pulp.register(NoOpImporter())
        let start = ISO8601DateTime.utcString(Date().addingTimeInterval(2))
        for index in 0..<schedules {
            try await pulp.repositories.create(Repository(id: repository(index)), importerTypeID: "noop_importer")
            _ = try await pulp.schedules.create(
                repository: repository(index),
                importer: "noop_importer",
                schedule: "R\(runsPerSchedule)/\(start)/PT0.05S"
            )
        }
    }

    // MARK: - Worker

    /// One of the two processes: runs its `Pulp`, dispatches its tasks (logging each run of any task to
    /// `log`), and stops once every slot and every task of both processes is done. Prints `lock_errors N`.
    static func work(directory: URL, role: String, log: SideLog) async throws {
        let pulp = try Pulp(configuration: configuration(directory, role: role))
        pulp.register(NoOpImporter())
        pulp.dispatcher.register(taskName) { context in
            log.append(context.task.id.rawValue)
            return .null
        }
        let lockErrors = PulpMutex(0)
        @Sendable func count(_ error: any Error) {
            warn("process \(role): \(error)")
            if let error = error as? PulpError, error.httpStatus == 503 || error.message.contains("locked") {
                lockErrors.withLock { $0 += 1 }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pulp.run() }
            await withTaskGroup(of: Void.self) { dispatchers in
                for lane in 0..<8 {
                    dispatchers.addTask {
                        for index in stride(from: lane, to: tasksPerProcess, by: 8) {
                            let resources = index % 3 == 0 ? ["two-processes:resource:\(index % 8)"] : []
                            do {
                                _ = try await pulp.dispatcher.dispatch(
                                    TaskRequest(name: taskName, resources: resources)
                                )
                            } catch {
                                count(error)
                            }
                        }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                do {
                    if try await isDone(pulp) { break }
                } catch {
                    count(error)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            group.cancelAll()
        }
        let tasks = try await pulp.dispatcher.store.tasks(inGroup: nil)
        for task in tasks where task.error?.description.contains("locked") ?? false {
            count(PulpError.internalError("\(task.id): \(task.error!.description)"))
        }
        let statistics = pulp.scheduler.statistics
        warn(
            "process \(role): scheduler dispatched \(statistics.dispatched), refused \(statistics.failedDispatches), "
                + "retried \(statistics.storeErrors) store errors"
        )
        print("lock_errors \(lockErrors.withLock { $0 })")
    }

    /// Whether every slot has been claimed and every task dispatched by both processes has ended.
    private static func isDone(_ pulp: Pulp) async throws -> Bool {
        let tasks = try await pulp.dispatcher.store.tasks(inGroup: nil)
        guard tasks.filter({ $0.name == taskName }).count == roles.count * tasksPerProcess,
            !tasks.contains(where: \.isActive)
        else { return false }
        var claimed = 0
        for index in 0..<schedules {
            claimed += try await pulp.schedules.store.calls(repository: repository(index), importer: nil)
                .reduce(0) { $0 + $1.totalRunCount }
        }
        return claimed == schedules * runsPerSchedule
            && tasks.filter { $0.name == SyncService.syncTask.name }.count == claimed
    }
}
