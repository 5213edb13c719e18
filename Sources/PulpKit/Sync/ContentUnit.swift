public import Foundation

/// One unit of content: a file (an ISO, an RPM) or a piece of metadata (an erratum), identified within its
/// content type by its unit key.
///
/// Units are shared: two repositories that hold the same unit key hold the same unit, and a file unit's
/// bytes are stored once under the storage root, named by their SHA-256.
public struct ContentUnit: Sendable, Hashable {
    /// The unit's id, stable for as long as the unit exists.
    public var id: UnitID
    /// The content type, e.g. `iso`, `rpm`, `erratum`.
    public var typeID: String
    /// The fields that identify the unit within its type, e.g. `name`, `checksum`, `size` for an ISO.
    public var unitKey: [String: JSONValue]
    /// Everything else known about the unit.
    public var metadata: [String: JSONValue]
    /// The file's size in bytes; `nil` for a unit without a file.
    public var size: Int64?
    /// The file's expected SHA-256; `nil` for a unit without a file.
    public var checksum: SHA256Digest?
    /// Where the file is stored, relative to the storage root; `nil` until it is downloaded.
    public var storagePath: String?
    /// Whether the file is stored; `true` for a unit without a file.
    public var downloaded: Bool
    /// Where the file can be fetched from (the lazy catalog of Pulp 2): used by deferred downloads.
    public var catalogURL: URL?

    /// Describes a unit; a unit with neither `size` nor `checksum` has no file and counts as downloaded.
    public init(
        id: UnitID = .timeOrdered(),
        typeID: String,
        unitKey: [String: JSONValue],
        metadata: [String: JSONValue] = [:],
        size: Int64? = nil,
        checksum: SHA256Digest? = nil,
        storagePath: String? = nil,
        downloaded: Bool? = nil,
        catalogURL: URL? = nil
    ) {
        self.id = id
        self.typeID = typeID
        self.unitKey = unitKey
        self.metadata = metadata
        self.size = size
        self.checksum = checksum
        self.storagePath = storagePath
        self.downloaded = downloaded ?? (checksum == nil && size == nil)
        self.catalogURL = catalogURL
    }

    /// Whether the unit has a file to store (and so can be deferred or downloaded).
    public var hasFile: Bool { checksum != nil || size != nil }

    /// The unit's identity within the store: its type and its unit key as canonical JSON.
    public var naturalKey: UnitNaturalKey { UnitNaturalKey(typeID: typeID, unitKey: unitKey) }

    /// The unit as Pulp 2 shows content (`_id`, `_content_type_id`, the unit key fields and the metadata).
    public var json: JSONValue {
        var object = metadata
        for (key, value) in unitKey { object[key] = value }
        object["_id"] = .string(id.rawValue)
        object["_content_type_id"] = .string(typeID)
        object["_storage_path"] = storagePath.map(JSONValue.string) ?? .null
        object["downloaded"] = .bool(downloaded)
        if let size { object["size"] = .int(Int(size)) }
        if let checksum { object["checksum"] = .string(checksum.hex) }
        return .object(object)
    }
}

/// A unit's identity: content type plus the canonical JSON text of its unit key.
public struct UnitNaturalKey: Sendable, Hashable, CustomStringConvertible {
    /// The content type.
    public let typeID: String
    /// The unit key encoded as canonical JSON (sorted keys, no spaces).
    public let canonicalKey: String

    /// The identity of the unit of `typeID` with `unitKey`.
    public init(typeID: String, unitKey: [String: JSONValue]) {
        self.typeID = typeID
        self.canonicalKey = JSONValue.object(unitKey).encoded()
    }

    /// The identity of the unit of `typeID` whose unit key has the canonical JSON text `canonicalKey` (as
    /// stored, or as built by an importer that knows its key's shape); the text is not checked.
    public init(typeID: String, canonicalKey: String) {
        self.typeID = typeID
        self.canonicalKey = canonicalKey
    }

    /// `<type>:<canonical key>`.
    public var description: String { "\(typeID):\(canonicalKey)" }
}

/// What a sync needs to know about a stored unit to compare it with a feed's listing, read without decoding
/// its unit key, its metadata or its catalog URL (see ``ContentStore/unitSummaries(in:types:)``).
public struct ContentUnitSummary: Sendable, Hashable {
    /// The unit's id.
    public var id: UnitID
    /// The unit's type and canonical unit key text.
    public var naturalKey: UnitNaturalKey
    /// The file's size in bytes; `nil` for a unit without a file.
    public var size: Int64?
    /// The file's expected SHA-256; `nil` for a unit without a file.
    public var checksum: SHA256Digest?
    /// Where the file is stored, relative to the storage root; `nil` until it is downloaded.
    public var storagePath: String?
    /// Whether the file is stored.
    public var downloaded: Bool

    /// Creates a summary.
    public init(
        id: UnitID,
        naturalKey: UnitNaturalKey,
        size: Int64?,
        checksum: SHA256Digest?,
        storagePath: String?,
        downloaded: Bool
    ) {
        self.id = id
        self.naturalKey = naturalKey
        self.size = size
        self.checksum = checksum
        self.storagePath = storagePath
        self.downloaded = downloaded
    }

    /// The summary of `unit`.
    public init(_ unit: ContentUnit) {
        self.init(
            id: unit.id,
            naturalKey: unit.naturalKey,
            size: unit.size,
            checksum: unit.checksum,
            storagePath: unit.storagePath,
            downloaded: unit.downloaded
        )
    }

    /// The unit key, decoded from its canonical text.
    ///
    /// - Throws: a ``PulpError`` if the stored text is not a JSON object.
    public func unitKey() throws -> [String: JSONValue] {
        guard let object = try JSONValue(parsing: naturalKey.canonicalKey).objectValue else {
            throw PulpError.internalError("unit \(id.rawValue) has a unit key that is not a JSON object")
        }
        return object
    }
}
