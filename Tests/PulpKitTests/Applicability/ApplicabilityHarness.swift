import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

extension StorageBackend {
    /// A new, empty consumer store; SQLite files live in `directory`.
    func consumerStore(in directory: borrowing TemporaryDirectory) throws -> any ConsumerStore {
        switch self {
        case .memory: InMemoryConsumerStore()
        case .sqlite: try SQLiteConsumerStore(path: directory.path("consumers.db"))
        }
    }

    /// A new, empty applicability store; SQLite files live in `directory`.
    func applicabilityStore(in directory: borrowing TemporaryDirectory) throws -> any ApplicabilityStore {
        switch self {
        case .memory: InMemoryApplicabilityStore()
        case .sqlite: try SQLiteApplicabilityStore(path: directory.path("applicability.db"))
        }
    }
}

/// Counts index builds and how many run at once, and can slow them down so overlaps would show.
final class IndexProbe: Sendable {
    private struct State {
        var builds: [String: Int] = [:]
        var running = 0
        var maxRunning = 0
    }

    private let state = PulpMutex(State())
    let delay: Duration

    init(delay: Duration = .zero) { self.delay = delay }

    func building(_ label: String, _ body: () -> Void) {
        state.withLock { state in
            state.builds[label, default: 0] += 1
            state.running += 1
            state.maxRunning = max(state.maxRunning, state.running)
        }
        if delay > .zero {
            let microseconds = delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000
            usleep(useconds_t(microseconds))
        }
        body()
        state.withLock { $0.running -= 1 }
    }

    var builds: [String: Int] { state.withLock { $0.builds } }
    var totalBuilds: Int { state.withLock { $0.builds.values.reduce(0, +) } }
    var maxRunning: Int { state.withLock { $0.maxRunning } }
}

/// A small content family for engine tests, shaped like RPMs and errata.
///
/// A `widget` unit has key `{"name", "level"}`; it applies when the profile lists a widget of that name
/// at a lower level. A `fix` unit has key `{"id"}` and metadata `{"fixes": ["name:level", …]}`; it applies
/// when one of the widgets it names is an applicable widget of the repository. Profiles list
/// `{"name", "level"}` objects; normalising sorts them by name, then level. With `reportsPositions`, it
/// also reports its results as positions in per-type id tables of the index.
struct WidgetCalculator: ApplicabilityCalculator {
    struct Index: Sendable {
        var widgets: [String: [(level: Int, id: UnitID)]] = [:]
        var fixes: [(id: UnitID, names: [String])] = []
        /// Each type's ids, sorted, in one table.
        var tables: [String: UnitIDTable] = [:]
    }

    let widgetType: String
    let fixType: String?
    let profileType: String
    let probe: IndexProbe
    let reportsPositions: Bool

    init(
        widgetType: String = "widget",
        fixType: String? = "fix",
        profileType: String = "widget",
        probe: IndexProbe = IndexProbe(),
        reportsPositions: Bool = false
    ) {
        self.widgetType = widgetType
        self.fixType = fixType
        self.profileType = profileType
        self.probe = probe
        self.reportsPositions = reportsPositions
    }

    var contentTypes: Set<String> { fixType.map { [widgetType, $0] } ?? [widgetType] }
    var profileTypes: Set<String> { [profileType] }

    func normalize(profile: JSONValue, contentType: String) throws(PulpError) -> JSONValue {
        guard case .array(let entries) = profile else { throw PulpError.invalid("profile", "must be a list") }
        var parsed: [(String, Int)] = []
        for (position, entry) in entries.enumerated() {
            guard case .string(let name) = entry["name"] ?? .null, case .int(let level) = entry["level"] ?? .null else {
                throw PulpError.invalid("profile", "entry \(position) needs a string name and an integer level")
            }
            parsed.append((name, level))
        }
        parsed.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        return .array(parsed.map { ["name": .string($0.0), "level": .int($0.1)] })
    }

    func makeIndex(units: [ContentUnit]) -> Index {
        var index = Index()
        probe.building(widgetType) {
            for unit in units {
                if unit.typeID == widgetType, let name = unit.unitKey["name"]?.stringValue,
                    let level = unit.unitKey["level"]?.intValue
                {
                    index.widgets[name, default: []].append((level, unit.id))
                } else if unit.typeID == fixType {
                    index.fixes.append((unit.id, (unit.metadata["fixes"]?.arrayValue ?? []).compactMap(\.stringValue)))
                }
            }
        }
        for type in contentTypes {
            index.tables[type] = UnitIDTable(sortedIDs: units.filter { $0.typeID == type }.map(\.id).sorted())
        }
        return index
    }

    func prepare(profiles: [String: JSONValue]) throws(PulpError) -> [String: Int] {
        var installed: [String: Int] = [:]
        for entry in profiles[profileType]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, let level = entry["level"]?.intValue else {
                throw PulpError.invalid("profile", "malformed entry")
            }
            installed[name] = max(installed[name] ?? level, level)
        }
        return installed
    }

    func applicableUnits(profiles: [String: Int], repository: Index) -> [String: [UnitID]] {
        var widgets: [UnitID] = []
        var applicableNames: Set<String> = []
        for (name, candidates) in repository.widgets {
            guard let installed = profiles[name] else { continue }
            for candidate in candidates where candidate.level > installed {
                widgets.append(candidate.id)
                applicableNames.insert("\(name):\(candidate.level)")
            }
        }
        var result = [widgetType: widgets.sorted()]
        if let fixType {
            result[fixType] = repository.fixes.filter { !applicableNames.isDisjoint(with: $0.names) }.map(\.id)
        }
        return result
    }

    func applicablePositions(profiles: [String: Int], repository: Index) -> [String: UnitPositions]? {
        guard reportsPositions else { return nil }
        return applicableUnits(profiles: profiles, repository: repository).reduce(into: [:]) { result, entry in
            let table = repository.tables[entry.key]!
            let positions = Dictionary(uniqueKeysWithValues: table.ids.enumerated().map { ($1, $0) })
            result[entry.key] = UnitPositions(table: table, positions: entry.value.map { positions[$0]! })
        }
    }
}

/// An engine over fresh stores, with a running dispatcher and a widget calculator registered.
struct ApplicabilityHarness {
    let engine: ApplicabilityEngine
    let repositories: InMemoryRepositoryStore
    let content: InMemoryContentStore
    let editor: RepositoryContentEditor

    var dispatcher: TaskDispatcher { engine.dispatcher }

    /// Creates a repository holding `widgets` (`"name:level"`, unit id `w-name-level`) and `fixes` (id →
    /// the widgets it names; unit id `f-id`).
    @discardableResult
    func repository(
        _ id: RepositoryID,
        widgets: [String] = [],
        fixes: [String: [String]] = [:],
        widgetType: String = "widget",
        fixType: String = "fix"
    ) async throws -> Repository {
        if try await repositories.repository(id) == nil { try await repositories.create(Repository(id: id)) }
        try await add(widgets: widgets, fixes: fixes, to: id, widgetType: widgetType, fixType: fixType)
        return try await repositories.existingRepository(id)
    }

    /// Adds widgets and fixes to a repository.
    func add(
        widgets: [String] = [],
        fixes: [String: [String]] = [:],
        to repository: RepositoryID,
        widgetType: String = "widget",
        fixType: String = "fix"
    ) async throws {
        var units: [ContentUnit] = []
        for widget in widgets {
            let parts = widget.split(separator: ":")
            units.append(
                ContentUnit(
                    id: UnitID("w-\(parts[0])-\(parts[1])"),
                    typeID: widgetType,
                    unitKey: ["name": .string(String(parts[0])), "level": .int(Int(parts[1])!)]
                )
            )
        }
        for (id, names) in fixes.sorted(by: { $0.key < $1.key }) {
            units.append(
                ContentUnit(
                    id: UnitID("f-\(id)"),
                    typeID: fixType,
                    unitKey: ["id": .string(id)],
                    metadata: ["fixes": .array(names.map(JSONValue.string))]
                )
            )
        }
        if !units.isEmpty { try await editor.add(units, to: repository) }
    }

    /// Registers a consumer with a widget profile (`"name:level"` entries) bound to `repositories`.
    func consumer(
        _ id: ConsumerID,
        widgets: [String],
        boundTo repositories: [RepositoryID],
        profileType: String = "widget"
    )
        async throws
    {
        try await engine.register(Consumer(id: id))
        try await engine.setProfile(widgetProfile(widgets), contentType: profileType, for: id)
        for repository in repositories { try await engine.bind(id, to: repository) }
    }

    /// Waits for the task of a call report and returns its final status.
    @discardableResult
    func wait(_ report: CallReport) async throws -> TaskStatus {
        try await dispatcher.waitForCompletion(of: try #require(report.taskID))
    }

    /// Waits until every task of a group is complete and returns the group's summary.
    func wait(_ report: GroupCallReport) async throws -> TaskGroupSummary {
        while true {
            let summary = try await dispatcher.summary(ofGroup: report.groupID)
            if summary.isComplete { return summary }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Runs a consumer regeneration over every consumer and waits for it.
    func regenerateAll() async throws {
        let status = try await wait(try await engine.regenerate(consumers: Criteria()))
        #expect(status.state == .finished, "\(String(describing: status.error))")
    }

    /// Runs a linear regeneration of `repositories` and waits for it.
    func regenerate(repositories ids: [RepositoryID]) async throws {
        let criteria = try Criteria(filters: ["id": ["$in": .array(ids.map { .string($0.rawValue) })]])
        guard case .task(let report) = try await engine.regenerate(repositories: criteria) else {
            Issue.record("a linear regeneration returned a group")
            return
        }
        let status = try await wait(report)
        #expect(status.state == .finished, "\(String(describing: status.error))")
    }

    /// The query's answer as `[consumers: [type: [ids]]]`, for compact expectations.
    func applicability(
        _ criteria: Criteria = Criteria(),
        contentTypes: [String]? = nil
    ) async throws
        -> [[String]: [String: [String]]]
    {
        var result: [[String]: [String: [String]]] = [:]
        for report in try await engine.query(consumers: criteria, contentTypes: contentTypes) {
            result[report.consumers.map(\.rawValue)] = report.applicability.mapValues { $0.map(\.rawValue) }
        }
        return result
    }
}

/// A widget profile from `"name:level"` entries.
func widgetProfile(_ widgets: [String]) -> JSONValue {
    .array(
        widgets.map { widget in
            let parts = widget.split(separator: ":")
            return ["name": .string(String(parts[0])), "level": .int(Int(parts[1])!)]
        }
    )
}

/// Runs `body` with a harness whose dispatcher runs until `body` returns.
func withApplicability<Result>(
    _ backend: StorageBackend = .memory,
    workers: Int = 4,
    probe: IndexProbe = IndexProbe(),
    configuration: ApplicabilityEngine.Configuration = .init(),
    calculators: [WidgetCalculator]? = nil,
    _ body: (ApplicabilityHarness) async throws -> Result
) async throws -> Result {
    let directory = try TemporaryDirectory()
    let dispatcher = TaskDispatcher(
        store: InMemoryTaskStore(),
        configuration: .init(workerCount: workers, pollInterval: .milliseconds(5), drainGracePeriod: .seconds(1))
    )
    let repositories = InMemoryRepositoryStore()
    let content = InMemoryContentStore()
    let engine = ApplicabilityEngine(
        consumers: try backend.consumerStore(in: directory),
        repositories: repositories,
        content: content,
        store: try backend.applicabilityStore(in: directory),
        dispatcher: dispatcher,
        configuration: configuration
    )
    for calculator in calculators ?? [WidgetCalculator(probe: probe)] { try engine.register(calculator) }
    let harness = ApplicabilityHarness(
        engine: engine,
        repositories: repositories,
        content: content,
        editor: RepositoryContentEditor(repositories: repositories, content: content)
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        defer { group.cancelAll() }
        return try await body(harness)
    }
}

/// Expects `body` to throw a ``PulpError`` with `status` naming `properties`.
func expectPulpError(
    _ status: Int,
    _ properties: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected a \(status) naming \(properties), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as PulpError {
        #expect(error.httpStatus == status, "\(error)", sourceLocation: sourceLocation)
        #expect(error.propertyNames == properties, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a PulpError, got \(error)", sourceLocation: sourceLocation)
    }
}
