public import PulpKit

/// Checks that a ``PulpKit/ConsumerStore`` keeps every rule its documentation states.
///
/// Call it with a factory of fresh, empty stores; it throws a ``ConformanceFailure`` naming the first
/// broken rule:
///
/// ```swift
/// @Test func myStoreConforms() async throws {
///     try await ConsumerStoreConformance.check { try MyConsumerStore(url: freshDatabase()) }
/// }
/// ```
public enum ConsumerStoreConformance {
    /// Runs every rule, each against a new store from `makeStore`.
    public static func check(_ makeStore: () async throws -> any ConsumerStore) async throws {
        try await registration(try await makeStore())
        try await reads(try await makeStore())
        try await updates(try await makeStore())
        try await profiles(try await makeStore())
        try await bindings(try await makeStore())
        try await summaries(try await makeStore())
        try await deletion(try await makeStore())
    }

    private static func expect(_ condition: Bool, _ rule: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(rule: rule, detail: detail()) }
    }

    private static func status(of body: () async throws -> Void) async -> Int? {
        do {
            try await body()
            return nil
        } catch let error as PulpError {
            return error.httpStatus
        } catch {
            return -1
        }
    }

    private static func profile(_ consumer: ConsumerID, _ type: String, _ names: [String]) -> UnitProfile {
        UnitProfile(
            consumerID: consumer,
            contentType: type,
            profile: .array(names.map { ["name": .string($0)] })
        )
    }

    private static func registration(_ store: any ConsumerStore) async throws {
        let rule = "1. register"
        let consumer = Consumer(id: "sunflower", displayName: "Sunflower", description: "a host", notes: ["os": "el9"])
        try await store.register(consumer)
        let stored = try await store.consumer("sunflower")
        try expect(stored == consumer, rule, "stored \(String(describing: stored)), registered \(consumer)")
        let duplicate = await status { try await store.register(Consumer(id: "sunflower", displayName: "Other")) }
        try expect(duplicate == 409, rule, "a duplicate id gave \(String(describing: duplicate)), not 409")
        try expect(try await store.consumer("sunflower") == consumer, rule, "a refused duplicate changed the consumer")
    }

    private static func reads(_ store: any ConsumerStore) async throws {
        let rule = "2. read"
        for id in ["voyager", "apollo", "sunflower"] {
            try await store.register(Consumer(id: ConsumerID(id), notes: ["rank": .int(id.count)]))
        }
        try expect(try await store.consumer("missing") == nil, rule, "an unknown consumer was found")
        let all = try await store.consumers(matching: Criteria()).map(\.id.rawValue)
        try expect(all == ["apollo", "sunflower", "voyager"], rule, "unsorted criteria gave \(all), not id order")
        let filtered = try await store.consumers(
            matching: try Criteria(json: ["filters": ["notes.rank": ["$gte": 7]], "sort": [["id", "descending"]]])
        ).map(\.id.rawValue)
        try expect(filtered == ["voyager", "sunflower"], rule, "filters and sort gave \(filtered)")
        let page = try await store.consumers(matching: try Criteria(json: ["skip": 1, "limit": 1])).map(\.id.rawValue)
        try expect(page == ["sunflower"], rule, "skip 1 limit 1 gave \(page)")
    }

    private static func updates(_ store: any ConsumerStore) async throws {
        let rule = "3. update"
        try await store.register(Consumer(id: "sunflower"))
        let updated = try await store.update("sunflower") {
            $0.displayName = "Sunflower"
            $0.id = "renamed"
        }
        try expect(updated.id == "sunflower" && updated.displayName == "Sunflower", rule, "update gave \(updated)")
        try expect(try await store.consumer("sunflower") == updated, rule, "the update was not stored")
        struct Refused: Error {}
        let refused = await status {
            try await store.update("sunflower") {
                $0.displayName = "Half done"
                throw Refused()
            }
        }
        try expect(refused == -1, rule, "a throwing change did not rethrow")
        try expect(
            try await store.consumer("sunflower")?.displayName == "Sunflower",
            rule,
            "a throwing change was stored"
        )
        let missing = await status { try await store.update("missing") { _ in } }
        try expect(missing == 404, rule, "updating an unknown consumer gave \(String(describing: missing))")
    }

    private static func profiles(_ store: any ConsumerStore) async throws {
        let rule = "5. profiles"
        try await store.register(Consumer(id: "sunflower"))
        try await store.setProfile(profile("sunflower", "rpm", ["bash"]))
        try await store.setProfile(profile("sunflower", "modulemd", ["perl"]))
        let replacement = profile("sunflower", "rpm", ["bash", "zsh"])
        try await store.setProfile(replacement)
        let stored = try await store.profiles(of: "sunflower")
        try expect(stored.map(\.contentType) == ["modulemd", "rpm"], rule, "types \(stored.map(\.contentType))")
        try expect(stored.last == replacement, rule, "an upload did not replace the profile of its type")
        try expect(
            try await store.removeProfile(contentType: "modulemd", of: "sunflower"),
            rule,
            "removing a profile reported none"
        )
        try expect(
            !(try await store.removeProfile(contentType: "modulemd", of: "sunflower")),
            rule,
            "removing a removed profile reported one"
        )
        let unknown = await status { try await store.setProfile(profile("missing", "rpm", ["bash"])) }
        try expect(unknown == 404, rule, "a profile of an unknown consumer gave \(String(describing: unknown))")
        let listing = await status { _ = try await store.profiles(of: "missing") }
        try expect(listing == 404, rule, "profiles of an unknown consumer gave \(String(describing: listing))")
    }

    private static func bindings(_ store: any ConsumerStore) async throws {
        let rule = "6. bindings"
        try await store.register(Consumer(id: "sunflower"))
        let plain = ConsumerBinding(consumerID: "sunflower", repositoryID: "zoo")
        try expect(try await store.bind(plain), rule, "a new binding was not reported new")
        let distributed = ConsumerBinding(
            consumerID: "sunflower",
            repositoryID: "zoo",
            distributorID: "yum",
            bindingConfig: ["a": 1]
        )
        try expect(try await store.bind(distributed), rule, "a binding to a distributor was not new")
        var changed = distributed
        changed.notifyAgent = false
        try expect(!(try await store.bind(changed)), rule, "binding the same key again was reported new")
        try await store.bind(ConsumerBinding(consumerID: "sunflower", repositoryID: "farm"))
        let listed = try await store.bindings(of: "sunflower")
        try expect(
            listed == [ConsumerBinding(consumerID: "sunflower", repositoryID: "farm"), plain, changed],
            rule,
            "bindings \(listed)"
        )
        try expect(
            try await store.unbind("sunflower", from: "zoo", distributorID: "yum") == 1,
            rule,
            "unbinding one distributor did not remove one binding"
        )
        try expect(
            try await store.unbind("sunflower", from: "zoo", distributorID: nil) == 1,
            rule,
            "unbinding a repository did not remove its remaining binding"
        )
        try expect(
            try await store.removeBindings(to: "farm") == 1,
            rule,
            "removing the bindings to a repository did not count one"
        )
        try expect(try await store.bindings(of: "sunflower").isEmpty, rule, "bindings remained")
        let unknown = await status { try await store.bind(ConsumerBinding(consumerID: "missing", repositoryID: "zoo")) }
        try expect(unknown == 404, rule, "binding an unknown consumer gave \(String(describing: unknown))")
    }

    private static func summaries(_ store: any ConsumerStore) async throws {
        let rule = "7. summaries and 8. profile sets"
        for id in ["a", "b", "c", "d"] { try await store.register(Consumer(id: ConsumerID(id))) }
        let bash = profile("a", "rpm", ["bash"])
        try await store.setProfile(bash)
        try await store.setProfile(profile("b", "rpm", ["bash"]))
        try await store.setProfile(profile("c", "rpm", ["bash"]))
        try await store.setProfile(profile("c", "modulemd", ["perl"]))
        try await store.setProfile(UnitProfile(consumerID: "d", contentType: "rpm", profile: []))
        for (consumer, repository) in [("a", "zoo"), ("a", "farm"), ("b", "zoo"), ("c", "farm")] {
            try await store.bind(
                ConsumerBinding(consumerID: ConsumerID(consumer), repositoryID: RepositoryID(repository))
            )
        }
        let pair = ProfileHash.profileSetHash(of: [bash.profileHash, profile("c", "modulemd", ["perl"]).profileHash])
        let summaries = try await store.summaries(of: ["d", "missing", "c", "a"])
        let expected = [
            ConsumerProfileSummary(consumerID: "d", profileSetHash: nil, repositories: []),
            ConsumerProfileSummary(consumerID: "c", profileSetHash: pair, repositories: ["farm"]),
            ConsumerProfileSummary(consumerID: "a", profileSetHash: bash.profileHash, repositories: ["farm", "zoo"]),
        ]
        try expect(summaries == expected, rule, "summaries \(summaries)")
        let bound = try await store.summaries(boundTo: ["zoo"]).map(\.consumerID)
        try expect(bound == ["a", "b"], rule, "consumers bound to zoo: \(bound)")
        let repositories = try await store.repositories(boundWithProfileSet: bash.profileHash)
        try expect(repositories == ["farm", "zoo"], rule, "repositories of the bash set: \(repositories)")
        let sets = try await store.profileSets([bash.profileHash, pair, "unknown"])
        try expect(Set(sets.keys) == [bash.profileHash, pair], rule, "profile sets found: \(sets.keys.sorted())")
        try expect(
            sets[pair]?.map(\.contentType) == ["modulemd", "rpm"],
            rule,
            "the pair set: \(String(describing: sets[pair]))"
        )
        try expect(sets[bash.profileHash]?.map(\.profile) == [bash.profile], rule, "the bash set's profile")
        try await store.removeProfile(contentType: "modulemd", of: "c")
        let after = try await store.summaries(of: ["c"]).first?.profileSetHash
        try expect(
            after == bash.profileHash,
            rule,
            "after removing a profile the set hash is \(String(describing: after))"
        )
    }

    private static func deletion(_ store: any ConsumerStore) async throws {
        let rule = "4. delete"
        try await store.register(Consumer(id: "sunflower"))
        let bash = profile("sunflower", "rpm", ["bash"])
        try await store.setProfile(bash)
        try await store.bind(ConsumerBinding(consumerID: "sunflower", repositoryID: "zoo"))
        try expect(try await store.delete("sunflower"), rule, "deleting an existing consumer reported false")
        try expect(!(try await store.delete("sunflower")), rule, "deleting twice reported true")
        try expect(try await store.consumer("sunflower") == nil, rule, "the consumer is still there")
        try expect(try await store.summaries(boundTo: ["zoo"]).isEmpty, rule, "its bindings are still there")
        try expect(try await store.profileSets([bash.profileHash]).isEmpty, rule, "its profiles are still there")
        try await store.register(Consumer(id: "sunflower"))
        try expect(
            try await store.profiles(of: "sunflower").isEmpty,
            rule,
            "a new consumer of the same id has profiles"
        )
    }
}

/// Checks that a ``PulpKit/ApplicabilityStore`` keeps every rule its documentation states.
public enum ApplicabilityStoreConformance {
    /// Runs every rule, each against a new store from `makeStore`.
    public static func check(_ makeStore: () async throws -> any ApplicabilityStore) async throws {
        try await upsert(try await makeStore())
        try await reads(try await makeStore())
        try await removal(try await makeStore())
    }

    private static func expect(_ condition: Bool, _ rule: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(rule: rule, detail: detail()) }
    }

    private static func record(_ repository: String, _ hash: String, _ types: [String: [String]]) -> ApplicabilityRecord
    {
        ApplicabilityRecord(
            repositoryID: RepositoryID(repository),
            profileSetHash: hash,
            applicability: types.mapValues { $0.map(UnitID.init(rawValue:)) }
        )
    }

    private static func upsert(_ store: any ApplicabilityStore) async throws {
        let rule = "1. upsert"
        try await store.save([record("zoo", "h1", ["rpm": ["u1", "u2"], "erratum": []])])
        let replacement = record("zoo", "h1", ["rpm": ["u3"]])
        try await store.save([replacement])
        let found = try await store.records(forProfileSets: ["h1"])
        try expect(found == [replacement], rule, "a save did not replace the record whole: \(found)")
        try await store.save([])
        try expect(try await store.keys().count == 1, rule, "saving nothing changed the store")
    }

    private static func reads(_ store: any ApplicabilityStore) async throws {
        let rule = "2. reads"
        let records = [
            record("zoo", "h1", ["rpm": ["a", "b"], "erratum": ["e"]]),
            record("farm", "h1", [:]),
            record("zoo", "h2", ["rpm": []]),
            record("farm", "h3", ["rpm": ["\u{e9}", "z\"q"]]),
        ]
        try await store.save(records)
        let found = try await store.records(forProfileSets: ["h1", "h3", "unknown"])
        try expect(found == [records[1], records[3], records[0]], rule, "records of h1 and h3: \(found)")
        try expect(try await store.profileSets(in: "zoo") == ["h1", "h2"], rule, "profile sets of zoo")
        try expect(try await store.profileSets(in: "nowhere").isEmpty, rule, "profile sets of an unknown repository")
        let keys = try await store.keys().map(\.description)
        try expect(keys == ["farm/h1", "farm/h3", "zoo/h1", "zoo/h2"], rule, "keys \(keys)")
    }

    private static func removal(_ store: any ApplicabilityStore) async throws {
        let rule = "3. removal"
        try await store.save([
            record("zoo", "h1", ["rpm": []]), record("zoo", "h2", ["rpm": []]), record("farm", "h1", ["rpm": []]),
            record("farm", "h2", ["rpm": []]), record("barn", "h3", ["rpm": []]),
        ])
        let removed = try await store.remove([
            ApplicabilityKey(repositoryID: "zoo", profileSetHash: "h1"),
            ApplicabilityKey(repositoryID: "zoo", profileSetHash: "missing"),
        ])
        try expect(removed == 1, rule, "removing one existing key counted \(removed)")
        try expect(try await store.removeRecords(in: "farm") == 2, rule, "removing farm's records")
        try expect(try await store.removeRecords(forProfileSets: ["h2", "h9"]) == 1, rule, "removing h2's records")
        let keys = try await store.keys().map(\.description)
        try expect(keys == ["barn/h3"], rule, "remaining keys \(keys)")
    }
}
