import Foundation
import PulpKit
import PulpKitTesting
import Testing

private final class WakeLog: Sendable {
    let entries = PulpMutex<[Int]>([])
    var values: [Int] { entries.withLock { $0 } }
}

struct ManualWallClockTests {
    @Test func startsAtTheGivenInstantAndAdvances() {
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 100))
        #expect(clock.now == Date(timeIntervalSince1970: 100))
        clock.advance(by: 5)
        #expect(clock.now == Date(timeIntervalSince1970: 105))
        clock.advance(to: Date(timeIntervalSince1970: 200))
        #expect(clock.now == Date(timeIntervalSince1970: 200))
    }

    @Test func sleepReturnsAtOnceForAPastDeadline() async throws {
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 100))
        try await clock.sleep(until: Date(timeIntervalSince1970: 50))
        #expect(clock.sleeperCount == 0)
    }

    @Test func sleepersWakeInDeadlineOrder() async throws {
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 0))
        let woken = WakeLog()
        try await withThrowingTaskGroup { group in
            for (label, deadline) in [(3, 30.0), (1, 10.0), (2, 20.0)] {
                group.addTask {
                    try await clock.sleep(until: Date(timeIntervalSince1970: deadline))
                    woken.entries.withLock { $0.append(label) }
                }
            }
            await clock.waitForSleepers(3)
            #expect(clock.nextDeadline == Date(timeIntervalSince1970: 10))
            clock.advance(to: Date(timeIntervalSince1970: 15))
            try await group.next()
            #expect(woken.values == [1])
            #expect(clock.sleeperCount == 2)
            clock.advance(by: 100)
            try await group.waitForAll()
        }
        #expect(woken.values.sorted() == [1, 2, 3])
        #expect(woken.values.first == 1)
    }

    @Test func cancellingASleeperThrowsAndRemovesIt() async {
        let clock = ManualWallClock()
        let task = Task { try await clock.sleep(until: clock.now.addingTimeInterval(3600)) }
        await clock.waitForSleepers(1)
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.sleeperCount == 0)
    }
}
