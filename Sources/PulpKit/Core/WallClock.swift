public import Foundation

/// The source of wall-clock time for everything in PulpKit that reads the time or waits for it.
///
/// Nothing in PulpKit calls `Date()` itself: it asks its clock, so tests drive time by hand with
/// `ManualWallClock` from PulpKitTesting.
///
/// Conformers must keep two rules: `now` never goes backwards between calls made by one task, and
/// `sleep(until:)` returns no earlier than `deadline` (as `now` reports it) unless it throws.
public protocol WallClock: Sendable {
    /// The current instant.
    var now: Date { get }

    /// Suspends until `deadline`, returning at once if it has passed.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}

    public var now: Date { Date() }

    public func sleep(until deadline: Date) async throws {
        // Real time can jump (NTP, suspend), so re-check after waking instead of trusting one sleep.
        while true {
            let remaining = deadline.timeIntervalSince(now)
            guard remaining > 0 else { return }
            try await Task.sleep(for: .seconds(remaining))
        }
    }
}

extension WallClock where Self == SystemWallClock {
    /// The system's real-time clock.
    public static var system: SystemWallClock { SystemWallClock() }
}
