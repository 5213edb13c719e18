import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// The composition root wires the schedules: its store follows the configured storage, `run()` runs the
/// scheduler, and a scheduled sync runs to completion.
struct PulpSchedulingTests {
    @Test(arguments: StorageBackend.allCases)
    func aScheduledSyncRunsUnderPulpRun(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let clock = ManualWallClock()
        let storage: PulpConfiguration.Storage =
            switch backend {
            case .memory: .inMemory(contentRoot: directory.url.appendingPathComponent("content"))
            case .sqlite: .sqlite(directory: directory.url)
            }
        let pulp = try Pulp(configuration: PulpConfiguration(storage: storage, workerCount: 2, clock: clock))
        pulp.register(SchedulingTestImporter())
        try await pulp.repositories.create(Repository(id: "zoo"), importerTypeID: SchedulingTestImporter.type)
        let completions = CompletionRecorder(pulp.dispatcher)
        let call = try await pulp.schedules.create(
            repository: "zoo",
            importer: SchedulingTestImporter.type,
            schedule: "R1/PT1H"
        )
        let done = await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pulp.run() }
            defer { group.cancelAll() }
            return await completions.waitFor(1)
        }
        #expect(done.first?.state == .finished)
        #expect(done.first?.arguments["scheduled_call_id"] == .string(call.id.rawValue))
        let stored = try #require(try await pulp.schedules.store.call(call.id))
        #expect(stored.totalRunCount == 1 && stored.remainingRuns == 0 && !stored.enabled)
        #expect(pulp.scheduler.statistics.dispatched == 1)
    }
}
