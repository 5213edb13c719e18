public import PulpKit

/// An RPM's name, epoch, version, release and architecture, e.g. `python3-dnf-plugins-core-4.0.2-1.el8.noarch`.
/// Equality and hashing are textual, field by field, as Pulp matches erratum packages; use ``evr`` to order.
public struct NEVRA: Sendable, Hashable, CustomStringConvertible {
    /// The package name; it may contain dashes.
    public var name: String
    /// The epoch; 0 when the text has none.
    public var epoch: Int
    /// The upstream version.
    public var version: String
    /// The packaging release.
    public var release: String
    /// The architecture, e.g. `x86_64` or `noarch`.
    public var arch: String

    /// Creates a NEVRA from its parts, unchecked.
    public init(name: String, epoch: Int = 0, version: String, release: String, arch: String) {
        self.name = name
        self.epoch = epoch
        self.version = version
        self.release = release
        self.arch = arch
    }

    /// Parses `name-epoch:version-release.arch` or `name-version-release.arch`, splitting from the right; throws
    /// a 400 ``PulpError`` naming `nevra` that says which part is missing or malformed.
    public init(parsing text: String) throws(PulpError) {
        let context = "'\(text)' is not name-[epoch:]version-release.arch: "
        func fail(_ reason: String) -> PulpError { PulpError.invalid("nevra", context + reason) }
        let scalars = Substring(text).unicodeScalars
        guard !scalars.isEmpty else { throw fail("the text is empty") }
        if scalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw fail("it contains whitespace or control characters")
        }

        guard let lastDot = scalars.lastIndex(of: ".") else { throw fail("the architecture ('.arch') is missing") }
        let arch = scalars[scalars.index(after: lastDot)...]
        guard !arch.isEmpty else { throw fail("the architecture after the last '.' is empty") }
        guard !arch.contains("-"), !arch.contains(":") else {
            throw fail("the architecture ('.arch' after the release) is missing")
        }
        let nvr = scalars[..<lastDot]

        guard let releaseDash = nvr.lastIndex(of: "-") else { throw fail("the release ('-release') is missing") }
        let release = nvr[nvr.index(after: releaseDash)...]
        guard !release.isEmpty else { throw fail("the release is empty") }
        guard !release.contains(":") else { throw fail("the release must not contain ':'") }
        let nev = nvr[..<releaseDash]

        guard let versionDash = nev.lastIndex(of: "-") else { throw fail("the version ('-version') is missing") }
        let name = nev[..<versionDash]
        var version = nev[nev.index(after: versionDash)...]
        guard !name.isEmpty else { throw fail("the name is empty") }
        guard !name.contains(":") else {
            throw fail("the name must not contain ':' (the epoch goes before the version)")
        }

        var epoch = 0
        if let colon = version.firstIndex(of: ":") {
            let epochText = version[..<colon]
            guard !epochText.isEmpty else { throw fail("the epoch before ':' is empty") }
            epoch = try EVR.parseEpoch(String(Substring(epochText)), property: "nevra", context: context)
            version = version[version.index(after: colon)...]
        }
        guard !version.isEmpty else { throw fail("the version is empty") }
        guard !version.contains(":") else { throw fail("the version must not contain ':'") }

        self.init(
            name: String(Substring(name)),
            epoch: epoch,
            version: String(Substring(version)),
            release: String(Substring(release)),
            arch: String(Substring(arch))
        )
    }

    /// The epoch, version and release, for ordering by today's rpm rules.
    public var evr: EVR { EVR(epoch: epoch, version: version, release: release) }

    /// `name-epoch:version-release.arch`, with `epoch:` only when not 0; valid parts parse back to `self`.
    public var description: String {
        let epochPrefix = epoch == 0 ? "" : "\(epoch):"
        return "\(name)-\(epochPrefix)\(version)-\(release).\(arch)"
    }
}
