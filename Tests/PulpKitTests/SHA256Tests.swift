import Foundation
import PulpKit
import PulpKitTesting
import Testing

/// `count` bytes of the pattern `(7 * i + 3) mod 256`, the input of the boundary-length vectors.
private func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
}

private func digest(_ hex: String) throws -> SHA256Digest {
    try #require(SHA256Digest(hex: hex))
}

struct SHA256VectorTests {
    /// FIPS 180-4 / NIST CAVP example messages and their digests.
    static let nistVectors: [(message: String, repeats: Int, digest: String)] = [
        ("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
        ("a", 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    /// Digests of ``pattern(_:)`` around the 55/56-byte padding edge and the 64-byte block edge,
    /// computed with Python's `hashlib.sha256`.
    static let boundaryVectors: [(length: Int, digest: String)] = [
        (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
        (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
        (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
        (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
        (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
        (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
        (120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
        (127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"),
        (128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"),
    ]

    @Test(arguments: nistVectors)
    func matchesNISTVector(message: String, repeats: Int, digest expected: String) {
        let bytes = [UInt8]([[UInt8]](repeating: Array(message.utf8), count: repeats).joined())
        #expect(SHA256.hash(bytes).hex == expected)
    }

    @Test(arguments: boundaryVectors)
    func matchesReferenceAtBoundaryLength(length: Int, digest expected: String) {
        #expect(SHA256.hash(pattern(length)).hex == expected)
    }

    @Test(arguments: boundaryVectors)
    func byteAtATimeMatchesReference(length: Int, digest expected: String) {
        var hasher = SHA256()
        for byte in pattern(length) { hasher.update(CollectionOfOne(byte)) }
        #expect(hasher.finalize().hex == expected)
    }

    @Test func stringsDataAndNonContiguousSequencesHashTheirBytes() throws {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        let expected = try digest("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash(message.utf8) == expected)
        #expect(SHA256.hash(Data(message.utf8)) == expected)
        #expect(SHA256.hash(Array(message.utf8).lazy.map { $0 }) == expected)
        var hasher = SHA256()
        Array(message.utf8).withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == expected)
    }

    @Test func nonContiguousSequenceLongerThanTheGatherChunk() {
        let bytes = pattern(10_000)
        #expect(SHA256.hash(bytes.lazy.map { $0 }) == SHA256.hash(bytes))
    }
}

struct SHA256StreamingTests {
    @Test(arguments: [1, 2, 3, 42, 1234, 99_999])
    func randomChunkSizesMatchOneShot(seed: UInt64) {
        let bytes = pattern(20_000)
        var generator = SeededRandomNumberGenerator(seed: seed)
        var hasher = SHA256()
        var offset = 0
        while offset < bytes.count {
            let size = min(Int.random(in: 0...300, using: &generator), bytes.count - offset)
            hasher.update(bytes[offset..<(offset + size)])
            offset += size
        }
        #expect(hasher.finalize() == SHA256.hash(bytes))
    }

    @Test func finalizeLeavesTheHasherUsable() throws {
        var hasher = SHA256()
        hasher.update("abc".utf8)
        let prefix = hasher.finalize()
        #expect(prefix == hasher.finalize())
        hasher.update("dbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(prefix.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hasher.finalize().hex == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func emptyUpdatesChangeNothing() {
        var hasher = SHA256()
        hasher.update([UInt8]())
        hasher.update(UnsafeRawBufferPointer(start: nil, count: 0))
        hasher.update("abc".utf8)
        hasher.update(EmptyCollection<UInt8>())
        #expect(hasher.finalize().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

struct SHA256FileTests {
    /// Sizes around the 1 MiB read buffer, plus an empty file.
    @Test(arguments: [0, 1, 63, 65, 1 << 20, (1 << 20) + 1, (3 << 20) + 17])
    func fileDigestEqualsBytesDigest(size: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("blob")
        let bytes = pattern(size)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try SHA256.hash(fileAt: path) == SHA256.hash(bytes))
    }

    @Test func missingFileErrorNamesThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("no-such-file.rpm")
        let error = try #require(throws: PulpError.self) { try SHA256.hash(fileAt: path) }
        #expect(error.code == .storageFailure)
        #expect(error.message.contains(path))
        #expect(error.data["path"] == .string(path))
    }

    @Test func directoryErrorNamesThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.path
        let error = try #require(throws: PulpError.self) { try SHA256.hash(fileAt: path) }
        #expect(error.message.contains(path))
    }
}

struct SHA256DigestTests {
    @Test(arguments: [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ])
    func hexRoundTrips(hex: String) throws {
        let parsed = try digest(hex)
        #expect(parsed.hex == hex)
        #expect(parsed.description == hex)
        #expect(SHA256Digest(hex: hex.uppercased()) == parsed)
        #expect(parsed.bytes.count == 32)
        let rebuilt = parsed.bytes.map { byte in
            String(byte >> 4, radix: 16) + String(byte & 0xf, radix: 16)
        }
        #expect(rebuilt.joined() == hex)
    }

    @Test func bytesAreInDigestOrder() throws {
        let parsed = try digest("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(parsed.bytes.prefix(4) == [0xba, 0x78, 0x16, 0xbf])
        #expect(parsed.bytes.suffix(4) == [0xf2, 0x00, 0x15, 0xad])
    }

    @Test(arguments: [
        "",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
        "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85 ",
        " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "0xb0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8é",
    ])
    func invalidHexIsRejected(hex: String) {
        #expect(SHA256Digest(hex: hex) == nil)
    }

    @Test func parsesSubstrings() throws {
        let line = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt"
        let parsed = SHA256Digest(hex: line.prefix(64))
        #expect(parsed == SHA256.hash([UInt8]()))
    }

    @Test func equalDigestsHashEqually() {
        let digests: Set = [SHA256.hash("abc".utf8), SHA256.hash(Array("abc".utf8)), SHA256.hash("abd".utf8)]
        #expect(digests.count == 2)
    }
}
