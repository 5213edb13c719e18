public import Foundation

/// How a ``Pulp`` instance stores its data and runs its work.
public struct PulpConfiguration: Sendable {
    /// Where the stores and the content live.
    public enum Storage: Sendable, Hashable {
        /// In-memory stores, gone when the process exits; unit files under `contentRoot` (a new temporary
        /// directory when `nil`).
        case inMemory(contentRoot: URL? = nil)
        /// One SQLite database file, `pulp.db`, and the content storage root, `content/`, in `directory`;
        /// several processes may share it.
        case sqlite(directory: URL)
    }

    /// Where the stores and the content live.
    public var storage: Storage
    /// How many tasks run at once.
    public var workerCount: Int
    /// The clock of the dispatcher and every service.
    public var clock: any WallClock
    /// The SQLite durability level (``SQLiteSynchronous/normal`` survives a process crash; `.full` a power loss).
    public var synchronous: SQLiteSynchronous
    /// How long sync history entries are kept (seconds); 60 days by default, as in Pulp.
    public var historyRetention: TimeInterval
    /// How long complete tasks are kept (seconds); 7 days by default, as in Pulp.
    public var taskRetention: TimeInterval
    /// How often the retention job runs.
    public var retentionInterval: Duration
    /// The transport every download goes through.
    public var transport: any HTTPTransport
    /// The dispatcher's worker name (unique per process by default).
    public var workerName: String

    /// A configuration with Pulp's defaults.
    public init(
        storage: Storage = .inMemory(),
        workerCount: Int = ProcessInfo.processInfo.activeProcessorCount,
        clock: any WallClock = SystemWallClock(),
        synchronous: SQLiteSynchronous = .normal,
        historyRetention: TimeInterval = SyncHistoryEntry.defaultRetention,
        taskRetention: TimeInterval = 7 * 86_400,
        retentionInterval: Duration = .seconds(6 * 3600),
        transport: any HTTPTransport = RoutingTransport(),
        workerName: String = TaskDispatcherConfiguration.defaultWorkerName()
    ) {
        self.storage = storage
        self.workerCount = workerCount
        self.clock = clock
        self.synchronous = synchronous
        self.historyRetention = historyRetention
        self.taskRetention = taskRetention
        self.retentionInterval = retentionInterval
        self.transport = transport
        self.workerName = workerName
    }
}

/// PulpKit, wired: every store, the dispatcher and the services, built from one configuration.
///
/// ```swift
/// let pulp = try Pulp(configuration: .init(storage: .sqlite(directory: dataDirectory)))
/// pulp.register(FileImporter())
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await pulp.run() }
///     try await pulp.repositories.create(Repository(id: "iso"), importerTypeID: "iso_importer",
///                                        importerConfiguration: ["feed": "https://example.com/iso/"])
///     let report = try await pulp.sync.sync(repository: "iso")
///     …
/// }
/// ```
///
/// ``run()`` runs the dispatcher, the scheduler and the retention job until it is cancelled, then drains the running
/// tasks; it has the shape of swift-service-lifecycle's `Service`, so a host can run it there as is.
public final class Pulp: Sendable {
    /// The configuration it was built from.
    public let configuration: PulpConfiguration
    /// The importers hosts register.
    public let importers: ImporterRegistry
    /// Runs every task.
    public let dispatcher: TaskDispatcher
    /// Repositories, importers, content and history.
    public let repositories: RepositoryService
    /// Syncs, downloads and on-demand content.
    public let sync: SyncService
    /// Uploads of units into repositories, and copies between them.
    public let uploads: ContentUploadService
    /// Scheduled syncs of repositories' importers.
    public let schedules: ScheduleService
    /// Dispatches the scheduled syncs when they are due; ``run()`` runs it.
    public let scheduler: Scheduler
    /// Consumers, their profiles and bindings, and content applicability.
    public let applicability: ApplicabilityEngine

    /// Builds every store and service; for `.sqlite`, creates the directory and opens (migrating) the database.
    ///
    /// - Throws: a ``PulpError`` naming the file or directory that cannot be created or opened.
    public init(configuration: PulpConfiguration = PulpConfiguration()) throws {
        self.configuration = configuration
        let tasks: any TaskStore
        let repositoryStore: any RepositoryStore
        let contentStore: any ContentStore
        let historyStore: any HistoryStore
        let scheduleStore: any ScheduleStore
        let consumerStore: any ConsumerStore
        let applicabilityStore: any ApplicabilityStore
        let contentRoot: URL
        switch configuration.storage {
        case .inMemory(let root):
            tasks = InMemoryTaskStore()
            repositoryStore = InMemoryRepositoryStore()
            contentStore = InMemoryContentStore()
            historyStore = InMemoryHistoryStore()
            scheduleStore = InMemoryScheduleStore()
            consumerStore = InMemoryConsumerStore()
            applicabilityStore = InMemoryApplicabilityStore()
            contentRoot =
                root
                ?? FileManager.default.temporaryDirectory
                .appendingPathComponent("pulpkit-content-\(UUID().uuidString.lowercased())", isDirectory: true)
        case .sqlite(let directory):
            try Self.makeDirectory(directory)
            let executor = try SQLiteExecutor(
                path: directory.appendingPathComponent("pulp.db").path,
                synchronous: configuration.synchronous
            )
            tasks = try SQLiteTaskStore(executor: executor)
            repositoryStore = try SQLiteRepositoryStore(executor: executor)
            contentStore = try SQLiteContentStore(executor: executor)
            historyStore = try SQLiteHistoryStore(executor: executor)
            scheduleStore = try SQLiteScheduleStore(executor: executor)
            consumerStore = try SQLiteConsumerStore(executor: executor)
            applicabilityStore = try SQLiteApplicabilityStore(executor: executor)
            contentRoot = directory.appendingPathComponent("content", isDirectory: true)
        }
        importers = ImporterRegistry()
        dispatcher = TaskDispatcher(
            store: tasks,
            clock: configuration.clock,
            configuration: TaskDispatcherConfiguration(
                workerCount: configuration.workerCount,
                workerName: configuration.workerName,
                retention: configuration.taskRetention
            )
        )
        repositories = RepositoryService(
            repositories: repositoryStore,
            content: contentStore,
            history: historyStore,
            importers: importers,
            clock: configuration.clock
        )
        sync = SyncService(
            repositories: repositories,
            storage: try ContentStorage(root: contentRoot),
            dispatcher: dispatcher,
            transport: configuration.transport
        )
        uploads = ContentUploadService(repositories: repositories, storage: sync.storage, dispatcher: dispatcher)
        schedules = ScheduleService(store: scheduleStore, sync: sync)
        scheduler = Scheduler(service: schedules)
        applicability = ApplicabilityEngine(
            consumers: consumerStore,
            repositories: repositoryStore,
            content: contentStore,
            store: applicabilityStore,
            dispatcher: dispatcher
        )
        repositories.onDelete { [applicability] id, importerOnly in
            if !importerOnly { try await applicability.removeRepository(id) }
        }
        dispatcher.register(Self.repositoryTask) { [repositories] _, arguments in
            try await arguments.change.apply(to: arguments.repositoryID, in: repositories)
        }
    }

    // MARK: - Repository changes as tasks

    /// The kind of the task that deletes a repository or changes its importer, as Pulp 2 runs them.
    public static let repositoryTask = TaskKind<RepositoryChangeArguments>("pulp.server.tasks.repository.change")

    /// Dispatches the deletion of a repository (its importer, associations, history and schedules go too):
    /// a task reserving the repository, tagged `pulp:action:delete`. 404 when it does not exist.
    public func deleteRepository(_ id: RepositoryID) async throws -> CallReport {
        _ = try await repositories.repository(id)
        return try await dispatchChange(.delete, of: id, action: "delete")
    }

    /// Dispatches setting a repository's importer, after validating the type and configuration (400 naming
    /// every problem); tagged `pulp:action:add_importer`.
    public func setImporter(
        of id: RepositoryID,
        typeID: String,
        configuration: [String: JSONValue]
    ) async throws -> CallReport {
        _ = try await repositories.repository(id)
        let plugin = try importers.existingImporter(ofType: typeID)
        let problems = importers.problems(in: configuration.filter { $0.value != .null }, for: plugin)
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
        return try await dispatchChange(.setImporter(typeID, configuration), of: id, action: "add_importer")
    }

    /// Dispatches merging `changes` into a repository's importer configuration after validating the
    /// result (404 for another importer id, 400 naming every problem); tagged `pulp:action:update_importer`.
    public func updateImporter(
        of id: RepositoryID,
        importerID: String,
        changes: [String: JSONValue]
    ) async throws -> CallReport {
        try await repositories.validateImporterUpdate(of: id, importerID: importerID, changes: changes)
        return try await dispatchChange(.updateImporter(importerID, changes), of: id, action: "update_importer")
    }

    /// Dispatches removing a repository's importer (and its schedules); tagged `pulp:action:delete_importer`.
    public func removeImporter(of id: RepositoryID, importerID: String) async throws -> CallReport {
        let repository = try await repositories.repository(id)
        guard repository.importer?.id == importerID else {
            throw PulpError.missingResource(["importer": importerID, "repository": id.rawValue])
        }
        return try await dispatchChange(.removeImporter(importerID), of: id, action: "delete_importer")
    }

    private func dispatchChange(
        _ change: RepositoryChange,
        of id: RepositoryID,
        action: String
    ) async throws -> CallReport {
        try await dispatcher.dispatch(
            TaskRequest(
                Self.repositoryTask,
                RepositoryChangeArguments(repositoryID: id, change: change),
                resources: [TaskResource.repository(id)],
                tags: [TaskTag.repository(id), TaskTag.action(action)]
            )
        )
    }

    /// Registers an importer plugin.
    public func register(_ importer: any Importer) {
        importers.register(importer)
    }

    /// Registers the applicability calculator of a content family (e.g. PulpRPM's `RPMApplicabilityCalculator`).
    ///
    /// - Throws: a ``PulpError`` when another calculator already handles one of its types.
    public func register<Calculator: ApplicabilityCalculator>(_ calculator: Calculator) throws {
        try applicability.register(calculator)
    }

    /// Runs the dispatcher, the scheduler and the retention job until cancelled; then lets running tasks drain.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.dispatcher.run() }
            group.addTask { try await self.scheduler.run() }
            group.addTask { await self.runRetention() }
            try await group.next()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// Purges sync history older than the retention age now and then every ``PulpConfiguration/retentionInterval``.
    private func runRetention() async {
        while !Task.isCancelled {
            _ = try? await repositories.history.purge(
                olderThan: configuration.historyRetention,
                at: configuration.clock.now
            )
            try? await Task.sleep(for: configuration.retentionInterval)
        }
    }

    private static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: url,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw PulpError.storage("cannot create the data directory: \(error.localizedDescription)", path: url.path)
        }
    }
}

/// A change to a repository run as a task.
public enum RepositoryChange: Codable, Sendable, Hashable {
    /// Delete the repository.
    case delete
    /// Attach an importer of a type with a configuration.
    case setImporter(String, [String: JSONValue])
    /// Merge changes into the importer's configuration.
    case updateImporter(String, [String: JSONValue])
    /// Remove the importer.
    case removeImporter(String)

    /// Applies the change; the task's result is the repository's new importer, or `null`.
    func apply(to id: RepositoryID, in repositories: RepositoryService) async throws -> JSONValue {
        switch self {
        case .delete:
            try await repositories.delete(id)
            return .null
        case .setImporter(let typeID, let configuration):
            return try await repositories.setImporter(of: id, typeID: typeID, configuration: configuration)
                .json(repository: id)
        case .updateImporter(let importerID, let changes):
            return try await repositories.updateImporterConfiguration(of: id, importerID: importerID, changes: changes)
                .json(repository: id)
        case .removeImporter(let importerID):
            try await repositories.removeImporter(of: id, importerID: importerID)
            return .null
        }
    }
}

/// The arguments of a repository change task.
public struct RepositoryChangeArguments: Codable, Sendable, Hashable {
    /// The repository changed.
    public var repositoryID: RepositoryID
    /// The change.
    public var change: RepositoryChange

    enum CodingKeys: String, CodingKey {
        case repositoryID = "repo_id"
        case change
    }
}
