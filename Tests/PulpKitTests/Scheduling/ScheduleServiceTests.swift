import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// The REST-shaped service: create, update (each field), delete, list, get, bad input, cascades.
struct ScheduleServiceTests {
    static let importer = SchedulingTestImporter.type

    func harness(
        _ backend: StorageBackend = .memory,
        in directory: borrowing TemporaryDirectory
    ) async throws -> SchedulingHarness {
        let harness = try SchedulingHarness(store: try backend.scheduleStore(in: directory))
        try await harness.addRepositories()
        return harness
    }

    // MARK: - Create

    @Test(arguments: StorageBackend.allCases)
    func createsFromTheSpecSampleRequest(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let call = try await harness.service.create(
            repository: "zoo",
            importer: Self.importer,
            body: ["override_config": [:], "schedule": "00:00:00Z/P1DT", "failure_threshold": 3]
        )
        #expect(
            call.href == "/pulp/api/v2/repositories/zoo/importers/scheduling_test_importer/schedules/sync/\(call.id)/"
        )
        let report = harness.service.report(call)
        #expect(report["schedule"] == "00:00:00Z/P1DT")
        #expect(report["first_run"] == "2014-01-27T00:00:00Z")
        #expect(report["next_run"] == "2014-01-27T22:15:00Z", "a start in the past that never ran is due now")
        #expect(report["failure_threshold"] == 3)
        #expect(report["enabled"] == true)
        #expect(report["remaining_runs"] == .null)
        #expect(report["last_updated"] == .double(1_390_860_900))
        #expect(report["kwargs"] == ["overrides": [:], "scheduled_call_id": .string(call.id.rawValue)])
        #expect(report["args"] == ["zoo"])
        #expect(report["resource"] == "pulp:importer:zoo:scheduling_test_importer")
        #expect(try await harness.stored(call.id) == call)
    }

    @Test func createDefaultsToEnabledWithoutThresholdOrOverrides() async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        let call = try await harness.service.create(
            repository: "zoo",
            importer: Self.importer,
            body: ["schedule": "PT1H"]
        )
        #expect(call.enabled && call.failureThreshold == nil && call.overrideConfig == [:])
        let disabled = try await harness.service.create(
            repository: "zoo",
            importer: Self.importer,
            body: ["schedule": "R5/PT1H", "enabled": false, "override_config": ["flavour": "plain"]]
        )
        #expect(!disabled.enabled && disabled.remainingRuns == 5 && disabled.overrideConfig == ["flavour": "plain"])
    }

    /// Bodies a create refuses, with the properties the one 400 must name, in order.
    static let invalidCreations: [([String: JSONValue], [String])] = [
        ([:], ["schedule"]),
        (["schedule": .null], ["schedule"]),
        (["schedule": 5], ["schedule"]),
        (["schedule": "PT0S"], ["schedule"]),
        (["schedule": "PT"], ["schedule"]),
        (["schedule": "P0D"], ["schedule"]),
        (["schedule": "P0Y"], ["schedule"]),
        (["schedule": "P0M"], ["schedule"]),
        (["schedule": "R0/PT1H"], ["schedule"]),
        (["schedule": "R/PT1H"], ["schedule"]),
        (["schedule": "P"], ["schedule"]),
        (["schedule": "2014-01-27/PT1H"], ["schedule"]),
        (["schedule": "2014-01-27 21:41:50Z/PT1H"], ["schedule"]),
        (["schedule": "R5/R6/PT1H"], ["schedule"]),
        (["schedule": "PT1H/P1D"], ["schedule"]),
        (["schedule": "2014-01-27T00:00:00Z/2014-01-28T00:00:00Z/PT1H"], ["schedule"]),
        (["schedule": "2014-01-27T00:00:00Z"], ["schedule"]),
        (["schedule": "pt1h"], ["schedule"]),
        (["schedule": " PT1H"], ["schedule"]),
        (["schedule": "-P1D"], ["schedule"]),
        (["schedule": "2014-02-30T00:00:00Z/P1D"], ["schedule"]),
        (["schedule": "25:00:00Z/P1D"], ["schedule"]),
        (["schedule": ""], ["schedule"]),
        (["schedule": "PT1H", "failure_threshold": 0], ["failure_threshold"]),
        (["schedule": "PT1H", "failure_threshold": -1], ["failure_threshold"]),
        (["schedule": "PT1H", "failure_threshold": 2.0], ["failure_threshold"]),
        (["schedule": "PT1H", "failure_threshold": 1.5], ["failure_threshold"]),
        (["schedule": "PT1H", "failure_threshold": true], ["failure_threshold"]),
        (["schedule": "PT1H", "failure_threshold": "3"], ["failure_threshold"]),
        (["schedule": "PT1H", "enabled": "true"], ["enabled"]),
        (["schedule": "PT1H", "enabled": 1], ["enabled"]),
        (["schedule": "PT1H", "enabled": .null], ["enabled"]),
        (["schedule": "PT1H", "override_config": []], ["override_config"]),
        (["schedule": "PT1H", "override_config": "x"], ["override_config"]),
        (["schedule": "PT1H", "override_config": .null], ["override_config"]),
        (["schedule": "PT1H", "override_config": ["max_downloads": 0]], ["override_config.max_downloads"]),
        (["schedule": "PT1H", "override_config": ["flavour": 3]], ["override_config.flavour"]),
        (
            ["schedule": "PT0S", "failure_threshold": 0, "enabled": "yes", "override_config": 1],
            ["schedule", "failure_threshold", "enabled", "override_config"]
        ),
        (["enabled": 1, "schedule": "R0/PT1H"], ["schedule", "enabled"]),
    ]

    @Test(arguments: invalidCreations)
    func createRefusesBadValuesInOneFourHundredAndStoresNothing(
        body: [String: JSONValue],
        names: [String]
    ) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        let error = await #expect(throws: PulpError.self) {
            try await harness.service.create(repository: "zoo", importer: Self.importer, body: body)
        }
        #expect(error?.httpStatus == 400)
        #expect(error?.code == .invalidProperties)
        #expect(error?.propertyNames == names)
        #expect(try await harness.service.calls(repository: "zoo", importer: Self.importer).isEmpty)
    }

    @Test func createRefusesUnknownKeysBeforeLookingUpTheRepository() async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        let error = await #expect(throws: PulpError.self) {
            try await harness.service.create(
                repository: "nowhere",
                importer: Self.importer,
                body: ["schedule": "PT1H", "foo": 1, "remaining_runs": 3]
            )
        }
        #expect(error?.httpStatus == 400)
        #expect(error?.code == .unsupportedProperties)
        #expect(error?.propertyNames == ["foo", "remaining_runs"])
        #expect(error?.message == "Unsupported properties: ['foo', 'remaining_runs']")
    }

    @Test func createIsA404ForAnUnknownRepositoryOrImporter() async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        try await harness.repositories.create(Repository(id: "bare"))
        for (repository, importer, names) in [
            ("nowhere", Self.importer, ["repository"]), ("zoo", "yum_importer", ["importer", "repository"]),
            ("bare", Self.importer, ["importer", "repository"]),
        ] {
            let error = await #expect(throws: PulpError.self) {
                try await harness.service.create(
                    repository: RepositoryID(repository),
                    importer: importer,
                    body: ["schedule": "PT0S"]
                )
            }
            #expect(error?.httpStatus == 404)
            #expect(error?.propertyNames == names)
        }
    }

    // MARK: - Read

    @Test(arguments: StorageBackend.allCases)
    func listsAnImportersSchedulesOldestFirstAndGetsOne(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let first = try await harness.schedule("PT1H")
        let other = try await harness.schedule("PT2H", repository: "farm")
        let second = try await harness.schedule("P1D")
        let listed = try await harness.service.calls(repository: "zoo", importer: Self.importer)
        #expect(listed.map(\.id) == [first.id, second.id])
        let reports = harness.service.reports(listed)
        #expect(reports.arrayValue?.map { $0["_href"] } == [.string(first.href), .string(second.href)])
        #expect(try await harness.service.call(second.id, repository: "zoo", importer: Self.importer) == second)
        // Another repository's schedule is a 404 here, even though the id exists.
        let error = await #expect(throws: PulpError.self) {
            try await harness.service.call(other.id, repository: "zoo", importer: Self.importer)
        }
        #expect(error?.httpStatus == 404)
        #expect(error?.propertyNames == ["schedule_id"])
        await #expect(throws: PulpError.self) {
            try await harness.service.call("000000000000000000000000", repository: "zoo", importer: Self.importer)
        }
        let unknownImporter = await #expect(throws: PulpError.self) {
            try await harness.service.calls(repository: "zoo", importer: "yum_importer")
        }
        #expect(unknownImporter?.httpStatus == 404)
        let unknownRepository = await #expect(throws: PulpError.self) {
            try await harness.service.calls(repository: "nowhere", importer: Self.importer)
        }
        #expect(unknownRepository?.httpStatus == 404)
    }

    // MARK: - Update

    @Test(arguments: StorageBackend.allCases)
    func putOfScheduleRecomputesTheFirstRunAndKeepsTheCounters(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let call = try await harness.schedule("R3/PT1H", failureThreshold: 5)
        let claimed = try await harness.service.store.claimDue(at: harness.clock.now, limit: 1, scheduler: "s")
        #expect(claimed.map(\.id) == [call.id])
        try await harness.service.recordOutcome(of: call.id, succeeded: false)
        harness.manualClock.advance(by: 600)
        let updated = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            body: ["schedule": "R10/2014-01-28T06:00:00+01:00/PT2H"]
        )
        #expect(updated.schedule == "R10/2014-01-28T06:00:00+01:00/PT2H")
        #expect(updated.firstRun.description == "2014-01-28T06:00:00+01:00")
        #expect(updated.remainingRuns == 2 && updated.totalRunCount == 1 && updated.consecutiveFailures == 1)
        #expect(updated.lastRunAt == utc("2014-01-27T22:15:00Z"))
        #expect(updated.lastUpdated == utc("2014-01-27T22:25:00Z"))
        #expect(updated.dueTime == utc("2014-01-28T05:00:00Z"))
        #expect(harness.service.report(updated)["next_run"] == "2014-01-28T05:00:00Z")
        #expect(try await harness.stored(call.id) == updated)
        // Without a start, the new first run is now and the schedule fires at once.
        let immediate = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            schedule: "PT3H"
        )
        #expect(immediate.firstRun.description == "2014-01-27T22:25:00Z")
        #expect(immediate.isDue(at: harness.clock.now))
    }

    @Test(arguments: StorageBackend.allCases)
    func putOfOverrideConfigReplacesIt(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let call = try await harness.schedule("PT1H", overrideConfig: ["flavour": "a", "remove_missing": true])
        let updated = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            body: ["override_config": ["flavour": "b"]]
        )
        #expect(updated.overrideConfig == ["flavour": "b"])
        #expect(harness.service.report(updated)["kwargs"]?["overrides"] == ["flavour": "b"])
        #expect(updated.schedule == "PT1H" && updated.nextDue == call.nextDue)
        let error = await #expect(throws: PulpError.self) {
            try await harness.service.update(
                call.id,
                repository: "zoo",
                importer: Self.importer,
                body: ["override_config": ["download_policy": "sometimes"]]
            )
        }
        #expect(error?.propertyNames == ["override_config.download_policy"])
        #expect(try await harness.stored(call.id).overrideConfig == ["flavour": "b"])
    }

    @Test(arguments: StorageBackend.allCases)
    func putOfFailureThresholdSetsAndClearsIt(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let call = try await harness.schedule("PT1H")
        let set = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            body: ["failure_threshold": 2]
        )
        #expect(set.failureThreshold == 2)
        let cleared = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            failureThreshold: .some(nil)
        )
        #expect(cleared.failureThreshold == nil)
        #expect(harness.service.report(cleared)["failure_threshold"] == .null)
        for bad: JSONValue in [0, -2, 1.5, true, "2"] {
            let error = await #expect(throws: PulpError.self) {
                try await harness.service.update(
                    call.id,
                    repository: "zoo",
                    importer: Self.importer,
                    body: ["failure_threshold": bad]
                )
            }
            #expect(error?.propertyNames == ["failure_threshold"])
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func putOfEnabledStopsAndRestartsTheSchedule(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let call = try await harness.schedule("PT1H")
        let disabled = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            enabled: false
        )
        #expect(!disabled.enabled && disabled.dueTime == nil)
        #expect(try await harness.service.store.earliestDueTime() == nil)
        harness.manualClock.advance(by: 5)
        let enabled = try await harness.service.update(
            call.id,
            repository: "zoo",
            importer: Self.importer,
            body: ["enabled": true]
        )
        #expect(enabled.enabled && enabled.dueTime == call.nextDue)
        #expect(enabled.lastUpdated == harness.clock.now)
        let error = await #expect(throws: PulpError.self) {
            try await harness.service.update(call.id, repository: "zoo", importer: Self.importer, body: ["enabled": 0])
        }
        #expect(error?.propertyNames == ["enabled"])
    }

    @Test func putWithAnEmptyBodyOnlyTouchesLastUpdated() async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        let call = try await harness.schedule("PT1H")
        harness.manualClock.advance(by: 42)
        let touched = try await harness.service.update(call.id, repository: "zoo", importer: Self.importer, body: [:])
        var expected = call
        expected.lastUpdated = harness.clock.now
        #expect(touched == expected)
    }

    @Test func putRefusesUnsupportedKeysBadValuesAndForeignSchedules() async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        let call = try await harness.schedule("PT1H")
        let farmCall = try await harness.schedule("PT1H", repository: "farm")
        for key in ["remaining_runs", "args", "kwargs", "iso_schedule", "total_run_count"] {
            let error = await #expect(throws: PulpError.self) {
                try await harness.service.update(call.id, repository: "zoo", importer: Self.importer, body: [key: 1])
            }
            #expect(error?.code == .unsupportedProperties)
            #expect(error?.propertyNames == [key])
        }
        let bad = await #expect(throws: PulpError.self) {
            try await harness.service.update(
                call.id,
                repository: "zoo",
                importer: Self.importer,
                body: ["schedule": "PT0S", "enabled": "no", "override_config": []]
            )
        }
        #expect(bad?.propertyNames == ["schedule", "enabled", "override_config"])
        let nullSchedule = await #expect(throws: PulpError.self) {
            try await harness.service.update(
                call.id,
                repository: "zoo",
                importer: Self.importer,
                body: ["schedule": nil]
            )
        }
        #expect(nullSchedule?.propertyNames == ["schedule"])
        for (id, repository, importer) in [
            (farmCall.id, "zoo", Self.importer), (call.id, "zoo", "yum_importer"), (call.id, "nowhere", Self.importer),
            (ScheduleID("missing"), "zoo", Self.importer),
        ] {
            let error = await #expect(throws: PulpError.self) {
                try await harness.service.update(
                    id,
                    repository: RepositoryID(repository),
                    importer: importer,
                    enabled: false
                )
            }
            #expect(error?.httpStatus == 404)
        }
        #expect(try await harness.stored(call.id) == call)
        #expect(try await harness.stored(farmCall.id) == farmCall)
    }

    // MARK: - Delete

    @Test(arguments: StorageBackend.allCases)
    func deletesASchedule(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let call = try await harness.schedule("PT1H")
        let kept = try await harness.schedule("PT2H")
        let farmCall = try await harness.schedule("PT2H", repository: "farm")
        let foreign = await #expect(throws: PulpError.self) {
            try await harness.service.delete(farmCall.id, repository: "zoo", importer: Self.importer)
        }
        #expect(foreign?.httpStatus == 404)
        try await harness.service.delete(call.id, repository: "zoo", importer: Self.importer)
        #expect(try await harness.service.calls(repository: "zoo", importer: Self.importer).map(\.id) == [kept.id])
        let again = await #expect(throws: PulpError.self) {
            try await harness.service.delete(call.id, repository: "zoo", importer: Self.importer)
        }
        #expect(again?.httpStatus == 404)
        #expect(again?.message == "Missing resource(s): schedule_id=\(call.id)")
    }

    @Test(arguments: StorageBackend.allCases)
    func deletingARepositoryOrItsImporterDeletesItsSchedules(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let zoo = [try await harness.schedule("PT1H"), try await harness.schedule("PT2H")]
        let farm = try await harness.schedule("PT1H", repository: "farm")
        try await harness.repositories.delete("zoo")
        for call in zoo { #expect(try await harness.service.store.call(call.id) == nil) }
        #expect(try await harness.service.store.call(farm.id) != nil)
        try await harness.repositories.removeImporter(of: "farm", importerID: Self.importer)
        #expect(try await harness.service.store.call(farm.id) == nil)
        #expect(try await harness.service.store.earliestDueTime() == nil)
    }

    @Test(arguments: StorageBackend.allCases)
    func replacingAnImporterDeletesTheOldOnesSchedules(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(backend, in: directory)
        let old = try await harness.schedule("PT1H")
        let farm = try await harness.schedule("PT1H", repository: "farm")
        // Pulp 2's set_importer removes the existing importer first, schedules included, whatever the type.
        try await harness.repositories.setImporter(of: "zoo", typeID: Self.importer)
        #expect(try await harness.service.store.call(old.id) == nil)
        #expect(try await harness.service.store.call(farm.id) != nil)
        let new = try await harness.schedule("PT1H")
        #expect(try await harness.service.store.call(new.id) != nil)
    }

    // MARK: - Outcomes

    @Test func taskCompletionsCountForTheirSchedule() async throws {
        let directory = try TemporaryDirectory()
        let harness = try await harness(in: directory)
        let call = try await harness.schedule("PT1H", failureThreshold: 2)
        var task = TaskStatus(
            name: SyncService.syncTask.name,
            arguments: ["repo_id": "zoo", "sync_config_override": [:], "scheduled_call_id": .string(call.id.rawValue)],
            submitTime: harness.clock.now
        )
        task.state = .error
        await harness.service.record(task)
        #expect(try await harness.stored(call.id).consecutiveFailures == 1)
        task.state = .canceled
        await harness.service.record(task)
        #expect(try await harness.stored(call.id).consecutiveFailures == 0)
        task.state = .error
        await harness.service.record(task)
        await harness.service.record(task)
        #expect(try await !harness.stored(call.id).enabled)
        task.state = .running
        await harness.service.record(task)
        #expect(try await harness.stored(call.id).consecutiveFailures == 2)
        // Tasks of no schedule, or of a deleted one, change nothing.
        task.state = .error
        task.arguments = ["repo_id": "zoo", "scheduled_call_id": .null]
        await harness.service.record(task)
        task.arguments = ["scheduled_call_id": "000000000000000000000000"]
        await harness.service.record(task)
        #expect(try await harness.stored(call.id).consecutiveFailures == 2)
    }
}

extension StorageBackend {
    /// A new, empty schedule store; SQLite files live in `directory`.
    func scheduleStore(
        in directory: borrowing TemporaryDirectory,
        name: String = "schedules.db"
    ) throws -> any ScheduleStore {
        switch self {
        case .memory: InMemoryScheduleStore()
        case .sqlite: try SQLiteScheduleStore(path: directory.path(name))
        }
    }
}
