import Foundation

/// A content plugin's importer: it reads a feed and tells PulpKit which units a repository should hold.
///
/// An importer describes units; PulpKit does the rest: downloading (or deferring) their files according to
/// the download policy, storing each file once under the storage root, associating units with the
/// repository, counting what changed, writing the sync history, and cancelling cooperatively.
///
/// ```swift
/// struct MyImporter: Importer {
///     let typeID = "my_importer"
///     let contentTypes: Set<String> = ["my_type"]
///     func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] { [] }
///     func sync(_ context: SyncContext) async throws -> SyncReport {
///         try await context.add([ContentUnit(typeID: "my_type", unitKey: ["name": "a"])])
///         return SyncReport()
///     }
/// }
/// ```
public protocol Importer: Sendable {
    /// The importer's type id, e.g. `iso_importer`.
    var typeID: String { get }

    /// The content types the importer produces.
    var contentTypes: Set<String> { get }

    /// Every problem with a configuration (stored or effective), at once; empty when it is valid.
    ///
    /// PulpKit checks the standard keys (``ImporterSettings``) itself; an importer checks its own keys.
    func validate(configuration: [String: JSONValue]) -> [PulpError.Problem]

    /// Syncs the context's repository from its feed.
    ///
    /// Throwing ends the sync as `failed` in history and the task in `error` (a `CancellationError` as
    /// `canceled`); returning a report whose ``SyncReport/succeeded`` is `false` ends it as `failed` too.
    func sync(_ context: SyncContext) async throws -> SyncReport
}

/// What an importer reports at the end of a sync: its outcome and free-form summary and details, which
/// become the history entry's `summary` and `details`.
public struct SyncReport: Sendable, Hashable {
    /// Whether the sync succeeded.
    public var succeeded: Bool
    /// A short report for people, e.g. counts by state.
    public var summary: JSONValue
    /// A longer report, e.g. per-unit errors.
    public var details: JSONValue

    /// Describes a sync's outcome.
    public init(succeeded: Bool = true, summary: JSONValue = [:], details: JSONValue = [:]) {
        self.succeeded = succeeded
        self.summary = summary
        self.details = details
    }
}

/// The importers a PulpKit instance knows, by type id.
public final class ImporterRegistry: Sendable {
    private let importers = PulpMutex<[String: any Importer]>([:])

    /// Creates a registry holding `importers`.
    public init(_ importers: [any Importer] = []) {
        for importer in importers { register(importer) }
    }

    /// Adds (or replaces) the importer of its type id.
    public func register(_ importer: any Importer) {
        importers.withLock { $0[importer.typeID] = importer }
    }

    /// The importer of `typeID`, or `nil`.
    public func importer(ofType typeID: String) -> (any Importer)? {
        importers.withLock { $0[typeID] }
    }

    /// The registered type ids, sorted.
    public var typeIDs: [String] { importers.withLock { $0.keys.sorted() } }

    /// The importer of `typeID`, or a 400 naming `field` that lists the known types.
    public func existingImporter(ofType typeID: String, field: String = "importer_type_id") throws -> any Importer {
        guard let importer = importer(ofType: typeID) else {
            throw PulpError.invalid(
                field,
                "unknown importer type '\(typeID)'; known types: \(typeIDs.joined(separator: ", "))"
            )
        }
        return importer
    }

    /// Every problem with `configuration` for an importer of `typeID`: the standard keys, then the importer's.
    public func problems(in configuration: [String: JSONValue], for importer: any Importer) -> [PulpError.Problem] {
        ImporterSettings.problems(in: configuration) + importer.validate(configuration: configuration)
    }
}
