import Foundation

/// A `$regex` (or a string under `$not`) compiled once, when the criteria are built.
struct CriteriaRegex: Sendable {
    /// The pattern as the client sent it.
    let pattern: String
    /// The `$options` letters as the client sent them.
    let options: String
    /// The compiled expression. `NSRegularExpression` is immutable and documented as safe to share between
    /// threads, and Foundation declares it `Sendable`, so no `@unchecked` is needed here.
    private let expression: NSRegularExpression

    /// Compiles `pattern` with Mongo's `$options` letters `i`, `m`, `s` and `x`.
    ///
    /// - Throws: a ``CriteriaIssue`` naming `operatorName` for an unknown option or a bad pattern.
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
        do {
            expression = try NSRegularExpression(pattern: pattern, options: flags)
        } catch {
            throw CriteriaIssue("'\(operatorName)' has an invalid regular expression '\(pattern)'")
        }
        self.pattern = pattern
        self.options = options
    }

    /// Whether the expression matches anywhere in `text` (Mongo's `$regex` is unanchored).
    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, options: [], range: NSRange(location: 0, length: text.utf16.count)) != nil
    }
}
