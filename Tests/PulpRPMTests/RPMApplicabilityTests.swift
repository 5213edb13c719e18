import Foundation
import PulpKit
import PulpKitTesting
import PulpRPM
import Testing

/// An `rpm` unit with the id `rpm:<nevra>`, so expectations read as package names.
func rpmUnit(_ nevra: String) throws -> ContentUnit {
    RPMPackage(nevra: try NEVRA(parsing: nevra), checksum: String(nevra.hashValue, radix: 16))
        .unit(id: UnitID("rpm:\(nevra)"))
}

/// An `erratum` unit with the id `erratum:<id>`.
func erratumUnit(_ id: String, _ packages: [String]) throws -> ContentUnit {
    Erratum(id: id, title: id, pkglist: [.init(name: "el9", packages: try packages.map { try NEVRA(parsing: $0) })])
        .unit(id: UnitID("erratum:\(id)"))
}

/// A profile entry for `name-[epoch:]version-release.arch`.
func installed(_ nevra: String, vendor: String? = "Red Hat, Inc.") throws -> JSONValue {
    let parsed = try NEVRA(parsing: nevra)
    return [
        "name": .string(parsed.name), "epoch": .int(parsed.epoch), "version": .string(parsed.version),
        "release": .string(parsed.release), "arch": .string(parsed.arch),
        "vendor": vendor.map(JSONValue.string) ?? .null,
    ]
}

/// What the calculator finds applicable in a repository of `units` for a profile of `packages`.
func applicable(_ packages: [String], in units: [ContentUnit]) throws -> [String: [String]] {
    let calculator = RPMApplicabilityCalculator()
    let profile = try calculator.normalize(profile: .array(try packages.map { try installed($0) }), contentType: "rpm")
    let index = calculator.makeIndex(units: units.sorted { $0.id < $1.id })
    let prepared = try calculator.prepare(profiles: ["rpm": profile])
    return calculator.applicableUnits(profiles: prepared, repository: index).mapValues { ids in
        ids.map { String($0.rawValue.drop { $0 != ":" }.dropFirst()) }
    }
}

struct RPMApplicabilityCalculatorTests {
    @Test func everyNewerBuildOfAnInstalledNameAndArchApplies() throws {
        let repository = try [
            "bash-4.4.19-7.el8.x86_64", "bash-4.4.19-8.el8.x86_64", "bash-4.4.20-1.el8.x86_64",
            "bash-4.4.19-6.el8.x86_64", "zsh-5.5.1-6.el8.x86_64",
        ].map(rpmUnit)
        let result = try applicable(["bash-4.4.19-7.el8.x86_64"], in: repository)
        #expect(result["rpm"] == ["bash-4.4.19-8.el8.x86_64", "bash-4.4.20-1.el8.x86_64"])
        #expect(result["erratum"] == [])
    }

    @Test func theNewestInstalledVersionDecides() throws {
        // Two kernels installed: only builds newer than the newer one apply, whatever the profile order.
        let repository = try [
            "kernel-4.18.0-305.el8.x86_64", "kernel-4.18.0-348.el8.x86_64", "kernel-4.18.0-372.el8.x86_64",
        ].map(rpmUnit)
        for order in [
            ["kernel-4.18.0-348.el8.x86_64", "kernel-4.18.0-240.el8.x86_64"],
            ["kernel-4.18.0-240.el8.x86_64", "kernel-4.18.0-348.el8.x86_64"],
        ] {
            #expect(try applicable(order, in: repository)["rpm"] == ["kernel-4.18.0-372.el8.x86_64"])
        }
    }

    @Test func architecturesMustBeIdentical() throws {
        let repository = try [
            "glibc-2.28-200.el8.x86_64", "glibc-2.28-200.el8.i686", "tzdata-2024a-1.el8.noarch",
            "openssl-libs-1.1.1k-12.el8.x86_64",
        ].map(rpmUnit)
        let result = try applicable(
            ["glibc-2.28-100.el8.i686", "tzdata-2023c-1.el8.noarch", "openssl-libs-1.1.1k-5.el8.i686"],
            in: repository
        )
        // Multilib: the i686 build applies to the installed i686 only; no noarch/x86_64 crossover.
        #expect(result["rpm"] == ["glibc-2.28-200.el8.i686", "tzdata-2024a-1.el8.noarch"])
    }

    @Test func packagesNotInstalledNeverApply() throws {
        let repository = try ["httpd-2.4.37-65.el8.x86_64", "nginx-1.20.1-1.el8.x86_64"].map(rpmUnit)
        #expect(try applicable(["bash-4.4.19-7.el8.x86_64"], in: repository)["rpm"] == [])
        #expect(try applicable([], in: repository)["rpm"] == [])
    }

    @Test func equalOrOlderBuildsDoNotApply() throws {
        let repository = try ["vim-8.0.1763-15.el8.x86_64", "vim-8.0.1763-13.el8.x86_64", "vim-1:7.4-1.el8.x86_64"]
            .map(rpmUnit)
        // 1:7.4 is newer than any version without an epoch.
        #expect(try applicable(["vim-8.0.1763-15.el8.x86_64"], in: repository)["rpm"] == ["vim-1:7.4-1.el8.x86_64"])
        #expect(try applicable(["vim-8.0.1763-15.el8.x86_64"], in: Array(repository.prefix(2)))["rpm"] == [])
        // An epoch outweighs any version: installed 1:7.4 is newer than 8.0 without an epoch.
        #expect(try applicable(["vim-1:7.3-1.el8.x86_64"], in: repository)["rpm"] == ["vim-1:7.4-1.el8.x86_64"])
        // Equal by rpm (leading zeros) is not newer.
        #expect(try applicable(["vim-8.0.01763-15.el8.x86_64"], in: Array(repository.prefix(2)))["rpm"] == [])
    }

    @Test func tildeAndCaretOrderPreReleasesAndSnapshots() throws {
        let repository = try ["tool-2.0~rc1-1.x86_64", "tool-2.0-1.x86_64", "tool-2.0^git5-1.x86_64"].map(rpmUnit)
        #expect(
            try applicable(["tool-1.9-1.x86_64"], in: repository)["rpm"] == [
                "tool-2.0-1.x86_64", "tool-2.0^git5-1.x86_64", "tool-2.0~rc1-1.x86_64",
            ]
        )
        #expect(
            try applicable(["tool-2.0~rc1-1.x86_64"], in: repository)["rpm"] == [
                "tool-2.0-1.x86_64", "tool-2.0^git5-1.x86_64",
            ]
        )
        #expect(try applicable(["tool-2.0-1.x86_64"], in: repository)["rpm"] == ["tool-2.0^git5-1.x86_64"])
        #expect(try applicable(["tool-2.0.1-1.x86_64"], in: repository)["rpm"] == [])
    }

    @Test func anErratumAppliesWhenOneOfItsPackagesIsAnApplicablePackageOfTheRepository() throws {
        let repository =
            try [
                "bash-4.4.19-8.el8.x86_64", "bash-4.4.19-7.el8.x86_64", "zsh-5.5.1-10.el8.x86_64",
            ].map(rpmUnit) + [
                try erratumUnit("RHBA-1", ["bash-4.4.19-8.el8.x86_64", "bash-4.4.19-8.el8.i686"]),
                // Names a build absent from the repository: never counts, even though it would be newer.
                try erratumUnit("RHBA-2", ["bash-4.4.19-9.el8.x86_64"]),
                try erratumUnit("RHBA-3", ["zsh-5.5.1-10.el8.x86_64"]),
                // An older build that is in the repository: not applicable.
                try erratumUnit("RHBA-4", ["bash-4.4.19-7.el8.x86_64"]),
                try erratumUnit("RHBA-5", []),
                // Same name and version, other epoch: NEVRAs differ.
                try erratumUnit("RHBA-6", ["bash-1:4.4.19-8.el8.x86_64"]),
            ]
        let result = try applicable(["bash-4.4.19-7.el8.x86_64"], in: repository)
        #expect(result["rpm"] == ["bash-4.4.19-8.el8.x86_64"])
        #expect(result["erratum"] == ["RHBA-1"])
        let both = try applicable(["bash-4.4.19-1.el8.x86_64", "zsh-5.5.1-1.el8.x86_64"], in: repository)
        #expect(both["erratum"] == ["RHBA-1", "RHBA-3", "RHBA-4"])
        #expect(try applicable(["bash-4.4.19-8.el8.x86_64"], in: repository)["erratum"] == [])
    }

    @Test func erratumEpochsDefaultToZero() throws {
        var unit = try erratumUnit("RHSA-1", [])
        unit.metadata["pkglist"] = [
            [
                "name": "el8",
                "packages": [
                    ["name": "bash", "version": "4.4.19", "release": "8.el8", "arch": "x86_64"],
                    ["name": "broken", "version": "1"],
                ],
            ]
        ]
        let result = try applicable(["bash-4.4.19-7.el8.x86_64"], in: [try rpmUnit("bash-4.4.19-8.el8.x86_64"), unit])
        #expect(result["erratum"] == ["RHSA-1"])
    }

    @Test func unreadableRepositoryUnitsAreLeftOut() throws {
        let broken = ContentUnit(id: "rpm:broken", typeID: "rpm", unitKey: ["name": "bash", "version": "9"])
        let other = ContentUnit(id: "rpm:other", typeID: "srpm", unitKey: ["name": "bash"])
        let result = try applicable(["bash-4.4.19-7.el8.x86_64"], in: [broken, other, try rpmUnit("bash-5-1.x86_64")])
        #expect(result["rpm"] == ["bash-5-1.x86_64"])
        let index = RPMRepositoryIndex(units: [broken, other, try rpmUnit("bash-5-1.x86_64")])
        #expect(index.counts.packages == 1 && index.counts.errata == 0)
    }

    @Test func normalisingSortsSoIdenticalSetsHashAlike() throws {
        let calculator = RPMApplicabilityCalculator()
        let entries = try [
            "zsh-5.5.1-6.el8.x86_64", "bash-4.4.19-7.el8.x86_64", "bash-4.4.19-7.el8.i686", "bash-1:1-1.x86_64",
        ]
        .map { try installed($0) }
        var generator = SeededRandomNumberGenerator(seed: 11)
        let reference = try calculator.normalize(profile: .array(entries), contentType: "rpm")
        #expect(
            reference.arrayValue?.compactMap { $0["name"]?.stringValue } == ["bash", "bash", "bash", "zsh"]
        )
        // Sorted by name, then epoch (0 before 1), then version, release, arch.
        #expect(reference.arrayValue?.map { $0["arch"]?.stringValue ?? "" } == ["i686", "x86_64", "x86_64", "x86_64"])
        #expect(reference.arrayValue?[2]["epoch"] == 1)
        for _ in 0..<20 {
            let shuffled = try calculator.normalize(
                profile: .array(entries.shuffled(using: &generator)),
                contentType: "rpm"
            )
            #expect(shuffled == reference)
            #expect(ProfileHash.hash(of: shuffled) == ProfileHash.hash(of: reference))
        }
        #expect(try calculator.normalize(profile: reference, contentType: "rpm") == reference, "idempotent")
    }

    @Test func normalisingBreaksTiesWithoutLookingAtTheUploadOrder() throws {
        let calculator = RPMApplicabilityCalculator()
        var a = try installed("bash-1-1.x86_64")
        var b = a
        a = .object(a.objectValue!.merging(["installtime": 1]) { $1 })
        b = .object(b.objectValue!.merging(["installtime": 2]) { $1 })
        #expect(
            try calculator.normalize(profile: [a, b], contentType: "rpm")
                == (try calculator.normalize(profile: [b, a], contentType: "rpm"))
        )
        // Python 2's order across types: null < numbers < strings.
        let mixed: JSONValue = [
            ["name": "x", "epoch": "0", "version": "1", "release": "1", "arch": "noarch"],
            ["name": "x", "epoch": nil, "version": "1", "release": "1", "arch": "noarch"],
            ["name": "x", "epoch": 0, "version": "1", "release": "1", "arch": "noarch"],
        ]
        let sorted = try calculator.normalize(profile: mixed, contentType: "rpm")
        #expect(sorted.arrayValue?.map { $0["epoch"] ?? .null } == [.null, 0, "0"])
    }

    static let badProfiles: [(JSONValue, String)] = [
        (["name": "bash"], "list"),
        (["bash-1-1.x86_64"], "entry 0 must be an object"),
        ([["version": "1", "release": "1", "arch": "x86_64"]], "'name'"),
        ([["name": "", "version": "1", "release": "1", "arch": "x86_64"]], "'name'"),
        ([["name": "bash", "release": "1", "arch": "x86_64"]], "'version'"),
        ([["name": "bash", "version": "1", "release": 1, "arch": "x86_64"]], "'release'"),
        ([["name": "bash", "version": "1", "release": "1"]], "'arch'"),
        ([["name": "bash", "epoch": -1, "version": "1", "release": "1", "arch": "x86_64"]], "'epoch'"),
        ([["name": "bash", "epoch": "one", "version": "1", "release": "1", "arch": "x86_64"]], "'epoch'"),
        ([["name": "bash", "epoch": 1.5, "version": "1", "release": "1", "arch": "x86_64"]], "'epoch'"),
        ([["name": "bash", "version": "1", "release": "1", "arch": "x86_64", "vendor": 3]], "'vendor'"),
    ]

    @Test(arguments: badProfiles)
    func refusesMalformedProfilesNamingTheEntry(profile: JSONValue, fragment: String) {
        #expect {
            try RPMApplicabilityCalculator().normalize(profile: profile, contentType: "rpm")
        } throws: { error in
            guard let error = error as? PulpError else { return false }
            return error.httpStatus == 400 && error.propertyNames == ["profile"] && error.message.contains(fragment)
        }
    }

    @Test func packagesAndErrataRoundTripThroughUnits() throws {
        let package = RPMPackage(
            nevra: try NEVRA(parsing: "bash-1:4.4.19-7.el8.x86_64"),
            checksum: "ab",
            metadata: ["vendor": "X"]
        )
        let unit = package.unit()
        #expect(unit.unitKey["epoch"] == "1")
        #expect(try RPMPackage(unit: unit) == package)
        let erratum = Erratum(
            id: "RHSA-2024:0001",
            title: "Important: bash",
            type: "security",
            severity: "Important",
            issued: "2024-01-02 00:00:00",
            pkglist: [.init(name: "el8", short: "el8", packages: [package.nevra])]
        )
        #expect(try Erratum(unit: erratum.unit()) == erratum)
        #expect(erratum.packages == [package.nevra])
        #expect(throws: PulpError.self) { try RPMPackage(unit: erratum.unit()) }
        #expect(throws: PulpError.self) { try Erratum(unit: unit) }
        var broken = erratum.unit()
        broken.metadata["pkglist"] = [["packages": [["name": "bash"]]]]
        #expect { try Erratum(unit: broken) } throws: { ($0 as? PulpError)?.propertyNames == ["pkglist"] }
        var noChecksum = unit
        noChecksum.unitKey["checksum"] = nil
        #expect { try RPMPackage(unit: noChecksum) } throws: { ($0 as? PulpError)?.propertyNames == ["unit_key"] }
    }
}

/// Full EVR strings (`[epoch:]version[-release]`) and the expected order; each is also checked reversed.
let evrPairs: [(String, String, Int)] = [
    ("0:1.0-1", "1.0-1", 0), ("1:1.0-1", "1.0-1", 1), ("1:1.0-1", "2:0.1-1", -1), ("10:1-1", "9:2-1", 1),
    ("2:1-1", "10:1-1", -1), ("00:1-1", "0:1-1", 0), ("007:1-1", "7:1-1", 0), ("1.0-1", "1.0-2", -1),
    ("1.0", "1.0-0", -1), ("1.0", "1.0-", 0), ("1.0-1.el7", "1.0-1.el7_9", -1), ("1.0-1.el8", "1.0-1.el7", 1),
    ("1.0~rc1-1", "1.0-1", -1), ("1.0^git1-1", "1.0-1", 1), ("1.0^git1-1", "1.0.1-1", -1), ("1.0-1~1", "1.0-1", -1),
    ("1:1.0~rc1-1", "0:9.0-1", 1), ("4.18.0-305.el8", "4.18.0-1160.el7", -1), ("5.0-a", "5.0-1", -1),
    ("3.10.0-1160.el7", "3.10.0-1160.2.1.el7", -1), ("2.02-0.87.el7", "2.02-0.86.el7", 1), ("1.01-1", "1.1-1", 0),
]

struct EVRStringTests {
    /// Reads `[epoch:]version[-release]`.
    static func evr(_ text: String) throws -> EVR {
        var rest = Substring(text)
        var epoch: String?
        if let colon = rest.firstIndex(of: ":") {
            epoch = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        let dash = rest.lastIndex(of: "-")
        let version = dash.map { String(rest[..<$0]) } ?? String(rest)
        let release = dash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        return try EVR(epoch: epoch, version: version, release: release)
    }

    @Test(arguments: evrPairs)
    func comparesWholeEVRs(a: String, b: String, expected: Int) throws {
        #expect(EVR.compare(try Self.evr(a), try Self.evr(b)) == expected)
        #expect(EVR.compare(try Self.evr(b), try Self.evr(a)) == -expected)
    }

    @Test func nevraTextCarriesTheEpoch() throws {
        let nevra = try NEVRA(parsing: "kernel-core-1:4.18.0-305.el8.x86_64")
        #expect(nevra.name == "kernel-core" && nevra.epoch == 1 && nevra.arch == "x86_64")
        #expect(try NEVRA(parsing: "kernel-core-4.18.0-305.el8.x86_64").epoch == 0)
    }
}

struct RPMSortedListsTests {
    @Test func listsComeOutSortedWhateverTheUnitIDs() throws {
        var generator = SeededRandomNumberGenerator(seed: 5)
        var units: [ContentUnit] = []
        var installedPackages: [String] = []
        for index in 0..<200 {
            let name = "pkg\(index % 40)"
            let nevra = "\(name)-1.\(index)-1.x86_64"
            units.append(
                RPMPackage(nevra: try NEVRA(parsing: nevra), checksum: "\(index)").unit(
                    id: UnitID("\(generator.next())")
                )
            )
            if index < 40 { installedPackages.append("\(name)-1.0-1.x86_64") }
        }
        for index in 0..<60 {
            let packages = try (0..<3).map { _ in
                try NEVRA(
                    parsing:
                        "pkg\(Int.random(in: 0..<40, using: &generator))-1.\(Int.random(in: 0..<200, using: &generator))-1.x86_64"
                )
            }
            units.append(
                Erratum(id: "E\(index)", pkglist: [.init(packages: packages)]).unit(id: UnitID("\(generator.next())"))
            )
        }
        let calculator = RPMApplicabilityCalculator()
        #expect(calculator.reportsSortedLists)
        let index = calculator.makeIndex(units: units.sorted { $0.id < $1.id })
        let profile = try calculator.normalize(
            profile: .array(try installedPackages.map { try installed($0) }),
            contentType: "rpm"
        )
        let result = calculator.applicableUnits(
            profiles: try calculator.prepare(profiles: ["rpm": profile]),
            repository: index
        )
        for list in result.values {
            #expect(list == Array(Set(list)).sorted())
        }
        #expect(result["rpm"]?.count == 199, "every build but pkg0-1.0 is newer than the installed 1.0")

        // The engine calls it through the protocol: the positions must be the calculator's own, not the default.
        func positions<Calculator: ApplicabilityCalculator>(
            _ calculator: Calculator,
            _ profiles: Calculator.PreparedProfiles,
            _ index: Calculator.RepositoryIndex
        ) -> [String: UnitPositions]? {
            calculator.applicablePositions(profiles: profiles, repository: index)
        }
        let reported = positions(calculator, try calculator.prepare(profiles: ["rpm": profile]), index)
        #expect(reported?.mapValues(\.ids) == result)
    }
}
