import PulpKit
import Testing

struct CriteriaValidationTests {
    @Test(arguments: [
        (#"[]"#, ["criteria"]),
        (#""filters""#, ["criteria"]),
        (#"null"#, ["criteria"]),
        (#"{"filter": {}}"#, ["filter"]),
        (#"{"filters": {}, "foo": 1, "bar": 2}"#, ["bar", "foo"]),
        (#"{"filters": []}"#, ["filters"]),
        (#"{"filters": "state=finished"}"#, ["filters"]),
        (#"{"limit": 0}"#, ["limit"]),
        (#"{"limit": -1}"#, ["limit"]),
        (#"{"limit": true}"#, ["limit"]),
        (#"{"limit": 1.5}"#, ["limit"]),
        (#"{"limit": "five"}"#, ["limit"]),
        (#"{"limit": "0"}"#, ["limit"]),
        (#"{"skip": -1}"#, ["skip"]),
        (#"{"skip": false}"#, ["skip"]),
        (#"{"skip": "x"}"#, ["skip"]),
        (#"{"skip": 0.5}"#, ["skip"]),
        (#"{"sort": "name"}"#, ["sort"]),
        (#"{"sort": ["name"]}"#, ["sort"]),
        (#"{"sort": [["name"]]}"#, ["sort"]),
        (#"{"sort": [["name", "ascending", "x"]]}"#, ["sort"]),
        (#"{"sort": [[1, "ascending"]]}"#, ["sort"]),
        (#"{"sort": [["name", "up"]]}"#, ["sort"]),
        (#"{"sort": [["name", 2]]}"#, ["sort"]),
        (#"{"sort": [["name", 1.0]]}"#, ["sort"]),
        (#"{"sort": [["name", true]]}"#, ["sort"]),
        (#"{"fields": "name"}"#, ["fields"]),
        (#"{"fields": {"name": 1}}"#, ["fields"]),
        (#"{"fields": ["name", 1]}"#, ["fields"]),
        (
            #"{"zzz": 1, "fields": 1, "skip": -1, "limit": 0, "sort": 1, "filters": 1}"#,
            ["filters", "sort", "limit", "skip", "fields", "zzz"]
        ),
    ])
    func refusesInvalidCriteriaNamingEveryBadKey(json: String, propertyNames: [String]) throws {
        let value = try JSONValue(parsing: json)
        let error = #expect(throws: PulpError.self) { try Criteria(json: value) }
        #expect(error?.propertyNames == propertyNames)
        #expect(error?.code == .invalidProperties)
        #expect(error?.httpStatus == 400)
        #expect(error?.subErrors.count == propertyNames.count)
    }

    @Test(arguments: [
        (#"{"name": {"$foo": 1}}"#, "unknown operator '$foo'"),
        (#"{"x": {"$type": "string"}}"#, "unknown operator '$type'"),
        (#"{"$where": "this.a > 1"}"#, "unknown top-level operator '$where'"),
        (#"{"tags": {"$in": "a"}}"#, "'$in' for 'tags' needs an array"),
        (#"{"tags": {"$nin": {}}}"#, "'$nin' for 'tags' needs an array"),
        (#"{"tags": {"$all": "a"}}"#, "'$all' for 'tags' needs an array"),
        (#"{"tags": {"$size": "2"}}"#, "'$size' for 'tags'"),
        (#"{"tags": {"$size": -1}}"#, "'$size' for 'tags'"),
        (#"{"tags": {"$size": 1.5}}"#, "'$size' for 'tags'"),
        (#"{"x": {"$exists": 1}}"#, "'$exists' for 'x'"),
        (#"{"x": {"$regex": "("}}"#, "'$regex' has an invalid regular expression"),
        (#"{"x": {"$regex": 5}}"#, "'$regex' for 'x' needs a string"),
        (#"{"x": {"$regex": "a", "$options": "q"}}"#, "'$options' has an unknown flag 'q'"),
        (#"{"x": {"$options": "i"}}"#, "'$options' for 'x' needs a '$regex'"),
        (#"{"x": {"$regex": "(a+)+$"}}"#, "'$regex' repeats a group that repeats ('(a+)+')"),
        (#"{"x": {"$regex": "^(\\w*[a-z]{2,})*x"}}"#, "'$regex' repeats a group that repeats"),
        (#"{"x": {"$regex": "((ab)*c){1,5}"}}"#, "'$regex' repeats a group that repeats ('((ab)*c){1,5}')"),
        (#"{"x": {"$not": "(x|y+)*z"}}"#, "'$not' repeats a group that repeats"),
        // Found by fuzzing: Foundation on Linux leaks every pattern over 256 UTF-16 units it compiles.
        (#"{"x": {"$regex": "\#(String(repeating: "a", count: 257))"}}"#, "'$regex' has a regular expression of 257"),
        (#"{"x": {"$not": "\#(String(repeating: "é", count: 300))"}}"#, "'$not' has a regular expression of 300"),
        (#"{"$and": []}"#, "'$and' needs a non-empty array"),
        (#"{"$or": {}}"#, "'$or' needs a non-empty array"),
        (#"{"$nor": [1]}"#, "'$nor' needs a non-empty array of filter objects"),
        (#"{"x": {"$not": 5}}"#, "'$not' for 'x'"),
        (#"{"x": {"$not": {}}}"#, "'$not' for 'x'"),
        (#"{"x": {"$not": "("}}"#, "'$not' has an invalid regular expression"),
        (#"{"x": {"$elemMatch": [1]}}"#, "'$elemMatch' for 'x' needs an object"),
        (#"{"x": {"$gt": 1, "y": 2}}"#, "mixes operators and plain keys"),
        (#"{"x": {"$in": [{"$gt": 1}]}}"#, "'$in' for 'x' cannot hold operators"),
        (#"{"x": {"$date": "yesterday"}}"#, "'$date' needs an ISO 8601 date"),
        (#"{"x": {"$date": 5}}"#, "'$date' needs an ISO 8601 date"),
        (#"{"x": {"$gt": {"$date": "2024-02-30T00:00:00Z"}}}"#, "'$date' needs an ISO 8601 date"),
        (#"{"x": {"$in": [{"$date": "2024-05-01"}]}}"#, "'$date' needs an ISO 8601 date"),
        (#"{"x": [1, {"$date": "2024-05-01T25:00:00Z"}]}"#, "'$date' needs an ISO 8601 date"),
        (#"{"x": {"$lt": {"$date": "2024-05-01T10:00:00"}}}"#, "'$date' needs an ISO 8601 date"),
    ])
    func refusesInvalidFiltersNamingTheOperator(filters: String, reason: String) throws {
        let value: JSONValue = ["filters": try JSONValue(parsing: filters)]
        let error = #expect(throws: PulpError.self) { try Criteria(json: value) }
        #expect(error?.propertyNames == ["filters"])
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }

    @Test func acceptsARegularExpressionOfTheLongestLengthAllowed() throws {
        let pattern = String(repeating: "ab", count: 128)
        let criteria = try Criteria(json: ["filters": ["x": ["$regex": .string(pattern)]]])
        #expect(criteria.matches(["x": .string("z" + pattern)]))
        #expect(!criteria.matches(["x": "ab"]))
    }

    @Test(arguments: [
        (#"{"limit": "5", "skip": "0"}"#, try Criteria(limit: 5, skip: 0)),
        (#"{"limit": 1, "skip": 3}"#, try Criteria(limit: 1, skip: 3)),
        (#"{"filters": null, "sort": null, "limit": null, "skip": null, "fields": null}"#, Criteria()),
        (#"{"fields": []}"#, try Criteria(fields: [])),
        (
            #"{"sort": [["a", "DESCENDING"], ["b", "1"], ["c", -1], ["d", 1], ["e", "Ascending"], ["f", "-1"]]}"#,
            try Criteria(sort: [
                .init(field: "a", direction: .descending), .init(field: "b"),
                .init(field: "c", direction: .descending), .init(field: "d"), .init(field: "e"),
                .init(field: "f", direction: .descending),
            ])
        ),
    ])
    func acceptsPulpCoercions(json: String, expected: Criteria) throws {
        #expect(try Criteria(json: JSONValue(parsing: json)) == expected)
    }

    @Test(arguments: [
        Criteria(),
        try Criteria(filters: ["state": "finished", "size": ["$gte": 100]]),
        try Criteria(
            filters: ["started": ["$gt": ["$date": "2024-05-01T10:00:00Z"]]],
            sort: [.init(field: "started", direction: .descending), .init(field: "id")],
            limit: 10,
            skip: 20,
            fields: ["id", "started", "pkglist.name"]
        ),
        try Criteria(sort: [], fields: []),
    ])
    func roundTripsThroughJSON(criteria: Criteria) throws {
        #expect(try Criteria(json: criteria.json) == criteria)
    }

    @Test func writesTheJSONPulpReads() throws {
        let criteria = try Criteria(
            filters: ["id": "zoo"],
            sort: [.init(field: "id", direction: .descending)],
            limit: 2,
            fields: ["id"]
        )
        let expected: JSONValue = [
            "filters": ["id": "zoo"], "sort": [["id", "descending"]], "limit": 2, "fields": ["id"],
        ]
        #expect(criteria.json == expected)
        #expect(Criteria().json == ["filters": [:]])
    }

    @Test(arguments: [
        (0, 0, ["limit"]),
        (1, -1, ["skip"]),
        (-5, -5, ["limit", "skip"]),
    ])
    func typedInitializerValidatesLimitAndSkip(limit: Int, skip: Int, propertyNames: [String]) {
        let error = #expect(throws: PulpError.self) { try Criteria(limit: limit, skip: skip) }
        #expect(error?.propertyNames == propertyNames)
    }

    @Test func typedInitializerReportsFiltersAndPagingTogether() {
        let error = #expect(throws: PulpError.self) {
            try Criteria(filters: ["x": ["$bad": 1]], limit: 0)
        }
        #expect(error?.propertyNames == ["filters", "limit"])
    }

    @Test func hashesByTheClientVisibleParts() throws {
        let first = try Criteria(filters: ["a": 1], limit: 3)
        let second = try Criteria(json: ["filters": ["a": 1], "limit": "3"])
        #expect(first == second)
        #expect(Set([first, second]).count == 1)
        #expect(first != (try Criteria(filters: ["a": 2], limit: 3)))
    }
}

struct CriteriaQueryItemsTests {
    @Test func buildsCriteriaFromGETParameters() throws {
        let criteria = try Criteria(queryItems: [
            ("filters", #"{"state": "finished"}"#),
            ("sort", #"[["size", "descending"]]"#),
            ("limit", "2"),
            ("skip", "1"),
            ("field", "id"),
            ("field", "size"),
        ])
        let expected = try Criteria(
            filters: ["state": "finished"],
            sort: [.init(field: "size", direction: .descending)],
            limit: 2,
            skip: 1,
            fields: ["id", "size"]
        )
        #expect(criteria == expected)
        #expect(try Criteria(queryItems: []) == Criteria())
    }

    @Test(
        arguments: [
            ([("filters", "{")], ["filters"]),
            ([("sort", "[[")], ["sort"]),
            ([("sort", #"[["a"]]"#)], ["sort"]),
            ([("filters", "[1]")], ["filters"]),
            ([("limit", "0")], ["limit"]),
            ([("skip", "-2")], ["skip"]),
            ([("details", "true")], ["details"]),
            ([("fields", "a")], ["fields"]),
            ([("filters", "{"), ("limit", "x"), ("bogus", "1")], ["filters", "limit", "bogus"]),
        ] as [([(String, String)], [String])]
    )
    func refusesBadGETParametersNamingThem(items: [(String, String)], propertyNames: [String]) {
        let error = #expect(throws: PulpError.self) {
            try Criteria(queryItems: items.map { (name: $0.0, value: $0.1) })
        }
        #expect(error?.propertyNames == propertyNames)
    }
}
