import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

/// Records when tasks start and end on each resource, and every overlap it sees.
final class ReservationRecorder: Sendable {
    private struct State {
        var active: [String: TaskID] = [:]
        var starts: [String: [Int]] = [:]
        var overlaps: [String] = []
        var runs: [TaskID: Int] = [:]
        var concurrent = 0
        var maxConcurrent = 0
    }

    private let state = PulpMutex(State())

    func start(_ id: TaskID, index: Int, resources: [String]) {
        state.withLock { state in
            state.runs[id, default: 0] += 1
            state.concurrent += 1
            state.maxConcurrent = max(state.maxConcurrent, state.concurrent)
            for resource in resources {
                if let other = state.active[resource] { state.overlaps.append("\(resource): \(other) and \(id)") }
                state.active[resource] = id
                state.starts[resource, default: []].append(index)
            }
        }
    }

    func end(_ id: TaskID, resources: [String]) {
        state.withLock { state in
            state.concurrent -= 1
            for resource in resources where state.active[resource] == id { state.active[resource] = nil }
        }
    }

    var overlaps: [String] { state.withLock { $0.overlaps } }
    var starts: [String: [Int]] { state.withLock { $0.starts } }
    var runs: [TaskID: Int] { state.withLock { $0.runs } }
    var maxConcurrent: Int { state.withLock { $0.maxConcurrent } }
}

/// Arguments of the test handler `test.work`.
struct WorkArguments: Codable, Sendable {
    var index: Int
    var resources: [String]
    var spin: Int?
}

let workKind = TaskKind<WorkArguments>("test.work")

/// A dispatcher whose `test.work` handler records starts and ends, running until `body` returns.
func withDispatcher<Result>(
    store: any TaskStore,
    workers: Int = 4,
    clock: any WallClock = SystemWallClock(),
    recorder: ReservationRecorder = ReservationRecorder(),
    _ body: (TaskDispatcher) async throws -> Result
) async throws -> Result {
    let dispatcher = TaskDispatcher(
        store: store,
        clock: clock,
        configuration: .init(workerCount: workers, pollInterval: .milliseconds(10), drainGracePeriod: .seconds(1))
    )
    dispatcher.register(workKind) { context, arguments in
        recorder.start(context.id, index: arguments.index, resources: arguments.resources)
        for _ in 0..<(arguments.spin ?? 0) { await Task.yield() }
        recorder.end(context.id, resources: arguments.resources)
        return ["index": .int(arguments.index)]
    }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        defer { group.cancelAll() }
        return try await body(dispatcher)
    }
}

func waitForAll(_ ids: [TaskID], on dispatcher: TaskDispatcher) async throws -> [TaskStatus] {
    var statuses: [TaskStatus] = []
    for id in ids { statuses.append(try await dispatcher.waitForCompletion(of: id)) }
    return statuses
}

struct TaskDispatcherTests {
    @Test(arguments: StorageBackend.allCases)
    func runsTasksOnACommonResourceOneAtATimeInSubmissionOrder(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let recorder = ReservationRecorder()
        let count = 1_000
        let statuses = try await withDispatcher(store: try kind.taskStore(in: directory), recorder: recorder) {
            dispatcher in
            var ids: [TaskID] = []
            for index in 0..<count {
                let resources = ["pulp:repository:r\(index % 20)"]
                let report = try await dispatcher.dispatch(
                    workKind,
                    WorkArguments(index: index, resources: resources, spin: index % 3),
                    resources: resources
                )
                ids.append(try #require(report.taskID))
            }
            return try await waitForAll(ids, on: dispatcher)
        }
        #expect(statuses.allSatisfy { $0.state == .finished })
        #expect(recorder.overlaps == [])
        for (resource, starts) in recorder.starts {
            #expect(starts == starts.sorted(), "tasks on \(resource) started out of submission order")
        }
        #expect(recorder.runs.count == count)
        #expect(recorder.runs.values.allSatisfy { $0 == 1 })
    }

    @Test(arguments: StorageBackend.allCases)
    func runsMultiResourceTasksWithoutDeadlockOrOverlap(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let recorder = ReservationRecorder()
        var generator = SeededRandomNumberGenerator(seed: 7)
        let requests = (0..<300).map { index in
            let count = Int.random(in: 1...3, using: &generator)
            let resources = (0..<5).map { "res-\($0)" }.shuffled(using: &generator).prefix(count)
            return WorkArguments(index: index, resources: Array(resources), spin: index % 4)
        }
        let statuses = try await withDispatcher(store: try kind.taskStore(in: directory), recorder: recorder) {
            dispatcher in
            var ids: [TaskID] = []
            for request in requests {
                let report = try await dispatcher.dispatch(workKind, request, resources: request.resources)
                ids.append(try #require(report.taskID))
            }
            return try await waitForAll(ids, on: dispatcher)
        }
        #expect(statuses.allSatisfy { $0.state == .finished })
        #expect(recorder.overlaps == [])
        for (_, starts) in recorder.starts { #expect(starts == starts.sorted()) }
    }

    @Test(arguments: StorageBackend.allCases)
    func dispatchesABatchInOneWriteOrNothingWhenOneIsBad(backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try backend.taskStore(in: directory)
        let dispatcher = TaskDispatcher(store: store)
        dispatcher.register(workKind) { _, _ in .null }
        let requests = try (0..<5).map {
            try TaskRequest(workKind, WorkArguments(index: $0, resources: []), resources: ["r"])
        }
        let reports = try await dispatcher.dispatch(requests)
        #expect(reports.count == 5)
        let stored = try await store.tasks(inGroup: nil)
        #expect(stored.map(\.id) == reports.flatMap(\.spawnedTasks).map(\.taskID))
        #expect(stored.map { $0.arguments["index"] } == [0, 1, 2, 3, 4])
        #expect(Set(stored.map(\.submitTime)).count == 1)

        let bad = requests + [TaskRequest(name: "no.such.task"), TaskRequest(name: workKind.name, arguments: "x")]
        let error = await #expect(throws: PulpError.self) { try await dispatcher.dispatch(bad) }
        #expect(error?.propertyNames == ["name", "arguments"])
        #expect(try await store.tasks(inGroup: nil).count == 5)
        #expect(try await dispatcher.dispatch([]).isEmpty)
    }

    @Test func respectsTheWorkerLimit() async throws {
        let recorder = ReservationRecorder()
        try await withDispatcher(store: InMemoryTaskStore(), workers: 3, recorder: recorder) { dispatcher in
            var ids: [TaskID] = []
            for index in 0..<40 {
                let report = try await dispatcher.dispatch(
                    workKind,
                    WorkArguments(index: index, resources: [], spin: 200)
                )
                ids.append(try #require(report.taskID))
            }
            _ = try await waitForAll(ids, on: dispatcher)
        }
        #expect(recorder.maxConcurrent <= 3)
        #expect(recorder.maxConcurrent >= 2)
    }

    @Test(arguments: StorageBackend.allCases)
    func cancellingAWaitingTaskMeansItNeverRuns(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let gate = Gate()
        let recorder = ReservationRecorder()
        try await withDispatcher(
            store: try kind.taskStore(in: directory),
            recorder: recorder
        ) { dispatcher in
            dispatcher.register("test.block") { _ in
                await gate.wait()
                return nil
            }
            let blocker = try #require(
                try await dispatcher.dispatch(TaskRequest(name: "test.block", resources: ["r"])).taskID
            )
            let waiting = try #require(
                try await dispatcher.dispatch(workKind, WorkArguments(index: 1, resources: ["r"]), resources: ["r"])
                    .taskID
            )
            let canceled = try await dispatcher.cancel(waiting)
            #expect(canceled.state == .canceled)
            #expect(canceled.finishTime != nil)
            gate.open()
            #expect(try await dispatcher.waitForCompletion(of: blocker).state == .finished)
            #expect(try await dispatcher.status(of: waiting).state == .canceled)
        }
        #expect(recorder.runs.isEmpty)
    }

    @Test(arguments: StorageBackend.allCases)
    func cancellingARunningTaskEndsItCanceledNeverFinished(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let started = Gate()
        try await withDispatcher(
            store: try kind.taskStore(in: directory)
        ) { dispatcher in
            dispatcher.register("test.sleep") { _ in
                started.open()
                try await Task.sleep(for: .seconds(60))
                return "slept"
            }
            let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.sleep")).taskID)
            await started.wait()
            #expect(try await dispatcher.status(of: id).state == .running)
            try await dispatcher.cancel(id)
            let final = try await dispatcher.waitForCompletion(of: id)
            #expect(final.state == .canceled)
            #expect(final.finishTime != nil)
            #expect(final.result == .null)
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func cancellingACompleteTaskIsANoOpAndAnUnknownIdIsA404(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        try await withDispatcher(store: try kind.taskStore(in: directory)) { dispatcher in
            let id = try #require(
                try await dispatcher.dispatch(workKind, WorkArguments(index: 0, resources: [])).taskID
            )
            let finished = try await dispatcher.waitForCompletion(of: id)
            let afterCancel = try await dispatcher.cancel(id)
            #expect(afterCancel == finished)
            let error = await #expect(throws: PulpError.self) { try await dispatcher.cancel(TaskID("nope")) }
            #expect(error?.httpStatus == 404)
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func groupsHaveAStateSummaryAndCancelTogether(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let gate = Gate()
        try await withDispatcher(
            store: try kind.taskStore(in: directory),
            workers: 2
        ) { dispatcher in
            dispatcher.register("test.block") { _ in
                await gate.wait()
                return nil
            }
            let finishedGroup = try await dispatcher.dispatchGroup(
                (0..<5).map { try! TaskRequest(workKind, WorkArguments(index: $0, resources: [])) }
            )
            #expect(finishedGroup.json["_href"] == .string("/pulp/api/v2/task_groups/\(finishedGroup.groupID)/"))
            let members = try await dispatcher.store.tasks(inGroup: finishedGroup.groupID)
            _ = try await waitForAll(members.map(\.id), on: dispatcher)
            let summary = try await dispatcher.summary(ofGroup: finishedGroup.groupID)
            #expect(summary.counts[.finished] == 5)
            #expect(summary.total == 5)
            #expect(summary.json["total"] == 5)
            #expect(summary.json.objectValue?.count == 9)

            let unknown = try await dispatcher.summary(ofGroup: TaskGroupID("unknown"))
            #expect(unknown.total == 0)
            #expect(unknown.json["waiting"] == 0)

            let blocked = try await dispatcher.dispatchGroup(
                (0..<4).map { _ in TaskRequest(name: "test.block", resources: ["same"]) }
            )
            try await dispatcher.cancelGroup(blocked.groupID)
            gate.open()
            let blockedMembers = try await dispatcher.store.tasks(inGroup: blocked.groupID)
            let final = try await waitForAll(blockedMembers.map(\.id), on: dispatcher)
            #expect(final.allSatisfy { $0.state == .canceled })

            let error = await #expect(throws: PulpError.self) {
                try await dispatcher.cancelGroup(TaskGroupID("unknown"))
            }
            #expect(error?.httpStatus == 404)
        }
    }

    @Test func handlersReturnResultsSpawnTasksAndFailWithReports() async throws {
        let completions = PulpMutex<[TaskState]>([])
        try await withDispatcher(
            store: InMemoryTaskStore()
        ) { dispatcher in
            dispatcher.register("test.parent") { context in
                try await context.reportProgress(["step": "spawning"])
                try await context.spawn(TaskRequest(name: "test.fail"))
                return ["answer": 42]
            }
            dispatcher.register("test.fail") { _ in
                throw PulpError.invalid("feed", "cannot be reached")
            }
            dispatcher.onCompletion { task in completions.withLock { $0.append(task.state) } }
            let report = try await dispatcher.dispatch(TaskRequest(name: "test.parent", tags: ["pulp:action:test"]))
            #expect(report.json["result"] == .null)
            #expect(report.json["error"] == .null)
            let parentID = try #require(report.taskID)
            let parent = try await dispatcher.waitForCompletion(of: parentID)
            #expect(parent.state == .finished)
            #expect(parent.result == ["answer": 42])
            #expect(parent.progressReport == ["step": "spawning"])
            let childID = try #require(parent.spawnedTasks.first)
            let child = try await dispatcher.waitForCompletion(of: childID)
            #expect(child.state == .error)
            #expect(child.error?.code == "PLK0015")
            #expect(child.error?.description.contains("feed: cannot be reached") == true)
            #expect(child.exception == "PulpKit.PulpError")
            #expect(child.traceback?.contains("test.fail") == true)

            let json = parent.json
            #expect(json["task_id"] == .string(parentID.rawValue))
            #expect(json["_href"] == .string("/pulp/api/v2/tasks/\(parentID)/"))
            #expect(json["state"] == "finished")
            #expect(json["tags"] == ["pulp:action:test"])
            #expect(json["spawned_tasks"] == [SpawnedTask(childID).json])
            let start = try #require(json["start_time"]?.stringValue)
            #expect(start.count == 20 && start.hasSuffix("Z"))
            #expect(json["queue"]?.stringValue?.hasSuffix(".dq") == true)
            for key in ["finish_time", "progress_report", "result", "error", "exception", "traceback", "worker_name"] {
                #expect(json[key] != nil, "missing \(key)")
            }
            try await eventually { completions.withLock { $0.count } == 2 }
        }
        #expect(completions.withLock { $0 }.sorted { $0.rawValue < $1.rawValue } == [.error, .finished])
    }

    @Test(arguments: StorageBackend.allCases)
    func refusesBadDispatchesAndStoresNothing(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.taskStore(in: directory)
        let dispatcher = TaskDispatcher(store: store)
        dispatcher.register(workKind) { _, _ in nil }
        let cases: [(TaskRequest, String)] = [
            (TaskRequest(name: "no.such.task"), "name"),
            (TaskRequest(name: workKind.name, arguments: ["index": "one"]), "arguments"),
            (TaskRequest(name: workKind.name, arguments: ["index": 1, "resources": []], resources: [""]), "resources"),
            (TaskRequest(name: workKind.name, arguments: ["index": 1, "resources": []], tags: [""]), "tags"),
        ]
        for (request, property) in cases {
            let error = await #expect(throws: PulpError.self) { try await dispatcher.dispatch(request) }
            #expect(error?.httpStatus == 400)
            #expect(error?.propertyNames == [property])
        }
        #expect(try await store.tasks(inGroup: nil).isEmpty)
    }

    @Test func listsTasksByTagsExcludingGroupedOnesAndByCriteria() async throws {
        try await withDispatcher(store: InMemoryTaskStore()) { dispatcher in
            let tagged = try #require(
                try await dispatcher.dispatch(
                    TaskRequest(
                        name: workKind.name,
                        arguments: ["index": 1, "resources": []],
                        tags: ["pulp:repository:zoo", "pulp:action:sync"]
                    )
                ).taskID
            )
            _ = try await dispatcher.dispatch(
                TaskRequest(name: workKind.name, arguments: ["index": 2, "resources": []], tags: ["pulp:action:sync"])
            )
            _ = try await dispatcher.dispatchGroup([
                TaskRequest(
                    name: workKind.name,
                    arguments: ["index": 3, "resources": []],
                    tags: ["pulp:repository:zoo", "pulp:action:sync"]
                )
            ])
            let found = try await dispatcher.tasks(taggedWith: ["pulp:repository:zoo", "pulp:action:sync"])
            #expect(found.map(\.id) == [tagged])
            let all = try await dispatcher.tasks(taggedWith: [])
            #expect(all.count == 2)
            let byCriteria = try await dispatcher.tasks(
                matching: Criteria(json: ["filters": ["tags": "pulp:repository:zoo"]])
            )
            #expect(byCriteria.count == 2)
            let projected = try await dispatcher.tasks(
                matching: Criteria(json: ["filters": ["tags": "pulp:repository:zoo"], "fields": ["state"]])
            )
            #expect(projected.map(\.id) == byCriteria.map(\.id))
        }
    }

    @Test func recoversTheTasksOfALostWorker() async throws {
        let store = InMemoryTaskStore()
        let clock = ManualWallClock()
        let start = clock.now
        let dead = try await store.insert([
            TaskStatus(name: workKind.name, resources: ["r"], submitTime: start),
            TaskStatus(
                name: workKind.name,
                arguments: ["index": 2, "resources": ["r"]],
                resources: ["r"],
                submitTime: start
            ),
        ])
        try await store.heartbeat(worker: "dead@host", at: start)
        let claimed = try await store.claim(worker: "dead@host", limit: 5, at: start)
        #expect(claimed.map(\.id) == [dead[0].id])

        clock.advance(by: 31)
        try await withDispatcher(store: store, clock: clock) { dispatcher in
            let lost = try await dispatcher.waitForCompletion(of: dead[0].id)
            #expect(lost.state == .error)
            #expect(lost.error?.description.contains("dead@host was lost") == true)
            // Its resource is free again: the task queued behind it runs.
            #expect(try await dispatcher.waitForCompletion(of: dead[1].id).state == .finished)
        }
    }

    @Test func restartRecoversTasksADeadProcessLeftRunningOnSQLite() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("tasks.db")
        let clock = ManualWallClock()
        var ids: [TaskID] = []
        do {
            // The "dead process": it dispatched three tasks on one resource and was killed while
            // running the first.
            let store = try SQLiteTaskStore(path: path)
            let tasks = try await store.insert(
                (0..<3).map {
                    TaskStatus(
                        name: workKind.name,
                        arguments: ["index": .int($0), "resources": ["pulp:repository:zoo"]],
                        resources: ["pulp:repository:zoo"],
                        submitTime: clock.now
                    )
                }
            )
            ids = tasks.map(\.id)
            try await store.heartbeat(worker: "old@host", at: clock.now)
            _ = try await store.claim(worker: "old@host", limit: 1, at: clock.now)
        }
        clock.advance(by: 120)
        let reopened = try SQLiteTaskStore(path: path)
        #expect(try await reopened.task(ids[0])?.state == .running)
        try await withDispatcher(store: reopened, clock: clock) { dispatcher in
            let statuses = try await waitForAll(ids, on: dispatcher)
            #expect(statuses.map(\.state) == [.error, .finished, .finished])
        }
    }

    @Test func twoDispatchersOnOneSQLiteFileRunEveryTaskOnceWithoutOverlap() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("tasks.db")
        let recorder = ReservationRecorder()
        let count = 2_000
        let first = try SQLiteTaskStore(path: path)
        let second = try SQLiteTaskStore(path: path)
        try await withDispatcher(store: first, workers: 2, recorder: recorder) { one in
            try await withDispatcher(store: second, workers: 2, recorder: recorder) { two in
                var ids: [TaskID] = []
                for index in 0..<count {
                    let resources = ["pulp:repository:r\(index % 20)"]
                    let dispatcher = index.isMultiple(of: 2) ? one : two
                    let report = try await dispatcher.dispatch(
                        workKind,
                        WorkArguments(index: index, resources: resources),
                        resources: resources
                    )
                    ids.append(try #require(report.taskID))
                }
                let statuses = try await waitForAll(ids, on: one)
                #expect(statuses.allSatisfy { $0.state == .finished })
                let workers = Set(statuses.compactMap(\.workerName))
                #expect(workers.count == 2, "both dispatchers should have worked")
            }
        }
        #expect(recorder.overlaps == [])
        #expect(recorder.runs.count == count)
        #expect(recorder.runs.values.allSatisfy { $0 == 1 })
        for (_, starts) in recorder.starts { #expect(starts == starts.sorted()) }
    }

    @Test(arguments: StorageBackend.allCases)
    func purgesCompleteTasksOlderThanTheRetention(kind: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let clock = ManualWallClock()
        let store = try kind.taskStore(in: directory)
        let dispatcher = TaskDispatcher(store: store, clock: clock, configuration: .init(retention: 3_600))
        dispatcher.register(workKind) { _, _ in nil }
        let old = try await store.insert([TaskStatus(name: workKind.name, submitTime: clock.now)])[0]
        _ = try await store.claim(worker: "w", limit: 1, at: clock.now)
        _ = try await store.finish([TaskCompletion(id: old.id, outcome: .finished(result: nil))], at: clock.now)
        clock.advance(by: 3_000)
        let recent = try await store.insert([TaskStatus(name: workKind.name, submitTime: clock.now)])[0]
        _ = try await store.claim(worker: "w", limit: 1, at: clock.now)
        _ = try await store.finish([TaskCompletion(id: recent.id, outcome: .finished(result: nil))], at: clock.now)
        let waiting = try await store.insert([TaskStatus(name: workKind.name, submitTime: clock.now)])[0]
        clock.advance(by: 1_000)

        #expect(try await dispatcher.purgeExpiredTasks() == 1)
        #expect(try await store.task(old.id) == nil)
        #expect(try await store.task(recent.id) != nil)
        #expect(try await store.task(waiting.id) != nil)

        #expect(try await dispatcher.deleteCompleted(states: [.finished]) == 1)
        #expect(try await store.task(waiting.id) != nil)
        let error = await #expect(throws: PulpError.self) { try await dispatcher.deleteCompleted(states: [.canceled]) }
        #expect(error?.propertyNames == ["state"])
        await #expect(throws: PulpError.self) { try await dispatcher.deleteCompleted(states: []) }
    }

    @Test func aRestartUnderTheSameWorkerNameEndsWhatTheOldProcessLeftRunning() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("tasks.db")
        let clock = ManualWallClock()
        let name = "reserved_resource_worker-1@host"
        var ids: [TaskID] = []
        do {
            let store = try SQLiteTaskStore(path: path)
            let tasks = try await store.insert(
                (0..<2).map {
                    TaskStatus(
                        name: workKind.name,
                        arguments: ["index": .int($0), "resources": ["r"]],
                        resources: ["r"],
                        submitTime: clock.now
                    )
                }
            )
            ids = tasks.map(\.id)
            try await store.heartbeat(worker: name, at: clock.now)
            _ = try await store.claim(worker: name, limit: 1, at: clock.now)
        }
        // Restarted at once: the old heartbeat is still fresh, yet the old run cannot be alive.
        let store = try SQLiteTaskStore(path: path)
        let dispatcher = TaskDispatcher(
            store: store,
            clock: clock,
            configuration: .init(workerName: name, pollInterval: .milliseconds(10))
        )
        dispatcher.register(workKind) { _, arguments in ["index": .int(arguments.index)] }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            defer { group.cancelAll() }
            let statuses = try await waitForAll(ids, on: dispatcher)
            #expect(statuses.map(\.state) == [.error, .finished])
            #expect(statuses[0].error?.description.contains(name) == true)
        }
    }

    @Test func aWorkerDeclaredLostStopsItsRun() async throws {
        let store = InMemoryTaskStore()
        let started = Gate()
        let stopped = Gate()
        try await withDispatcher(store: store) { dispatcher in
            dispatcher.register("test.long") { _ in
                started.open()
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    stopped.open()
                    throw error
                }
                return nil
            }
            let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.long")).taskID)
            await started.wait()
            // Another dispatcher decides this worker is lost (e.g. its heartbeats failed for 30 s).
            let recovered = try await store.recoverLostWorkers(heartbeatBefore: .distantFuture, at: .now)
            #expect(recovered.map(\.id) == [id])
            await stopped.wait()
            #expect(try await dispatcher.status(of: id).state == .error)
        }
    }

    @Test func cancellingThroughAnotherDispatcherStopsTheRun() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("tasks.db")
        let started = Gate()
        let runner = TaskDispatcher(
            store: try SQLiteTaskStore(path: path),
            configuration: .init(pollInterval: .milliseconds(10))
        )
        runner.register("test.long") { _ in
            started.open()
            try await Task.sleep(for: .seconds(60))
            return nil
        }
        // The API process: it dispatches and cancels, and runs nothing itself.
        let api = TaskDispatcher(store: try SQLiteTaskStore(path: path))
        api.register("test.long") { _ in nil }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runner.run() }
            defer { group.cancelAll() }
            let id = try #require(try await api.dispatch(TaskRequest(name: "test.long")).taskID)
            await started.wait()
            try await api.cancel(id)
            let final = try await api.waitForCompletion(of: id)
            #expect(final.state == .canceled)
            #expect(final.workerName == runner.configuration.workerName)
        }
    }

    @Test func aFinishWakesAFreeWorkerForTheTasksItUnblocked() async throws {
        let releaseFirst = Gate()
        let releaseSecond = Gate()
        let dispatcher = TaskDispatcher(
            store: InMemoryTaskStore(),
            configuration: .init(workerCount: 4, pollInterval: .seconds(30))
        )
        dispatcher.register("test.gate") { context in
            if context.task.arguments["gate"] == 1 { await releaseFirst.wait() }
            if context.task.arguments["gate"] == 2 { await releaseSecond.wait() }
            return nil
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            defer { group.cancelAll() }
            try await Task.sleep(for: .milliseconds(20))
            let both = try #require(
                try await dispatcher.dispatch(
                    TaskRequest(name: "test.gate", arguments: ["gate": 1], resources: ["r1", "r2"])
                ).taskID
            )
            let onFirst = try #require(
                try await dispatcher.dispatch(TaskRequest(name: "test.gate", arguments: ["gate": 2], resources: ["r1"]))
                    .taskID
            )
            let onSecond = try #require(
                try await dispatcher.dispatch(TaskRequest(name: "test.gate", arguments: ["gate": 0], resources: ["r2"]))
                    .taskID
            )
            releaseFirst.open()
            _ = try await dispatcher.waitForCompletion(of: both)
            // The worker that finished `both` took `onFirst`, which blocks; a free worker must take
            // `onSecond` at once, not at the next poll 30 s later.
            let second = try await dispatcher.waitForCompletion(of: onSecond)
            #expect(second.state == .finished)
            #expect(try await dispatcher.status(of: onFirst).state == .running)
            releaseSecond.open()
            _ = try await dispatcher.waitForCompletion(of: onFirst)
        }
    }

    @Test func runningTwiceIsRefused() async throws {
        try await withDispatcher(store: InMemoryTaskStore()) { dispatcher in
            try await Task.sleep(for: .milliseconds(20))
            let error = await #expect(throws: PulpError.self) { try await dispatcher.run() }
            #expect(error?.httpStatus == 409)
        }
    }

    @Test func aHandlersOwnCancellationErrorIsAFailureNotACancel() async throws {
        try await withDispatcher(store: InMemoryTaskStore()) { dispatcher in
            dispatcher.register("test.gives_up") { _ in throw CancellationError() }
            let id = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.gives_up")).taskID)
            let final = try await dispatcher.waitForCompletion(of: id)
            #expect(final.state == .error)
            #expect(final.exception == "Swift.CancellationError")
        }
    }

    @Test func drainingLetsRunningTasksFinishAndClaimsNothingNew() async throws {
        let store = InMemoryTaskStore()
        let dispatcher = TaskDispatcher(
            store: store,
            configuration: .init(workerCount: 1, pollInterval: .milliseconds(5))
        )
        let started = Gate()
        let release = Gate()
        dispatcher.register("test.slow") { _ in
            started.open()
            await release.wait()
            return "done"
        }
        let running = Task { try await dispatcher.run() }
        let first = try #require(try await dispatcher.dispatch(TaskRequest(name: "test.slow", resources: ["r"])).taskID)
        let second = try #require(
            try await dispatcher.dispatch(TaskRequest(name: "test.slow", resources: ["r"])).taskID
        )
        await started.wait()
        running.cancel()
        try await Task.sleep(for: .milliseconds(20))
        release.open()
        try await running.value
        #expect(try await dispatcher.status(of: first).state == .finished)
        #expect(try await dispatcher.status(of: second).state == .waiting)
    }
}

/// Waits, polling every millisecond for at most five seconds, until `condition` holds.
func eventually(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<5_000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(1))
    }
    Issue.record("condition not met within 5 s", sourceLocation: sourceLocation)
}

/// A one-shot latch: `wait()` returns once `open()` has been called.
final class Gate: Sendable {
    private let state = PulpMutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
    }
}
