public import Foundation

/// The run slots of a schedule: occurrence k is the anchor plus k times the duration, always counted from the
/// anchor so nothing drifts.
///
/// The calendar part adds k × months to the anchor's UTC date with day-of-month clamping (from Jan 31 with `P1M`:
/// Jan 31, Feb 28, Mar 31, Apr 30), the fixed part adds k × seconds. Queries are O(1) and allocation-free.
public struct ScheduleGrid: Sendable, Hashable {
    /// Occurrence 0.
    public let anchor: Date
    /// The distance between occurrences.
    public let duration: ISO8601Duration

    /// The anchor as seconds since 2001-01-01, the representation `Date` keeps.
    private let anchorReference: Double
    /// `duration.months`.
    private let months: Int
    /// `duration.seconds`.
    private let fixedSeconds: Double
    /// The anchor's UTC month as `year * 12 + month - 1`.
    private let anchorMonthIndex: Int
    /// The anchor's UTC day of the month.
    private let anchorDay: Int
    /// The anchor's UTC day number (days since 1970-01-01).
    private let anchorDayNumber: Int
    /// The mean distance between occurrences, for estimating an index.
    private let averageStep: Double
    /// The largest index computed; it keeps all arithmetic far from overflow (about a million years).
    private let maximumIndex: Int

    /// Creates the grid of `duration` anchored at `anchor`.
    public init(anchor: Date, duration: ISO8601Duration) {
        self.anchor = anchor
        self.duration = duration
        anchorReference = anchor.timeIntervalSinceReferenceDate
        months = duration.months
        fixedSeconds = duration.seconds
        let dayNumber = CivilCalendar.floorDivide(
            ISO8601DateTime.wholeSeconds(anchor),
            CivilCalendar.secondsPerDay
        )
        let civil = CivilCalendar.civilDate(dayNumber: dayNumber)
        anchorMonthIndex = civil.year * 12 + civil.month - 1
        anchorDay = civil.day
        anchorDayNumber = dayNumber
        // A Gregorian month averages 30.436875 days over the 400-year cycle.
        averageStep = Double(duration.months) * 2_629_746 + duration.seconds
        maximumIndex = duration.months > 0 ? max(12_000_000 / duration.months, 1) : 1 << 52
    }

    /// Occurrence `index`: the anchor for 0; negative indices are treated as 0.
    public func occurrence(_ index: Int) -> Date {
        Date(timeIntervalSinceReferenceDate: reference(min(max(index, 0), maximumIndex)))
    }

    /// The latest occurrence at or before `instant`, with its index; `nil` when `instant` is before the anchor.
    public func lastOccurrence(atOrBefore instant: Date) -> (index: Int, date: Date)? {
        let target = instant.timeIntervalSinceReferenceDate
        guard target >= anchorReference else { return nil }
        let index = lastIndex(atOrBefore: target)
        return (index, Date(timeIntervalSinceReferenceDate: reference(index)))
    }

    /// The first occurrence strictly after `instant`; the anchor when `instant` is before it.
    public func nextOccurrence(after instant: Date) -> Date {
        let target = instant.timeIntervalSinceReferenceDate
        guard target >= anchorReference else { return anchor }
        let index = lastIndex(atOrBefore: target)
        return Date(timeIntervalSinceReferenceDate: reference(min(index + 1, maximumIndex)))
    }

    /// Occurrence `index` (0 ... maximumIndex) in seconds since 2001-01-01.
    @inline(__always)
    private func reference(_ index: Int) -> Double {
        guard months != 0 else { return anchorReference + Double(index) * fixedSeconds }
        let monthIndex = anchorMonthIndex + index * months
        let year = CivilCalendar.floorDivide(monthIndex, 12)
        let month = monthIndex - year * 12 + 1
        let day = min(anchorDay, CivilCalendar.daysInMonth(year: year, month: month))
        let dayNumber = CivilCalendar.dayNumber(year: year, month: month, day: day)
        return anchorReference + Double((dayNumber - anchorDayNumber) * CivilCalendar.secondsPerDay)
            + Double(index) * fixedSeconds
    }

    /// The largest index whose occurrence is at or before `target` (which is at or after the anchor).
    ///
    /// Estimates from the mean step, then gallops and bisects; for any real duration the estimate is off by at
    /// most one, so this costs two or three occurrence computations.
    private func lastIndex(atOrBefore target: Double) -> Int {
        var estimate = ((target - anchorReference) / averageStep).rounded(.down)
        if !(estimate < Double(maximumIndex)) { estimate = Double(maximumIndex) }
        if estimate < 0 { estimate = 0 }
        let guess = Int(estimate)
        // Invariant once set: reference(low) <= target < reference(high).
        var low: Int
        var high: Int
        var step = 1
        if reference(guess) <= target {
            low = guess
            while true {
                guard low < maximumIndex else { return maximumIndex }
                let probe = low + min(step, maximumIndex - low)
                if reference(probe) > target {
                    high = probe
                    break
                }
                low = probe
                step *= 2
            }
        } else {
            high = guess
            while true {
                // reference(0) is the anchor, which is at or before the target, so this ends.
                let probe = max(high - step, 0)
                if reference(probe) <= target {
                    low = probe
                    break
                }
                high = probe
                step *= 2
            }
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if reference(middle) <= target {
                low = middle
            } else {
                high = middle
            }
        }
        return low
    }
}
