import Foundation
import PulpKit

/// Shared helpers of the ISO 8601 suites.
enum ISO8601Fixtures {
    /// Foundation's Gregorian calendar in UTC: the reference the hand-written arithmetic is checked against.
    static let gregorianUTC: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The instant of a `YYYY-MM-DDTHH:MM:SSZ` text, read by Foundation (independently of the code under test).
    static func date(_ text: String) -> Date {
        try! Date(text, strategy: Date.ISO8601FormatStyle())
    }

    /// The creation time of PULP2-SEMANTICS §1.2's worked examples.
    static let createdAt = date("2014-01-27T22:15:00Z")

    /// Pulp's form of `date`, formatted by Foundation.
    static func text(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    /// The reason of a `PulpError.invalid` for `field`, checking the error's shape on the way.
    static func reason(of error: PulpError?, field: String) -> String {
        guard let error else { return "<no error>" }
        guard error.code == .invalidProperties, error.httpStatus == 400, error.propertyNames == [field],
            let sub = error.subErrors.first
        else { return "<unexpected error: \(error)>" }
        return String(sub.message.dropFirst(field.count + 2))
    }
}
