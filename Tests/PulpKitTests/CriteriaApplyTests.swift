import PulpKit
import Testing

struct CriteriaSortTests {
    private static func ids(_ documents: [JSONValue]) -> [String] {
        documents.map { $0["id"]?.stringValue ?? "?" }
    }

    @Test(arguments: [Criteria.SortDirection.ascending, .descending])
    func keepsInputOrderForTies(direction: Criteria.SortDirection) throws {
        let documents: [JSONValue] = [
            ["id": "a", "rank": 1], ["id": "b", "rank": 2], ["id": "c", "rank": 1],
            ["id": "d", "rank": 2], ["id": "e", "rank": 1], ["id": "f", "rank": 1.0],
        ]
        let sorted = try Criteria(sort: [.init(field: "rank", direction: direction)]).apply(to: documents)
        let expected = direction == .ascending ? ["a", "c", "e", "f", "b", "d"] : ["b", "d", "a", "c", "e", "f"]
        #expect(Self.ids(sorted) == expected)
    }

    @Test func honoursSeveralKeysInOrder() throws {
        let documents: [JSONValue] = [
            ["id": "1", "state": "finished", "size": 5], ["id": "2", "state": "error", "size": 9],
            ["id": "3", "state": "finished", "size": 7], ["id": "4", "state": "error", "size": 1],
        ]
        let criteria = try Criteria(sort: [
            .init(field: "state"), .init(field: "size", direction: .descending),
        ])
        #expect(Self.ids(criteria.apply(to: documents)) == ["2", "4", "3", "1"])
    }

    @Test(arguments: [Criteria.SortDirection.ascending, .descending])
    func ordersMixedTypesAsMongo(direction: Criteria.SortDirection) throws {
        let documents: [JSONValue] = [
            ["id": "true", "v": true], ["id": "b", "v": "b"], ["id": "3", "v": 3], ["id": "missing"],
            ["id": "object", "v": ["k": 1]], ["id": "1.5", "v": 1.5], ["id": "B", "v": "B"],
            ["id": "nested", "v": [[0]]], ["id": "null", "v": nil], ["id": "false", "v": false],
            ["id": "empty", "v": []],
        ]
        let ascending = ["empty", "missing", "null", "1.5", "3", "B", "b", "object", "nested", "false", "true"]
        let expected =
            direction == .ascending
            ? ascending
            : ["true", "false", "nested", "object", "b", "B", "3", "1.5", "missing", "null", "empty"]
        let sorted = try Criteria(sort: [.init(field: "v", direction: direction)]).apply(to: documents)
        #expect(Self.ids(sorted) == expected)
    }

    @Test(arguments: [
        (Criteria.SortDirection.ascending, ["mixed", "low", "three"]),
        (.descending, ["low", "mixed", "three"]),
    ])
    func sortsArraysByTheirMinimumOrMaximum(direction: Criteria.SortDirection, expected: [String]) throws {
        let documents: [JSONValue] = [
            ["id": "mixed", "v": [5, 1]], ["id": "three", "v": [3]], ["id": "low", "v": [2, 9]],
        ]
        let sorted = try Criteria(sort: [.init(field: "v", direction: direction)]).apply(to: documents)
        #expect(Self.ids(sorted) == expected)
    }

    @Test func sortsByDottedPathsThroughArrays() throws {
        let documents: [JSONValue] = [
            ["id": "x", "pkglist": [["name": "zsh"], ["name": "curl"]]],
            ["id": "y", "pkglist": [["name": "bash"]]],
            ["id": "z", "pkglist": [["name": "dnf"]]],
        ]
        let sorted = try Criteria(sort: [.init(field: "pkglist.name")]).apply(to: documents)
        #expect(Self.ids(sorted) == ["y", "x", "z"])
    }

    @Test func comparesStringsByUnicodeScalars() throws {
        let documents: [JSONValue] = [["id": "é", "v": "\u{E9}"], ["id": "z", "v": "z"], ["id": "Z", "v": "Z"]]
        let sorted = try Criteria(sort: [.init(field: "v")]).apply(to: documents)
        #expect(Self.ids(sorted) == ["Z", "z", "é"])
    }
}

struct CriteriaApplyTests {
    private static let documents: [JSONValue] = (1...5).map { index in
        ["id": .string("r\(index)"), "size": .int(index * 10), "state": index % 2 == 0 ? "error" : "finished"]
    }

    @Test(
        arguments: [
            (nil, nil, ["r1", "r2", "r3", "r4", "r5"]),
            (0, nil, ["r1", "r2", "r3", "r4", "r5"]),
            (2, nil, ["r3", "r4", "r5"]),
            (nil, 2, ["r1", "r2"]),
            (1, 2, ["r2", "r3"]),
            (4, 3, ["r5"]),
            (9, 1, []),
            (nil, 99, ["r1", "r2", "r3", "r4", "r5"]),
        ] as [(Int?, Int?, [String])]
    )
    func skipsThenLimits(skip: Int?, limit: Int?, expected: [String]) throws {
        let result = try Criteria(sort: [.init(field: "size")], limit: limit, skip: skip).apply(to: Self.documents)
        #expect(result.map { $0["id"]?.stringValue } == expected)
    }

    @Test func filtersBeforeSortingSkippingLimitingAndProjecting() throws {
        let criteria = try Criteria(
            filters: ["state": "finished"],
            sort: [.init(field: "size", direction: .descending)],
            limit: 1,
            skip: 1,
            fields: ["size"]
        )
        #expect(criteria.apply(to: Self.documents) == [["id": "r3", "size": 30]])
        #expect(criteria.matches(Self.documents[0]))
        #expect(!criteria.matches(Self.documents[1]))
    }

    static let projected: JSONValue = [
        "id": "zoo", "_id": ["$oid": "5f"], "_href": "/pulp/api/v2/repositories/zoo/", "name": "Zoo",
        "nested": ["a": ["b": 3, "c": 4], "d": 5], "scalar": 7,
        "pkglist": [["name": "bash", "arch": "x86_64"], ["name": "zsh", "arch": "noarch"], "loose"],
    ]

    @Test(arguments: [
        (["name"], #"{"id": "zoo", "_id": {"$oid": "5f"}, "_href": "/pulp/api/v2/repositories/zoo/", "name": "Zoo"}"#),
        ([], #"{"id": "zoo", "_id": {"$oid": "5f"}, "_href": "/pulp/api/v2/repositories/zoo/"}"#),
        (
            ["nested.a.b", "missing"],
            #"{"id": "zoo", "_id": {"$oid": "5f"}, "_href": "/pulp/api/v2/repositories/zoo/", "nested": {"a": {"b": 3}}}"#
        ),
        (
            ["nested.a", "nested"],
            #"""
            {"id": "zoo", "_id": {"$oid": "5f"}, "_href": "/pulp/api/v2/repositories/zoo/",
             "nested": {"a": {"b": 3, "c": 4}, "d": 5}}
            """#
        ),
        (
            ["pkglist.name", "scalar.x"],
            #"""
            {"id": "zoo", "_id": {"$oid": "5f"}, "_href": "/pulp/api/v2/repositories/zoo/",
             "pkglist": [{"name": "bash"}, {"name": "zsh"}]}
            """#
        ),
    ])
    func projectsListedFieldsPlusIdentifiers(fields: [String], expected: String) throws {
        let result = try Criteria(fields: fields).apply(to: [Self.projected])
        #expect(result == [try JSONValue(parsing: expected)])
    }

    @Test func projectionKeepsOnlyIdentifiersThatExist() throws {
        let result = try Criteria(fields: ["size"]).apply(to: [["size": 1, "other": 2]])
        #expect(result == [["size": 1]])
    }
}
