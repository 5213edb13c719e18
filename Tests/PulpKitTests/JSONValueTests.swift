import Foundation
import PulpKit
import Testing

struct JSONValueTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("-12", .int(-12)),
        ("2.0", .double(2.0)),
        ("1e3", .double(1000)),
        ("\"a\\u00e9\\ud83d\\ude00\\n\"", .string("a\u{e9}\u{1F600}\n")),
        ("[1, [], {}]", .array([1, .array([]), .object([:])])),
        (" {\"a\": {\"b\": [null]}} ", .object(["a": .object(["b": .array([.null])])])),
    ])
    func parsesJSON(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\\ud800\"", "nul", "1 2", "\"a\u{01}\""])
    func refusesMalformedJSON(text: String) {
        let error = #expect(throws: PulpError.self) { try JSONValue(parsing: text) }
        #expect(error?.code == .malformedJSON)
        #expect(error?.httpStatus == 400)
    }

    @Test func refusesNestingBeyondTheLimit() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: PulpError.self) { try JSONValue(parsing: deep) }
        let shallow = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(try JSONValue(parsing: shallow, maximumDepth: 10) != .null)
        #expect(throws: PulpError.self) { try JSONValue(parsing: shallow, maximumDepth: 9) }
    }

    @Test func encodesCompactSortedAndRoundTrips() throws {
        let value: JSONValue = ["b": [1, 2.5, "x"], "a": nil, "c": ["z": true, "y": false]]
        #expect(value.encoded() == #"{"a":null,"b":[1,2.5,"x"],"c":{"y":false,"z":true}}"#)
        #expect(try JSONValue(parsing: value.encoded()) == value)
        #expect(try JSONValue(parsing: value.encoded(.prettyPrinted)) == value)
    }

    @Test func asciiOnlyMatchesPythonJSONDumps() {
        // json.dumps({"n": "caf\u00e9 \U0001f600", "t": "a\tb\u0001"}, sort_keys=True, separators=(",", ":"))
        let value: JSONValue = ["t": "a\tb\u{01}", "n": "caf\u{e9} \u{1F600}"]
        #expect(value.encoded(.asciiOnly) == #"{"n":"caf\u00e9 \ud83d\ude00","t":"a\tb\u0001"}"#)
    }

    @Test func looksUpDottedPaths() {
        let value: JSONValue = ["kwargs": ["overrides": ["a": 1]], "pkglist": [["name": "bash"]]]
        #expect(value.value(at: "kwargs.overrides.a") == 1)
        #expect(value.value(at: "pkglist.0.name") == "bash")
        #expect(value.value(at: "pkglist.1.name") == nil)
        #expect(value.value(at: "kwargs.missing") == nil)
        #expect(value["kwargs"]?["overrides"] == ["a": 1])
    }

    @Test func bridgesCodableValues() throws {
        struct Arguments: Codable, Equatable {
            var repoID: String
            var overrides: [String: Int]
        }
        let arguments = Arguments(repoID: "zoo", overrides: ["retries": 3])
        let json = try JSONValue(encoding: arguments)
        #expect(json == ["repoID": "zoo", "overrides": ["retries": 3]])
        #expect(try json.decode(Arguments.self) == arguments)
        #expect(throws: PulpError.self) { try JSONValue.string("x").decode(Arguments.self, field: "args") }
    }
}

struct PulpErrorTests {
    @Test func invalidPropertiesNameEveryProperty() {
        let error = PulpError.invalidProperties([
            .init("schedule", "No interval specification found"), .init("enabled", "must be a boolean"),
        ])
        #expect(error.httpStatus == 400)
        #expect(error.code.rawValue == "PLK0015")
        #expect(error.propertyNames == ["schedule", "enabled"])
        #expect(error.message.hasPrefix("Invalid properties: ['schedule', 'enabled']"))
        #expect(error.subErrors.count == 2)
    }

    @Test func envelopeHasPulpsShape() {
        let error = PulpError.invalid("limit", "must be an integer >= 1")
        let body = error.envelope(method: "POST", href: "/pulp/api/v2/repositories/search/")
        #expect(body["http_status"] == 400)
        #expect(body["http_request_method"] == "POST")
        #expect(body["_href"] == "/pulp/api/v2/repositories/search/")
        #expect(body["property_names"] == ["limit"])
        #expect(body["exception"] == .null)
        #expect(body["traceback"] == .null)
        #expect(body.value(at: "error.code") == "PLK0015")
        #expect(body.value(at: "error.data.property_names") == ["limit"])
        #expect(body.value(at: "error.sub_errors.0.description") == "limit: must be an integer >= 1")
    }

    @Test func missingResourceIs404WithResources() {
        let error = PulpError.missingResource(["repository": "zoo"])
        #expect(error.httpStatus == 404)
        #expect(error.message == "Missing resource(s): repository=zoo")
        #expect(error.envelope()["resources"] == ["repository": "zoo"])
    }

    @Test func otherConstructorsMapToTheirStatuses() {
        #expect(PulpError.unsupportedProperties(["foo"]).message == "Unsupported properties: ['foo']")
        #expect(PulpError.unsupportedProperties(["foo"]).httpStatus == 400)
        #expect(PulpError.missingValues(["criteria"]).message == "Missing values for: ['criteria']")
        #expect(PulpError.conflict("Duplicate resource: zoo").httpStatus == 409)
        #expect(PulpError.internalError("boom").httpStatus == 500)
        #expect(PulpError.storage("database is locked", path: "/x.db", isBusy: true).httpStatus == 503)
        #expect(PulpError.storage("disk I/O error", path: "/x.db").message == "/x.db: disk I/O error")
    }
}

struct IdentifierTests {
    @Test func identifiersAreTypedStrings() throws {
        let id: RepositoryID = "zoo"
        #expect(id.rawValue == "zoo")
        #expect(id.description == "zoo")
        #expect(try JSONValue(encoding: [id]) == ["zoo"])
        #expect(RepositoryID("a") < RepositoryID("b"))
        let task = TaskID.random()
        #expect(task.rawValue.count == 36)
        #expect(task.rawValue == task.rawValue.lowercased())
        #expect(task != TaskID.random())
    }

    @Test func randomIdentifiersAreVersion4UUIDs() {
        let ids = (0..<2_000).map { _ in TaskID.random().rawValue }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(200) {
            let parts = id.split(separator: "-").map(String.init)
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12], "\(id)")
            #expect(id.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase }, "\(id)")
            #expect(parts[2].first == "4", "version nibble of \(id)")
            #expect("89ab".contains(parts[3].first!), "variant nibble of \(id)")
            #expect(UUID(uuidString: id) != nil, "\(id) is not a UUID")
        }
    }
}
