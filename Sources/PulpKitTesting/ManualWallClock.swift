public import Foundation
public import PulpKit

/// A ``PulpKit/WallClock`` that only moves when a test moves it.
///
/// `sleep(until:)` suspends until ``advance(by:)`` or ``advance(to:)`` reaches the deadline; sleepers
/// whose deadlines are passed wake in deadline order, and sleepers with equal deadlines in the order
/// they went to sleep. ``waitForSleepers(_:)`` lets a test wait until the code under test is asleep
/// before it advances time, so tests never need real sleeps.
public final class ManualWallClock: WallClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Waiter {
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now: Date
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var waiters: [Waiter] = []

        mutating func readyWaiters() -> [CheckedContinuation<Void, Never>] {
            let count = sleepers.count
            let ready = waiters.filter { $0.count <= count }.map(\.continuation)
            waiters.removeAll { $0.count <= count }
            return ready
        }
    }

    private let state: PulpMutex<State>

    /// Creates a clock that reads `now` until it is advanced.
    ///
    /// The default start, `2014-01-27T22:15:00Z`, is the creation time of the worked examples in
    /// Pulp's scheduling notes.
    public init(now: Date = Date(timeIntervalSince1970: 1_390_860_900)) {
        state = PulpMutex(State(now: now))
    }

    public var now: Date { state.withLock { $0.now } }

    /// How many callers are suspended in `sleep(until:)`.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline of the current sleepers, if any.
    public var nextDeadline: Date? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: (resume: Bool, ready: [CheckedContinuation<Void, Never>]) = state.withLock { state in
                    if Task.isCancelled || deadline <= state.now { return (true, []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (false, state.readyWaiters())
                }
                for waiter in outcome.ready { waiter.resume() }
                guard outcome.resume else { return }
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    continuation.resume()
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `interval` seconds and wakes every sleeper whose deadline is reached.
    public func advance(by interval: TimeInterval) {
        precondition(interval >= 0, "ManualWallClock cannot go backwards")
        let due = state.withLock { state in
            state.now = state.now.addingTimeInterval(interval)
            return Self.takeDue(&state)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to `instant` (never backwards) and wakes every sleeper whose deadline is reached.
    public func advance(to instant: Date) {
        let due = state.withLock { state in
            precondition(instant >= state.now, "ManualWallClock cannot go backwards")
            state.now = instant
            return Self.takeDue(&state)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once at least `count` callers are suspended in `sleep(until:)`.
    public func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if state.sleepers.count >= count { return true }
                state.waiters.append(Waiter(count: count, continuation: continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private static func takeDue(_ state: inout State) -> [Sleeper] {
        let now = state.now
        let due = state.sleepers.filter { $0.deadline <= now }
            .sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
        state.sleepers.removeAll { $0.deadline <= now }
        return due
    }
}
