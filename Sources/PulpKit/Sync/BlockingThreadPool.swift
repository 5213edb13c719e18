import Dispatch
import Foundation

/// Runs blocking work (socket reads, `syncfs`) on threads of its own, so the cooperative pool is never blocked.
///
/// A job goes to an idle thread if there is one, otherwise to a new thread: callers bound the number of
/// jobs at once (the ``Downloader`` admits `max_downloads`), so the pool holds about as many threads as
/// there are transfers, and a thread idle for `idleTimeout` exits. Each job costs two thread hand-offs
/// (there and back), whatever its size.
final class BlockingThreadPool: Sendable {
    /// One parked thread and the job it is handed.
    private final class Worker: Sendable {
        let wake = DispatchSemaphore(value: 0)
        let job = PulpMutex<(@Sendable () -> Void)?>(nil)
    }

    private struct State {
        var idle: [Worker] = []
        var threads = 0
    }

    /// The pool for blocking file-system calls (`syncfs`) that would otherwise hold a cooperative thread.
    static let fileSystem = BlockingThreadPool(name: "pulpkit.fs")

    private let state = PulpMutex(State())
    private let idleTimeout: Duration
    private let name: String

    /// Creates a pool whose threads are called `name` and exit after `idleTimeout` without work.
    init(name: String, idleTimeout: Duration = .seconds(10)) {
        self.name = name
        self.idleTimeout = idleTimeout
    }

    /// How many threads the pool holds right now (for tests).
    var threadCount: Int { state.withLock { $0.threads } }

    /// Runs `work` on a pool thread and returns its result once it is done.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result(catching: work)) }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        let worker: Worker? = state.withLock { state in
            if let worker = state.idle.popLast() { return worker }
            state.threads += 1
            return nil
        }
        if let worker {
            worker.job.withLock { $0 = job }
            worker.wake.signal()
            return
        }
        let thread = Thread { [self] in loop(first: job) }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func loop(first: @escaping @Sendable () -> Void) {
        let worker = Worker()
        var job: (@Sendable () -> Void)? = first
        while let current = job {
            current()
            job = nil
            state.withLock { $0.idle.append(worker) }
            while job == nil {
                if worker.wake.wait(timeout: .now() + .nanoseconds(Int(idleTimeout.timeInterval * 1e9))) == .success {
                    job = worker.job.withLock { job in
                        defer { job = nil }
                        return job
                    }
                    continue
                }
                let retired = state.withLock { state in
                    guard let index = state.idle.firstIndex(where: { $0 === worker }) else { return false }
                    state.idle.remove(at: index)
                    state.threads -= 1
                    return true
                }
                // Not retired: a job was handed over just as the wait timed out; its signal is on the way.
                if retired { return }
            }
        }
    }
}
