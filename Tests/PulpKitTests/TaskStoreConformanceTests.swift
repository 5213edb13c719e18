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
        let failure = await #expect(throws: ConformanceFailure.self) {
            try await TaskStoreConformance.check { ScriptedTaskStore(dropsResources: true) }
        }
        #expect(failure?.rule == "2. reservations")
    }
}
