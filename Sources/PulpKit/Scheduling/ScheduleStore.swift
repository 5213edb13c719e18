public import Foundation

/// Where scheduled calls live: the durable record of every schedule and, at the same time, the queue
/// schedulers claim due runs from.
///
/// Several schedulers, in one process or in several sharing one database, can serve one store; the store
/// alone decides which of them dispatches a run. Every conformer must keep these rules (the conformance
/// suite in PulpKitTesting checks them):
///
/// 1. **Insert.** ``insert(_:)`` stores the call whole: a read returns it equal to what was inserted. An id
///    already stored is refused with a 409 ``PulpError`` and nothing is stored.
/// 2. **Read.** ``call(_:)`` returns the stored call or `nil`; ``calls(repository:importer:)`` returns one
///    repository's calls (of one importer, when given) in insertion order, and no other repository's.
/// 3. **Update.** ``update(_:_:)`` applies a change atomically: the change sees the stored value, and what it
///    leaves is stored, unless it throws, in which case nothing changes and the error is rethrown. A change
///    that leaves a call of another id, repository or importer is refused with a 400 and nothing changes.
///    A missing call is a 404.
/// 4. **Delete.** ``delete(_:)`` removes one call and says whether it existed; ``deleteCalls(repository:)``
///    removes every call of a repository and returns how many.
/// 5. **Due.** A call is due at `now` when ``ScheduledCall/isDue(at:)``: it is enabled, not exhausted, and
///    its ``ScheduledCall/nextDue`` is at or before `now`. ``earliestDueTime()`` is the smallest
///    ``ScheduledCall/dueTime`` stored, `nil` when no call will ever be due.
/// 6. **Claim.** ``claimDue(until:at:limit:scheduler:onClaim:)`` atomically takes up to `limit` calls due at
///    `horizon` (at or after `now`), earliest ``ScheduledCall/nextDue`` first (ties in insertion order),
///    applies ``ScheduledCall/recordDispatch(at:by:)`` to each at its run's time (its
///    ``ScheduledCall/nextDue``, or `now` when that has passed), stores them and returns them as stored,
///    with their last run before the claim. Because a claimed call's next due time is after its run's
///    time, two claims, concurrent or not, in one process or several, never return the same run. A call
///    has one run claimed ahead at a time: one whose last run is after `now` is not claimed.
///    ``claimDue(at:limit:scheduler:)`` is the claim with `horizon` equal to `now`.
/// 7. **Durability.** A change is stored before the call that makes it returns.
public protocol ScheduleStore: Sendable {
    /// Stores a new call (rule 1).
    ///
    /// - Throws: a 409 ``PulpError`` when a call with this id is already stored; nothing is stored then.
    func insert(_ call: ScheduledCall) async throws

    /// The call with `id`, or `nil` (rule 2).
    func call(_ id: ScheduleID) async throws -> ScheduledCall?

    /// A repository's calls, only those of `importer` when it is given, in insertion order (rule 2).
    func calls(repository: RepositoryID, importer: String?) async throws -> [ScheduledCall]

    /// Changes a stored call atomically and returns the stored result (rule 3).
    ///
    /// - Throws: a 404 ``PulpError`` when no call has this id; whatever `change` throws.
    @discardableResult
    func update(
        _ id: ScheduleID,
        _ change: @escaping @Sendable (inout ScheduledCall) throws -> Void
    ) async throws -> ScheduledCall

    /// Removes a call; returns whether it existed (rule 4).
    @discardableResult
    func delete(_ id: ScheduleID) async throws -> Bool

    /// Removes every call of a repository; returns how many (rule 4).
    @discardableResult
    func deleteCalls(repository: RepositoryID) async throws -> Int

    /// The earliest time any stored call is due, or `nil` when none ever will be (rule 5).
    func earliestDueTime() async throws -> Date?

    /// Claims up to `limit` calls due at or before `horizon` for `scheduler`, recording each one's dispatch
    /// at its run's time: its due time, or `now` when that has passed (rule 6).
    ///
    /// `onClaim` is called with the claimed runs inside the claim's transaction, so that no change made
    /// through ``update(_:_:)`` can come between the claim and it: a scheduler holds the runs there, and a
    /// change applied after the claim finds them held.
    func claimDue(
        until horizon: Date,
        at now: Date,
        limit: Int,
        scheduler: String,
        onClaim: @escaping @Sendable ([ClaimedRun]) -> Void
    ) async throws -> [ClaimedRun]
}

extension ScheduleStore {
    /// Claims up to `limit` calls due at `now` for `scheduler`, recording the dispatch in each (rule 6): the
    /// claim with `horizon` equal to `now`.
    public func claimDue(at now: Date, limit: Int, scheduler: String) async throws -> [ScheduledCall] {
        try await claimDue(until: now, at: now, limit: limit, scheduler: scheduler) { _ in }.map(\.call)
    }
}

/// One run a claim took: the call as the claim stored it, with the dispatch recorded, and what is needed to
/// take that dispatch back if the run is never sent.
public struct ClaimedRun: Sendable, Hashable {
    /// The call as stored by the claim: its ``ScheduledCall/lastRunAt`` is this run's time.
    public var call: ScheduledCall
    /// The call's ``ScheduledCall/lastRunAt`` before the claim.
    public var previousRunAt: Date?

    /// Describes a claimed run.
    public init(call: ScheduledCall, previousRunAt: Date?) {
        self.call = call
        self.previousRunAt = previousRunAt
    }

    /// The schedule's id.
    public var id: ScheduleID { call.id }

    /// When the run is due: the time its claim recorded as the call's last run.
    public var dueTime: Date { call.lastRunAt ?? call.nextDue }
}

extension ScheduledCall {
    /// The 404 for a schedule that does not exist (or not under the importer the request names).
    public static func missing(_ id: ScheduleID) -> PulpError {
        PulpError.missingResource(["schedule_id": id.rawValue])
    }

    /// The 400 for an update that tried to move a call to another id, repository or importer.
    static func identityChanged(_ id: ScheduleID) -> PulpError {
        PulpError.invalid("_id", "an update cannot change the id, repository or importer of schedule \(id.rawValue)")
    }

    /// Whether `other` is the same schedule of the same importer (what an update may not change).
    func hasSameIdentity(as other: ScheduledCall) -> Bool {
        id == other.id && repositoryID == other.repositoryID && importerID == other.importerID
    }

    /// The 409 for inserting a schedule whose id is taken.
    static func duplicate(_ id: ScheduleID) -> PulpError {
        PulpError.conflict("Duplicate resource: schedule_id=\(id.rawValue)", propertyNames: ["_id"])
    }
}
