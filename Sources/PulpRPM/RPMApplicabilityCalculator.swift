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
        RPMRepositoryIndex(units: units)
    }

    /// Reads the installed packages, keeping the newest EVR of each name and architecture.
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` if an entry is malformed.
    public func prepare(profiles: [String: JSONValue]) throws(PulpError) -> InstalledPackages {
        try InstalledPackages(profile: profiles[RPMContentType.rpm] ?? .array([]))
    }

    /// The applicable `rpm` and `erratum` unit ids of the repository, sorted.
    public func applicableUnits(profiles: InstalledPackages, repository: RPMRepositoryIndex) -> [String: [UnitID]] {
        positions(profiles: profiles, repository: repository).mapValues(\.ids)
    }

    /// The applicable `rpm` and `erratum` units as positions in the index's id tables (never `nil`).
    public func applicablePositions(
        profiles: InstalledPackages,
        repository: RPMRepositoryIndex
    ) -> [String: UnitPositions]? {
        positions(profiles: profiles, repository: repository)
    }

    private func positions(profiles: InstalledPackages, repository: RPMRepositoryIndex) -> [String: UnitPositions] {
        let packages = repository.applicablePackages(to: profiles)
        let errata = repository.applicableErrata(given: packages)
        return [
            RPMContentType.rpm: UnitPositions(table: repository.packageTable, words: packages.words),
            RPMContentType.erratum: UnitPositions(table: repository.erratumTable, words: errata.words),
        ]
    }
}

/// Names and architectures, what an installed package and a repository package must share, written one after
/// another as `name` 0xFF `arch` (0xFF never occurs in UTF-8, so the pair is unambiguous) and hashed, so that
/// profiles and indexes meet on sorted 64-bit hashes. Nothing is shared between them: profiles are prepared
/// concurrently without a lock, and a hash match is confirmed byte for byte.
struct PackageKeyArena {
    var bytes: [UInt8] = []
    /// Where each key starts in ``bytes``; key `k` ends where key `k + 1` starts.
    var starts: [Int32] = [0]

    /// Appends the key of `name` and `arch` and returns its hash (64-bit FNV-1a).
    mutating func append(name: String, arch: String) -> UInt64 {
        let start = bytes.count
        bytes.append(contentsOf: name.utf8)
        bytes.append(0xFF)
        bytes.append(contentsOf: arch.utf8)
        starts.append(Int32(bytes.count))
        return bytes.withUnsafeBufferPointer { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in UnsafeBufferPointer(rebasing: bytes[start...]) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            return hash
        }
    }

    /// Copies key `key` of `source` to the end of this arena.
    mutating func append(_ key: Int, of source: PackageKeyArena) {
        bytes.append(contentsOf: source.bytes[Int(source.starts[key])..<Int(source.starts[key + 1])])
        starts.append(Int32(bytes.count))
    }

    /// Whether key `a` of `self` and key `b` of `other` are the same bytes.
    func key(_ a: Int, equals b: Int, of other: PackageKeyArena) -> Bool {
        bytes.withUnsafeBufferPointer { bytesA in
            other.bytes.withUnsafeBufferPointer { bytesB in
                compareOrderKeys(
                    UnsafeBufferPointer(rebasing: bytesA[Int(starts[a])..<Int(starts[a + 1])]),
                    UnsafeBufferPointer(rebasing: bytesB[Int(other.starts[b])..<Int(other.starts[b + 1])])
                ) == 0
            }
        }
    }
}

/// Entries grouped by name and architecture, the groups ascending by hash: group `g` is
/// `order[starts[g]..<starts[g + 1]]`, with hash `hashes[g]`. One flat array, so grouping allocates nothing per
/// group.
struct PackageKeyGroups {
    var order: [Int] = []
    var starts: [Int] = [0]
    var hashes: [UInt64] = []

    /// Sorts entries by the hash of their key, then splits each run of equal hashes by exact key (a run longer
    /// than one is almost always one package installed or built several times; a real collision only makes a
    /// run longer).
    init(hashes entryHashes: [UInt64], keys: PackageKeyArena) {
        order = entryHashes.indices.sorted {
            entryHashes[$0] != entryHashes[$1] ? entryHashes[$0] < entryHashes[$1] : $0 < $1
        }
        starts.reserveCapacity(order.count + 1)
        hashes.reserveCapacity(order.count)
        var run = 0
        while run < order.count {
            let hash = entryHashes[order[run]]
            var end = run + 1
            while end < order.count, entryHashes[order[end]] == hash { end += 1 }
            var start = run
            while start < end {
                // Move the entries with the same key as `order[start]` next to it.
                var next = start + 1
                for position in (start + 1)..<end where keys.key(order[position], equals: order[start], of: keys) {
                    order.swapAt(position, next)
                    next += 1
                }
                hashes.append(hash)
                starts.append(next)
                start = next
            }
            run = end
        }
    }

    /// How many groups there are.
    var count: Int { hashes.count }

    /// The entries of group `group`.
    func members(of group: Int) -> ArraySlice<Int> { order[starts[group]..<starts[group + 1]] }
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
    /// One entry per name and architecture, ascending by hash: the hash, the key and the newest EVR.
    let hashes: [UInt64]
    let keys: PackageKeyArena
    let evrs: [PackedEVR]
    /// The bytes of ``evrs``.
    let bytes: [UInt8]

    /// Reads an `rpm` profile (a list of package objects).
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` if it is not a list of well-formed package objects.
    init(profile: JSONValue) throws(PulpError) {
        guard case .array(let list) = profile else {
            throw PulpError.invalid("profile", "an rpm profile must be a list of packages, got \(profile.typeName)")
        }
        var hashes: [UInt64] = []
        var packageKeys = PackageKeyArena()
        var evrs: [PackedEVR] = []
        var arena = EVRArena()
        hashes.reserveCapacity(list.count)
        packageKeys.starts.reserveCapacity(list.count + 1)
        packageKeys.bytes.reserveCapacity(list.count * 20)
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
                switch RPMField(field) {
                case .name: if case .string(let text) = value { name = text }
                case .version: if case .string(let text) = value { version = text }
                case .release: if case .string(let text) = value { release = text }
                case .arch: if case .string(let text) = value { arch = text }
                case .epoch:
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
                case .other: break
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
            hashes.append(packageKeys.append(name: name, arch: arch))
            evrs.append(arena.append(epoch: epoch, version: version, release: release))
        }
        // Keep the newest EVR per name and architecture.
        var keptHashes: [UInt64] = []
        var keptKeys = PackageKeyArena()
        var keptEVRs: [PackedEVR] = []
        var packed = EVRArena()
        packed.bytes.reserveCapacity(arena.bytes.count)
        arena.bytes.withUnsafeBufferPointer { bytes in
            let groups = PackageKeyGroups(hashes: hashes, keys: packageKeys)
            for group in 0..<groups.count {
                let members = groups.members(of: group)
                let newest = members.dropFirst().reduce(members.first!) { newest, candidate in
                    PackedEVR.compare(evrs[candidate], in: bytes, evrs[newest], in: bytes) > 0 ? candidate : newest
                }
                keptHashes.append(groups.hashes[group])
                keptKeys.append(newest, of: packageKeys)
                keptEVRs.append(packed.append(evrs[newest], from: bytes))
            }
        }
        self.hashes = keptHashes
        self.keys = keptKeys
        self.evrs = keptEVRs
        self.bytes = packed.bytes
    }

    /// How many distinct names and architectures are installed.
    public var count: Int { hashes.count }
}

/// A repository's RPM content, arranged for applicability: for each name and architecture, the packages
/// newest first with their EVRs in compact form; for each package, the errata whose pkglist names it.
public struct RPMRepositoryIndex: Sendable {
    /// A package of one name and architecture, with its position in ``packageTable``.
    struct Candidate: Sendable {
        let evr: PackedEVR
        let package: Int32
    }

    /// The `rpm` units' ids, ascending; positions are the packages' numbers.
    let packageTable: UnitIDTable
    /// The `erratum` units' ids, ascending; positions are the errata's numbers.
    let erratumTable: UnitIDTable
    /// One group per name and architecture, ascending by hash: group `g` has hash `groupHashes[g]`, key
    /// `groupKeys` key `g`, and its packages newest first in `candidates[groupStarts[g]..<groupStarts[g + 1]]`.
    let groupHashes: [UInt64]
    let groupKeys: PackageKeyArena
    let groupStarts: [Int32]
    let candidates: [Candidate]
    /// The bytes of the candidates' EVRs, in candidate order.
    let evrBytes: [UInt8]
    /// For each package number, the errata that name it: `errata[errataStarts[p]..<errataStarts[p + 1]]`.
    let errataStarts: [Int32]
    let errata: [Int32]

    /// Indexes `units` (ordered by id); units of other types, and packages or pkglist entries missing a field,
    /// are left out.
    public init(units: [ContentUnit]) {
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

        // Group the packages by name and architecture, groups by hash, each group newest first.
        var packageKeys = PackageKeyArena()
        let hashes = nevras.map { packageKeys.append(name: $0.name, arch: $0.arch) }
        var arena = EVRArena()
        let evrs = nevras.map { arena.append(epoch: $0.epoch, version: $0.version, release: $0.release) }
        var groupHashes: [UInt64] = []
        var groupKeys = PackageKeyArena()
        var starts: [Int32] = [0]
        var candidates: [Candidate] = []
        candidates.reserveCapacity(nevras.count)
        var packed = EVRArena()
        packed.bytes.reserveCapacity(arena.bytes.count)
        arena.bytes.withUnsafeBufferPointer { bytes in
            let groups = PackageKeyGroups(hashes: hashes, keys: packageKeys)
            for group in 0..<groups.count {
                let members = groups.members(of: group)
                let newestFirst = members.sorted { a, b in
                    PackedEVR.compare(evrs[a], in: bytes, evrs[b], in: bytes) > 0
                }
                for package in newestFirst {
                    candidates.append(
                        Candidate(evr: packed.append(evrs[package], from: bytes), package: Int32(package))
                    )
                }
                groupHashes.append(groups.hashes[group])
                groupKeys.append(members.first!, of: packageKeys)
                starts.append(Int32(candidates.count))
            }
        }
        self.groupHashes = groupHashes
        self.groupKeys = groupKeys
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
        packageTable = UnitIDTable(sortedIDs: packageIDs.map(freshCopy))
        erratumTable = UnitIDTable(sortedIDs: erratumIDs.map(freshCopy))
        self.errataStarts = errataStarts
        self.errata = flat
    }

    /// How many packages and errata the index holds.
    public var counts: (packages: Int, errata: Int) { (packageTable.ids.count, erratumTable.ids.count) }

    /// The packages newer than what `installed` has of their name and architecture, as a set of package numbers.
    func applicablePackages(to installed: InstalledPackages) -> NumberSet {
        var result = NumberSet(capacity: packageTable.ids.count)
        // Both sides are ascending by hash: one walk over them pairs each installed package with its group.
        groupHashes.withUnsafeBufferPointer { groupHashes in
            groupStarts.withUnsafeBufferPointer { starts in
                candidates.withUnsafeBufferPointer { candidates in
                    evrBytes.withUnsafeBufferPointer { repositoryBytes in
                        installed.bytes.withUnsafeBufferPointer { installedBytes in
                            var group = 0
                            for (position, hash) in installed.hashes.enumerated() {
                                while group < groupHashes.count, groupHashes[group] < hash { group += 1 }
                                var match = group
                                while match < groupHashes.count, groupHashes[match] == hash,
                                    !groupKeys.key(match, equals: position, of: installed.keys)
                                {
                                    match += 1
                                }
                                guard match < groupHashes.count, groupHashes[match] == hash else { continue }
                                let evr = installed.evrs[position]
                                var index = Int(starts[match])
                                let end = Int(starts[match + 1])
                                while index < end,
                                    PackedEVR.compare(
                                        candidates[index].evr,
                                        in: repositoryBytes,
                                        evr,
                                        in: installedBytes
                                    ) > 0
                                {
                                    result.insert(Int(candidates[index].package))
                                    index += 1
                                }
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
        var result = NumberSet(capacity: erratumTable.ids.count)
        guard !erratumTable.ids.isEmpty else { return result }
        errataStarts.withUnsafeBufferPointer { starts in
            errata.withUnsafeBufferPointer { errata in
                packages.forEachMember { package in
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
    /// Bit `b` of word `w` stands for number `64 * w + b`.
    private(set) var words: [UInt64]

    /// An empty set for numbers below `capacity`.
    init(capacity: Int) { words = [UInt64](repeating: 0, count: (capacity + 63) / 64) }

    @inline(__always)
    mutating func insert(_ number: Int) { words[number >> 6] |= 1 << UInt64(number & 63) }

    /// How many numbers the set holds.
    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body` with each member, ascending.
    @inline(__always)
    func forEachMember(_ body: (Int) -> Void) {
        for (position, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                body(position << 6 | rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
    }
}

/// A unit id with storage of its own (an id of up to 15 bytes is stored inline anyway).
private func freshCopy(_ id: UnitID) -> UnitID {
    var text = id.rawValue
    return text.withUTF8 { bytes in
        UnitID(
            String(unsafeUninitializedCapacity: bytes.count) { buffer in
                _ = buffer.initialize(from: bytes)
                return bytes.count
            }
        )
    }
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
