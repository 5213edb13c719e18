// The importer of Documentation/WritingAnImporter.md, compiled and tested here so the guide stays true.
import Foundation
import PulpKit

/// Syncs `blob` units from a folder whose `INDEX` lists one `name sha256 size` line per file.
struct BlobImporter: Importer {
    let typeID = "blob_importer"
    let contentTypes: Set<String> = ["blob"]

    /// PulpKit checks the standard keys (`feed`, `download_policy`, …); this checks the importer's own.
    func validate(configuration: [String: JSONValue]) -> [PulpError.Problem] {
        var problems: [PulpError.Problem] = []
        if (configuration["feed"] ?? .null) == .null {
            problems.append(.init("feed", "a blob repository needs a feed URL"))
        }
        if let limit = configuration["max_blobs"], limit != .null, (limit.intValue ?? 0) < 1 {
            problems.append(.init("max_blobs", "must be an integer of at least 1, got \(limit)"))
        }
        return problems
    }

    func sync(_ context: SyncContext) async throws -> SyncReport {
        guard let feed = context.settings.feed else {
            throw PulpError.invalid("feed", "a blob repository needs a feed URL")
        }
        let folder = feed.hasDirectoryPath ? feed : feed.appendingPathComponent("", isDirectory: true)
        let index = try await context.fetch(folder.appendingPathComponent("INDEX"))
        let digest = SHA256.hash(index).hex
        // Nothing changed since the last successful sync: skip, unless PulpKit asks for a full sync.
        if !context.requiresFullSync, context.scratchpad["index_sha256"]?.stringValue == digest {
            return SyncReport(summary: ["index_unchanged": true])
        }
        var listed: [String: ContentUnit] = [:]
        for line in String(decoding: index, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let checksum = SHA256Digest(hex: fields[1]), let size = Int64(fields[2]) else {
                throw PulpError.invalid("feed", "INDEX line '\(line)' is not 'name sha256 size'")
            }
            let name = String(fields[0])
            listed[name] = ContentUnit(
                typeID: "blob",
                unitKey: ["name": .string(name)],
                size: size,
                checksum: checksum,
                catalogURL: folder.appendingPathComponent(name)
            )
        }
        if let limit = context.configuration["max_blobs"]?.intValue, listed.count > limit {
            throw PulpError.invalid("max_blobs", "the feed lists \(listed.count) blobs, more than \(limit)")
        }
        let existing = try await context.units(ofTypes: contentTypes)
        let byName = Dictionary(
            existing.map { ($0.unitKey["name"]?.stringValue ?? "", $0) },
            uniquingKeysWith: { a, _ in a }
        )
        var new: [ContentUnit] = []
        var changed: [ContentUnit] = []
        var replaced: [UnitID] = []
        for (name, unit) in listed.sorted(by: { $0.key < $1.key }) {
            if let current = byName[name] {
                if current.checksum != unit.checksum || current.size != unit.size {
                    changed.append(unit)
                    replaced.append(current.id)
                }
            } else {
                new.append(unit)
            }
        }
        try context.checkCancellation()
        try await context.add(new)
        try await context.update(changed, replacing: replaced)
        if context.settings.removeMissing {
            try await context.remove(existing.filter { listed[$0.unitKey["name"]?.stringValue ?? ""] == nil }.map(\.id))
        }
        context.saveScratchpad(["index_sha256": .string(digest)])
        await context.reportProgress(["blob_importer": ["state": "FINISHED"]], force: true)
        return SyncReport(summary: ["blobs": .int(listed.count)])
    }
}
