/// A small JSON reader (RFC 8259) for the state file, one value at a time.
///
/// Foundation's `JSONSerialization` builds the whole document as bridged objects first: a 77 MB state file
/// took 2.3 GB, and `--max-bindings` could only be applied after all of it was in memory. This reader walks
/// the bytes with one index and hands the caller each element of the `bindings` array as a small value, so
/// memory is the file's bytes plus the bindings kept. Nesting is capped, every read is bounds-checked, and
/// malformed input is an error, never a trap.
enum StateJSON: Sendable, Hashable {
    case string(String)
    /// The number's text as written (the state file's numbers are small integers: VLAN IDs, the version).
    case number(String)
    case bool(Bool)
    case null
    case array([StateJSON])
    case object([String: StateJSON])

    subscript(key: String) -> StateJSON? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var int: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    var array: [StateJSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    struct SyntaxError: Error, Sendable {
        /// Byte offset where the problem is.
        let offset: Int
        let reason: String
    }

    /// Walks one document. `values` parses a whole value; `streamArray` hands out the elements of an array one
    /// by one.
    struct Reader {
        let bytes: [UInt8]
        var position = 0
        static let maximumDepth = 32

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[position]) { position += 1 }
        }

        func fail(_ reason: String) -> SyntaxError { SyntaxError(offset: position, reason: reason) }

        mutating func expect(_ byte: UInt8) throws(SyntaxError) {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == byte else {
                throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
            }
            position += 1
        }

        /// The next non-blank byte, not consumed; nil at the end.
        mutating func peek() -> UInt8? {
            skipWhitespace()
            return position < bytes.count ? bytes[position] : nil
        }

        mutating func atEnd() -> Bool { peek() == nil }

        mutating func value(depth: Int = 0) throws(SyntaxError) -> StateJSON {
            guard depth < Self.maximumDepth else { throw fail("nested more than \(Self.maximumDepth) levels") }
            guard let byte = peek() else { throw fail("unexpected end of file") }
            switch byte {
            case UInt8(ascii: "{"):
                position += 1
                var fields: [String: StateJSON] = [:]
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    return .object(fields)
                }
                while true {
                    guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    fields[key] = try value(depth: depth + 1)
                    guard let next = peek() else { throw fail("unexpected end of file in an object") }
                    position += 1
                    if next == UInt8(ascii: "}") { return .object(fields) }
                    guard next == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
                }
            case UInt8(ascii: "["):
                position += 1
                var items: [StateJSON] = []
                if peek() == UInt8(ascii: "]") {
                    position += 1
                    return .array(items)
                }
                while true {
                    items.append(try value(depth: depth + 1))
                    guard let next = peek() else { throw fail("unexpected end of file in an array") }
                    position += 1
                    if next == UInt8(ascii: "]") { return .array(items) }
                    guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = position
                position += 1
                while position < bytes.count,
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position])
                        || [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"),
                            UInt8(ascii: "-")].contains(bytes[position])
                {
                    position += 1
                }
                return .number(String(decoding: bytes[start..<position], as: UTF8.self))
            default:
                throw fail("unexpected character")
            }
        }

        private mutating func literal(_ word: StaticString, _ result: StateJSON) throws(SyntaxError) -> StateJSON {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw fail("unexpected end of file") }
            var matches = true
            word.withUTF8Buffer { expected in
                for offset in 0..<count where bytes[position + offset] != expected[offset] { matches = false }
            }
            guard matches else { throw fail("unexpected word") }
            position += count
            return result
        }

        /// A string at `position` (which holds the opening quote).
        mutating func string() throws(SyntaxError) -> String {
            position += 1
            var runStart = position
            var text = ""
            func flushRun(_ end: Int) {
                text += String(decoding: bytes[runStart..<end], as: UTF8.self)
            }
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    flushRun(position)
                    position += 1
                    return text
                }
                if byte < 0x20 { throw fail("control character in a string") }
                if byte != UInt8(ascii: "\\") {
                    position += 1
                    continue
                }
                flushRun(position)
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): text += "\""
                case UInt8(ascii: "\\"): text += "\\"
                case UInt8(ascii: "/"): text += "/"
                case UInt8(ascii: "b"): text += "\u{8}"
                case UInt8(ascii: "f"): text += "\u{c}"
                case UInt8(ascii: "n"): text += "\n"
                case UInt8(ascii: "r"): text += "\r"
                case UInt8(ascii: "t"): text += "\t"
                case UInt8(ascii: "u"):
                    var unit = try hex4()
                    if (0xD800..<0xDC00).contains(unit), position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                        bytes[position + 1] == UInt8(ascii: "u")
                    {
                        position += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            text.unicodeScalars.append("\u{FFFD}")
                            unit = low
                        }
                    }
                    text.unicodeScalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                default:
                    throw fail("bad escape in a string")
                }
                runStart = position
            }
            throw fail("unterminated string")
        }

        private mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("unexpected end of file in \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("bad \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        /// The elements of the array at `position`, one at a time, each dropped once `body` has seen it.
        /// Returns the number of elements.
        mutating func streamArray(depth: Int = 1, _ body: (StateJSON) throws -> Void) throws -> Int {
            try expect(UInt8(ascii: "["))
            var count = 0
            if peek() == UInt8(ascii: "]") {
                position += 1
                return 0
            }
            while true {
                try body(try value(depth: depth + 1))
                count += 1
                guard let next = peek() else { throw fail("unexpected end of file in an array") }
                position += 1
                if next == UInt8(ascii: "]") { return count }
                guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
            }
        }
    }
}
