import Foundation
import PulpKit
import Testing

@Suite("Repository and content stores")
struct RepositoryStoreTests {
    @Test(arguments: StorageBackend.allCases)
    func repositoriesRoundTripUpdateAndDelete(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try backend.repositoryStore(in: directory)
        let importer = RepositoryImporter(
            typeID: "iso_importer",
            configuration: ["feed": "file:///srv/feed/", "max_downloads": 2],
            lastSync: Date(timeIntervalSince1970: 1_700_000_000.5),
            lastOverrideConfig: ["remove_missing": true],
            scratchpad: ["manifest_sha256": "abc"],
            lastUpdated: Date(timeIntervalSince1970: 1_600_000_000)
        )
        let zoo = Repository(
            id: "zoo",
            displayName: "Zoo",
            description: "animals",
            notes: ["team": "web", "tier": 2],
            importer: importer,
            contentUnitCounts: ["iso": 3]
        )
        try await store.create(zoo)
        try await store.create(Repository(id: "barn", notes: ["team": "ops"]))
        #expect(try await store.repository("zoo") == zoo)
        #expect(try await store.repository("nope") == nil)

        let duplicate = await #expect(throws: PulpError.self) { try await store.create(Repository(id: "zoo")) }
        #expect(duplicate?.httpStatus == 409)
        #expect(try await store.repository("zoo") == zoo)

        #expect(try await store.repositories(matching: Criteria()).map(\.id) == ["barn", "zoo"])
        let web = try Criteria(json: ["filters": ["notes.team": "web"]])
        #expect(try await store.repositories(matching: web).map(\.id) == ["zoo"])

        let updated = try await store.update("zoo") { $0.displayName = "The Zoo" }
        #expect(updated.displayName == "The Zoo")
        #expect(try await store.repository("zoo")?.displayName == "The Zoo")

        // A change that throws leaves the stored value alone.
        struct Refusal: Error {}
        await #expect(throws: Refusal.self) {
            try await store.update("zoo") { repository in
                repository.displayName = "half"
                throw Refusal()
            }
        }
        #expect(try await store.repository("zoo")?.displayName == "The Zoo")
        let missing = await #expect(throws: PulpError.self) { try await store.update("nope") { _ in } }
        #expect(missing?.httpStatus == 404)

        #expect(try await store.delete("zoo"))
        #expect(try await !store.delete("zoo"))
        #expect(try await store.repository("zoo") == nil)
    }

    @Test(arguments: StorageBackend.allCases)
    func unitsAreUpsertedByKeyAndAssociatedPerRepository(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try backend.contentStore(in: directory)
        let a = ContentUnit(
            typeID: "iso",
            unitKey: ["name": "a.iso", "size": 5],
            metadata: ["note": "first"],
            size: 5,
            checksum: SHA256.hash(Array("alpha".utf8)),
            catalogURL: URL(string: "file:///feed/a.iso")
        )
        let erratum = ContentUnit(typeID: "erratum", unitKey: ["id": "RHSA-1"], metadata: ["pkglist": []])
        #expect(erratum.downloaded && !erratum.hasFile)
        let stored = try await store.save([a, erratum])
        #expect(stored == [a, erratum])

        // The same key under a new id keeps the stored id and takes the new fields.
        var again = a
        again.id = .random()
        again.metadata = ["note": "second"]
        again.downloaded = true
        again.storagePath = "content/ab/abc"
        let resaved = try await store.save([again])
        #expect(resaved.first?.id == a.id)
        #expect(try await store.unit(withID: a.id)?.metadata == ["note": "second"])
        #expect(try await store.unit(withKey: a.naturalKey)?.storagePath == "content/ab/abc")
        #expect(try await store.units(withIDs: [erratum.id, "missing", a.id]).map(\.id) == [erratum.id, a.id])

        #expect(try await store.associate([a.id, erratum.id, "missing"], with: "zoo") == 2)
        #expect(try await store.associate([a.id], with: "zoo") == 0)
        #expect(try await store.associate([a.id], with: "barn") == 1)
        #expect(try await store.unitCounts(in: "zoo") == ["iso": 1, "erratum": 1])
        #expect(try await store.units(in: "zoo", types: ["erratum"]).map(\.id) == [erratum.id])
        #expect(try await store.units(in: "zoo").map(\.id) == [a.id, erratum.id].sorted())

        #expect(try await store.unassociate([a.id, a.id, "missing"], from: "zoo") == 1)
        #expect(try await store.unitCounts(in: "zoo") == ["erratum": 1])
        #expect(try await store.removeAssociations(of: "barn") == 1)
        #expect(try await store.units(in: "barn").isEmpty)
        #expect(try await store.unit(withID: a.id) != nil)
    }

    @Test(arguments: StorageBackend.allCases)
    func summariesMatchTheUnitsTheySummarise(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try backend.contentStore(in: directory)
        let stored = ContentUnit(
            typeID: "iso",
            unitKey: ["name": "dir/\"quoted\" é.iso", "size": 5, "checksum": "x"],
            metadata: ["note": "not read"],
            size: 5,
            checksum: SHA256.hash(Array("alpha".utf8)),
            storagePath: "content/8e/8ed3",
            downloaded: true,
            catalogURL: URL(string: "http://feed.example/dir/a.iso")
        )
        let deferred = ContentUnit(typeID: "iso", unitKey: ["name": "b.iso"], size: 7, checksum: SHA256.hash([1]))
        let erratum = ContentUnit(typeID: "erratum", unitKey: ["id": "RHSA-1"])
        try await store.save([stored, deferred, erratum])
        try await store.associate([stored.id, deferred.id, erratum.id], with: "zoo")

        let summaries = try await store.unitSummaries(in: "zoo", types: ["iso"])
        let units = try await store.units(in: "zoo", types: ["iso"])
        #expect(summaries == units.map(ContentUnitSummary.init))
        #expect(summaries.map(\.id) == [stored.id, deferred.id].sorted())
        let first = try #require(summaries.first { $0.id == stored.id })
        #expect(first.naturalKey == stored.naturalKey)
        #expect(try first.unitKey() == stored.unitKey)
        #expect(first.storagePath == "content/8e/8ed3" && first.downloaded && first.size == 5)
        #expect(summaries.first { $0.id == deferred.id }?.downloaded == false)
        #expect(try await store.unitSummaries(in: "zoo", types: []).count == 3)
        #expect(try await store.unitSummaries(in: "barn", types: []).isEmpty)
    }
}

@Suite("Unit identifiers")
struct UnitIdentifierTests {
    @Test
    func timeOrderedIDsAreVersion7UUIDsThatSortByCreation() async throws {
        var previous = UnitID.timeOrdered()
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(2))
            let next = UnitID.timeOrdered()
            #expect(previous < next)
            previous = next
        }
        let text = previous.rawValue
        #expect(text.count == 36)
        #expect(Array(text)[14] == "7")
        #expect("89ab".contains(Array(text)[19]))
        #expect(UUID(uuidString: text) != nil)
    }
}
