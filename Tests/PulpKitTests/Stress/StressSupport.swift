import Foundation
import Testing

@testable import PulpKit

/// What the handlers of a stress test saw: how often each task ran, and which resources were held at once.
final class RunLedger: Sendable {
    private struct State {
        var runs: [TaskID: Int] = [:]
        var held: [String: TaskID] = [:]
        var overlaps: [String] = []
    }

    private let state = PulpMutex(State())

    /// Records that `task` starts running and takes its resources; notes any resource another run holds.
    func start(_ task: TaskStatus) {
        state.withLock { state in
            state.runs[task.id, default: 0] += 1
            for resource in Set(task.resources) {
                if let holder = state.held[resource] {
                    state.overlaps.append("\(task.id) and \(holder) both hold \(resource)")
                }
                state.held[resource] = task.id
            }
        }
    }

    /// Records that `task`'s run is over and its resources are free.
    func end(_ task: TaskStatus) {
        state.withLock { state in
            for resource in Set(task.resources) where state.held[resource] == task.id {
                state.held[resource] = nil
            }
        }
    }

    /// How many times each task ran.
    var runs: [TaskID: Int] { state.withLock { $0.runs } }

    /// Every time two runs held one resource at once.
    var overlaps: [String] { state.withLock { $0.overlaps } }
}

/// Runs `body` with `callers` concurrent callers, each given its number.
func concurrently(_ callers: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for caller in 0..<callers { group.addTask { try await body(caller) } }
        try await group.waitForAll()
    }
}

/// Waits, polling, until `condition` holds; fails the test (without timing anything) after `attempts` polls.
func eventually(
    _ what: String,
    attempts: Int = 6_000,
    _ condition: () async throws -> Bool
) async throws {
    for _ in 0..<attempts {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("never happened: \(what)")
}
