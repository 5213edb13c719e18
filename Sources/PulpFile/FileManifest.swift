public import PulpKit

/// The `PULP_MANIFEST` of a file repository: one ``Entry`` per file, in the order the manifest lists them.
///
/// The text form is UTF-8 with one `name,sha256,size` line per file; see ``init(parsing:)`` and ``encoded``.
public struct FileManifest: Sendable, Hashable {
    /// One file of a manifest: its relative path, SHA-256 digest and size in bytes.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// The file's path relative to the feed folder, with `/` between subfolders (see ``FileManifest/validateName(_:)``).
        public let name: String
        /// The file's size in bytes, never negative.
        public let size: Int64
        /// The 32 digest bytes as four big-endian words: 32 bytes inline instead of a 64-character string apiece.
        let digest: SIMD4<UInt64>

        /// The SHA-256 digest of the file's content, as 64 lowercase hexadecimal digits.
        public var sha256: String {
            String(unsafeUninitializedCapacity: 64) { buffer in
                FileManifest.writeHex(digest, into: UnsafeMutableRawBufferPointer(buffer))
                return 64
            }
        }

        /// The entry as its manifest line without the line break: `name,sha256,size`.
        public var description: String { "\(name),\(sha256),\(size)" }

        /// Creates an entry, refusing a bad name or checksum or a negative size; the checksum is lowercased.
        ///
        /// A name starting with `#` is refused too, because a manifest line starting with `#` is a comment.
        public init(name: String, sha256: String, size: Int64) throws(PulpError) {
            try FileManifest.validateName(name)
            if name.utf8.first == ASCII.hash {
                throw .invalid(
                    "name",
                    "name \(FileManifest.quoted(name)) starts with \"#\", which a PULP_MANIFEST reads as a comment"
                )
            }
            var checksum = sha256
            guard let digest = checksum.withUTF8({ FileManifest.parseDigest($0) }) else {
                throw .invalid("sha256", FileManifest.checksumReason(sha256))
            }
            guard size >= 0 else { throw .invalid("size", "size \(size) must not be negative") }
            self.init(validatedName: name, digest: digest, size: size)
        }

        init(validatedName name: String, digest: SIMD4<UInt64>, size: Int64) {
            self.name = name
            self.digest = digest
            self.size = size
        }
    }

    /// The files of the manifest, in order; no two share a name.
    public let entries: [Entry]

    /// Creates a manifest from entries, refusing two entries with the same name.
    ///
    /// Names are compared as Swift strings, so canonically equivalent Unicode spellings count as the same name.
    public init(entries: [Entry]) throws(PulpError) {
        var index = NameIndex(expectedCount: entries.count)
        if let repeated = index.insert(entries.indices, names: { entries[$0].name }) {
            let name = Self.quoted(entries[repeated.later].name)
            throw .invalid(
                "manifest",
                "entries \(repeated.earlier + 1) and \(repeated.later + 1) have the same name \(name)"
            )
        }
        self.entries = entries
    }

    /// Parses `PULP_MANIFEST` text: UTF-8 `name,sha256,size` lines ending in `\n` or `\r\n`.
    ///
    /// Blank lines and lines starting with `#` are skipped, and a leading byte order mark is ignored. The last two
    /// commas split a line, so names may contain commas. Checksums may be uppercase and are stored lowercase.
    /// Every refusal is a ``PulpKit/PulpError`` for the invalid property `manifest`, whose message starts
    /// `PULP_MANIFEST line N:`: invalid UTF-8, a wrong field count, a bad name (see ``validateName(_:)``), a
    /// checksum that is not 64 hexadecimal digits, a size that is not a whole number from 0 to `Int64.max`, or a
    /// name already listed on an earlier line (compared as Swift strings, so canonically equivalent spellings clash).
    public init(parsing data: some Collection<UInt8>) throws(PulpError) {
        let result =
            data.withContiguousStorageIfAvailable { Self.parse($0) }
            ?? Array(data).withUnsafeBufferPointer { Self.parse($0) }
        self.entries = try result.get()
    }

    /// The canonical manifest text: one `name,sha256,size\n` line per entry, in order, which parses back equal.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 96)
        for entry in entries {
            bytes.append(contentsOf: entry.name.utf8)
            bytes.append(ASCII.comma)
            withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { hex in
                Self.writeHex(entry.digest, into: hex)
                bytes.append(contentsOf: hex)
            }
            bytes.append(ASCII.comma)
            Self.appendDecimal(entry.size, to: &bytes)
            bytes.append(ASCII.newline)
        }
        return bytes
    }
}

// MARK: - Parsing

extension FileManifest {
    /// Why one manifest line was refused; turned into text only when the line fails.
    private enum LineProblem: Error {
        case notUTF8
        case fieldCount(Int)
        case name(NameProblem, String)
        case checksum(String, fields: Int)
        case size(SizeProblem, String, fields: Int)

        var reason: String {
            switch self {
            case .notUTF8:
                return "the line is not valid UTF-8"
            case .fieldCount(let fields):
                return "expected 3 comma-separated fields (name,sha256,size) but found \(fields)"
            case .name(let problem, let name):
                return problem.reason(for: name)
            case .checksum(let checksum, let fields):
                return checksumReason(checksum) + Self.hint(fields: fields)
            case .size(let problem, let size, let fields):
                return problem.reason(for: size) + Self.hint(fields: fields)
            }
        }

        private static func hint(fields: Int) -> String {
            guard fields > 3 else { return "" }
            return " (the line has \(fields) comma-separated fields; a name may contain commas, but the last two"
                + " fields must be the sha256 and the size)"
        }
    }

    /// The shortest line that holds an entry: a one-byte name, two commas, 64 hex digits and a one-digit size.
    private static let shortestEntryLine = 68

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<[Entry], PulpError> {
        do throws(PulpError) {
            return .success(try parseEntries(bytes))
        } catch {
            return .failure(error)
        }
    }

    private static func failure(line: Int, _ reason: String) -> PulpError {
        .invalid("manifest", "PULP_MANIFEST line \(line): \(reason)")
    }

    private static func parseEntries(_ bytes: UnsafeBufferPointer<UInt8>) throws(PulpError) -> [Entry] {
        let count = bytes.count
        let capacity = count / (shortestEntryLine + 1) + 1
        var entries: [Entry] = []
        entries.reserveCapacity(capacity)
        var lineOfEntry: [Int] = []
        lineOfEntry.reserveCapacity(capacity)
        // The table is filled with zeros up front, so a bound that long names or comments inflate is capped.
        var nameIndex = NameIndex(expectedCount: min(capacity, 1 << 16))
        var indexed = 0
        var index = count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        var lineNumber = 0
        while index < count {
            lineNumber += 1
            let start = index
            var end = firstNewline(in: bytes, from: start)
            index = end + 1
            if end > start, bytes[end - 1] == ASCII.carriageReturn { end -= 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if line.isEmpty { continue }
            if line[0] == ASCII.hash {
                guard isValidUTF8(line) else { throw failure(line: lineNumber, LineProblem.notUTF8.reason) }
                continue
            }
            let parsed: Entry?
            do throws(LineProblem) {
                parsed = try parseEntry(line)
            } catch {
                // A repeated name on an earlier line is the first error.
                try indexNames(of: entries, from: &indexed, in: &nameIndex, lines: lineOfEntry)
                throw failure(line: lineNumber, error.reason)
            }
            guard let entry = parsed else { continue }
            entries.append(entry)
            lineOfEntry.append(lineNumber)
            if entries.count - indexed == NameIndex.batchSize {
                try indexNames(of: entries, from: &indexed, in: &nameIndex, lines: lineOfEntry)
            }
        }
        try indexNames(of: entries, from: &indexed, in: &nameIndex, lines: lineOfEntry)
        return entries
    }

    /// Adds the names of `entries[indexed...]` to `index`, refusing the first that repeats an earlier name.
    private static func indexNames(
        of entries: [Entry],
        from indexed: inout Int,
        in index: inout NameIndex,
        lines: [Int]
    ) throws(PulpError) {
        let repeated = index.insert(indexed..<entries.count, names: { entries[$0].name })
        indexed = entries.count
        if let repeated {
            let name = quoted(entries[repeated.later].name)
            throw failure(
                line: lines[repeated.later],
                "the name \(name) is already listed on line \(lines[repeated.earlier])"
            )
        }
    }

    /// The entry on one line without its line break, or nil for a blank line.
    ///
    /// Only the last two commas split the line. The fast path assumes a 64-digit checksum right before the last
    /// comma; anything else falls back to searching for the second-to-last comma.
    private static func parseEntry(_ line: UnsafeBufferPointer<UInt8>) throws(LineProblem) -> Entry? {
        var lastComma = line.count - 1
        while lastComma >= 0, line[lastComma] != ASCII.comma { lastComma -= 1 }
        var previousComma = lastComma - 65
        var digest: SIMD4<UInt64>?
        if previousComma >= 0, line[previousComma] == ASCII.comma {
            digest = parseDigest(UnsafeBufferPointer(rebasing: line[(previousComma + 1)..<lastComma]))
        }
        if digest == nil {
            previousComma = lastComma - 1
            while previousComma >= 0, line[previousComma] != ASCII.comma { previousComma -= 1 }
            if previousComma < 0 {
                if isBlank(line) { return nil }
                throw checked(line, .fieldCount(lastComma < 0 ? 1 : 2))
            }
        }
        let nameBytes = UnsafeBufferPointer(rebasing: line[..<previousComma])
        var highBits: UInt8 = 0
        if let problem = nameProblem(in: nameBytes, highBits: &highBits) {
            throw checked(line, .name(problem, String(decoding: nameBytes, as: UTF8.self)))
        }
        if highBits & 0x80 != 0, !isValidUTF8(nameBytes) { throw .notUTF8 }
        guard let digest else {
            let text = String(decoding: line[(previousComma + 1)..<lastComma], as: UTF8.self)
            throw checked(line, .checksum(text, fields: fieldCount(line)))
        }
        let sizeBytes = UnsafeBufferPointer(rebasing: line[(lastComma + 1)...])
        switch parseSize(sizeBytes) {
        case .success(let size):
            return Entry(validatedName: String(decoding: nameBytes, as: UTF8.self), digest: digest, size: size)
        case .failure(let problem):
            let text = String(decoding: sizeBytes, as: UTF8.self)
            throw checked(line, .size(problem, text, fields: fieldCount(line)))
        }
    }

    /// `problem`, unless the line is not valid UTF-8, which is reported first.
    private static func checked(_ line: UnsafeBufferPointer<UInt8>, _ problem: LineProblem) -> LineProblem {
        isValidUTF8(line) ? problem : .notUTF8
    }

    private static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 < 0x80 } || String(validating: bytes, as: UTF8.self) != nil
    }

    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == ASCII.space || $0 == ASCII.tab }
    }

    private static func fieldCount(_ line: UnsafeBufferPointer<UInt8>) -> Int {
        line.reduce(1) { $1 == ASCII.comma ? $0 + 1 : $0 }
    }

    /// The index of the first `\n` at or after `start`, or `bytes.count`; reads eight bytes at a time.
    private static func firstNewline(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = bytes.count
        var index = start
        if let base = UnsafeRawPointer(bytes.baseAddress) {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
            let highs: UInt64 = 0x8080_8080_8080_8080
            while index + 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ newlines
                let zeroBytes = (word &- ones) & ~word & highs
                if zeroBytes != 0 { return index + zeroBytes.trailingZeroBitCount / 8 }
                index += 8
            }
        }
        while index < count, bytes[index] != ASCII.newline { index += 1 }
        return index
    }
}

// MARK: - Checksums and sizes

extension FileManifest {
    /// The 32 bytes that 64 hexadecimal digits in either case spell, as four big-endian words, or nil.
    static func parseDigest(_ bytes: UnsafeBufferPointer<UInt8>) -> SIMD4<UInt64>? {
        guard bytes.count == 64 else { return nil }
        // Branch-free: random hex digits make a per-byte branch mispredict half the time.
        return nibbleValues.withUnsafeBufferPointer { nibbles in
            var words = SIMD4<UInt64>()
            var flags: UInt8 = 0
            for word in 0..<4 {
                var value: UInt64 = 0
                for index in (word * 16)..<(word * 16 + 16) {
                    let nibble = nibbles[Int(bytes[index])]
                    flags |= nibble
                    value = value << 4 | UInt64(nibble & 0x0F)
                }
                words[word] = value
            }
            return flags & 0x10 == 0 ? words : nil
        }
    }

    /// Each byte's value as a hexadecimal digit in either case, or 0x10 for a byte that is not one.
    private static let nibbleValues: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt8(byte) - UInt8(ascii: "A") + 10
        default: 0x10
        }
    }

    /// Writes `digest` as 64 lowercase hexadecimal digits into the first 64 bytes of `buffer`.
    static func writeHex(_ digest: SIMD4<UInt64>, into buffer: UnsafeMutableRawBufferPointer) {
        for word in 0..<4 {
            let value = digest[word]
            for digit in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * UInt64(digit))) & 0x0F
                buffer[word * 16 + digit] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
            }
        }
    }

    /// Appends the decimal digits of a non-negative `value` without building a string.
    static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var remaining = UInt64(value)
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Why `checksum` is not a SHA-256: its length or its characters.
    static func checksumReason(_ checksum: String) -> String {
        let length = checksum.utf8.count
        if length != 64 {
            return "sha256 \(quoted(checksum)) has \(length) characters; a SHA-256 is 64 hexadecimal digits"
        }
        return "sha256 \(quoted(checksum)) is not hexadecimal; a SHA-256 is 64 hexadecimal digits"
    }

    private enum SizeProblem: Error {
        case empty
        case negative
        case notANumber
        case tooLarge

        func reason(for size: String) -> String {
            switch self {
            case .empty: "the size is empty"
            case .negative: "size \(quoted(size)) must not be negative"
            case .notANumber: "size \(quoted(size)) is not a whole number of bytes"
            case .tooLarge: "size \(quoted(size)) is larger than the largest supported size, \(Int64.max)"
            }
        }
    }

    private static func parseSize(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Int64, SizeProblem> {
        guard let first = bytes.first else { return .failure(.empty) }
        if first == UInt8(ascii: "-"), bytes.count > 1, bytes.dropFirst().allSatisfy(isDigit) {
            return .failure(.negative)
        }
        var value: Int64 = 0
        var tooLarge = false
        for byte in bytes {
            guard isDigit(byte) else { return .failure(.notANumber) }
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times10.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            if overflowed || carried { tooLarge = true }
            value = sum
        }
        return tooLarge ? .failure(.tooLarge) : .success(value)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

/// The ASCII bytes the manifest format and name rules give meaning to.
enum ASCII {
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let hash = UInt8(ascii: "#")
    static let comma = UInt8(ascii: ",")
    static let dot = UInt8(ascii: ".")
    static let slash = UInt8(ascii: "/")
    static let backslash = UInt8(ascii: "\\")
}
