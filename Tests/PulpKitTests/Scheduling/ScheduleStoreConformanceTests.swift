import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

struct ScheduleStoreConformanceTests {
    @Test func theInMemoryStoreConforms() async throws {
        try await ScheduleStoreConformance.check { InMemoryScheduleStore() }
    }

    @Test func theSQLiteStoreConforms() async throws {
        let directory = try TemporaryDirectory()
        var count = 0
        try await ScheduleStoreConformance.check {
            count += 1
            return try SQLiteScheduleStore(path: directory.path("schedules-\(count).db"))
        }
    }

    @Test func aBrokenStoreIsCaughtWithTheRuleItBreaks() async throws {
        // A store whose claim forgets to record the dispatch: the same run is claimed again and again.
        final class Forgetful: ScheduleStore {
            let base = InMemoryScheduleStore()
            func insert(_ call: ScheduledCall) async throws { try await base.insert(call) }
            func call(_ id: ScheduleID) async throws -> ScheduledCall? { try await base.call(id) }
            func calls(repository: RepositoryID, importer: String?) async throws -> [ScheduledCall] {
                try await base.calls(repository: repository, importer: importer)
            }
            func update(
                _ id: ScheduleID,
                _ change: @escaping @Sendable (inout ScheduledCall) throws -> Void
            ) async throws -> ScheduledCall {
                try await base.update(id, change)
            }
            func delete(_ id: ScheduleID) async throws -> Bool { try await base.delete(id) }
            func deleteCalls(repository: RepositoryID) async throws -> Int {
                try await base.deleteCalls(repository: repository)
            }
            func earliestDueTime() async throws -> Date? { try await base.earliestDueTime() }
            func claimDue(
                until horizon: Date,
                at now: Date,
                limit: Int,
                scheduler: String,
                onClaim: @escaping @Sendable ([ClaimedRun]) -> Void
            ) async throws -> [ClaimedRun] {
                var due: [ScheduledCall] = []
                for repository in ["zoo", "farm", "zo"] {
                    due += try await base.calls(repository: RepositoryID(repository), importer: nil)
                        .filter { $0.isDue(at: max(horizon, now)) }
                }
                let runs = due.sorted { $0.nextDue < $1.nextDue }.prefix(limit)
                    .map { ClaimedRun(call: $0, previousRunAt: $0.lastRunAt) }
                onClaim(runs)
                return runs
            }
        }
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await ScheduleStoreConformance.check { Forgetful() }
        }
        #expect(failure?.rule == "6. claim")
    }

    @Test func theSQLiteStoreKeepsSchedulesAcrossReopening() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("schedules.db")
        let start = ScheduleStoreConformance.start
        var call = try ScheduledCall(
            repositoryID: "zoo",
            importerID: "yum_importer",
            schedule: "R3/PT1H",
            overrideConfig: ["a": 1],
            createdAt: start
        )
        do {
            let store = try SQLiteScheduleStore(path: path)
            try await store.insert(call)
            call = try #require(try await store.claimDue(at: start + 1, limit: 5, scheduler: "s").first)
        }
        let reopened = try SQLiteScheduleStore(path: path)
        #expect(try await reopened.call(call.id) == call)
        #expect(try await reopened.earliestDueTime() == start + 3600)
    }
}
