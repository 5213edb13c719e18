import Foundation
import Synchronization

extension TaskDispatcher {
    /// Serves the store until cancelled: claims runnable tasks up to the worker count and runs them,
    /// heartbeats, recovers lost workers' tasks and purges expired ones.
    ///
    /// On cancellation it drains: it claims nothing more, lets running tasks finish for the configured
    /// grace period, then cancels them, and returns once none runs. Start it once per dispatcher.
    public func run() async throws {
        try await store.heartbeat(worker: configuration.workerName, at: clock.now)
        try await recoverLostWorkers()
        // The serving loop runs in its own task so that cancelling `run()` starts a drain instead of
        // cancelling every running handler at once.
        let serving = Task { await self.serve() }
        await withTaskCancellationHandler {
            await serving.value
        } onCancel: {
            self.beginDrain()
        }
        try? await store.removeWorker(configuration.workerName)
    }

    /// Waits until a task is complete (finished, failed or cancelled and stopped) and returns it.
    ///
    /// - Throws: a 404 ``PulpError`` for an unknown id; `CancellationError` if the caller is cancelled.
    public func waitForCompletion(of id: TaskID) async throws -> TaskStatus {
        var delay = Duration.microseconds(200)
        while true {
            let task = try await status(of: id)
            if !task.isActive { return task }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, configuration.pollInterval)
        }
    }

    private func beginDrain() {
        let deadline = ContinuousClock.now.advanced(by: configuration.drainGracePeriod)
        pool.withLock { $0.drain(deadline: deadline) }
        doorbell.ring()
    }

    private func serve() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.poll() }
            group.addTask { await self.maintain() }
            serving: while true {
                switch pool.withLock({ $0.wake(now: .now) }) {
                case .claim(let free): await claimAndStart(free)
                case .cancel(let ids): cancelLocally(ids)
                case .stop: break serving
                case .wait: break
                }
                await doorbell.wait()
            }
            group.cancelAll()
        }
    }

    /// Rings the doorbell every poll interval, and cancels local runs of tasks cancelled elsewhere.
    private func poll() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.pollInterval)
            if !pool.withLock({ $0.running.isEmpty }),
                let ids = try? await store.cancellationRequests(worker: configuration.workerName)
            {
                cancelLocally(ids)
            }
            doorbell.ring()
        }
    }

    /// Heartbeats, recovers lost workers and purges expired tasks every heartbeat interval.
    private func maintain() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            guard !Task.isCancelled else { return }
            try? await store.heartbeat(worker: configuration.workerName, at: clock.now)
            _ = try? await recoverLostWorkers()
            _ = try? await purgeExpiredTasks()
        }
    }

    private func claimAndStart(_ free: Int) async {
        // A failed claim (e.g. the database stayed locked) is retried on the next wake-up.
        guard let tasks = try? await store.claim(worker: configuration.workerName, limit: free, at: clock.now),
            !tasks.isEmpty
        else { return }
        pool.withLock { $0.started(tasks.map(\.id)) }
        for task in tasks {
            // Registered under the lock the worker itself takes to deregister, so it can't finish first.
            handles.withLock { $0[task.id] = Task { await self.work(startingWith: task) } }
        }
    }

    /// Runs a claimed task, then keeps claiming and running the next one in the same Swift task
    /// while there is work, which saves a task spawn and a wake-up per task under load.
    private func work(startingWith first: TaskStatus) async {
        var task = first
        while true {
            await execute(task)
            guard let next = await continueAfter(task.id) else { return }
            task = next
        }
    }

    /// Claims the next task for the worker that just finished `id`, or releases the worker's slot.
    private func continueAfter(_ id: TaskID) async -> TaskStatus? {
        if !Task.isCancelled, pool.withLock({ $0.isServing }),
            let next = try? await store.claim(worker: configuration.workerName, limit: 1, at: clock.now).first
        {
            pool.withLock { $0.replace(id, with: next.id) }
            // Swap the registration atomically with respect to `cancelLocally`; if `id` was cancelled
            // just before the swap, this Swift task carries that cancellation, so `next` gets a fresh one.
            let keepGoing = handles.withLock { handles in
                let current = handles.removeValue(forKey: id)
                guard !Task.isCancelled, let current else {
                    handles[next.id] = Task { await self.work(startingWith: next) }
                    return false
                }
                handles[next.id] = current
                return true
            }
            return keepGoing ? next : nil
        }
        handles.withLock { $0[id] = nil }
        pool.withLock { $0.finished(id) }
        doorbell.ring()
        return nil
    }

    private func execute(_ task: TaskStatus) async {
        let spawned = SpawnedTaskRecorder()
        let context = TaskContext(task: task, clock: clock, dispatcher: self, spawned: spawned)
        let outcome: TaskOutcome
        if let handler = handler(named: task.name) {
            do {
                outcome = .finished(result: try await handler.run(context))
            } catch {
                outcome = Self.outcome(of: error, in: task)
            }
        } else {
            outcome = Self.outcome(
                of: PulpError.internalError("No task handler is registered as '\(task.name)' on this worker"),
                in: task
            )
        }
        let completed = await record(TaskCompletion(id: task.id, outcome: outcome, spawnedTasks: spawned.all))
        if let completed {
            for observer in observers.withLock({ $0 }) { await observer(completed) }
        }
    }

    /// Stores a completion, retrying while the store fails (e.g. a locked database), for up to ~30 s.
    private func record(_ completion: TaskCompletion) async -> TaskStatus? {
        var delay = Duration.milliseconds(5)
        for _ in 0..<12 {
            if let stored = try? await store.finish([completion], at: clock.now) { return stored.first }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        return nil
    }

    private static func outcome(of error: any Error, in task: TaskStatus) -> TaskOutcome {
        if error is CancellationError || Task.isCancelled { return .canceled }
        let exception = String(reflecting: type(of: error))
        var traceback = "Task \(task.name) (\(task.id)) failed.\n\(exception): \(error)"
        if let error = error as? PulpError { traceback += "\n  thrown at \(error.location)" }
        return .failed(TaskError(error), exception: exception, traceback: traceback)
    }
}
