import Foundation
import Testing

@testable import PulpKit

/// Many concurrent callers on the stores themselves; for SQLite, through two connections to one file, as
/// two processes would.
@Suite struct StressStoreTests {
    @Test(arguments: StorageBackend.allCases)
    func concurrentClaimsTakeEachTaskOnceInLineOrder(_ backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let first = try backend.taskStore(in: directory)
        let second: any TaskStore =
            switch backend {
            case .memory: first
            case .sqlite: try SQLiteTaskStore(path: directory.path("tasks.db"))
            }
        let stores = [first, second]
        let claims = PulpMutex<[TaskID: String]>([:])
        let duplicates = PulpMutex<[TaskID]>([])
        let inserted = PulpMutex(0)
        let resources = (0..<4).map { "stress:line:\($0)" }

        try await concurrently(10) { caller in
            let store = stores[caller % 2]
            let worker = "worker-\(caller)"
            for step in 0..<30 {
                if caller < 5 {
                    let task = TaskStatus(
                        name: "stress",
                        arguments: [:],
                        resources: step % 2 == 0 ? [resources[(caller + step) % 4]] : [],
                        tags: [],
                        groupID: nil,
                        submitTime: Date()
                    )
                    _ = try await store.insert([task])
                    inserted.withLock { $0 += 1 }
                    if step % 7 == 0 { _ = try await store.cancel(task.id, at: Date()) }
                } else {
                    for task in try await store.claim(worker: worker, limit: 2, at: Date()) {
                        claims.withLock { claims in
                            if claims.updateValue(worker, forKey: task.id) != nil {
                                duplicates.withLock { $0.append(task.id) }
                            }
                        }
                        _ = try await store.finish(
                            [TaskCompletion(id: task.id, outcome: .finished(result: .null))],
                            at: Date()
                        )
                    }
                }
            }
        }
        // Drain what is left with one worker, one task at a time.
        while let task = try await first.claim(worker: "drain", limit: 1, at: Date()).first {
            claims.withLock { claims in
                if claims.updateValue("drain", forKey: task.id) != nil { duplicates.withLock { $0.append(task.id) } }
            }
            _ = try await first.finish([TaskCompletion(id: task.id, outcome: .finished(result: .null))], at: Date())
        }

        let tasks = try await second.tasks(inGroup: nil)
        #expect(duplicates.withLock { $0 } == [])
        #expect(tasks.count == inserted.withLock { $0 })
        #expect(tasks.allSatisfy { $0.state == .finished || $0.state == .canceled })
        let claimed = claims.withLock { $0 }
        for task in tasks {
            // Finished means claimed once; never claimed means cancelled while waiting.
            if task.state == .finished { #expect(claimed[task.id] != nil, "\(task.id) finished unclaimed") }
            if claimed[task.id] == nil { #expect(task.state == .canceled && task.startTime == nil, "\(task.id)") }
        }
        if let sqlite = first as? SQLiteTaskStore {
            #expect(try await sqlite.integrityProblems() == [])
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func concurrentScheduleClaimsNeverTakeOneRunTwice(_ backend: StorageBackend) async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("schedules.db")
        let stores: [any ScheduleStore] =
            switch backend {
            case .memory: [InMemoryScheduleStore()]
            case .sqlite: [try SQLiteScheduleStore(path: path), try SQLiteScheduleStore(path: path)]
            }
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let calls = try (0..<20).map { index in
            try ScheduledCall(
                repositoryID: "stress",
                importerID: "importer",
                schedule: "R25/\(ISO8601DateTime.utcString(start))/PT1S",
                createdAt: start.addingTimeInterval(Double(index) / 100)
            )
        }
        for call in calls { try await stores[0].insert(call) }
        let runs = PulpMutex<[String: Int]>([:])
        let duplicates = PulpMutex<[String]>([])

        try await concurrently(8) { caller in
            let store = stores[caller % stores.count]
            for step in 0..<40 {
                // Every scheduler sees the same instants, so only the store keeps two from taking one run.
                let now = start.addingTimeInterval(Double(step))
                for call in try await store.claimDue(at: now, limit: 4, scheduler: "scheduler-\(caller)") {
                    let run = "\(call.id)#\(call.totalRunCount)"
                    runs.withLock { runs in
                        if runs.updateValue(caller, forKey: run) != nil { duplicates.withLock { $0.append(run) } }
                    }
                }
                if step % 5 == 0, let call = calls.randomElement() {
                    try await store.update(call.id) { $0.overrideConfig["step"] = .int(step) }
                }
            }
        }

        #expect(duplicates.withLock { $0 } == [])
        let claimed = runs.withLock { $0 }
        for call in calls {
            let stored = try #require(try await stores[stores.count - 1].call(call.id))
            let taken = claimed.keys.filter { $0.hasPrefix("\(call.id)#") }.count
            #expect(stored.totalRunCount == taken, "\(call.id)")
            #expect(stored.totalRunCount + (stored.remainingRuns ?? 0) == 25)
        }
        if let sqlite = stores[0] as? SQLiteScheduleStore {
            #expect(try await sqlite.integrityProblems() == [])
        }
    }
}
