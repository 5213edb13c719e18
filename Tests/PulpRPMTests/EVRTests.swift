import PulpKit
import PulpRPM
import Testing

/// Version pairs and the expected `rpmVersionCompare(a, b)`; each pair is also checked reversed.
let versionPairs: [(String, String, Int)] = [
    // PULP2-SEMANTICS §6.6, verified against Pulp 2.
    ("1.0", "1.0.1", -1),
    ("1.0~rc1", "1.0", -1),
    ("2.0", "10.0", -1),
    ("a", "1", -1),
    ("2.el7", "2.el7_1", -1),
    ("FC5", "fc4", -1),
    ("", "0", -1),
    ("1.0a", "1.0", 1),
    ("1.01", "1.1", 0),
    ("1.0", "1_0", 0),

    // rpm's own rpmvercmp test vectors.
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1),
    ("2.0.1a", "2.0.1a", 0),
    ("2.0.1a", "2.0.1", 1),
    ("5.5p1", "5.5p1", 0),
    ("5.5p1", "5.5p2", -1),
    ("5.5p10", "5.5p10", 0),
    ("5.5p1", "5.5p10", -1),
    ("10xyz", "10.1xyz", -1),
    ("xyz10", "xyz10", 0),
    ("xyz10", "xyz10.1", -1),
    ("xyz.4", "xyz.4", 0),
    ("xyz.4", "8", -1),
    ("xyz.4", "2", -1),
    ("5.5p2", "5.6p1", -1),
    ("5.6p1", "6.5p1", -1),
    ("6.0.rc1", "6.0", 1),
    ("10b2", "10a1", 1),
    ("10a2", "10b2", -1),
    ("1.0aa", "1.0aa", 0),
    ("1.0a", "1.0aa", -1),
    ("10.0001", "10.0001", 0),
    ("10.0001", "10.1", 0),
    ("10.0001", "10.0039", -1),
    ("4.999.9", "5.0", -1),
    ("20101121", "20101121", 0),
    ("20101121", "20101122", -1),
    ("2_0", "2_0", 0),
    ("2.0", "2_0", 0),
    ("a", "a", 0),
    ("a+", "a+", 0),
    ("a+", "a_", 0),
    ("+a", "+a", 0),
    ("+a", "_a", 0),
    ("+_", "+_", 0),
    ("_+", "+_", 0),
    ("_+", "_", 0),
    ("+", "_", 0),
    ("1.0~rc1", "1.0~rc1", 0),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc1~git123", "1.0~rc1~git123", 0),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0^", "1.0^", 0),
    ("1.0^", "1.0", 1),
    ("1.0^git1", "1.0^git1", 0),
    ("1.0^git1", "1.0", 1),
    ("1.0^git1", "1.0^git2", -1),
    ("1.0^git1", "1.01", -1),
    ("1.0^20160101", "1.0^20160101", 0),
    ("1.0^20160101", "1.0.1", -1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0),
    ("1.0^20160102", "1.0^20160101^git1", 1),
    ("1.0~rc1^git1", "1.0~rc1^git1", 0),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0^git1~pre", "1.0^git1~pre", 0),
    ("1.0^git1", "1.0^git1~pre", 1),
    ("1b.fc17", "1b.fc17", 0),
    ("1b.fc17", "1.fc17", -1),
    ("1g.fc17", "1g.fc17", 0),
    ("1g.fc17", "1.fc17", 1),

    // Tilde: before everything, the end of the string included.
    ("1.0~", "1.0", -1),
    ("1.0~", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~beta", 1),
    ("1.0~rc1", "1.0rc1", -1),
    ("1.0~rc1", "1.0.rc1", -1),
    ("1.0~rc1", "0.9", 1),
    ("1.0~~", "1.0~", -1),
    ("~", "", -1),
    ("~", "~~", 1),
    ("~~a", "~a", -1),
    ("a~b", "a", -1),
    ("ab~", "ab", -1),
    ("1~", "1^", -1),
    ("1.0.0~beta.1", "1.0.0~beta.2", -1),
    ("1.0.0~rc1", "1.0.0~rc1.1", -1),
    ("1.0.0~rc.1", "1.0.0", -1),
    ("1.0~rc1^git1", "1.0~rc2", -1),
    ("1.0~^", "1.0~", 1),
    ("1.0~^", "1.0", -1),
    ("2~", "1", 1),

    // Caret: after the end of the string, before everything else.
    ("1.0^git1", "1.0.1", -1),
    ("1.0^git1", "1.0a", -1),
    ("1.0^git1", "1.0~rc1", 1),
    ("1.0^", "1.0^git", -1),
    ("1.0^", "1.0.0", -1),
    ("1.0+git", "1.0^git", 1),
    ("1.0^~", "1.0^", -1),
    ("1.0^~", "1.0", 1),
    ("^", "", 1),
    ("^", "^^", -1),
    ("a^b", "a", 1),
    ("a^b", "ab", -1),
    ("a^b", "a.b", -1),
    ("1.0^git20200101", "1.0^git20191231", 1),
    ("1.0^1", "1.0^a", 1),

    // Numbers: by value, leading zeros ignored.
    ("007", "7", 0),
    ("007", "8", -1),
    ("0010", "9", 1),
    ("00", "", 1),
    ("0", "00", 0),
    ("0", "000", 0),
    ("0.0", "0", 1),
    ("0.0", "00", 1),
    ("1.0", "1.00", 0),
    ("1.0", "1.000.0", -1),
    ("1.001", "1.1", 0),
    ("1.010", "1.1", 1),
    ("1.10", "1.9", 1),
    ("1.100", "1.99", 1),
    ("0.9.9", "0.10", -1),
    ("1.2.3", "1.2.10", -1),
    ("2.2.1", "2.10", -1),
    ("1.2a3", "1.2a10", -1),
    ("10", "9", 1),
    ("0.1.rc1", "1", -1),

    // Numbers beyond 64 bits still compare by value.
    ("123456789012345678901234567890", "123456789012345678901234567891", -1),
    ("123456789012345678901234567890", "123456789012345678901234567890", 0),
    ("123456789012345678901234567890", "23456789012345678901234567890", 1),
    ("99999999999999999999", "100000000000000000000", -1),
    ("000000000000000000000000000001", "1", 0),
    ("18446744073709551616", "18446744073709551615", 1),
    ("9223372036854775808", "9223372036854775807", 1),
    ("1.18446744073709551616", "1.18446744073709551615", 1),
    ("1.000000000000000000000000000002", "1.2", 0),
    ("1.999999999999999999999999999999", "2", -1),

    // Letters against digits, case-sensitive ASCII order.
    ("1.a", "1.1", -1),
    ("1.0a", "1.01", -1),
    ("1a", "1", 1),
    ("r1", "1", -1),
    ("a", "", 1),
    ("A", "a", -1),
    ("Z", "a", -1),
    ("B", "a", -1),
    ("abc", "abd", -1),
    ("abc", "ab", 1),
    ("1.2.a", "1.2.B", 1),
    ("1.2a3", "1.2b1", -1),
    ("fc4", "fc5", -1),
    ("1.0rc1", "1.0", 1),
    ("1.0rc1", "1.0.1", -1),
    ("1.0.rc1", "1.0.1", -1),
    ("1.0_rc1", "1.0", 1),
    ("1.0", "1.0+git", -1),
    ("el8", "el8.0", -1),
    ("git20200101", "git20191231", 1),

    // Separators: any run of them is one boundary; only tokens count.
    ("..", ".", 0),
    ("", ".", 0),
    ("", "", 0),
    ("1..0", "1.0", 0),
    ("1.0", "1.0.", 0),
    ("1.0", ".1.0", 0),
    ("1a", "1.a", 0),
    ("a1", "a.1", 0),
    ("1.0a", "1.0.a", 0),
    ("1-0", "1.0", 0),
    ("1+0", "1:0", 0),
    ("1 0", "1.0", 0),
    ("1/0", "1.0", 0),
    ("1.0-1", "1.0.1", 0),
    ("ab", "a.b", 1),
    ("a.b", "a_b", 0),

    // Real releases and versions.
    ("2.el7_9", "2.el7_10", -1),
    ("1.el8", "1.el9", -1),
    ("1.el7", "1.fc30", -1),
    ("1.el8_4.1", "1.el8_4", 1),
    ("1160.el7", "1160.2.1.el7", -1),
    ("1160.11.1.el7", "1160.2.1.el7", 1),
    ("2.6.32-754.el6", "2.6.32-754.2.1.el6", -1),
    ("4.18.0-305.el8", "4.18.0-305.3.1.el8", -1),
    ("34.el7", "34.el7_8.1", -1),
    ("1.fc35", "2.fc34", -1),
    ("0.1.beta1.fc35", "1.fc35", -1),
    ("3.10.0", "3.10.0", 0),
    ("4.2.46", "4.2.47", -1),
    ("1.1.1k", "1.1.1l", -1),
    ("1.0.2k", "1.1.1", -1),

    // Non-ASCII text is a separator; equality is byte-wise, not Unicode canonical equivalence.
    ("1.1.α", "1.1.β", 0),
    ("1.1.αα", "1.1.α", 0),
    ("1.1.ββ", "1.1.αα", 0),
    ("1.0é", "1.0", 0),
    ("1é0", "1.0", 0),
    ("1\u{E9}", "1e\u{301}", -1),
    ("1.\u{662}", "1", 0),
    ("\u{FF11}", "1", -1),
    ("1\u{0}2", "1.2", 0),
]

/// Versions in ascending order, for the transitivity check.
let ascendingVersions: [String] = [
    "~~", "~", "~a", "", "^", "^^", "a", "a^b", "a.b", "ab", "b", "0", "1~rc1", "1~rc1^git1", "1~rc2", "1",
    "1^git1", "1^git2", "1a", "1.0~", "1.0", "1.0^", "1.0^git1~pre", "1.0^git1", "1.0.1", "1.1~beta", "1.1",
    "1.2", "1.10", "2", "10", "18446744073709551616", "123456789012345678901234567890",
]

struct RPMVersionCompareTests {
    @Test(arguments: versionPairs)
    func comparesLikeTodaysRPM(a: String, b: String, expected: Int) {
        #expect(rpmVersionCompare(a, b) == expected)
    }

    @Test(arguments: versionPairs)
    func isAntisymmetric(a: String, b: String, expected: Int) {
        #expect(rpmVersionCompare(b, a) == -expected)
    }

    @Test(arguments: versionPairs)
    func isReflexive(a: String, b: String, expected: Int) {
        #expect(rpmVersionCompare(a, a) == 0)
        #expect(rpmVersionCompare(b, b) == 0)
    }

    @Test func hasEnoughCases() {
        #expect(versionPairs.count >= 150)
    }

    @Test func ordersTheSampleTotallyAndTransitively() {
        for (i, a) in ascendingVersions.enumerated() {
            for (j, b) in ascendingVersions.enumerated() {
                let expected = i < j ? -1 : i > j ? 1 : 0
                #expect(rpmVersionCompare(a, b) == expected, "\(a) vs \(b)")
            }
        }
    }

    /// EVRs compare by order keys built once, not by scanning: the keys must agree with the scan on every pair,
    /// as versions and as releases.
    @Test(arguments: versionPairs)
    func orderKeysCompareLikeTheScan(a: String, b: String, expected: Int) {
        #expect(EVR.compare(EVR(version: a), EVR(version: b)) == expected)
        #expect(EVR.compare(EVR(version: "1", release: a), EVR(version: "1", release: b)) == expected)
        #expect((EVR(version: a, release: "x") == EVR(version: b, release: "x")) == (expected == 0))
    }

    @Test func orderKeysOrderTheSampleAsTheScanDoes() {
        let evrs = ascendingVersions.map { EVR(version: $0) }
        for (i, a) in evrs.enumerated() {
            for (j, b) in evrs.enumerated() {
                #expect(EVR.compare(a, b) == (i < j ? -1 : i > j ? 1 : 0), "\(a) vs \(b)")
            }
        }
    }

    @Test func keepsTheOrderKeyInStepWithItsParts() {
        var evr = EVR(version: "1.0", release: "1")
        evr.version = "1.10"
        #expect(evr > EVR(version: "1.9", release: "1"))
        evr.release = "~rc1"
        #expect(evr < EVR(version: "1.10", release: ""))
    }
}

struct EVRTests {
    @Test func comparesEpochsAsNumbers() {
        #expect(EVR(epoch: 10, version: "1") > EVR(epoch: 9, version: "1"))
        #expect(EVR(epoch: 2, version: "1") < EVR(epoch: 10, version: "1"))
    }

    @Test func letsTheEpochWinOverVersionAndRelease() {
        #expect(EVR(epoch: 1, version: "1.0", release: "1") > EVR(epoch: 0, version: "2.0", release: "9"))
    }

    /// Epoch text and the epoch it means.
    static let epochTexts: [(String?, Int)] = [
        (nil, 0), ("", 0), ("0", 0), ("00", 0), ("1", 1), ("010", 10), ("9", 9), ("10", 10),
        ("9223372036854775807", Int.max),
    ]

    @Test(arguments: epochTexts)
    func readsEpochText(text: String?, epoch: Int) throws {
        let evr = try EVR(epoch: text, version: "1.0", release: "1")
        #expect(evr.epoch == epoch)
    }

    @Test func treatsAMissingEpochAsZero() throws {
        #expect(try EVR(epoch: nil, version: "1.0") == EVR(epoch: 0, version: "1.0"))
        #expect(try EVR(epoch: "", version: "1.0") == EVR(version: "1.0"))
        #expect(try EVR(epoch: "10", version: "1") > EVR(epoch: "9", version: "1"))
    }

    @Test(arguments: ["x", "-1", "+1", "1.0", " 1", "1 ", "١", "9223372036854775808", "99999999999999999999999"])
    func rejectsBadEpochText(text: String) {
        #expect {
            try EVR(epoch: text, version: "1.0")
        } throws: { error in
            guard let error = error as? PulpError else { return false }
            return error.propertyNames == ["epoch"] && error.httpStatus == 400 && error.message.contains(text)
        }
    }

    @Test func comparesReleasesWhenEpochAndVersionAreEqual() {
        #expect(EVR(version: "1.0", release: "2.el7") < EVR(version: "1.0", release: "2.el7_1"))
        #expect(EVR(version: "1.0", release: "10") > EVR(version: "1.0", release: "9"))
        #expect(EVR(version: "1.0", release: "1~rc1") < EVR(version: "1.0", release: "1"))
    }

    @Test func letsTheVersionWinOverTheRelease() {
        #expect(EVR(version: "1.1", release: "1") > EVR(version: "1.0", release: "99"))
    }

    @Test func ordersAnEmptyReleaseFirst() {
        #expect(EVR(version: "1.0") < EVR(version: "1.0", release: "1"))
        #expect(EVR(version: "1.0") < EVR(version: "1.0", release: "0"))
        #expect(EVR(version: "1.0") > EVR(version: "1.0", release: "~"))
        #expect(EVR(version: "1.0") == EVR(version: "1.0", release: ""))
    }

    @Test func compareReturnsMinusOneZeroOrOne() {
        let older = EVR(epoch: 1, version: "1.0", release: "1")
        let newer = EVR(epoch: 1, version: "1.0", release: "2")
        #expect(EVR.compare(older, newer) == -1)
        #expect(EVR.compare(newer, older) == 1)
        #expect(EVR.compare(older, older) == 0)
    }

    /// The equivalent pairs of ``versionPairs``: their EVRs must be equal and hash alike.
    static let equivalentPairs = versionPairs.filter { $0.2 == 0 }.map { ($0.0, $0.1) }

    @Test(arguments: equivalentPairs)
    func makesEquivalentVersionsEqualAndHashAlike(a: String, b: String) {
        let evrA = EVR(epoch: 3, version: a, release: b)
        let evrB = EVR(epoch: 3, version: b, release: a)
        #expect(evrA == evrB)
        #expect(evrA.hashValue == evrB.hashValue)
        #expect(Set([evrA, evrB]).count == 1)
    }

    @Test func usesRPMEqualityNotTextualEquality() {
        let evrs: Set = [
            EVR(version: "1.01", release: "1"), EVR(version: "1.1", release: "1"), EVR(version: "1_1", release: "01"),
        ]
        #expect(evrs.count == 1)
        #expect(EVR(version: "1.0", release: "1") != EVR(version: "1.0", release: "1.0"))
        #expect(EVR(epoch: 1, version: "1.0") != EVR(version: "1.0"))
    }

    @Test func keepsVersionAndReleaseApartWhenHashing() {
        // Same tokens overall, split differently between version and release: not equal, and should hash apart.
        let a = EVR(version: "1.2", release: "3")
        let b = EVR(version: "1", release: "2.3")
        #expect(a != b)
        #expect(a.hashValue != b.hashValue)
    }

    @Test func sortsLikeRPM() {
        let shuffled = [
            EVR(epoch: 1, version: "0.1"), EVR(version: "1.0", release: "1"), EVR(version: "1.0~rc1", release: "1"),
            EVR(version: "1.0^git1", release: "1"), EVR(version: "1.0.1", release: "1"),
            EVR(version: "1.0", release: "2.el7"), EVR(version: "1.0", release: "2.el7_1"), EVR(version: "10.0"),
        ]
        let sorted = shuffled.sorted().map(\.description)
        #expect(
            sorted == ["1.0~rc1-1", "1.0-1", "1.0-2.el7", "1.0-2.el7_1", "1.0^git1-1", "1.0.1-1", "10.0", "1:0.1"]
        )
    }

    /// An EVR and its text.
    static let descriptions: [(EVR, String)] = [
        (EVR(version: "1.0", release: "1"), "1.0-1"),
        (EVR(epoch: 2, version: "1.0", release: "1.el7"), "2:1.0-1.el7"),
        (EVR(version: "1.0"), "1.0"),
        (EVR(epoch: 1, version: "1.0"), "1:1.0"),
    ]

    @Test(arguments: descriptions)
    func describesItselfAsEpochVersionRelease(evr: EVR, text: String) {
        #expect(evr.description == text)
    }
}

struct NEVRATests {
    /// Text and the NEVRA it parses to.
    static let parsed: [(String, NEVRA)] = [
        (
            "bash-4.2.46-34.el7.x86_64",
            NEVRA(name: "bash", version: "4.2.46", release: "34.el7", arch: "x86_64")
        ),
        (
            "python3-dnf-plugins-core-4.0.2-1.el8.noarch",
            NEVRA(name: "python3-dnf-plugins-core", version: "4.0.2", release: "1.el8", arch: "noarch")
        ),
        (
            "perl-Digest-SHA-1:5.85-4.el7.x86_64",
            NEVRA(name: "perl-Digest-SHA", epoch: 1, version: "5.85", release: "4.el7", arch: "x86_64")
        ),
        (
            "glibc-2:2.17-317.el7.i686",
            NEVRA(name: "glibc", epoch: 2, version: "2.17", release: "317.el7", arch: "i686")
        ),
        (
            "kernel-0:3.10.0-1160.el7.x86_64",
            NEVRA(name: "kernel", version: "3.10.0", release: "1160.el7", arch: "x86_64")
        ),
        (
            "foo-bar-010:1.0^git1-0.1.fc35.src",
            NEVRA(name: "foo-bar", epoch: 10, version: "1.0^git1", release: "0.1.fc35", arch: "src")
        ),
        (
            "gcc-c++-8.5.0-4.el8_5.x86_64",
            NEVRA(name: "gcc-c++", version: "8.5.0", release: "4.el8_5", arch: "x86_64")
        ),
        (
            "a-1-1.b",
            NEVRA(name: "a", version: "1", release: "1", arch: "b")
        ),
    ]

    @Test(arguments: parsed)
    func parsesWithAndWithoutEpoch(text: String, expected: NEVRA) throws {
        let nevra = try NEVRA(parsing: text)
        #expect(nevra == expected)
        #expect(nevra.name == expected.name)
        #expect(nevra.epoch == expected.epoch)
        #expect(nevra.version == expected.version)
        #expect(nevra.release == expected.release)
        #expect(nevra.arch == expected.arch)
    }

    @Test(arguments: parsed)
    func roundTripsThroughItsDescription(text: String, expected: NEVRA) throws {
        let nevra = try NEVRA(parsing: text)
        #expect(try NEVRA(parsing: nevra.description) == nevra)
        #expect(try NEVRA(parsing: expected.description) == expected)
    }

    @Test func rendersTheEpochOnlyWhenNotZero() throws {
        #expect(try NEVRA(parsing: "kernel-0:3.10.0-1160.el7.x86_64").description == "kernel-3.10.0-1160.el7.x86_64")
        #expect(try NEVRA(parsing: "bash-4.2.46-34.el7.x86_64").description == "bash-4.2.46-34.el7.x86_64")
        #expect(try NEVRA(parsing: "glibc-2:2.17-317.el7.i686").description == "glibc-2:2.17-317.el7.i686")
        #expect(try NEVRA(parsing: "foo-bar-010:1.0-1.src").description == "foo-bar-10:1.0-1.src")
    }

    @Test func exposesItsEVR() throws {
        let nevra = try NEVRA(parsing: "perl-Digest-SHA-1:5.85-4.el7.x86_64")
        #expect(nevra.evr == EVR(epoch: 1, version: "5.85", release: "4.el7"))
        #expect(nevra.evr > (try NEVRA(parsing: "perl-Digest-SHA-5.90-1.el7.x86_64")).evr)
    }

    @Test func comparesTextuallyForEquality() throws {
        #expect(try NEVRA(parsing: "bash-1.01-1.x86_64") != NEVRA(parsing: "bash-1.1-1.x86_64"))
        #expect(try NEVRA(parsing: "bash-0:1.0-1.x86_64") == NEVRA(parsing: "bash-1.0-1.x86_64"))
        #expect(try NEVRA(parsing: "bash-1.0-1.x86_64") != NEVRA(parsing: "bash-1.0-1.i686"))
    }

    /// Refused text and the words the reason must contain.
    static let rejected: [(String, String)] = [
        ("", "the text is empty"),
        ("bash", "the architecture ('.arch') is missing"),
        ("bash-1.0", "the version ('-version') is missing"),
        ("bash-1.0-1", "the architecture ('.arch' after the release) is missing"),
        ("bash.x86_64", "the release ('-release') is missing"),
        ("-1.0-1.x86_64", "the name is empty"),
        ("bash--1.x86_64", "the version is empty"),
        ("bash-1.0-.x86_64", "the release is empty"),
        ("bash-1.0-1.", "the architecture after the last '.' is empty"),
        ("bash-:1.0-1.x86_64", "the epoch before ':' is empty"),
        ("bash-1:-1.x86_64", "the version is empty"),
        ("bash-x:1.0-1.x86_64", "the epoch 'x' must be a non-negative decimal integer"),
        ("bash-99999999999999999999:1.0-1.x86_64", "is too large"),
        ("bash-1:2:3-1.x86_64", "the version must not contain ':'"),
        ("bash-1.0-1:2.x86_64", "the release must not contain ':'"),
        ("0:bash-1.0-1.x86_64", "the name must not contain ':'"),
        ("bash-1.0-1.x86_64 ", "whitespace"),
        ("bash 1.0-1.x86_64", "whitespace"),
        ("bash-1.0-1.x86_64\n", "whitespace"),
        ("bash-1.0-1.x86\u{0}64", "control characters"),
    ]

    @Test(arguments: rejected)
    func rejectsMalformedTextNamingNEVRA(text: String, reason: String) {
        #expect {
            try NEVRA(parsing: text)
        } throws: { error in
            guard let error = error as? PulpError else { return false }
            return error.propertyNames == ["nevra"] && error.httpStatus == 400 && error.message.contains(reason)
                && error.message.contains("name-[epoch:]version-release.arch")
        }
    }
}
