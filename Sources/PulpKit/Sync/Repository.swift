public import Foundation

/// A content repository: what Pulp syncs, schedules syncs of, and binds consumers to.
///
/// A repository has at most one importer, which names the plugin that syncs it and that plugin's
/// configuration. Its unit counts are rebuilt by PulpKit after every change to its content.
public struct Repository: Sendable, Hashable {
    /// The repository's id: 1 to 255 bytes, no `/`, no control characters.
    public var id: RepositoryID
    /// A name for people; the id when not given.
    public var displayName: String
    /// Free text, or `nil`.
    public var description: String?
    /// Key-value notes for the host's own use.
    public var notes: [String: JSONValue]
    /// The importer that syncs this repository, or `nil` when it has none.
    public var importer: RepositoryImporter?
    /// How many units of each content type the repository holds.
    public var contentUnitCounts: [String: Int]
    /// When a unit was last added to the repository.
    public var lastUnitAdded: Date?
    /// When a unit was last removed from the repository.
    public var lastUnitRemoved: Date?

    /// Describes a repository; `displayName` defaults to the id.
    public init(
        id: RepositoryID,
        displayName: String? = nil,
        description: String? = nil,
        notes: [String: JSONValue] = [:],
        importer: RepositoryImporter? = nil,
        contentUnitCounts: [String: Int] = [:],
        lastUnitAdded: Date? = nil,
        lastUnitRemoved: Date? = nil
    ) {
        self.id = id
        self.displayName = displayName ?? id.rawValue
        self.description = description
        self.notes = notes
        self.importer = importer
        self.contentUnitCounts = contentUnitCounts
        self.lastUnitAdded = lastUnitAdded
        self.lastUnitRemoved = lastUnitRemoved
    }

    /// The total number of units in the repository.
    public var totalUnitCount: Int { contentUnitCounts.values.reduce(0, +) }

    /// The repository's REST path, `/pulp/api/v2/repositories/<id>/`.
    public var href: String { "/pulp/api/v2/repositories/\(id.rawValue)/" }

    /// The longest id accepted, in UTF-8 bytes.
    public static let maximumIDLength = 255

    /// Checks that `id` can name a repository: a 400 naming `field` when it is empty, longer than 255
    /// bytes, or holds a `/` or a control character (it becomes a URL path segment and a file name part).
    public static func validate(id: String, field: String = "id") throws(PulpError) {
        if id.isEmpty { throw PulpError.invalid(field, "must not be empty") }
        if id.utf8.count > maximumIDLength {
            throw PulpError.invalid(field, "must be at most \(maximumIDLength) bytes, got \(id.utf8.count)")
        }
        if id.contains("/") { throw PulpError.invalid(field, "must not contain '/'") }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw PulpError.invalid(field, "must not contain control characters")
        }
    }
}

/// A repository's importer: the plugin type that syncs it, its configuration, and what it remembers.
///
/// In Pulp 2 an importer's id is its type id, so both appear in URLs and history entries.
public struct RepositoryImporter: Sendable, Hashable {
    /// The importer plugin's type id, e.g. `iso_importer`; also the importer's id.
    public var typeID: String
    /// The stored configuration, validated by the plugin when set.
    public var configuration: [String: JSONValue]
    /// When the last sync completed, whatever its outcome.
    public var lastSync: Date?
    /// The `override_config` of the last sync.
    public var lastOverrideConfig: [String: JSONValue]
    /// State the importer keeps between syncs (for example a digest of the feed it last synced).
    public var scratchpad: JSONValue
    /// When the configuration last changed.
    public var lastUpdated: Date?

    /// Describes an importer of type `typeID` with `configuration`.
    public init(
        typeID: String,
        configuration: [String: JSONValue] = [:],
        lastSync: Date? = nil,
        lastOverrideConfig: [String: JSONValue] = [:],
        scratchpad: JSONValue = .null,
        lastUpdated: Date? = nil
    ) {
        self.typeID = typeID
        self.configuration = configuration
        self.lastSync = lastSync
        self.lastOverrideConfig = lastOverrideConfig
        self.scratchpad = scratchpad
        self.lastUpdated = lastUpdated
    }

    /// The importer's id, which Pulp 2 makes equal to its type id.
    public var id: String { typeID }
}
