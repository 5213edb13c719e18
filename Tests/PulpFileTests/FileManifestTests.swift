import Foundation
import PulpKit
import Testing

@testable import PulpFile

private let sumA = String(repeating: "ab", count: 32)
private let sumB = String(repeating: "0123456789abcdef", count: 4)
private let sumC = String(repeating: "f", count: 64)

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A manifest that parses, with the entries it must produce.
struct GoodManifest: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var bytes: [UInt8]
    var expected: [Expected]

    struct Expected: Sendable, Equatable {
        var name: String
        var sha256: String
        var size: Int64
    }

    init(_ label: String, _ text: String, _ expected: [(String, String, Int64)]) {
        self.init(label, Array(text.utf8), expected)
    }

    init(_ label: String, _ bytes: [UInt8], _ expected: [(String, String, Int64)]) {
        self.testDescription = label
        self.bytes = bytes
        self.expected = expected.map { Expected(name: $0.0, sha256: $0.1, size: $0.2) }
    }
}

/// A manifest that must be refused, the line the message must name and a fragment it must contain.
struct BadManifest: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var bytes: [UInt8]
    var line: Int
    var fragment: String

    init(_ label: String, _ text: String, line: Int, _ fragment: String) {
        self.init(label, Array(text.utf8), line: line, fragment)
    }

    init(_ label: String, _ bytes: [UInt8], line: Int, _ fragment: String) {
        self.testDescription = label
        self.bytes = bytes
        self.line = line
        self.fragment = fragment
    }
}

private let longestName = String(repeating: "d/", count: 2047) + "ok"

private let goodManifests: [GoodManifest] = [
    GoodManifest("one LF line", "a.iso,\(sumA),10\n", [("a.iso", sumA, 10)]),
    GoodManifest(
        "CRLF lines",
        "a.iso,\(sumA),1\r\nb.iso,\(sumB),2\r\n",
        [("a.iso", sumA, 1), ("b.iso", sumB, 2)]
    ),
    GoodManifest("no trailing newline", "a.iso,\(sumA),3", [("a.iso", sumA, 3)]),
    GoodManifest(
        "comments, blank and whitespace-only lines",
        "# generated\n\na.iso,\(sumA),1\n   \n\t\n# middle comment, with commas,,\r\n\r\nb.iso,\(sumB),2\n\n\n",
        [("a.iso", sumA, 1), ("b.iso", sumB, 2)]
    ),
    GoodManifest(
        "names with subfolders",
        "dvd/disc1/boot.iso,\(sumA),7\ndvd/disc2/boot.iso,\(sumB),8\n",
        [("dvd/disc1/boot.iso", sumA, 7), ("dvd/disc2/boot.iso", sumB, 8)]
    ),
    GoodManifest(
        "names with commas split from the right",
        "a,b,c.iso,\(sumA),5\n,leading-comma,\(sumB),6\n",
        [("a,b,c.iso", sumA, 5), (",leading-comma", sumB, 6)]
    ),
    GoodManifest(
        "unicode names",
        "répertoire/日本語.iso,\(sumA),1\n📦/naïve café.txt,\(sumB),2\n",
        [("répertoire/日本語.iso", sumA, 1), ("📦/naïve café.txt", sumB, 2)]
    ),
    GoodManifest(
        "uppercase checksum stored lowercase",
        "a.iso,\(sumB.uppercased()),1\n",
        [("a.iso", sumB, 1)]
    ),
    GoodManifest(
        "zero, leading-zero and largest sizes",
        "empty,\(sumA),0\npadded,\(sumB),007\nhuge,\(sumC),9223372036854775807\n",
        [("empty", sumA, 0), ("padded", sumB, 7), ("huge", sumC, Int64.max)]
    ),
    GoodManifest(
        "dots that are not . or .. components",
        ".hidden,\(sumA),1\n.../x,\(sumB),2\na..b/..c,\(sumC),3\n",
        [(".hidden", sumA, 1), (".../x", sumB, 2), ("a..b/..c", sumC, 3)]
    ),
    GoodManifest(
        "spaces kept in names, including before a #",
        " #not a comment ,\(sumA),1\n",
        [(" #not a comment ", sumA, 1)]
    ),
    GoodManifest("a 4096-byte name", "\(longestName),\(sumA),1\n", [(longestName, sumA, 1)]),
    GoodManifest(
        "a leading byte order mark",
        [0xEF, 0xBB, 0xBF] + Array("a.iso,\(sumA),1\n".utf8),
        [("a.iso", sumA, 1)]
    ),
    GoodManifest("an empty file", "", []),
    GoodManifest("only comments and blank lines", "# nothing yet\n\n# still nothing\r\n", []),
]

private let badManifests: [BadManifest] = [
    BadManifest("leading ..", "../etc/passwd,\(sumA),1\n", line: 1, "\"..\" path component"),
    BadManifest(".. in the middle", "ok,\(sumA),1\na/../../b,\(sumB),1\n", line: 2, "\"..\" path component"),
    BadManifest("trailing ..", "# c\na/..,\(sumA),1\n", line: 2, "\"..\" path component"),
    BadManifest("lone ..", "..,\(sumA),1\n", line: 1, "\"..\" path component"),
    BadManifest(". component", "./a,\(sumA),1\n", line: 1, "\".\" path component"),
    BadManifest("absolute path", "\n/etc/shadow,\(sumA),1\n", line: 2, "absolute path"),
    BadManifest("empty component", "a//b,\(sumA),1\n", line: 1, "empty path component"),
    // Caught by the manifest fuzz target's round trip: written first, the name lost its U+FEFF to the BOM rule.
    BadManifest("name starting with U+FEFF", "\n\u{FEFF}b,\(sumA),1\n", line: 2, "reads as a byte order mark"),
    BadManifest("trailing slash", "a/,\(sumA),1\n", line: 1, "empty path component"),
    BadManifest("backslash", "a\\..\\b,\(sumA),1\n", line: 1, "backslash"),
    BadManifest("NUL", "a\u{0}b,\(sumA),1\n", line: 1, "U+0000"),
    BadManifest("NUL shown escaped", "a\u{0}b,\(sumA),1\n", line: 1, "\"a\\u{0}b\""),
    BadManifest("tab", "a\tb,\(sumA),1\n", line: 1, "U+0009"),
    BadManifest("DEL", "a\u{7F}b,\(sumA),1\n", line: 1, "U+007F"),
    BadManifest("escape sequence", "a\u{1B}[31m,\(sumA),1\n", line: 1, "U+001B"),
    BadManifest("C1 control", "a\u{85}b,\(sumA),1\n", line: 1, "U+0085"),
    BadManifest("bare CR inside a name", "a\rb,\(sumA),1\r\n", line: 1, "U+000D"),
    BadManifest("4097-byte name", "\(String(repeating: "x", count: 4097)),\(sumA),1\n", line: 1, "4097 bytes"),
    BadManifest("empty name", ",\(sumA),1\n", line: 1, "the name is empty"),
    BadManifest("63-digit checksum", "a,\(sumA.dropLast()),1\n", line: 1, "has 63 characters"),
    BadManifest("65-digit checksum", "a,\(sumA)0,1\n", line: 1, "has 65 characters"),
    BadManifest("empty checksum", "a,,1\n", line: 1, "has 0 characters"),
    BadManifest("non-hex checksum", "a,\(sumA.dropLast())g,1\n", line: 1, "is not hexadecimal"),
    BadManifest("checksum with spaces", "a, \(sumA.dropLast()),1\n", line: 1, "is not hexadecimal"),
    BadManifest("md5 instead of sha256", "a,\(String(repeating: "c", count: 32)),1\n", line: 1, "has 32 characters"),
    BadManifest("negative size", "a,\(sumA),-1\n", line: 1, "must not be negative"),
    BadManifest("size past Int64", "a,\(sumA),9223372036854775808\n", line: 1, "larger than the largest"),
    BadManifest("huge size", "a,\(sumA),\(String(repeating: "9", count: 40))\n", line: 1, "larger than the largest"),
    BadManifest("non-numeric size", "a,\(sumA),12abc\n", line: 1, "not a whole number"),
    BadManifest("fractional size", "a,\(sumA),1.5\n", line: 1, "not a whole number"),
    BadManifest("size with a space", "a,\(sumA), 12\n", line: 1, "not a whole number"),
    BadManifest("plus-signed size", "a,\(sumA),+12\n", line: 1, "not a whole number"),
    BadManifest("empty size", "a,\(sumA),\n", line: 1, "the size is empty"),
    BadManifest("one field", "ok,\(sumA),1\njust-a-name\n", line: 2, "found 1"),
    BadManifest("two fields", "a,\(sumA)\n", line: 1, "found 2"),
    BadManifest("four fields", "a,\(sumA),1,extra\n", line: 1, "has 4 comma-separated fields"),
    BadManifest(
        "duplicate name",
        "a,\(sumA),1\nb,\(sumB),2\n\na,\(sumC),3\n",
        line: 4,
        "\"a\" is already listed on line 1"
    ),
    BadManifest(
        "canonically equivalent duplicate",
        "caf\u{E9},\(sumA),1\ncafe\u{301},\(sumB),2\n",
        line: 2,
        "already listed on line 1"
    ),
    BadManifest("invalid UTF-8 in a name", [0x61, 0xFF] + bytes(",\(sumA),1\n"), line: 1, "not valid UTF-8"),
    BadManifest(
        "invalid UTF-8 in a comment",
        bytes("a,\(sumA),1\n") + [0x23, 0xC3, 0x28, 0x0A],
        line: 2,
        "not valid UTF-8"
    ),
    BadManifest("overlong encoding of /", [0x61, 0xC0, 0xAF] + bytes("b,\(sumA),1\n"), line: 1, "not valid UTF-8"),
    BadManifest("truncated UTF-8 at the end", bytes("a,\(sumA),1\nb,\(sumB),2") + [0xE6, 0x97], line: 2, "UTF-8"),
    BadManifest(
        "line numbers count comments, blanks and CRLF",
        "# c\r\n\r\na,\(sumA),1\r\n\r\n# d\r\nb,\(sumB),x\r\n",
        line: 6,
        "not a whole number"
    ),
]

struct FileManifestParsingTests {
    @Test(arguments: goodManifests)
    func parsesWellFormedManifests(_ manifest: GoodManifest) throws {
        let parsed = try FileManifest(parsing: manifest.bytes)
        let entries = parsed.entries.map { GoodManifest.Expected(name: $0.name, sha256: $0.sha256, size: $0.size) }
        #expect(entries == manifest.expected)
    }

    @Test(arguments: goodManifests)
    func parsesCollectionsWithoutContiguousStorage(_ manifest: GoodManifest) throws {
        let lazyBytes = manifest.bytes.lazy.map { $0 }
        #expect(try FileManifest(parsing: lazyBytes) == FileManifest(parsing: manifest.bytes))
    }

    @Test(arguments: badManifests)
    func refusesMalformedManifestsNamingTheLine(_ manifest: BadManifest) {
        let error = #expect(throws: PulpError.self) { try FileManifest(parsing: manifest.bytes) }
        #expect(error?.code == .invalidProperties)
        #expect(error?.propertyNames == ["manifest"])
        #expect(
            error?.message.contains("PULP_MANIFEST line \(manifest.line): ") == true,
            "\(String(describing: error))"
        )
        #expect(error?.message.contains(manifest.fragment) == true, "\(String(describing: error))")
    }

    @Test func elidesLongNamesInMessages() {
        let name = String(repeating: "x", count: 5000)
        let error = #expect(throws: PulpError.self) { try FileManifest(parsing: bytes("\(name),\(sumA),1\n")) }
        #expect(error?.message.contains("5000 bytes") == true)
        #expect((error?.message.utf8.count ?? .max) < 400)
    }
}

/// `count` distinct, valid manifest lines `file-1` … `file-<count>`.
private func manyLines(_ count: Int) -> [String] {
    (1...count).map { "dir\($0 % 7)/file-\($0).iso,\(sumA),\($0)" }
}

struct FileManifestDuplicateTests {
    @Test(arguments: [1, 63, 64, 65, 130])
    func refusesARepeatOfAnEarlierNameOnAnyLaterLine(repeatedLine: Int) {
        var lines = manyLines(300)
        lines.insert("dir\(repeatedLine % 7)/file-\(repeatedLine).iso,\(sumB),9", at: 200)
        let error = #expect(throws: PulpError.self) { try FileManifest(parsing: bytes(lines.joined(separator: "\n"))) }
        #expect(error?.propertyNames == ["manifest"])
        #expect(error?.message.contains("PULP_MANIFEST line 201: ") == true, "\(String(describing: error))")
        #expect(error?.message.contains("already listed on line \(repeatedLine)") == true)
    }

    @Test func reportsTheEarliestRepeatFirst() {
        let text = "a,\(sumA),1\nb,\(sumA),2\nb,\(sumA),3\na,\(sumA),4\n"
        let error = #expect(throws: PulpError.self) { try FileManifest(parsing: bytes(text)) }
        #expect(error?.message.contains("PULP_MANIFEST line 3: the name \"b\" is already listed on line 2") == true)
    }

    @Test func reportsARepeatBeforeALaterMalformedLine() {
        let text = "a,\(sumA),1\nb,\(sumA),2\na,\(sumA),3\nnot a line\n"
        let error = #expect(throws: PulpError.self) { try FileManifest(parsing: bytes(text)) }
        #expect(error?.message.contains("PULP_MANIFEST line 3: ") == true, "\(String(describing: error))")
    }

    @Test func treatsCanonicallyEquivalentNamesAsTheSame() {
        let text = "K.iso,\(sumA),1\n\u{212A}.iso,\(sumA),2\n"
        let error = #expect(throws: PulpError.self) { try FileManifest(parsing: bytes(text)) }
        #expect(error?.message.contains("PULP_MANIFEST line 2: ") == true)
    }

    @Test func acceptsManyDistinctNames() throws {
        let lines = manyLines(5000)
        let manifest = try FileManifest(parsing: bytes(lines.joined(separator: "\r\n")))
        #expect(manifest.entries.count == 5000)
        #expect(manifest.entries.map(\.description) == lines)
        #expect(try FileManifest(entries: manifest.entries) == manifest)
    }
}

struct FileManifestEncodingTests {
    @Test(arguments: goodManifests)
    func roundTripsThroughEncoded(_ manifest: GoodManifest) throws {
        let parsed = try FileManifest(parsing: manifest.bytes)
        let encoded = parsed.encoded
        #expect(try FileManifest(parsing: encoded) == parsed)
        #expect(try FileManifest(parsing: encoded).encoded == encoded)
    }

    @Test func writesOneCanonicalLinePerEntry() throws {
        let messy = "# header\r\n\r\nsub/a,b.iso,\(sumB.uppercased()),007\r\nz,\(sumA),0"
        let manifest = try FileManifest(parsing: bytes(messy))
        #expect(manifest.encoded == bytes("sub/a,b.iso,\(sumB),7\nz,\(sumA),0\n"))
    }

    @Test func encodesAnEmptyManifestAsNoBytes() throws {
        #expect(try FileManifest(entries: []).encoded.isEmpty)
    }

    @Test func buildsManifestsFromEntries() throws {
        let entries = [
            try FileManifest.Entry(name: "x/y.iso", sha256: sumC.uppercased(), size: 3),
            try FileManifest.Entry(name: "a,b", sha256: sumA, size: 0),
        ]
        let manifest = try FileManifest(entries: entries)
        #expect(manifest.entries.map(\.sha256) == [sumC, sumA])
        #expect(manifest.encoded == bytes("x/y.iso,\(sumC),3\na,b,\(sumA),0\n"))
        #expect(try FileManifest(parsing: manifest.encoded) == manifest)
    }

    @Test func describesAnEntryAsItsManifestLine() throws {
        let entry = try FileManifest.Entry(name: "a,b/c.iso", sha256: sumB.uppercased(), size: Int64.max)
        #expect(entry.sha256 == sumB)
        #expect(entry.description == "a,b/c.iso,\(sumB),9223372036854775807")
        #expect(entry == (try FileManifest.Entry(name: "a,b/c.iso", sha256: sumB, size: Int64.max)))
    }

    @Test func refusesDuplicateEntries() throws {
        let entry = try FileManifest.Entry(name: "a", sha256: sumA, size: 1)
        let other = try FileManifest.Entry(name: "b", sha256: sumA, size: 1)
        let error = #expect(throws: PulpError.self) { try FileManifest(entries: [entry, other, entry]) }
        #expect(error?.propertyNames == ["manifest"])
        #expect(error?.message.contains("entries 1 and 3") == true)
    }
}

struct FileManifestEntryTests {
    @Test(arguments: [
        ("#comment-like", sumA, Int64(1), "name", "reads as a comment"),
        ("../x", sumA, 1, "name", "\"..\" path component"),
        ("a", String(sumA.dropLast()), 1, "sha256", "has 63 characters"),
        ("a", String(sumA.dropLast()) + "z", 1, "sha256", "is not hexadecimal"),
        ("a", sumA, -5, "size", "must not be negative"),
    ])
    func refusesEntriesThatCannotBeWritten(
        name: String,
        sha256: String,
        size: Int64,
        property: String,
        fragment: String
    ) {
        let error = #expect(throws: PulpError.self) { try FileManifest.Entry(name: name, sha256: sha256, size: size) }
        #expect(error?.propertyNames == [property])
        #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
    }
}

/// A name for ``FileManifest/validateName(_:)``, labelled so that test output stays readable.
struct NameCase: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var name: String
    var fragment: String

    init(_ label: String, _ name: String, _ fragment: String = "") {
        self.testDescription = label
        self.name = name
        self.fragment = fragment
    }
}

struct FileNameValidationTests {
    @Test(arguments: [
        NameCase("plain", "a.iso"), NameCase("one letter", "a"), NameCase("subfolders", "dir/sub/file.iso"),
        NameCase("dot file", ".hidden"), NameCase("three dots", "..."), NameCase("dots inside", "a..b"),
        NameCase("dots before a name", "..a"), NameCase("trailing dot", "a."), NameCase("space", "with space"),
        NameCase("comma", "a,b"), NameCase("leading hash", "#hash-is-a-fine-name"),
        NameCase("CJK", "日本語/ファイル"), NameCase("U+FEFF inside", "a/\u{FEFF}b"), NameCase("emoji", "📦"),
        NameCase("4096 bytes", longestName),
    ])
    func acceptsSafeRelativePaths(_ testCase: NameCase) throws {
        try FileManifest.validateName(testCase.name)
    }

    @Test(arguments: [
        NameCase("empty", "", "the name is empty"),
        NameCase("absolute", "/abs", "absolute path"),
        NameCase("leading U+FEFF", "\u{FEFF}a", "starts with U+FEFF"),
        NameCase("root", "/", "absolute path"),
        NameCase("..", "..", "\"..\" path component"),
        NameCase("trailing ..", "a/..", "\"..\" path component"),
        NameCase(".. in the middle", "a/../b", "\"..\" path component"),
        NameCase(".", ".", "\".\" path component"),
        NameCase(". in the middle", "a/./b", "\".\" path component"),
        NameCase("double slash", "a//b", "empty path component"),
        NameCase("trailing slash", "a/", "empty path component"),
        NameCase("backslash", "a\\b", "backslash"),
        NameCase("NUL", "nul\u{0}", "\"nul\\u{0}\" contains the control character U+0000"),
        NameCase("newline", "new\nline", "\"new\\u{a}line\" contains the control character U+000A"),
        NameCase("tab", "tab\t", "U+0009"),
        NameCase("bell", "bell\u{7}", "U+0007"),
        NameCase("DEL", "del\u{7F}", "U+007F"),
        NameCase("C1 control", "c1\u{9F}", "U+009F"),
        NameCase("unit separator", "unit\u{1F}sep", "U+001F"),
        NameCase("4098 bytes of two-byte characters", String(repeating: "é", count: 2049), "4098 bytes"),
        NameCase("4097 bytes", String(repeating: "y", count: 4097), "4097 bytes"),
        NameCase("quote and backslash escaped", "quote\"and\\", "\"quote\\\"and\\\\\" contains a backslash"),
    ])
    func refusesHostileNamesNamingThem(_ testCase: NameCase) {
        let error = #expect(throws: PulpError.self) { try FileManifest.validateName(testCase.name) }
        #expect(error?.code == .invalidProperties)
        #expect(error?.propertyNames == ["name"])
        #expect(error?.message.contains(testCase.fragment) == true, "\(String(describing: error))")
    }
}

@Suite("File unit keys")
struct FileUnitKeyTests {
    /// The importer matches stored units by key text it builds itself: it must be exactly what PulpKit stores.
    @Test(arguments: [
        "a.iso", "dir/sub/file-1.bin", "with space.iso", "quote\"in.iso", "ünïcode.iso",
        "emoji-😀.iso", "a,b.iso", "{braces}.iso",
    ])
    func canonicalKeyTextIsWhatTheStoreEncodes(name: String) throws {
        let named = try FileManifest.Entry(name: name, sha256: String(repeating: "ab", count: 32), size: 42)
        let stored = FileImporter.unit(for: named, in: URL(fileURLWithPath: "/feed/", isDirectory: true))
        #expect(FileImporter.canonicalKey(for: named) == stored.naturalKey.canonicalKey)
    }
}
