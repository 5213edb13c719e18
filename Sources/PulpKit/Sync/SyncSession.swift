import Foundation

/// The machinery behind one ``SyncContext``: storing units by policy and counting changes.
final class SyncSession: Sendable {
    struct Ledger: Sendable {
        var added = 0
        var updated = 0
        var removed = 0
        var scratchpad: JSONValue?
        var lastProgress: ContinuousClock.Instant?
    }

    let content: any ContentStore
    let storage: ContentStorage
    let settings: ImporterSettings
    let downloader: Downloader
    let progress: @Sendable (JSONValue) async -> Void
    private let ledger = PulpMutex(Ledger())

    init(
        content: any ContentStore,
        storage: ContentStorage,
        settings: ImporterSettings,
        downloader: Downloader,
        progress: @escaping @Sendable (JSONValue) async -> Void
    ) {
        self.content = content
        self.storage = storage
        self.settings = settings
        self.downloader = downloader
        self.progress = progress
    }

    var counts: Ledger { ledger.withLock { $0 } }

    func count(_ change: (inout Ledger) -> Void) { ledger.withLock { change(&$0) } }

    func reportProgress(_ report: JSONValue, force: Bool) async {
        let now = ContinuousClock.now
        let due = ledger.withLock { ledger in
            if !force, let last = ledger.lastProgress, now - last < .milliseconds(250) { return false }
            ledger.lastProgress = now
            return true
        }
        if due { await progress(report) }
    }

    /// Stores units, with their files handled by the download policy; returns them as stored.
    ///
    /// A file already in storage is linked, not downloaded. Otherwise `immediate` downloads it now (at most
    /// `max_downloads` at once) and the deferred policies record it as not downloaded. Units are saved in
    /// batches as their files arrive, so a cancelled sync keeps what it finished.
    func ingest(_ units: [ContentUnit]) async throws -> [ContentUnit] {
        var stored: [ContentUnit] = []
        stored.reserveCapacity(units.count)
        var pending: [ContentUnit] = []
        var missing: [ContentUnit] = []
        for var unit in units {
            if let checksum = unit.checksum, storage.contains(checksum, size: unit.size) {
                unit.storagePath = storage.relativePath(for: checksum)
                unit.downloaded = true
                pending.append(unit)
            } else if unit.hasFile {
                unit.storagePath = nil
                unit.downloaded = false
                if settings.downloadPolicy == .immediate { missing.append(unit) } else { pending.append(unit) }
            } else {
                pending.append(unit)
            }
        }
        stored += try await content.save(pending)
        try Task.checkCancellation()
        // Pipelined: while one batch downloads, the previous one is made durable (one `syncfs`, on a thread
        // of its own) and recorded.
        var finished: [ContentUnit]?
        for batch in missing.chunked(by: 512) {
            async let downloading = download(Array(batch))
            if let finished { stored += try await commit(finished) }
            finished = try await downloading
            try Task.checkCancellation()
        }
        if let finished { stored += try await commit(finished) }
        return stored
    }

    /// Makes the downloaded files durable, then records their units; returns them as stored.
    private func commit(_ downloaded: [ContentUnit]) async throws -> [ContentUnit] {
        let storage = storage
        try await BlockingThreadPool.fileSystem.run { try storage.synchronize() }
        return try await content.save(downloaded)
    }

    /// Downloads the files of `units` into storage, `max_downloads` at a time; returns them as downloaded.
    func download(_ units: [ContentUnit]) async throws -> [ContentUnit] {
        try await withThrowingTaskGroup(of: ContentUnit.self) { group in
            var results: [ContentUnit] = []
            results.reserveCapacity(units.count)
            var next = units.makeIterator()
            for _ in 0..<settings.maxDownloads {
                guard let unit = next.next() else { break }
                group.addTask { try await self.fetch(unit) }
            }
            while let unit = try await group.next() {
                results.append(unit)
                if let following = next.next() { group.addTask { try await self.fetch(following) } }
            }
            return results
        }
    }

    /// Downloads one unit's file from its catalog URL into storage; the caller makes it durable with
    /// ``ContentStorage/synchronize()`` before recording it.
    func fetch(_ unit: ContentUnit) async throws -> ContentUnit {
        guard let url = unit.catalogURL else {
            throw PulpError.invalid("catalog_url", "unit \(unit.naturalKey) has a file but no URL to fetch it from")
        }
        var unit = unit
        if let checksum = unit.checksum, settings.verifyChecksum {
            // Checked against its digest, the file can be written beside its final place and renamed once.
            _ = try await downloader.download(
                settings.request(for: url),
                toPath: try storage.preparedPath(for: checksum),
                expectedSize: unit.size,
                expectedSHA256: checksum,
                verifySize: settings.verifySize,
                verifyChecksum: true,
                durable: false
            )
            unit.storagePath = storage.relativePath(for: checksum)
            unit.downloaded = true
            return unit
        }
        let incoming = try storage.incomingURL()
        let result = try await downloader.download(
            settings.request(for: url),
            to: incoming,
            expectedSize: unit.size,
            expectedSHA256: unit.checksum,
            verifySize: settings.verifySize,
            verifyChecksum: settings.verifyChecksum,
            durable: false
        )
        unit.storagePath = try storage.place(incoming, as: result.sha256)
        unit.downloaded = true
        return unit
    }
}

extension Array {
    /// The array cut into consecutive slices of at most `size` elements.
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

extension SyncSession {
    /// Downloads each unit's file, `max_downloads` at a time, keeping each outcome (in the order given).
    func downloadEach(_ units: [ContentUnit]) async -> [Result<ContentUnit, any Error>] {
        await withTaskGroup(of: (Int, Result<ContentUnit, any Error>).self) { group in
            var results = [Result<ContentUnit, any Error>?](repeating: nil, count: units.count)
            var next = units.indices.makeIterator()
            for _ in 0..<settings.maxDownloads {
                guard let index = next.next() else { break }
                group.addTask { (index, await Result(catching: { try await self.fetch(units[index]) })) }
            }
            while let (index, result) = await group.next() {
                results[index] = result
                if let following = next.next() {
                    group.addTask { (following, await Result(catching: { try await self.fetch(units[following]) })) }
                }
            }
            return results.map { $0! }
        }
    }
}
