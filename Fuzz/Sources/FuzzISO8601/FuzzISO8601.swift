import Foundation
import FuzzCheck
import PulpKit

/// The creation time of the spec's worked examples, 2014-01-27T22:15:00Z: where a schedule without a start begins.
private let createdAt = Date(timeIntervalSince1970: 1_390_860_900)

/// Instants every grid is asked about besides its own slots: the creation time, the end of 2099, the last second
/// of year 9999 and Foundation's far future.
private let fixedInstants = [
    createdAt, Date(timeIntervalSince1970: 4_102_444_799), Date(timeIntervalSince1970: 253_402_300_799),
    Date.distantFuture,
]

/// Reads the input as one piece of ISO 8601 text and gives it to every parser: a schedule (`RepeatingInterval`), a
/// date-time, a duration and a time of day. What parses must have a canonical form that parses back to the same
/// canonical form, and a schedule's grid must bracket every instant between its last and next occurrence.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzISO8601(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
    if let interval = try? RepeatingInterval(parsing: text) { verify(interval, text) }
    if let dateTime = try? ISO8601DateTime(parsing: text) { verify(dateTime, text) }
    if let duration = try? ISO8601Duration(parsing: text) { verify(duration, text) }
    if let time = try? ISO8601TimeOfDay(parsing: text) {
        let canonical = time.description
        let reparsed = try? ISO8601TimeOfDay(parsing: canonical)
        check(reparsed?.description == canonical, "time \(text): canonical \(canonical) does not parse back")
    }
    return 0
}

private func verify(_ interval: RepeatingInterval, _ text: String) {
    let canonical = interval.description
    guard let reparsed = try? RepeatingInterval(parsing: canonical) else {
        fail("schedule \(text): canonical \(canonical) does not parse")
    }
    check(reparsed.description == canonical, "schedule \(text): \(canonical) reads back as \(reparsed)")
    check(reparsed.recurrences == interval.recurrences, "schedule \(text): recurrences changed")
    // Anchors are whole seconds and the canonical start keeps microseconds, rounded: at most a second apart.
    let shift = reparsed.anchor(createdAt: createdAt).timeIntervalSince(interval.anchor(createdAt: createdAt))
    check(abs(shift) <= 1, "schedule \(text): \(canonical) starts \(shift) s away")
    check((interval.recurrences ?? 1) >= 1, "schedule \(text): recurrences below 1")
    let firstRun = interval.firstRun(createdAt: createdAt)
    check(
        (try? ISO8601DateTime(parsing: firstRun.description)) != nil,
        "schedule \(text): first run \(firstRun) does not parse"
    )
    verify(interval.grid(createdAt: createdAt), text)
}

private func verify(_ dateTime: ISO8601DateTime, _ text: String) {
    let canonical = dateTime.description
    guard let reparsed = try? ISO8601DateTime(parsing: canonical) else {
        fail("date-time \(text): canonical \(canonical) does not parse")
    }
    check(reparsed.description == canonical, "date-time \(text): \(canonical) reads back as \(reparsed)")
    // The canonical form keeps microseconds; a Date near year 9999 resolves about 30 µs.
    check(
        abs(reparsed.date.timeIntervalSince(dateTime.date)) < 0.001,
        "date-time \(text): \(canonical) names another instant"
    )
    let stamp = ISO8601DateTime.utcString(dateTime.date)
    if let back = ISO8601DateTime.utcDate(stamp) {
        let whole = dateTime.date.timeIntervalSince1970.rounded(.down)
        check(back.timeIntervalSince1970 == whole, "date-time \(text): timestamp \(stamp) reads back wrong")
    }
}

private func verify(_ duration: ISO8601Duration, _ text: String) {
    check(duration.months >= 0 && duration.seconds >= 0, "duration \(text) is negative")
    check(duration.months > 0 || duration.seconds > 0, "duration \(text) is zero")
    let canonical = duration.description
    guard let reparsed = try? ISO8601Duration(parsing: canonical) else {
        fail("duration \(text): canonical \(canonical) does not parse")
    }
    check(reparsed.description == canonical, "duration \(text): \(canonical) reads back as \(reparsed)")
    check(reparsed.months == duration.months, "duration \(text): \(canonical) has other months")
    // Each component is written with up to nine decimals of its own unit (a nanoweek is 0.6 ms).
    check(
        abs(reparsed.seconds - duration.seconds) < 0.001,
        "duration \(text): \(canonical) is \(reparsed.seconds) s, not \(duration.seconds) s"
    )
}

/// The grid must number its slots in increasing order, and for any instant at or after the anchor the last
/// occurrence must be at or before it and the next one after it; before the anchor there is no last and the next
/// is the anchor. Slots are sampled within 10,000 years of the anchor, the longest duration accepted.
private func verify(_ grid: ScheduleGrid, _ text: String) {
    var instants = fixedInstants
    let meanStep = Double(grid.duration.months) * 2_629_746 + grid.duration.seconds
    for index in [0, 1, 2, 7, 1000, 123_456] where Double(index + 1) * meanStep <= 315_576_000_000 {
        let slot = grid.occurrence(index)
        let following = grid.occurrence(index + 1)
        check(slot < following, "schedule \(text): occurrence \(index + 1) is not after occurrence \(index)")
        let middle = Date(timeIntervalSince1970: (slot.timeIntervalSince1970 + following.timeIntervalSince1970) / 2)
        instants += [slot, middle, slot.addingTimeInterval(-1)]
    }
    for instant in instants {
        let next = grid.nextOccurrence(after: instant)
        guard let last = grid.lastOccurrence(atOrBefore: instant) else {
            check(instant < grid.anchor, "schedule \(text): no occurrence at or before \(instant)")
            check(next == grid.anchor, "schedule \(text): the next occurrence before the anchor is \(next)")
            continue
        }
        check(instant >= grid.anchor, "schedule \(text): an occurrence before the anchor, at \(last.date)")
        check(last.date <= instant, "schedule \(text): the last occurrence \(last.date) is after \(instant)")
        check(last.date == grid.occurrence(last.index), "schedule \(text): slot \(last.index) is inconsistent")
        check(next == grid.occurrence(last.index + 1), "schedule \(text): the next slot is not \(last.index)+1")
        check(next > instant, "schedule \(text): the next occurrence \(next) is not after \(instant)")
    }
}
