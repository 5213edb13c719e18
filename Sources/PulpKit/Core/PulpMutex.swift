#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The lock every PulpKit type keeps its mutable state behind: a pthread mutex around a value.
///
/// It has `Synchronization.Mutex`'s shape (`withLock` lends the value `inout`), but is backed by a
/// pthread mutex because, on Linux with Swift 6.3.1, `Mutex` (a priority-inheritance futex) let a
/// concurrent test read a dictionary while another thread changed it: a heap corruption that the very
/// same code never shows with a pthread mutex, under repeated runs, ThreadSanitizer and AddressSanitizer
/// (see `Documentation/Storage.md`). ThreadSanitizer also understands pthread locks and not that futex.
/// On Linux the mutex is adaptive: it spins briefly before sleeping, which suits PulpKit's short
/// critical sections.
package final class PulpMutex<Value>: @unchecked Sendable {
    // @unchecked: `value` is only read or written while `mutex` is held.
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Creates a lock guarding `initialValue`.
    package init(_ initialValue: sending Value) {
        value = initialValue
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        let result = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value; not reentrant.
    package func withLock<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
