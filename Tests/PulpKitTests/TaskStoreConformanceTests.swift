import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

struct TaskStoreConformanceTests {
    @Test func theInMemoryStoreConforms() async throws {
        try await TaskStoreConformance.check { InMemoryTaskStore() }
    }

    @Test func theSQLiteStoreConforms() async throws {
        let directory = try TemporaryDirectory()
        var count = 0
        try await TaskStoreConformance.check {
            count += 1
            return try SQLiteTaskStore(path: directory.path("tasks-\(count).db"))
        }
    }

    @Test func aBrokenStoreIsCaughtWithTheRuleItBreaks() async throws {
        // A store that ignores reservations: claims every waiting task.
        final class Greedy: TaskStore {
            let base = InMemoryTaskStore()
            func insert(_ tasks: [TaskStatus]) async throws -> [TaskStatus] {
                try await base.insert(
                    tasks.map {
                        var task = $0
                        task.resources = []
                        return task
                    }
                )
            }
            func insert(
                _ tasks: [TaskStatus],
                heldAs hold: TaskHoldID,
                expiringAt expiry: Date
            ) async throws -> [TaskStatus] {
                try await base.insert(tasks, heldAs: hold, expiringAt: expiry)
            }
            func release(_ holds: [TaskHoldID], withdrawing: [TaskID]) async throws -> Set<TaskID> {
                try await base.release(holds, withdrawing: withdrawing)
            }
            func claim(worker: String, limit: Int, at now: Date) async throws -> [TaskStatus] {
                try await base.claim(worker: worker, limit: limit, at: now)
            }
            func finish(_ completions: [TaskCompletion], at now: Date) async throws -> [TaskStatus] {
                try await base.finish(completions, at: now)
            }
            func updateProgress(of id: TaskID, to report: JSONValue) async throws {
                try await base.updateProgress(of: id, to: report)
            }
            func cancel(_ id: TaskID, at now: Date) async throws -> TaskStatus? { try await base.cancel(id, at: now) }
            func cancelGroup(_ group: TaskGroupID, at now: Date) async throws -> [TaskStatus] {
                try await base.cancelGroup(group, at: now)
            }
            func task(_ id: TaskID) async throws -> TaskStatus? { try await base.task(id) }
            func tasks(inGroup group: TaskGroupID?) async throws -> [TaskStatus] {
                try await base.tasks(inGroup: group)
            }
            func summary(ofGroup group: TaskGroupID) async throws -> TaskGroupSummary {
                try await base.summary(ofGroup: group)
            }
            func deleteCompleted(states: Set<TaskState>) async throws -> Int {
                try await base.deleteCompleted(states: states)
            }
            func purge(finishedBefore cutoff: Date) async throws -> Int { try await base.purge(finishedBefore: cutoff) }
            func heartbeat(worker: String, at now: Date) async throws {
                try await base.heartbeat(worker: worker, at: now)
            }
            func removeWorker(_ worker: String, at now: Date) async throws -> [TaskStatus] {
                try await base.removeWorker(worker, at: now)
            }
            func stopRequests(worker: String, running: [TaskID]) async throws -> [TaskID] {
                try await base.stopRequests(worker: worker, running: running)
            }
            func recoverLostWorkers(heartbeatBefore cutoff: Date, at now: Date) async throws -> [TaskStatus] {
                try await base.recoverLostWorkers(heartbeatBefore: cutoff, at: now)
            }
        }
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await TaskStoreConformance.check { Greedy() }
        }
        #expect(failure?.rule == "2. reservations")
    }
}
