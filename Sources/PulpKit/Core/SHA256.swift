#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming SHA-256 hasher (FIPS 180-4): feed bytes with `update`, read the digest with ``finalize()``.
///
/// A value type without heap storage. ``finalize()`` does not consume the hasher, so a digest of a prefix
/// can be taken and hashing continued: `var h = SHA256(); h.update(a); let ofA = h.finalize(); h.update(b)`.
public struct SHA256: Sendable {
    /// The number of bytes ``hash(fileAt:)`` reads per `read(2)` call: 1 MiB.
    static let fileBufferSize = 1 << 20

    private var state = State()
    /// Bytes of a partial block waiting for more input; only the first `pendingCount` are meaningful.
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    /// Bytes hashed so far, modulo 2^64 (FIPS 180-4 encodes the length in bits modulo 2^64).
    private var byteCount: UInt64 = 0

    /// Creates a hasher for the empty message.
    public init() {}

    /// Adds the bytes in memory at `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var input = base
        var remaining = bytes.count
        byteCount &+= UInt64(truncatingIfNeeded: remaining)
        if pendingCount > 0 {
            let taken = min(64 - pendingCount, remaining)
            withUnsafeMutableBytes(of: &pending) { block in
                (block.baseAddress! + pendingCount).copyMemory(from: input, byteCount: taken)
            }
            pendingCount += taken
            input += taken
            remaining -= taken
            guard pendingCount == 64 else { return }
            let block = pending
            withUnsafeBytes(of: block) { state.compress($0.baseAddress!, count: 1) }
            pendingCount = 0
        }
        let blockCount = remaining / 64
        if blockCount > 0 {
            state.compress(input, count: blockCount)
            input += blockCount * 64
            remaining -= blockCount * 64
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: input, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    /// Adds `bytes` to the message; contiguous collections such as `[UInt8]` and `Data` are hashed in place.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        guard done == nil else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { chunk in
            var count = 0
            for byte in bytes {
                chunk[count] = byte
                count += 1
                if count == chunk.count {
                    update(UnsafeRawBufferPointer(chunk))
                    count = 0
                }
            }
            update(UnsafeRawBufferPointer(start: chunk.baseAddress, count: count))
        }
    }

    /// The digest of the bytes added so far; the hasher is unchanged and can take more input.
    public func finalize() -> SHA256Digest {
        var final = state
        var block = pending
        let count = pendingCount
        let bitCount = byteCount &* 8
        withUnsafeMutableBytes(of: &block) { bytes in
            bytes[count] = 0x80
            for index in (count + 1)..<64 { bytes[index] = 0 }
            if count >= 56 {
                final.compress(bytes.baseAddress!, count: 1)
                for index in 0..<56 { bytes[index] = 0 }
            }
            bytes.storeBytes(of: bitCount.bigEndian, toByteOffset: 56, as: UInt64.self)
            final.compress(bytes.baseAddress!, count: 1)
        }
        return SHA256Digest(
            UInt64(final.h0) << 32 | UInt64(final.h1),
            UInt64(final.h2) << 32 | UInt64(final.h3),
            UInt64(final.h4) << 32 | UInt64(final.h5),
            UInt64(final.h6) << 32 | UInt64(final.h7)
        )
    }

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The digest of the file at `path`, read in 1 MiB chunks: memory use does not grow with the file.
    ///
    /// - Throws: ``PulpError/storage(_:path:isBusy:fileID:line:)`` naming `path` if it cannot be opened or read.
    public static func hash(fileAt path: String) throws(PulpError) -> SHA256Digest {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw PulpError.storage("cannot open file to hash: \(errorText(errno))", path: path)
        }
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: fileBufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 {
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            } else if count == 0 {
                return hasher.finalize()
            } else if errno != EINTR {
                throw PulpError.storage("cannot read file to hash: \(errorText(errno))", path: path)
            }
        }
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// A SHA-256 digest: 32 bytes held inline, shown as 64 lowercase hex digits.
public struct SHA256Digest: Sendable, Hashable, CustomStringConvertible {
    // Bytes 0-7, 8-15, 16-23 and 24-31 of the digest, each read as a big-endian number.
    private var word0: UInt64
    private var word1: UInt64
    private var word2: UInt64
    private var word3: UInt64

    package init(_ word0: UInt64, _ word1: UInt64, _ word2: UInt64, _ word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// Parses 64 hex digits in either case, as `sha256sum` prints them; `nil` for any other text.
    public init?(hex: some StringProtocol) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count = 0
        for character in hex.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            guard count < 64 else { return nil }
            let value = UInt64(nibble)
            switch count / 16 {
            case 0: words.0 = words.0 << 4 | value
            case 1: words.1 = words.1 << 4 | value
            case 2: words.2 = words.2 << 4 | value
            default: words.3 = words.3 << 4 | value
            }
            count += 1
        }
        guard count == 64 else { return nil }
        self.init(words.0, words.1, words.2, words.3)
    }

    /// The 32 digest bytes in order.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for index in 0..<4 {
                raw.storeBytes(of: word(index).bigEndian, toByteOffset: index * 8, as: UInt64.self)
            }
            initialized = 32
        }
    }

    /// The digest as 64 lowercase hex digits, e.g. `e3b0c442…b855` for the empty message.
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { buffer in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { digits in
                for index in 0..<4 {
                    let value = word(index)
                    for nibble in 0..<16 {
                        buffer[index * 16 + nibble] = digits[Int(truncatingIfNeeded: value >> (60 - 4 * nibble)) & 0xf]
                    }
                }
            }
            return 64
        }
    }

    @inline(__always)
    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: word0
        case 1: word1
        case 2: word2
        default: word3
        }
    }

    /// The hex form, as ``hex``.
    public var description: String { hex }
}
