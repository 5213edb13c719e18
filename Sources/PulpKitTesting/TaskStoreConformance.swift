import Foundation
public import PulpKit

/// A broken rule found by a conformance suite: which rule, and what was seen instead.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The rule, as the protocol's documentation numbers and names it.
    public var rule: String
    /// What went wrong.
    public var detail: String

    public var description: String { "\(rule): \(detail)" }
}

/// Checks that a ``PulpKit/TaskStore`` keeps every rule its documentation states.
///
/// Call it from any test framework with a factory of fresh, empty stores; it throws a
/// ``ConformanceFailure`` naming the first broken rule:
///
/// ```swift
/// @Test func myStoreConforms() async throws {
///     try await TaskStoreConformance.check { try MyTaskStore(url: freshDatabase()) }
/// }
/// ```
public enum TaskStoreConformance {
    /// Runs every rule, each against a new store from `makeStore`.
    public static func check(_ makeStore: () async throws -> any TaskStore) async throws {
        try await submissionOrder(try await makeStore())
        try await reservations(try await makeStore())
        try await concurrentClaimsAreDisjoint(try await makeStore())
        try await completion(try await makeStore())
        try await cancellation(try await makeStore())
        try await lostWorkers(try await makeStore())
        try await groupsAndRetention(try await makeStore())
        try await holds(try await makeStore())
    }

    private static let start = Date(timeIntervalSince1970: 1_390_860_900)

    private static func task(_ name: String, _ resources: [String] = [], group: TaskGroupID? = nil) -> TaskStatus {
        TaskStatus(
            name: name,
            arguments: ["name": .string(name)],
            resources: resources,
            groupID: group,
            submitTime: start
        )
    }

    private static func expect(_ condition: Bool, _ rule: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(rule: rule, detail: detail()) }
    }

    private static func names(_ tasks: [TaskStatus]) -> [String] { tasks.map(\.name) }

    private static func expectRefusal(_ rule: String, _ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch is PulpError {
            return
        }
        throw ConformanceFailure(rule: rule, detail: "\(what) must be refused with a PulpError")
    }

    private static func submissionOrder(_ store: any TaskStore) async throws {
        let rule = "1. submission order"
        let first = try await store.insert([task("a"), task("b")])
        let second = try await store.insert([task("c")])
        let sequences = (first + second).map(\.sequence)
        try expect(sequences == sequences.sorted() && Set(sequences).count == 3, rule, "sequences \(sequences)")
        try expect(first.allSatisfy { $0.state == .waiting }, rule, "inserted tasks must be waiting")
        try expect(try await store.task(first[0].id)?.name == "a", rule, "an inserted task must be readable")
        var duplicate = task("duplicate")
        duplicate.id = first[0].id
        try await expectRefusal(rule, "a duplicate id") { _ = try await store.insert([task("fresh"), duplicate]) }
        var running = task("running")
        running.state = .running
        try await expectRefusal(rule, "a task that is not waiting") { _ = try await store.insert([running]) }
        let names = names(try await store.tasks(inGroup: nil))
        try expect(names == ["a", "b", "c"], rule, "a refused insert must store nothing, found \(names)")
    }

    private static func reservations(_ store: any TaskStore) async throws {
        let rule = "2. reservations"
        let tasks = try await store.insert([task("a", ["r1"]), task("b", ["r1", "r2"]), task("c", ["r2"]), task("d")])
        let claimed = try await store.claim(worker: "w1", limit: 10, at: start)
        try expect(names(claimed) == ["a", "d"], rule, "first claim took \(names(claimed)), expected [a, d]")
        try expect(
            claimed.allSatisfy { $0.state == .running && $0.workerName == "w1" },
            rule,
            "claimed tasks run on w1"
        )
        try expect(try await store.claim(worker: "w1", limit: 10, at: start).isEmpty, rule, "b waits for a, c for b")
        _ = try await store.finish([TaskCompletion(id: tasks[0].id, outcome: .finished(result: nil))], at: start)
        let next = try await store.claim(worker: "w1", limit: 10, at: start)
        try expect(names(next) == ["b"], rule, "after a finished, claimed \(names(next)), expected [b]")
        _ = try await store.finish([TaskCompletion(id: tasks[1].id, outcome: .finished(result: nil))], at: start)
        let last = try await store.claim(worker: "w1", limit: 10, at: start)
        try expect(names(last) == ["c"], rule, "after b finished, claimed \(names(last)), expected [c]")
    }

    private static func concurrentClaimsAreDisjoint(_ store: any TaskStore) async throws {
        let rule = "2. reservations (concurrent claims)"
        _ = try await store.insert((0..<60).map { task("t\($0)") })
        let batches = try await withThrowingTaskGroup(of: [TaskStatus].self) { group in
            for worker in 0..<20 {
                group.addTask { try await store.claim(worker: "w\(worker)", limit: 3, at: start) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let ids = batches.flatMap { $0.map(\.id) }
        try expect(
            ids.count == 60 && Set(ids).count == 60,
            rule,
            "claimed \(ids.count) tasks, \(Set(ids).count) distinct"
        )
    }

    private static func completion(_ store: any TaskStore) async throws {
        let rule = "3. completion"
        let tasks = try await store.insert([task("ok"), task("bad")])
        _ = try await store.claim(worker: "w", limit: 2, at: start)
        try await store.updateProgress(of: tasks[0].id, to: ["step": 1])
        try expect(try await store.task(tasks[0].id)?.progressReport == ["step": 1], rule, "progress not stored")
        let finished = try await store.finish(
            [
                TaskCompletion(id: tasks[0].id, outcome: .finished(result: ["n": 1])),
                TaskCompletion(
                    id: tasks[1].id,
                    outcome: .failed(TaskError(code: "PLK0000", description: "boom"), exception: "E", traceback: "t")
                ),
            ],
            at: start.addingTimeInterval(5)
        )
        try expect(finished.map(\.state) == [.finished, .error], rule, "states \(finished.map(\.state))")
        try expect(finished[0].result == ["n": 1], rule, "result not stored")
        try expect(finished[1].error?.description == "boom", rule, "error not stored")
        let again = try await store.finish(
            [TaskCompletion(id: tasks[0].id, outcome: .canceled)],
            at: start.addingTimeInterval(10)
        )
        try expect(
            again.first?.state == .finished && again.first?.finishTime == start.addingTimeInterval(5),
            rule,
            "a second completion must be ignored"
        )
    }

    private static func cancellation(_ store: any TaskStore) async throws {
        let rule = "4. cancellation"
        let tasks = try await store.insert([task("running", ["r"]), task("next", ["r"]), task("waiting", ["q"])])
        _ = try await store.claim(worker: "w", limit: 1, at: start)
        let waiting = try await store.cancel(tasks[2].id, at: start)
        try expect(waiting?.state == .canceled && waiting?.finishTime != nil, rule, "a waiting task ends at once")
        let running = try await store.cancel(tasks[0].id, at: start)
        try expect(running?.state == .canceled && running?.finishTime == nil, rule, "a running task keeps running")
        let stops = try await store.stopRequests(worker: "w", running: [tasks[0].id, TaskID("gone")])
        try expect(stops == [tasks[0].id, TaskID("gone")], rule, "stop requests \(stops)")
        let claimed = try await store.claim(worker: "w", limit: 5, at: start)
        try expect(claimed.isEmpty, rule, "claimed \(names(claimed)) while a cancelled task still holds its resource")
        let ended = try await store.finish([TaskCompletion(id: tasks[0].id, outcome: .finished(result: 1))], at: start)
        try expect(ended.first?.state == .canceled, rule, "a cancelled task must stay canceled, got \(ended)")
        try expect(names(try await store.claim(worker: "w", limit: 5, at: start)) == ["next"], rule, "next must run")
        let complete = try await store.cancel(tasks[0].id, at: start.addingTimeInterval(60))
        try expect(complete == ended.first, rule, "cancelling a complete task must change nothing")
        try expect(try await store.cancel(TaskID("unknown"), at: start) == nil, rule, "an unknown id must give nil")
    }

    private static func lostWorkers(_ store: any TaskStore) async throws {
        let rule = "5. workers"
        let tasks = try await store.insert([
            task("lost", ["r"]), task("behind", ["r"]), task("silent", ["s"]), task("stopping", ["t"]),
        ])
        try await store.heartbeat(worker: "old", at: start)
        try await store.heartbeat(worker: "alive", at: start.addingTimeInterval(100))
        _ = try await store.claim(worker: "old", limit: 1, at: start)
        _ = try await store.claim(worker: "never-heartbeat", limit: 1, at: start)
        let recovered = try await store.recoverLostWorkers(heartbeatBefore: start.addingTimeInterval(50), at: start)
        try expect(names(recovered) == ["lost", "silent"], rule, "recovered \(names(recovered))")
        try expect(recovered.allSatisfy { $0.state == .error }, rule, "a lost worker's task must end in error")
        let stops = try await store.stopRequests(worker: "old", running: [tasks[0].id])
        try expect(stops == [tasks[0].id], rule, "a lost worker must be told to stop its run")
        try expect(names(try await store.claim(worker: "alive", limit: 1, at: start)) == ["behind"], rule, "not freed")
        let again = try await store.recoverLostWorkers(heartbeatBefore: start.addingTimeInterval(50), at: start)
        try expect(again.isEmpty, rule, "a lost worker must be forgotten")
        let claimed = try await store.claim(worker: "alive", limit: 1, at: start)
        try expect(names(claimed) == ["stopping"], rule, "claimed \(names(claimed))")
        let removed = try await store.removeWorker("alive", at: start)
        try expect(Set(names(removed)) == ["behind", "stopping"], rule, "removeWorker ended \(names(removed))")
        try expect(removed.allSatisfy { $0.state == .error }, rule, "removeWorker must end active tasks in error")
    }

    private static func holds(_ store: any TaskStore) async throws {
        let rule = "7. holds"
        let hold = TaskHoldID("hold")
        let first = try await store.insert([task("first", ["r"])])
        let held = try await store.insert(
            [task("held", ["r"]), task("free", ["s"]), task("withdrawn", ["t"])],
            heldAs: hold,
            expiringAt: start.addingTimeInterval(60)
        )
        let later = try await store.insert([task("later", ["r"]), task("queued", ["t"])])
        let sequences = (first + held + later).map(\.sequence)
        try expect(sequences == sequences.sorted() && Set(sequences).count == 6, rule, "sequences \(sequences)")
        try await expectRefusal(rule, "a hold already stored") {
            _ = try await store.insert([task("again")], heldAs: hold, expiringAt: start)
        }
        try expect(try await store.task(held[1].id) == nil, rule, "a held task must not be read")
        let listed = names(try await store.tasks(inGroup: nil))
        try expect(listed == ["first", "later", "queued"], rule, "listed \(listed) while tasks were held")
        try expect(try await store.cancel(held[1].id, at: start) == nil, rule, "a held task must not be cancelled")
        try await store.heartbeat(worker: "w", at: start.addingTimeInterval(1_000))
        let claimed = try await store.claim(worker: "w", limit: 10, at: start)
        try expect(names(claimed) == ["first"], rule, "claimed \(names(claimed)): held tasks keep their places")
        // Withdrawn: a held task and an unknown id; kept: a task that was never held.
        let gone = try await store.release([hold], withdrawing: [held[2].id, TaskID("unknown"), first[0].id])
        try expect(gone == [held[2].id, TaskID("unknown")], rule, "withdrawn \(gone.map(\.rawValue).sorted())")
        try expect(try await store.task(held[2].id) == nil, rule, "a withdrawn task must be deleted")
        let released = try await store.claim(worker: "w", limit: 10, at: start)
        try expect(names(released) == ["free", "queued"], rule, "claimed \(names(released)) after the release")
        let kept = try await store.release([hold], withdrawing: [held[0].id])
        try expect(kept.isEmpty, rule, "a released task must not be withdrawn")
        try expect(try await store.task(held[0].id)?.submitTime == start, rule, "a released task must be read")
        _ = try await store.finish([TaskCompletion(id: first[0].id, outcome: .finished(result: nil))], at: start)
        try expect(names(try await store.claim(worker: "w", limit: 10, at: start)) == ["held"], rule, "in line")
        // A hold nobody releases ends when lost workers are recovered after it expires.
        let orphan = try await store.insert([task("orphan")], heldAs: "lost", expiringAt: start.addingTimeInterval(30))
        _ = try await store.recoverLostWorkers(heartbeatBefore: start, at: start.addingTimeInterval(29))
        try expect(try await store.task(orphan[0].id) == nil, rule, "a hold must last until it expires")
        _ = try await store.recoverLostWorkers(heartbeatBefore: start, at: start.addingTimeInterval(30))
        try expect(try await store.task(orphan[0].id) != nil, rule, "an expired hold must end on recovery")
        try expect(names(try await store.claim(worker: "w", limit: 10, at: start)) == ["orphan"], rule, "orphan")
    }

    private static func groupsAndRetention(_ store: any TaskStore) async throws {
        let rule = "groups and retention"
        let group = TaskGroupID("g")
        let tasks = try await store.insert([task("a", group: group), task("b", group: group), task("c")])
        _ = try await store.claim(worker: "w", limit: 1, at: start)
        _ = try await store.finish([TaskCompletion(id: tasks[0].id, outcome: .finished(result: nil))], at: start)
        let summary = try await store.summary(ofGroup: group)
        try expect(summary.counts[.finished] == 1 && summary.counts[.waiting] == 1, rule, "summary \(summary.counts)")
        try expect(try await store.summary(ofGroup: TaskGroupID("none")).total == 0, rule, "unknown groups count zero")
        let cancelled = try await store.cancelGroup(group, at: start)
        try expect(
            cancelled.map(\.state) == [.finished, .canceled],
            rule,
            "cancelGroup gave \(cancelled.map(\.state))"
        )
        try expect(try await store.tasks(inGroup: group).count == 2, rule, "group listing")
        try expect(try await store.purge(finishedBefore: start) == 0, rule, "purge must be strictly before the cutoff")
        try expect(try await store.purge(finishedBefore: start.addingTimeInterval(1)) == 2, rule, "purge")
        try expect(try await store.deleteCompleted(states: [.finished]) == 0, rule, "c is waiting, not complete")
        try expect(names(try await store.tasks(inGroup: nil)) == ["c"], rule, "only the waiting task remains")
    }
}
