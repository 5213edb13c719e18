// The PulpKit quickstart: `swift run quickstart`.
//
// Everything printed comes from real calls: schedule strings are parsed and their runs computed,
// tasks are dispatched to a dispatcher backed by an SQLite file in a fresh temporary directory, and
// their reports are searched with Pulp's search criteria.

import Foundation
import PulpKit

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-quickstart-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

// 1. Schedules: ISO 8601 repeating intervals, anchored where they start.
let createdAt = SystemWallClock().now
print("== Schedules (created at \(ISO8601DateTime.utcString(createdAt)))")
for text in ["00:00:00Z/P1DT", "PT1H", "R5/2014-01-27T21:41:50Z/PT1H", "2014-01-31T00:00:00Z/P1M", "P1W2D"] {
    describeSchedule(text, createdAt: createdAt)
}
for text in ["PT0S", "R0/PT1H", "2014-01-27/P1D", "PT1H/PT2H"] {
    describeSchedule(text, createdAt: createdAt)
}

/// Prints a schedule's first run and its next three runs, or why it is refused.
func describeSchedule(_ text: String, createdAt: Date) {
    let label = text.padding(toLength: 30, withPad: " ", startingAt: 0)
    let interval: RepeatingInterval
    do {
        interval = try RepeatingInterval(parsing: text)
    } catch {
        print("\(label) refused: \(error.message)")
        return
    }
    let grid = interval.grid(createdAt: createdAt)
    var runs: [String] = []
    var instant = createdAt
    for _ in 0..<3 {
        instant = grid.nextOccurrence(after: instant)
        runs.append(ISO8601DateTime.utcString(instant))
    }
    print("\(label) first_run \(interval.firstRun(createdAt: createdAt)), next: \(runs.joined(separator: ", "))")
}

// 2. Tasks: a dispatcher on an SQLite store; syncs of one repository queue behind each other.
print("\n== Tasks (SQLite store at \(directory.path)/pulp.db)")
let store = try SQLiteTaskStore(path: directory.appendingPathComponent("pulp.db").path)
let dispatcher = TaskDispatcher(store: store, configuration: .init(workerCount: 2))

struct CountArguments: Codable, Sendable {
    var repository: String
    var files: Int
}
let countFiles = TaskKind<CountArguments>("quickstart.count_files")
dispatcher.register(countFiles) { context, arguments in
    var checksum = 0
    for index in 0..<arguments.files {
        try context.checkCancellation()
        checksum = checksum &* 31 &+ "\(arguments.repository)/file-\(index)".hashValue
        if index.isMultiple(of: 1000) { try await context.reportProgress(["files_seen": .int(index)]) }
    }
    return ["repository": .string(arguments.repository), "files": .int(arguments.files)]
}
dispatcher.register("quickstart.fail") { _ in throw PulpError.invalid("feed", "the feed URL cannot be reached") }

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await dispatcher.run() }
    var ids: [TaskID] = []
    for (repository, files) in [("zoo", 5_000), ("zoo", 2_000), ("farm", 3_000)] {
        let repositoryID = RepositoryID(repository)
        let report = try await dispatcher.dispatch(
            countFiles,
            CountArguments(repository: repository, files: files),
            resources: [TaskResource.repository(repositoryID)],
            tags: [TaskTag.repository(repositoryID), TaskTag.action("sync")]
        )
        print("dispatched: \(report.json.encoded())")
        ids.append(report.taskID!)
    }
    ids.append(try await dispatcher.dispatch(TaskRequest(name: "quickstart.fail")).taskID!)
    for id in ids {
        let task = try await dispatcher.waitForCompletion(of: id)
        let outcome = task.error.map { "error: \($0.description)" } ?? "result: \(task.result.encoded())"
        print("task \(task.id.rawValue.prefix(8))… \(task.state.rawValue) on \(task.workerName ?? "-"), \(outcome)")
    }

    // 3. Search criteria over the task reports, as `POST /v2/tasks/search/` would take them.
    let criteria = try Criteria(
        json: [
            "filters": ["state": "finished", "tags": ["$in": ["pulp:repository:zoo"]]],
            "sort": [["start_time", "ascending"]],
            "fields": ["task_id", "state", "result"],
        ]
    )
    print("\n== Finished zoo tasks, by criteria \(criteria.json.encoded())")
    for task in try await dispatcher.tasks(matching: criteria) {
        print(try criteriaProjection(of: task, with: criteria).encoded())
    }
    group.cancelAll()
}

/// The task report as a search returns it: only the requested fields (plus ids).
func criteriaProjection(of task: TaskStatus, with criteria: Criteria) throws -> JSONValue {
    criteria.apply(to: [task.json]).first ?? .null
}
