public import PulpKit

/// An RPM epoch, version and release, ordered as today's rpm `labelCompare` orders them.
/// Equality is rpm's, not textual (`1.01-1` equals `1.1-1`), and equal values hash alike.
///
/// An EVR keeps the order key of its version and release (their rpm tokens as bytes, built when either is set),
/// so comparing, equating and hashing EVRs never scans the strings again: comparing two EVRs of the same epoch is
/// one comparison of two short byte strings, eight bytes at a time.
public struct EVR: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The epoch; a missing or empty epoch is 0. Epochs compare as numbers, so `10` is newer than `9`.
    public var epoch: Int
    /// The upstream version, e.g. `4.2.46`.
    public var version: String {
        didSet { orderKey = Self.orderKey(version: version, release: release) }
    }
    /// The packaging release, e.g. `34.el7`; may be empty.
    public var release: String {
        didSet { orderKey = Self.orderKey(version: version, release: release) }
    }
    /// The version's order key followed by the release's (see `appendVersionOrderKey(utf8:to:)`): byte order is
    /// rpm's order of (version, release), and equal keys mean equivalent versions and releases.
    private var orderKey: [UInt8]

    /// Creates an EVR from its parts; `epoch` is expected to be non-negative, as in rpm.
    public init(epoch: Int = 0, version: String, release: String = "") {
        self.epoch = epoch
        self.version = version
        self.release = release
        self.orderKey = Self.orderKey(version: version, release: release)
    }

    /// Creates an EVR from a textual epoch, as in Pulp's data (`nil` and `""` mean 0); throws a 400
    /// ``PulpError`` naming `epoch` unless it is a non-negative decimal integer.
    public init(epoch: String?, version: String, release: String = "") throws(PulpError) {
        self.init(epoch: try EVR.parseEpoch(epoch ?? "", property: "epoch"), version: version, release: release)
    }

    /// rpm's `labelCompare`: epochs as numbers, then ``rpmVersionCompare(_:_:)`` on versions, then on releases.
    /// Returns -1, 0 or 1; the release always counts, so an empty release is older than `1`.
    public static func compare(_ lhs: EVR, _ rhs: EVR) -> Int {
        if lhs.epoch != rhs.epoch { return lhs.epoch < rhs.epoch ? -1 : 1 }
        return lhs.orderKey.withUnsafeBufferPointer { keyA in
            rhs.orderKey.withUnsafeBufferPointer { keyB in compareOrderKeys(keyA, keyB) }
        }
    }

    /// Whether `lhs` is older than `rhs` by ``compare(_:_:)``.
    public static func < (lhs: EVR, rhs: EVR) -> Bool { compare(lhs, rhs) < 0 }

    /// Whether the two are equivalent by ``compare(_:_:)``, e.g. `1.01-1` and `1.1-1`; not textual equality.
    public static func == (lhs: EVR, rhs: EVR) -> Bool { compare(lhs, rhs) == 0 }

    /// Hashes the epoch and the order key of version and release (their tokens, separators skipped and leading
    /// zeros dropped), so values that are `==` hash alike: `1.01`, `1.1` and `1_01` do.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(epoch)
        orderKey.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// `epoch:version-release`, leaving out `epoch:` when it is 0 and `-release` when the release is empty.
    public var description: String {
        let head = epoch == 0 ? version : "\(epoch):\(version)"
        return release.isEmpty ? head : "\(head)-\(release)"
    }

    /// The order key of a version and a release, one after the other.
    private static func orderKey(version: String, release: String) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(version.utf8.count + release.utf8.count + 8)
        appendVersionOrderKey(version, to: &key)
        appendVersionOrderKey(release, to: &key)
        return key
    }

    /// Reads a decimal epoch; the empty string is 0. Errors name `property` and quote the text.
    static func parseEpoch(_ text: String, property: String, context: String = "") throws(PulpError) -> Int {
        var value = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else {
                throw PulpError.invalid(
                    property,
                    "\(context)the epoch '\(text)' must be a non-negative decimal integer"
                )
            }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
            guard !overflow1, !overflow2 else {
                throw PulpError.invalid(property, "\(context)the epoch '\(text)' is too large")
            }
            value = sum
        }
        return value
    }
}
