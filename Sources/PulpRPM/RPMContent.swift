public import PulpKit

/// The content type ids of the RPM plugin.
public enum RPMContentType {
    /// A binary or source RPM package: `rpm`.
    public static let rpm = "rpm"
    /// An advisory naming the packages that fix it: `erratum`.
    public static let erratum = "erratum"
}

/// An RPM package as a content unit of type `rpm`.
///
/// The unit key is Pulp 2's: `name`, `epoch` (a string), `version`, `release`, `arch`, `checksumtype` and
/// `checksum`; everything else (`filename`, `vendor`, `summary` …) is metadata.
public struct RPMPackage: Sendable, Hashable {
    /// The package's name, epoch, version, release and architecture.
    public var nevra: NEVRA
    /// The checksum algorithm, e.g. `sha256`.
    public var checksumType: String
    /// The package file's checksum in hex.
    public var checksum: String
    /// Other fields, stored as the unit's metadata.
    public var metadata: [String: JSONValue]

    /// Describes a package.
    public init(nevra: NEVRA, checksumType: String = "sha256", checksum: String, metadata: [String: JSONValue] = [:]) {
        self.nevra = nevra
        self.checksumType = checksumType
        self.checksum = checksum
        self.metadata = metadata
    }

    /// The unit key: NEVRA fields (the epoch as a decimal string) and the checksum.
    public var unitKey: [String: JSONValue] {
        [
            "name": .string(nevra.name),
            "epoch": .string(String(nevra.epoch)),
            "version": .string(nevra.version),
            "release": .string(nevra.release),
            "arch": .string(nevra.arch),
            "checksumtype": .string(checksumType),
            "checksum": .string(checksum),
        ]
    }

    /// The package as a content unit with a new id (``ContentStore/save(_:)`` keeps the id of a stored unit
    /// with the same key).
    public func unit(id: UnitID = .random()) -> ContentUnit {
        ContentUnit(id: id, typeID: RPMContentType.rpm, unitKey: unitKey, metadata: metadata)
    }

    /// Reads a package from an `rpm` unit.
    ///
    /// - Throws: a 400 ``PulpError`` naming `type_id` for a unit of another type, or `unit_key` when a
    ///   NEVRA field or the checksum is missing or malformed.
    public init(unit: ContentUnit) throws(PulpError) {
        guard unit.typeID == RPMContentType.rpm else {
            throw PulpError.invalid("type_id", "expected an '\(RPMContentType.rpm)' unit, got '\(unit.typeID)'")
        }
        let nevra: NEVRA
        do {
            nevra = try RPMFields.nevra(unit.unitKey)
        } catch {
            throw PulpError.invalid("unit_key", error.reason)
        }
        guard case .string(let checksum) = unit.unitKey["checksum"] ?? .null, !checksum.isEmpty else {
            throw PulpError.invalid("unit_key", "'checksum' must be a non-empty string")
        }
        let checksumType = unit.unitKey["checksumtype"]?.stringValue ?? "sha256"
        self.init(nevra: nevra, checksumType: checksumType, checksum: checksum, metadata: unit.metadata)
    }
}

/// An advisory (security, bug fix or enhancement) as a content unit of type `erratum`.
///
/// The unit key is `{"id": …}`; the rest, `pkglist` included, is metadata in Pulp 2's shape:
/// `"pkglist": [{"name": …, "short": …, "packages": [{"name", "epoch", "version", "release", "arch",
/// "filename"}]}]`.
public struct Erratum: Sendable, Hashable {
    /// A named list of the packages that fix an erratum (one per product or module).
    public struct Collection: Sendable, Hashable {
        /// The collection's name.
        public var name: String
        /// Its short name.
        public var short: String
        /// The packages.
        public var packages: [NEVRA]

        /// Describes a collection.
        public init(name: String = "", short: String = "", packages: [NEVRA]) {
            self.name = name
            self.short = short
            self.packages = packages
        }
    }

    /// The advisory id, e.g. `RHSA-2024:0001`.
    public var id: String
    /// Its title.
    public var title: String
    /// `security`, `bugfix` or `enhancement`.
    public var type: String
    /// The severity, e.g. `Important`, or `nil`.
    public var severity: String?
    /// When it was issued, as the advisory writes it (e.g. `2024-01-02 00:00:00`).
    public var issued: String
    /// The packages that fix it.
    public var pkglist: [Collection]

    /// Describes an erratum.
    public init(
        id: String,
        title: String = "",
        type: String = "security",
        severity: String? = nil,
        issued: String = "",
        pkglist: [Collection]
    ) {
        self.id = id
        self.title = title
        self.type = type
        self.severity = severity
        self.issued = issued
        self.pkglist = pkglist
    }

    /// Every package of every collection.
    public var packages: [NEVRA] { pkglist.flatMap(\.packages) }

    /// The erratum as a content unit with a new id.
    public func unit(id: UnitID = .random()) -> ContentUnit {
        let collections: [JSONValue] = pkglist.map { collection in
            [
                "name": .string(collection.name),
                "short": .string(collection.short),
                "packages": .array(
                    collection.packages.map { package in
                        [
                            "name": .string(package.name),
                            "epoch": .string(String(package.epoch)),
                            "version": .string(package.version),
                            "release": .string(package.release),
                            "arch": .string(package.arch),
                            "filename": .string(
                                "\(package.name)-\(package.version)-\(package.release).\(package.arch).rpm"
                            ),
                        ]
                    }
                ),
            ]
        }
        return ContentUnit(
            id: id,
            typeID: RPMContentType.erratum,
            unitKey: ["id": .string(self.id)],
            metadata: [
                "title": .string(title),
                "type": .string(type),
                "severity": severity.map(JSONValue.string) ?? .null,
                "issued": .string(issued),
                "pkglist": .array(collections),
            ]
        )
    }

    /// Reads an erratum from an `erratum` unit.
    ///
    /// - Throws: a 400 ``PulpError`` naming `type_id` for a unit of another type, `unit_key` without a string
    ///   `id`, or `pkglist` when it is not a list of collections of well-formed packages.
    public init(unit: ContentUnit) throws(PulpError) {
        guard unit.typeID == RPMContentType.erratum else {
            throw PulpError.invalid("type_id", "expected an '\(RPMContentType.erratum)' unit, got '\(unit.typeID)'")
        }
        guard case .string(let id) = unit.unitKey["id"] ?? .null, !id.isEmpty else {
            throw PulpError.invalid("unit_key", "'id' must be a non-empty string")
        }
        var collections: [Collection] = []
        switch unit.metadata["pkglist"] ?? .null {
        case .null: break
        case .array(let elements):
            for (position, element) in elements.enumerated() {
                guard case .object(let collection) = element else {
                    throw PulpError.invalid("pkglist", "collection \(position) must be an object")
                }
                var packages: [NEVRA] = []
                for (index, package) in (collection["packages"]?.arrayValue ?? []).enumerated() {
                    guard case .object(let fields) = package else {
                        throw PulpError.invalid("pkglist", "collection \(position), package \(index): not an object")
                    }
                    do {
                        packages.append(try RPMFields.nevra(fields))
                    } catch {
                        throw PulpError.invalid("pkglist", "collection \(position), package \(index): \(error.reason)")
                    }
                }
                collections.append(
                    Collection(
                        name: collection["name"]?.stringValue ?? "",
                        short: collection["short"]?.stringValue ?? "",
                        packages: packages
                    )
                )
            }
        default:
            throw PulpError.invalid("pkglist", "must be a list of collections")
        }
        self.init(
            id: id,
            title: unit.metadata["title"]?.stringValue ?? "",
            type: unit.metadata["type"]?.stringValue ?? "",
            severity: unit.metadata["severity"]?.stringValue,
            issued: unit.metadata["issued"]?.stringValue ?? "",
            pkglist: collections
        )
    }
}

/// Why a JSON object is not a package: the reason, without the field name (callers name the field).
struct RPMFieldIssue: Error {
    let reason: String
}

/// The NEVRA field a JSON object key names. Telling keys apart by length and first byte before comparing
/// them costs one string comparison per key instead of one per candidate field name (each a call when the
/// strings differ); package objects are read by the million.
enum RPMField {
    case name, epoch, version, release, arch, other

    @inline(__always)
    init(_ key: String) {
        let bytes = key.utf8
        switch (bytes.count, bytes.first) {
        case (4, UInt8(ascii: "n")) where key == "name": self = .name
        case (5, UInt8(ascii: "e")) where key == "epoch": self = .epoch
        case (7, UInt8(ascii: "v")) where key == "version": self = .version
        case (7, UInt8(ascii: "r")) where key == "release": self = .release
        case (4, UInt8(ascii: "a")) where key == "arch": self = .arch
        default: self = .other
        }
    }
}

/// Reading NEVRA fields from JSON objects (unit keys, pkglist entries, profile entries).
enum RPMFields {
    /// The NEVRA of `{"name", "epoch", "version", "release", "arch"}`: name, version and arch must be
    /// non-empty strings, release a string; the epoch may be absent, `null`, a non-negative integer or a
    /// decimal string (`""` is 0).
    static func nevra(_ fields: [String: JSONValue]) throws(RPMFieldIssue) -> NEVRA {
        // One pass over the fields instead of a hashed lookup per field: this reads every package of every
        // repository index and erratum pkglist.
        var (name, version, release, arch) = (JSONValue.null, JSONValue.null, JSONValue.null, JSONValue.null)
        var epochField: JSONValue?
        for (field, value) in fields {
            switch RPMField(field) {
            case .name: name = value
            case .version: version = value
            case .release: release = value
            case .arch: arch = value
            case .epoch: epochField = value
            case .other: break
            }
        }
        guard case .string(let name) = name, !name.isEmpty else {
            throw RPMFieldIssue(reason: "'name' must be a non-empty string")
        }
        guard case .string(let version) = version, !version.isEmpty else {
            throw RPMFieldIssue(reason: "'version' must be a non-empty string")
        }
        guard case .string(let release) = release else {
            throw RPMFieldIssue(reason: "'release' must be a string")
        }
        guard case .string(let arch) = arch, !arch.isEmpty else {
            throw RPMFieldIssue(reason: "'arch' must be a non-empty string")
        }
        return NEVRA(name: name, epoch: try epoch(epochField), version: version, release: release, arch: arch)
    }

    /// An epoch field: absent or `null` is 0, an integer must be >= 0, a string must be decimal digits.
    static func epoch(_ value: JSONValue?) throws(RPMFieldIssue) -> Int {
        switch value ?? .null {
        case .null: return 0
        case .int(let number) where number >= 0: return number
        case .string(let text):
            do {
                return try EVR.parseEpoch(text, property: "epoch")
            } catch {
                throw RPMFieldIssue(reason: "'epoch' must be a non-negative decimal integer, got '\(text)'")
            }
        case let other:
            throw RPMFieldIssue(reason: "'epoch' must be a non-negative integer, got \(other.encoded())")
        }
    }
}
