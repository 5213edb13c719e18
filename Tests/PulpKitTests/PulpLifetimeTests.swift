import Foundation
import PulpKit
import Testing

@Suite("Pulp lifetime")
struct PulpLifetimeTests {
    @Test
    func aDiscardedPulpIsFreedWithItsServices() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-life-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        weak var pulp: Pulp?
        weak var dispatcher: TaskDispatcher?
        weak var sync: SyncService?
        weak var engine: ApplicabilityEngine?
        do {
            let instance = try Pulp(configuration: .init(storage: .inMemory(contentRoot: root)))
            pulp = instance
            dispatcher = instance.dispatcher
            sync = instance.sync
            engine = instance.applicability
        }
        #expect(pulp == nil)
        #expect(dispatcher == nil, "the dispatcher and its services hold each other")
        #expect(sync == nil)
        #expect(engine == nil)
    }
}
