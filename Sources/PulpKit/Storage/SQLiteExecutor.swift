import Dispatch

/// Runs a database's work off Swift's cooperative threads, committing concurrent writes together.
///
/// SQLite calls block (locks, fsync), so every operation runs on one serial dispatch queue and the
/// caller suspends instead of blocking a cooperative thread. Writes are group-committed: when the queue
/// gets to them, all writes waiting at that moment run in one immediate transaction, each inside its own
/// savepoint (so one operation's failure undoes only that operation), then commit, and only then are
/// their callers resumed. Nothing is reported before it is committed, and a commit's fsync (with
/// `synchronous=FULL`) is paid once per batch instead of once per write.
package final class SQLiteExecutor: Sendable {
    private struct Pending: Sendable {
        let operation: @Sendable (SQLiteConnection) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var scheduled = false
    }

    /// The database this executor serves; every store of one file shares one executor.
    package let database: SQLiteDatabase
    private let queue: DispatchQueue
    private let state = PulpMutex(State())

    /// Creates the executor of `database`'s asynchronous work.
    package init(database: SQLiteDatabase) {
        self.database = database
        self.queue = DispatchQueue(label: "pulpkit.sqlite.\(database.path)")
    }

    /// Opens the database at `path` and creates its executor, as every `SQLite*Store(path:)` does.
    package convenience init(path: String, synchronous: SQLiteSynchronous) throws {
        try self.init(database: SQLiteDatabase(path: path, configuration: .init(synchronous: synchronous.level)))
    }

    /// Runs `operation` in a (possibly shared) write transaction and returns its result once committed.
    @discardableResult
    package func write<Result: Sendable>(
        _ operation: @escaping @Sendable (SQLiteConnection) throws -> Result
    ) async throws -> Result {
        let value = try await withCheckedThrowingContinuation { continuation in
            let schedule = state.withLock { state in
                state.pending.append(Pending(operation: operation, continuation: continuation))
                guard !state.scheduled else { return false }
                state.scheduled = true
                return true
            }
            if schedule { queue.async { self.flush() } }
        }
        // Every value this continuation receives comes from `operation`, whose type is `Result`.
        return value as! Result
    }

    /// Runs `operation` in a read transaction on the database's queue.
    package func read<Result: Sendable>(
        _ operation: @escaping @Sendable (SQLiteConnection) throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Swift.Result { try self.database.read(operation) })
            }
        }
    }

    /// Commits the waiting writes, batch after batch, until none waits; runs on `queue` only.
    private func flush() {
        while let batch = nextBatch() {
            var outcomes: [Swift.Result<any Sendable, any Error>] = []
            outcomes.reserveCapacity(batch.count)
            do {
                try database.write { connection in
                    for item in batch {
                        try connection.execute("SAVEPOINT batch_item")
                        do {
                            outcomes.append(.success(try item.operation(connection)))
                            try connection.execute("RELEASE batch_item")
                        } catch {
                            outcomes.append(.failure(error))
                            try connection.execute("ROLLBACK TO batch_item")
                            try connection.execute("RELEASE batch_item")
                        }
                    }
                }
                for (item, outcome) in zip(batch, outcomes) { item.continuation.resume(with: outcome) }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
    }

    private func nextBatch() -> [Pending]? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.scheduled = false
                return nil
            }
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }
}
