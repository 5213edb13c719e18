import Foundation
import Testing

@testable import PulpKit

/// Many concurrent callers dispatch, cancel, look up, list and summarise tasks while the dispatcher runs them.
@Suite struct StressDispatcherTests {
    static let work = TaskKind<[String: Int]>("stress.work")

    @Test(arguments: StorageBackend.allCases)
    func everyTaskEndsOnceWithoutOverlappingReservations(_ backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try backend.taskStore(in: directory)
        let dispatcher = TaskDispatcher(
            store: store,
            configuration: .init(workerCount: 4, pollInterval: .milliseconds(5), drainGracePeriod: .seconds(5))
        )
        let ledger = RunLedger()
        dispatcher.register(Self.work) { context, _ in
            ledger.start(context.task)
            defer { ledger.end(context.task) }
            await Task.yield()
            return .null
        }
        let waiting = try Criteria(json: ["filters": ["state": "waiting"]])
        let dispatched = PulpMutex<[TaskID]>([])
        let groups = PulpMutex<[TaskGroupID]>([])
        let resources = (0..<5).map { "stress:resource:\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { running in
            running.addTask { try await dispatcher.run() }
            try await concurrently(12) { caller in
                for step in 0..<25 {
                    let chosen = Array(resources.shuffled().prefix((caller + step) % 3))
                    let report = try await dispatcher.dispatch(Self.work, ["step": step], resources: chosen)
                    let id = report.spawnedTasks[0].taskID
                    dispatched.withLock { $0.append(id) }
                    switch (caller + step) % 6 {
                    case 0:
                        try await dispatcher.cancel(dispatched.withLock { $0.randomElement()! })
                    case 1:
                        let group = try await dispatcher.dispatchGroup(
                            try (0..<3).map { _ in try TaskRequest(Self.work, [:], resources: [resources[0]]) }
                        )
                        groups.withLock { $0.append(group.groupID) }
                    case 2:
                        if let group = groups.withLock({ $0.randomElement() }) {
                            if step % 2 == 0 { try await dispatcher.cancelGroup(group) }
                            _ = try await dispatcher.summary(ofGroup: group)
                        }
                    case 3:
                        _ = try await dispatcher.tasks(matching: waiting)
                    default:
                        _ = try await dispatcher.status(of: id)
                    }
                }
            }
            try await eventually("every task ends") {
                try await store.tasks(inGroup: nil).allSatisfy { !$0.isActive }
            }
            running.cancelAll()
        }

        let tasks = try await store.tasks(inGroup: nil)
        let ids = dispatched.withLock { $0 }
        #expect(Set(tasks.map(\.id)).isSuperset(of: ids))
        #expect(Set(tasks.map(\.id)).count == tasks.count)
        #expect(tasks.count == ids.count + groups.withLock { $0.count } * 3)
        let runs = ledger.runs
        for task in tasks {
            #expect(task.state.isComplete, "\(task.id) is \(task.state)")
            let ran = runs[task.id] ?? 0
            #expect(ran <= 1, "\(task.id) ran \(ran) times")
            if task.state == .finished { #expect(ran == 1, "finished \(task.id) ran \(ran) times") }
            if task.startTime == nil { #expect(ran == 0, "\(task.id) ran without being claimed") }
        }
        #expect(ledger.overlaps.isEmpty, "\(ledger.overlaps.prefix(5))")
        for group in groups.withLock({ $0 }) {
            let summary = try await dispatcher.summary(ofGroup: group)
            #expect(summary.counts.values.reduce(0, +) == 3)
            #expect(summary.counts[.waiting, default: 0] + summary.counts[.running, default: 0] == 0)
        }
        if let sqlite = store as? SQLiteTaskStore {
            #expect(try await sqlite.integrityProblems() == [])
        }
    }
}
