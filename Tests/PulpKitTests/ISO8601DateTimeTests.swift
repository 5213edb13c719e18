import Foundation
import PulpKit
import PulpKitTesting
import Testing

struct ISO8601DateTimeTests {
    /// Accepted text, the UTC instant it names, the offset kept, and the canonical form.
    static let accepted: [(String, String, Int?, String)] = [
        ("2014-01-27T21:41:50Z", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("20140127T214150Z", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("2014-027T21:41:50Z", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("2014027T214150Z", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("2014-W05-1T21:41:50Z", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("2014W051T214150Z", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("2014-W01-1T10:00Z", "2013-12-30T10:00:00Z", 0, "2013-12-30T10:00:00Z"),
        ("2015-W53-7T00:00Z", "2016-01-03T00:00:00Z", 0, "2016-01-03T00:00:00Z"),
        ("2016-366T00:00:00Z", "2016-12-31T00:00:00Z", 0, "2016-12-31T00:00:00Z"),
        ("2014-01-27T21:41Z", "2014-01-27T21:41:00Z", 0, "2014-01-27T21:41:00Z"),
        ("2014-01-27T2141Z", "2014-01-27T21:41:00Z", 0, "2014-01-27T21:41:00Z"),
        ("2014-01-27T21Z", "2014-01-27T21:00:00Z", 0, "2014-01-27T21:00:00Z"),
        ("2014-01-27T21.5Z", "2014-01-27T21:30:00Z", 0, "2014-01-27T21:30:00Z"),
        ("2014-01-27T21:41.5Z", "2014-01-27T21:41:30Z", 0, "2014-01-27T21:41:30Z"),
        ("2014-01-27T21:41:50+05:30", "2014-01-27T16:11:50Z", 19_800, "2014-01-27T21:41:50+05:30"),
        ("2014-01-27T21:41:50+0530", "2014-01-27T16:11:50Z", 19_800, "2014-01-27T21:41:50+05:30"),
        ("2014-01-27T21:41:50+05", "2014-01-27T16:41:50Z", 18_000, "2014-01-27T21:41:50+05:00"),
        ("2014-01-27T21:41:50-08:00", "2014-01-28T05:41:50Z", -28_800, "2014-01-27T21:41:50-08:00"),
        ("2014-01-27T21:41:50+00:00", "2014-01-27T21:41:50Z", 0, "2014-01-27T21:41:50Z"),
        ("2014-01-27T21:41:50", "2014-01-27T21:41:50Z", nil, "2014-01-27T21:41:50Z"),
        ("2014-01-01T00:30:00+01:00", "2013-12-31T23:30:00Z", 3600, "2014-01-01T00:30:00+01:00"),
        ("2000-02-29T23:59:59Z", "2000-02-29T23:59:59Z", 0, "2000-02-29T23:59:59Z"),
        ("9999-W52-5T00:00Z", "9999-12-31T00:00:00Z", 0, "9999-12-31T00:00:00Z"),
    ]

    @Test(arguments: accepted)
    func parsesAcceptedForms(text: String, utc: String, offset: Int?, canonical: String) throws {
        let value = try ISO8601DateTime(parsing: text)
        #expect(value.date == ISO8601Fixtures.date(utc))
        #expect(value.utcOffsetSeconds == offset)
        #expect(value.description == canonical)
        #expect(try ISO8601DateTime(parsing: canonical).date == value.date)
    }

    @Test(arguments: [
        ("2014-01-27T21:41:50.25Z", 0.25, "2014-01-27T21:41:50.25Z"),
        ("2014-01-27T21:41:50,25Z", 0.25, "2014-01-27T21:41:50.25Z"),
        ("2014-01-27T21:41:50.123456+05:30", 0.123456, "2014-01-27T21:41:50.123456+05:30"),
        ("2014-01-27T21:41:50.500Z", 0.5, "2014-01-27T21:41:50.5Z"),
    ])
    func keepsFractionalSeconds(text: String, fraction: Double, canonical: String) throws {
        let value = try ISO8601DateTime(parsing: text)
        let whole = value.date.timeIntervalSince1970.rounded(.down)
        #expect(abs(value.date.timeIntervalSince1970 - whole - fraction) < 1e-6)
        #expect(value.description == canonical)
    }

    /// Caught by the iso8601 fuzz target's round trip: a fraction just under a second was rounded up into the next
    /// second, so `9999-12-31T23:59:59.9999999Z` was written `+10000-01-01T00:00:00Z`, which does not parse.
    @Test(arguments: [
        ("9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.99"),
        ("2014-01-27T23:59:59.9999999+05:30", "2014-01-27T23:59:59.999999+05:30"),
        ("2014-01-27T21:41:50.9999999Z", "2014-01-27T21:41:50.999999Z"),
    ])
    func keepsTheWrittenSecondInTheCanonicalForm(text: String, prefix: String) throws {
        let value = try ISO8601DateTime(parsing: text)
        #expect(value.description.hasPrefix(prefix))
        #expect(try ISO8601DateTime(parsing: value.description).description == value.description)
    }

    /// Refused text and the words the reason must contain.
    static let rejected: [(String, String)] = [
        // Caught by the iso8601 fuzz target's round trip: written +10000-01-02T00:00:00Z, which does not parse.
        ("9999-W52-7T00:00Z", "9999-W52-7 falls in year 10000"),
        ("2014-01-27", "ISO 8601 time designator 'T' missing"),
        ("00:00:00Z", "ISO 8601 time designator 'T' missing"),
        ("2014-01-27 21:41:50Z", "ISO 8601 time designator 'T' missing"),
        ("2014-01-27T24:00:00Z", "hour 24 is out of range"),
        ("2014-02-30T00:00:00Z", "day 30 is out of range for 2014-02 (01-28)"),
        ("2014-02-29T00:00:00Z", "day 29 is out of range for 2014-02"),
        ("2100-02-29T00:00:00Z", "day 29 is out of range for 2100-02"),
        ("2014-13-01T00:00:00Z", "month 13 is out of range"),
        ("2014-00-01T00:00:00Z", "month 0 is out of range"),
        ("2014-01-27T21:60:00Z", "minute 60 is out of range"),
        ("2014-01-27T21:41:60Z", "second 60 is out of range"),
        ("2014-W53-1T00:00Z", "week 53 is out of range for 2014 (01-52)"),
        ("2014-W54-1T00:00Z", "week 54 is out of range for 2014 (01-52)"),
        ("2014-W05-8T00:00Z", "weekday 8 is out of range"),
        ("2014-366T00:00Z", "day of the year 366 is out of range for 2014 (001-365)"),
        ("2014-01-27t21:41:50Z", "upper case"),
        ("2014-01-27T21:41:50z", "upper case"),
        ("2014-w05-1T00:00Z", "upper case"),
        (" 2014-01-27T21:41:50Z", "whitespace"),
        ("2014-01-27T21:41:50Z ", "whitespace"),
        ("", "must not be empty"),
        ("xyzT12:00Z", "four-digit year"),
        ("2014-01-27T21:41:50+24:00", "UTC offset hour 24 is out of range"),
        ("2014-01-27T21:41:50.Z", "a decimal fraction needs digits"),
        ("2014-01-27T21:4150Z", "unexpected text"),
        ("2014-01-27T21:41:50ZZ", "unexpected text"),
        ("2014-0127T00:00Z", "expected '-' between the month and the day"),
        ("0000-01-01T00:00Z", "year 0000 is out of range"),
        ("1970:00:00T00:00:00Z", "expected a two-digit month"),
    ]

    @Test(arguments: rejected)
    func refusesWithAReason(text: String, reason: String) {
        let error = #expect(throws: PulpError.self) { try ISO8601DateTime(parsing: text, field: "start") }
        #expect(ISO8601Fixtures.reason(of: error, field: "start").contains(reason))
        #expect(error?.message.hasPrefix("Invalid properties: ['start']") == true)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (1_390_858_910.292712, "2014-01-27T21:41:50Z"),
        (-0.5, "1969-12-31T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (4_107_542_399.999, "2100-02-28T23:59:59Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ])
    func formatsPulpTimestamps(seconds: Double, text: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(ISO8601DateTime.utcString(date) == text)
        #expect(ISO8601DateTime.utcDate(text) == Date(timeIntervalSince1970: seconds.rounded(.down)))
    }

    @Test func pulpTimestampsMatchFoundationAndRoundTrip() {
        var random = SeededRandomNumberGenerator(seed: 42)
        for _ in 0..<20_000 {
            let seconds = Double.random(in: -2_208_988_800...7_258_118_400, using: &random)
            let date = Date(timeIntervalSince1970: seconds)
            let text = ISO8601DateTime.utcString(date)
            #expect(text == ISO8601Fixtures.text(date))
            #expect(ISO8601DateTime.utcDate(text) == Date(timeIntervalSince1970: seconds.rounded(.down)))
        }
    }

    @Test(arguments: [
        "2014-01-27T21:41:50", "2014-01-27T21:41:50+00:00", "2014-01-27 21:41:50Z", "2014-02-30T00:00:00Z",
        "2014-01-27T24:00:00Z", "2014-01-27T21:41:5xZ", "x", "",
    ])
    func fastTimestampReaderRefusesOtherText(text: String) {
        #expect(ISO8601DateTime.utcDate(text) == nil)
    }

    @Test func namesTheDefaultField() {
        let error = #expect(throws: PulpError.self) { try ISO8601DateTime(parsing: "2014-01-27") }
        #expect(error?.propertyNames == ["date"])
    }

    @Test func keepsTheOffsetButComparesInstantsInUTC() throws {
        let india = try ISO8601DateTime(parsing: "2014-01-27T21:41:50+05:30")
        let utc = try ISO8601DateTime(parsing: "2014-01-27T16:11:50Z")
        #expect(india.date == utc.date)
        #expect(india != utc)
        #expect(ISO8601DateTime.utcString(india.date) == "2014-01-27T16:11:50Z")
    }
}
