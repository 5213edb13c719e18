/// Group commit: concurrent write operations share one transaction and one commit.
///
/// The first caller to find no flush in progress becomes the flusher: it runs every queued operation
/// in one immediate transaction, each inside its own savepoint (so one operation's failure undoes only
/// that operation), commits, and only then resumes the callers. Operations that arrive meanwhile form
/// the next batch. Nothing is reported before it is committed.
package final class SQLiteWriteBatcher: Sendable {
    private struct Pending: Sendable {
        let operation: @Sendable (SQLiteConnection) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var flushing = false
    }

    private let database: SQLiteDatabase
    private let state = PulpMutex(State())

    /// Creates a batcher for writes to `database`.
    package init(database: SQLiteDatabase) { self.database = database }

    /// Runs `operation` in a (possibly shared) write transaction and returns its result once committed.
    package func write<Result: Sendable>(
        _ operation: @escaping @Sendable (SQLiteConnection) throws -> Result
    ) async throws -> Result {
        let value = try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLock { state in
                state.pending.append(Pending(operation: operation, continuation: continuation))
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if leads { flush() }
        }
        // Every value this continuation receives comes from `operation`, whose type is `Result`.
        return value as! Result
    }

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
                state.flushing = false
                return nil
            }
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }
}
