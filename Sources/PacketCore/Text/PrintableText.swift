/// Text that came from the wire (a BGP FQDN capability or shutdown communication, a MySQL server version or
/// error message, an interface name) made safe to print on one terminal line.
///
/// Every text renderer and log line passes peer-supplied text through `escaped(_:)`, so a peer cannot move
/// the cursor, change colours, or forge a line of its own with CR/LF. JSON output needs nothing more: its
/// string quoting (RFC 8259 section 7) already escapes control characters.
///
/// What is escaped, and how (the form C and tcpdump readers expect):
/// - `\` itself, as `\\`, so an escaped text never reads as if it held a control character it did not;
/// - C0 controls and DEL: `\n`, `\r`, `\t` by name, the others as `\xNN`;
/// - C1 controls (U+0080-U+009F, which some terminals read as CSI) as `\u{NN}`;
/// - Unicode line and paragraph separators (U+2028, U+2029) and the bidirectional overrides and isolates
///   (U+202A-U+202E, U+2066-U+2069), which reorder what a reader sees, as `\u{NNNN}`.
/// Everything else, including non-ASCII letters and the replacement character of invalid UTF-8, is kept.
public enum PrintableText {
    /// `text` with every character that could alter a terminal or forge a line escaped.
    public static func escaped(_ text: some StringProtocol) -> String {
        // Fast path: most wire text (versions, host names) is plain printable ASCII without backslashes.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x5c }) { return String(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5c: out += "\\\\"
            case 0x0a: out += "\\n"
            case 0x0d: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7f: out += "\\x" + hex(scalar.value, digits: 2)
            case 0x80...0x9f: out += "\\u{" + hex(scalar.value, digits: 2) + "}"
            case 0x2028, 0x2029, 0x202a...0x202e, 0x2066...0x2069:
                out += "\\u{" + hex(scalar.value, digits: 4) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// True when `escaped(text)` would change nothing.
    public static func isPlain(_ text: some StringProtocol) -> Bool { escaped(text) == String(text) }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
