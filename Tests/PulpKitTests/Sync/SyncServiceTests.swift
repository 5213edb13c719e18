import Foundation
import PulpKit
import PulpKitTesting
import Testing

/// An importer that does what each test tells it: add units, fail, throw, or wait to be cancelled.
struct ScriptedImporter: Importer {
    enum Script: Sendable {
        case add([ContentUnit])
        case reportFailure
        case raise(PulpError)
        case waitForCancellation
    }

    let typeID = "scripted_importer"
    let contentTypes: Set<String> = ["thing"]
    let script: Script

    func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] {
        guard let mode = configuration["mode"] else { return [] }
        return mode.stringValue == "ok" ? [] : [.init("mode", "must be \"ok\"")]
    }

    func sync(_ context: SyncContext) async throws -> SyncReport {
        switch script {
        case .add(let units):
            try await context.add(units)
            return SyncReport(summary: ["added": .int(units.count)], details: ["note": "done"])
        case .reportFailure:
            return SyncReport(succeeded: false, summary: ["problem": "feed is broken"])
        case .raise(let error):
            throw error
        case .waitForCancellation:
            while true {
                try context.checkCancellation()
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }
}

private func thing(_ name: String) -> ContentUnit { ContentUnit(typeID: "thing", unitKey: ["name": .string(name)]) }

@Suite("Sync service")
struct SyncServiceTests {
    private func withRepository<Result: Sendable>(
        _ script: ScriptedImporter.Script,
        _ body: (SyncHarness) async throws -> Result
    ) async throws -> Result {
        try await SyncHarness.run(importers: [ScriptedImporter(script: script)]) { harness in
            try await harness.repositories.create(Repository(id: "zoo"), importerTypeID: "scripted_importer")
            return try await body(harness)
        }
    }

    @Test
    func aSuccessfulSyncReturnsItsHistoryEntry() async throws {
        try await withRepository(.add([thing("a"), thing("b")])) { harness in
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .finished)
            #expect(status.name == "pulp.server.managers.repo.sync.sync")
            #expect(status.arguments == ["repo_id": "zoo", "sync_config_override": [:], "scheduled_call_id": nil])
            let entry = try SyncHistoryEntry(json: status.result)
            #expect(entry.result == .success && entry.addedCount == 2)
            #expect(entry.summary == ["added": 2] && entry.details == ["note": "done"])
            #expect(entry.errorMessage == nil && entry.exception == nil && entry.traceback == nil)
            #expect(try await harness.history(of: "zoo") == [entry])
        }
    }

    @Test
    func anImporterThatReportsFailureEndsTheTaskInError() async throws {
        try await withRepository(.reportFailure) { harness in
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            #expect(status.error?.description == "Importer indicated a failed response")
            let entry = try #require(try await harness.history(of: "zoo").first)
            #expect(entry.result == .failed)
            #expect(entry.summary == ["problem": "feed is broken"])
        }
    }

    @Test
    func anImporterThatThrowsIsRecordedWithMessageExceptionAndTraceback() async throws {
        let error = PulpError.invalid("feed", "the feed answered 500")
        try await withRepository(.raise(error)) { harness in
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            #expect(status.error?.code == error.code.rawValue)
            let entry = try #require(try await harness.history(of: "zoo").first)
            #expect(entry.result == .failed)
            #expect(entry.errorMessage == error.message)
            #expect(entry.exception?.contains("PulpError") == true)
            #expect(entry.traceback?.contains("thrown at") == true)
            #expect(entry.addedCount == 0)
        }
    }

    @Test
    func aCancelledSyncIsRecordedAsCanceled() async throws {
        try await withRepository(.waitForCancellation) { harness in
            let report = try await harness.sync.sync(repository: "zoo")
            let id = try #require(report.taskID)
            while try await harness.dispatcher.status(of: id).state != .running {
                try await Task.sleep(for: .milliseconds(2))
            }
            _ = try await harness.dispatcher.cancel(id)
            #expect(try await harness.dispatcher.waitForCompletion(of: id).state == .canceled)
            #expect(try await harness.history(of: "zoo").first?.result == .canceled)
        }
    }

    @Test
    func syncsOfOneRepositoryAreSerialised() async throws {
        try await withRepository(.add([thing("a")])) { harness in
            let reports = try await [
                harness.sync.sync(repository: "zoo"), harness.sync.sync(repository: "zoo"),
                harness.sync.sync(repository: "zoo"),
            ]
            var statuses: [TaskStatus] = []
            for report in reports {
                statuses.append(try await harness.dispatcher.waitForCompletion(of: try #require(report.taskID)))
            }
            for (earlier, later) in zip(statuses, statuses.dropFirst()) {
                #expect(try #require(earlier.finishTime) <= (try #require(later.startTime)))
            }
            let added = try await harness.history(of: "zoo").map(\.addedCount)
            #expect(added.sorted { ($0 ?? 0) < ($1 ?? 0) } == [0, 0, 1])
        }
    }

    @Test
    func theRepositoryMustExistAndHaveAnImporter() async throws {
        try await withRepository(.add([])) { harness in
            try await harness.repositories.create(Repository(id: "bare"))
            for id: RepositoryID in ["nope", "bare"] {
                let error = await #expect(throws: PulpError.self) { try await harness.sync.sync(repository: id) }
                #expect(error?.httpStatus == 404)
            }
            let download = await #expect(throws: PulpError.self) { try await harness.sync.download(repository: "nope") }
            #expect(download?.httpStatus == 404)
            #expect(try await harness.dispatcher.tasks().isEmpty)
        }
    }
}

@Suite("Repository service")
struct RepositoryServiceTests {
    @Test(arguments: ["", "a/b", String(repeating: "x", count: 256), "tab\there"])
    func badRepositoryIDsAreRefused(id: String) async throws {
        try await SyncHarness.run(importers: []) { harness in
            let error = await #expect(throws: PulpError.self) {
                try await harness.repositories.create(Repository(id: RepositoryID(id)))
            }
            #expect(error?.httpStatus == 400)
            #expect(error?.propertyNames == ["id"])
            let stored = try await harness.repositories.repositories()
            #expect(stored.isEmpty)
        }
    }

    @Test
    func importerTypeAndConfigurationAreValidatedWithEveryProblemAtOnce() async throws {
        try await SyncHarness.run(importers: [ScriptedImporter(script: .add([]))]) { harness in
            let unknown = await #expect(throws: PulpError.self) {
                try await harness.repositories.create(Repository(id: "zoo"), importerTypeID: "yum_importer")
            }
            #expect(unknown?.propertyNames == ["importer_type_id"])
            let bad = await #expect(throws: PulpError.self) {
                try await harness.repositories.create(
                    Repository(id: "zoo"),
                    importerTypeID: "scripted_importer",
                    importerConfiguration: ["feed": "ftp://x", "verify_size": "yes", "mode": "weird"]
                )
            }
            #expect(bad?.httpStatus == 400)
            #expect(bad?.propertyNames == ["feed", "verify_size", "mode"])
            #expect(try await harness.repositories.repositories().isEmpty == true)
            let longest = String(repeating: "x", count: 255)
            try await harness.repositories.create(Repository(id: RepositoryID(longest)))
        }
    }

    @Test
    func importerConfigurationUpdatesMergeAndValidate() async throws {
        try await SyncHarness.run(importers: [ScriptedImporter(script: .add([]))]) { harness in
            try await harness.repositories.create(
                Repository(id: "zoo"),
                importerTypeID: "scripted_importer",
                importerConfiguration: ["feed": "http://example.com/", "max_downloads": 3]
            )
            let updated = try await harness.repositories.updateImporterConfiguration(
                of: "zoo",
                changes: ["max_downloads": nil, "remove_missing": true]
            )
            #expect(updated.configuration == ["feed": "http://example.com/", "remove_missing": true])
            let refused = await #expect(throws: PulpError.self) {
                try await harness.repositories.updateImporterConfiguration(
                    of: "zoo",
                    changes: ["remove_missing": "no", "feed": nil, "mode": 1]
                )
            }
            #expect(refused?.propertyNames == ["remove_missing", "mode"])
            #expect(try await harness.repositories.repository("zoo").importer?.configuration == updated.configuration)
            let wrongImporter = await #expect(throws: PulpError.self) {
                try await harness.repositories.updateImporterConfiguration(of: "zoo", importerID: "x", changes: [:])
            }
            #expect(wrongImporter?.httpStatus == 404)
        }
    }

    @Test
    func deletingARepositoryRemovesItsAssociationsHistoryAndTellsObservers() async throws {
        try await SyncHarness.run(importers: [ScriptedImporter(script: .add([thing("a")]))]) { harness in
            let deleted = Deleted()
            harness.repositories.onDelete { id, importerOnly in await deleted.record(id, importerOnly) }
            try await harness.repositories.create(Repository(id: "zoo"), importerTypeID: "scripted_importer")
            _ = try await harness.syncAndWait("zoo")
            #expect(try await harness.content.units(in: "zoo").count == 1)

            try await harness.repositories.removeImporter(of: "zoo", importerID: "scripted_importer")
            try await harness.repositories.delete("zoo")
            #expect(try await harness.content.units(in: "zoo").isEmpty)
            #expect(try await harness.history(of: "zoo").isEmpty)
            #expect(await deleted.events == ["zoo importer", "zoo"])
            let again = await #expect(throws: PulpError.self) { try await harness.repositories.delete("zoo") }
            #expect(again?.httpStatus == 404)
        }
    }

    @Test
    func notesMergeAndNullRemovesAKey() async throws {
        try await SyncHarness.run(importers: []) { harness in
            try await harness.repositories.create(Repository(id: "zoo", notes: ["a": 1, "b": 2]))
            let updated = try await harness.repositories.update(
                "zoo",
                displayName: "Zoo",
                description: "animals",
                notes: ["a": nil, "c": 3]
            )
            #expect(updated.notes == ["b": 2, "c": 3])
            #expect(updated.displayName == "Zoo" && updated.description == "animals")
            let bad = await #expect(throws: PulpError.self) {
                try await harness.repositories.update("zoo", description: 5)
            }
            #expect(bad?.propertyNames == ["description"])
        }
    }
}

private actor Deleted {
    var events: [String] = []
    func record(_ id: RepositoryID, _ importerOnly: Bool) { events.append(importerOnly ? "\(id) importer" : "\(id)") }
}
