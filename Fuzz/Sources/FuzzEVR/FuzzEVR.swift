import FuzzCheck
import PulpKit
import PulpRPM

/// Reads the input as up to three lines `a`, `b`, `c` and checks ``rpmVersionCompare(_:_:)`` on them: it must agree
/// with a plain port of rpm's `rpmvercmp` and be reflexive, antisymmetric and transitive. The lines are also read
/// as epoch, version and release of ``EVR``s (equal values must hash alike) and as NEVRA text (which must parse
/// back from its description).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEVR(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = UnsafeBufferPointer(start: data, count: count)
    let lines = input.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
    let texts = lines.map { String(decoding: $0, as: UTF8.self) }
    let a = texts[0]
    let b = texts.count > 1 ? texts[1] : ""
    let c = texts.count > 2 ? texts[2] : ""

    for version in [a, b, c] {
        check(rpmVersionCompare(version, version) == 0, "'\(version)' does not equal itself")
    }
    for (x, y) in [(a, b), (b, c), (a, c)] {
        let order = rpmVersionCompare(x, y)
        let expected = referenceCompare(Array(x.utf8), Array(y.utf8))
        check(order == expected, "'\(x)' vs '\(y)' is \(order); rpmvercmp says \(expected)")
        check(rpmVersionCompare(y, x) == -order, "'\(x)' vs '\(y)' is not antisymmetric")
        // EVRs compare by order keys built once: they must agree with the scan, as versions and as releases.
        check(EVR.compare(EVR(version: x), EVR(version: y)) == expected, "'\(x)' vs '\(y)': EVR order keys")
        check(EVR.compare(EVR(version: "1", release: x), EVR(version: "1", release: y)) == expected, "release keys")
    }
    checkTransitivity(a, b, c, rpmVersionCompare)

    let evrs = [EVR(version: a, release: b), EVR(version: b, release: c), EVR(version: c, release: a)]
    for x in evrs {
        for y in evrs where x == y {
            check(x.hashValue == y.hashValue, "\(x) == \(y) but they hash apart")
        }
    }
    checkTransitivity(evrs[0], evrs[1], evrs[2], EVR.compare)
    if let evr = try? EVR(epoch: a, version: b, release: c) {
        let digits = a.drop { $0 == "0" }
        check(String(evr.epoch) == (digits.isEmpty ? "0" : String(digits)), "epoch '\(a)' read as \(evr.epoch)")
    }

    for text in texts {
        guard let nevra = try? NEVRA(parsing: text) else { continue }
        let reparsed = try? NEVRA(parsing: nevra.description)
        check(reparsed == nevra, "NEVRA \(text) does not parse back from \(nevra)")
        check(nevra.evr == EVR(epoch: nevra.epoch, version: nevra.version, release: nevra.release), "\(text): evr")
    }
    return 0
}

/// `compare(x, z) <= 0` whenever `compare(x, y) <= 0` and `compare(y, z) <= 0`, for every order of the three.
private func checkTransitivity<Value>(_ a: Value, _ b: Value, _ c: Value, _ compare: (Value, Value) -> Int) {
    let values = [a, b, c]
    for i in 0..<3 {
        for j in 0..<3 where j != i {
            let k = 3 - i - j
            if compare(values[i], values[j]) <= 0, compare(values[j], values[k]) <= 0 {
                check(compare(values[i], values[k]) <= 0, "\(values[i]) <= \(values[j]) <= \(values[k])")
            }
            if compare(values[i], values[j]) == 0 {
                check(compare(values[i], values[k]) == compare(values[j], values[k]), "equal, ordered apart")
            }
        }
    }
}

/// rpm's `rpmvercmp` (rpmio/rpmvercmp.c, rpm 4.15 and later) transcribed without shortcuts, as the oracle. A C string
/// ends at its NUL; here the end of the bytes does, and a NUL byte is a separator like any other.
private func referenceCompare(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a == b { return 0 }
    func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    let tilde = UInt8(ascii: "~")
    let caret = UInt8(ascii: "^")
    var one = 0
    var two = 0
    // The byte at an index, 0 past the end (C's terminating NUL).
    func at(_ bytes: [UInt8], _ index: Int) -> UInt8 { index < bytes.count ? bytes[index] : 0 }
    while one < a.count || two < b.count {
        while one < a.count, !isDigit(a[one]), !isAlpha(a[one]), a[one] != tilde, a[one] != caret { one += 1 }
        while two < b.count, !isDigit(b[two]), !isAlpha(b[two]), b[two] != tilde, b[two] != caret { two += 1 }
        if at(a, one) == tilde || at(b, two) == tilde {
            if at(a, one) != tilde { return 1 }
            if at(b, two) != tilde { return -1 }
            one += 1
            two += 1
            continue
        }
        if at(a, one) == caret || at(b, two) == caret {
            if one >= a.count { return -1 }
            if two >= b.count { return 1 }
            if at(a, one) != caret { return 1 }
            if at(b, two) != caret { return -1 }
            one += 1
            two += 1
            continue
        }
        if one >= a.count || two >= b.count { break }
        var end1 = one
        var end2 = two
        let isNumber = isDigit(a[one])
        let inRun = isNumber ? isDigit : isAlpha
        while end1 < a.count, inRun(a[end1]) { end1 += 1 }
        while end2 < b.count, inRun(b[end2]) { end2 += 1 }
        if end2 == two { return isNumber ? 1 : -1 }
        var segment1 = a[one..<end1]
        var segment2 = b[two..<end2]
        if isNumber {
            segment1 = segment1.drop { $0 == 0x30 }
            segment2 = segment2.drop { $0 == 0x30 }
            if segment1.count != segment2.count { return segment1.count > segment2.count ? 1 : -1 }
        }
        if segment1.lexicographicallyPrecedes(segment2) { return -1 }
        if segment2.lexicographicallyPrecedes(segment1) { return 1 }
        one = end1
        two = end2
    }
    if one >= a.count, two >= b.count { return 0 }
    return one >= a.count ? -1 : 1
}
