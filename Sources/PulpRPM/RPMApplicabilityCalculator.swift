public import PulpKit

/// Applicability of RPM packages and errata: Pulp 2's yum profiler rules, with today's rpm version order.
///
/// - **rpm**: a repository package applies when a package of the **same name and identical architecture**
///   is installed (no architecture compatibility, no obsoletes) and the repository's EVR is **strictly
///   newer** than the newest installed one of that name and architecture (a consumer with two kernels is
///   judged by the newer). Every newer build applies, not only the newest. EVRs compare as ``EVR`` does:
///   numeric epochs, `rpmvercmp` with `~` and `^`.
/// - **erratum**: an erratum applies when one of its pkglist packages is, NEVRA for NEVRA (a missing epoch
///   is 0), an applicable package **of the same repository**; packages the repository does not hold never
///   count (RHBZ 1171280).
///
/// Profiles of type `rpm` are lists of `{"name", "epoch", "version", "release", "arch", "vendor"}`; they are
/// normalised by sorting on those fields, so the same package set always hashes alike. Modules come later.
public struct RPMApplicabilityCalculator: ApplicabilityCalculator {
    /// The names and architectures seen so far, numbered, so indexes and profiles meet on integers.
    let keys = PackageKeyTable()

    /// Creates the calculator.
    public init() {}

    /// `rpm` and `erratum`.
    public var contentTypes: Set<String> { [RPMContentType.rpm, RPMContentType.erratum] }

    /// `rpm`: the installed packages.
    public var profileTypes: Set<String> { [RPMContentType.rpm] }

    /// `true`: lists are built from package and erratum numbers in id order.
    public var reportsSortedLists: Bool { true }

    /// Validates an `rpm` profile and sorts its entries by (name, epoch, version, release, arch, vendor), as
    /// Pulp 2's yum profiler does (entries equal in those fields are ordered by their canonical JSON, so the
    /// result never depends on the upload order). Entries are kept as sent, extra fields included.
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` unless it is a list of objects with a non-empty string
    ///   `name`, `version` and `arch`, a string `release`, an optional non-negative integer or decimal string
    ///   `epoch`, and an optional string `vendor`; the message says which entry and field.
    public func normalize(profile: JSONValue, contentType: String) throws(PulpError) -> JSONValue {
        guard case .array(let entries) = profile else {
            throw PulpError.invalid("profile", "an rpm profile must be a list of packages, got \(profile.typeName)")
        }
        var keyed: [(key: [JSONValue], entry: JSONValue)] = []
        keyed.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() {
            guard case .object(let fields) = entry else {
                throw PulpError.invalid("profile", "entry \(position) must be an object, got \(entry.typeName)")
            }
            do {
                _ = try RPMFields.nevra(fields)
            } catch {
                throw PulpError.invalid("profile", "entry \(position): \(error.reason)")
            }
            switch fields["vendor"] ?? .null {
            case .null, .string: break
            case let other:
                throw PulpError.invalid(
                    "profile",
                    "entry \(position): 'vendor' must be a string or null, got \(other.typeName)"
                )
            }
            let key = ["name", "epoch", "version", "release", "arch", "vendor"].map { fields[$0] ?? .null }
            keyed.append((key, entry))
        }
        func order(_ lhs: [JSONValue], _ rhs: [JSONValue]) -> Int {
            for (a, b) in zip(lhs, rhs) {
                let order = pythonOrder(a, b)
                if order != 0 { return order }
            }
            return 0
        }
        keyed.sort { order($0.key, $1.key) < 0 }
        // Ties in the six fields: order by canonical text, so the input order never shows.
        var start = 0
        while start < keyed.count {
            var end = start + 1
            while end < keyed.count, order(keyed[start].key, keyed[end].key) == 0 { end += 1 }
            if end - start > 1 {
                keyed[start..<end].sort { $0.entry.encoded().utf8.lexicographicallyPrecedes($1.entry.encoded().utf8) }
            }
            start = end
        }
        return .array(keyed.map(\.entry))
    }

    /// Indexes a repository's `rpm` and `erratum` units.
    public func makeIndex(units: [ContentUnit]) -> RPMRepositoryIndex {
        RPMRepositoryIndex(units: units, keys: keys)
    }

    /// Reads the installed packages, keeping the newest EVR of each name and architecture.
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` if an entry is malformed.
    public func prepare(profiles: [String: JSONValue]) throws(PulpError) -> InstalledPackages {
        try InstalledPackages(profile: profiles[RPMContentType.rpm] ?? .array([]), keys: keys)
    }

    /// The applicable `rpm` and `erratum` unit ids of the repository, sorted.
    public func applicableUnits(profiles: InstalledPackages, repository: RPMRepositoryIndex) -> [String: [UnitID]] {
        let packages = repository.applicablePackages(to: profiles)
        let errata = repository.applicableErrata(given: packages)
        return [
            RPMContentType.rpm: packages.elements(of: repository.packageIDs),
            RPMContentType.erratum: errata.elements(of: repository.erratumIDs),
        ]
    }
}

/// A name and an architecture: what an installed package and a repository package must share.
struct PackageKey: Hashable, Sendable {
    let name: String
    let arch: String
}

/// Numbers every name and architecture it is asked about, once: indexes and prepared profiles then meet on
/// array positions instead of hashing strings in the hot loop. It only grows (by the distinct names and
/// architectures a deployment ever sees: tens of thousands, a few MB).
final class PackageKeyTable: Sendable {
    private struct Table {
        /// For each name, its architectures and their numbers: a name has one to three, so only the name is
        /// hashed.
        var byName: [String: [(arch: String, number: Int32)]] = [:]
        var count: Int32 = 0
    }

    private let table = PulpMutex(Table())

    /// The numbers of `keys`, assigning new ones as needed, under one lock.
    func numbers(for keys: [PackageKey]) -> [Int32] {
        table.withLock { table in
            keys.map { key in
                if let number = table.byName[key.name]?.first(where: { $0.arch == key.arch })?.number {
                    return number
                }
                let number = table.count
                table.count += 1
                table.byName[key.name, default: []].append((key.arch, number))
                return number
            }
        }
    }
}

/// An epoch, version and release packed for regeneration: the epoch, and where the order key of the version and
/// release (see ``EVR``) lies in an ``EVRArena``. Plain values, so arrays of them hold no references, and the
/// keys of neighbouring EVRs are neighbours in memory.
struct PackedEVR: Sendable {
    let epoch: Int
    let start: Int32
    let end: Int32

    /// `EVR.compare` on packed EVRs whose keys are in `bytesA` and `bytesB`: -1, 0 or 1.
    @inline(__always)
    static func compare(
        _ a: PackedEVR,
        in bytesA: UnsafeBufferPointer<UInt8>,
        _ b: PackedEVR,
        in bytesB: UnsafeBufferPointer<UInt8>
    ) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        return compareOrderKeys(
            UnsafeBufferPointer(rebasing: bytesA[Int(a.start)..<Int(a.end)]),
            UnsafeBufferPointer(rebasing: bytesB[Int(b.start)..<Int(b.end)])
        )
    }
}

/// The order keys of many EVRs, one after another.
struct EVRArena {
    var bytes: [UInt8] = []

    mutating func append(epoch: Int, version: String, release: String) -> PackedEVR {
        let start = Int32(bytes.count)
        appendVersionOrderKey(version, to: &bytes)
        appendVersionOrderKey(release, to: &bytes)
        return PackedEVR(epoch: epoch, start: start, end: Int32(bytes.count))
    }

    /// Copies `evr`'s key from `source` to the end of this arena.
    mutating func append(_ evr: PackedEVR, from source: UnsafeBufferPointer<UInt8>) -> PackedEVR {
        let start = Int32(bytes.count)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[Int(evr.start)..<Int(evr.end)]))
        return PackedEVR(epoch: evr.epoch, start: start, end: Int32(bytes.count))
    }
}

/// The newest installed EVR of each name and architecture of a consumer's RPM profile.
public struct InstalledPackages: Sendable {
    /// One entry per name and architecture: its number in the calculator's key table, and its newest EVR.
    let keys: [Int32]
    let evrs: [PackedEVR]
    /// The bytes of ``evrs``.
    let bytes: [UInt8]

    /// Reads an `rpm` profile (a list of package objects).
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` if it is not a list of well-formed package objects.
    init(profile: JSONValue, keys: PackageKeyTable) throws(PulpError) {
        guard case .array(let list) = profile else {
            throw PulpError.invalid("profile", "an rpm profile must be a list of packages, got \(profile.typeName)")
        }
        var packageKeys: [PackageKey] = []
        var evrs: [PackedEVR] = []
        var arena = EVRArena()
        packageKeys.reserveCapacity(list.count)
        evrs.reserveCapacity(list.count)
        arena.bytes.reserveCapacity(list.count * 16)
        for (position, entry) in list.enumerated() {
            guard case .object(let fields) = entry else {
                throw PulpError.invalid("profile", "entry \(position) must be an object, got \(entry.typeName)")
            }
            // One pass over the entry's fields instead of a lookup per field: this runs for every package
            // of every profile set a regeneration prepares.
            var name = ""
            var version = ""
            var release: String?
            var arch = ""
            var epoch = 0
            var epochReadable = true
            for (field, value) in fields {
                switch field {
                case "name": if case .string(let text) = value { name = text }
                case "version": if case .string(let text) = value { version = text }
                case "release": if case .string(let text) = value { release = text }
                case "arch": if case .string(let text) = value { arch = text }
                case "epoch":
                    switch value {
                    case .null: break
                    case .int(let number) where number >= 0: epoch = number
                    case .string(let text):
                        if let number = try? EVR.parseEpoch(text, property: "epoch") {
                            epoch = number
                        } else {
                            epochReadable = false
                        }
                    default: epochReadable = false
                    }
                default: break
                }
            }
            guard let release, !name.isEmpty, !version.isEmpty, !arch.isEmpty, epochReadable else {
                // Let the full reader say what is wrong.
                do {
                    _ = try RPMFields.nevra(fields)
                } catch {
                    throw PulpError.invalid("profile", "entry \(position): \(error.reason)")
                }
                throw PulpError.invalid("profile", "entry \(position) is malformed")
            }
            packageKeys.append(PackageKey(name: name, arch: arch))
            evrs.append(arena.append(epoch: epoch, version: version, release: release))
        }
        let numbers = keys.numbers(for: packageKeys)
        // Keep the newest EVR per key: sort (key, position) pairs as integers, then take the newest of each run.
        let order = numbers.indices.map { UInt64(UInt32(numbers[$0])) << 32 | UInt64($0) }.sorted()
        var kept: [Int32] = []
        var keptEVRs: [PackedEVR] = []
        var packed = EVRArena()
        kept.reserveCapacity(order.count)
        keptEVRs.reserveCapacity(order.count)
        packed.bytes.reserveCapacity(arena.bytes.count)
        arena.bytes.withUnsafeBufferPointer { bytes in
            var run = 0
            while run < order.count {
                let key = Int32(truncatingIfNeeded: order[run] >> 32)
                var newest = Int(truncatingIfNeeded: order[run] & 0xFFFF_FFFF)
                var next = run + 1
                while next < order.count, Int32(truncatingIfNeeded: order[next] >> 32) == key {
                    let candidate = Int(truncatingIfNeeded: order[next] & 0xFFFF_FFFF)
                    if PackedEVR.compare(evrs[candidate], in: bytes, evrs[newest], in: bytes) > 0 { newest = candidate }
                    next += 1
                }
                kept.append(key)
                keptEVRs.append(packed.append(evrs[newest], from: bytes))
                run = next
            }
        }
        self.keys = kept
        self.evrs = keptEVRs
        self.bytes = packed.bytes
    }

    /// How many distinct names and architectures are installed.
    public var count: Int { keys.count }
}

/// A repository's RPM content, arranged for applicability: for each name and architecture, the packages
/// newest first with their EVRs in compact form; for each package, the errata whose pkglist names it.
public struct RPMRepositoryIndex: Sendable {
    /// A package of one name and architecture, with its position in ``packageIDs``.
    struct Candidate: Sendable {
        let evr: PackedEVR
        let package: Int32
    }

    /// The `rpm` units' ids, ascending; positions are the packages' numbers.
    let packageIDs: [UnitID]
    /// The `erratum` units' ids, ascending; positions are the errata's numbers.
    let erratumIDs: [UnitID]
    /// Candidates grouped by key number, each group newest first: key `k`'s group is
    /// `candidates[groupStarts[k]..<groupStarts[k + 1]]`; keys numbered after the index was built have none.
    let groupStarts: [Int32]
    let candidates: [Candidate]
    /// The bytes of the candidates' EVRs, in candidate order.
    let evrBytes: [UInt8]
    /// For each package number, the errata that name it: `errata[errataStarts[p]..<errataStarts[p + 1]]`.
    let errataStarts: [Int32]
    let errata: [Int32]

    /// Indexes `units` (ordered by id) with a fresh key table; units of other types, and packages or pkglist
    /// entries missing a field, are left out.
    public init(units: [ContentUnit]) {
        self.init(units: units, keys: PackageKeyTable())
    }

    init(units: [ContentUnit], keys: PackageKeyTable) {
        var packageIDs: [UnitID] = []
        var nevras: [NEVRA] = []
        var erratumIDs: [UnitID] = []
        var pkglists: [[NEVRA]] = []
        // By index, so that no unit is copied (a copy retains each of its fields).
        for index in units.indices {
            switch units[index].typeID {
            case RPMContentType.rpm:
                guard let nevra = try? RPMFields.nevra(units[index].unitKey) else { continue }
                packageIDs.append(units[index].id)
                nevras.append(nevra)
            case RPMContentType.erratum:
                erratumIDs.append(units[index].id)
                pkglists.append(Self.packages(inPkglist: units[index].metadata["pkglist"] ?? .null))
            default:
                continue
            }
        }
        // Positions must follow id order so that sorting positions sorts ids.
        if !zip(packageIDs, packageIDs.dropFirst()).allSatisfy({ $0 < $1 }) {
            let order = packageIDs.indices.sorted { packageIDs[$0] < packageIDs[$1] }
            packageIDs = order.map { packageIDs[$0] }
            nevras = order.map { nevras[$0] }
        }
        if !zip(erratumIDs, erratumIDs.dropFirst()).allSatisfy({ $0 < $1 }) {
            let order = erratumIDs.indices.sorted { erratumIDs[$0] < erratumIDs[$1] }
            erratumIDs = order.map { erratumIDs[$0] }
            pkglists = order.map { pkglists[$0] }
        }

        // Group the packages by key number, newest first.
        let packageKeys = keys.numbers(for: nevras.map { PackageKey(name: $0.name, arch: $0.arch) })
        var arena = EVRArena()
        let evrs = nevras.map { arena.append(epoch: $0.epoch, version: $0.version, release: $0.release) }
        let keyCount = Int((packageKeys.max() ?? -1) + 1)
        var starts = [Int32](repeating: 0, count: keyCount + 1)
        for key in packageKeys { starts[Int(key) + 1] += 1 }
        for key in 0..<keyCount { starts[key + 1] += starts[key] }
        var packed = EVRArena()
        packed.bytes.reserveCapacity(arena.bytes.count)
        let candidates = arena.bytes.withUnsafeBufferPointer { bytes in
            let order = nevras.indices.sorted { a, b in
                if packageKeys[a] != packageKeys[b] { return packageKeys[a] < packageKeys[b] }
                return PackedEVR.compare(evrs[a], in: bytes, evrs[b], in: bytes) > 0
            }
            return order.map { Candidate(evr: packed.append(evrs[$0], from: bytes), package: Int32($0)) }
        }
        self.candidates = candidates
        groupStarts = starts
        evrBytes = packed.bytes

        // Invert the pkglists: which errata name each package of this repository, NEVRA for NEVRA (textually:
        // order keys would match `1.01` with `1.1`). Packages sharing a NEVRA are chained by `sameNEVRA`.
        var firstWithNEVRA: [NEVRA: Int32] = [:]
        firstWithNEVRA.reserveCapacity(nevras.count)
        var sameNEVRA = [Int32](repeating: -1, count: nevras.count)
        for package in nevras.indices.reversed() {
            if let next = firstWithNEVRA.updateValue(Int32(package), forKey: nevras[package]) {
                sameNEVRA[package] = next
            }
        }
        var named: [[Int32]] = Array(repeating: [], count: nevras.count)
        for (erratum, packages) in pkglists.enumerated() {
            for nevra in packages {
                var package = firstWithNEVRA[nevra] ?? -1
                while package >= 0 {
                    if named[Int(package)].last != Int32(erratum) { named[Int(package)].append(Int32(erratum)) }
                    package = sameNEVRA[Int(package)]
                }
            }
        }
        var errataStarts: [Int32] = [0]
        errataStarts.reserveCapacity(nevras.count + 1)
        var flat: [Int32] = []
        for list in named {
            flat.append(contentsOf: list)
            errataStarts.append(Int32(flat.count))
        }

        // Fresh copies of the ids, allocated in id order: records then hold ids that lie in memory in the
        // order they sort, so checking, merging and copying them streams through memory instead of
        // missing the cache on every id.
        self.packageIDs = packageIDs.map(freshCopy)
        self.erratumIDs = erratumIDs.map(freshCopy)
        self.errataStarts = errataStarts
        self.errata = flat
    }

    /// How many packages and errata the index holds.
    public var counts: (packages: Int, errata: Int) { (packageIDs.count, erratumIDs.count) }

    /// The packages newer than what `installed` has of their name and architecture, as a set of package numbers.
    func applicablePackages(to installed: InstalledPackages) -> NumberSet {
        var result = NumberSet(capacity: packageIDs.count)
        let keyCount = groupStarts.count - 1
        groupStarts.withUnsafeBufferPointer { starts in
            candidates.withUnsafeBufferPointer { candidates in
                evrBytes.withUnsafeBufferPointer { repositoryBytes in
                    installed.bytes.withUnsafeBufferPointer { installedBytes in
                        for (key, evr) in zip(installed.keys, installed.evrs) where Int(key) < keyCount {
                            var index = Int(starts[Int(key)])
                            let end = Int(starts[Int(key) + 1])
                            while index < end,
                                PackedEVR.compare(candidates[index].evr, in: repositoryBytes, evr, in: installedBytes)
                                    > 0
                            {
                                result.insert(Int(candidates[index].package))
                                index += 1
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The errata naming one of `packages`, as a set of erratum numbers.
    func applicableErrata(given packages: NumberSet) -> NumberSet {
        var result = NumberSet(capacity: erratumIDs.count)
        guard !erratumIDs.isEmpty else { return result }
        errataStarts.withUnsafeBufferPointer { starts in
            errata.withUnsafeBufferPointer { errata in
                packages.forEach { package in
                    for index in Int(starts[package])..<Int(starts[package + 1]) { result.insert(Int(errata[index])) }
                }
            }
        }
        return result
    }

    /// The packages an erratum unit's pkglist names; malformed entries are skipped.
    private static func packages(inPkglist pkglist: JSONValue) -> [NEVRA] {
        guard case .array(let collections) = pkglist else { return [] }
        var result: [NEVRA] = []
        for collection in collections {
            guard case .array(let packages) = collection["packages"] ?? .null else { continue }
            for package in packages {
                guard case .object(let fields) = package, let nevra = try? RPMFields.nevra(fields) else { continue }
                result.append(nevra)
            }
        }
        return result
    }
}

/// A set of small non-negative numbers (package or erratum numbers of one index), one bit each: inserting is a
/// store, and members come out ascending without sorting.
struct NumberSet {
    private var words: [UInt64]

    /// An empty set for numbers below `capacity`.
    init(capacity: Int) { words = [UInt64](repeating: 0, count: (capacity + 63) / 64) }

    @inline(__always)
    mutating func insert(_ number: Int) { words[number >> 6] |= 1 << UInt64(number & 63) }

    /// How many numbers the set holds.
    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body` with each member, ascending.
    @inline(__always)
    func forEach(_ body: (Int) -> Void) {
        for (position, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                body(position << 6 | rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
    }

    /// `values` at the members' positions, in ascending order of position.
    func elements<Value>(of values: [Value]) -> [Value] {
        var result: [Value] = []
        result.reserveCapacity(count)
        values.withUnsafeBufferPointer { values in forEach { result.append(values[$0]) } }
        return result
    }
}

/// A unit id with storage of its own (an id of up to 15 bytes is stored inline anyway).
private func freshCopy(_ id: UnitID) -> UnitID {
    let bytes = Array(id.rawValue.utf8)
    return UnitID(
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            _ = buffer.initialize(from: bytes)
            return bytes.count
        }
    )
}

/// Python 2's order of the scalar values a profile's sort key holds: `null` first, then numbers (Booleans
/// are numbers), then strings by code point; other values by canonical JSON text, after strings.
func pythonOrder(_ a: JSONValue, _ b: JSONValue) -> Int {
    func rank(_ value: JSONValue) -> Int {
        switch value {
        case .null: 0
        case .bool, .int, .double: 1
        case .string: 2
        case .array, .object: 3
        }
    }
    func number(_ value: JSONValue) -> Double {
        switch value {
        case .bool(let flag): flag ? 1 : 0
        default: value.doubleValue ?? 0
        }
    }
    let (rankA, rankB) = (rank(a), rank(b))
    if rankA != rankB { return rankA < rankB ? -1 : 1 }
    switch (a, b) {
    case (.null, .null): return 0
    case (.int(let x), .int(let y)): return x == y ? 0 : x < y ? -1 : 1
    case (.string(let x), .string(let y)):
        if x.utf8.elementsEqual(y.utf8) { return 0 }
        return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
    default:
        if rankA == 1 {
            let (x, y) = (number(a), number(b))
            return x == y ? 0 : x < y ? -1 : 1
        }
        let (x, y) = (a.encoded(), b.encoded())
        return x == y ? 0 : x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
    }
}
