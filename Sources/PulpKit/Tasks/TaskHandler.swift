import Foundation

/// A task name with the type of its arguments, so call sites dispatch and handle typed values.
///
/// ```swift
/// let sync = TaskKind<SyncArguments>("pulp.server.managers.repo.sync.sync")
/// dispatcher.register(sync) { context, arguments in … }
/// try await dispatcher.dispatch(sync, SyncArguments(…), resources: […], tags: […])
/// ```
public struct TaskKind<Arguments: Codable & Sendable>: Sendable, Hashable {
    /// The registered name, stored with every task of this kind.
    public let name: String

    /// Names a kind of task.
    public init(_ name: String) { self.name = name }
}

/// What a dispatcher needs to create one task.
public struct TaskRequest: Sendable, Hashable {
    /// The registered handler name.
    public var name: String
    /// The handler's arguments.
    public var arguments: JSONValue
    /// The resources the task reserves while it runs.
    public var resources: [String]
    /// The task's tags.
    public var tags: [String]

    /// Describes a task to dispatch.
    public init(name: String, arguments: JSONValue = [:], resources: [String] = [], tags: [String] = []) {
        self.name = name
        self.arguments = arguments
        self.resources = resources
        self.tags = tags
    }

    /// Describes a task of a typed kind.
    public init<Arguments>(
        _ kind: TaskKind<Arguments>,
        _ arguments: Arguments,
        resources: [String] = [],
        tags: [String] = []
    ) throws {
        self.init(name: kind.name, arguments: try JSONValue(encoding: arguments), resources: resources, tags: tags)
    }
}

/// What a running task's handler can see and do.
public struct TaskContext: Sendable {
    /// The task as it was claimed: id, name, arguments, tags, group, start time.
    public let task: TaskStatus
    /// The dispatcher's clock.
    public let clock: any WallClock
    let dispatcher: TaskDispatcher
    let spawned: SpawnedTaskRecorder

    /// The task's id.
    public var id: TaskID { task.id }

    /// Replaces the task's `progress_report`, which clients read while it runs.
    public func reportProgress(_ report: JSONValue) async throws {
        try await dispatcher.store.updateProgress(of: task.id, to: report)
    }

    /// Dispatches another task and lists it in this task's `spawned_tasks`.
    @discardableResult
    public func spawn(_ request: TaskRequest) async throws -> TaskID {
        let report = try await dispatcher.dispatch(request)
        let ids = report.spawnedTasks.map(\.taskID)
        spawned.record(ids)
        return ids[0]
    }

    /// Throws `CancellationError` when the task has been cancelled; call it between units of work.
    public func checkCancellation() throws { try Task.checkCancellation() }
}

/// Collects the ids of the tasks a handler spawns.
final class SpawnedTaskRecorder: Sendable {
    private let ids = PulpMutex<[TaskID]>([])

    func record(_ new: [TaskID]) { ids.withLock { $0 += new } }

    var all: [TaskID] { ids.withLock { $0 } }
}

/// A registered handler: how to check a task's arguments before it is stored, and how to run it.
struct TaskHandler: Sendable {
    let validate: @Sendable (JSONValue) throws -> Void
    let run: @Sendable (TaskContext) async throws -> JSONValue
}
