import Foundation
import PulpKit

/// The names and shapes the writer and the verifier of a crash run agree on.
enum CrashWorkload {
    /// The repository whose sync history the writer appends to.
    static let historyRepository = RepositoryID("crash-history")
    /// The repository the writer's units are associated with.
    static let contentRepository = RepositoryID("crash-content")
    /// The repository (and importer) the writer's schedules belong to; the store does not check it exists.
    static let scheduleRepository = RepositoryID("crash-schedules")
    /// The importer id of the writer's schedules.
    static let scheduleImporter = "crash_importer"
    /// The name of the writer's tasks.
    static let taskName = "pulpkit.crashtest.work"
    /// The worker name every writer child runs under, so each one ends what the killed one left running.
    static let workerName = "crashtest-writer"
    /// The resources the writer's tasks reserve, a few at a time, so reservation lines form and move.
    static let resources = (0..<4).map { "crash:resource:\($0)" }
    /// How many tasks each dispatched group holds.
    static let groupSize = 3
    /// How many entries each batch of history entries holds.
    static let historyBatchSize = 3
    /// How many applicability records each group saves at once, and how many groups there are.
    static let applicabilityGroupSize = 4
    static let applicabilityGroups = 8
    /// The content type of the writer's units, and the applicability content type.
    static let unitType = "crash_file"

    /// The applicability keys of group `group`: one repository, several profile sets.
    static func applicabilityKeys(group: Int) -> [ApplicabilityKey] {
        (0..<applicabilityGroupSize).map {
            ApplicabilityKey(repositoryID: RepositoryID("crash-applicability-\(group)"), profileSetHash: "hash-\($0)")
        }
    }

    /// The generation an applicability record carries: the number in its only unit id, `gen-<n>`.
    static func generation(of record: ApplicabilityRecord) -> Int? {
        record.applicability[unitType]?.first.flatMap { Int($0.rawValue.dropFirst("gen-".count)) }
    }

    /// The generation a schedule carries in its `override_config`.
    static func generation(of call: ScheduledCall) -> Int { call.overrideConfig["generation"]?.intValue ?? 0 }

    /// The SQLite configuration of every process of a run.
    static func configuration(directory: URL, workerName: String = workerName) -> PulpConfiguration {
        PulpConfiguration(storage: .sqlite(directory: directory), workerCount: 2, workerName: workerName)
    }
}
