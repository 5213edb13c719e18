import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

struct ApplicabilityQueryTests {
    /// zoo and farm; P1 = a:1, P2 = b:1, P3 = a:1 b:1.
    private func populate(_ harness: ApplicabilityHarness) async throws {
        try await harness.repository("zoo", widgets: ["a:2", "b:2"], fixes: ["FA": ["a:2"], "FB": ["b:9"]])
        try await harness.repository("farm", widgets: ["a:3", "b:3"], fixes: ["FB3": ["b:3"]])
        try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
        try await harness.consumer("c2", widgets: ["a:1"], boundTo: ["zoo"])
        try await harness.consumer("c3", widgets: ["a:1"], boundTo: ["zoo", "farm"])
        try await harness.consumer("c4", widgets: ["b:1"], boundTo: ["farm"])
        try await harness.consumer("c5", widgets: ["b:1", "a:1"], boundTo: ["zoo", "farm"])
        try await harness.consumer("c6", widgets: ["z:1"], boundTo: [])
        try await harness.regenerateAll()
    }

    @Test(arguments: StorageBackend.allCases)
    func collatesConsumersWithIdenticalApplicability(backend: StorageBackend) async throws {
        try await withApplicability(backend) { harness in
            try await populate(harness)
            let reports = try await harness.engine.query(consumers: Criteria())
            #expect(
                reports.map(\.consumers) == [["c1", "c2", "c3"], ["c3"], ["c4"], ["c5"]],
                "reports ordered by consumer lists, a consumer in one report per combination, c6 in none"
            )
            #expect(
                try await harness.applicability() == [
                    ["c1", "c2", "c3"]: ["widget": ["w-a-2"], "fix": ["f-FA"]],
                    ["c3"]: ["widget": ["w-a-3"], "fix": []],
                    ["c4"]: ["widget": ["w-b-3"], "fix": ["f-FB3"]],
                    // zoo and farm records of c5's set merged by union.
                    ["c5"]: ["widget": ["w-a-2", "w-a-3", "w-b-2", "w-b-3"], "fix": ["f-FA", "f-FB3"]],
                ]
            )
            #expect(
                ApplicabilityReport.json(reports).arrayValue?.first?["applicability"]
                    == ["widget": ["w-a-2"], "fix": ["f-FA"]]
            )
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func recordsWithPositionsMergeAsIDListsDo(backend: StorageBackend) async throws {
        func answers(positions: Bool) async throws -> [[[String]: [String: [String]]]] {
            try await withApplicability(backend, calculators: [WidgetCalculator(reportsPositions: positions)]) {
                harness in
                try await populate(harness)
                // farm gains units zoo holds too, and its records are computed again from a new index, while
                // zoo's keep the tables of the first one.
                try await harness.add(widgets: ["a:2", "b:4"], fixes: ["FA": ["a:2"]], to: "farm")
                try await harness.regenerate(repositories: ["farm"])
                return [
                    try await harness.applicability(),
                    try await harness.applicability(contentTypes: ["fix"]),
                    try await harness.applicability(try Criteria(filters: ["id": ["$in": ["c3", "c5"]]])),
                ]
            }
        }
        let expected = try await answers(positions: false)
        #expect(try await answers(positions: true) == expected)
        #expect(
            expected[0][["c5"]] == [
                "widget": ["w-a-2", "w-a-3", "w-b-2", "w-b-3", "w-b-4"], "fix": ["f-FA", "f-FB3"],
            ]
        )
    }

    @Test func contentTypesDropOtherTypesAndRecordsLeftEmpty() async throws {
        try await withApplicability { harness in
            try await populate(harness)
            try await harness.repository("bare")
            try await harness.engine.bind("c4", to: "bare")
            try await harness.wait(try await harness.engine.regenerate(consumer: "c4"))
            #expect(
                try await harness.applicability(contentTypes: ["fix"]) == [
                    ["c1", "c2", "c3"]: ["fix": ["f-FA"]],
                    ["c3"]: ["fix": []],
                    ["c4"]: ["fix": ["f-FB3"]],
                    ["c5"]: ["fix": ["f-FA", "f-FB3"]],
                ]
            )
            #expect(try await harness.applicability(contentTypes: ["nothing"]).isEmpty)
            #expect(try await harness.applicability(contentTypes: []).isEmpty)
            await expectPulpError(400, ["content_types"]) {
                _ = try await harness.engine.query(consumers: Criteria(), contentTypes: ["widget", ""])
            }
        }
    }

    @Test func criteriaSelectAndPageOverConsumers() async throws {
        try await withApplicability { harness in
            try await populate(harness)
            let page = try Criteria(json: ["sort": [["id", "descending"]], "skip": 1, "limit": 2])
            #expect(
                try await harness.applicability(page) == [
                    ["c4"]: ["widget": ["w-b-3"], "fix": ["f-FB3"]],
                    ["c5"]: ["widget": ["w-a-2", "w-a-3", "w-b-2", "w-b-3"], "fix": ["f-FA", "f-FB3"]],
                ]
            )
            let some = try Criteria(json: ["filters": ["id": ["$in": ["c2", "c3"]]], "fields": ["id"]])
            #expect(
                try await harness.applicability(some) == [
                    ["c2", "c3"]: ["widget": ["w-a-2"], "fix": ["f-FA"]],
                    ["c3"]: ["widget": ["w-a-3"], "fix": []],
                ]
            )
            #expect(try await harness.applicability(try Criteria(filters: ["id": "nobody"])).isEmpty)
        }
    }

    @Test func answersAreDeterministic() async throws {
        try await withApplicability { harness in
            try await populate(harness)
            let first = try await harness.engine.query(consumers: Criteria())
            for _ in 0..<5 { #expect(try await harness.engine.query(consumers: Criteria()) == first) }
            #expect(ApplicabilityReport.json(first).encoded() == ApplicabilityReport.json(first).encoded())
        }
    }

    @Test func theSpecSampleQueryGetsTheSpecSampleAnswer() async throws {
        let type1 = WidgetCalculator(widgetType: "type_1", fixType: nil, profileType: "p1")
        let type2 = WidgetCalculator(widgetType: "type_2", fixType: nil, profileType: "p2")
        try await withApplicability(calculators: [type1, type2]) { harness in
            try await harness.repositories.create(Repository(id: "repo-a"))
            try await harness.repositories.create(Repository(id: "repo-b"))
            try await harness.editor.add(
                [
                    ContentUnit(id: "unit_1", typeID: "type_1", unitKey: ["name": "a", "level": 2]),
                    ContentUnit(id: "unit_2", typeID: "type_1", unitKey: ["name": "b", "level": 2]),
                ],
                to: "repo-a"
            )
            try await harness.editor.add(
                [
                    ContentUnit(id: "unit_3", typeID: "type_1", unitKey: ["name": "c", "level": 2]),
                    ContentUnit(id: "unit_4", typeID: "type_2", unitKey: ["name": "d", "level": 2]),
                ],
                to: "repo-b"
            )
            for (consumer, repositories) in [("sunflower", ["repo-a", "repo-b"]), ("voyager", ["repo-b"])] {
                let id = ConsumerID(consumer)
                try await harness.engine.register(Consumer(id: id))
                try await harness.engine.setProfile(widgetProfile(["a:1", "b:1", "c:1"]), contentType: "p1", for: id)
                try await harness.engine.setProfile(widgetProfile(["d:1"]), contentType: "p2", for: id)
                for repository in repositories { try await harness.engine.bind(id, to: RepositoryID(repository)) }
            }
            let regeneration = try ConsumerRegenerationRequest(
                json: try JSONValue(
                    parsing: #"{"consumer_criteria": {"filters": {"id": {"$in": ["sunflower", "voyager"]}}}}"#
                )
            )
            let callReport = try await harness.engine.regenerate(regeneration)
            #expect(
                callReport.json["spawned_tasks"]?.arrayValue?.first?["_href"]
                    == .string("/pulp/api/v2/tasks/\(callReport.taskID!)/")
            )
            #expect(try await harness.wait(callReport).tags == ["pulp:action:content_applicability_regeneration"])

            let query = try ApplicabilityQuery(
                json: try JSONValue(
                    parsing: #"""
                        {"criteria": {"filters": {"id": {"$in": ["sunflower", "voyager"]}}},
                         "content_types": ["type_1", "type_2"]}
                        """#
                )
            )
            let answer = ApplicabilityReport.json(try await harness.engine.query(query))
            let sample = try JSONValue(
                parsing: """
                    [
                       {
                           "consumers": ["sunflower"],
                           "applicability": {"type_1": ["unit_1_id", "unit_2_id"]}
                       },
                       {
                           "consumers": ["sunflower", "voyager"],
                           "applicability": {"type_1": ["unit_3_id"], "type_2": ["unit_4_id"]}
                       }
                    ]
                    """.replacingOccurrences(of: "_id\"", with: "\"")
            )
            #expect(answer == sample)

            let repositories = try RepositoryRegenerationRequest(
                json: try JSONValue(
                    parsing:
                        #"{"repo_criteria": {"filters": {"id": {"$in": ["test-repo", "test-errata"]}}}, "parallel": true}"#
                )
            )
            let report = try await harness.engine.regenerate(repositories)
            guard case .group(let group) = report else {
                Issue.record("the sample parallel request did not give a group call report")
                return
            }
            #expect(Set(report.json.objectValue?.keys ?? [:].keys) == ["_href", "group_id"])
            #expect(report.json["group_id"] == .string(group.groupID.rawValue))
        }
    }
}

struct UnitIDMergeTests {
    static let cases: [([String], [String])] = [
        ([], []), (["a"], []), ([], ["a"]), (["a"], ["a"]), (["a", "b"], ["a"]), (["a"], ["a", "b"]),
        (["a", "c", "e"], ["b", "c", "d", "f"]),
        (["0f3c-aaaa-1", "0f3c-aaaa-2", "9a00"], ["0f3c-aaaa-1", "0f3c-aaab", "ffff"]),
        (["é1", "é2", "z"], ["é1", "éé", "y"]), (["short", "shortest1"], ["shorter", "shortest"]),
    ]

    @Test(arguments: cases)
    func mergesSortedListsAsASortedUnion(a: [String], b: [String]) {
        let merged = mergeSortedUnique(a.sorted().map(UnitID.init(rawValue:)), b.sorted().map(UnitID.init(rawValue:)))
        #expect(merged == Set(a + b).sorted().map(UnitID.init(rawValue:)))
        #expect(sortedUnique((a + b).map(UnitID.init(rawValue:))) == merged)
    }

    @Test(arguments: cases)
    func combinedOrderUnitesPositionsOfSeveralTables(a: [String], b: [String]) {
        let tableA = UnitIDTable(sortedIDs: Set(a).sorted().map(UnitID.init(rawValue:)))
        let tableB = UnitIDTable(sortedIDs: Set(b).sorted().map(UnitID.init(rawValue:)))
        let order = CombinedUnitOrder(tables: [tableA, tableB, tableA])
        #expect(order.ids == Set(a + b).sorted().map(UnitID.init(rawValue:)))
        let allB = UnitPositions(table: tableB, positions: tableB.ids.indices)
        let everyOtherA = UnitPositions(table: tableA, positions: stride(from: 0, to: tableA.ids.count, by: 2))
        #expect(allB.ids == tableB.ids)
        #expect(everyOtherA.count == (tableA.ids.count + 1) / 2)
        #expect(order.union([everyOtherA, allB]) == Set(everyOtherA.ids + tableB.ids).sorted())
        #expect(order.union([everyOtherA]) == everyOtherA.ids)
        #expect(order.union([]) == [])
    }
}
