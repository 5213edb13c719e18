// The PulpKit quickstart: `swift run quickstart`.
//
// It runs a whole Pulp in this process, on an SQLite database in a fresh temporary directory, and shows
// the three things PulpKit is for: syncing a repository from its feed, scheduled syncs, and content
// applicability for consumers. Everything printed comes from real calls; the feed and the RPM data are
// the files under `Examples/Data/`.

import Foundation
import PulpFile
import PulpKit
import PulpRPM

// `Examples/Data/`, found next to this file's folder.
let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Data", isDirectory: true)

// One Pulp: every store, the task dispatcher and the services, on `pulp.db` in a new temporary directory.
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-quickstart-\(UUID())")
defer { try? FileManager.default.removeItem(at: directory) }
let pulp = try Pulp(configuration: .init(storage: .sqlite(directory: directory)))
pulp.register(FileImporter())  // the `iso_importer`, whose feed is a folder with a PULP_MANIFEST
try pulp.register(RPMApplicabilityCalculator())  // what applies to consumers, for `rpm` and `erratum` units
print("Pulp on \(directory.path)")

try await withThrowingTaskGroup(of: Void.self) { group in
    // `run()` runs the task workers and the scheduler until it is cancelled (at the end of this block).
    group.addTask { try await pulp.run() }
    defer { group.cancelAll() }
    try await syncFileRepository()
    try await scheduleSyncs()
    try await computeApplicability()
}

/// 1. A file repository whose feed is `Examples/Data/files/`, synced once.
func syncFileRepository() async throws {
    print("\n== 1. Sync a file repository")
    let feed = data.appendingPathComponent("files", isDirectory: true)
    try await pulp.repositories.create(
        Repository(id: "files"),
        importerTypeID: "iso_importer",
        importerConfiguration: ["feed": .string(feed.absoluteString)]
    )
    // A sync is a task: dispatching it returns Pulp's call report at once; the task runs on a worker.
    let report = try await pulp.sync.sync(repository: "files")
    let task = try await pulp.dispatcher.waitForCompletion(of: report.taskID!)
    print("sync task \(task.id.rawValue): \(task.state.rawValue)")
    // Every sync leaves an entry in the repository's sync history, in Pulp's shape.
    let history = try await pulp.repositories.history.entries(for: "files", matching: SyncHistoryQuery(limit: 1))
    print("history entry: \(history[0].json.encoded())")
    let units = try await pulp.repositories.content.units(in: "files")
    print("units: \(units.compactMap { $0.unitKey["name"]?.stringValue }.sorted().joined(separator: ", "))")
}

/// 2. A schedule that syncs the repository twice, two seconds apart; the scheduler in `pulp.run()` runs it.
func scheduleSyncs() async throws {
    print("\n== 2. Schedule two syncs, 2 seconds apart")
    // An ISO 8601 repeating interval without a start: the first run is due now, then every 2 s; `R2` ends
    // the schedule after two runs (it is disabled when its last run is dispatched).
    var call = try await pulp.schedules.create(repository: "files", importer: "iso_importer", schedule: "R2/PT2S")
    let deadline = ContinuousClock.now + .seconds(10)
    var history: [SyncHistoryEntry] = []
    while history.count < 3 {
        guard ContinuousClock.now < deadline else { throw PulpError.internalError("the scheduled syncs did not end") }
        try await Task.sleep(for: .milliseconds(50))
        history = try await pulp.repositories.history.entries(for: "files", matching: SyncHistoryQuery())
    }
    call = try await pulp.schedules.call(call.id, repository: "files", importer: "iso_importer")
    print("schedule: \(pulp.schedules.report(call).encoded())")
    // The manual sync and the two scheduled ones, newest first; the feed did not change, so they added nothing.
    for entry in history {
        let started = ISO8601DateTime.utcString(entry.started)
        print("history: started \(started), \(entry.result.rawValue), summary \(entry.summary.encoded())")
    }
}

/// 3. An RPM repository built without an importer, three consumers, and what applies to them.
func computeApplicability() async throws {
    print("\n== 3. Applicability of RPM packages and errata")
    try await pulp.repositories.create(Repository(id: "el9-baseos"))
    // Units go in as Pulp 2's `import_upload` action takes them: a type, a unit key and metadata, no file.
    let units = try JSONValue(parsing: Data(contentsOf: data.appendingPathComponent("rpm/units.json")))
    for unit in units.arrayValue! {
        let report = try await pulp.uploads.importUpload(
            into: "el9-baseos",
            uploadID: nil,
            typeID: unit["unit_type_id"]!.stringValue!,
            unitKey: unit["unit_key"]!.objectValue!,
            metadata: unit["unit_metadata"]!.objectValue!
        )
        _ = try await pulp.dispatcher.waitForCompletion(of: report.taskID!)
    }
    let repository = try await pulp.repositories.repository("el9-baseos")
    print("el9-baseos holds \(repository.contentUnitCounts)")

    // Three consumers, each with the packages it has installed (web1 and web2 alike), bound to the repository.
    let consumers = try JSONValue(parsing: Data(contentsOf: data.appendingPathComponent("rpm/consumers.json")))
    for (id, packages) in consumers.objectValue!.sorted(by: { $0.key < $1.key }) {
        try await pulp.applicability.register(Consumer(id: ConsumerID(rawValue: id)))
        try await pulp.applicability.setProfile(packages, contentType: "rpm", for: ConsumerID(rawValue: id))
        try await pulp.applicability.bind(ConsumerID(rawValue: id), to: "el9-baseos")
    }

    // Regenerating is a task too; identical profiles are computed once.
    let report = try await pulp.applicability.regenerate(consumers: Criteria())
    let task = try await pulp.dispatcher.waitForCompletion(of: report.taskID!)
    print("regeneration task: \(task.state.rawValue), result \(task.result.encoded())")

    // The query collates consumers whose applicability is identical, listing unit ids per content type.
    let answer = try await pulp.applicability.query(consumers: Criteria())
    print("query: \(ApplicabilityReport.json(answer).encoded(.prettyPrinted))")
    // The same, with the unit ids resolved to package names and erratum ids.
    let names = Dictionary(
        uniqueKeysWithValues: try await pulp.repositories.content.units(in: "el9-baseos").map { unit in
            let name = unit.typeID == "rpm" ? try RPMPackage(unit: unit).nevra.description : try Erratum(unit: unit).id
            return (unit.id, name)
        }
    )
    for entry in answer {
        let applicable = entry.applicability.values.joined().map { names[$0]! }.sorted()
        print("\(entry.consumers.map(\.rawValue).joined(separator: ", ")): \(applicable.joined(separator: ", "))")
    }
}
