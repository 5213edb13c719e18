import Foundation
import PulpKit
import PulpKitTesting
import Testing

/// A feed folder in a temporary directory.
struct BlobFeed {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("blob-feed-\(UUID().uuidString)", isDirectory: true)

    /// Writes the files and their `INDEX`.
    func publish(_ files: [String: String]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var index = ""
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            let bytes = Array(text.utf8)
            try Data(bytes).write(to: folder.appendingPathComponent(name))
            index += "\(name) \(SHA256.hash(bytes).hex) \(bytes.count)\n"
        }
        try Data(index.utf8).write(to: folder.appendingPathComponent("INDEX"))
    }
}

@Suite("Blob importer")
struct BlobImporterTests {
    @Test(arguments: SyncHarness.Backend.allCases)
    func syncsAddsUpdatesAndRemoves(backend: SyncHarness.Backend) async throws {
        let feed = BlobFeed()
        try feed.publish(["a": "alpha", "b": "bravo"])
        try await SyncHarness.run(importers: [BlobImporter()], backend: backend) { harness in
            try await harness.repositories.create(
                Repository(id: "blobs"),
                importerTypeID: "blob_importer",
                importerConfiguration: ["feed": .string(feed.folder.absoluteString), "remove_missing": true]
            )
            let first = try await harness.syncAndWait("blobs")
            #expect(first.state == .finished)
            #expect(first.tags == ["pulp:repository:blobs", "pulp:action:sync"])
            let units = try await harness.content.units(in: "blobs")
            #expect(units.count == 2 && units.allSatisfy(\.downloaded))

            try feed.publish(["a": "alpha, again", "c": "charlie"])
            let second = try await harness.syncAndWait("blobs")
            #expect(second.state == .finished)

            let history = try await harness.history(of: "blobs")  // newest first
            #expect(history.count == 2)
            #expect(history[0].addedCount == 1 && history[0].updatedCount == 1 && history[0].removedCount == 1)
            #expect(history[1].addedCount == 2 && history[1].result == .success)
            #expect(second.result == history[0].json)
        }
    }

    @Test
    func deferredPoliciesRecordUnitsWithoutFiles() async throws {
        let feed = BlobFeed()
        try feed.publish(["a": "alpha"])
        try await SyncHarness.run(importers: [BlobImporter()]) { harness in
            try await harness.repositories.create(
                Repository(id: "blobs"),
                importerTypeID: "blob_importer",
                importerConfiguration: ["feed": .string(feed.folder.absoluteString), "download_policy": "on_demand"]
            )
            #expect(try await harness.syncAndWait("blobs").state == .finished)
            #expect(try await harness.content.units(in: "blobs").allSatisfy { !$0.downloaded })

            #expect(try await harness.downloadAndWait("blobs").state == .finished)
            #expect(try await harness.content.units(in: "blobs").allSatisfy(\.downloaded))
        }
    }

    @Test
    func aBadOverrideIsRefusedBeforeAnythingIsDispatched() async throws {
        let feed = BlobFeed()
        try feed.publish(["a": "alpha"])
        try await SyncHarness.run(importers: [BlobImporter()]) { harness in
            try await harness.repositories.create(
                Repository(id: "blobs"),
                importerTypeID: "blob_importer",
                importerConfiguration: ["feed": .string(feed.folder.absoluteString)]
            )
            let error = await #expect(throws: PulpError.self) {
                try await harness.syncAndWait("blobs", overrideConfig: ["max_blobs": 0])
            }
            #expect(error?.httpStatus == 400)
            #expect(try await harness.history(of: "blobs").isEmpty)
        }
    }
}
