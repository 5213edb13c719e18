public import Foundation

/// A scheduled sync of one repository's importer: its ISO 8601 schedule, its settings, its counters, and
/// when it runs next.
///
/// The timing rules (PULP2-SEMANTICS §1.2–1.4, with DESIGN.md's improvements) live here, so every
/// ``ScheduleStore`` applies them the same way:
///
/// - Runs fall on the grid of ``interval`` anchored at ``firstRun``; months count from the anchor.
/// - Until its first dispatch a call is due at ``firstRun``: at once when that is not in the future.
/// - After a dispatch at `t` it is due at the first grid slot strictly after `t`. A scheduler that was
///   away for many slots therefore dispatches exactly one catch-up run, then is back on the grid.
/// - A dispatch sets ``lastRunAt``, counts ``totalRunCount`` and, for `R<n>`, decrements
///   ``remainingRuns``, disabling the call when it reaches 0 (re-enabling never revives it).
/// - A succeeded or cancelled run resets ``consecutiveFailures``; a failed run increments it and, while
///   enabled, disables the call when it reaches ``failureThreshold``. Re-enabling keeps the counter.
public struct ScheduledCall: Sendable, Hashable {
    /// The task name a sync schedule reports as its `task`, as Pulp 2 does.
    public static let taskName = "pulp.server.tasks.repository.sync_with_auto_publish"

    /// The schedule's id, a 24-digit hexadecimal string like Pulp's ObjectIds.
    public let id: ScheduleID
    /// The repository whose importer it syncs.
    public let repositoryID: RepositoryID
    /// The importer it belongs to (an importer's id is its type id).
    public let importerID: String
    /// The schedule exactly as it was given, e.g. `R5/2014-01-27T21:41:50Z/PT1H`.
    public private(set) var schedule: String
    /// ``schedule``, parsed.
    public private(set) var interval: RepeatingInterval
    /// The first slot of the grid, written with the start's own offset (`Z` without a start).
    public private(set) var firstRun: ISO8601DateTime
    /// The configuration merged over the importer's for each run (Pulp's `kwargs.overrides`).
    public var overrideConfig: [String: JSONValue]
    /// Whether the scheduler dispatches it.
    public var enabled: Bool
    /// How many consecutive failures disable it; `nil` never disables it.
    public var failureThreshold: Int?
    /// Failed runs since the last successful or cancelled one, in completion order.
    public private(set) var consecutiveFailures: Int
    /// Runs left from `R<n>`, or `nil` for no limit.
    public private(set) var remainingRuns: Int?
    /// How many times it was dispatched.
    public private(set) var totalRunCount: Int
    /// When it was last dispatched.
    public private(set) var lastRunAt: Date?
    /// When it was created or changed, or a run's outcome was recorded.
    public var lastUpdated: Date
    /// When it is due next as long as it is enabled: ``firstRun`` until the first dispatch, then the first
    /// grid slot after the last dispatch.
    public private(set) var nextDue: Date
    /// The scheduler that last claimed it, for diagnostics; not part of the report.
    public private(set) var lastClaimedBy: String?

    /// Creates a new call from a schedule string, as a POST does; nothing has run yet. Without an `id`, a new
    /// one is generated from `createdAt`.
    ///
    /// - Throws: a 400 ``PulpError`` naming `schedule` when it does not parse (or is a zero-length interval),
    ///   or `failure_threshold` when it is below 1.
    public init(
        id: ScheduleID? = nil,
        repositoryID: RepositoryID,
        importerID: String,
        schedule: String,
        overrideConfig: [String: JSONValue] = [:],
        failureThreshold: Int? = nil,
        enabled: Bool = true,
        createdAt: Date
    ) throws(PulpError) {
        try self.init(
            id: id,
            repositoryID: repositoryID,
            importerID: importerID,
            schedule: schedule,
            interval: try RepeatingInterval(parsing: schedule),
            overrideConfig: overrideConfig,
            failureThreshold: failureThreshold,
            enabled: enabled,
            createdAt: createdAt
        )
    }

    /// Creates a new call from a schedule already parsed as `interval`.
    init(
        id: ScheduleID?,
        repositoryID: RepositoryID,
        importerID: String,
        schedule: String,
        interval: RepeatingInterval,
        overrideConfig: [String: JSONValue],
        failureThreshold: Int?,
        enabled: Bool,
        createdAt: Date
    ) throws(PulpError) {
        if let failureThreshold, failureThreshold < 1 {
            throw PulpError.invalid("failure_threshold", "must be null or an integer above 0, got \(failureThreshold)")
        }
        let firstRun = interval.firstRun(createdAt: createdAt)
        self.id = id ?? .generate(at: createdAt)
        self.repositoryID = repositoryID
        self.importerID = importerID
        self.schedule = schedule
        self.interval = interval
        self.firstRun = firstRun
        self.overrideConfig = overrideConfig
        self.enabled = enabled
        self.failureThreshold = failureThreshold
        self.consecutiveFailures = 0
        self.remainingRuns = interval.recurrences
        self.totalRunCount = 0
        self.lastRunAt = nil
        self.lastUpdated = createdAt
        self.nextDue = firstRun.date
        self.lastClaimedBy = nil
    }

    /// Restores a stored call field by field, as a ``ScheduleStore`` reads it back.
    ///
    /// - Throws: a ``PulpError`` when `schedule` or `firstRun` do not parse (the stored data is corrupt).
    public init(
        restoringID id: ScheduleID,
        repositoryID: RepositoryID,
        importerID: String,
        schedule: String,
        firstRun: String,
        overrideConfig: [String: JSONValue],
        enabled: Bool,
        failureThreshold: Int?,
        consecutiveFailures: Int,
        remainingRuns: Int?,
        totalRunCount: Int,
        lastRunAt: Date?,
        lastUpdated: Date,
        nextDue: Date,
        lastClaimedBy: String?
    ) throws(PulpError) {
        try self.init(
            restoringID: id,
            repositoryID: repositoryID,
            importerID: importerID,
            schedule: schedule,
            interval: nil,
            firstRun: firstRun,
            overrideConfig: overrideConfig,
            enabled: enabled,
            failureThreshold: failureThreshold,
            consecutiveFailures: consecutiveFailures,
            remainingRuns: remainingRuns,
            totalRunCount: totalRunCount,
            lastRunAt: lastRunAt,
            lastUpdated: lastUpdated,
            nextDue: nextDue,
            lastClaimedBy: lastClaimedBy
        )
    }

    /// Restores a stored call whose schedule a store has already parsed (`interval`, when given, must be
    /// `schedule` parsed).
    init(
        restoringID id: ScheduleID,
        repositoryID: RepositoryID,
        importerID: String,
        schedule: String,
        interval: RepeatingInterval?,
        firstRun: String,
        overrideConfig: [String: JSONValue],
        enabled: Bool,
        failureThreshold: Int?,
        consecutiveFailures: Int,
        remainingRuns: Int?,
        totalRunCount: Int,
        lastRunAt: Date?,
        lastUpdated: Date,
        nextDue: Date,
        lastClaimedBy: String?
    ) throws(PulpError) {
        self.id = id
        self.repositoryID = repositoryID
        self.importerID = importerID
        self.schedule = schedule
        if let interval {
            self.interval = interval
        } else {
            self.interval = try RepeatingInterval(parsing: schedule)
        }
        self.firstRun = try ISO8601DateTime(parsing: firstRun, field: "first_run")
        self.overrideConfig = overrideConfig
        self.enabled = enabled
        self.failureThreshold = failureThreshold
        self.consecutiveFailures = consecutiveFailures
        self.remainingRuns = remainingRuns
        self.totalRunCount = totalRunCount
        self.lastRunAt = lastRunAt
        self.lastUpdated = lastUpdated
        self.nextDue = nextDue
        self.lastClaimedBy = lastClaimedBy
    }
}

// MARK: - Timing

extension ScheduledCall {
    /// The run slots: ``firstRun`` plus every ``interval`` duration counted from it.
    public var grid: ScheduleGrid { ScheduleGrid(anchor: firstRun.date, duration: interval.duration) }

    /// Whether `R<n>` runs are used up; such a call never runs again, even when re-enabled.
    public var isExhausted: Bool { remainingRuns.map { $0 <= 0 } ?? false }

    /// When a scheduler should dispatch it: ``nextDue``, or `nil` when it is disabled or exhausted.
    public var dueTime: Date? { enabled && !isExhausted ? nextDue : nil }

    /// Whether a scheduler should dispatch it at `now`.
    public func isDue(at now: Date) -> Bool { dueTime.map { $0 <= now } ?? false }

    /// Pulp's `next_run` as of `now`: ``nextDue``, or `now` when that has passed (a run is due at once).
    ///
    /// It does not depend on ``enabled``: for a disabled call it is when it would run if enabled.
    public func nextRun(at now: Date) -> Date { max(nextDue, now) }

    /// Records a dispatch at `now` by `scheduler` (PULP2-SEMANTICS §1.3): ``lastRunAt``, ``totalRunCount``,
    /// ``remainingRuns`` (disabling at 0) and the next due slot, strictly after `now`.
    ///
    /// ``lastUpdated`` is left alone, as in Pulp.
    public mutating func recordDispatch(at now: Date, by scheduler: String) {
        lastRunAt = now
        totalRunCount += 1
        if let remaining = remainingRuns {
            remainingRuns = max(remaining - 1, 0)
            if remaining - 1 <= 0 { enabled = false }
        }
        nextDue = grid.nextOccurrence(after: now)
        lastClaimedBy = scheduler
    }

    /// Records how a run ended (PULP2-SEMANTICS §1.4): success or cancellation resets
    /// ``consecutiveFailures``; failure increments it and disables an enabled call that reaches
    /// ``failureThreshold``. Either way ``lastUpdated`` becomes `now`.
    public mutating func recordOutcome(succeeded: Bool, at now: Date) {
        lastUpdated = now
        guard !succeeded else {
            consecutiveFailures = 0
            return
        }
        consecutiveFailures += 1
        if enabled, let failureThreshold, consecutiveFailures >= failureThreshold { enabled = false }
    }

    /// Takes back a dispatch a claim recorded (`run`) but that was never sent, as if the claim had not been
    /// made: ``lastRunAt``, ``totalRunCount`` and ``remainingRuns`` go back to what they were before it, a
    /// call the claim disabled by using up its runs is enabled again, and the next due time is computed
    /// from the restored last run on the current grid. Returns `false`, changing nothing, when the call no
    /// longer shows that claim (another dispatch was recorded since).
    @discardableResult
    public mutating func undoDispatch(_ run: ClaimedRun) -> Bool {
        // Times compared to the millisecond: a store may keep them with less precision than `Date`.
        func same(_ lhs: Date?, _ rhs: Date?) -> Bool {
            switch (lhs, rhs) {
            case (nil, nil): return true
            case (let lhs?, let rhs?): return abs(lhs.timeIntervalSince(rhs)) < 0.001
            default: return false
            }
        }
        guard id == run.call.id, totalRunCount == run.call.totalRunCount,
            same(lastRunAt, run.call.lastRunAt)
        else { return false }
        lastRunAt = run.previousRunAt
        totalRunCount -= 1
        if let remaining = remainingRuns {
            remainingRuns = remaining + 1
            if remaining == 0, !run.call.enabled { enabled = true }
        }
        nextDue = lastRunAt.map { grid.nextOccurrence(after: $0) } ?? firstRun.date
        return true
    }

    /// Replaces the schedule, as a PUT does: ``firstRun`` is recomputed as if created at `now`; the counters,
    /// ``lastRunAt`` and ``remainingRuns`` are kept, so a call without a start that has run before is due at once.
    ///
    /// - Throws: a 400 ``PulpError`` naming `schedule` when it does not parse; nothing changes then.
    public mutating func reschedule(_ schedule: String, at now: Date) throws(PulpError) {
        reschedule(schedule, interval: try RepeatingInterval(parsing: schedule), at: now)
    }

    /// Replaces the schedule with one already parsed as `interval`; see ``reschedule(_:at:)``.
    mutating func reschedule(_ schedule: String, interval: RepeatingInterval, at now: Date) {
        self.schedule = schedule
        self.interval = interval
        firstRun = interval.firstRun(createdAt: now)
        nextDue = lastRunAt.map { grid.nextOccurrence(after: $0) } ?? firstRun.date
    }
}

// MARK: - Report

extension ScheduledCall {
    /// The schedule's REST path: `/pulp/api/v2/repositories/<repo>/importers/<importer>/schedules/sync/<id>/`.
    public var href: String {
        "/pulp/api/v2/repositories/\(repositoryID.rawValue)/importers/\(importerID)/schedules/sync/\(id.rawValue)/"
    }

    /// The resource tag Pulp gives an importer's schedules: `pulp:importer:<repo>:<importer>`.
    public var resource: String { "pulp:importer:\(repositoryID.rawValue):\(importerID)" }

    /// The schedule report of the spec as of `now`, with `_href`; `next_run` is computed at `now`.
    public func report(at now: Date) -> JSONValue {
        [
            "_id": .string(id.rawValue),
            "_href": .string(href),
            "schedule": .string(schedule),
            "first_run": .string(firstRun.description),
            "next_run": .string(ISO8601DateTime.utcString(nextRun(at: now))),
            "last_run_at": lastRunAt.map { .string(ISO8601DateTime.utcString($0)) } ?? .null,
            "last_updated": .double(lastUpdated.timeIntervalSince1970),
            "total_run_count": .int(totalRunCount),
            "remaining_runs": remainingRuns.map(JSONValue.int) ?? .null,
            "consecutive_failures": .int(consecutiveFailures),
            "failure_threshold": failureThreshold.map(JSONValue.int) ?? .null,
            "enabled": .bool(enabled),
            "resource": .string(resource),
            "task": .string(Self.taskName),
            "args": [.string(repositoryID.rawValue)],
            "kwargs": [
                "overrides": .object(overrideConfig),
                "scheduled_call_id": .string(id.rawValue),
            ],
        ]
    }
}

// MARK: - Identifiers

extension ScheduleID {
    /// A new id in the shape of a Mongo ObjectId, as Pulp's schedules have: 24 lowercase hex digits, the
    /// first 8 the creation time in seconds, the rest random.
    public static func generate(at date: Date) -> ScheduleID {
        let seconds = UInt32(truncatingIfNeeded: max(Int64(date.timeIntervalSince1970.rounded(.down)), 0))
        var generator = SystemRandomNumberGenerator()
        let random = generator.next() as UInt64
        let hex = Array("0123456789abcdef".utf8)
        let text = String(unsafeUninitializedCapacity: 24) { buffer in
            for index in 0..<8 { buffer[index] = hex[Int(seconds >> UInt32(28 - index * 4) & 0xF)] }
            for index in 0..<16 { buffer[8 + index] = hex[Int(random >> UInt64(60 - index * 4) & 0xF)] }
            return 24
        }
        return ScheduleID(rawValue: text)
    }
}
