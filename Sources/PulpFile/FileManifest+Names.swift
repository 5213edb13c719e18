public import PulpKit

extension FileManifest {
    /// The longest name accepted, in UTF-8 bytes.
    public static let maximumNameLength = 4096

    /// Refuses a file name that is not a safe relative path, with a ``PulpKit/PulpError`` for the property `name`.
    ///
    /// Refused: an empty name, a name over ``maximumNameLength`` bytes, a leading `/`, a `.` or `..` component, an
    /// empty component (`a//b`, a trailing `/`), a backslash, control characters (U+0000–U+001F, U+007F–U+009F), and a
    /// leading U+FEFF, which a `PULP_MANIFEST` that starts with the name would read as its byte order mark.
    public static func validateName(_ name: String) throws(PulpError) {
        var name = name
        var highBits: UInt8 = 0
        if let problem = name.withUTF8({ nameProblem(in: $0, highBits: &highBits) }) {
            throw .invalid("name", problem.reason(for: name))
        }
    }

    /// What is wrong with a name, found without building any text so that valid names cost one pass over the bytes.
    enum NameProblem: Equatable {
        case empty
        case tooLong(bytes: Int)
        case absolute
        case byteOrderMark
        case controlCharacter(UInt32)
        case backslash
        case dotComponent
        case dotDotComponent
        case emptyComponent

        /// A sentence naming the offending `name`, with control characters escaped.
        func reason(for name: String) -> String {
            let shown = FileManifest.quoted(name)
            switch self {
            case .empty:
                return "the name is empty"
            case .tooLong(let bytes):
                return "name \(shown) is \(bytes) bytes long; names are limited to \(maximumNameLength) bytes"
            case .absolute:
                return "name \(shown) is an absolute path; names must be relative to the feed folder"
            case .byteOrderMark:
                return "name \(shown) starts with U+FEFF, which a PULP_MANIFEST reads as a byte order mark"
            case .controlCharacter(let value):
                let code = String(value, radix: 16, uppercase: true)
                let padded = String(repeating: "0", count: max(0, 4 - code.count)) + code
                return "name \(shown) contains the control character U+\(padded); control characters are not allowed"
            case .backslash:
                return "name \(shown) contains a backslash; use \"/\" between folders"
            case .dotComponent:
                return "name \(shown) has a \".\" path component; names must be normalised relative paths"
            case .dotDotComponent:
                return "name \(shown) has a \"..\" path component, which could reach outside the repository"
            case .emptyComponent:
                return "name \(shown) has an empty path component (\"//\" or a trailing \"/\")"
            }
        }
    }

    /// The first problem with the UTF-8 `bytes` of a name, or nil when it is a safe relative path.
    ///
    /// ORs every byte it reads into `highBits`, so that callers learn whether a name needs UTF-8 validation.
    static func nameProblem(in bytes: UnsafeBufferPointer<UInt8>, highBits: inout UInt8) -> NameProblem? {
        let count = bytes.count
        if count == 0 { return .empty }
        if count > maximumNameLength { return .tooLong(bytes: count) }
        if bytes[0] == ASCII.slash { return .absolute }
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { return .byteOrderMark }
        let (problem, bits) = specialNameBytes.withUnsafeBufferPointer { special -> (NameProblem?, UInt8) in
            var bits: UInt8 = 0
            var componentStart = 0
            for index in 0..<count {
                let byte = bytes[index]
                bits |= byte
                guard special[Int(byte)] != 0 else { continue }
                switch byte {
                case ASCII.slash:
                    if let problem = componentProblem(bytes, componentStart..<index) { return (problem, bits) }
                    componentStart = index + 1
                case ASCII.backslash:
                    return (.backslash, bits)
                case 0xC2:
                    // U+0080...U+009F, the C1 controls, are 0xC2 0x80...0xC2 0x9F in UTF-8.
                    if index + 1 < count, bytes[index + 1] >= 0x80, bytes[index + 1] <= 0x9F {
                        return (.controlCharacter(UInt32(bytes[index + 1])), bits)
                    }
                default:
                    return (.controlCharacter(UInt32(byte)), bits)
                }
            }
            return (componentProblem(bytes, componentStart..<count), bits)
        }
        highBits |= bits
        return problem
    }

    /// Refuses an empty, `.` or `..` path component.
    private static func componentProblem(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> NameProblem? {
        switch range.count {
        case 0: .emptyComponent
        case 1 where bytes[range.lowerBound] == ASCII.dot: .dotComponent
        case 2 where bytes[range.lowerBound] == ASCII.dot && bytes[range.lowerBound + 1] == ASCII.dot: .dotDotComponent
        default: nil
        }
    }

    /// 1 for the bytes ``nameProblem(in:highBits:)`` looks at closely: `/`, the backslash, controls and 0xC2 (C1 lead).
    private static let specialNameBytes: [UInt8] = (0...255).map { byte in
        byte < 0x20 || byte == 0x7F || byte == 0xC2 || byte == Int(ASCII.slash) || byte == Int(ASCII.backslash) ? 1 : 0
    }

    /// `text` in double quotes for a message: control characters as `\u{…}`, quotes and backslashes escaped, and
    /// anything past the first 100 characters elided.
    static func quoted(_ text: String) -> String {
        var shown = "\""
        var written = 0
        for scalar in text.unicodeScalars {
            if written == 100 {
                shown += "…"
                break
            }
            switch scalar.value {
            case 0x22: shown += "\\\""
            case 0x5C: shown += "\\\\"
            case 0..<0x20, 0x7F...0x9F: shown += "\\u{\(String(scalar.value, radix: 16))}"
            default: shown.unicodeScalars.append(scalar)
            }
            written += 1
        }
        return shown + "\""
    }
}
