/// Wakes one waiting loop: rings that arrive while nobody waits are kept (once), never lost.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = PulpMutex(State())

    /// Wakes the waiter, or lets the next `wait()` return at once.
    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after the next ring, or at once if it rang since the last wait. One waiter at a time.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.rung {
                    state.rung = false
                    return true
                }
                precondition(state.waiter == nil, "Doorbell supports one waiter")
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
