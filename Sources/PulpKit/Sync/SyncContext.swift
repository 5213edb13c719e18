public import Foundation

/// What an ``Importer`` sees and does during one sync.
///
/// It gives the repository, the effective configuration (the stored importer configuration with this
/// call's `override_config` merged over it, key by key), the units the repository already holds, and the
/// calls that change them: ``add(_:)``, ``update(_:replacing:)`` and ``remove(_:)``. Those calls apply the
/// download policy, so an importer only describes units: with `immediate` their files are downloaded,
/// checked and stored before the call returns; with `background` and `on_demand` they are recorded with
/// `downloaded = false` and fetched later. A file already in storage is never downloaded again.
public struct SyncContext: Sendable {
    /// The repository being synced, as it was when the sync started.
    public let repository: Repository
    /// The importer configuration for this sync: stored configuration with the override merged over it.
    public let configuration: [String: JSONValue]
    /// This call's `override_config`.
    public let overrideConfig: [String: JSONValue]
    /// The standard keys of ``configuration``, read.
    public let settings: ImporterSettings
    /// The downloader for this sync, limited to `max_downloads` at once.
    public let downloader: Downloader
    /// What the importer saved with ``saveScratchpad(_:)`` after its last successful sync (`null` if none).
    public let scratchpad: JSONValue
    /// Whether the repository's content changed outside syncs (units removed) since the last sync, or the
    /// configuration differs from the last sync's: an importer must not skip work when this is `true`.
    public let requiresFullSync: Bool
    let session: SyncSession

    /// The units the repository holds, of `types` (every type when empty), ordered by id.
    public func units(ofTypes types: Set<String> = []) async throws -> [ContentUnit] {
        try await session.content.units(in: repository.id, types: types)
    }

    /// The units the repository holds, of `types` (every type when empty), ordered by id, as light summaries:
    /// the cheap way for a re-sync to compare the repository with its feed.
    public func unitSummaries(ofTypes types: Set<String> = []) async throws -> [ContentUnitSummary] {
        try await session.content.unitSummaries(in: repository.id, types: types)
    }

    /// Adds units to the repository (counted as added unless it held them already), storing or deferring
    /// their files as the download policy says; returns the units as stored.
    @discardableResult
    public func add(_ units: [ContentUnit]) async throws -> [ContentUnit] {
        let stored = try await session.ingest(units)
        let added = try await session.content.associate(stored.map(\.id), with: repository.id)
        session.count { $0.added += added }
        return stored
    }

    /// Replaces units of the repository by new versions (counted as updated): `replacing` are removed,
    /// `units` are stored (files downloaded or deferred as for ``add(_:)``) and added.
    @discardableResult
    public func update(_ units: [ContentUnit], replacing old: [UnitID]) async throws -> [ContentUnit] {
        let stored = try await session.ingest(units)
        let kept = Set(stored.map(\.id))
        try await session.content.unassociate(old.filter { !kept.contains($0) }, from: repository.id)
        let added = try await session.content.associate(stored.map(\.id), with: repository.id)
        session.count { $0.updated += max(units.count, added) }
        return stored
    }

    /// Removes units from the repository (counted as removed); their files stay for other repositories.
    public func remove(_ ids: [UnitID]) async throws {
        let removed = try await session.content.unassociate(ids, from: repository.id)
        session.count { $0.removed += removed }
    }

    /// Fetches a small metadata file (a manifest, an index) whole, refusing more than `maximumBytes`.
    ///
    /// - Throws: a ``PulpError`` naming the URL when it cannot be fetched or is too large.
    public func fetch(_ url: URL, maximumBytes: Int = 256 << 20) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        _ = try await downloader.transport.stream(settings.request(for: url)) { chunk in
            guard bytes.count + chunk.count <= maximumBytes else {
                throw PulpError.download("larger than \(maximumBytes) bytes", url: url, transient: false)
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    /// Keeps `value` for the importer's next sync (saved only if this sync succeeds).
    public func saveScratchpad(_ value: JSONValue) {
        session.count { $0.scratchpad = value }
    }

    /// Replaces the task's `progress_report`; calls closer than a quarter second apart are coalesced,
    /// except with `force`.
    public func reportProgress(_ report: JSONValue, force: Bool = false) async {
        await session.reportProgress(report, force: force)
    }

    /// Throws `CancellationError` when the sync has been cancelled; call it between units of work.
    public func checkCancellation() throws { try Task.checkCancellation() }
}
