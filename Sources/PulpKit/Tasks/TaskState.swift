/// The state of a task, with Pulp's eight names.
///
/// PulpKit moves tasks `waiting → running → finished | error`, and to `canceled` from either of the
/// first two. `skipped`, `accepted` and `suspended` exist so that every Pulp state can be stored,
/// counted in a group summary and searched for.
public enum TaskState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Queued, waiting for a worker and for its resources.
    case waiting
    /// Not run because it was no longer needed.
    case skipped
    /// Accepted by an agent that will run it.
    case accepted
    /// Running on a worker.
    case running
    /// Paused.
    case suspended
    /// Completed and returned a result.
    case finished
    /// Completed by throwing an error, or lost with its worker.
    case error
    /// Cancelled before it could complete.
    case canceled

    /// Whether the task can no longer change state: `skipped`, `finished`, `error` or `canceled`.
    public var isComplete: Bool {
        switch self {
        case .skipped, .finished, .error, .canceled: true
        case .waiting, .accepted, .running, .suspended: false
        }
    }
}
