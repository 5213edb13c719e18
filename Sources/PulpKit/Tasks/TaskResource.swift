/// Names of the resources tasks reserve; tasks that reserve a common resource run one at a time.
public enum TaskResource {
    /// A repository: syncs and other changes to it run one at a time (`pulp:repository:<id>`).
    public static func repository(_ id: RepositoryID) -> String { "pulp:repository:\(id.rawValue)" }

    /// A consumer: its single-consumer applicability regenerations queue (`pulp:consumer:<id>`).
    public static func consumer(_ id: ConsumerID) -> String { "pulp:consumer:\(id.rawValue)" }

    /// The global lock that makes bulk applicability regenerations run one at a time.
    public static let applicabilityRegeneration = "pulp:repository_profile_applicability:RESOURCE_ANY_ID"
}

/// Tags that Pulp puts on tasks, so clients can find them with `GET /v2/tasks/?tag=…`.
public enum TaskTag {
    /// `pulp:repository:<id>`.
    public static func repository(_ id: RepositoryID) -> String { "pulp:repository:\(id.rawValue)" }

    /// `pulp:consumer:<id>`.
    public static func consumer(_ id: ConsumerID) -> String { "pulp:consumer:\(id.rawValue)" }

    /// `pulp:action:<action>`, e.g. `pulp:action:sync`.
    public static func action(_ action: String) -> String { "pulp:action:\(action)" }
}
