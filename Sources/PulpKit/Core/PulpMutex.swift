import Foundation

/// The lock every PulpKit type keeps its mutable state behind: a pthread mutex around a value.
///
/// It has `Synchronization.Mutex`'s shape (`withLock` lends the value `inout`), but is backed by a
/// pthread mutex because, on Linux with Swift 6.3.1, `Mutex` (a priority-inheritance futex) let a
/// concurrent test read a dictionary while another thread changed it: a heap corruption that the very
/// same code never shows with a pthread mutex, under repeated runs, ThreadSanitizer and AddressSanitizer
/// (see `Documentation/Storage.md`). ThreadSanitizer also understands pthread locks and not that futex.
package final class PulpMutex<Value>: @unchecked Sendable {
    // @unchecked: `value` is only read or written between `lock.lock()` and `lock.unlock()`.
    private var value: Value
    private let lock = NSLock()

    /// Creates a lock guarding `initialValue`.
    package init(_ initialValue: sending Value) { value = initialValue }

    /// Runs `body` with exclusive access to the value; not reentrant.
    package func withLock<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E)
        -> sending Result
    {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
