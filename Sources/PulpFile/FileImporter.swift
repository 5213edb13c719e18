public import Foundation
public import PulpKit

/// The importer of file repositories (Pulp's `iso_importer`): its feed is a folder holding a `PULP_MANIFEST`
/// that lists one `name,sha256,size` line per file.
///
/// A sync adds the files new to the repository, replaces those whose checksum or size changed (counted as
/// updated), and with `remove_missing` removes those gone from the manifest. When the manifest is
/// byte-identical to the last successful sync's, and nothing else calls for a full sync, it does no more work.
public struct FileImporter: Importer {
    /// `iso_importer`.
    public let typeID = "iso_importer"
    /// `iso`.
    public let contentTypes: Set<String> = [Self.contentType]
    /// The content type of file units.
    public static let contentType = "iso"
    /// The name of the manifest in the feed folder.
    public static let manifestName = "PULP_MANIFEST"

    /// How many units are handed to PulpKit at once (one transaction each; progress is reported between).
    static let batchSize = 8192

    /// Creates the importer.
    public init() {}

    /// Requires a `feed` (checked with the standard keys by PulpKit); no other keys of its own.
    public func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] {
        let feed = configuration["feed"] ?? .null
        return feed == .null ? [PulpError.Problem("feed", "a file repository needs a feed URL")] : []
    }

    /// Fetches the manifest and brings the repository's `iso` units in line with it.
    public func sync(_ context: SyncContext) async throws -> SyncReport {
        guard let feed = context.settings.feed else {
            throw PulpError.invalid("feed", "a file repository needs a feed URL")
        }
        let folder = feed.hasDirectoryPath ? feed : feed.appendingPathComponent("", isDirectory: true)
        await context.reportProgress(Self.progress("IN_PROGRESS", total: 0, finished: 0), force: true)
        let bytes = try await context.fetch(folder.appendingPathComponent(Self.manifestName))
        let manifestDigest = SHA256.hash(bytes).hex
        if !context.requiresFullSync, context.scratchpad["manifest_sha256"]?.stringValue == manifestDigest {
            await context.reportProgress(Self.progress("FINISHED", total: 0, finished: 0), force: true)
            return SyncReport(summary: ["manifest_unchanged": true, "num_isos": 0])
        }
        let manifest = try FileManifest(parsing: bytes)
        try context.checkCancellation()

        // Match the manifest against the repository by unit key text, which needs no decoding: a listed file
        // whose key is stored is unchanged. Only the keys left unmatched are decoded, to tell a changed file
        // (same name, new checksum or size) from a new one, and to find the removed ones.
        let summaries = try await context.unitSummaries(ofTypes: contentTypes)
        var unmatched = [Bool](repeating: true, count: summaries.count)
        var indexByKey: [String: Int] = [:]
        indexByKey.reserveCapacity(summaries.count)
        for (index, summary) in summaries.enumerated() {
            indexByKey[summary.naturalKey.canonicalKey] = index
        }
        var new: [ContentUnit] = []
        var changed: [ContentUnit] = []
        var replaced: [UnitID] = []
        var unlisted: [FileManifest.Entry] = []
        let fetchMissing = context.settings.downloadPolicy == .immediate
        for entry in manifest.entries {
            guard let index = indexByKey[Self.canonicalKey(for: entry)] else {
                unlisted.append(entry)
                continue
            }
            unmatched[index] = false
            if fetchMissing, !summaries[index].downloaded {
                new.append(Self.unit(for: entry, in: folder))
            }
        }
        var existing: [String: ContentUnitSummary] = [:]
        for (index, summary) in summaries.enumerated() where unmatched[index] {
            guard let name = try summary.unitKey()["name"]?.stringValue, existing[name] == nil else { continue }
            existing[name] = summary
        }
        for entry in unlisted {
            if let current = existing[entry.name] {
                changed.append(Self.unit(for: entry, in: folder))
                replaced.append(current.id)
            } else {
                new.append(Self.unit(for: entry, in: folder))
            }
        }
        let total = new.count + changed.count
        await context.reportProgress(Self.progress("IN_PROGRESS", total: total, finished: 0), force: true)
        var finished = 0
        for batch in stride(from: 0, to: new.count, by: Self.batchSize) {
            try context.checkCancellation()
            let slice = Array(new[batch..<min(batch + Self.batchSize, new.count)])
            try await context.add(slice)
            finished += slice.count
            await context.reportProgress(Self.progress("IN_PROGRESS", total: total, finished: finished))
        }
        if !changed.isEmpty {
            try context.checkCancellation()
            try await context.update(changed, replacing: replaced)
            finished += changed.count
        }
        var removed = 0
        if context.settings.removeMissing {
            let listed = existing.isEmpty ? [] : Set(manifest.entries.map(\.name))
            let gone = existing.filter { !listed.contains($0.key) }.map(\.value.id)
            try await context.remove(gone)
            removed = gone.count
        }
        context.saveScratchpad(["manifest_sha256": .string(manifestDigest)])
        await context.reportProgress(Self.progress("FINISHED", total: total, finished: finished), force: true)
        return SyncReport(
            summary: [
                "num_isos": .int(manifest.entries.count),
                "num_isos_new": .int(new.count),
                "num_isos_changed": .int(changed.count),
                "num_isos_removed": .int(removed),
            ]
        )
    }

    /// The `iso` unit of a manifest entry, fetched from the feed folder.
    public static func unit(for entry: FileManifest.Entry, in folder: URL) -> ContentUnit {
        ContentUnit(
            typeID: contentType,
            unitKey: unitKey(for: entry),
            size: entry.size,
            checksum: entry.checksum,
            catalogURL: folder.appendingPathComponent(entry.name)
        )
    }

    /// The canonical unit key text of a manifest entry's unit, as ``UnitNaturalKey`` would encode it; built
    /// directly when the name needs no JSON escaping (printable ASCII without `"` or `\\`).
    static func canonicalKey(for entry: FileManifest.Entry) -> String {
        let plain = entry.name.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
        guard plain else {
            return UnitNaturalKey(typeID: contentType, unitKey: unitKey(for: entry)).canonicalKey
        }
        return "{\"checksum\":\"\(entry.sha256)\",\"name\":\"\(entry.name)\",\"size\":\(entry.size)}"
    }

    /// The unit key of a manifest entry's unit: its name, SHA-256 (hex) and size.
    static func unitKey(for entry: FileManifest.Entry) -> [String: JSONValue] {
        ["name": .string(entry.name), "checksum": .string(entry.sha256), "size": .int(Int(entry.size))]
    }

    /// The task's progress report, shaped as Pulp's ISO importer reports it.
    static func progress(_ state: String, total: Int, finished: Int) -> JSONValue {
        ["iso_importer": ["state": .string(state), "num_isos": .int(total), "num_isos_finished": .int(finished)]]
    }
}

extension FileManifest.Entry {
    /// The file's SHA-256.
    public var checksum: SHA256Digest { SHA256Digest(digest[0], digest[1], digest[2], digest[3]) }
}
