// Regeneration: the three request paths of the spec, the task handlers behind them, and the computation they
// share (indexes built once per repository, profiles prepared once per profile set, pairs computed in
// parallel).

/// What a regeneration for repositories returns: a call report when it runs as one task, a group call report
/// when it runs as a group of parallel tasks.
public enum RegenerationReport: Sendable, Hashable {
    /// One task under the global regeneration lock.
    case task(CallReport)
    /// A group of unreserved batch tasks; ``TaskDispatcher/summary(ofGroup:)`` counts their states.
    case group(GroupCallReport)

    /// The 202 body: the call report's or the group call report's JSON.
    public var json: JSONValue {
        switch self {
        case .task(let report): report.json
        case .group(let report): report.json
        }
    }
}

struct ConsumerRegenerationArguments: Codable, Sendable {
    var consumerCriteria: JSONValue

    enum CodingKeys: String, CodingKey {
        case consumerCriteria = "consumer_criteria"
    }
}

struct RepositoryRegenerationArguments: Codable, Sendable {
    var repoCriteria: JSONValue

    enum CodingKeys: String, CodingKey {
        case repoCriteria = "repo_criteria"
    }
}

struct BatchRegenerationArguments: Codable, Sendable {
    struct Item: Codable, Sendable {
        var profileSet: String
        var repositories: [RepositoryID]

        enum CodingKeys: String, CodingKey {
            case profileSet = "profile_set"
            case repositories = "repo_ids"
        }
    }

    var items: [Item]

    enum CodingKeys: String, CodingKey {
        case items = "profile_sets"
    }
}

/// What one regeneration task did; its JSON is the task's result.
struct RegenerationOutcome: Sendable {
    /// Records computed and saved.
    var records = 0
    /// Distinct profile sets computed.
    var profileSets = 0
    /// Profile sets whose stored profiles a calculator refused (their types are left out).
    var unreadableProfileSets = 0

    mutating func add(_ other: RegenerationOutcome) {
        records += other.records
        profileSets += other.profileSets
        unreadableProfileSets += other.unreadableProfileSets
    }

    var json: JSONValue {
        [
            "records_computed": .int(records),
            "profile_sets": .int(profileSets),
            "unreadable_profile_sets": .int(unreadableProfileSets),
        ]
    }
}

extension ApplicabilityEngine {
    static let consumersKind = TaskKind<ConsumerRegenerationArguments>(consumersTaskName)
    static let repositoriesKind = TaskKind<RepositoryRegenerationArguments>(repositoriesTaskName)
    static let batchKind = TaskKind<BatchRegenerationArguments>(batchTaskName)

    // MARK: - Requests

    /// Regenerates applicability for the consumers `criteria` matches (spec: "for Updated Consumers").
    ///
    /// One task, tagged ``regenerationTag`` and holding ``TaskResource/applicabilityRegeneration``, so only
    /// one bulk regeneration runs at a time and later ones queue. It fills in the records that are missing
    /// for each (bound repository, distinct profile set) of the matched consumers; records that exist are
    /// left as they are (refreshing them is ``regenerate(repositories:parallel:)``'s job). A repository
    /// holding no content a calculator handles gets a record with no content type, so that a later
    /// regeneration for it computes the types it gains.
    public func regenerate(consumers criteria: Criteria) async throws -> CallReport {
        try await dispatcher.dispatch(
            Self.consumersKind,
            ConsumerRegenerationArguments(consumerCriteria: criteria.json),
            resources: [TaskResource.applicabilityRegeneration],
            tags: [Self.regenerationTag]
        )
    }

    /// Regenerates applicability for one consumer: the same work as ``regenerate(consumers:)``, in a task
    /// tagged ``consumerRegenerationTag`` that reserves `pulp:consumer:<id>`, so requests for one consumer
    /// run one after another while other consumers' run alongside.
    ///
    /// - Throws: a 404 ``PulpError`` naming the consumer when it does not exist.
    public func regenerate(consumer id: ConsumerID) async throws -> CallReport {
        _ = try await consumers.existingConsumer(id)
        let criteria = try Criteria(filters: ["id": .string(id.rawValue)])
        return try await dispatcher.dispatch(
            Self.consumersKind,
            ConsumerRegenerationArguments(consumerCriteria: criteria.json),
            resources: [TaskResource.consumer(id)],
            tags: [Self.consumerRegenerationTag]
        )
    }

    /// Regenerates applicability for the repositories `criteria` matches (spec: "for Updated Repositories").
    ///
    /// Only existing data is refreshed: each record of a matched repository whose profile set some bound
    /// consumer still has is computed again, against the repository's content now, so content types the
    /// repository gained are computed too. Pairs without a record are left to
    /// ``regenerate(consumers:)``.
    ///
    /// - Parameter parallel: `false` runs one task under the global lock, as ``regenerate(consumers:)``
    ///   does, and returns ``RegenerationReport/task(_:)``. `true` decides the work now and splits it into
    ///   tasks of ``Configuration/parallelBatchSize`` profile sets, dispatched as one unreserved, untagged
    ///   group that runs concurrently, and returns ``RegenerationReport/group(_:)`` (a group with no task
    ///   when there is nothing to refresh). The tasks of a group share each repository's index.
    public func regenerate(
        repositories criteria: Criteria,
        parallel: Bool = false
    ) async throws
        -> RegenerationReport
    {
        guard parallel else {
            return .task(
                try await dispatcher.dispatch(
                    Self.repositoriesKind,
                    RepositoryRegenerationArguments(repoCriteria: criteria.json),
                    resources: [TaskResource.applicabilityRegeneration],
                    tags: [Self.regenerationTag]
                )
            )
        }
        let work = try await refreshWork(for: criteria)
        let hashes = work.keys.sorted()
        let size = configuration.parallelBatchSize
        let requests = try stride(from: 0, to: hashes.count, by: size).map { start in
            let items = hashes[start..<min(start + size, hashes.count)].map { hash in
                BatchRegenerationArguments.Item(profileSet: hash, repositories: work[hash, default: []].sorted())
            }
            return try TaskRequest(Self.batchKind, BatchRegenerationArguments(items: items))
        }
        return .group(try await dispatcher.dispatchGroup(requests))
    }

    // MARK: - Task handlers

    func registerTaskHandlers() {
        dispatcher.register(Self.consumersKind) { [weak self] _, arguments in
            guard let self else { throw PulpError.internalError("The applicability engine is gone") }
            return try await self.fillGaps(consumerCriteria: arguments.consumerCriteria).json
        }
        dispatcher.register(Self.repositoriesKind) { [weak self] _, arguments in
            guard let self else { throw PulpError.internalError("The applicability engine is gone") }
            let criteria = try Criteria(json: arguments.repoCriteria)
            return try await self.compute(try await self.refreshWork(for: criteria), sharing: nil).json
        }
        dispatcher.register(Self.batchKind) { [weak self] context, arguments in
            guard let self else { throw PulpError.internalError("The applicability engine is gone") }
            var work: [String: Set<RepositoryID>] = [:]
            for item in arguments.items { work[item.profileSet, default: []].formUnion(item.repositories) }
            return try await self.compute(work, sharing: context.task.groupID).json
        }
    }

    /// The consumer path: the (profile set, repository) pairs of the matched consumers that have no record.
    func fillGaps(consumerCriteria: JSONValue) async throws -> RegenerationOutcome {
        let criteria = try Criteria(json: consumerCriteria)
        let selected = try await consumers.consumers(matching: criteria)
        let summaries = try await consumers.summaries(of: selected.map(\.id))
        var existing: [RepositoryID: Set<String>] = [:]
        var work: [String: Set<RepositoryID>] = [:]
        for summary in summaries {
            guard let hash = summary.profileSetHash else { continue }
            for repository in summary.repositories {
                if existing[repository] == nil { existing[repository] = try await store.profileSets(in: repository) }
                if existing[repository]?.contains(hash) != true { work[hash, default: []].insert(repository) }
            }
        }
        return try await compute(work, sharing: nil)
    }

    /// The repository path: the existing records of the matched repositories whose profile set is still bound.
    func refreshWork(for criteria: Criteria) async throws -> [String: Set<RepositoryID>] {
        let matched = try await repositories.repositories(matching: criteria).map(\.id)
        guard !matched.isEmpty else { return [:] }
        let matchedSet = Set(matched)
        var live: [RepositoryID: Set<String>] = [:]
        for summary in try await consumers.summaries(boundTo: matchedSet) {
            guard let hash = summary.profileSetHash else { continue }
            for repository in summary.repositories where matchedSet.contains(repository) {
                live[repository, default: []].insert(hash)
            }
        }
        var work: [String: Set<RepositoryID>] = [:]
        for repository in matched {
            guard let bound = live[repository] else { continue }
            for hash in try await store.profileSets(in: repository) where bound.contains(hash) {
                work[hash, default: []].insert(repository)
            }
        }
        return work
    }

    // MARK: - Computation

    /// Computes and saves the record of every (profile set, repository) pair of `work`.
    ///
    /// Profile sets no consumer has any more and repositories that no longer exist are skipped. With a
    /// `group`, repository indexes are shared with the other tasks of that group.
    func compute(
        _ work: [String: Set<RepositoryID>],
        sharing group: TaskGroupID?
    ) async throws
        -> RegenerationOutcome
    {
        guard !work.isEmpty else { return RegenerationOutcome() }
        let calculators = self.calculators
        let profileSets = try await consumers.profileSets(Set(work.keys))
        let hashes = work.keys.filter { profileSets[$0] != nil }.sorted()
        var needed: Set<RepositoryID> = []
        for hash in hashes { needed.formUnion(work[hash, default: []]) }
        let (indexes, warmed) = try await indexesAndProfiles(
            repositories: needed.sorted(),
            profileSets: hashes.map { ($0, profileSets[$0] ?? []) },
            calculators: calculators,
            group: group
        )

        let chunk = 4
        let next = PulpMutex(0)
        let workers = min(configuration.concurrency, (hashes.count + chunk - 1) / chunk)
        return try await withThrowingTaskGroup(of: RegenerationOutcome.self) { tasks in
            for _ in 0..<workers {
                tasks.addTask {
                    var outcome = RegenerationOutcome()
                    var pending: [ApplicabilityRecord] = []
                    while true {
                        try Task.checkCancellation()
                        let start = next.withLock { position in
                            defer { position += chunk }
                            return position
                        }
                        guard start < hashes.count else { break }
                        for hash in hashes[start..<min(start + chunk, hashes.count)] {
                            let computed = Self.records(
                                profileSet: hash,
                                profiles: profileSets[hash] ?? [],
                                repositories: work[hash, default: []],
                                indexes: indexes,
                                calculators: calculators,
                                prepared: warmed[hash] ?? [:],
                                cache: self.preparedProfiles
                            )
                            pending += computed.records
                            outcome.profileSets += 1
                            if !computed.readable { outcome.unreadableProfileSets += 1 }
                        }
                        if pending.count >= 256 {
                            try await self.store.save(pending)
                            outcome.records += pending.count
                            pending.removeAll(keepingCapacity: true)
                        }
                    }
                    if !pending.isEmpty {
                        try await self.store.save(pending)
                        outcome.records += pending.count
                    }
                    return outcome
                }
            }
            var total = RegenerationOutcome()
            for try await outcome in tasks { total.add(outcome) }
            return total
        }
    }

    /// The records of one profile set against each of `repositories` that still exists.
    static func records(
        profileSet hash: String,
        profiles: [UnitProfile],
        repositories: Set<RepositoryID>,
        indexes: [RepositoryID: RepositoryIndexes],
        calculators: [RegisteredCalculator],
        prepared: [Int: any Sendable],
        cache: PreparedProfileCache
    ) -> (records: [ApplicabilityRecord], readable: Bool) {
        var byType: [String: JSONValue] = [:]
        for profile in profiles where !profile.isEmpty { byType[profile.contentType] = profile.profile }
        var prepared = prepared
        var refused: Set<Int> = []
        var records: [ApplicabilityRecord] = []
        for repository in repositories.sorted() {
            guard let repositoryIndexes = indexes[repository] else { continue }
            var applicability: [String: [UnitID]] = [:]
            var positions: [String: UnitPositions] = [:]
            for entry in repositoryIndexes.entries where !refused.contains(entry.calculator) {
                let calculator = calculators[entry.calculator]
                if prepared[entry.calculator] == nil {
                    let mine = byType.filter { calculator.profileTypes.contains($0.key) }
                    guard !mine.isEmpty else { continue }
                    if let cached = cache.value(calculator: entry.calculator, profileSet: hash) {
                        prepared[entry.calculator] = cached
                    } else {
                        do {
                            let value = try calculator.prepare(mine)
                            prepared[entry.calculator] = value
                            cache.insert(value, calculator: entry.calculator, profileSet: hash)
                        } catch {
                            refused.insert(entry.calculator)
                            continue
                        }
                    }
                }
                guard let profiles = prepared[entry.calculator] else { continue }
                if let result = calculator.computePositions(profiles, entry.index) {
                    for type in calculator.contentTypes {
                        applicability[type] = result[type]?.ids ?? []
                        positions[type] = result[type]
                    }
                    continue
                }
                let result = calculator.compute(profiles, entry.index)
                for type in calculator.contentTypes {
                    let list = result[type] ?? []
                    applicability[type] = calculator.reportsSortedLists ? list : sortedUnique(list)
                }
            }
            records.append(
                ApplicabilityRecord(
                    key: ApplicabilityKey(repositoryID: repository, profileSetHash: hash),
                    applicability: applicability,
                    positions: positions
                )
            )
        }
        return (records, refused.isEmpty)
    }

    /// The indexes of each repository that exists (or the group's memo of them), and every profile set's
    /// prepared profiles, all built concurrently: index builds first, as they take longest, then profile
    /// sets in chunks, so that the cores stay busy while the last index is built.
    func indexesAndProfiles(
        repositories: [RepositoryID],
        profileSets: [(hash: String, profiles: [UnitProfile])],
        calculators: [RegisteredCalculator],
        group: TaskGroupID?
    ) async throws -> (indexes: [RepositoryID: RepositoryIndexes], prepared: [String: [Int: any Sendable]]) {
        enum Piece: Sendable {
            case index(RepositoryID, RepositoryIndexes?)
            case profiles([(String, [Int: any Sendable])])
        }
        var jobs: [@Sendable () async throws -> Piece] = repositories.map { repository in
            {
                let build: @Sendable () async throws -> RepositoryIndexes? = {
                    try await self.buildIndexes(of: repository, calculators: calculators)
                }
                guard let group else { return .index(repository, try await build()) }
                let key = RepositoryIndexMemo.Key(group: group, repository: repository, calculators: calculators.count)
                return .index(repository, try await self.indexMemo.value(for: key, build: build))
            }
        }
        let cache = preparedProfiles
        for start in stride(from: 0, to: profileSets.count, by: 8) {
            let chunk = Array(profileSets[start..<min(start + 8, profileSets.count)])
            jobs.append {
                try Task.checkCancellation()
                return .profiles(chunk.map { ($0.hash, Self.prepare($0.profiles, hash: $0.hash, calculators, cache)) })
            }
        }
        let limit = configuration.concurrency
        return try await withThrowingTaskGroup(of: Piece.self) { tasks in
            var indexes: [RepositoryID: RepositoryIndexes] = [:]
            var prepared: [String: [Int: any Sendable]] = [:]
            var pending = jobs[...]
            for _ in 0..<limit {
                if let job = pending.popFirst() { tasks.addTask(operation: job) }
            }
            for try await piece in tasks {
                switch piece {
                case .index(let repository, let built): indexes[repository] = built
                case .profiles(let chunk): for (hash, values) in chunk { prepared[hash] = values }
                }
                if let job = pending.popFirst() { tasks.addTask(operation: job) }
            }
            return (indexes, prepared)
        }
    }

    /// Every calculator's prepared profiles for one profile set, from the cache or prepared now (and cached);
    /// a calculator that refuses the profiles is left out, for ``records(profileSet:profiles:repositories:indexes:calculators:prepared:cache:)`` to count.
    static func prepare(
        _ profiles: [UnitProfile],
        hash: String,
        _ calculators: [RegisteredCalculator],
        _ cache: PreparedProfileCache
    ) -> [Int: any Sendable] {
        var result: [Int: any Sendable] = [:]
        for (position, calculator) in calculators.enumerated() {
            var mine: [String: JSONValue] = [:]
            for profile in profiles where !profile.isEmpty && calculator.profileTypes.contains(profile.contentType) {
                mine[profile.contentType] = profile.profile
            }
            guard !mine.isEmpty else { continue }
            if let cached = cache.value(calculator: position, profileSet: hash) {
                result[position] = cached
            } else if let value = try? calculator.prepare(mine) {
                result[position] = value
                cache.insert(value, calculator: position, profileSet: hash)
            }
        }
        return result
    }

    /// Builds every active calculator's index of a repository; `nil` when the repository does not exist.
    func buildIndexes(
        of repository: RepositoryID,
        calculators: [RegisteredCalculator]
    ) async throws
        -> RepositoryIndexes?
    {
        guard try await repositories.repository(repository) != nil else { return nil }
        let types = calculators.reduce(into: Set<String>()) { $0.formUnion($1.contentTypes) }
        let units = try await content.units(in: repository, types: types)
        var entries: [RepositoryIndexes.Entry] = []
        for (position, calculator) in calculators.enumerated() {
            // Most repositories hold only one calculator's types: then its units are all of them, uncopied.
            let all = units.indices.allSatisfy { calculator.contentTypes.contains(units[$0].typeID) }
            let mine = all ? units : units.filter { calculator.contentTypes.contains($0.typeID) }
            guard !mine.isEmpty else { continue }
            entries.append(RepositoryIndexes.Entry(calculator: position, index: calculator.makeIndex(mine)))
        }
        return RepositoryIndexes(entries: entries)
    }
}

/// The indexes of one repository, one per calculator that has content there.
struct RepositoryIndexes: Sendable {
    struct Entry: Sendable {
        /// The calculator's position in the registry.
        let calculator: Int
        let index: any Sendable
    }

    let entries: [Entry]
}

/// Repository indexes shared by the tasks of one parallel regeneration group, so each is built once.
///
/// Entries are keyed by group, so one group never sees another's snapshot of the content; the oldest
/// entries are dropped past `capacity`, which bounds memory (a dropped index is simply built again).
final class RepositoryIndexMemo: Sendable {
    struct Key: Hashable, Sendable {
        let group: TaskGroupID
        let repository: RepositoryID
        let calculators: Int
    }

    private struct State {
        var entries: [Key: Task<RepositoryIndexes?, any Error>] = [:]
        var order: [Key] = []
    }

    private let state = PulpMutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// The value for `key`, built by `build` by the first caller; later callers wait for the same build.
    func value(
        for key: Key,
        build: @escaping @Sendable () async throws -> RepositoryIndexes?
    ) async throws -> RepositoryIndexes? {
        let task = state.withLock { state in
            if let existing = state.entries[key] {
                state.order.removeAll { $0 == key }
                state.order.append(key)
                return existing
            }
            let task = Task { try await build() }
            state.entries[key] = task
            state.order.append(key)
            while state.order.count > capacity { state.entries[state.order.removeFirst()] = nil }
            return task
        }
        do {
            return try await task.value
        } catch {
            // A failed build is not remembered: the next task of the group tries again.
            state.withLock { state in
                if state.entries[key] == task {
                    state.entries[key] = nil
                    state.order.removeAll { $0 == key }
                }
            }
            throw error
        }
    }

    /// How many indexes are remembered now.
    var count: Int { state.withLock { $0.entries.count } }
}

/// Calculators' prepared profiles by (calculator, profile set), kept across regenerations: a profile set hash
/// names identical profiles, and preparing is a pure function of them. The least recently used entries are
/// dropped past `capacity` profile sets, which bounds memory.
final class PreparedProfileCache: Sendable {
    private struct Key: Hashable {
        let calculator: Int
        let profileSet: String
    }

    private struct State {
        var entries: [Key: (value: any Sendable, used: UInt64)] = [:]
        var clock: UInt64 = 0
    }

    private let state = PulpMutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(0, capacity) }

    func value(calculator: Int, profileSet: String) -> (any Sendable)? {
        state.withLock { state in
            let key = Key(calculator: calculator, profileSet: profileSet)
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key] = (entry.value, state.clock)
            return entry.value
        }
    }

    func insert(_ value: any Sendable, calculator: Int, profileSet: String) {
        guard capacity > 0 else { return }
        state.withLock { state in
            state.clock += 1
            state.entries[Key(calculator: calculator, profileSet: profileSet)] = (value, state.clock)
            if state.entries.count > capacity, let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                state.entries[oldest.key] = nil
            }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}

/// `ids` sorted ascending without duplicates; already sorted input is returned as it is, without a copy.
func sortedUnique(_ ids: [UnitID]) -> [UnitID] {
    var isSortedUnique = true
    if var previous = ids.first.map({ (UnitIDSortKey($0), $0) }) {
        for id in ids.dropFirst() {
            let key = UnitIDSortKey(id)
            if UnitIDSortKey.compare(previous.0, previous.1, key, id) >= 0 {
                isSortedUnique = false
                break
            }
            previous = (key, id)
        }
    }
    if isSortedUnique { return ids }
    var result = ids.sorted()
    var write = 0
    for read in result.indices where write == 0 || result[write - 1] != result[read] {
        result[write] = result[read]
        write += 1
    }
    result.removeLast(result.count - write)
    return result
}
