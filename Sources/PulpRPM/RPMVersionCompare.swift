// Today's rpm version comparison (rpm >= 4.15: `~` and `^`), written against the UTF-8 bytes of both strings.
//
// A version is read as a sequence of tokens: separators (every byte that is not an ASCII letter, an ASCII digit,
// `~` or `^`) are skipped; `~` and `^` are one-byte tokens; otherwise a token is a maximal run of ASCII digits or
// of ASCII letters. Two versions compare token by token, in this order of kinds:
//
//     `~`  <  end of string  <  `^`  <  letters  <  digits
//
// Digit runs compare as unbounded numbers (leading zeros dropped, the longer run wins, then byte order); letter
// runs compare by ASCII byte order, case-sensitively, a proper prefix first. Two versions are therefore equal
// exactly when their token sequences are equal, which is what their order keys (below) spell out. The comparison
// works on bytes, so non-ASCII text is a separator and Unicode canonical equivalence plays no part; a NUL byte is
// a separator too (C's rpmvercmp would stop the string there).

/// Compares two RPM versions (or releases) as today's rpm does (`rpmvercmp`, with `~` and `^`): -1, 0 or 1.
/// Equivalent strings give 0 (`1.01`, `1.1`); only ASCII letters, digits, `~` and `^` count, other bytes separate.
public func rpmVersionCompare(_ a: String, _ b: String) -> Int {
    // Borrowing the storage in place avoids the retain and release that `withUTF8` on a copy costs.
    let inPlace = a.utf8.withContiguousStorageIfAvailable { bytesA in
        b.utf8.withContiguousStorageIfAvailable { bytesB in rpmVersionCompare(utf8: bytesA, bytesB) }
    }
    if let inPlace, let result = inPlace { return result }
    // Only strings not stored as contiguous UTF-8 (e.g. lazily bridged ones) get here.
    var a = a
    var b = b
    return a.withUTF8 { bytesA in b.withUTF8 { bytesB in rpmVersionCompare(utf8: bytesA, bytesB) } }
}

private let tilde: UInt8 = 0x7E  // ~
private let caret: UInt8 = 0x5E  // ^
private let zero: UInt8 = 0x30  // 0
/// Stands for "end of string"; never a token byte, because NUL bytes are skipped as separators.
private let end: UInt8 = 0

private func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

private func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

/// Whether `byte` starts a token, i.e. is not a separator.
private func isTokenByte(_ byte: UInt8) -> Bool {
    isDigit(byte) || isLetter(byte) || byte == tilde || byte == caret
}

/// The byte-level comparison behind ``rpmVersionCompare(_:_:)``; allocates nothing.
func rpmVersionCompare(utf8 a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let countA = a.count
    let countB = b.count

    // Skip the common prefix: identical strings are equal, and identical tokens compare equal. A digit or letter
    // run that the first difference may cut is backed up to its start, so that runs are still compared whole.
    let shorter = min(countA, countB)
    var start = 0
    while start < shorter, a[start] == b[start] { start += 1 }
    if start == countA, start == countB { return 0 }
    if start > 0 {
        let previous = a[start - 1]
        if isDigit(previous) {
            while start > 0, isDigit(a[start - 1]) { start -= 1 }
        } else if isLetter(previous) {
            while start > 0, isLetter(a[start - 1]) { start -= 1 }
        }
    }

    var i = start
    var j = start
    while i < countA || j < countB {
        while i < countA, !isTokenByte(a[i]) { i += 1 }
        while j < countB, !isTokenByte(b[j]) { j += 1 }
        let byteA = i < countA ? a[i] : end
        let byteB = j < countB ? b[j] : end

        // `~` sorts before everything, the end of the string included.
        if byteA == tilde || byteB == tilde {
            if byteA != tilde { return 1 }
            if byteB != tilde { return -1 }
            i += 1
            j += 1
            continue
        }
        // `^` sorts after the end of the string but before everything else.
        if byteA == caret || byteB == caret {
            if byteA == end { return -1 }
            if byteB == end { return 1 }
            if byteA != caret { return 1 }
            if byteB != caret { return -1 }
            i += 1
            j += 1
            continue
        }
        if byteA == end || byteB == end { break }

        // `a` decides the kind of run; the same kind is taken from `b`.
        let startA = i
        let startB = j
        let numeric = isDigit(byteA)
        if numeric {
            while i < countA, isDigit(a[i]) { i += 1 }
            while j < countB, isDigit(b[j]) { j += 1 }
        } else {
            while i < countA, isLetter(a[i]) { i += 1 }
            while j < countB, isLetter(b[j]) { j += 1 }
        }
        // An empty run in `b` means the kinds differ: digits beat letters.
        if j == startB { return numeric ? 1 : -1 }

        var fromA = startA
        var fromB = startB
        if numeric {
            while fromA < i, a[fromA] == zero { fromA += 1 }
            while fromB < j, b[fromB] == zero { fromB += 1 }
            let lengthA = i - fromA
            let lengthB = j - fromB
            if lengthA != lengthB { return lengthA > lengthB ? 1 : -1 }
        }
        while fromA < i, fromB < j {
            let x = a[fromA]
            let y = b[fromB]
            if x != y { return x < y ? -1 : 1 }
            fromA += 1
            fromB += 1
        }
        if fromA < i { return 1 }
        if fromB < j { return -1 }
    }
    // Every token matched; whichever side still has one is newer.
    let exhaustedA = i >= countA
    let exhaustedB = j >= countB
    if exhaustedA, exhaustedB { return 0 }
    return exhaustedA ? -1 : 1
}

// MARK: - Order keys

/// Byte values of an order key (see ``appendVersionOrderKey(utf8:to:)``), chosen so that byte order is token order.
private enum OrderKeyByte {
    static let tilde: UInt8 = 0x01
    static let end: UInt8 = 0x02
    static let caret: UInt8 = 0x03
    static let letters: UInt8 = 0x04
    /// Ends a letter run: below every letter, so a run sorts before the longer runs it is a prefix of.
    static let lettersEnd: UInt8 = 0x00
    /// A digit run of `n` significant digits starts with `digits + n` (n < 239), so longer numbers sort later.
    static let digits: UInt8 = 0x10
    /// A digit run of 239 significant digits or more: this byte, the count as 8 big-endian bytes, the digits.
    static let longDigits: UInt8 = 0xFF
}

/// Appends the order key of a version (or release): a byte string whose plain byte order (`memcmp`, then length)
/// is exactly ``rpmVersionCompare(_:_:)``'s order, and which is equal for exactly the versions that compare equal.
///
/// The key is the token sequence, one kind byte per token (`~` 0x01, `^` 0x03, letter runs 0x04 then the letters
/// and a 0x00, digit runs 0x10 + their significant digit count then the digits) ended by 0x02, which stands for
/// the end of the string: `~` < end < `^` < letters < digits, as in rpm. The end byte makes keys prefix-free, so a
/// version's key followed by a release's key orders by version, then release. Built once per EVR, a key turns each
/// later comparison into one comparison of short byte strings.
func appendVersionOrderKey(utf8 bytes: UnsafeBufferPointer<UInt8>, to key: inout [UInt8]) {
    let count = bytes.count
    var i = 0
    while true {
        while i < count, !isTokenByte(bytes[i]) { i += 1 }
        guard i < count else { break }
        let byte = bytes[i]
        if byte == tilde || byte == caret {
            key.append(byte == tilde ? OrderKeyByte.tilde : OrderKeyByte.caret)
            i += 1
            continue
        }
        var start = i
        if isDigit(byte) {
            while i < count, isDigit(bytes[i]) { i += 1 }
            while start < i, bytes[start] == zero { start += 1 }
            let length = i - start
            if length < Int(OrderKeyByte.longDigits - OrderKeyByte.digits) {
                key.append(OrderKeyByte.digits + UInt8(length))
            } else {
                key.append(OrderKeyByte.longDigits)
                withUnsafeBytes(of: UInt64(length).bigEndian) { key.append(contentsOf: $0) }
            }
            key.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
        } else {
            while i < count, isLetter(bytes[i]) { i += 1 }
            key.append(OrderKeyByte.letters)
            key.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
            key.append(OrderKeyByte.lettersEnd)
        }
    }
    key.append(OrderKeyByte.end)
}

/// Appends the order key of `version` (see ``appendVersionOrderKey(utf8:to:)``).
func appendVersionOrderKey(_ version: String, to key: inout [UInt8]) {
    let appendedInPlace: Void? = version.utf8.withContiguousStorageIfAvailable { bytes in
        appendVersionOrderKey(utf8: bytes, to: &key)
    }
    if appendedInPlace == nil {
        var version = version
        version.withUTF8 { bytes in appendVersionOrderKey(utf8: bytes, to: &key) }
    }
}

/// Compares two order keys byte by byte (as `memcmp` does), a proper prefix first: -1, 0 or 1. Keys sharing their
/// storage are equal at once.
@inline(__always)
func compareOrderKeys(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    if a.baseAddress == b.baseAddress, a.count == b.count { return 0 }
    let shorter = min(a.count, b.count)
    var index = 0
    if shorter >= 8, let baseA = UnsafeRawPointer(a.baseAddress), let baseB = UnsafeRawPointer(b.baseAddress) {
        // Eight bytes at a time, as big-endian integers (keys are short: a call to memcmp would cost more).
        while index + 8 <= shorter {
            let wordA = UInt64(bigEndian: baseA.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let wordB = UInt64(bigEndian: baseB.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            if wordA != wordB { return wordA < wordB ? -1 : 1 }
            index += 8
        }
    }
    while index < shorter {
        if a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
        index += 1
    }
    return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
}
