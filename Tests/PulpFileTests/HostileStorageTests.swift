import Foundation
import PulpFile
import PulpKit
import PulpKitTesting
import Testing

/// Symlinks planted in the storage root before a sync: none is ever followed, so nothing is written,
/// read as content or served from outside the root.
@Suite("Hostile storage")
struct HostileStorageTests {
    /// A directory outside every storage root, removed when the test ends.
    final class Outside: Sendable {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pulpkit-outside-\(UUID().uuidString.lowercased())", isDirectory: true)

        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }

        deinit { try? FileManager.default.removeItem(at: url) }

        /// The names in the directory.
        var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }
    }

    /// Whether `url` is a regular file (not a symlink to one).
    private func isRegularFile(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private func makeRepository(_ harness: SyncHarness, _ feed: Feed) async throws {
        try await harness.repositories.create(
            Repository(id: "zoo"),
            importerTypeID: "iso_importer",
            importerConfiguration: feed.configuration()
        )
    }

    @Test(arguments: SyncHarness.Backend.allCases)
    func aSymlinkedContentDirectoryFailsTheSyncAndNothingIsWrittenThroughIt(
        backend: SyncHarness.Backend
    ) async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        let outside = try Outside()
        try await SyncHarness.run(importers: [FileImporter()], backend: backend) { harness in
            try await makeRepository(harness, feed)
            let relative = harness.storage.relativePath(for: SHA256.hash(Array("alpha".utf8)))
            let directory = harness.storage.root.appendingPathComponent(relative).deletingLastPathComponent()
            try FileManager.default.createSymbolicLink(at: directory, withDestinationURL: outside.url)

            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            let entry = try #require(try await harness.history(of: "zoo").first)
            #expect(entry.result == .failed)
            let message = try #require(entry.errorMessage)
            #expect(message.contains("symlinks are refused"), "\(message)")
            #expect(message.contains(directory.path), "\(message)")
            #expect(outside.names.isEmpty)
            #expect(try await harness.content.units(in: "zoo").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: harness.storage.incomingDirectory.path).isEmpty)
        }
    }

    /// Downloads not checked against a known digest (here `verify_checksum` is off) go through `incoming/`.
    @Test
    func aSymlinkedIncomingDirectoryFailsTheSyncBeforeAnyByteIsWritten() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        let outside = try Outside()
        try await SyncHarness.run(importers: [FileImporter()]) { harness in
            try await harness.repositories.create(
                Repository(id: "zoo"),
                importerTypeID: "iso_importer",
                importerConfiguration: feed.configuration(["verify_checksum": false])
            )
            let incoming = harness.storage.incomingDirectory
            try FileManager.default.removeItem(at: incoming)
            try FileManager.default.createSymbolicLink(at: incoming, withDestinationURL: outside.url)

            let status = try await harness.syncAndWait("zoo")
            #expect(status.state == .error)
            let message = try #require(try await harness.history(of: "zoo").first?.errorMessage)
            #expect(message.contains("symlinks are refused"), "\(message)")
            #expect(outside.names.isEmpty)
            #expect(try await harness.content.units(in: "zoo").isEmpty)

            // Checked downloads are written beside their final place: the link is not even looked at.
            #expect(try await harness.syncAndWait("zoo", overrideConfig: ["verify_checksum": true]).state == .finished)
            #expect(outside.names.isEmpty)

            // A missing incoming directory is simply made again.
            try FileManager.default.removeItem(at: incoming)
            try feed.put("b.iso", "bravo")
            #expect(try await harness.syncAndWait("zoo").state == .finished)
            #expect(try await harness.content.units(in: "zoo").count == 2)
        }
    }

    @Test(arguments: SyncHarness.Backend.allCases)
    func aSymlinkWhereAStoredFileBelongsIsReplacedNeverFollowed(backend: SyncHarness.Backend) async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        let outside = try Outside()
        // The planted target even has the right bytes: a symlink is still not stored content.
        let planted = outside.url.appendingPathComponent("a.iso")
        try Data("alpha".utf8).write(to: planted)
        let transport = CountingTransport()
        try await SyncHarness.run(importers: [FileImporter()], backend: backend, transport: transport) { harness in
            try await makeRepository(harness, feed)
            let stored = harness.storage.root.appendingPathComponent(
                harness.storage.relativePath(for: SHA256.hash(Array("alpha".utf8)))
            )
            try FileManager.default.createDirectory(
                at: stored.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try FileManager.default.createSymbolicLink(at: stored, withDestinationURL: planted)

            #expect(try await harness.syncAndWait("zoo").state == .finished)
            #expect(transport.count("a.iso") == 1)
            #expect(isRegularFile(stored))
            #expect(try Data(contentsOf: stored) == Data("alpha".utf8))

            // Swapped for a symlink after the sync: verify_all_units treats it as missing and fetches it.
            try FileManager.default.removeItem(at: stored)
            try FileManager.default.createSymbolicLink(at: stored, withDestinationURL: planted)
            let verified = try await harness.downloadAndWait("zoo", verifyAllUnits: true)
            #expect(verified.result["downloaded_count"] == 1)
            #expect(transport.count("a.iso") == 2)
            #expect(isRegularFile(stored))
            #expect(outside.names == ["a.iso"])
            #expect(try Data(contentsOf: planted) == Data("alpha".utf8))
        }
    }

    @Test
    func anOnDemandUnitWhoseFileIsASymlinkIsFetchedNotServedFromOutside() async throws {
        let feed = try Feed()
        try feed.put("a.iso", "alpha")
        let outside = try Outside()
        let planted = outside.url.appendingPathComponent("secret")
        try Data("alpha".utf8).write(to: planted)
        let transport = CountingTransport()
        try await SyncHarness.run(importers: [FileImporter()], transport: transport) { harness in
            try await harness.repositories.create(
                Repository(id: "zoo"),
                importerTypeID: "iso_importer",
                importerConfiguration: feed.configuration(["download_policy": "on_demand"])
            )
            #expect(try await harness.syncAndWait("zoo").state == .finished)
            let unit = try #require(try await harness.content.units(in: "zoo").first)
            let first = try await harness.sync.file(for: unit.id, in: "zoo")
            #expect(transport.count("a.iso") == 1)

            try FileManager.default.removeItem(at: first)
            try FileManager.default.createSymbolicLink(at: first, withDestinationURL: planted)
            let served = try await harness.sync.file(for: unit.id, in: "zoo")
            #expect(transport.count("a.iso") == 2)
            #expect(isRegularFile(served))
            #expect(served.path.hasPrefix(harness.storage.root.path + "/"))
            #expect(outside.names == ["secret"])
        }
    }
}

@Suite("Content storage root")
struct ContentStorageRootTests {
    @Test
    func aRootThatIsASymlinkIsResolvedOnceAndUsed() throws {
        let outside = try HostileStorageTests.Outside()
        let real = outside.url.appendingPathComponent("real", isDirectory: true)
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        let link = outside.url.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)

        let storage = try ContentStorage(root: link)
        #expect(storage.root.path == real.resolvingSymlinksInPath().path)
        let digest = SHA256.hash(Array("alpha".utf8))
        let incoming = try storage.incomingURL()
        try Data("alpha".utf8).write(to: incoming)
        let path = try storage.place(incoming, as: digest)
        #expect(FileManager.default.fileExists(atPath: real.appendingPathComponent(path).path))
        #expect(storage.verify(path, size: 5, digest: digest))
    }

    @Test
    func aRootThatIsAFileIsRefusedByName() throws {
        let outside = try HostileStorageTests.Outside()
        let file = outside.url.appendingPathComponent("file")
        try Data().write(to: file)
        let error = #expect(throws: PulpError.self) { try ContentStorage(root: file) }
        #expect(error?.message.contains("not a directory") == true)
        #expect(error?.description.contains(file.path) == true)
    }
}
