import Foundation

/// A `$regex` (or a string under `$not`) compiled once, when the criteria are built.
///
/// Clients send the patterns, and ICU's matcher backtracks, so a pattern such as `(a+)+$` can take
/// exponential time on a short subject. Two guards keep a request from holding a core for hours: a repeat
/// nested in a repeat (the usual shape of such patterns) is refused when the criteria are built, and each
/// match stops after ``progressBudget`` of ICU's progress reports (about a millisecond each), counting as no
/// match.
struct CriteriaRegex: Sendable {
    /// How many progress reports (ICU makes one every few thousand backtracking steps, about a millisecond)
    /// one subject may take before its match is abandoned as not matching.
    static let progressBudget = 50

    /// The longest pattern accepted, in UTF-16 code units. Foundation on Linux (swift-corelibs-foundation)
    /// leaks a copy of every longer pattern it compiles (about 2 bytes a unit plus a header), so a client
    /// sending long patterns could grow the process without bound; 256 is where its stack buffer ends.
    static let maximumPatternLength = 256

    /// The pattern as the client sent it.
    let pattern: String
    /// The `$options` letters as the client sent them.
    let options: String
    /// The compiled expression. `NSRegularExpression` is immutable and documented as safe to share between
    /// threads, and Foundation declares it `Sendable`, so no `@unchecked` is needed here.
    private let expression: NSRegularExpression

    /// Compiles `pattern` with Mongo's `$options` letters `i`, `m`, `s` and `x`.
    ///
    /// - Throws: a ``CriteriaIssue`` naming `operatorName` for an unknown option, a pattern longer than
    ///   ``maximumPatternLength`` or a bad pattern.
    init(pattern: String, options: String, operatorName: String) throws(CriteriaIssue) {
        var flags: NSRegularExpression.Options = []
        for letter in options {
            switch letter {
            case "i": flags.insert(.caseInsensitive)
            case "m": flags.insert(.anchorsMatchLines)
            case "s": flags.insert(.dotMatchesLineSeparators)
            case "x": flags.insert(.allowCommentsAndWhitespace)
            default:
                throw CriteriaIssue("'$options' has an unknown flag '\(letter)'; only i, m, s and x are supported")
            }
        }
        let length = pattern.utf16.count
        guard length <= Self.maximumPatternLength else {
            throw CriteriaIssue(
                "'\(operatorName)' has a regular expression of \(length) characters; "
                    + "patterns are limited to \(Self.maximumPatternLength)"
            )
        }
        do {
            expression = try NSRegularExpression(pattern: pattern, options: flags)
        } catch {
            throw CriteriaIssue("'\(operatorName)' has an invalid regular expression '\(pattern)'")
        }
        if let nested = Self.nestedRepeat(in: pattern) {
            throw CriteriaIssue(
                "'\(operatorName)' repeats a group that repeats ('\(nested)'), which can take exponential time "
                    + "to match; write it without the nested repeat"
            )
        }
        self.pattern = pattern
        self.options = options
    }

    /// Whether the expression matches anywhere in `text` (Mongo's `$regex` is unanchored); a match that
    /// takes more than ``progressBudget`` progress reports is abandoned and counts as none.
    func matches(_ text: String) -> Bool {
        var found = false
        var reports = 0
        expression.enumerateMatches(
            in: text,
            options: [.reportProgress],
            range: NSRange(location: 0, length: text.utf16.count)
        ) { result, _, stop in
            if result != nil {
                found = true
                stop.pointee = true
            } else {
                reports += 1
                if reports >= Self.progressBudget { stop.pointee = true }
            }
        }
        return found
    }

    /// The first group that is repeated (`*`, `+`, `{n,}`, `{n,m}` with m > 1) and holds a repeat itself,
    /// as written in `pattern`; `nil` when there is none.
    static func nestedRepeat(in pattern: String) -> String? {
        let characters = Array(pattern)
        var groups: [(start: Int, repeats: Bool)] = []
        var index = 0
        while index < characters.count {
            switch characters[index] {
            case "\\":
                index += 2
            case "[":
                index = endOfClass(characters, from: index)
            case "(":
                groups.append((index, false))
                index += 1
            case ")":
                index += 1
                guard let group = groups.popLast() else { continue }
                let quantifier = repeatLength(characters, at: index)
                if quantifier > 0, group.repeats {
                    return String(characters[group.start..<index + quantifier])
                }
                if group.repeats || quantifier > 0, !groups.isEmpty { groups[groups.count - 1].repeats = true }
                index += quantifier
            default:
                let quantifier = repeatLength(characters, at: index)
                if quantifier > 0 {
                    if !groups.isEmpty { groups[groups.count - 1].repeats = true }
                    index += quantifier
                } else {
                    index += 1
                }
            }
        }
        return nil
    }

    /// The index after the character class that opens at `start` (`[...]`, with `]` first taken literally).
    private static func endOfClass(_ characters: [Character], from start: Int) -> Int {
        var index = start + 1
        if index < characters.count, characters[index] == "^" { index += 1 }
        if index < characters.count, characters[index] == "]" { index += 1 }
        while index < characters.count, characters[index] != "]" {
            index += characters[index] == "\\" ? 2 : 1
        }
        return index + 1
    }

    /// The length of the repeating quantifier at `index` (`*`, `+`, or braces allowing more than one), or 0.
    private static func repeatLength(_ characters: [Character], at index: Int) -> Int {
        guard index < characters.count else { return 0 }
        switch characters[index] {
        case "*", "+":
            return 1
        case "{":
            guard let close = characters[index...].firstIndex(of: "}") else { return 0 }
            let bounds = String(characters[(index + 1)..<close]).split(separator: ",", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0.allSatisfy(\.isASCII) }),
                let lower = Int(bounds[0])
            else { return 0 }
            let upper = bounds.count == 1 ? lower : (bounds[1].isEmpty ? Int.max : Int(bounds[1]) ?? 0)
            return upper > 1 ? close - index + 1 : 0
        default:
            return 0
        }
    }
}
