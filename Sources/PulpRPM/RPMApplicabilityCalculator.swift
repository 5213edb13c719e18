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
        var keyed: [(key: [JSONValue], entry: JSONValue, text: String?)] = []
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
            keyed.append((key, entry, nil))
        }
        keyed.sort { lhs, rhs in
            for (a, b) in zip(lhs.key, rhs.key) {
                let order = pythonOrder(a, b)
                if order != 0 { return order < 0 }
            }
            return false
        }
        // Ties in the six fields: order by canonical text, so the input order never shows.
        var start = 0
        while start < keyed.count {
            var end = start + 1
            while end < keyed.count, zip(keyed[start].key, keyed[end].key).allSatisfy({ pythonOrder($0, $1) == 0 }) {
                end += 1
            }
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
        let applicable = repository.applicablePackages(to: profiles)
        return [
            RPMContentType.rpm: applicable.map { repository.packageIDs[Int($0)] },
            RPMContentType.erratum: repository.applicableErrata(given: applicable).map {
                repository.erratumIDs[Int($0)]
            },
        ]
    }
}

/// The newest installed EVR of each name and architecture of a consumer's RPM profile.
public struct InstalledPackages: Sendable {
    /// One entry per `"name arch"` key, with the newest installed EVR.
    let entries: [(key: String, evr: EVR)]

    /// Reads an `rpm` profile (a list of package objects).
    ///
    /// - Throws: a 400 ``PulpError`` naming `profile` if it is not a list of well-formed package objects.
    public init(profile: JSONValue) throws(PulpError) {
        guard case .array(let list) = profile else {
            throw PulpError.invalid("profile", "an rpm profile must be a list of packages, got \(profile.typeName)")
        }
        var newest: [String: Int] = [:]
        newest.reserveCapacity(list.count)
        var entries: [(key: String, evr: EVR)] = []
        entries.reserveCapacity(list.count)
        for (position, entry) in list.enumerated() {
            guard case .object(let fields) = entry else {
                throw PulpError.invalid("profile", "entry \(position) must be an object, got \(entry.typeName)")
            }
            let nevra: NEVRA
            do {
                nevra = try RPMFields.nevra(fields)
            } catch {
                throw PulpError.invalid("profile", "entry \(position): \(error.reason)")
            }
            let key = packageKey(name: nevra.name, arch: nevra.arch)
            let evr = nevra.evr
            if let index = newest[key] {
                if EVR.compare(evr, entries[index].evr) > 0 { entries[index].evr = evr }
            } else {
                newest[key] = entries.count
                entries.append((key, evr))
            }
        }
        self.entries = entries
    }

    /// How many distinct names and architectures are installed.
    public var count: Int { entries.count }
}

/// A repository's RPM content, arranged for applicability: for each name and architecture, the packages
/// newest first with their EVRs parsed; for each package, the errata whose pkglist names it.
public struct RPMRepositoryIndex: Sendable {
    /// A package of one name and architecture, with its position in ``packageIDs``.
    struct Candidate: Sendable {
        let evr: EVR
        let package: Int32
    }

    /// The `rpm` units' ids, ascending; positions are the packages' numbers.
    let packageIDs: [UnitID]
    /// The `erratum` units' ids, ascending; positions are the errata's numbers.
    let erratumIDs: [UnitID]
    /// For each `"name arch"` key, the repository's packages newest first.
    let candidates: [String: [Candidate]]
    /// For each package number, the numbers of the errata that name it (CSR: `errataStarts[p]..<errataStarts[p + 1]`).
    let errataStarts: [Int32]
    let errata: [Int32]

    /// Indexes `units` (ordered by id); units of other types, and packages or pkglist entries missing a
    /// field, are left out.
    public init(units: [ContentUnit]) {
        var packageIDs: [UnitID] = []
        var nevras: [NEVRA] = []
        var erratumIDs: [UnitID] = []
        var pkglists: [[NEVRA]] = []
        for unit in units {
            switch unit.typeID {
            case RPMContentType.rpm:
                guard let nevra = try? RPMFields.nevra(unit.unitKey) else { continue }
                packageIDs.append(unit.id)
                nevras.append(nevra)
            case RPMContentType.erratum:
                erratumIDs.append(unit.id)
                pkglists.append(Self.packages(of: unit))
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

        var candidates: [String: [Candidate]] = [:]
        var byNEVRA: [NEVRA: [Int32]] = [:]
        byNEVRA.reserveCapacity(nevras.count)
        for (position, nevra) in nevras.enumerated() {
            candidates[packageKey(name: nevra.name, arch: nevra.arch), default: []].append(
                Candidate(evr: nevra.evr, package: Int32(position))
            )
            byNEVRA[nevra, default: []].append(Int32(position))
        }
        for key in candidates.keys {
            candidates[key]?.sort { EVR.compare($0.evr, $1.evr) > 0 }
        }

        // Invert the pkglists: which errata name each package of this repository.
        var named: [[Int32]] = Array(repeating: [], count: nevras.count)
        for (erratum, packages) in pkglists.enumerated() {
            for nevra in packages {
                for package in byNEVRA[nevra] ?? [] where named[Int(package)].last != Int32(erratum) {
                    named[Int(package)].append(Int32(erratum))
                }
            }
        }
        var starts: [Int32] = [0]
        starts.reserveCapacity(nevras.count + 1)
        var flat: [Int32] = []
        for list in named {
            flat.append(contentsOf: list)
            starts.append(Int32(flat.count))
        }

        self.packageIDs = packageIDs
        self.erratumIDs = erratumIDs
        self.candidates = candidates
        self.errataStarts = starts
        self.errata = flat
    }

    /// How many packages and errata the index holds.
    public var counts: (packages: Int, errata: Int) { (packageIDs.count, erratumIDs.count) }

    /// The numbers of the packages newer than what `installed` has of their name and architecture, ascending.
    func applicablePackages(to installed: InstalledPackages) -> [Int32] {
        var result: [Int32] = []
        for (key, evr) in installed.entries {
            guard let list = candidates[key] else { continue }
            for candidate in list {
                guard EVR.compare(candidate.evr, evr) > 0 else { break }
                result.append(candidate.package)
            }
        }
        result.sort()
        return result
    }

    /// The numbers of the errata naming one of `packages`, ascending.
    func applicableErrata(given packages: [Int32]) -> [Int32] {
        guard !erratumIDs.isEmpty, !packages.isEmpty else { return [] }
        var seen = [Bool](repeating: false, count: erratumIDs.count)
        var result: [Int32] = []
        for package in packages {
            let range = Int(errataStarts[Int(package)])..<Int(errataStarts[Int(package) + 1])
            for erratum in errata[range] where !seen[Int(erratum)] {
                seen[Int(erratum)] = true
                result.append(erratum)
            }
        }
        result.sort()
        return result
    }

    /// The packages an erratum unit's pkglist names; malformed entries are skipped.
    private static func packages(of unit: ContentUnit) -> [NEVRA] {
        guard case .array(let collections) = unit.metadata["pkglist"] ?? .null else { return [] }
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

/// The key of a name and architecture: `"name arch"`, as Pulp's lookup table has it.
func packageKey(name: String, arch: String) -> String { name + " " + arch }

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
