import Foundation
import PulpKit
import Testing

/// `JSONValue(encoding:)` and `decode(_:field:)` build and read JSON values directly; what they produce
/// must be what Foundation's `JSONEncoder` writes and `JSONDecoder` reads with default strategies.
struct JSONValueCodingTests {
    struct Everything: Codable, Equatable {
        enum Kind: String, Codable { case plain, fancy }

        struct Inner: Codable, Equatable {
            var names: [String]
            var flags: [String: Bool]
        }

        var text = "é \"quoted\" \u{1F600}"
        var flag = true
        var int = -3
        var int8: Int8 = -8
        var int16: Int16 = 16
        var int32: Int32 = -32
        var int64: Int64 = 1 << 40
        var uint: UInt = 7
        var uint8: UInt8 = 255
        var uint16: UInt16 = 16
        var uint32: UInt32 = 32
        var uint64: UInt64 = 64
        var double = 2.5
        var float: Float = 0.25
        var kind = Kind.fancy
        var optionalPresent: String? = "here"
        var optionalAbsent: Int? = nil
        var date = Date(timeIntervalSinceReferenceDate: 12_345.5)
        var data = Data([0, 1, 2, 254, 255])
        var url = URL(string: "https://example.com/a?b=c")!
        var json: JSONValue = ["a": [1, "two", nil, 3.5]]
        var inner = Inner(names: ["x", "y"], flags: ["on": true])
        var matrix: [[Int]] = [[1, 2], [], [3]]
        var byNumber: [Int: String] = [1: "one"]
    }

    @Test func matchesFoundationsEncoder() throws {
        let value = Everything()
        let direct = try JSONValue(encoding: value)
        let viaText = try JSONValue(parsing: JSONEncoder().encode(value))
        #expect(direct.encoded() == viaText.encoded())
        #expect(direct["optionalAbsent"] == nil)
        #expect(direct["url"] == "https://example.com/a?b=c")
        #expect(direct["data"] == "AAEC/v8=")
        #expect(direct["kind"] == "fancy")
    }

    @Test func roundTrips() throws {
        let value = Everything()
        #expect(try JSONValue(encoding: value).decode(Everything.self) == value)
        // And reads what Foundation wrote.
        let foundation = try JSONValue(parsing: JSONEncoder().encode(value))
        #expect(try foundation.decode(Everything.self) == value)
    }

    @Test func encodesTopLevelValues() throws {
        #expect(try JSONValue(encoding: "text") == "text")
        #expect(try JSONValue(encoding: [1, 2]) == [1, 2])
        #expect(try JSONValue(encoding: ["k": nil as Int?]) == ["k": nil])
        #expect(try JSONValue(encoding: RepositoryID("zoo")) == "zoo")
        #expect(try JSONValue.int(3).decode(Double.self) == 3)
        #expect(try JSONValue.double(4).decode(Int.self) == 4)
    }

    @Test func refusesValuesJSONCannotHold() {
        #expect(throws: EncodingError.self) { try JSONValue(encoding: Double.infinity) }
        #expect(throws: EncodingError.self) { try JSONValue(encoding: ["nan": Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONValue(encoding: UInt64.max) }
    }

    @Test(
        arguments: [
            (JSONValue.string("x"), "Expected to decode"),
            (["text": 1], "Expected to decode String but found a number"),
            (["flag": "yes"], "Expected to decode Bool but found a string"),
            (["int8": 300], "does not fit in Int8"),
            (["int": 1.5], "does not fit in Int"),
            (["data": "%%%"], "not valid Base64"),
            ([:], "No value associated with key"),
        ] as [(JSONValue, String)]
    )
    func refusesMismatchesNamingTheField(json: JSONValue, message: String) throws {
        var base = try JSONValue(encoding: Everything())
        if case .object(let changes) = json, case .object(var members) = base {
            if changes.isEmpty { members["text"] = nil }
            for (key, value) in changes { members[key] = value }
            base = .object(members)
        } else {
            base = json
        }
        let error = #expect(throws: PulpError.self) { try base.decode(Everything.self, field: "arguments") }
        #expect(error?.httpStatus == 400)
        #expect(error?.propertyNames == ["arguments"])
        #expect(error?.message.contains(message) == true)
    }
}
