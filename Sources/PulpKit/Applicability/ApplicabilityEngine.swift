public import Foundation

/// Content applicability: which units of the repositories a consumer is bound to would update what it has
/// installed. The engine keeps consumers, their profiles and bindings, regenerates applicability as tasks,
/// and answers the collated query of Pulp 2's API.
///
/// ```swift
/// let engine = try ApplicabilityEngine(
///     consumers: InMemoryConsumerStore(), repositories: repositories, content: content,
///     store: InMemoryApplicabilityStore(), dispatcher: dispatcher)
/// try engine.register(RPMApplicabilityCalculator())
/// try await engine.register(Consumer(id: "sunflower"))
/// try await engine.setProfile(rpmProfile, contentType: "rpm", for: "sunflower")
/// try await engine.bind("sunflower", to: "el9-baseos")
/// let report = try await engine.regenerate(consumers: Criteria())   // a task; wait for it
/// let applicable = try await engine.query(consumers: Criteria())
/// ```
///
/// Applicability is stored per (repository, profile set): every consumer with the same non-empty profiles
/// (see ``ProfileHash``) shares one computation and one ``ApplicabilityRecord``. Regeneration never runs by
/// itself, as in Pulp: hosts call ``regenerate(consumers:)`` or ``regenerate(consumer:)`` after profiles or
/// bindings change, and ``regenerate(repositories:parallel:)`` after a repository's content changes.
///
/// The engine registers its task handlers on `dispatcher` when it is created; every dispatcher that runs
/// tasks from the same task store needs an engine (one per dispatcher).
public final class ApplicabilityEngine: Sendable {
    /// How regeneration divides its work.
    public struct Configuration: Sendable, Hashable {
        /// How many profile sets each task of a parallel regeneration computes (Pulp 2 used 10).
        public var parallelBatchSize: Int
        /// How many computations one regeneration task runs at once; by default one per core.
        public var concurrency: Int
        /// How many profile sets' prepared profiles (parsed once, reused by later regenerations) are kept in
        /// memory; 0 keeps none. An RPM profile set of 1,500 packages takes about 100 KB.
        public var preparedProfileCacheSize: Int

        /// Creates a configuration; values below 1 are raised to 1 (the cache size to 0).
        public init(
            parallelBatchSize: Int = 10,
            concurrency: Int = ProcessInfo.processInfo.activeProcessorCount,
            preparedProfileCacheSize: Int = 1_024
        ) {
            self.parallelBatchSize = max(1, parallelBatchSize)
            self.concurrency = max(1, concurrency)
            self.preparedProfileCacheSize = max(0, preparedProfileCacheSize)
        }
    }

    /// Where consumers, profiles and bindings live.
    public let consumers: any ConsumerStore
    /// The repositories consumers bind to.
    public let repositories: any RepositoryStore
    /// The repositories' content.
    public let content: any ContentStore
    /// Where applicability records live.
    public let store: any ApplicabilityStore
    /// The dispatcher that runs regeneration tasks.
    public let dispatcher: TaskDispatcher
    /// How regeneration divides its work.
    public let configuration: Configuration

    let registry = PulpMutex(CalculatorRegistry())
    let indexMemo = RepositoryIndexMemo(capacity: 16)
    let preparedProfiles: PreparedProfileCache

    /// Creates the engine over its stores and registers its task handlers on `dispatcher`.
    public init(
        consumers: any ConsumerStore,
        repositories: any RepositoryStore,
        content: any ContentStore,
        store: any ApplicabilityStore,
        dispatcher: TaskDispatcher,
        configuration: Configuration = Configuration()
    ) {
        self.consumers = consumers
        self.repositories = repositories
        self.content = content
        self.store = store
        self.dispatcher = dispatcher
        self.configuration = configuration
        self.preparedProfiles = PreparedProfileCache(capacity: configuration.preparedProfileCacheSize)
        registerTaskHandlers()
    }

    /// Registers the calculator of a content family, as a content plugin does.
    ///
    /// - Throws: a 400 ``PulpError`` when it names no content type or profile type or an empty one, a 409
    ///   when another registered calculator already handles one of its types.
    public func register<Calculator: ApplicabilityCalculator>(_ calculator: Calculator) throws(PulpError) {
        try registry.withLock { registry throws(PulpError) in try registry.register(RegisteredCalculator(calculator)) }
    }

    /// Every content type a registered calculator reports, e.g. `["erratum", "rpm"]`.
    public var contentTypes: Set<String> { registry.withLock { $0.contentTypes } }

    var calculators: [RegisteredCalculator] { registry.withLock { $0.calculators } }
}

// MARK: - Task names and tags

extension ApplicabilityEngine {
    /// The task that regenerates applicability for consumers matched by criteria (Pulp's task name).
    public static let consumersTaskName =
        "pulp.server.managers.consumer.applicability.regenerate_applicability_for_consumers"
    /// The task that regenerates applicability for repositories matched by criteria, in one task.
    public static let repositoriesTaskName =
        "pulp.server.managers.consumer.applicability.regenerate_applicability_for_repos"
    /// One task of a parallel regeneration for repositories.
    public static let batchTaskName = "pulp.server.managers.consumer.applicability.batch_regenerate_applicability"

    /// The tag of bulk regeneration tasks: `pulp:action:content_applicability_regeneration`.
    public static let regenerationTag = TaskTag.action("content_applicability_regeneration")
    /// The tag of single-consumer regeneration tasks: `pulp:action:consumer_content_applicability_regeneration`.
    public static let consumerRegenerationTag = TaskTag.action("consumer_content_applicability_regeneration")
}
