public import Foundation
public import PulpKit

/// Everything a sync needs, wired together over a temporary directory: the place to test an ``Importer``.
///
/// ```swift
/// try await SyncHarness.run(importers: [FileImporter()]) { harness in
///     try await harness.repositories.create(Repository(id: "zoo"), importerTypeID: "iso_importer",
///                                           importerConfiguration: ["feed": .string(feed.absoluteString)])
///     let status = try await harness.syncAndWait("zoo")
///     #expect(status.state == .finished)
/// }
/// ```
public struct SyncHarness: Sendable {
    /// Which stores the harness uses.
    public enum Backend: String, Sendable, CaseIterable {
        /// The in-memory stores.
        case memory
        /// SQLite stores sharing one database file in the temporary directory.
        case sqlite
    }

    /// The temporary directory holding the storage root (and the database, for `.sqlite`).
    public let directory: URL
    /// Repositories, importers, content and history.
    public let repositories: RepositoryService
    /// The sync and download service.
    public let sync: SyncService
    /// The dispatcher, running while the harness's body runs.
    public let dispatcher: TaskDispatcher
    /// The content storage root.
    public var storage: ContentStorage { sync.storage }
    /// The content store.
    public var content: any ContentStore { repositories.content }

    /// Builds the services in a new temporary directory, runs the dispatcher while `body` runs, then stops
    /// it and removes the directory.
    public static func run<Result: Sendable>(
        importers: [any Importer],
        backend: Backend = .memory,
        transport: any HTTPTransport = RoutingTransport(),
        workers: Int = 4,
        _ body: (SyncHarness) async throws -> Result
    ) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pulpkit-sync-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let harness = try SyncHarness(
            directory: directory,
            importers: importers,
            backend: backend,
            transport: transport,
            workers: workers
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await harness.dispatcher.run() }
            defer { group.cancelAll() }
            return try await body(harness)
        }
    }

    private init(
        directory: URL,
        importers: [any Importer],
        backend: Backend,
        transport: any HTTPTransport,
        workers: Int
    ) throws {
        self.directory = directory
        let tasks: any TaskStore
        let repositoryStore: any RepositoryStore
        let contentStore: any ContentStore
        let historyStore: any HistoryStore
        switch backend {
        case .memory:
            tasks = InMemoryTaskStore()
            repositoryStore = InMemoryRepositoryStore()
            contentStore = InMemoryContentStore()
            historyStore = InMemoryHistoryStore()
        case .sqlite:
            let executor = try SQLiteExecutor(
                path: directory.appendingPathComponent("pulp.db").path,
                synchronous: .normal
            )
            tasks = try SQLiteTaskStore(executor: executor)
            repositoryStore = try SQLiteRepositoryStore(executor: executor)
            contentStore = try SQLiteContentStore(executor: executor)
            historyStore = try SQLiteHistoryStore(executor: executor)
        }
        dispatcher = TaskDispatcher(
            store: tasks,
            configuration: .init(workerCount: workers, pollInterval: .milliseconds(20), drainGracePeriod: .seconds(1))
        )
        repositories = RepositoryService(
            repositories: repositoryStore,
            content: contentStore,
            history: historyStore,
            importers: ImporterRegistry(importers)
        )
        sync = SyncService(
            repositories: repositories,
            storage: try ContentStorage(root: directory.appendingPathComponent("storage", isDirectory: true)),
            dispatcher: dispatcher,
            transport: transport,
            backoff: .immediate
        )
    }

    /// Dispatches a sync and waits for its task to end.
    public func syncAndWait(
        _ repository: RepositoryID,
        overrideConfig: [String: JSONValue] = [:]
    ) async throws -> TaskStatus {
        let report = try await sync.sync(repository: repository, overrideConfig: overrideConfig)
        return try await dispatcher.waitForCompletion(of: report.spawnedTasks[0].taskID)
    }

    /// Dispatches a download of the repository's deferred content and waits for its task to end.
    public func downloadAndWait(_ repository: RepositoryID, verifyAllUnits: Bool = false) async throws -> TaskStatus {
        let report = try await sync.download(repository: repository, verifyAllUnits: verifyAllUnits)
        return try await dispatcher.waitForCompletion(of: report.spawnedTasks[0].taskID)
    }

    /// The repository's sync history, newest first.
    public func history(of repository: RepositoryID) async throws -> [SyncHistoryEntry] {
        try await repositories.history.entries(for: repository, matching: SyncHistoryQuery())
    }
}
