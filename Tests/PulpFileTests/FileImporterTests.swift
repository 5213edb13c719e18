import Foundation
import PulpFile
import PulpKit
import PulpKitTesting
import Testing

/// Creates repository `zoo` with a file importer on `feed`.
private func makeRepository(
    _ harness: SyncHarness,
    _ feed: Feed,
    _ configuration: [String: JSONValue] = [:],
    id: RepositoryID = "zoo"
) async throws {
    try await harness.repositories.create(
        Repository(id: id),
        importerTypeID: "iso_importer",
        importerConfiguration: feed.configuration(configuration)
    )
}

/// The stored bytes of every unit of a repository, by name.
private func storedFiles(_ harness: SyncHarness, _ repository: RepositoryID) async throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    for unit in try await harness.content.units(in: repository) where unit.downloaded {
        let url = try harness.storage.url(forRelativePath: try #require(unit.storagePath))
        files[try #require(unit.unitKey["name"]?.stringValue)] = Array(try Data(contentsOf: url))
    }
    return files
}

/// The files under a directory, recursively, as relative paths.
private func filesUnder(_ url: URL) -> [String] {
    let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
    var paths: [String] = []
    while let file = enumerator?.nextObject() as? URL {
        if (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            paths.append(String(file.path.dropFirst(url.path.count)))
        }
    }
    return paths.sorted()
}

@Suite("File importer")
struct FileImporterTests {
    @Test(arguments: SyncHarness.Backend.allCases)
    func firstSyncStoresEveryFileAndRecordsHistory(backend: SyncHarness.Backend) async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("sub/b.iso", "bravo")
        try feed.put("c.iso", "")
        try await SyncHarness.run(importers: [FileImporter()], backend: backend) { harness in
            try await makeRepository(harness, feed)
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .finished)
            #expect(status.tags == ["pulp:repository:zoo", "pulp:action:sync"])
            #expect(status.resources == ["pulp:repository:zoo"])
            #expect(try await storedFiles(harness, "zoo") == feed.files)

            let history = try await harness.history(of: "zoo")
            #expect(history.count == 1)
            let entry = try #require(history.first)
            #expect(entry.result == .success)
            #expect(entry.addedCount == 3 && entry.updatedCount == 0 && entry.removedCount == 0)
            #expect(entry.importerID == "iso_importer" && entry.importerTypeID == "iso_importer")
            #expect(status.result == entry.json)
            #expect(Set(entry.json.objectValue!.keys) == Set(SyncHistoryEntry.jsonKeys))

            let repository = try await harness.repositories.repository("zoo")
            #expect(repository.contentUnitCounts == ["iso": 3])
            #expect(repository.importer?.lastSync.map { $0 >= entry.completed } == true)
            #expect(repository.lastUnitAdded != nil)
            #expect(status.progressReport["iso_importer"]?["state"] == "FINISHED")
        }
    }

    @Test(arguments: SyncHarness.Backend.allCases)
    func resyncWithoutChangesDownloadsNothing(backend: SyncHarness.Backend) async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        let transport = CountingTransport()
        try await SyncHarness.run(importers: [FileImporter()], backend: backend, transport: transport) { harness in
            try await makeRepository(harness, feed)
            _ = try await harness.syncAndWait("zoo")
            #expect(transport.fileRequests == 2)

            // A byte-identical manifest: nothing more is read than the manifest.
            let unchanged = try await harness.syncAndWait("zoo")
            #expect(unchanged.state == .finished)
            #expect(unchanged.result["summary"]?["manifest_unchanged"] == true)
            #expect(transport.fileRequests == 2)

            // A forced full sync compares every entry, and still downloads nothing.
            let full = try await harness.syncAndWait("zoo", overrideConfig: ["force_full": true])
            #expect(full.result["added_count"] == 0 && full.result["updated_count"] == 0)
            #expect(full.result["summary"]?["num_isos"] == 2)
            #expect(transport.fileRequests == 2)
            #expect(try await harness.history(of: "zoo").count == 3)
        }
    }

    @Test(arguments: SyncHarness.Backend.allCases)
    func changedFilesAreUpdatedAndMissingOnesRemovedOnlyWhenAsked(backend: SyncHarness.Backend) async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        try feed.put("c.iso", "charlie")
        try await SyncHarness.run(importers: [FileImporter()], backend: backend) { harness in
            try await makeRepository(harness, feed)
            _ = try await harness.syncAndWait("zoo")
            try feed.put("a.iso", "alpha, second edition")
            try feed.delete("c.iso")

            let kept = try await harness.syncAndWait("zoo")
            #expect(kept.result["updated_count"] == 1 && kept.result["removed_count"] == 0)
            var files = try await storedFiles(harness, "zoo")
            #expect(files["a.iso"] == Array("alpha, second edition".utf8))
            #expect(files["c.iso"] == Array("charlie".utf8))

            let pruned = try await harness.syncAndWait("zoo", overrideConfig: ["remove_missing": true])
            #expect(pruned.result["removed_count"] == 1 && pruned.result["added_count"] == 0)
            files = try await storedFiles(harness, "zoo")
            #expect(files == feed.files)
            let repository = try await harness.repositories.repository("zoo")
            #expect(repository.contentUnitCounts == ["iso": 2])
            #expect(repository.lastUnitRemoved != nil)
        }
    }

    @Test
    func overrideConfigAppliesToOneCallOnly() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed, ["download_policy": "on_demand"])
            let status = try await harness.syncAndWait("zoo", overrideConfig: ["download_policy": "immediate"])
            #expect(status.state == .finished)
            #expect(try await harness.content.units(in: "zoo").allSatisfy(\.downloaded))
            let importer = try #require(try await harness.repositories.repository("zoo").importer)
            #expect(importer.configuration["download_policy"] == "on_demand")
            #expect(importer.lastOverrideConfig == ["download_policy": "immediate"])

            try feed.put("c.iso", "charlie")
            _ = try await harness.syncAndWait("zoo")
            let units = try await harness.content.units(in: "zoo")
            #expect(units.filter { !$0.downloaded }.compactMap { $0.unitKey["name"]?.stringValue } == ["c.iso"])
        }
    }

    @Test
    func overrideConfigTheImporterRejectsIsRefusedBeforeDispatch() async throws {
        let feed = try Feed()
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed)
            let error = await #expect(throws: PulpError.self) {
                try await harness.sync.sync(
                    repository: "zoo",
                    overrideConfig: ["download_policy": "sometimes", "max_downloads": 0, "feed": .null]
                )
            }
            #expect(error?.httpStatus == 400)
            #expect(
                error?.propertyNames
                    == ["override_config.download_policy", "override_config.max_downloads", "override_config.feed"]
            )
            #expect(try await harness.dispatcher.tasks().isEmpty)

            let missing = await #expect(throws: PulpError.self) { try await harness.sync.sync(repository: "nope") }
            #expect(missing?.httpStatus == 404)
        }
    }

    @Test
    func backgroundPolicySpawnsADownloadTask() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed, ["download_policy": "background"])
            let status = try await harness.syncAndWait("zoo")
            #expect(status.result["added_count"] == 2)
            let spawned = try #require(status.spawnedTasks.first)
            let download = try await harness.dispatcher.waitForCompletion(of: spawned)
            #expect(download.state == .finished)
            #expect(download.tags == ["pulp:repository:zoo", "pulp:action:download_repo"])
            #expect(download.resources.isEmpty)
            #expect(download.result["downloaded_count"] == 2)
            #expect(download.progressReport["background_download"]?.arrayValue?.first?["state"] == "FINISHED")
            #expect(try await storedFiles(harness, "zoo") == feed.files)
        }
    }

    @Test
    func onDemandFetchesAFileOnceWhenFirstAskedFor() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        let transport = CountingTransport()
        try await SyncHarness.run(importers: [FileImporter()], transport: transport) { harness in
            try await makeRepository(harness, feed, ["download_policy": "on_demand"])
            let status = try await harness.syncAndWait("zoo")
            #expect(status.spawnedTasks.isEmpty)
            #expect(transport.fileRequests == 0)
            let units = try await harness.content.units(in: "zoo")
            #expect(units.count == 2 && units.allSatisfy { !$0.downloaded && $0.storagePath == nil })

            let unit = try #require(units.first { $0.unitKey["name"] == "a.iso" })
            async let first = harness.sync.file(for: unit.id, in: "zoo")
            async let second = harness.sync.file(for: unit.id, in: "zoo")
            let (one, two) = try await (first, second)
            #expect(one == two)
            #expect(Array(try Data(contentsOf: one)) == Array("alpha".utf8))
            _ = try await harness.sync.file(for: unit.id, in: "zoo")
            #expect(transport.count("a.iso") == 1)
            #expect(try await harness.content.unit(withID: unit.id)?.downloaded == true)

            let error = await #expect(throws: PulpError.self) {
                try await harness.sync.file(for: unit.id, in: "elsewhere")
            }
            #expect(error?.httpStatus == 404)
        }
    }

    @Test(arguments: SyncHarness.Backend.allCases)
    func downloadFetchesDeferredUnitsAndVerifyAllUnitsRepairsStorage(backend: SyncHarness.Backend) async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        try feed.put("c.iso", "charlie")
        let transport = CountingTransport()
        try await SyncHarness.run(importers: [FileImporter()], backend: backend, transport: transport) { harness in
            try await makeRepository(harness, feed, ["download_policy": "on_demand"])
            _ = try await harness.syncAndWait("zoo")
            let first = try await harness.downloadAndWait("zoo")
            #expect(first.result["downloaded_count"] == 3)
            #expect(transport.fileRequests == 3)

            // Present content is never fetched again.
            let again = try await harness.downloadAndWait("zoo")
            #expect(again.result["downloaded_count"] == 0)
            #expect(transport.fileRequests == 3)

            // Corrupt one stored file and delete another.
            let units = try await harness.content.units(in: "zoo")
            func path(_ name: String) throws -> URL {
                let unit = try #require(units.first { $0.unitKey["name"]?.stringValue == name })
                return try harness.storage.url(forRelativePath: try #require(unit.storagePath))
            }
            try Data("tampered".utf8).write(to: try path("a.iso"))
            try FileManager.default.removeItem(at: try path("b.iso"))

            let unverified = try await harness.downloadAndWait("zoo")
            #expect(unverified.result["downloaded_count"] == 0)

            let verified = try await harness.downloadAndWait("zoo", verifyAllUnits: true)
            #expect(verified.result["downloaded_count"] == 2)
            #expect(verified.result["verified_count"] == 1)
            #expect(transport.count("a.iso") == 2 && transport.count("b.iso") == 2 && transport.count("c.iso") == 1)
            #expect(try await storedFiles(harness, "zoo") == feed.files)
        }
    }

    @Test
    func aUnitSharedByTwoRepositoriesIsStoredOnce() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        let transport = CountingTransport()
        try await SyncHarness.run(importers: [FileImporter()], transport: transport) { harness in
            try await makeRepository(harness, feed, id: "one")
            try await makeRepository(harness, feed, id: "two")
            _ = try await harness.syncAndWait("one")
            _ = try await harness.syncAndWait("two")
            #expect(transport.count("a.iso") == 1)
            let one = try await harness.content.units(in: "one")
            let two = try await harness.content.units(in: "two")
            #expect(one.map(\.id) == two.map(\.id))
            #expect(filesUnder(harness.storage.root.appendingPathComponent("content")).count == 1)
        }
    }

    @Test
    func cancellingASyncRecordsACanceledEntry() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        try feed.put("b.iso", "bravo")
        let transport = CountingTransport()
        transport.hold("b.iso")
        try await SyncHarness.run(importers: [FileImporter()], transport: transport) { harness in
            try await makeRepository(harness, feed, ["max_downloads": 1])
            let report = try await harness.sync.sync(repository: "zoo")
            let id = try #require(report.taskID)
            while transport.count("b.iso") == 0 { try await Task.sleep(for: .milliseconds(5)) }
            _ = try await harness.dispatcher.cancel(id)
            transport.releaseAll()
            let status = try await harness.dispatcher.waitForCompletion(of: id)
            #expect(status.state == .canceled)
            let entry = try #require(try await harness.history(of: "zoo").first)
            #expect(entry.result == .canceled)
            #expect(entry.summary == "Sync was cancelled")
            #expect(filesUnder(harness.storage.root).allSatisfy { !$0.contains(".part-") })
        }
    }

    @Test(arguments: [
        ("../escape.iso", "\"..\""),
        ("/etc/passwd", "absolute"),
        ("a/../../b.iso", "\"..\""),
        ("bad\u{1}name.iso", "control"),
    ])
    func hostileNamesFailTheSyncAndWriteNothing(name: String, reason: String) async throws {
        let feed = try Feed()
        let digest = SHA256.hash(Array("x".utf8)).hex
        try feed.writeRawManifest("good.iso,\(digest),1\n\(name),\(digest),1\n")
        try Data("x".utf8).write(to: feed.url.appendingPathComponent("good.iso"))
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed)
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            let entry = try #require(try await harness.history(of: "zoo").first)
            #expect(entry.result == .failed)
            let message = try #require(entry.errorMessage)
            #expect(message.contains("line 2"), "\(message)")
            #expect(message.localizedCaseInsensitiveContains(reason), "\(message)")
            #expect(entry.traceback?.isEmpty == false)
            #expect(filesUnder(harness.storage.root).isEmpty)
            #expect(try await harness.content.units(in: "zoo").isEmpty)
        }
    }

    @Test
    func aMalformedLineFailsWithItsLineNumber() async throws {
        let feed = try Feed()
        try feed.writeRawManifest("# comment\n\nonly-two,fields\n")
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed)
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            #expect(status.error?.description.contains("PULP_MANIFEST line 3") == true)
            #expect(try await harness.history(of: "zoo").first?.result == .failed)
        }
    }

    @Test(arguments: [("longer than listed", 3), ("ab", 3), ("abc", 3)])
    func aFileThatDoesNotMatchItsManifestFailsAndLeavesNothing(content: String, listedSize: Int) async throws {
        let feed = try Feed()
        let listed = SHA256.hash(Array("xyz".utf8)).hex
        try feed.writeRawManifest("a.iso,\(listed),\(listedSize)\n")
        try Data(content.utf8).write(to: feed.url.appendingPathComponent("a.iso"))
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed)
            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            #expect(status.error?.description.contains("mismatch") == true)
            #expect(filesUnder(harness.storage.root).isEmpty)
            #expect(try await harness.content.units(in: "zoo").isEmpty)
        }
    }

    @Test
    func checksumVerificationCanBeTurnedOffForOneSync() async throws {
        let feed = try Feed()
        let listed = SHA256.hash(Array("xyz".utf8)).hex
        try feed.writeRawManifest("a.iso,\(listed),3\n")
        try Data("abc".utf8).write(to: feed.url.appendingPathComponent("a.iso"))
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await makeRepository(harness, feed)
            let status = try await harness.syncAndWait("zoo", overrideConfig: ["verify_checksum": false])
            #expect(status.state == .finished)
            let unit = try #require(try await harness.content.units(in: "zoo").first)
            // Stored under its real digest, never under the digest the manifest claimed.
            #expect(unit.storagePath == harness.storage.relativePath(for: SHA256.hash(Array("abc".utf8))))
        }
    }

    @Test(
        .enabled(if: LocalServer.python3Path != nil, "python3 is not installed: no local HTTP server to sync from"),
        arguments: ["HTTP/1.0", "HTTP/1.1"]
    )
    func syncsOverHTTPFromPythonsHTTPServer(httpVersion: String) async throws {
        let feed = try Feed()
        try feed.put("a.iso", String(repeating: "alpha", count: 50_000))
        try feed.put("dir/b c.iso", "bravo with a space")
        for index in 0..<20 { try feed.put("small/\(index).iso", "file \(index)") }
        let server = try LocalServer.serving(feed.url, httpVersion: httpVersion)
        defer { server.stop() }
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await harness.repositories.create(
                Repository(id: "web"),
                importerTypeID: "iso_importer",
                importerConfiguration: ["feed": .string(server.url("").absoluteString)]
            )
            let status = try await harness.syncAndWait("web")
            #expect(status.state == .finished, "\(String(describing: status.error))")
            #expect(try await storedFiles(harness, "web") == feed.files)
        }
    }
}
