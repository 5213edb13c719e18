import Foundation

@testable import PulpKit

/// An in-memory task store that misbehaves as a test scripts it: it can drop every task's resources (a
/// store that ignores reservations) or refuse to end holds.
final class ScriptedTaskStore: TaskStore {
    let base = InMemoryTaskStore()
    /// Drops the resources of inserted tasks, so nothing is ever reserved.
    let dropsResources: Bool
    /// While set, ``release(_:withdrawing:)`` fails.
    let refusesReleases = PulpMutex(false)

    init(dropsResources: Bool = false) {
        self.dropsResources = dropsResources
    }

    private func scripted(_ tasks: [TaskStatus]) -> [TaskStatus] {
        guard dropsResources else { return tasks }
        return tasks.map {
            var task = $0
            task.resources = []
            return task
        }
    }

    func insert(_ tasks: [TaskStatus]) async throws -> [TaskStatus] { try await base.insert(scripted(tasks)) }
    func insert(_ tasks: [TaskStatus], heldAs hold: TaskHoldID, expiringAt expiry: Date) async throws -> [TaskStatus] {
        try await base.insert(scripted(tasks), heldAs: hold, expiringAt: expiry)
    }
    func release(_ holds: [TaskHoldID], withdrawing: [TaskID]) async throws -> Set<TaskID> {
        if refusesReleases.withLock({ $0 }) { throw PulpError.internalError("scripted release failure") }
        return try await base.release(holds, withdrawing: withdrawing)
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
    func tasks(inGroup group: TaskGroupID?) async throws -> [TaskStatus] { try await base.tasks(inGroup: group) }
    func summary(ofGroup group: TaskGroupID) async throws -> TaskGroupSummary { try await base.summary(ofGroup: group) }
    func deleteCompleted(states: Set<TaskState>) async throws -> Int { try await base.deleteCompleted(states: states) }
    func purge(finishedBefore cutoff: Date) async throws -> Int { try await base.purge(finishedBefore: cutoff) }
    func heartbeat(worker: String, at now: Date) async throws { try await base.heartbeat(worker: worker, at: now) }
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
