import Foundation
import PulpKit

/// What one verification of a crashed store found.
struct CrashFindings: Sendable {
    /// Whether the stores failed to open, or SQLite found the file damaged.
    var openFailed = false
    /// Acknowledged writes missing or changed, plus transactions visible only in part.
    var lostWrites = 0
    /// Units whose stored file is missing or does not match their size and SHA-256.
    var tornFiles = 0
    /// How many acknowledged writes the side log holds.
    var acknowledged = 0
    /// What each count stands for, one line per problem.
    var problems: [String] = []

    mutating func lost(_ problem: String) {
        lostWrites += 1
        problems.append("lost: \(problem)")
    }

    mutating func torn(_ problem: String) {
        tornFiles += 1
        problems.append("torn: \(problem)")
    }
}

/// The fresh process of a crash run that reopens the stores after a kill and checks them against the side log.
struct CrashVerifier {
    let directory: URL
    let logPath: String

    func run() async -> CrashFindings {
        var findings = CrashFindings()
        // Pulp first: it creates the directory when the writer was killed before it could.
        let pulp: Pulp
        do {
            pulp = try Pulp(configuration: CrashWorkload.configuration(directory: directory, workerName: "verifier"))
            let damage = try SQLiteDatabase(path: directory.appendingPathComponent("pulp.db").path).integrityProblems()
            if !damage.isEmpty {
                findings.openFailed = true
                findings.problems += damage.map { "integrity_check: \($0)" }
                return findings
            }
        } catch {
            findings.openFailed = true
            findings.problems.append("cannot open the stores: \(error)")
            return findings
        }
        do {
            let records = try SideLog.records(at: logPath)
            findings.acknowledged = records.count
            try await checkHistory(pulp.repositories.history, records, &findings)
            try await checkTasks(pulp.dispatcher.store, records, &findings)
            try await checkSchedules(pulp.schedules.store, records, &findings)
            try await checkApplicability(pulp.applicability.store, records, &findings)
            try await checkContent(pulp.repositories.content, pulp.sync.storage, records, &findings)
        } catch {
            findings.openFailed = true
            findings.problems.append("cannot read the stores: \(error)")
        }
        return findings
    }

    // MARK: - History

    private func checkHistory(
        _ history: any HistoryStore,
        _ records: [[Substring]],
        _ findings: inout CrashFindings
    ) async throws {
        let entries = try await history.entries(for: CrashWorkload.historyRepository, matching: SyncHistoryQuery())
        let byID = Dictionary(entries.map { ($0.id.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
        var batches: [String: Int] = [:]
        for entry in entries {
            guard let batch = entry.summary["batch"]?.stringValue else { continue }
            batches[batch, default: 0] += 1
        }
        for (batch, count) in batches where count != CrashWorkload.historyBatchSize {
            findings.lost("history batch \(batch) has \(count) of \(CrashWorkload.historyBatchSize) entries")
        }
        for record in records {
            switch record[0] {
            case "history":
                guard let entry = byID[String(record[1])] else {
                    findings.lost("history entry \(record[1]) is missing")
                    continue
                }
                if String(Int(entry.started.timeIntervalSince1970)) != record[2] || entry.result.rawValue != record[3] {
                    findings.lost("history entry \(record[1]) changed: \(entry.json)")
                }
            case "history-batch" where batches[String(record[1])] == nil:
                findings.lost("history batch \(record[1]) is missing")
            default:
                break
            }
        }
    }

    // MARK: - Tasks

    private func checkTasks(
        _ store: any TaskStore,
        _ records: [[Substring]],
        _ findings: inout CrashFindings
    ) async throws {
        if let sqlite = store as? SQLiteTaskStore {
            for problem in try await sqlite.integrityProblems() { findings.lost("task queue: \(problem)") }
        }
        let tasks = try await store.tasks(inGroup: nil)
        let byID = Dictionary(uniqueKeysWithValues: tasks.map { ($0.id.rawValue, $0) })
        var groups: [TaskGroupID: Int] = [:]
        for task in tasks { if let group = task.groupID { groups[group, default: 0] += 1 } }
        for (group, count) in groups where count != CrashWorkload.groupSize {
            findings.lost("task group \(group) has \(count) of \(CrashWorkload.groupSize) tasks")
        }
        for record in records {
            let id = String(record[1])
            switch record[0] {
            case "task" where byID[id] == nil:
                findings.lost("task \(id) is missing")
            case "task-end":
                guard let task = byID[id] else {
                    findings.lost("ended task \(id) is missing")
                    continue
                }
                if task.state.rawValue != record[2] || task.finishTime == nil {
                    findings.lost("task \(id) ended \(record[2]) but is \(task.state.rawValue)")
                }
            case "task-cancel" where byID[id]?.state != .canceled:
                findings.lost("cancelled task \(id) is \(byID[id]?.state.rawValue ?? "missing")")
            case "group" where groups[TaskGroupID(id)] == nil:
                findings.lost("task group \(id) is missing")
            default:
                break
            }
        }
    }

    // MARK: - Schedules

    private func checkSchedules(
        _ store: any ScheduleStore,
        _ records: [[Substring]],
        _ findings: inout CrashFindings
    ) async throws {
        if let sqlite = store as? SQLiteScheduleStore {
            for problem in try await sqlite.integrityProblems() { findings.lost("schedule bookkeeping: \(problem)") }
        }
        let calls = try await store.calls(repository: CrashWorkload.scheduleRepository, importer: nil)
        let byID = Dictionary(uniqueKeysWithValues: calls.map { ($0.id.rawValue, $0) })
        for call in calls {
            guard let runs = call.interval.recurrences else { continue }
            if (call.remainingRuns ?? -1) + call.totalRunCount != runs {
                findings.lost(
                    "schedule \(call.id): \(call.totalRunCount) runs and \(call.remainingRuns ?? -1) left of \(runs)"
                )
            }
        }
        // A schedule whose deletion was under way may be gone without an acknowledgement in the log.
        let deleting = Set(records.filter { $0[0] == "schedule-deleting" }.map { String($0[1]) })
        for record in records where record[0].hasPrefix("schedule") && record[0] != "schedule-deleting" {
            let id = String(record[1])
            if record[0] == "schedule-delete" {
                if byID[id] != nil { findings.lost("deleted schedule \(id) is back") }
                continue
            }
            if deleting.contains(id) { continue }
            guard let call = byID[id] else {
                findings.lost("schedule \(id) is missing")
                continue
            }
            switch record[0] {
            case "schedule-claim" where call.totalRunCount < Int(record[2])!:
                findings.lost("schedule \(id) was claimed \(record[2]) times, shows \(call.totalRunCount)")
            case "schedule-update" where CrashWorkload.generation(of: call) < Int(record[2])!:
                findings.lost("schedule \(id) was updated to generation \(record[2]), shows \(call.overrideConfig)")
            default:
                break
            }
        }
    }

    // MARK: - Applicability

    private func checkApplicability(
        _ store: any ApplicabilityStore,
        _ records: [[Substring]],
        _ findings: inout CrashFindings
    ) async throws {
        let hashes = Set((0..<CrashWorkload.applicabilityGroupSize).map { "hash-\($0)" })
        let stored = Dictionary(
            uniqueKeysWithValues: try await store.records(forProfileSets: hashes).map { ($0.key, $0) }
        )
        var generations: [Int: Int] = [:]
        for group in 0..<CrashWorkload.applicabilityGroups {
            let keys = CrashWorkload.applicabilityKeys(group: group)
            let seen = Set(keys.map { stored[$0].flatMap(CrashWorkload.generation(of:)) })
            guard seen.count == 1, let generation = seen.first else {
                findings.lost("applicability group \(group) is half saved: generations \(seen)")
                continue
            }
            generations[group] = generation ?? 0
        }
        for record in records where record[0] == "applicability" {
            guard let group = Int(record[1]), let generation = Int(record[2]), let stored = generations[group] else {
                continue
            }
            if stored < generation {
                findings.lost("applicability group \(group) was saved at generation \(generation), shows \(stored)")
            }
        }
    }

    // MARK: - Content

    private func checkContent(
        _ content: any ContentStore,
        _ storage: ContentStorage,
        _ records: [[Substring]],
        _ findings: inout CrashFindings
    ) async throws {
        guard let sqlite = content as? SQLiteContentStore else { return }
        let units = try await sqlite.allUnits()
        let associated = Set(try await content.units(in: CrashWorkload.contentRepository).map(\.id))
        var batches: [String: (units: [ContentUnit], size: Int)] = [:]
        for unit in units {
            if unit.downloaded, let path = unit.storagePath,
                !storage.verify(path, size: unit.size, digest: unit.checksum)
            {
                findings.torn("unit \(unit.id) file \(path) does not match its size and SHA-256")
            }
            guard let batch = unit.metadata["batch"]?.stringValue, let size = unit.metadata["batch_size"]?.intValue
            else { continue }
            batches[batch, default: ([], size)].units.append(unit)
        }
        for (batch, found) in batches {
            if found.units.count != found.size {
                findings.lost("unit batch \(batch) has \(found.units.count) of \(found.size) units")
            }
            let held = found.units.filter { associated.contains($0.id) }.count
            if held != 0, held != found.units.count {
                findings.lost("unit batch \(batch) is half associated: \(held) of \(found.units.count)")
            }
        }
        for record in records {
            let batch = String(record[1])
            switch record[0] {
            case "units" where batches[batch]?.units.count != Int(record[2]):
                findings.lost(
                    "unit batch \(batch) was saved with \(record[2]) units, shows \(batches[batch]?.units.count ?? 0)"
                )
            case "associated" where batches[batch]?.units.contains(where: { !associated.contains($0.id) }) ?? true:
                findings.lost("unit batch \(batch) was associated but is not")
            default:
                break
            }
        }
    }
}
