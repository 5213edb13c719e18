import Foundation
import PulpKit
import PulpKitTesting
import PulpRPM
import Testing

struct RPMEngineTests {
    @Test func regeneratesAndQueriesRPMApplicabilityEndToEnd() async throws {
        let repositories = InMemoryRepositoryStore()
        let content = InMemoryContentStore()
        let dispatcher = TaskDispatcher(
            store: InMemoryTaskStore(),
            configuration: .init(pollInterval: .milliseconds(5))
        )
        let engine = ApplicabilityEngine(
            consumers: InMemoryConsumerStore(),
            repositories: repositories,
            content: content,
            store: InMemoryApplicabilityStore(),
            dispatcher: dispatcher
        )
        try engine.register(RPMApplicabilityCalculator())
        let editor = RepositoryContentEditor(repositories: repositories, content: content)
        try await repositories.create(Repository(id: "el8-baseos"))
        try await editor.add(
            try ["bash-4.4.19-7.el8.x86_64", "bash-4.4.19-8.el8.x86_64", "openssl-libs-1:1.1.1k-12.el8.x86_64"]
                .map(rpmUnit)
                + [
                    try erratumUnit("RHBA-2024:1", ["bash-4.4.19-8.el8.x86_64"]),
                    try erratumUnit("RHSA-2024:2", ["openssl-libs-1:1.1.1k-12.el8.x86_64"]),
                ],
            to: "el8-baseos"
        )
        for (id, packages) in [
            ("web1", ["bash-4.4.19-7.el8.x86_64", "openssl-libs-1:1.1.1k-12.el8.x86_64"]),
            ("web2", ["openssl-libs-1:1.1.1k-12.el8.x86_64", "bash-4.4.19-7.el8.x86_64"]),
            ("db1", ["openssl-libs-1:1.1.1k-5.el8.x86_64"]),
        ] {
            try await engine.register(Consumer(id: ConsumerID(id)))
            try await engine.setProfile(
                .array(try packages.map { try installed($0) }),
                contentType: "rpm",
                for: ConsumerID(id)
            )
            try await engine.bind(ConsumerID(id), to: "el8-baseos")
        }
        await #expect(throws: PulpError.self) {
            try await engine.setProfile(["not", "packages"], contentType: "rpm", for: "web1")
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            defer { group.cancelAll() }
            let report = try await engine.regenerate(consumers: Criteria())
            let status = try await dispatcher.waitForCompletion(of: try #require(report.taskID))
            #expect(status.state == .finished)
            #expect(status.result["profile_sets"] == 2, "web1 and web2 share one profile set")
        }
        let answer = ApplicabilityReport.json(try await engine.query(consumers: Criteria()))
        #expect(
            answer
                == [
                    [
                        "consumers": ["db1"],
                        "applicability": [
                            "rpm": ["rpm:openssl-libs-1:1.1.1k-12.el8.x86_64"], "erratum": ["erratum:RHSA-2024:2"],
                        ],
                    ],
                    [
                        "consumers": ["web1", "web2"],
                        "applicability": ["rpm": ["rpm:bash-4.4.19-8.el8.x86_64"], "erratum": ["erratum:RHBA-2024:1"]],
                    ],
                ]
        )
    }
}
