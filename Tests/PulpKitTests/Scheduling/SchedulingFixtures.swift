import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// An importer whose syncs succeed, report failure or throw, as a test tells it.
final class SchedulingTestImporter: Importer {
    enum Outcome: Sendable {
        case succeed
        case reportFailure
        case raise
    }

    static let type = "scheduling_test_importer"

    let typeID = SchedulingTestImporter.type
    let contentTypes: Set<String> = ["scheduling_test_unit"]
    private let outcome = PulpMutex(Outcome.succeed)
    private let refusesFlavours = PulpMutex(false)

    /// What the next syncs do.
    func setOutcome(_ next: Outcome) { outcome.withLock { $0 = next } }

    /// Makes every `flavour` key invalid from now on, as a plugin upgrade might.
    func refuseFlavours() { refusesFlavours.withLock { $0 = true } }

    /// Accepts any configuration, except a `flavour` that is not a string (or any `flavour` once refused).
    func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] {
        guard let flavour = configuration["flavour"] else { return [] }
        if refusesFlavours.withLock({ $0 }) { return [.init("flavour", "is no longer supported")] }
        guard flavour.stringValue == nil else { return [] }
        return [.init("flavour", "must be a string, got \(flavour.typeName)")]
    }

    func sync(_ context: SyncContext) async throws -> SyncReport {
        switch outcome.withLock({ $0 }) {
        case .succeed: return SyncReport()
        case .reportFailure: return SyncReport(succeeded: false, summary: ["error": "scripted"])
        case .raise: throw PulpError.internalError("scripted sync failure")
        }
    }
}

/// Everything a scheduling test needs: repositories `zoo` and `farm` with a ``SchedulingTestImporter``, a
/// dispatcher with the sync handler, a schedule service, and a clock (manual unless told otherwise).
final class SchedulingHarness: Sendable {
    let clock: any WallClock
    let importer = SchedulingTestImporter()
    let repositories: RepositoryService
    let dispatcher: TaskDispatcher
    let sync: SyncService
    let service: ScheduleService
    private let root: URL

    /// The manual clock, when the harness has one.
    var manualClock: ManualWallClock { clock as! ManualWallClock }

    init(
        store: any ScheduleStore = InMemoryScheduleStore(),
        clock: any WallClock = ManualWallClock(),
        taskStore: any TaskStore = InMemoryTaskStore(),
        repositoryStore: any RepositoryStore = InMemoryRepositoryStore()
    ) throws {
        self.clock = clock
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-scheduling-\(UUID().uuidString)")
        repositories = RepositoryService(
            repositories: repositoryStore,
            content: InMemoryContentStore(),
            history: InMemoryHistoryStore(),
            importers: ImporterRegistry([importer]),
            clock: clock
        )
        dispatcher = TaskDispatcher(
            store: taskStore,
            clock: clock,
            configuration: .init(workerCount: 2, pollInterval: .milliseconds(10), drainGracePeriod: .seconds(1))
        )
        sync = SyncService(
            repositories: repositories,
            storage: try ContentStorage(root: root.appendingPathComponent("storage")),
            dispatcher: dispatcher
        )
        service = ScheduleService(store: store, sync: sync)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Creates repositories (with the scripted importer) that do not exist yet.
    func addRepositories(_ ids: [RepositoryID] = ["zoo", "farm"]) async throws {
        for id in ids {
            try await repositories.create(Repository(id: id), importerTypeID: SchedulingTestImporter.type)
        }
    }

    /// A schedule of `zoo`'s importer.
    func schedule(
        _ schedule: String,
        repository: RepositoryID = "zoo",
        overrideConfig: [String: JSONValue] = [:],
        failureThreshold: Int? = nil
    ) async throws -> ScheduledCall {
        try await service.create(
            repository: repository,
            importer: SchedulingTestImporter.type,
            schedule: schedule,
            overrideConfig: overrideConfig,
            failureThreshold: failureThreshold
        )
    }

    /// The sync tasks dispatched for schedule `id`, oldest first.
    func syncTasks(of id: ScheduleID) async throws -> [TaskStatus] {
        try await dispatcher.store.tasks(inGroup: nil)
            .filter { $0.arguments["scheduled_call_id"]?.stringValue == id.rawValue }
            .sorted { $0.sequence < $1.sequence }
    }

    /// The times the sync tasks of schedule `id` were dispatched, as `YYYY-MM-DDTHH:MM:SSZ`.
    func dispatchTimes(of id: ScheduleID) async throws -> [String] {
        try await syncTasks(of: id).map { ISO8601DateTime.utcString($0.submitTime) }
    }

    /// The stored call.
    func stored(_ id: ScheduleID) async throws -> ScheduledCall {
        try #require(try await service.store.call(id))
    }
}

/// Runs `scheduler` while `body` runs, then cancels it and waits for it to stop.
func whileRunning<Result>(
    _ scheduler: Scheduler,
    _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await scheduler.run() }
        defer { group.cancelAll() }
        return try await body()
    }
}

/// Runs the dispatcher's workers while `body` runs.
func whileServing<Result>(
    _ dispatcher: TaskDispatcher,
    _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        defer { group.cancelAll() }
        return try await body()
    }
}

/// Steps a scheduler on a manual clock: waits for it to pause, then moves the clock to its deadline.
struct SchedulerStepper {
    let scheduler: Scheduler
    let clock: ManualWallClock
    private(set) var pause: SchedulerPause?

    init(_ scheduler: Scheduler, clock: ManualWallClock) {
        self.scheduler = scheduler
        self.clock = clock
    }

    /// Waits for the next pause and returns its deadline (`nil`: the scheduler waits for a change).
    @discardableResult
    mutating func waitForPause() async throws -> Date? {
        pause = try #require(await scheduler.nextPause(after: pause?.pass ?? 0))
        return pause?.deadline
    }

    /// Moves the clock to the current pause's deadline and waits for the next pause.
    @discardableResult
    mutating func step() async throws -> Date? {
        let deadline = try #require(pause?.deadline, "the scheduler has no deadline to step to")
        clock.advance(to: deadline)
        return try await waitForPause()
    }

    /// Moves the clock to `instant`, at or after the current pause's deadline, and waits for the pause
    /// that follows the wake-up.
    @discardableResult
    mutating func advance(to instant: Date) async throws -> Date? {
        clock.advance(to: instant)
        return try await waitForPause()
    }
}

/// Every task a dispatcher ends, in order, with a way to wait for the next ones.
///
/// Observers run in the order they are registered, so once a task reaches a recorder registered after the
/// schedule service, the service has counted it.
final class CompletionRecorder: Sendable {
    private struct State {
        var completed: [TaskStatus] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<[TaskStatus], Never>)] = []
    }

    private let state = PulpMutex(State())

    init(_ dispatcher: TaskDispatcher) {
        dispatcher.onCompletion { [state] task in
            let ready = state.withLock { state in
                state.completed.append(task)
                let completed = state.completed
                let ready = state.waiters.filter { $0.count <= completed.count }
                state.waiters.removeAll { $0.count <= completed.count }
                return ready.map { ($0.continuation, completed) }
            }
            for (waiter, completed) in ready { waiter.resume(returning: completed) }
        }
    }

    /// Returns the completed tasks once there are at least `count`.
    func waitFor(_ count: Int) async -> [TaskStatus] {
        await withCheckedContinuation { continuation in
            let done: [TaskStatus]? = state.withLock { state in
                if state.completed.count >= count { return state.completed }
                state.waiters.append((count, continuation))
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}

/// A `YYYY-MM-DDTHH:MM:SSZ` instant.
func utc(_ text: String) -> Date { ISO8601DateTime.utcDate(text)! }

extension SchedulerConfiguration {
    /// Runs claimed when they are due, not ahead: the timing tests see one pause per due time.
    static var noLeadTime: SchedulerConfiguration { SchedulerConfiguration(leadTime: .zero) }
}
