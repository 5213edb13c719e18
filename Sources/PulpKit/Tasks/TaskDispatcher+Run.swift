import Dispatch
import Foundation

extension TaskDispatcher {
    /// Serves the store until cancelled: claims runnable tasks up to the worker count and runs them,
    /// heartbeats, recovers lost workers' tasks and purges expired ones.
    ///
    /// On cancellation it drains: it claims nothing more, lets running tasks finish for the configured
    /// grace period, then cancels them, and returns once none runs. Start it once per dispatcher.
    public func run() async throws {
        guard pool.withLock({ $0.start() }) else {
            throw PulpError.conflict("This dispatcher is already running; start run() once")
        }
        do {
            // A worker that is only starting runs nothing: end whatever an earlier process left
            // running under this name, then announce this one and recover workers that were lost.
            await notify(try await store.removeWorker(configuration.workerName, at: clock.now))
            try await store.heartbeat(worker: configuration.workerName, at: clock.now)
            try await recoverLostWorkers()
        } catch {
            pool.withLock { $0.abortStart() }
            throw error
        }
        // The serving loop runs in its own task so that cancelling `run()` starts a drain instead of
        // cancelling every running handler at once.
        let serving = Task { await self.serve() }
        await withTaskCancellationHandler {
            await serving.value
        } onCancel: {
            self.beginDrain()
        }
        // Anything still active here (a completion the store kept refusing) ends now, not never.
        await notify((try? await store.removeWorker(configuration.workerName, at: clock.now)) ?? [])
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

    /// Rings the doorbell every poll interval, and stops local runs the store says must stop
    /// (cancelled elsewhere, or failed as lost while this worker was unreachable).
    private func poll() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.pollInterval)
            let running = pool.withLock { Array($0.running) }
            if !running.isEmpty,
                let ids = try? await store.stopRequests(worker: configuration.workerName, running: running),
                !ids.isEmpty
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
            handles.withLock { $0.register(task.id, Task { await self.work(startingWith: task) }) }
        }
    }

    /// Runs a claimed task, then keeps claiming and running the next one in the same Swift task
    /// while there is work, which saves a task spawn and a wake-up per task under load.
    private func work(startingWith first: TaskStatus) async {
        var task = first
        while true {
            let completion = await run(task)
            let wantsMore = !Task.isCancelled && pool.withLock { $0.isServing }
            let (completed, next) = await record(completion, claimingNext: wantsMore)
            // Hand the slot over before observers run, so a cancel of `next` finds its Swift task.
            var continues = false
            if let next {
                continues = handOver(from: task.id, to: next)
                // The finish may have unblocked other tasks: wake a free worker for them.
                if pool.withLock({ $0.hasFreeWorker }) { doorbell.ring() }
            } else {
                release(task.id)
            }
            if let completed { await notify([completed]) }
            guard let next, continues else { return }
            task = next
        }
    }

    /// Runs a task's handler and says how it ended.
    private func run(_ task: TaskStatus) async -> TaskCompletion {
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
        return TaskCompletion(id: task.id, outcome: outcome, spawnedTasks: spawned.all)
    }

    /// Stores a completion, claiming this worker's next task in the same step when it wants one.
    ///
    /// A completion is never dropped while the dispatcher serves: a failing store (a locked or full
    /// disk) is retried with backoff until it takes it, and the worker's slot and the task's
    /// resources stay taken meanwhile. Once draining, it gives up after a dozen tries; `run()` then
    /// ends the task through ``TaskStore/removeWorker(_:at:)``.
    private func record(
        _ completion: TaskCompletion,
        claimingNext wantsMore: Bool
    ) async -> (completed: TaskStatus?, next: TaskStatus?) {
        var delay = Duration.milliseconds(5)
        var attempts = 0
        while true {
            let claim = wantsMore && attempts == 0 ? 1 : 0
            if let result = try? await store.finish(
                [completion],
                thenClaim: claim,
                worker: configuration.workerName,
                at: clock.now
            ) {
                return (result.finished.first, result.claimed.first)
            }
            attempts += 1
            if attempts >= 12, !pool.withLock({ $0.isServing }) { return (nil, nil) }
            await pause(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// Waits for `duration` even in a cancelled task (a retry must back off, not spin).
    private func pause(for duration: Duration) async {
        let parts = duration.components
        let nanoseconds = Int(parts.seconds) * 1_000_000_000 + Int(parts.attoseconds / 1_000_000_000)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                continuation.resume()
            }
        }
    }

    /// Moves this worker's slot from `id` to `next`; `false` when `next` must run in a new Swift task.
    ///
    /// A Swift task that was (or is about to be) cancelled for `id` is not reused: `next` then gets a
    /// fresh one, so a cancellation never reaches the wrong task.
    private func handOver(from id: TaskID, to next: TaskStatus) -> Bool {
        pool.withLock { $0.replace(id, with: next.id) }
        return handles.withLock { handles in
            guard let current = handles.remove(id), !Task.isCancelled else {
                handles.register(next.id, Task { await self.work(startingWith: next) })
                return false
            }
            handles.register(next.id, current)
            return true
        }
    }

    /// Frees this worker's slot and wakes the serving loop.
    private func release(_ id: TaskID) {
        _ = handles.withLock { $0.remove(id) }
        pool.withLock { $0.finished(id) }
        doorbell.ring()
    }

    private static func outcome(of error: any Error, in task: TaskStatus) -> TaskOutcome {
        // Cancelled means this run was cancelled; a handler's own CancellationError is a failure.
        if Task.isCancelled { return .canceled }
        let exception = String(reflecting: type(of: error))
        var traceback = "Task \(task.name) (\(task.id)) failed.\n\(exception): \(error)"
        if let error = error as? PulpError { traceback += "\n  thrown at \(error.location)" }
        return .failed(TaskError(error), exception: exception, traceback: traceback)
    }
}
