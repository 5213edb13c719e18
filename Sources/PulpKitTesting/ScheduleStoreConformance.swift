public import Foundation
public import PulpKit

/// Checks that a ``PulpKit/ScheduleStore`` keeps every rule its documentation states.
///
/// Call it from any test framework with a factory of fresh, empty stores; it throws a
/// ``ConformanceFailure`` naming the first broken rule:
///
/// ```swift
/// @Test func myStoreConforms() async throws {
///     try await ScheduleStoreConformance.check { try MyScheduleStore(url: freshDatabase()) }
/// }
/// ```
public enum ScheduleStoreConformance {
    /// Runs every rule, each against a new store from `makeStore`.
    public static func check(_ makeStore: () async throws -> any ScheduleStore) async throws {
        try await insert(try await makeStore())
        try await read(try await makeStore())
        try await update(try await makeStore())
        try await delete(try await makeStore())
        try await due(try await makeStore())
        try await claim(try await makeStore())
        try await concurrentClaims(try await makeStore())
        try await lookAhead(try await makeStore())
    }

    /// 2014-01-27T22:15:00Z, the creation time of Pulp's worked examples.
    public static let start = Date(timeIntervalSince1970: 1_390_860_900)

    private static let zoo = RepositoryID("zoo")
    private static let farm = RepositoryID("farm")

    /// A call named `id` of `repository`'s `importer`, created at `start + offset`.
    private static func call(
        _ id: String,
        _ schedule: String = "PT1H",
        in repository: RepositoryID = zoo,
        importer: String = "yum_importer",
        offset: TimeInterval = 0
    ) throws -> ScheduledCall {
        try ScheduledCall(
            id: ScheduleID(id),
            repositoryID: repository,
            importerID: importer,
            schedule: schedule,
            createdAt: start + offset
        )
    }

    private static func expect(_ condition: Bool, _ rule: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(rule: rule, detail: detail()) }
    }

    private static func ids(_ calls: [ScheduledCall]) -> [String] { calls.map(\.id.rawValue) }

    private static func expectError(
        status: Int,
        _ rule: String,
        _ what: String,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as PulpError {
            try expect(error.httpStatus == status, rule, "\(what) must be a \(status), got \(error)")
            return
        }
        throw ConformanceFailure(rule: rule, detail: "\(what) must be refused with a \(status)")
    }

    private static func insert(_ store: any ScheduleStore) async throws {
        let rule = "1. insert"
        var configured = try ScheduledCall(
            id: "configured",
            repositoryID: zoo,
            importerID: "yum_importer",
            schedule: "R5/2014-01-27T21:41:50+05:30/PT1H",
            overrideConfig: ["verify_size": false, "nested": ["list": [1, 2.5, "x", nil]]],
            failureThreshold: 3,
            enabled: false,
            createdAt: start
        )
        configured.lastUpdated = start + 0.25
        var used = try call("used", "P1M", offset: 60)
        used.recordDispatch(at: start + 90.5, by: "scheduler-a")
        used.recordOutcome(succeeded: false, at: start + 120)
        let plain = try call("plain", "00:00:00Z/P1DT", in: farm, importer: "iso_importer")
        for call in [configured, used, plain] { try await store.insert(call) }
        for call in [configured, used, plain] {
            let stored = try await store.call(call.id)
            try expect(stored == call, rule, "read back \(String(describing: stored)), expected \(call)")
        }
        var duplicate = try call("used", "PT5M", in: farm)
        duplicate.enabled = false
        try await expectError(status: 409, rule, "a duplicate id") { try await store.insert(duplicate) }
        try expect(try await store.call("used") == used, rule, "a refused insert must change nothing")
        try expect(
            try await store.calls(repository: farm, importer: nil).count == 1,
            rule,
            "a refused insert must store nothing"
        )
    }

    private static func read(_ store: any ScheduleStore) async throws {
        let rule = "2. read"
        try await store.insert(try call("b", in: zoo, importer: "yum_importer"))
        try await store.insert(try call("a", in: zoo, importer: "iso_importer"))
        try await store.insert(try call("c", in: farm, importer: "yum_importer"))
        try await store.insert(try call("d", in: zoo, importer: "yum_importer"))
        try await store.insert(try call("e", in: RepositoryID("zo"), importer: "yum_importer"))
        let all = ids(try await store.calls(repository: zoo, importer: nil))
        try expect(all == ["b", "a", "d"], rule, "zoo's calls in insertion order gave \(all)")
        let yum = ids(try await store.calls(repository: zoo, importer: "yum_importer"))
        try expect(yum == ["b", "d"], rule, "zoo's yum_importer calls gave \(yum)")
        let none = ids(try await store.calls(repository: farm, importer: "iso_importer"))
        try expect(none.isEmpty, rule, "farm has no iso_importer calls, got \(none)")
        let unknown = ids(try await store.calls(repository: RepositoryID("unknown"), importer: nil))
        try expect(unknown.isEmpty, rule, "an unknown repository has no calls, got \(unknown)")
        try expect(try await store.call("missing") == nil, rule, "an unknown id must read as nil")
    }

    private struct Refusal: Error {}

    private static func update(_ store: any ScheduleStore) async throws {
        let rule = "3. update"
        let original = try call("u", "R3/PT10M")
        try await store.insert(original)
        let changed = try await store.update("u") { call in
            call.enabled = false
            call.failureThreshold = 2
            call.overrideConfig = ["remove_missing": true]
            try call.reschedule("2030-01-01T00:00:00Z/P1D", at: start + 30)
        }
        try expect(!changed.enabled && changed.failureThreshold == 2, rule, "the change was not applied: \(changed)")
        try expect(try await store.call("u") == changed, rule, "the stored call must be what update returned")
        do {
            try await store.update("u") { call in
                call.enabled = true
                throw Refusal()
            }
            throw ConformanceFailure(rule: rule, detail: "an error thrown by the change must be rethrown")
        } catch is Refusal {}
        try expect(try await store.call("u") == changed, rule, "a change that throws must change nothing")
        let other = try call("other")
        try await expectError(status: 400, rule, "changing the id") {
            try await store.update("u") { $0 = other }
        }
        let moved = try call("u", in: farm)
        try await expectError(status: 400, rule, "changing the repository") {
            try await store.update("u") { $0 = moved }
        }
        try expect(try await store.call("u") == changed, rule, "a refused change must change nothing")
        try await expectError(status: 404, rule, "updating an unknown id") {
            try await store.update("missing") { $0.enabled = false }
        }
        let due = try await store.update("u") { $0.enabled = true }
        try expect(due.dueTime != nil, rule, "re-enabling must make the call due again")
        try expect(
            try await store.earliestDueTime() == due.dueTime,
            rule,
            "an update must move the due time to \(String(describing: due.dueTime))"
        )
    }

    private static func delete(_ store: any ScheduleStore) async throws {
        let rule = "4. delete"
        for (id, repository) in [("z1", zoo), ("f1", farm), ("z2", zoo), ("z3", zoo)] {
            try await store.insert(try call(id, in: repository))
        }
        try expect(try await store.delete("z2"), rule, "deleting a stored call must return true")
        try expect(try await !store.delete("z2"), rule, "deleting it again must return false")
        try expect(try await store.call("z2") == nil, rule, "a deleted call must be gone")
        let deleted = try await store.deleteCalls(repository: zoo)
        try expect(deleted == 2, rule, "deleteCalls(zoo) removed \(deleted), expected 2")
        try expect(try await store.calls(repository: zoo, importer: nil).isEmpty, rule, "zoo must have no calls")
        let left = ids(try await store.calls(repository: farm, importer: nil))
        try expect(left == ["f1"], rule, "deleting zoo's calls left farm with \(left)")
        try expect(
            try await store.earliestDueTime() == start,
            rule,
            "deleted calls must no longer be due"
        )
        try await store.insert(try call("z2", in: zoo))
        try expect(try await store.call("z2") != nil, rule, "a deleted id must be free again")
    }

    private static func due(_ store: any ScheduleStore) async throws {
        let rule = "5. due"
        try expect(try await store.earliestDueTime() == nil, rule, "an empty store has nothing due")
        try await store.insert(try call("future", "2030-01-01T00:00:00Z/P1D"))
        let future = Date(timeIntervalSince1970: 1_893_456_000)
        try expect(try await store.earliestDueTime() == future, rule, "a future start is due at the start")
        var disabled = try call("disabled", "PT1M", offset: -3600)
        disabled.enabled = false
        try await store.insert(disabled)
        var exhausted = try call("exhausted", "R1/PT1M", offset: -7200)
        exhausted.recordDispatch(at: start - 7200, by: "s")
        try await store.insert(exhausted)
        try expect(
            try await store.earliestDueTime() == future,
            rule,
            "disabled and exhausted calls must never be due"
        )
        try await store.update("exhausted") { $0.enabled = true }
        try expect(
            try await store.earliestDueTime() == future,
            rule,
            "re-enabling an exhausted call must not make it due"
        )
        try await store.insert(try call("now", offset: 5))
        try expect(try await store.earliestDueTime() == start + 5, rule, "a never-run call is due at its first run")
        try await store.update("disabled") { $0.enabled = true }
        try expect(
            try await store.earliestDueTime() == start - 3600,
            rule,
            "re-enabling a call makes its due time count again"
        )
        let nothing = try await store.claimDue(at: start - 3601, limit: 10, scheduler: "s")
        try expect(nothing.isEmpty, rule, "a claim before any due time must take nothing, took \(ids(nothing))")
    }

    private static func claim(_ store: any ScheduleStore) async throws {
        let rule = "6. claim"
        try await store.insert(try call("late", offset: 20))
        try await store.insert(try call("tie-1", offset: 10))
        try await store.insert(try call("first", offset: 0))
        try await store.insert(try call("tie-2", offset: 10))
        try await store.insert(try call("later", "2030-01-01T00:00:00Z/P1D"))
        let now = start + 10.5
        let one = try await store.claimDue(at: now, limit: 1, scheduler: "s1")
        try expect(ids(one) == ["first"], rule, "a claim of 1 must take the earliest, took \(ids(one))")
        let claimed = try await store.claimDue(at: now, limit: 10, scheduler: "s2")
        try expect(ids(claimed) == ["tie-1", "tie-2"], rule, "due order with ties by insertion gave \(ids(claimed))")
        for call in one + claimed {
            try expect(
                call.lastRunAt == now && call.totalRunCount == 1 && call.nextDue > now,
                rule,
                "a claimed call must record its dispatch at \(now): \(call)"
            )
            try expect(try await store.call(call.id) == call, rule, "a claimed call must be stored as returned")
        }
        try expect(claimed.allSatisfy { $0.lastClaimedBy == "s2" }, rule, "a claim must record its scheduler")
        let again = try await store.claimDue(at: now, limit: 10, scheduler: "s3")
        try expect(again.isEmpty, rule, "a run must be claimed once, but \(ids(again)) were claimed again")
        // Never claimed, "late" is still due at its first run; the others are due on their grids.
        let next = try await store.claimDue(at: start + 3610, limit: 10, scheduler: "s1")
        try expect(
            ids(next) == ["late", "first", "tie-1", "tie-2"],
            rule,
            "the next slots, an hour after the first runs, gave \(ids(next))"
        )
        try await store.insert(try call("twice", "R2/PT1M", offset: 3600))
        _ = try await store.claimDue(at: start + 3610, limit: 10, scheduler: "s1")
        let last = try await store.claimDue(at: start + 3660, limit: 10, scheduler: "s1")
        let twice = try await store.call("twice")
        try expect(
            ids(last).contains("twice") && twice?.remainingRuns == 0 && twice?.enabled == false,
            rule,
            "R2 must be exhausted and disabled after two claims, got \(String(describing: twice))"
        )
        let after = try await store.claimDue(at: start + 7200, limit: 10, scheduler: "s1")
        try expect(!ids(after).contains("twice"), rule, "an exhausted call must never be claimed again")
    }

    /// A claim ahead of the due time records the dispatch at the due time, hands the runs to `onClaim`,
    /// and can be undone so that the run is due again.
    private static func lookAhead(_ store: any ScheduleStore) async throws {
        let rule = "6. claim"
        try await store.insert(try call("ahead", "2014-01-27T23:00:00Z/PT1H"))
        try await store.insert(try call("beyond", "2014-01-27T23:00:02Z/PT1H"))
        let due = start + 45 * 60
        let handed = Handed()
        let runs = try await store.claimDue(until: due + 0.5, at: due - 0.5, limit: 10, scheduler: "s") { runs in
            handed.runs.withLock { $0.append(runs) }
        }
        try expect(runs.map(\.id.rawValue) == ["ahead"], rule, "a claim 0.5 s ahead took \(runs.map(\.id.rawValue))")
        try expect(handed.runs.withLock { $0 } == [runs], rule, "onClaim must be called once with the claimed runs")
        guard let run = runs.first else { return }
        try expect(
            run.call.lastRunAt == due && run.dueTime == due && run.previousRunAt == nil && run.call.nextDue > due,
            rule,
            "a run claimed ahead must be recorded at its due time \(due): \(run)"
        )
        let again = try await store.claimDue(until: due + 0.5, at: due, limit: 10, scheduler: "t") { _ in }
        try expect(again.isEmpty, rule, "a run claimed ahead must not be claimed again")
        let undone = try await store.update(run.id) { $0.undoDispatch(run) }
        try expect(
            undone.totalRunCount == 0 && undone.lastRunAt == nil && undone.nextDue == due,
            rule,
            "an undone claim must leave the call as before it: \(undone)"
        )
        let retaken = try await store.claimDue(until: due, at: due, limit: 10, scheduler: "t") { _ in }
        try expect(retaken.map(\.id) == [run.id], rule, "an undone run must be due again")
        // One run of a call is claimed ahead at a time, however short its interval.
        try await store.insert(try call("fast", "2014-01-27T23:00:10Z/PT0.1S"))
        let soon = due + 10
        var fast: [Date] = []
        for _ in 0..<3 {
            fast += try await store.claimDue(until: soon + 1, at: soon - 0.5, limit: 10, scheduler: "s") { _ in }
                .filter { $0.id == "fast" }.map(\.dueTime)
        }
        try expect(fast == [soon], rule, "a call must have one run claimed ahead at a time, got \(fast)")
        let next = try await store.claimDue(until: soon + 1, at: soon, limit: 10, scheduler: "s") { _ in }
        try expect(next.map(\.id) == ["fast"], rule, "once its run is due, the next run can be claimed ahead")
    }

    /// What `onClaim` was handed, call by call.
    private final class Handed: Sendable {
        let runs = PulpMutex<[[ClaimedRun]]>([])
    }

    private static func concurrentClaims(_ store: any ScheduleStore) async throws {
        let rule = "6. claim"
        let count = 60
        for index in 0..<count { try await store.insert(try call("c\(index)", offset: TimeInterval(index % 7))) }
        let now = start + 30
        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for claimer in 0..<6 {
                group.addTask {
                    var taken: [String] = []
                    while true {
                        let batch = try await store.claimDue(at: now, limit: 4, scheduler: "s\(claimer)")
                        if batch.isEmpty { return taken }
                        taken += ids(batch)
                    }
                }
            }
            var all: [String] = []
            for try await taken in group { all += taken }
            return all
        }
        try expect(
            claims.count == count && Set(claims).count == count,
            rule,
            "6 concurrent claimers took \(claims.count) runs (\(Set(claims).count) distinct) of \(count)"
        )
    }
}
