import Foundation
import PulpKit

/// `tasks`: dispatcher throughput in memory and on SQLite, and start latency on an idle dispatcher.
func runTaskBenchmarks(_ context: BenchmarkContext) async throws {
    let memory = try await throughput(store: InMemoryTaskStore(), count: context.size(200_000, smoke: 500))
    context.report("tasks.memory.tasks_per_s", memory, "tasks/s")

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulpkit-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let sqlite = try SQLiteTaskStore(path: directory.appendingPathComponent("tasks.db").path)
    context.report(
        "tasks.sqlite.tasks_per_s",
        try await throughput(store: sqlite, count: context.size(20_000, smoke: 200)),
        "tasks/s"
    )

    let latencies = try await startLatencies(count: context.size(5_000, smoke: 50))
    context.report("tasks.start_latency.p99_ms", percentile(latencies, 0.99) * 1000, "ms")
}

/// Counts completions and wakes a waiter when the expected number is reached.
private final class CompletionCounter: Sendable {
    private let state: PulpMutex<(remaining: Int, waiter: CheckedContinuation<Void, Never>?)>

    init(expecting count: Int) { state = PulpMutex((count, nil)) }

    func completed() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.remaining > 0 { state.waiter = continuation }
                return state.remaining <= 0
            }
            if done { continuation.resume() }
        }
    }
}

/// Trivial tasks spread over 100 resources, dispatched by eight concurrent producers as fast as they can,
/// timed until the last completes. The dispatcher has its default configuration (one worker per core).
private func throughput(store: any TaskStore, count: Int) async throws -> Double {
    let dispatcher = TaskDispatcher(store: store)
    let counter = CompletionCounter(expecting: count)
    dispatcher.register("bench.trivial") { _ in nil }
    dispatcher.onCompletion { _ in counter.completed() }
    let requests = (0..<count).map { TaskRequest(name: "bench.trivial", resources: ["pulp:repository:r\($0 % 100)"]) }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        defer { group.cancelAll() }
        return try await Double(count)
            / measureAsync {
                for request in requests { _ = try await dispatcher.dispatch(request) }
                await counter.wait()
            }
    }
}

/// Seconds from the start of `dispatch` to the start of the handler, for unreserved tasks one at a time.
private func startLatencies(count: Int) async throws -> [Double] {
    let dispatcher = TaskDispatcher(store: InMemoryTaskStore())
    let clock = ContinuousClock()
    let started = PulpMutex<(instant: ContinuousClock.Instant?, waiter: CheckedContinuation<Void, Never>?)>((nil, nil))
    dispatcher.register("bench.mark") { _ in
        let now = clock.now
        let waiter = started.withLock { state in
            state.instant = now
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
        return nil
    }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await dispatcher.run() }
        defer { group.cancelAll() }
        try await Task.sleep(for: .milliseconds(50))
        var latencies: [Double] = []
        for _ in 0..<count {
            started.withLock { $0.instant = nil }
            let before = clock.now
            let report = try await dispatcher.dispatch(TaskRequest(name: "bench.mark"))
            await withCheckedContinuation { continuation in
                let done = started.withLock { state in
                    if state.instant == nil { state.waiter = continuation }
                    return state.instant != nil
                }
                if done { continuation.resume() }
            }
            let start = started.withLock { $0.instant }!
            latencies.append(seconds(start - before))
            _ = try await dispatcher.waitForCompletion(of: report.taskID!)
        }
        return latencies
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}
