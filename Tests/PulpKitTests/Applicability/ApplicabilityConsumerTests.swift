import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

struct ApplicabilityConsumerTests {
    @Test func theInMemoryStoresConform() async throws {
        try await ConsumerStoreConformance.check { InMemoryConsumerStore() }
        try await ApplicabilityStoreConformance.check { InMemoryApplicabilityStore() }
    }

    @Test func theSQLiteStoresConform() async throws {
        let directory = try TemporaryDirectory()
        var count = 0
        try await ConsumerStoreConformance.check {
            count += 1
            return try SQLiteConsumerStore(path: directory.path("consumers-\(count).db"))
        }
        try await ApplicabilityStoreConformance.check {
            count += 1
            return try SQLiteApplicabilityStore(path: directory.path("applicability-\(count).db"))
        }
    }

    @Test func sqliteStoresShareOneFileAndSurviveReopening() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pulp.db")
        do {
            let executor = try SQLiteExecutor(path: path, synchronous: .normal)
            let consumers = try SQLiteConsumerStore(executor: executor)
            let records = try SQLiteApplicabilityStore(executor: executor)
            try await consumers.register(Consumer(id: "sunflower", notes: ["é": "ü"]))
            try await consumers.setProfile(
                UnitProfile(consumerID: "sunflower", contentType: "rpm", profile: [["n": 1]])
            )
            try await records.save([
                ApplicabilityRecord(repositoryID: "zoo", profileSetHash: "h", applicability: ["rpm": ["u"]])
            ])
        }
        let consumers = try SQLiteConsumerStore(path: path)
        let records = try SQLiteApplicabilityStore(path: path)
        #expect(try await consumers.consumer("sunflower")?.notes == ["é": "ü"])
        #expect(try await consumers.profiles(of: "sunflower").first?.profile == [["n": 1]])
        #expect(try await records.records(forProfileSets: ["h"]).first?.applicability == ["rpm": ["u"]])
    }

    @Test(arguments: StorageBackend.allCases)
    func deletingAConsumerRemovesWhatOnlyItUsed(backend: StorageBackend) async throws {
        try await withApplicability(backend) { harness in
            try await harness.repository("zoo", widgets: ["a:2", "b:2"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.consumer("c2", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.consumer("c3", widgets: ["b:1"], boundTo: ["zoo"])
            try await harness.regenerateAll()
            #expect(try await harness.engine.store.keys().count == 2)

            try await harness.engine.deleteConsumer("c3")
            #expect(try await harness.engine.store.keys().count == 1, "c3's record went with it")
            try await harness.engine.deleteConsumer("c1")
            #expect(try await harness.engine.store.keys().count == 1, "c2 still uses the shared record")
            #expect(try await harness.applicability() == [["c2"]: ["widget": ["w-a-2"], "fix": []]])
            await expectPulpError(404, ["consumer"]) { try await harness.engine.deleteConsumer("c1") }
            await expectPulpError(404, ["consumer"]) { _ = try await harness.engine.profiles(of: "c1") }
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func profileChangesAndUnbindingDropRecordsNobodyUses(backend: StorageBackend) async throws {
        try await withApplicability(backend) { harness in
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.repository("farm", widgets: ["a:3"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo", "farm"])
            try await harness.consumer("c2", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.regenerateAll()
            let set = try #require(try await harness.engine.consumers.summaries(of: ["c1"]).first?.profileSetHash)
            #expect(try await harness.engine.store.keys().count == 2)

            try await harness.engine.unbind("c1", from: "farm")
            #expect(
                try await harness.engine.store.keys() == [ApplicabilityKey(repositoryID: "zoo", profileSetHash: set)]
            )
            await expectPulpError(404, ["consumer", "repository"]) {
                try await harness.engine.unbind("c1", from: "farm")
            }

            // c1 moves to a new profile: the shared zoo record stays for c2.
            try await harness.engine.setProfile(widgetProfile(["a:0"]), contentType: "widget", for: "c1")
            #expect(try await harness.engine.store.keys().count == 1)
            #expect(try await harness.applicability() == [["c2"]: ["widget": ["w-a-2"], "fix": []]])
            try await harness.regenerateAll()
            #expect(try await harness.engine.store.keys().count == 2)

            // c2 deletes its only profile: it has no profile set, and its record goes.
            try await harness.engine.deleteProfile(contentType: "widget", of: "c2")
            #expect(try await harness.engine.store.keys().count == 1)
            #expect(try await harness.applicability() == [["c1"]: ["widget": ["w-a-2"], "fix": []]])
            await expectPulpError(404, ["consumer", "content_type"]) {
                try await harness.engine.deleteProfile(contentType: "widget", of: "c2")
            }
        }
    }

    @Test func deletedRepositoriesNeverContribute() async throws {
        try await withApplicability { harness in
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.repository("farm", widgets: ["a:3"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo", "farm"])
            try await harness.regenerateAll()
            #expect(try await harness.applicability() == [["c1"]: ["widget": ["w-a-2", "w-a-3"], "fix": []]])

            // Deleted from the repository store only: the query already ignores it.
            _ = try await harness.repositories.delete("farm")
            #expect(try await harness.applicability() == [["c1"]: ["widget": ["w-a-2"], "fix": []]])
            #expect(try await harness.engine.removeStaleRecords() == 1)

            try await harness.engine.removeRepository("zoo")
            #expect(try await harness.engine.store.keys().isEmpty)
            #expect(try await harness.engine.bindings(of: "c1").map(\.repositoryID) == ["farm"])
            #expect(try await harness.applicability().isEmpty)
        }
    }

    @Test func staleRecordsAreFoundAfterTheFact() async throws {
        try await withApplicability { harness in
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.regenerateAll()
            // Records written behind the engine's back: an unknown set, an unbound pair.
            try await harness.engine.store.save([
                ApplicabilityRecord(repositoryID: "zoo", profileSetHash: "nobody", applicability: [:]),
                ApplicabilityRecord(repositoryID: "elsewhere", profileSetHash: "nobody", applicability: [:]),
            ])
            #expect(try await harness.engine.removeStaleRecords() == 2)
            #expect(try await harness.engine.store.keys().count == 1)
        }
    }

    @Test func registrationValidatesIDs() async throws {
        try await withApplicability { harness in
            for bad in ["", "has space", "slash/y", "ünïcode", String(repeating: "x", count: 256)] {
                await expectPulpError(400, ["id"]) { try await harness.engine.register(Consumer(id: ConsumerID(bad))) }
            }
            let consumer = try await harness.engine.register(Consumer(id: "web-01.example_com"))
            #expect(consumer.displayName == "web-01.example_com")
            #expect(consumer.json["_href"] == "/pulp/api/v2/consumers/web-01.example_com/")
            await expectPulpError(409, ["id"]) { try await harness.engine.register(Consumer(id: "web-01.example_com")) }
            let updated = try await harness.engine.updateConsumer("web-01.example_com") { $0.description = "web" }
            #expect(updated.description == "web")
            #expect(try await harness.engine.consumer("web-01.example_com") == updated)
            await expectPulpError(404, ["consumer"]) { _ = try await harness.engine.consumer("ghost") }
            #expect(try await harness.engine.consumers(matching: Criteria()).map(\.id) == ["web-01.example_com"])
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func badProfilesAndBindingsChangeNothing(backend: StorageBackend) async throws {
        try await withApplicability(backend) { harness in
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
            let before = try await harness.engine.profiles(of: "c1")
            await expectPulpError(400, ["content_type"]) {
                try await harness.engine.setProfile(widgetProfile(["a:0"]), contentType: "", for: "c1")
            }
            for bad: JSONValue in ["not a list", [["name": "a"]], [["name": 1, "level": 1]]] {
                await expectPulpError(400, ["profile"]) {
                    try await harness.engine.setProfile(bad, contentType: "widget", for: "c1")
                }
            }
            await expectPulpError(404, ["consumer"]) {
                try await harness.engine.setProfile(widgetProfile(["a:0"]), contentType: "widget", for: "ghost")
            }
            #expect(try await harness.engine.profiles(of: "c1") == before)

            await expectPulpError(404, ["consumer", "repository"]) {
                try await harness.engine.bind("ghost", to: "nowhere")
            }
            await expectPulpError(404, ["consumer"]) { try await harness.engine.bind("ghost", to: "zoo") }
            await expectPulpError(404, ["repository"]) { try await harness.engine.bind("c1", to: "nowhere") }
            await expectPulpError(400, ["distributor_id"]) {
                try await harness.engine.bind("c1", to: "zoo", distributorID: "")
            }
            #expect(try await harness.engine.bindings(of: "c1").map(\.repositoryID) == ["zoo"])

            // A profile of a type no calculator reads is stored as sent, and counts in the profile set.
            let raw = try await harness.engine.setProfile(["b", "a"], contentType: "other", for: "c1")
            #expect(raw.profile == ["b", "a"])
            let profile = try await harness.engine.profile(contentType: "widget", of: "c1")
            #expect(profile.profile == widgetProfile(["a:1"]))
            await expectPulpError(404, ["consumer", "content_type"]) {
                _ = try await harness.engine.profile(contentType: "none", of: "c1")
            }
        }
    }

    @Test func profilesAreNormalisedBeforeHashing() async throws {
        try await withApplicability { harness in
            try await harness.engine.register(Consumer(id: "c1"))
            try await harness.engine.register(Consumer(id: "c2"))
            let one = try await harness.engine.setProfile(
                widgetProfile(["b:1", "a:2"]),
                contentType: "widget",
                for: "c1"
            )
            let two = try await harness.engine.setProfile(
                widgetProfile(["a:2", "b:1"]),
                contentType: "widget",
                for: "c2"
            )
            #expect(one.profile == widgetProfile(["a:2", "b:1"]))
            #expect(one.profileHash == two.profileHash)
            #expect(one.json["profile_hash"] == .string(one.profileHash))
        }
    }

    @Test func calculatorRegistrationRefusesOverlapsAndEmptyNames() async throws {
        try await withApplicability { harness in
            await expectPulpError(409, ["content_types"]) {
                try harness.engine.register(WidgetCalculator(fixType: nil, profileType: "other"))
            }
            await expectPulpError(409, ["profile_types"]) {
                try harness.engine.register(WidgetCalculator(widgetType: "gizmo", fixType: nil, profileType: "widget"))
            }
            await expectPulpError(400, ["content_types"]) {
                try harness.engine.register(WidgetCalculator(widgetType: "", fixType: nil, profileType: "x"))
            }
            await expectPulpError(400, ["profile_types"]) {
                try harness.engine.register(WidgetCalculator(widgetType: "gizmo", fixType: nil, profileType: ""))
            }
            #expect(harness.engine.contentTypes == ["widget", "fix"])
        }
    }
}

struct ProfileHashTests {
    // Expected values computed with Python's json.dumps and hashlib, as Pulp 2 computes them.
    static let first: JSONValue = [
        [
            "name": "bash", "epoch": 0, "version": "4.2.46", "release": "34.el7", "arch": "x86_64",
            "vendor": "Red Hat, Inc.",
        ],
        ["name": "café", "epoch": "1", "version": "1.0", "release": "1", "arch": "noarch", "vendor": nil],
    ]
    static let second: JSONValue = [
        ["name": "zsh", "epoch": 0, "version": "5.0", "release": "1", "arch": "x86_64", "vendor": ""]
    ]

    @Test func profileHashesArePulps() {
        #expect(ProfileHash.hash(of: Self.first) == "7431210e7f326dd93c0e86e1f45d1fba1919c2dc9957454a35951cb530ebcb11")
        #expect(ProfileHash.hash(of: Self.second) == "61cc1b293ea5bfa117a5c455becc89e50d6a6818e53b0db05ce02c8d211dd52c")
    }

    @Test func profileSetHashesArePulps() {
        let first = ProfileHash.hash(of: Self.first)
        let second = ProfileHash.hash(of: Self.second)
        #expect(ProfileHash.profileSetHash(of: [first]) == first, "one profile: its own hash")
        let pair = "feac7b5845441feac39b184979b6f15c4f8aebe8c4adf7b9859971ede768890b"
        #expect(ProfileHash.profileSetHash(of: [first, second]) == pair)
        #expect(ProfileHash.profileSetHash(of: [second, first]) == pair, "order does not matter")
        #expect(
            ProfileHash.profileSetHash(of: []) == "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
        )
    }

    @Test func emptyProfilesTakeNoPart() {
        let profiles = [
            UnitProfile(consumerID: "c", contentType: "rpm", profile: Self.first),
            UnitProfile(consumerID: "c", contentType: "modulemd", profile: []),
            UnitProfile(consumerID: "c", contentType: "other", profile: [:]),
            UnitProfile(consumerID: "c", contentType: "null", profile: nil),
        ]
        #expect(ProfileHash.profileSetHash(of: profiles) == ProfileHash.hash(of: Self.first))
        #expect(ProfileHash.profileSetHash(of: profiles.dropFirst()) == nil)
        #expect(profiles[1].isEmpty && !profiles[0].isEmpty)
    }
}

struct ApplicabilityRequestTests {
    @Test func readsTheSpecSampleBodies() throws {
        let consumers = try ConsumerRegenerationRequest(
            json: ["consumer_criteria": ["filters": ["id": ["$in": ["sunflower", "voyager"]]]]]
        )
        #expect(consumers.consumerCriteria.filters == ["id": ["$in": ["sunflower", "voyager"]]])
        let repositories = try RepositoryRegenerationRequest(
            json: ["repo_criteria": ["filters": ["id": ["$in": ["test-repo", "test-errata"]]]], "parallel": true]
        )
        #expect(repositories.parallel)
        let query = try ApplicabilityQuery(
            json: [
                "criteria": ["filters": ["id": ["$in": ["sunflower", "voyager"]]]],
                "content_types": ["type_1", "type_2"],
            ]
        )
        #expect(query.contentTypes == ["type_1", "type_2"])
        #expect(try ApplicabilityQuery(json: ["criteria": [:]]).contentTypes == nil)
    }

    @Test(arguments: [JSONValue.null, false, 0, "", [], [:]])
    func falsyParallelMeansLinear(value: JSONValue) throws {
        #expect(!(try RepositoryRegenerationRequest(json: ["repo_criteria": [:], "parallel": value]).parallel))
    }

    @Test(arguments: [JSONValue.int(1), "yes", [1], ["a": 1], 0.5])
    func truthyNonBooleanParallelIsRefused(value: JSONValue) async {
        await expectPulpError(400, ["parallel"]) {
            _ = try RepositoryRegenerationRequest(json: ["repo_criteria": [:], "parallel": value])
        }
    }

    @Test func namesTheFaultyMember() async {
        await expectPulpError(400, ["consumer_criteria"]) { _ = try ConsumerRegenerationRequest(json: [:]) }
        await expectPulpError(400, ["consumer_criteria"]) {
            _ = try ConsumerRegenerationRequest(json: ["consumer_criteria": nil])
        }
        await expectPulpError(400, ["body"]) { _ = try ConsumerRegenerationRequest(json: ["consumer_criteria"]) }
        await expectPulpError(400, ["consumer_criteria"]) {
            _ = try ConsumerRegenerationRequest(json: ["consumer_criteria": ["limit": 0]])
        }
        await expectPulpError(400, ["repo_criteria"]) {
            _ = try RepositoryRegenerationRequest(json: ["parallel": true])
        }
        await expectPulpError(400, ["repo_criteria"]) {
            _ = try RepositoryRegenerationRequest(json: ["repo_criteria": ["filters": "x"]])
        }
        await expectPulpError(400, ["criteria"]) { _ = try ApplicabilityQuery(json: ["content_types": ["rpm"]]) }
        await expectPulpError(400, ["criteria"]) { _ = try ApplicabilityQuery(json: []) }
        await expectPulpError(400, ["criteria"]) { _ = try ApplicabilityQuery(json: ["criteria": ["bogus": 1]]) }
        await expectPulpError(400, ["content_types"]) {
            _ = try ApplicabilityQuery(json: ["criteria": [:], "content_types": "rpm"])
        }
        await expectPulpError(400, ["content_types"]) {
            _ = try ApplicabilityQuery(json: ["criteria": [:], "content_types": ["rpm", ""]])
        }
        await expectPulpError(400, ["content_types"]) {
            _ = try ApplicabilityQuery(json: ["criteria": [:], "content_types": [1]])
        }
        #expect {
            _ = try ConsumerRegenerationRequest(json: ["consumer_criteria": ["limit": 0, "skip": -1]])
        } throws: { error in
            (error as? PulpError)?.subErrors.flatMap(\.propertyNames) == ["limit", "skip"]
        }
    }
}

struct RepositoryContentEditorTests {
    @Test func addsCopiesAndRemovesUnitsKeepingCountsTrue() async throws {
        let repositories = InMemoryRepositoryStore()
        let content = InMemoryContentStore()
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_700_000_000))
        let editor = RepositoryContentEditor(repositories: repositories, content: content, clock: clock)
        try await repositories.create(Repository(id: "zoo"))
        try await repositories.create(Repository(id: "farm"))
        let units = try await editor.add(
            [
                ContentUnit(typeID: "rpm", unitKey: ["name": "a"]),
                ContentUnit(typeID: "rpm", unitKey: ["name": "b"]),
                ContentUnit(typeID: "erratum", unitKey: ["id": "E"]),
            ],
            to: "zoo"
        )
        var zoo = try await repositories.existingRepository("zoo")
        #expect(zoo.contentUnitCounts == ["rpm": 2, "erratum": 1])
        #expect(zoo.lastUnitAdded == clock.now)

        let again = try await editor.add(
            [ContentUnit(typeID: "rpm", unitKey: ["name": "a"], metadata: ["x": 1])],
            to: "zoo"
        )
        #expect(again[0].id == units[0].id, "a unit with a stored key keeps its id")

        #expect(try await editor.copy([units[0].id, units[2].id, "not-there"], from: "zoo", to: "farm") == 2)
        #expect(try await repositories.existingRepository("farm").contentUnitCounts == ["rpm": 1, "erratum": 1])

        clock.advance(by: 60)
        #expect(try await editor.remove([units[1].id], from: "zoo") == 1)
        zoo = try await repositories.existingRepository("zoo")
        #expect(zoo.contentUnitCounts == ["rpm": 1, "erratum": 1])
        #expect(zoo.lastUnitRemoved == clock.now)

        await expectPulpError(404, ["repository"]) { _ = try await editor.add([], to: "nowhere") }
        await expectPulpError(404, ["repository"]) { _ = try await editor.copy([], from: "nowhere", to: "zoo") }
        await expectPulpError(400, ["type_id", "unit_key"]) {
            _ = try await editor.add(
                [ContentUnit(typeID: "", unitKey: ["a": 1]), ContentUnit(typeID: "rpm", unitKey: [:])],
                to: "zoo"
            )
        }
        #expect(try await content.units(in: "zoo").count == 2)
    }
}
