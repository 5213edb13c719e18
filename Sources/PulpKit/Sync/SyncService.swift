public import Foundation

/// Syncs repositories from their feeds and downloads their deferred content, each as a dispatched task.
///
/// ```swift
/// let report = try await sync.sync(repository: "zoo", overrideConfig: ["remove_missing": true])
/// let status = try await dispatcher.waitForCompletion(of: report.taskID!)
/// // status.result is the sync's history entry
/// ```
///
/// A sync task reserves `pulp:repository:<id>`, so syncs of one repository run one at a time; it writes
/// one history entry whatever its outcome and returns it as the task's result. Download tasks are not
/// reserved and may run beside a sync, as in Pulp.
public final class SyncService: Sendable {
    /// The kind of the sync task; Pulp's task type name, with its keyword arguments.
    public static let syncTask = TaskKind<SyncArguments>("pulp.server.managers.repo.sync.sync")
    /// The kind of the download task.
    public static let downloadTask = TaskKind<DownloadArguments>("pulp.server.controllers.repository.download_repo")

    /// The repositories, their importers, content and history.
    public let repositories: RepositoryService
    /// Where unit files are stored.
    public let storage: ContentStorage
    /// The dispatcher that runs the tasks.
    public let dispatcher: TaskDispatcher
    /// The transport every download goes through.
    public let transport: any HTTPTransport
    /// How many times a transient download failure is retried, and how long to wait between tries.
    public let retries: Int
    /// The wait between download retries.
    public let backoff: Downloader.Backoff
    private let onDemand = PulpMutex<[UnitID: Task<ContentUnit, any Error>]>([:])

    /// Creates the service and registers its task handlers with `dispatcher` (which hold the service weakly,
    /// so a discarded service and its dispatcher are freed).
    public init(
        repositories: RepositoryService,
        storage: ContentStorage,
        dispatcher: TaskDispatcher,
        transport: any HTTPTransport = RoutingTransport(),
        retries: Int = 3,
        backoff: Downloader.Backoff = .standard
    ) {
        self.repositories = repositories
        self.storage = storage
        self.dispatcher = dispatcher
        self.transport = transport
        self.retries = retries
        self.backoff = backoff
        dispatcher.register(Self.syncTask) { [weak self] context, arguments in
            guard let self else { throw PulpError.internalError("The sync service is gone") }
            return try await self.runSync(context, arguments)
        }
        dispatcher.register(Self.downloadTask) { [weak self] context, arguments in
            guard let self else { throw PulpError.internalError("The sync service is gone") }
            return try await self.runDownload(context, arguments)
        }
    }

    private var content: any ContentStore { repositories.content }
    private var clock: any WallClock { repositories.clock }

    // MARK: - Sync

    /// Dispatches a sync of `repository` with `overrideConfig` merged over its importer's configuration for
    /// this call only; returns the call report.
    ///
    /// - Throws: 404 for an unknown repository or one without an importer; 400 naming every key of the
    ///   effective configuration that the importer rejects. Nothing is dispatched then.
    public func sync(
        repository id: RepositoryID,
        overrideConfig: [String: JSONValue] = [:],
        scheduledCallID: ScheduleID? = nil
    ) async throws -> CallReport {
        let repository = try await repositories.repository(id)
        return try await dispatcher.dispatch(
            try syncRequest(repository, overrideConfig: overrideConfig, scheduledCallID: scheduledCallID)
        )
    }

    /// The sync task requests of scheduled calls' runs, or why each was refused, in the order given; nothing
    /// is dispatched.
    ///
    /// A call whose repository is gone, or whose repository's importer is no longer the call's, is refused
    /// with a 404; one whose `override_config` the importer now rejects, with a 400.
    func scheduledRequests(_ calls: [ScheduledCall]) async -> [Result<TaskRequest, any Error>] {
        // Schedules of one repository often fall due together: each is read once per batch.
        var fetched: [RepositoryID: Result<Repository, any Error>] = [:]
        var requests: [Result<TaskRequest, any Error>] = []
        for call in calls {
            if fetched[call.repositoryID] == nil {
                fetched[call.repositoryID] = await Result(catching: {
                    try await repositories.repository(call.repositoryID)
                })
            }
            requests.append(
                Result {
                    let repository = try fetched[call.repositoryID]!.get()
                    guard repository.importer?.id == call.importerID else {
                        throw PulpError.missingResource(
                            ["importer": call.importerID, "repository": call.repositoryID.rawValue]
                        )
                    }
                    return try syncRequest(repository, overrideConfig: call.overrideConfig, scheduledCallID: call.id)
                }
            )
        }
        return requests
    }

    /// The task request of a sync of `repository`, checked as ``sync(repository:overrideConfig:scheduledCallID:)``
    /// checks it.
    private func syncRequest(
        _ repository: Repository,
        overrideConfig: [String: JSONValue],
        scheduledCallID: ScheduleID?
    ) throws -> TaskRequest {
        let id = repository.id
        guard let record = repository.importer else {
            throw PulpError.missingResource(["importer": "", "repository": id.rawValue])
        }
        let importer = try repositories.importers.existingImporter(ofType: record.typeID)
        let effective = ImporterSettings.effectiveConfiguration(stored: record.configuration, override: overrideConfig)
        let problems = repositories.importers.problems(in: effective, for: importer)
        if !problems.isEmpty {
            throw PulpError.invalidProperties(problems.map { .init("override_config.\($0.property)", $0.reason) })
        }
        return try TaskRequest(
            Self.syncTask,
            SyncArguments(repositoryID: id, overrideConfig: overrideConfig, scheduledCallID: scheduledCallID),
            resources: [TaskResource.repository(id)],
            tags: [TaskTag.repository(id), TaskTag.action("sync")]
        )
    }

    /// Runs one sync task: the importer, then the history entry and the repository's bookkeeping.
    private func runSync(_ task: TaskContext, _ arguments: SyncArguments) async throws -> JSONValue {
        let id = arguments.repositoryID
        let repository = try await repositories.repository(id)
        guard let record = repository.importer else {
            throw PulpError.missingResource(["importer": "", "repository": id.rawValue])
        }
        let started = clock.now
        let configuration = ImporterSettings.effectiveConfiguration(
            stored: record.configuration,
            override: arguments.overrideConfig
        )
        let settings = Result { try ImporterSettings(configuration: configuration) }
        let session = SyncSession(
            content: content,
            storage: storage,
            settings: (try? settings.get()) ?? ImporterSettings(),
            downloader: downloader(for: (try? settings.get()) ?? ImporterSettings()),
            progress: { report in try? await task.reportProgress(report) }
        )
        let outcome = await Result(catching: {
            let importer = try repositories.importers.existingImporter(ofType: record.typeID)
            let context = SyncContext(
                repository: repository,
                configuration: configuration,
                overrideConfig: arguments.overrideConfig,
                settings: try settings.get(),
                downloader: session.downloader,
                scratchpad: record.scratchpad,
                requiresFullSync: Self.requiresFullSync(repository, record, arguments.overrideConfig),
                session: session
            )
            return try await importer.sync(context)
        })
        let counts = session.counts
        let entry = historyEntry(repository, record, started: started, outcome: outcome, counts: counts)
        try await repositories.history.append(entry)
        let unitCounts = try await content.unitCounts(in: id)
        let now = clock.now
        try await repositories.repositories.update(id) { repository in
            repository.contentUnitCounts = unitCounts
            if counts.added + counts.updated > 0 { repository.lastUnitAdded = now }
            if counts.removed > 0 { repository.lastUnitRemoved = now }
            repository.importer?.lastSync = now
            repository.importer?.lastOverrideConfig = arguments.overrideConfig
            if entry.result == .success, let scratchpad = counts.scratchpad {
                repository.importer?.scratchpad = scratchpad
            }
        }
        switch outcome {
        case .success(let report) where report.succeeded:
            if session.settings.downloadPolicy == .background {
                try await task.spawn(downloadRequest(for: id, verifyAllUnits: false))
            }
            return entry.json
        case .success:
            throw PulpError(
                code: .syncFailed,
                httpStatus: 500,
                message: "Importer indicated a failed response",
                data: ["summary": entry.summary]
            )
        case .failure(let error):
            throw error
        }
    }

    /// The full-sync triggers of Pulp 2: first sync, units removed or configuration changed since the last
    /// sync, or an override that differs from the last one.
    private static func requiresFullSync(
        _ repository: Repository,
        _ importer: RepositoryImporter,
        _ override: [String: JSONValue]
    ) -> Bool {
        guard let lastSync = importer.lastSync else { return true }
        if let removed = repository.lastUnitRemoved, removed > lastSync { return true }
        if let updated = importer.lastUpdated, updated > lastSync { return true }
        return override.filter { $0.key != "force_full" }
            != importer.lastOverrideConfig.filter { $0.key != "force_full" }
            || override["force_full"]?.boolValue == true
    }

    /// The history entry of a sync that ended with `outcome`.
    private func historyEntry(
        _ repository: Repository,
        _ importer: RepositoryImporter,
        started: Date,
        outcome: Result<SyncReport, any Error>,
        counts: SyncSession.Ledger
    ) -> SyncHistoryEntry {
        var entry = SyncHistoryEntry(
            repositoryID: repository.id,
            importerID: importer.id,
            importerTypeID: importer.typeID,
            result: .success,
            started: started,
            completed: clock.now,
            addedCount: counts.added,
            updatedCount: counts.updated,
            removedCount: counts.removed,
            summary: [:],
            details: [:]
        )
        switch outcome {
        case .success(let report):
            entry.result = report.succeeded ? .success : .failed
            entry.summary = report.summary
            entry.details = report.details
        case .failure(let error) where Task.isCancelled || error is CancellationError:
            entry.result = .canceled
            entry.summary = "Sync was cancelled"
        case .failure(let error):
            let exception = String(reflecting: type(of: error))
            entry.result = .failed
            entry.errorMessage = (error as? PulpError)?.message ?? String(describing: error)
            entry.exception = "\(exception): \(error)"
            var traceback = "Sync of repository \(repository.id) by \(importer.typeID) failed.\n\(exception): \(error)"
            if let error = error as? PulpError { traceback += "\n  thrown at \(error.location)" }
            entry.traceback = traceback
        }
        return entry
    }

    // MARK: - Download

    /// Dispatches a download of every unit of `repository` whose file is not stored yet; with
    /// `verifyAllUnits`, also re-checks every stored file and downloads again the missing and corrupt ones.
    ///
    /// - Throws: 404 for an unknown repository.
    public func download(repository id: RepositoryID, verifyAllUnits: Bool = false) async throws -> CallReport {
        _ = try await repositories.repository(id)
        return try await dispatcher.dispatch(downloadRequest(for: id, verifyAllUnits: verifyAllUnits))
    }

    private func downloadRequest(for id: RepositoryID, verifyAllUnits: Bool) throws -> TaskRequest {
        try TaskRequest(
            Self.downloadTask,
            DownloadArguments(repositoryID: id, verifyAllUnits: verifyAllUnits),
            tags: [TaskTag.repository(id), TaskTag.action("download_repo")]
        )
    }

    /// Runs one download task; its result counts the units downloaded, verified and failed.
    private func runDownload(_ task: TaskContext, _ arguments: DownloadArguments) async throws -> JSONValue {
        let repository = try await repositories.repository(arguments.repositoryID)
        let settings = try settings(of: repository)
        var wanted: [ContentUnit] = []
        var verified = 0
        for var unit in try await content.units(in: repository.id) where unit.hasFile && unit.catalogURL != nil {
            if unit.downloaded, let path = unit.storagePath {
                guard arguments.verifyAllUnits else { continue }
                try task.checkCancellation()
                if storage.verify(path, size: unit.size, digest: unit.checksum) {
                    verified += 1
                    continue
                }
                storage.remove(path)
                unit.downloaded = false
                unit.storagePath = nil
            }
            wanted.append(unit)
        }
        let session = SyncSession(
            content: content,
            storage: storage,
            settings: settings,
            downloader: downloader(for: settings),
            progress: { report in try? await task.reportProgress(report) }
        )
        var downloaded = 0
        var failures: [JSONValue] = []
        for batch in wanted.chunked(by: 256) {
            try task.checkCancellation()
            let results = await session.downloadEach(Array(batch))
            var finished: [ContentUnit] = []
            for (unit, result) in zip(batch, results) {
                switch result {
                case .success(let stored): finished.append(stored)
                case .failure(let error):
                    failures.append(["unit_id": .string(unit.id.rawValue), "error": .string("\(error)")])
                }
            }
            try storage.synchronize()
            try await content.save(finished)
            downloaded += finished.count
            await session.reportProgress(
                Self.downloadProgress(total: wanted.count, done: downloaded, failed: failures.count),
                force: false
            )
        }
        try task.checkCancellation()
        await session.reportProgress(
            Self.downloadProgress(total: wanted.count, done: downloaded, failed: failures.count),
            force: true
        )
        return [
            "downloaded_count": .int(downloaded),
            "verified_count": .int(verified),
            "failed_count": .int(failures.count),
            "failures": .array(failures),
        ]
    }

    private static func downloadProgress(total: Int, done: Int, failed: Int) -> JSONValue {
        [
            "background_download": [
                [
                    "step_type": "download_units",
                    "state": .string(done + failed == total ? "FINISHED" : "IN_PROGRESS"),
                    "items_total": .int(total),
                    "num_success": .int(done),
                    "num_failures": .int(failed),
                ]
            ]
        ]
    }

    // MARK: - On-demand content

    /// The stored file of a unit of `repository`, downloading it first when it is not stored yet (the
    /// `on_demand` policy); concurrent requests for one unit share one download.
    ///
    /// - Throws: 404 when the repository does not exist or does not hold the unit; a download error when
    ///   the file cannot be fetched or does not match its size and checksum.
    public func file(for unitID: UnitID, in repository: RepositoryID) async throws -> URL {
        let repositoryValue = try await repositories.repository(repository)
        let held = try await content.units(in: repository).contains { $0.id == unitID }
        guard held, let unit = try await content.unit(withID: unitID) else {
            throw PulpError.missingResource(["unit": unitID.rawValue, "repository": repository.rawValue])
        }
        guard unit.hasFile else {
            throw PulpError.invalid("unit_id", "unit \(unitID) has no file")
        }
        if unit.downloaded, let path = unit.storagePath, storage.verify(path, size: unit.size, digest: nil) {
            return try storage.url(forRelativePath: path)
        }
        let settings = try settings(of: repositoryValue)
        let download = onDemand.withLock { running in
            if let task = running[unitID] { return task }
            let task = Task {
                let session = SyncSession(
                    content: self.content,
                    storage: self.storage,
                    settings: settings,
                    downloader: self.downloader(for: settings),
                    progress: { _ in }
                )
                let fetched = try await session.fetch(unit)
                try self.storage.synchronize()
                return try await self.content.save([fetched])[0]
            }
            running[unitID] = task
            return task
        }
        defer { _ = onDemand.withLock { $0.removeValue(forKey: unitID) } }
        let stored = try await download.value
        guard let path = stored.storagePath else { throw PulpError.internalError("download stored no path") }
        return try storage.url(forRelativePath: path)
    }

    // MARK: - Helpers

    private func settings(of repository: Repository) throws -> ImporterSettings {
        try ImporterSettings(configuration: repository.importer?.configuration ?? [:])
    }

    private func downloader(for settings: ImporterSettings) -> Downloader {
        Downloader(transport: transport, maxConcurrent: settings.maxDownloads, retries: retries, backoff: backoff)
    }
}

/// The arguments of a sync task, with Pulp's keyword names.
public struct SyncArguments: Codable, Sendable, Hashable {
    /// The repository to sync.
    public var repositoryID: RepositoryID
    /// The configuration merged over the importer's for this sync.
    public var overrideConfig: [String: JSONValue]
    /// The schedule that dispatched the sync, if one did.
    public var scheduledCallID: ScheduleID?

    /// Describes a sync.
    public init(
        repositoryID: RepositoryID,
        overrideConfig: [String: JSONValue] = [:],
        scheduledCallID: ScheduleID? = nil
    ) {
        self.repositoryID = repositoryID
        self.overrideConfig = overrideConfig
        self.scheduledCallID = scheduledCallID
    }

    enum CodingKeys: String, CodingKey {
        case repositoryID = "repo_id"
        case overrideConfig = "sync_config_override"
        case scheduledCallID = "scheduled_call_id"
    }

    /// Encodes every key, with `scheduled_call_id` as `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repositoryID, forKey: .repositoryID)
        try container.encode(overrideConfig, forKey: .overrideConfig)
        try container.encode(scheduledCallID, forKey: .scheduledCallID)
    }
}

/// The arguments of a download task.
public struct DownloadArguments: Codable, Sendable, Hashable {
    /// The repository whose units are downloaded.
    public var repositoryID: RepositoryID
    /// Whether stored files are re-checked too.
    public var verifyAllUnits: Bool

    /// Describes a download.
    public init(repositoryID: RepositoryID, verifyAllUnits: Bool) {
        self.repositoryID = repositoryID
        self.verifyAllUnits = verifyAllUnits
    }

    enum CodingKeys: String, CodingKey {
        case repositoryID = "repo_id"
        case verifyAllUnits = "verify_all_units"
    }
}

extension PulpError.Code {
    /// A sync whose importer reported failure.
    public static let syncFailed = PulpError.Code(rawValue: "PLK2002")
}
