import Foundation
import PulpKitTesting
import Testing

@testable import PulpKit

struct ApplicabilityRegenerationTests {
    @Test(arguments: StorageBackend.allCases)
    func consumerRegenerationFillsGapsAndNeverRefreshes(backend: StorageBackend) async throws {
        try await withApplicability(backend) { harness in
            try await harness.repository("zoo", widgets: ["a:1", "a:2", "a:3", "b:1"], fixes: ["F1": ["a:3"]])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.regenerateAll()
            #expect(try await harness.applicability() == [["c1"]: ["widget": ["w-a-2", "w-a-3"], "fix": ["f-F1"]]])

            // The repository changes; a consumer regeneration fills the new consumers' gaps only.
            try await harness.add(widgets: ["a:4", "b:2"], to: "zoo")
            try await harness.consumer("c2", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.consumer("c3", widgets: ["b:1"], boundTo: ["zoo"])
            let report = try await harness.engine.regenerate(consumers: Criteria())
            let status = try await harness.wait(report)
            #expect(status.result["records_computed"] == 1)
            #expect(
                try await harness.applicability() == [
                    ["c1", "c2"]: ["widget": ["w-a-2", "w-a-3"], "fix": ["f-F1"]],
                    ["c3"]: ["widget": ["w-b-2"], "fix": []],
                ]
            )

            // A repository regeneration refreshes what exists.
            try await harness.regenerate(repositories: ["zoo"])
            #expect(
                try await harness.applicability() == [
                    ["c1", "c2"]: ["widget": ["w-a-2", "w-a-3", "w-a-4"], "fix": ["f-F1"]],
                    ["c3"]: ["widget": ["w-b-2"], "fix": []],
                ]
            )
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func repositoryRegenerationRefreshesExistingRecordsOnlyAndComputesNewTypes(backend: StorageBackend) async throws {
        try await withApplicability(backend) { harness in
            try await harness.repository("empty")
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["empty"])
            try await harness.regenerateAll()
            // A repository with nothing to compute gets a record with no type, which queries leave out.
            #expect(try await harness.engine.store.keys().map(\.repositoryID) == ["empty"])
            #expect(try await harness.applicability().isEmpty)

            try await harness.add(widgets: ["a:2", "a:3"], fixes: ["F": ["a:3"]], to: "empty")
            try await harness.regenerateAll()
            #expect(try await harness.applicability().isEmpty, "a consumer regeneration refreshed a record")

            // A pair without a record is left to the consumer path.
            try await harness.engine.bind("c1", to: "zoo")
            try await harness.regenerate(repositories: ["empty", "zoo"])
            #expect(
                try await harness.applicability() == [["c1"]: ["widget": ["w-a-2", "w-a-3"], "fix": ["f-F"]]]
            )
            try await harness.regenerateAll()
            #expect(
                try await harness.applicability() == [
                    ["c1"]: ["widget": ["w-a-2", "w-a-3"], "fix": ["f-F"]]
                ],
                "two records of one consumer set are merged by union"
            )
        }
    }

    @Test(arguments: [false, true])
    func concurrentComputationsGiveTheRecordsOfOneAtATime(positions: Bool) async throws {
        func records(concurrency: Int) async throws -> [ApplicabilityRecord] {
            try await withApplicability(
                configuration: .init(concurrency: concurrency),
                calculators: [WidgetCalculator(reportsPositions: positions)]
            ) { harness in
                let names = ["a", "b", "c", "d", "e"]
                for repository in 0..<4 {
                    try await harness.repository(
                        RepositoryID("r\(repository)"),
                        widgets: names.flatMap { name in (1...4).map { "\(name):\($0 + repository)" } },
                        fixes: ["F\(repository)": ["a:\(repository + 3)"], "G\(repository)": ["e:\(repository + 4)"]]
                    )
                }
                for consumer in 0..<40 {
                    try await harness.consumer(
                        ConsumerID("c\(consumer)"),
                        widgets: names.enumerated().compactMap { position, name in
                            consumer % (position + 2) == 0 ? nil : "\(name):\(consumer % 5 + 1)"
                        },
                        boundTo: (0..<(consumer % 4 + 1)).map { RepositoryID("r\(($0 + consumer) % 4)") }
                    )
                }
                try await harness.regenerateAll()
                let hashes = Set(try await harness.engine.store.keys().map(\.profileSetHash))
                return try await harness.engine.store.records(forProfileSets: hashes)
            }
        }
        let serial = try await records(concurrency: 1)
        #expect(serial.count > 40, "many (repository, profile set) records")
        #expect(try await records(concurrency: 4) == serial)
    }

    @Test func bulkRegenerationsRunOneAtATimeUnderTheGlobalLock() async throws {
        let probe = IndexProbe(delay: .milliseconds(20))
        try await withApplicability(probe: probe) { harness in
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.consumer("c2", widgets: ["a:0"], boundTo: ["zoo"])
            let repositories = try Criteria(filters: ["id": "zoo"])
            var reports: [CallReport] = []
            for index in 0..<4 {
                if index.isMultiple(of: 2) {
                    reports.append(try await harness.engine.regenerate(consumers: Criteria()))
                } else if case .task(let report) = try await harness.engine.regenerate(repositories: repositories) {
                    reports.append(report)
                }
            }
            var statuses: [TaskStatus] = []
            for report in reports { statuses.append(try await harness.wait(report)) }
            #expect(statuses.allSatisfy { $0.state == .finished })
            #expect(probe.totalBuilds == 3)  // the second consumer regeneration finds every record and builds nothing
            #expect(probe.maxRunning == 1, "two bulk regenerations ran at once")
            for status in statuses {
                #expect(status.tags == ["pulp:action:content_applicability_regeneration"])
                #expect(status.resources == ["pulp:repository_profile_applicability:RESOURCE_ANY_ID"])
            }
            for (earlier, later) in zip(statuses, statuses.dropFirst()) {
                #expect(try #require(later.startTime) >= (try #require(earlier.finishTime)))
            }
            #expect(statuses.first?.name == ApplicabilityEngine.consumersTaskName)
            #expect(statuses[1].name == ApplicabilityEngine.repositoriesTaskName)
        }
    }

    @Test func singleConsumerRegenerationsQueuePerConsumer() async throws {
        let probe = IndexProbe(delay: .milliseconds(15))
        try await withApplicability(probe: probe) { harness in
            try await harness.repository("zoo", widgets: ["a:2"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo"])
            try await harness.consumer("c2", widgets: ["a:0"], boundTo: ["zoo"])
            let first = try await harness.engine.regenerate(consumer: "c1")
            let second = try await harness.engine.regenerate(consumer: "c1")
            let other = try await harness.engine.regenerate(consumer: "c2")
            let statuses = [
                try await harness.wait(first), try await harness.wait(second), try await harness.wait(other),
            ]
            #expect(statuses.allSatisfy { $0.state == .finished })
            #expect(statuses[0].resources == ["pulp:consumer:c1"])
            #expect(statuses[2].resources == ["pulp:consumer:c2"])
            #expect(statuses.allSatisfy { $0.tags == ["pulp:action:consumer_content_applicability_regeneration"] })
            #expect(try #require(statuses[1].startTime) >= (try #require(statuses[0].finishTime)))
            // The second request for c1 found its record and computed nothing.
            #expect(statuses[1].result["records_computed"] == 0)
            #expect(
                try await harness.applicability() == [
                    ["c1"]: ["widget": ["w-a-2"], "fix": []], ["c2"]: ["widget": ["w-a-2"], "fix": []],
                ]
            )
        }
    }

    @Test func regeneratingAnUnknownConsumerIsA404AndDispatchesNothing() async throws {
        try await withApplicability { harness in
            await expectPulpError(404, ["consumer"]) { _ = try await harness.engine.regenerate(consumer: "ghost") }
            let tasks = try await harness.dispatcher.tasks()
            #expect(tasks.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func parallelRegenerationRunsAsAGroupSharingIndexes(backend: StorageBackend) async throws {
        let probe = IndexProbe()
        let configuration = ApplicabilityEngine.Configuration(parallelBatchSize: 4)
        try await withApplicability(backend, probe: probe, configuration: configuration) { harness in
            try await harness.repository("zoo", widgets: ["a:5", "b:5"])
            try await harness.repository("farm", widgets: ["a:7"])
            for index in 0..<25 {
                try await harness.consumer(
                    ConsumerID("c\(index)"),
                    widgets: ["a:\(index % 9)", "b:\(index)"],
                    boundTo: index.isMultiple(of: 3) ? ["zoo", "farm"] : ["zoo"]
                )
            }
            try await harness.regenerateAll()
            let before = probe.totalBuilds
            try await harness.add(widgets: ["a:8"], to: "zoo")

            let criteria = try Criteria(json: ["filters": ["id": ["$in": ["zoo", "farm"]]]])
            guard case .group(let report) = try await harness.engine.regenerate(repositories: criteria, parallel: true)
            else {
                Issue.record("a parallel regeneration returned a single task")
                return
            }
            #expect(report.json["_href"] == .string("/pulp/api/v2/task_groups/\(report.groupID)/"))
            let summary = try await harness.wait(report)
            #expect(summary.total == 7)  // 25 profile sets in batches of 4
            #expect(summary.counts[.finished] == 7)
            #expect(summary.json["finished"] == 7 && summary.json["total"] == 7)
            // Each repository's index was built once for the whole group.
            #expect(probe.totalBuilds - before == 2)
            let members = try await harness.dispatcher.tasks(
                matching: try Criteria(filters: ["group_id": .string(report.groupID.rawValue)])
            )
            #expect(members.count == 7)
            #expect(
                members.allSatisfy {
                    $0.tags.isEmpty && $0.resources.isEmpty && $0.name == ApplicabilityEngine.batchTaskName
                }
            )

            let answer = try await harness.applicability(try Criteria(filters: ["id": "c1"]))
            #expect(answer == [["c1"]: ["widget": ["w-a-5", "w-a-8", "w-b-5"], "fix": []]])
        }
    }

    @Test func parallelRegenerationWithNothingToRefreshIsAnEmptyGroup() async throws {
        try await withApplicability { harness in
            try await harness.repository("zoo", widgets: ["a:5"])
            let criteria = try Criteria(filters: ["id": "zoo"])
            guard case .group(let report) = try await harness.engine.regenerate(repositories: criteria, parallel: true)
            else {
                Issue.record("a parallel regeneration returned a single task")
                return
            }
            let summary = try await harness.dispatcher.summary(ofGroup: report.groupID)
            #expect(summary.total == 0 && summary.isComplete)
        }
    }

    @Test func aRegenerationSkipsDeletedRepositoriesAndVanishedProfileSets() async throws {
        try await withApplicability { harness in
            try await harness.repository("zoo", widgets: ["a:5"])
            try await harness.repository("gone", widgets: ["a:5"])
            try await harness.consumer("c1", widgets: ["a:1"], boundTo: ["zoo", "gone"])
            _ = try await harness.repositories.delete("gone")
            try await harness.regenerateAll()
            #expect(try await harness.engine.store.keys().map(\.repositoryID) == ["zoo"])

            // A batch naming a profile set nobody has any more computes nothing.
            let outcome = try await harness.engine.compute(["no-such-set": ["zoo"]], sharing: nil)
            #expect(outcome.records == 0 && outcome.profileSets == 0)
        }
    }

    @Test func theIndexMemoBuildsOncePerKeyAndForgetsFailures() async throws {
        let memo = RepositoryIndexMemo(capacity: 2)
        let builds = PulpMutex(0)
        let key = RepositoryIndexMemo.Key(group: "g", repository: "zoo", calculators: 1)
        let build: @Sendable () async throws -> RepositoryIndexes? = {
            builds.withLock { $0 += 1 }
            return RepositoryIndexes(entries: [])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = try await memo.value(for: key, build: build) } }
            try await group.waitForAll()
        }
        #expect(builds.withLock { $0 } == 1)
        struct Failure: Error {}
        let failing = RepositoryIndexMemo.Key(group: "g", repository: "farm", calculators: 1)
        await #expect(throws: Failure.self) { _ = try await memo.value(for: failing) { throw Failure() } }
        #expect(memo.count == 1)
        for name in ["a", "b", "c"] {
            _ = try await memo.value(
                for: .init(group: "g", repository: RepositoryID(name), calculators: 1),
                build: build
            )
        }
        #expect(memo.count == 2)
    }
}
