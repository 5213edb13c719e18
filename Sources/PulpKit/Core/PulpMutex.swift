#if PULPKIT_TSAN
import Foundation

/// The lock every PulpKit type uses: `Synchronization.Mutex`, except in ThreadSanitizer builds.
///
/// ThreadSanitizer on Linux does not model `Mutex`'s futex, so it reports every access guarded by
/// one as a race. Built with `-Xswiftc -DPULPKIT_TSAN` (as `swift test --sanitize=thread` should be),
/// this pthread-backed twin with the same API takes its place, and the sanitizer sees real races only.
package final class PulpMutex<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched between `lock.lock()` and `lock.unlock()`.
    private var value: Value
    private let lock = NSLock()

    /// Creates a lock guarding `initialValue`.
    package init(_ initialValue: sending Value) { value = initialValue }

    /// Runs `body` with exclusive access to the value.
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
#else
public import Synchronization

/// The lock every PulpKit type uses: `Synchronization.Mutex` (see the `PULPKIT_TSAN` variant for
/// ThreadSanitizer builds).
package typealias PulpMutex<Value> = Mutex<Value>
#endif
