// libFuzzer harness: text a peer controls (BGP FQDN and shutdown communication, MySQL server version and
// error message, interface names) on its way to a terminal (issue 18: a shutdown communication forged a
// `session established` line). PrintableText.escaped must leave no character that moves the cursor, ends
// the line or drives the terminal, and must lose nothing: unescaping gives the text back.
//
// Input: any bytes, read as UTF-8 the way the core's Cursor.readString reads wire text. Replayed in CI by
// Tests/RobustnessTests (HostileValueReplayTests) with the same checks.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let escaped = PrintableText.escaped(text)
    for scalar in escaped.unicodeScalars {
        let value = scalar.value
        precondition(!(value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value)), "control character left")
        precondition(!(0x2028...0x202E).contains(value) && !(0x2066...0x2069).contains(value), "separator or bidi left")
    }
    precondition(unescape(escaped) == text, "escaping lost or changed text")
    return 0
}

/// The inverse of PrintableText.escaped, for the round-trip check.
func unescape(_ escaped: String) -> String {
    var out = String.UnicodeScalarView()
    var scalars = Array(escaped.unicodeScalars)[...]
    while let scalar = scalars.popFirst() {
        guard scalar == "\\", let kind = scalars.popFirst() else {
            out.append(scalar)
            continue
        }
        switch kind {
        case "\\": out.append("\\")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "x":
            let digits = String(String.UnicodeScalarView(scalars.prefix(2)))
            scalars = scalars.dropFirst(2)
            if let value = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(value) { out.append(decoded) }
        case "u":
            guard scalars.first == "{", let close = scalars.firstIndex(of: "}") else { return "<bad escape>" }
            let digits = String(String.UnicodeScalarView(scalars[scalars.index(after: scalars.startIndex)..<close]))
            scalars = scalars[scalars.index(after: close)...]
            if let value = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(value) { out.append(decoded) }
        default: return "<bad escape>"
        }
    }
    return String(out)
}
