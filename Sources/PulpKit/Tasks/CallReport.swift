/// A task a call started, as Pulp lists it: `{"_href": "/pulp/api/v2/tasks/<id>/", "task_id": "<id>"}`.
public struct SpawnedTask: Sendable, Hashable {
    /// The task's id.
    public var taskID: TaskID

    /// Creates a reference to a task.
    public init(_ taskID: TaskID) { self.taskID = taskID }

    /// The task's REST path.
    public var href: String { "/pulp/api/v2/tasks/\(taskID.rawValue)/" }

    /// `{"_href": …, "task_id": …}`.
    public var json: JSONValue { ["_href": .string(href), "task_id": .string(taskID.rawValue)] }
}

/// What an asynchronous call returns at once: the tasks it started (Pulp's 202 Call Report).
public struct CallReport: Sendable, Hashable {
    /// The result, when the call produced one synchronously; usually `null`.
    public var result: JSONValue
    /// An error, when the call failed synchronously; usually `nil`.
    public var error: JSONValue?
    /// The tasks the call started.
    public var spawnedTasks: [SpawnedTask]

    /// Creates a call report.
    public init(result: JSONValue = .null, error: JSONValue? = nil, spawnedTasks: [SpawnedTask]) {
        self.result = result
        self.error = error
        self.spawnedTasks = spawnedTasks
    }

    /// The id of the first spawned task, the one most calls start.
    public var taskID: TaskID? { spawnedTasks.first?.taskID }

    /// `{"result": …, "error": …, "spawned_tasks": [{"_href", "task_id"}]}`.
    public var json: JSONValue {
        [
            "result": result,
            "error": error ?? .null,
            "spawned_tasks": .array(spawnedTasks.map(\.json)),
        ]
    }
}

/// What a call that starts a group of tasks returns: `{"_href": "/pulp/api/v2/task_groups/<id>/", "group_id"}`.
public struct GroupCallReport: Sendable, Hashable {
    /// The group's id.
    public var groupID: TaskGroupID

    /// Creates a group call report.
    public init(groupID: TaskGroupID) { self.groupID = groupID }

    /// The group's REST path.
    public var href: String { "/pulp/api/v2/task_groups/\(groupID.rawValue)/" }

    /// `{"_href": …, "group_id": …}`.
    public var json: JSONValue { ["_href": .string(href), "group_id": .string(groupID.rawValue)] }
}

/// How many tasks of a group are in each state, plus `total` (Pulp's task group state summary).
public struct TaskGroupSummary: Sendable, Hashable {
    /// The count per state; every state is present, zero when no task is in it.
    public var counts: [TaskState: Int]

    /// Creates a summary from counts; absent states count zero.
    public init(counts: [TaskState: Int] = [:]) {
        var complete: [TaskState: Int] = [:]
        for state in TaskState.allCases { complete[state] = counts[state] ?? 0 }
        self.counts = complete
    }

    /// The number of tasks in the group.
    public var total: Int { counts.values.reduce(0, +) }

    /// Whether every task of the group is complete (an empty group is).
    public var isComplete: Bool { TaskState.allCases.filter { !$0.isComplete }.allSatisfy { counts[$0] == 0 } }

    /// `{"waiting": n, …, "canceled": n, "total": n}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["total": .int(total)]
        for (state, count) in counts { object[state.rawValue] = .int(count) }
        return .object(object)
    }
}
