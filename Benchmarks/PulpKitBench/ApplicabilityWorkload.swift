import Foundation
import PulpKit
import PulpKitTesting
import PulpRPM

/// An applicability workload: repositories with their `rpm` and `erratum` units, named RPM profiles, and
/// consumers with a profile and bindings. Generated from a seed, or read from a directory (see
/// `Documentation/Performance.md`, "Workload format").
struct ApplicabilityWorkload {
    struct RepositoryContent {
        var id: RepositoryID
        var units: [ContentUnit]
    }

    struct ConsumerSpec {
        var id: ConsumerID
        var profile: Int
        var repositories: [RepositoryID]
    }

    var repositories: [RepositoryContent]
    /// Named RPM profiles, normalised.
    var profiles: [(name: String, profile: JSONValue)]
    var consumers: [ConsumerSpec]
    /// Units that a repository gains for the "after an update" figure (generated workloads only).
    var update: RepositoryContent?

    var rpmCount: Int { repositories.reduce(0) { $0 + $1.units.count { $0.typeID == RPMContentType.rpm } } }
    var erratumCount: Int { repositories.reduce(0) { $0 + $1.units.count { $0.typeID == RPMContentType.erratum } } }
}

// MARK: - Generation

/// The shape of a generated workload.
struct WorkloadShape {
    var repositories: Int
    var rpms: Int
    var names: Int
    var errataPerRepository: Int
    var consumers: Int
    var profiles: Int
    var installed: Int
    var update: Int

    static let medium = WorkloadShape(
        repositories: 3,
        rpms: 31_000,
        names: 8_000,
        errataPerRepository: 5_000,
        consumers: 2_000,
        profiles: 200,
        installed: 1_050,
        update: 500
    )
    static let large = WorkloadShape(
        repositories: 5,
        rpms: 60_000,
        names: 14_000,
        errataPerRepository: 12_000,
        consumers: 10_000,
        profiles: 1_000,
        installed: 1_500,
        update: 500
    )
    static let smoke = WorkloadShape(
        repositories: 2,
        rpms: 800,
        names: 200,
        errataPerRepository: 120,
        consumers: 40,
        profiles: 8,
        installed: 60,
        update: 20
    )
}

/// A seeded generator of el-style repositories, errata, profiles and consumers.
struct WorkloadGenerator {
    private struct Build {
        var epoch: Int
        var version: String
        var release: String
    }

    private struct Package {
        var name: Int
        var builds: [Build]  // oldest first
    }

    private var random: SeededRandomNumberGenerator
    private let shape: WorkloadShape
    private var names: [String] = []
    private var arches: [[String]] = []
    private var nextUnit: UInt64 = 0
    /// Profile entries shared by every profile that lists the same package, as a fleet's would be.
    private var entryPool: [String: JSONValue] = [:]

    init(shape: WorkloadShape, seed: UInt64 = 2_024) {
        self.shape = shape
        random = SeededRandomNumberGenerator(seed: seed)
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &random) < probability
    }

    private mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    /// A deterministic UUID-shaped unit id.
    private mutating func unitID() -> UnitID {
        nextUnit += 1
        let a = random.next()
        let hex = String(a, radix: 16).leftPadded(to: 16) + String(nextUnit, radix: 16).leftPadded(to: 12)
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return UnitID(parts.joined(separator: "-"))
    }

    private mutating func makeNames() {
        let prefixes = ["", "", "", "lib", "python3-", "perl-", "golang-", "rubygem-", "nodejs-", "texlive-", "java-"]
        let syllables = [
            "ab", "ar", "ba", "bo", "cr", "da", "el", "fa", "gi", "ha", "io", "ka", "li", "mo", "na", "or",
            "pa", "qu", "ra", "se", "ti", "ul", "ve", "wa", "xi", "yo", "za", "ss", "tt", "nd",
        ]
        let suffixes = ["", "", "", "", "-devel", "-libs", "-common", "-doc", "-tools", "-utils"]
        var seen: Set<String> = []
        for kernel in ["kernel", "kernel-core", "kernel-modules", "kernel-devel"] {
            names.append(kernel)
            arches.append(["x86_64"])
            seen.insert(kernel)
        }
        while names.count < shape.names {
            var stem = ""
            for _ in 0..<int(2...4) { stem += syllables[int(0...(syllables.count - 1))] }
            var name = prefixes[int(0...(prefixes.count - 1))] + stem + suffixes[int(0...(suffixes.count - 1))]
            if seen.contains(name) { name += String(names.count) }
            seen.insert(name)
            names.append(name)
            let roll = Double.random(in: 0..<1, using: &random)
            arches.append(roll < 0.25 ? ["noarch"] : roll < 0.35 ? ["x86_64", "i686"] : ["x86_64"])
        }
    }

    /// A chain of builds of one name in one el-style distribution: release bumps, z-streams, version bumps,
    /// now and then an epoch bump, a `~rc` pre-release or a `^git` snapshot.
    private mutating func chain(name: Int, dist: Int, count: Int) -> [Build] {
        var epoch = chance(0.05) ? 1 : 0
        var major = 1 + name % 17
        var minor = dist * 2 + int(0...3)
        var patch = int(0...20)
        var release = int(1...30)
        var zstream = 0
        var builds: [Build] = []
        func releaseText() -> String { zstream > 0 ? "\(release).el\(dist)_\(zstream)" : "\(release).el\(dist)" }
        builds.append(Build(epoch: epoch, version: "\(major).\(minor).\(patch)", release: releaseText()))
        while builds.count < count {
            let roll = Double.random(in: 0..<1, using: &random)
            if roll < 0.62 {
                release += 1
            } else if roll < 0.75 {
                zstream += 1
            } else if roll < 0.9 {
                patch += 1
                release = 1
                zstream = 0
            } else if roll < 0.93 {
                epoch += 1
            } else if roll < 0.96 {
                builds.append(
                    Build(epoch: epoch, version: "\(major).\(minor).\(patch + 1)~rc1", release: "1.el\(dist)")
                )
                continue
            } else if roll < 0.98 {
                builds.append(
                    Build(
                        epoch: epoch,
                        version: "\(major).\(minor).\(patch)^git\(20_200_101 + int(0...2000))",
                        release: "1.el\(dist)"
                    )
                )
                continue
            } else {
                minor += 1
                patch = 0
                release = 1
                zstream = 0
                if chance(0.2) { major += 1 }
            }
            builds.append(Build(epoch: epoch, version: "\(major).\(minor).\(patch)", release: releaseText()))
        }
        return builds
    }

    private mutating func rpm(_ name: Int, _ build: Build, _ arch: String) -> ContentUnit {
        let nevra = NEVRA(
            name: names[name],
            epoch: build.epoch,
            version: build.version,
            release: build.release,
            arch: arch
        )
        return RPMPackage(
            nevra: nevra,
            checksum: String(random.next(), radix: 16) + String(random.next(), radix: 16),
            metadata: ["filename": .string("\(nevra.name)-\(nevra.version)-\(nevra.release).\(nevra.arch).rpm")]
        )
        .unit(id: unitID())
    }

    private mutating func entry(_ name: Int, _ build: Build, _ arch: String) -> JSONValue {
        let key = "\(name)|\(build.epoch)|\(build.version)|\(build.release)|\(arch)"
        if let shared = entryPool[key] { return shared }
        let value: JSONValue = [
            "name": .string(names[name]), "epoch": .int(build.epoch), "version": .string(build.version),
            "release": .string(build.release), "arch": .string(arch), "vendor": "PulpKit Bench",
        ]
        entryPool[key] = value
        return value
    }

    mutating func generate() throws -> ApplicabilityWorkload {
        makeNames()
        let dists = [8, 9, 7, 10, 6]
        var repositoryPackages: [[Package]] = []
        var repositories: [ApplicabilityWorkload.RepositoryContent] = []
        let perRepository = shape.rpms / shape.repositories
        for index in 0..<shape.repositories {
            let dist = dists[index % dists.count]
            var packages: [Package] = []
            var units: [ContentUnit] = []
            var order = Array(names.indices)
            order.shuffle(using: &random)
            // The kernels are in every repository.
            order.removeAll { $0 < 4 }
            order.insert(contentsOf: 0..<4, at: 0)
            for name in order where units.count < perRepository {
                let roll = Double.random(in: 0..<1, using: &random)
                let count = roll < 0.25 ? 1 : roll < 0.55 ? 2 : roll < 0.8 ? 3 : roll < 0.92 ? 4 : 5
                let builds = chain(name: name, dist: dist, count: name < 4 ? 8 : count)
                packages.append(Package(name: name, builds: builds))
                for build in builds { for arch in arches[name] { units.append(rpm(name, build, arch)) } }
            }
            // Errata: 1–20 packages, mostly the newest builds, a few naming builds absent from the repository.
            for number in 0..<shape.errataPerRepository {
                var listed: [NEVRA] = []
                var size = 1
                while size < 20, chance(0.62) { size += 1 }
                while listed.count < size {
                    let package = packages[int(0...(packages.count - 1))]
                    let roll = Double.random(in: 0..<1, using: &random)
                    var build = package.builds.last!
                    if roll < 0.15, package.builds.count > 1 {
                        build = package.builds[int(0...(package.builds.count - 2))]
                    } else if roll > 0.95 {
                        build.release = "999." + build.release
                    }
                    for arch in arches[package.name] {
                        listed.append(
                            NEVRA(
                                name: names[package.name],
                                epoch: build.epoch,
                                version: build.version,
                                release: build.release,
                                arch: arch
                            )
                        )
                    }
                }
                let erratum = Erratum(
                    id: "RHSA-\(2015 + index):\(String(number).leftPadded(to: 5, with: "0"))",
                    title: "Update for \(listed[0].name)",
                    type: ["security", "bugfix", "enhancement"][number % 3],
                    severity: number % 3 == 0 ? "Important" : nil,
                    issued: "20\(15 + index)-01-01 00:00:00",
                    pkglist: [.init(name: "el\(dist)", short: "el\(dist)", packages: listed)]
                )
                units.append(erratum.unit(id: unitID()))
            }
            repositoryPackages.append(packages)
            repositories.append(.init(id: RepositoryID("el\(dist)-\(index)"), units: units))
        }

        // Profiles: sitting on older builds of their repositories' packages, some kernels twice, some local-only.
        let calculator = RPMApplicabilityCalculator()
        var profiles: [(name: String, profile: JSONValue)] = []
        var homes: [[Int]] = []
        for number in 0..<shape.profiles {
            let primary = int(0...(shape.repositories - 1))
            var home = [primary]
            let extra = chance(0.5) ? 0 : chance(0.7) ? 1 : 2
            while home.count < min(1 + extra, shape.repositories) {
                let other = int(0...(shape.repositories - 1))
                if !home.contains(other) { home.append(other) }
            }
            homes.append(home)
            let target = shape.installed * int(90...110) / 100
            var entries: [JSONValue] = []
            var installed: Set<Int> = []
            for kernel in 0..<2 {
                let builds = repositoryPackages[primary][kernel].builds
                entries.append(entry(kernel, builds[int(0...(builds.count - 2))], "x86_64"))
                entries.append(entry(kernel, builds[int(0...(builds.count - 2))], "x86_64"))
                installed.insert(kernel)
            }
            while entries.count < target {
                if chance(0.04) {
                    entries.append([
                        "name": .string("local-tool-\(number)-\(entries.count)"), "epoch": 0, "version": "1.0",
                        "release": "1", "arch": "x86_64", "vendor": nil,
                    ])
                    continue
                }
                let repository = home[int(0...(home.count - 1))]
                let package = repositoryPackages[repository][int(0...(repositoryPackages[repository].count - 1))]
                guard installed.insert(package.name).inserted else { continue }
                let roll = Double.random(in: 0..<1, using: &random)
                var build: Build
                if roll < 0.55, package.builds.count > 1 {
                    build = package.builds[int(0...(package.builds.count - 2))]
                } else if roll < 0.8 {
                    build = package.builds.last!
                } else {
                    build = package.builds[0]
                    build.release = "0." + build.release
                }
                let packageArches = arches[package.name]
                entries.append(entry(package.name, build, packageArches[0]))
                if packageArches.count > 1, chance(0.3) { entries.append(entry(package.name, build, packageArches[1])) }
            }
            profiles.append(
                ("profile-\(number)", try calculator.normalize(profile: .array(entries), contentType: "rpm"))
            )
        }

        // Consumers: Zipf-weighted profiles, bound to their profile's repositories.
        let weights = (0..<shape.profiles).map { 1 / Double($0 + 1) }
        let total = weights.reduce(0, +)
        var cumulative: [Double] = []
        var sum = 0.0
        for weight in weights {
            sum += weight / total
            cumulative.append(sum)
        }
        var consumers: [ApplicabilityWorkload.ConsumerSpec] = []
        for number in 0..<shape.consumers {
            let draw = Double.random(in: 0..<1, using: &random)
            let profile = min(cumulative.firstIndex { $0 > draw } ?? shape.profiles - 1, shape.profiles - 1)
            consumers.append(
                .init(
                    id: ConsumerID("consumer-\(String(number).leftPadded(to: 5, with: "0"))"),
                    profile: profile,
                    repositories: homes[profile].map { repositories[$0].id }
                )
            )
        }

        // The update: newer builds of packages of the first repository.
        var update: [ContentUnit] = []
        let dist = dists[0]
        for package in repositoryPackages[0].shuffled(using: &random) where update.count < shape.update {
            var build = package.builds.last!
            build.release = "1000." + build.release
            _ = dist
            update.append(rpm(package.name, build, arches[package.name][0]))
        }
        return ApplicabilityWorkload(
            repositories: repositories,
            profiles: profiles,
            consumers: consumers,
            update: .init(id: repositories[0].id, units: update)
        )
    }
}

extension String {
    fileprivate func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}

// MARK: - The directory format

extension ApplicabilityWorkload {
    /// Reads `repositories.json`, `profiles.json` and `consumers.json` from `directory`.
    static func load(from directory: URL) throws -> ApplicabilityWorkload {
        func read(_ name: String) throws -> JSONValue {
            try JSONValue(parsing: try Data(contentsOf: directory.appendingPathComponent(name)))
        }
        func fail(_ message: String) -> PulpError { PulpError.invalid("workload", message) }
        let calculator = RPMApplicabilityCalculator()
        var repositories: [RepositoryContent] = []
        for repository in try read("repositories.json").arrayValue ?? [] {
            guard let id = repository["id"]?.stringValue else { throw fail("a repository has no string 'id'") }
            var units: [ContentUnit] = []
            for unit in repository["units"]?.arrayValue ?? [] {
                guard let unitID = unit["id"]?.stringValue, let type = unit["type_id"]?.stringValue,
                    let key = unit["unit_key"]?.objectValue
                else { throw fail("a unit of \(id) lacks 'id', 'type_id' or 'unit_key'") }
                units.append(
                    ContentUnit(
                        id: UnitID(unitID),
                        typeID: type,
                        unitKey: key,
                        metadata: unit["metadata"]?.objectValue ?? [:]
                    )
                )
            }
            repositories.append(RepositoryContent(id: RepositoryID(id), units: units))
        }
        var profiles: [(name: String, profile: JSONValue)] = []
        var profileIndex: [String: Int] = [:]
        // Identical entries share storage, as the generator's do.
        var pool: [JSONValue: JSONValue] = [:]
        guard case .object(let named) = try read("profiles.json") else { throw fail("profiles.json is not an object") }
        for (name, profile) in named.sorted(by: { $0.key < $1.key }) {
            let shared = JSONValue.array(
                (profile.arrayValue ?? []).map { entry in
                    if let existing = pool[entry] { return existing }
                    pool[entry] = entry
                    return entry
                }
            )
            profileIndex[name] = profiles.count
            profiles.append((name, try calculator.normalize(profile: shared, contentType: "rpm")))
        }
        var consumers: [ConsumerSpec] = []
        for consumer in try read("consumers.json").arrayValue ?? [] {
            guard let id = consumer["id"]?.stringValue, let profileName = consumer["profiles"]?["rpm"]?.stringValue,
                let profile = profileIndex[profileName]
            else { throw fail("a consumer lacks 'id' or a known 'profiles.rpm'") }
            let bindings = (consumer["bindings"]?.arrayValue ?? []).compactMap(\.stringValue).map(
                RepositoryID.init(rawValue:)
            )
            consumers.append(ConsumerSpec(id: ConsumerID(id), profile: profile, repositories: bindings))
        }
        return ApplicabilityWorkload(repositories: repositories, profiles: profiles, consumers: consumers, update: nil)
    }

    /// Writes the workload to `directory` in the format ``load(from:)`` reads, with the update's units in
    /// their repository: the state the benchmark queries, so `--output` of both runs can be compared.
    func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var repositories = self.repositories
        if let update, let index = repositories.firstIndex(where: { $0.id == update.id }) {
            repositories[index].units += update.units
        }
        let repositoryJSON = JSONValue.array(
            repositories.map { repository in
                [
                    "id": .string(repository.id.rawValue),
                    "units": .array(
                        repository.units.map { unit in
                            [
                                "id": .string(unit.id.rawValue), "type_id": .string(unit.typeID),
                                "unit_key": .object(unit.unitKey), "metadata": .object(unit.metadata),
                            ]
                        }
                    ),
                ]
            }
        )
        let profileJSON = JSONValue.object(Dictionary(uniqueKeysWithValues: profiles.map { ($0.name, $0.profile) }))
        let consumerJSON = JSONValue.array(
            consumers.map { consumer in
                [
                    "id": .string(consumer.id.rawValue),
                    "profiles": ["rpm": .string(profiles[consumer.profile].name)],
                    "bindings": .array(consumer.repositories.map { .string($0.rawValue) }),
                ]
            }
        )
        for (name, value) in [
            ("repositories.json", repositoryJSON), ("profiles.json", profileJSON), ("consumers.json", consumerJSON),
        ] {
            try Data(value.encoded().utf8).write(to: directory.appendingPathComponent(name))
        }
    }
}
