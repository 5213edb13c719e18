import Foundation
import PulpKit

/// The child of a crash run: opens the real stores of `directory` and writes to all of them as fast as it
/// can until it is killed, logging each acknowledged write to the side log.
///
/// Every object is written by one loop only, in order, so what the log says of an object stays true until
/// a later line says more: a finished task stays finished, a schedule's generation and run count only grow.
/// The one write that takes something away, deleting a schedule, is announced before it is made
/// (`schedule-deleting`), since the kill may land after it commits and before its acknowledgement is logged.
struct CrashWriter {
    let directory: URL
    let log: SideLog
    /// Tasks dispatched by this child and not ended yet.
    private let backlog = PulpMutex(0)

    init(directory: URL, log: SideLog) {
        self.directory = directory
        self.log = log
    }

    func run() async throws {
        let pulp: Pulp
        do {
            pulp = try Pulp(configuration: CrashWorkload.configuration(directory: directory))
        } catch {
            FileHandle.standardError.write(Data("writer: cannot open the stores: \(error)\n".utf8))
            exit(3)
        }
        let log = self.log
        let backlog = self.backlog
        pulp.dispatcher.register(CrashWorkload.taskName) { context in
            try await context.reportProgress(["step": "done"])
            return ["task": .string(context.task.id.rawValue)]
        }
        pulp.dispatcher.onCompletion { task in
            log.append("task-end", task.id.rawValue, task.state.rawValue)
            backlog.withLock { $0 -= 1 }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pulp.dispatcher.run() }
            group.addTask { try await forever { try await writeHistory(pulp.repositories.history) } }
            group.addTask { try await forever { try await dispatchTasks(pulp.dispatcher) } }
            group.addTask { try await writeSchedules(pulp.schedules.store) }
            group.addTask { try await writeApplicability(pulp.applicability.store) }
            group.addTask { try await writeContent(pulp.repositories.content, storage: pulp.sync.storage) }
            try await group.next()
        }
    }

    private func forever(_ body: () async throws -> Void) async throws {
        while true { try await body() }
    }

    // MARK: - History

    /// One entry alone, then a batch appended in one transaction.
    private func writeHistory(_ history: any HistoryStore) async throws {
        let now = Date()
        let entry = SyncHistoryEntry(
            repositoryID: CrashWorkload.historyRepository,
            importerID: "crash_importer",
            importerTypeID: "crash_importer",
            result: Bool.random() ? .success : .failed,
            started: now,
            completed: now,
            summary: ["single": true]
        )
        try await history.append(entry)
        log.append(
            "history",
            entry.id.rawValue,
            String(Int(entry.started.timeIntervalSince1970)),
            entry.result.rawValue
        )
        guard let sqlite = history as? SQLiteHistoryStore else { return }
        let batch = UUID().uuidString.lowercased()
        let entries = (0..<CrashWorkload.historyBatchSize).map { _ in
            SyncHistoryEntry(
                repositoryID: CrashWorkload.historyRepository,
                importerID: "crash_importer",
                importerTypeID: "crash_importer",
                result: .success,
                started: now,
                completed: now,
                summary: ["batch": .string(batch), "batch_size": .int(CrashWorkload.historyBatchSize)]
            )
        }
        try await sqlite.append(contentsOf: entries)
        log.append("history-batch", batch)
    }

    // MARK: - Tasks

    /// Dispatches a task (a few on a common resource), sometimes a group or a cancellation; waits while
    /// many are queued, so the queue stays short and tasks keep changing state.
    private func dispatchTasks(_ dispatcher: TaskDispatcher) async throws {
        let resources = Array(CrashWorkload.resources.shuffled().prefix(Int.random(in: 0...2)))
        let report = try await dispatcher.dispatch(
            TaskRequest(
                name: CrashWorkload.taskName,
                arguments: ["n": .int(Int.random(in: 0..<1000))],
                resources: resources
            )
        )
        let id = report.spawnedTasks[0].taskID
        backlog.withLock { $0 += 1 }
        log.append("task", id.rawValue)
        switch Int.random(in: 0..<10) {
        case 0:
            let task = try await dispatcher.cancel(id)
            if task.state == .canceled { log.append("task-cancel", id.rawValue) }
        case 1:
            let group = try await dispatcher.dispatchGroup(
                (0..<CrashWorkload.groupSize).map { _ in
                    TaskRequest(name: CrashWorkload.taskName, resources: [CrashWorkload.resources[0]])
                }
            )
            backlog.withLock { $0 += CrashWorkload.groupSize }
            log.append("group", group.groupID.rawValue)
        default:
            break
        }
        // Keep the queue short: the workers, not the dispatching, set the pace of state changes.
        while backlog.withLock({ $0 }) > 32 { try await Task.sleep(for: .milliseconds(1)) }
    }

    // MARK: - Schedules

    /// Creates schedules, claims their runs, changes and deletes them.
    private func writeSchedules(_ store: any ScheduleStore) async throws {
        var owned = try await store.calls(repository: CrashWorkload.scheduleRepository, importer: nil).map(\.id)
        while true {
            let choice = Int.random(in: 0..<10)
            if owned.count < 8 || choice == 0 {
                let runs = Int.random(in: 2...20)
                let call = try ScheduledCall(
                    repositoryID: CrashWorkload.scheduleRepository,
                    importerID: CrashWorkload.scheduleImporter,
                    schedule: "R\(runs)/2020-01-01T00:00:00Z/PT0.01S",
                    createdAt: Date()
                )
                try await store.insert(call)
                log.append("schedule", call.id.rawValue)
                owned.append(call.id)
            } else if choice < 5 {
                for call in try await store.claimDue(at: Date(), limit: 4, scheduler: "crashtest-scheduler") {
                    log.append("schedule-claim", call.id.rawValue, String(call.totalRunCount))
                }
            } else if choice < 9, let id = owned.randomElement() {
                let call = try await store.update(id) { call in
                    call.overrideConfig["generation"] = .int(CrashWorkload.generation(of: call) + 1)
                    if Bool.random() { call.enabled.toggle() }
                    call.lastUpdated = Date()
                }
                log.append("schedule-update", id.rawValue, String(CrashWorkload.generation(of: call)))
            } else if let index = owned.indices.randomElement() {
                let id = owned.remove(at: index)
                // Said before the call: a kill after the delete commits but before it is logged must not
                // make the missing schedule look lost.
                log.append("schedule-deleting", id.rawValue)
                if try await store.delete(id) { log.append("schedule-delete", id.rawValue) }
            }
        }
    }

    // MARK: - Applicability

    /// Saves whole groups of records, each record of a group with the group's next generation.
    private func writeApplicability(_ store: any ApplicabilityStore) async throws {
        let hashes = Set((0..<CrashWorkload.applicabilityGroupSize).map { "hash-\($0)" })
        var generations: [Int: Int] = [:]
        for record in try await store.records(forProfileSets: hashes) {
            guard let group = Int(record.key.repositoryID.rawValue.dropFirst("crash-applicability-".count)),
                let generation = CrashWorkload.generation(of: record)
            else { continue }
            generations[group] = max(generations[group] ?? 0, generation)
        }
        while true {
            let group = Int.random(in: 0..<CrashWorkload.applicabilityGroups)
            let generation = (generations[group] ?? 0) + 1
            try await store.save(
                CrashWorkload.applicabilityKeys(group: group).map {
                    ApplicabilityRecord(key: $0, applicability: [CrashWorkload.unitType: [UnitID("gen-\(generation)")]])
                }
            )
            generations[group] = generation
            log.append("applicability", String(group), String(generation))
        }
    }

    // MARK: - Content

    /// Writes a batch of files through the content storage, records their units, then associates them.
    private func writeContent(_ content: any ContentStore, storage: ContentStorage) async throws {
        while true {
            let batch = UUID().uuidString.lowercased()
            let count = Int.random(in: 1...4)
            var units: [ContentUnit] = []
            for index in 0..<count {
                let bytes = randomBytes(Int.random(in: 0...65_536))
                let digest = SHA256.hash(bytes)
                let incoming = try storage.incomingURL()
                try Data(bytes).write(to: incoming)
                let path = try storage.place(incoming, as: digest)
                units.append(
                    ContentUnit(
                        typeID: CrashWorkload.unitType,
                        unitKey: ["name": .string("\(batch)-\(index)")],
                        metadata: ["batch": .string(batch), "batch_size": .int(count)],
                        size: Int64(bytes.count),
                        checksum: digest,
                        storagePath: path,
                        downloaded: true
                    )
                )
            }
            try storage.synchronize()
            let stored = try await content.save(units)
            log.append("units", batch, String(count))
            try await content.associate(stored.map(\.id), with: CrashWorkload.contentRepository)
            log.append("associated", batch)
        }
    }
}

/// `count` random bytes.
private func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<min(8, count - index) {
                buffer[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        initialized = count
    }
}
