public import Foundation

/// Why a task ended in `error`: Pulp's `{"code", "description", "data", "sub_errors"}`.
public struct TaskError: Sendable, Hashable {
    /// A stable code: the ``PulpError/Code`` of a ``PulpError``, `PLK0000` for any other error.
    public var code: String
    /// What went wrong.
    public var description: String
    /// Structured detail.
    public var data: JSONValue
    /// Finer-grained errors, in the same shape.
    public var subErrors: [JSONValue]

    /// Creates an error report.
    public init(code: String, description: String, data: JSONValue = [:], subErrors: [JSONValue] = []) {
        self.code = code
        self.description = description
        self.data = data
        self.subErrors = subErrors
    }

    /// The report of an error a task handler threw.
    public init(_ error: any Error) {
        if let error = error as? PulpError {
            let object = error.errorObject
            self.init(
                code: error.code.rawValue,
                description: error.message,
                data: object["data"] ?? [:],
                subErrors: object["sub_errors"]?.arrayValue ?? []
            )
        } else {
            self.init(code: PulpError.Code.internalError.rawValue, description: String(describing: error))
        }
    }

    /// `{"code", "description", "data", "sub_errors"}`.
    public var json: JSONValue {
        ["code": .string(code), "description": .string(description), "data": data, "sub_errors": .array(subErrors)]
    }

    /// Reads the JSON form back; `nil` when it is not an object with a string `description`.
    public init?(json: JSONValue) {
        guard let description = json["description"]?.stringValue else { return nil }
        self.init(
            code: json["code"]?.stringValue ?? PulpError.Code.internalError.rawValue,
            description: description,
            data: json["data"] ?? [:],
            subErrors: json["sub_errors"]?.arrayValue ?? []
        )
    }
}

/// Everything known about one task: what was asked, where it is, and how it ended (Pulp's Task Report).
public struct TaskStatus: Sendable, Hashable {
    /// The task's id.
    public var id: TaskID
    /// The registered name of the handler that runs it, e.g. `pulp.server.managers.repo.sync.sync`.
    public var name: String
    /// The handler's arguments.
    public var arguments: JSONValue
    /// The resources it reserves while it runs.
    public var resources: [String]
    /// Its tags, e.g. `pulp:repository:zoo` and `pulp:action:sync`.
    public var tags: [String]
    /// The group it belongs to, if any.
    public var groupID: TaskGroupID?
    /// Where it is in its life.
    public var state: TaskState
    /// The dispatcher worker that runs or ran it.
    public var workerName: String?
    /// When it was dispatched.
    public var submitTime: Date
    /// When a worker started it.
    public var startTime: Date?
    /// When it completed.
    public var finishTime: Date?
    /// The latest progress the handler reported (a JSON object).
    public var progressReport: JSONValue
    /// What the handler returned.
    public var result: JSONValue
    /// Why it failed, when it did.
    public var error: TaskError?
    /// The type of the error that failed it.
    public var exception: String?
    /// A readable account of the failure.
    public var traceback: String?
    /// The tasks it started.
    public var spawnedTasks: [TaskID]
    /// The store's submission order: tasks on a common resource run in this order.
    public var sequence: Int64

    /// Creates a new, waiting task.
    public init(
        id: TaskID = .random(),
        name: String,
        arguments: JSONValue = [:],
        resources: [String] = [],
        tags: [String] = [],
        groupID: TaskGroupID? = nil,
        submitTime: Date
    ) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.resources = resources
        self.tags = tags
        self.groupID = groupID
        self.state = .waiting
        self.workerName = nil
        self.submitTime = submitTime
        self.startTime = nil
        self.finishTime = nil
        self.progressReport = [:]
        self.result = .null
        self.error = nil
        self.exception = nil
        self.traceback = nil
        self.spawnedTasks = []
        self.sequence = 0
    }

    /// Whether the task still occupies its resources: not yet finished, even if already marked canceled.
    public var isActive: Bool { finishTime == nil && state != .skipped }

    /// The task's REST path.
    public var href: String { SpawnedTask(id).href }

    /// The Task Report JSON, with exactly the keys Pulp's v2 API shows.
    public var json: JSONValue {
        func time(_ date: Date?) -> JSONValue { date.map { .string(ISO8601DateTime.utcString($0)) } ?? .null }
        return [
            "_href": .string(href),
            "_ns": "task_status",
            "id": .string(id.rawValue),
            "task_id": .string(id.rawValue),
            "task_type": .string(name),
            "state": .string(state.rawValue),
            "tags": .array(tags.map(JSONValue.string)),
            "start_time": time(startTime),
            "finish_time": time(finishTime),
            "progress_report": progressReport,
            "result": result,
            "error": error?.json ?? .null,
            "exception": exception.map(JSONValue.string) ?? .null,
            "traceback": traceback.map(JSONValue.string) ?? .null,
            "spawned_tasks": .array(spawnedTasks.map { SpawnedTask($0).json }),
            "worker_name": workerName.map(JSONValue.string) ?? .null,
            "queue": .string(workerName.map { "\($0).dq" } ?? ""),
            "group_id": groupID.map { .string($0.rawValue) } ?? .null,
        ]
    }
}

/// How a task's run ended, as its worker reports it to the store.
public enum TaskOutcome: Sendable, Hashable {
    /// The handler returned `result`.
    case finished(result: JSONValue)
    /// The handler threw.
    case failed(TaskError, exception: String, traceback: String)
    /// The handler stopped because the task was cancelled.
    case canceled
}

/// A worker's report that one task's run is over.
public struct TaskCompletion: Sendable, Hashable {
    /// The task.
    public var id: TaskID
    /// How it ended.
    public var outcome: TaskOutcome
    /// The tasks it spawned while running.
    public var spawnedTasks: [TaskID]

    /// Creates a completion report.
    public init(id: TaskID, outcome: TaskOutcome, spawnedTasks: [TaskID] = []) {
        self.id = id
        self.outcome = outcome
        self.spawnedTasks = spawnedTasks
    }
}

extension TaskStatus {
    /// Applies a completion: sets the final state (a task already `canceled` stays `canceled`), the
    /// finish time, and the result or error. The one place both stores take this rule from.
    public mutating func complete(with completion: TaskCompletion, at now: Date) {
        finishTime = now
        spawnedTasks += completion.spawnedTasks
        switch completion.outcome {
        case .finished(let result):
            self.result = result
            if !state.isComplete { state = .finished }
        case .failed(let error, let exception, let traceback):
            if state == .canceled { return }
            state = .error
            self.error = error
            self.exception = exception
            self.traceback = traceback
        case .canceled:
            state = .canceled
        }
    }
}
