import Foundation
import Testing

@testable import PulpKit

/// An importer that records every sync it runs and notes two syncs of one repository at once.
private final class OverlapImporter: Importer {
    let typeID = SchedulingTestImporter.type
    let contentTypes: Set<String> = []
    let ledger = RunLedger()

    func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] { [] }

    func sync(_ context: SyncContext) async throws -> SyncReport {
        let run = TaskStatus(
            name: "sync",
            arguments: [:],
            resources: [context.repository.id.rawValue],
            tags: [],
            groupID: nil,
            submitTime: Date()
        )
        ledger.start(run)
        defer { ledger.end(run) }
        await Task.yield()
        return SyncReport()
    }
}

/// Callers create, change, enable, disable and delete schedules while the scheduler claims and dispatches them.
@Suite struct StressSchedulerTests {
    @Test(arguments: StorageBackend.allCases)
    func schedulesChangedWhileTheSchedulerRunsKeepTheirCounters(_ backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store: any ScheduleStore =
            switch backend {
            case .memory: InMemoryScheduleStore()
            case .sqlite: try SQLiteScheduleStore(path: directory.path("schedules.db"))
            }
        let harness = try SchedulingHarness(
            store: store,
            clock: SystemWallClock(),
            taskStore: try backend.taskStore(in: directory)
        )
        let importer = OverlapImporter()
        harness.repositories.importers.register(importer)
        let repositories = (0..<6).map { RepositoryID("stress-\($0)") }
        try await harness.addRepositories(repositories)
        let scheduler = Scheduler(service: harness.service)
        let created = PulpMutex<[ScheduledCall]>([])
        let deleted = PulpMutex<Set<ScheduleID>>([])

        try await withThrowingTaskGroup(of: Void.self) { running in
            running.addTask { try await harness.dispatcher.run() }
            running.addTask { try await scheduler.run() }
            try await concurrently(8) { caller in
                for step in 0..<12 {
                    let repository = repositories[(caller + step) % repositories.count]
                    let call = try await harness.schedule(
                        step % 2 == 0 ? "R\(2 + step % 4)/PT0.005S" : "PT0.01S",
                        repository: repository
                    )
                    created.withLock { $0.append(call) }
                    guard let other = created.withLock({ $0.randomElement() }) else { continue }
                    do {
                        switch step % 4 {
                        case 0:
                            _ = try await harness.service.update(
                                other.id,
                                repository: other.repositoryID,
                                importer: SchedulingTestImporter.type,
                                enabled: false
                            )
                        case 1:
                            _ = try await harness.service.update(
                                other.id,
                                repository: other.repositoryID,
                                importer: SchedulingTestImporter.type,
                                overrideConfig: ["step": .int(step)],
                                enabled: true
                            )
                        case 2 where caller % 2 == 0:
                            try await harness.service.delete(
                                other.id,
                                repository: other.repositoryID,
                                importer: SchedulingTestImporter.type
                            )
                            deleted.withLock { _ = $0.insert(other.id) }
                        default:
                            _ = try await harness.service.calls(
                                repository: other.repositoryID,
                                importer: SchedulingTestImporter.type
                            )
                        }
                    } catch let error as PulpError where error.httpStatus == 404 {
                        // Another caller deleted it first.
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            // Stop every schedule that would run for ever, then let the dispatched syncs end.
            for call in created.withLock({ $0 }) where call.remainingRuns == nil {
                _ = try? await harness.service.update(
                    call.id,
                    repository: call.repositoryID,
                    importer: SchedulingTestImporter.type,
                    enabled: false
                )
            }
            try await eventually("every sync ends and no schedule is due") {
                let tasks = try await harness.dispatcher.store.tasks(inGroup: nil)
                let due = try await store.earliestDueTime()
                return due == nil && tasks.allSatisfy { !$0.isActive }
            }
            running.cancelAll()
        }

        let tasks = try await harness.dispatcher.store.tasks(inGroup: nil)
        var dispatches: [String: Int] = [:]
        for task in tasks { dispatches[task.arguments["scheduled_call_id"]?.stringValue ?? "", default: 0] += 1 }
        #expect(scheduler.statistics.dispatched == tasks.count)
        #expect(scheduler.statistics.failedDispatches == 0)
        #expect(tasks.allSatisfy { $0.state == .finished })
        #expect(importer.ledger.overlaps.isEmpty, "\(importer.ledger.overlaps.prefix(5))")
        for call in created.withLock({ $0 }) {
            guard let stored = try await store.call(call.id) else {
                #expect(deleted.withLock { $0.contains(call.id) }, "\(call.id) vanished without being deleted")
                continue
            }
            #expect(stored.totalRunCount == dispatches[call.id.rawValue, default: 0], "\(call.id)")
            #expect(stored.consecutiveFailures == 0)
            if let runs = stored.interval.recurrences {
                #expect(stored.totalRunCount + (stored.remainingRuns ?? 0) == runs, "\(call.id)")
            }
        }
        if let sqlite = store as? SQLiteScheduleStore {
            #expect(try await sqlite.integrityProblems() == [])
        }
    }
}
