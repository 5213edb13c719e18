import Foundation

/// Creates, changes, lists and deletes the scheduled syncs of repositories' importers, and keeps their
/// failure counters from the outcomes of the syncs they start.
///
/// Its methods take and give what Pulp's REST endpoints do (`…/importers/<importer>/schedules/sync/`):
///
/// | endpoint | call | success |
/// |---|---|---|
/// | `POST` | ``create(repository:importer:body:)`` | 201, `Location: call.href`, body ``report(_:)`` |
/// | `GET` list | ``calls(repository:importer:)`` | 200, ``reports(_:)`` |
/// | `GET` one | ``call(_:repository:importer:)`` | 200, ``report(_:)`` |
/// | `PUT` | ``update(_:repository:importer:body:)`` | 200, ``report(_:)`` |
/// | `DELETE` | ``delete(_:repository:importer:)`` | 200, `null` |
///
/// Refusals are ``PulpError``s: keys a call does not accept are one 400 naming them (before anything
/// else is looked at); an unknown repository, importer or schedule (or a schedule of another importer) is
/// a 404; every bad value is reported in one 400 naming each property, in the order `schedule`,
/// `failure_threshold`, `enabled`, `override_config`. Nothing is stored when a call throws.
///
/// The service also keeps schedules consistent with what they point at: deleting a repository or its
/// importer (through the ``RepositoryService`` of ``sync``) deletes its schedules, and every task the
/// dispatcher ends that carries a `scheduled_call_id` counts as a success (finished or canceled) or a
/// failure (error) of that schedule. Create one service per dispatcher.
public final class ScheduleService: Sendable {
    /// The body keys a POST accepts.
    public static let creatableKeys: Set<String> = ["schedule", "override_config", "failure_threshold", "enabled"]
    /// The body keys a PUT accepts: the same, so `remaining_runs`, `args` and `kwargs` cannot be set.
    public static let updatableKeys: Set<String> = creatableKeys

    /// Where the schedules live.
    public let store: any ScheduleStore
    /// The sync service that dispatches the runs, with its repositories and dispatcher.
    public let sync: SyncService
    /// The clock that stamps changes and computes `next_run`.
    public let clock: any WallClock
    private let listeners = PulpMutex(ChangeListeners())
    /// Runs this service's schedulers claimed ahead of their due time and have not submitted yet.
    private let pending = PulpMutex(PendingRuns())
    /// Held by a scheduler from a claim until the claimed runs' tasks are held, and by a change while it
    /// voids runs: so a change finds each pending run with its held task, or not at all.
    private let pendingGate = AsyncSemaphore(permits: 1)

    /// Creates the service and subscribes it to repository deletions and task completions.
    ///
    /// - Parameter clock: the clock of schedules and schedulers; the repository service's clock by default.
    public init(store: any ScheduleStore, sync: SyncService, clock: (any WallClock)? = nil) {
        self.store = store
        self.sync = sync
        self.clock = clock ?? sync.repositories.clock
        sync.repositories.onDelete { [weak self] repository, _ in
            // A repository has one importer, so losing it or the repository takes all of its schedules.
            guard let self, try await self.store.deleteCalls(repository: repository) > 0 else { return }
            _ = self.pending.withLock { $0.take(repository: repository) }
            self.notifyChange()
        }
        sync.dispatcher.onCompletion { [weak self] task in
            await self?.record(task)
        }
    }

    // MARK: - REST-shaped calls

    /// Creates a schedule from a POST body: `schedule` (required), `override_config`, `failure_threshold`
    /// and `enabled`; returns the stored call (answer 201 with its ``ScheduledCall/href`` and ``report(_:)``).
    ///
    /// - Throws: 400 naming unsupported keys; 404 for an unknown repository or importer; 400 naming every
    ///   invalid value.
    public func create(
        repository: RepositoryID,
        importer: String,
        body: [String: JSONValue]
    ) async throws -> ScheduledCall {
        try Self.refuseUnsupportedKeys(in: body, allowed: Self.creatableKeys)
        let record = try await existingImporter(repository, importer)
        let fields = try validate(body, creating: true, importer: record)
        let now = clock.now
        guard let schedule = fields.schedule else { throw PulpError.invalid("schedule", "is required") }
        let call = try ScheduledCall(
            id: nil,
            repositoryID: repository,
            importerID: importer,
            schedule: schedule.text,
            interval: schedule.interval,
            overrideConfig: fields.overrideConfig ?? [:],
            failureThreshold: fields.failureThreshold ?? nil,
            enabled: fields.enabled ?? true,
            createdAt: now
        )
        try await store.insert(call)
        // The importer may have gone while this was stored: then so must the schedule (as in Pulp).
        if (try? await existingImporter(repository, importer)) == nil {
            try await store.delete(call.id)
            _ = try await existingImporter(repository, importer)
            throw PulpError.missingResource(["importer": importer, "repository": repository.rawValue])
        }
        notifyChange()
        return call
    }

    /// Changes a schedule from a PUT body, which may hold `schedule`, `override_config`, `failure_threshold`
    /// and `enabled` (an empty body changes only `last_updated`); returns the stored call.
    ///
    /// A new `schedule` recomputes `first_run` and keeps the counters, `last_run_at` and `remaining_runs`.
    ///
    /// - Throws: 400 naming unsupported keys; 404 for an unknown repository, importer or schedule, or a
    ///   schedule of another importer; 400 naming every invalid value.
    public func update(
        _ id: ScheduleID,
        repository: RepositoryID,
        importer: String,
        body: [String: JSONValue]
    ) async throws -> ScheduledCall {
        try Self.refuseUnsupportedKeys(in: body, allowed: Self.updatableKeys)
        let record = try await existingImporter(repository, importer)
        let fields = try validate(body, creating: false, importer: record)
        // Found first, so that a request naming another importer's schedule voids none of its runs.
        guard let found = try await store.call(id), found.repositoryID == repository, found.importerID == importer
        else { throw ScheduledCall.missing(id) }
        let call = try await exclusively {
            // Runs claimed ahead and not yet submitted are voided: the change applies as if made before their claim.
            let voided = try await voidPendingRuns(of: id)
            let now = clock.now
            return try await store.update(id) { call in
                guard call.repositoryID == repository, call.importerID == importer else {
                    throw ScheduledCall.missing(id)
                }
                for run in voided.reversed() { call.undoDispatch(run) }
                if let schedule = fields.schedule {
                    call.reschedule(schedule.text, interval: schedule.interval, at: now)
                }
                if let overrideConfig = fields.overrideConfig { call.overrideConfig = overrideConfig }
                if let failureThreshold = fields.failureThreshold { call.failureThreshold = failureThreshold }
                if let enabled = fields.enabled { call.enabled = enabled }
                call.lastUpdated = now
            }
        }
        notifyChange()
        return call
    }

    /// Deletes a schedule (answer 200 with `null`).
    ///
    /// - Throws: 404 for an unknown repository, importer or schedule, or a schedule of another importer.
    public func delete(_ id: ScheduleID, repository: RepositoryID, importer: String) async throws {
        _ = try await call(id, repository: repository, importer: importer)
        try await exclusively {
            guard try await store.delete(id) else { throw ScheduledCall.missing(id) }
            // Nothing to undo: withdrawing the runs' tasks now only spares a crash from running them later
            // (the scheduler withdraws them anyway when they fall due).
            _ = try? await voidPendingRuns(of: id)
        }
        notifyChange()
    }

    /// The schedules of a repository's importer, oldest first.
    ///
    /// - Throws: 404 for an unknown repository or importer.
    public func calls(repository: RepositoryID, importer: String) async throws -> [ScheduledCall] {
        _ = try await existingImporter(repository, importer)
        return try await store.calls(repository: repository, importer: importer)
    }

    /// One schedule of a repository's importer.
    ///
    /// - Throws: 404 for an unknown repository, importer or schedule, or a schedule of another importer.
    public func call(_ id: ScheduleID, repository: RepositoryID, importer: String) async throws -> ScheduledCall {
        _ = try await existingImporter(repository, importer)
        guard let call = try await store.call(id), call.repositoryID == repository, call.importerID == importer
        else { throw ScheduledCall.missing(id) }
        return call
    }

    /// The schedule report of the spec, with `next_run` as of now.
    public func report(_ call: ScheduledCall) -> JSONValue { call.report(at: clock.now) }

    /// The reports of several schedules, as the list endpoint returns them.
    public func reports(_ calls: [ScheduledCall]) -> JSONValue {
        let now = clock.now
        return .array(calls.map { $0.report(at: now) })
    }

    // MARK: - Typed calls

    /// Creates a schedule from typed values, validated exactly as ``create(repository:importer:body:)``.
    public func create(
        repository: RepositoryID,
        importer: String,
        schedule: String,
        overrideConfig: [String: JSONValue] = [:],
        failureThreshold: Int? = nil,
        enabled: Bool = true
    ) async throws -> ScheduledCall {
        try await create(
            repository: repository,
            importer: importer,
            body: [
                "schedule": .string(schedule),
                "override_config": .object(overrideConfig),
                "failure_threshold": failureThreshold.map(JSONValue.int) ?? .null,
                "enabled": .bool(enabled),
            ]
        )
    }

    /// Changes a schedule from typed values (`nil` leaves a field alone; `failureThreshold: .some(nil)`
    /// removes the threshold), validated exactly as ``update(_:repository:importer:body:)``.
    public func update(
        _ id: ScheduleID,
        repository: RepositoryID,
        importer: String,
        schedule: String? = nil,
        overrideConfig: [String: JSONValue]? = nil,
        failureThreshold: Int?? = nil,
        enabled: Bool? = nil
    ) async throws -> ScheduledCall {
        var body: [String: JSONValue] = [:]
        if let schedule { body["schedule"] = .string(schedule) }
        if let overrideConfig { body["override_config"] = .object(overrideConfig) }
        if let failureThreshold { body["failure_threshold"] = failureThreshold.map(JSONValue.int) ?? .null }
        if let enabled { body["enabled"] = .bool(enabled) }
        return try await update(id, repository: repository, importer: importer, body: body)
    }

    // MARK: - Outcomes

    /// Records how a run of schedule `id` ended (see ``ScheduledCall/recordOutcome(succeeded:at:)``); `nil`
    /// when the schedule no longer exists.
    @discardableResult
    public func recordOutcome(of id: ScheduleID, succeeded: Bool) async throws -> ScheduledCall? {
        do {
            guard !succeeded else {
                let now = clock.now
                return try await store.update(id) { $0.recordOutcome(succeeded: true, at: now) }
            }
            return try await exclusively {
                // A failure that disables the schedule voids the runs claimed ahead that are not yet submitted,
                // undone before the outcome is recorded (undoing a run that used up the schedule's last run
                // re-enables it). If the schedule changes meanwhile, the runs are voided or kept needlessly:
                // either way each slot runs once.
                var voided: [ClaimedRun] = []
                if let current = try await store.call(id) {
                    var outcome = current
                    outcome.recordOutcome(succeeded: false, at: clock.now)
                    if current.enabled, !outcome.enabled { voided = try await voidPendingRuns(of: id) }
                }
                let now = clock.now
                return try await store.update(id) { [voided] call in
                    for run in voided.reversed() { call.undoDispatch(run) }
                    call.recordOutcome(succeeded: false, at: now)
                }
            }
        } catch let error as PulpError where error.code == .missingResource {
            return nil
        }
    }

    /// Counts a completed task that carries a `scheduled_call_id`: finished and canceled are successes,
    /// error a failure. A store failure is retried a few times, then the outcome is dropped.
    func record(_ task: TaskStatus) async {
        guard let id = task.arguments["scheduled_call_id"]?.stringValue else { return }
        let succeeded: Bool
        switch task.state {
        case .finished, .canceled: succeeded = true
        case .error: succeeded = false
        default: return
        }
        var delay = Duration.milliseconds(10)
        for _ in 0..<5 {
            do {
                try await recordOutcome(of: ScheduleID(id), succeeded: succeeded)
                return
            } catch {
                guard (try? await Task.sleep(for: delay)) != nil else { return }
                delay *= 2
            }
        }
    }

    // MARK: - Runs claimed ahead

    /// Runs `body` alone among the calls that claim runs ahead or void them: a scheduler holds this from
    /// a claim until the claimed runs' tasks are held (``attachTasks(_:)``), a change while it voids runs.
    package func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        try await pendingGate.acquire()
        defer { pendingGate.release() }
        return try await body()
    }

    /// Records runs a scheduler claimed ahead of their due time; returns a token for each, to submit them
    /// with ``takePending(_:)`` or to give them back with ``giveBack(_:withdrawing:holds:)``. Until then, a
    /// change of a run's schedule (update, deletion, a failure that disables it) voids the run: its held
    /// task is withdrawn, then its claim undone.
    package func holdPending(_ runs: [ClaimedRun]) -> [Int] {
        pending.withLock { pending in runs.map { pending.hold($0) } }
    }

    /// Records the held task of each pending run (by token), before the scheduler leaves ``exclusively(_:)``.
    package func attachTasks(_ tasks: [(token: Int, task: TaskID)]) {
        pending.withLock { pending in
            for (token, task) in tasks { pending.attach(task, to: token) }
        }
    }

    /// Takes the runs of `tokens` that are still pending (not voided by a change): the scheduler submits
    /// exactly those, and withdraws the others' tasks. Returns whether each one was.
    package func takePending(_ tokens: [Int]) -> [Bool] {
        pending.withLock { pending in tokens.map { pending.take(token: $0) != nil } }
    }

    /// Gives back runs claimed ahead that will not be submitted (their scheduler stops): withdraws `tasks`
    /// (the runs' held tasks) and ends `holds`, then undoes the claim of each run still pending whose task
    /// is gone, newest first, so that it is due again for any scheduler. Returns how many were undone.
    ///
    /// A run whose task cannot be withdrawn keeps its claim: its hold expires and it runs late, never twice.
    package func giveBack(_ tokens: [Int], withdrawing tasks: [TaskID], holds: [TaskHoldID]) async -> Int {
        let runs = pending.withLock { pending in tokens.compactMap { pending.take(token: $0) } }
        let gone = (try? await sync.dispatcher.release(holds, withdrawing: tasks)) ?? []
        var undone = 0
        for run in runs.reversed() where run.task.map(gone.contains) ?? true {
            if (try? await store.update(run.run.id) { $0.undoDispatch(run.run) }) != nil { undone += 1 }
        }
        if undone > 0 { notifyChange() }
        return undone
    }

    /// Voids the pending runs of schedule `id`: takes them and withdraws their held tasks. Returns the runs
    /// whose tasks are gone, for the caller to undo their claims in its change's transaction (newest
    /// first); a run whose task had already been submitted keeps its claim. Call it inside
    /// ``exclusively(_:)``.
    private func voidPendingRuns(of id: ScheduleID) async throws -> [ClaimedRun] {
        let runs = pending.withLock { $0.take(id) }
        guard !runs.isEmpty else { return [] }
        let gone = try await sync.dispatcher.release([], withdrawing: runs.compactMap(\.task))
        return runs.filter { $0.task.map(gone.contains) ?? true }.map(\.run)
    }

    // MARK: - Change notification

    /// Calls `listener` after every change that can move a due time (create, update, delete); returns a
    /// token for ``removeChangeListener(_:)``. Schedulers use it to wake up early.
    package func addChangeListener(_ listener: @escaping @Sendable () -> Void) -> Int {
        listeners.withLock { $0.add(listener) }
    }

    /// Stops calling a listener.
    package func removeChangeListener(_ token: Int) {
        listeners.withLock { $0.remove(token) }
    }

    private func notifyChange() {
        for listener in listeners.withLock({ Array($0.listeners.values) }) { listener() }
    }

    // MARK: - Validation

    /// The fields of a valid body; a `nil` field was absent.
    private struct Fields {
        var schedule: (text: String, interval: RepeatingInterval)?
        var overrideConfig: [String: JSONValue]?
        var failureThreshold: Int??
        var enabled: Bool?
    }

    private static func refuseUnsupportedKeys(in body: [String: JSONValue], allowed: Set<String>) throws {
        let unsupported = body.keys.filter { !allowed.contains($0) }.sorted()
        if !unsupported.isEmpty { throw PulpError.unsupportedProperties(unsupported) }
    }

    /// The repository's importer when it is `importer`; a 404 naming what is missing otherwise.
    private func existingImporter(_ repository: RepositoryID, _ importer: String) async throws -> RepositoryImporter {
        let stored = try await sync.repositories.repository(repository)
        guard let record = stored.importer, record.id == importer else {
            throw PulpError.missingResource(["importer": importer, "repository": repository.rawValue])
        }
        return record
    }

    /// Reads and checks every field of `body`, reporting every problem in one 400.
    private func validate(
        _ body: [String: JSONValue],
        creating: Bool,
        importer: RepositoryImporter
    ) throws -> Fields {
        var fields = Fields()
        var problems: [PulpError.Problem] = []
        switch body["schedule"] {
        case .string(let text):
            do {
                fields.schedule = (text, try RepeatingInterval(parsing: text))
            } catch {
                problems += error.subErrors.map { .init("schedule", String($0.message.dropFirst("schedule: ".count))) }
            }
        case nil where !creating:
            break
        case nil:
            problems.append(.init("schedule", "is required: an ISO 8601 repeating interval such as PT1H"))
        case let value?:
            problems.append(.init("schedule", "must be an ISO 8601 interval string, got \(value.typeName)"))
        }
        switch body["failure_threshold"] {
        case nil: break
        case .null: fields.failureThreshold = .some(nil)
        case .int(let threshold) where threshold > 0: fields.failureThreshold = threshold
        case let value?:
            problems.append(.init("failure_threshold", "must be null or an integer above 0, got \(value)"))
        }
        switch body["enabled"] {
        case nil: break
        case .bool(let enabled): fields.enabled = enabled
        case let value?: problems.append(.init("enabled", "must be true or false, got \(value)"))
        }
        switch body["override_config"] {
        case nil: break
        case .object(let overrideConfig):
            let plugin = try sync.repositories.importers.existingImporter(ofType: importer.typeID)
            let effective = ImporterSettings.effectiveConfiguration(
                stored: importer.configuration,
                override: overrideConfig
            )
            let invalid = sync.repositories.importers.problems(in: effective, for: plugin)
            problems += invalid.map { .init("override_config.\($0.property)", $0.reason) }
            fields.overrideConfig = overrideConfig
        case let value?:
            problems.append(.init("override_config", "must be a JSON object, got \(value.typeName)"))
        }
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
        return fields
    }
}

/// The change listeners of a ``ScheduleService``, by token.
private struct ChangeListeners {
    var listeners: [Int: @Sendable () -> Void] = [:]
    var nextToken = 0

    mutating func add(_ listener: @escaping @Sendable () -> Void) -> Int {
        nextToken += 1
        listeners[nextToken] = listener
        return nextToken
    }

    mutating func remove(_ token: Int) { listeners[token] = nil }
}

/// A run claimed ahead and not yet submitted, with its held task once there is one.
private struct PendingRun {
    var run: ClaimedRun
    var task: TaskID?
}

/// The runs claimed ahead and not yet submitted, by token and by schedule.
private struct PendingRuns {
    private var runs: [Int: PendingRun] = [:]
    /// Each schedule's tokens, oldest claim first.
    private var bySchedule: [ScheduleID: [Int]] = [:]
    private var nextToken = 0

    mutating func hold(_ run: ClaimedRun) -> Int {
        nextToken += 1
        runs[nextToken] = PendingRun(run: run)
        // Tokens taken since the schedule's last claim are dropped here, so the index stays one entry or so
        // per schedule, and taking a token (on the submit path) touches one dictionary only.
        let runs = self.runs
        bySchedule[run.id, default: []].removeAll { runs[$0] == nil }
        bySchedule[run.id, default: []].append(nextToken)
        return nextToken
    }

    mutating func attach(_ task: TaskID, to token: Int) {
        runs[token]?.task = task
    }

    /// Takes one run, `nil` when it is not pending.
    mutating func take(token: Int) -> PendingRun? {
        runs.removeValue(forKey: token)
    }

    /// Takes every pending run of a schedule, oldest claim first.
    mutating func take(_ id: ScheduleID) -> [PendingRun] {
        guard let tokens = bySchedule.removeValue(forKey: id) else { return [] }
        return tokens.compactMap { runs.removeValue(forKey: $0) }
    }

    /// Takes every pending run of a repository's schedules.
    mutating func take(repository: RepositoryID) -> [PendingRun] {
        let ids = Set(runs.values.filter { $0.run.call.repositoryID == repository }.map(\.run.id))
        return ids.flatMap { take($0) }
    }
}
