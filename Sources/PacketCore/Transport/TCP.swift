/// A TCP header (RFC 9293 section 3.1) with its options.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-------------------------------+-------------------------------+
/// |          Source Port          |       Destination Port        |
/// +-------------------------------+-------------------------------+
/// |                        Sequence Number                        |
/// |                    Acknowledgment Number                      |
/// +-------+-----+-+-+-+-+-+-+-+-+-+-------------------------------+
/// |  Data |     |N|C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsrv|S|W|C|R|C|S|S|Y|I|            Window             |
/// +-------+-----+-+-+-+-+-+-+-+-+-+-------------------------------+
/// |           Checksum            |         Urgent Pointer        |
/// +-------------------------------+-------------------------------+
/// |                    Options (data offset > 5)                  |
/// ```
public struct TCPHeader: Sendable, Hashable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var headerLength: Int
    public var flags: TCPFlags
    public var window: UInt16
    public var checksum: UInt16
    public var urgentPointer: UInt16
    public var options: TCPOptions

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .tcp
        guard cursor.remaining >= 20 else { throw cursor.error(.truncated, "TCP header needs 20 bytes") }
        let fixed = try cursor.readHeader(20)
        sourcePort = fixed.u16(0)
        destinationPort = fixed.u16(2)
        sequence = fixed.u32(4)
        acknowledgment = fixed.u32(8)
        let offsetAndFlags = fixed.u16(12)
        headerLength = Int(offsetAndFlags >> 12) * 4
        flags = TCPFlags(rawValue: offsetAndFlags & 0x01FF)
        window = fixed.u16(14)
        checksum = fixed.u16(16)
        urgentPointer = fixed.u16(18)
        guard headerLength >= 20 else { throw cursor.error(.malformed, "TCP data offset below 5") }
        let (optionBytes, cut) = cursor.subUpTo(headerLength - 20, layer: .tcp)
        options = TCPOptions(parsing: optionBytes)
        if cut {
            options.error = options.error ?? cursor.error(.truncated, "TCP options cut short")
        }
    }
}

/// The TCP options of one segment. Common ones are decoded into fields; every option (known or not) can be
/// walked again with `forEach(in:)` over `range`.
public struct TCPOptions: Sendable, Hashable {
    /// Absolute range of the option bytes present.
    public var range: Range<Int>
    /// Maximum segment size (kind 2, RFC 9293).
    public var maximumSegmentSize: UInt16?
    /// Window scale shift (kind 3, RFC 7323).
    public var windowScale: UInt8?
    /// SACK permitted (kind 4, RFC 2018).
    public var sackPermitted = false
    /// Number of SACK blocks (kind 5, RFC 2018).
    public var sackBlockCount = 0
    /// Timestamps value and echo reply (kind 8, RFC 7323).
    public var timestampValue: UInt32?
    public var timestampEcho: UInt32?
    /// Absolute range of the 16-byte TCP-MD5 signature (kind 19, RFC 2385): BGP sessions with a password.
    public var md5Signature: Range<Int>?
    /// TCP Authentication Option present (kind 29, RFC 5925).
    public var authenticationOption = false
    /// Options of other kinds, counted (their bytes are in `range`).
    public var unknownCount = 0
    /// A malformed option; options before it were decoded.
    public var error: ParseError?

    /// Decodes the options in `window`. A straight loop over a fixed window rather than `forEach`: this
    /// runs for every TCP segment, and most carry only NOP, NOP, timestamps.
    init(parsing window: Cursor) {
        range = window.remainingRange
        var cursor = window
        let count = cursor.remaining
        guard count > 0, let bytes = try? cursor.readHeader(count) else { return }
        // The two layouts Linux sends on nearly every segment, recognised in one comparison each:
        // data segments carry NOP, NOP, TS; SYNs carry MSS, SACK-permitted, TS, NOP, window scale.
        if count == 12, bytes.u32(0) == 0x0101_080A {
            timestampValue = bytes.u32(4)
            timestampEcho = bytes.u32(8)
            return
        }
        if count == 20, bytes.u16(0) == 0x0204, bytes.u32(4) == 0x0402_080A, bytes.u16(16) == 0x0103, bytes.u8(18) == 3 {
            maximumSegmentSize = bytes.u16(2)
            sackPermitted = true
            timestampValue = bytes.u32(8)
            timestampEcho = bytes.u32(12)
            windowScale = bytes.u8(19)
            return
        }
        var index = 0
        while index < count {
            let kind = bytes.u8(index)
            if kind == 0 { break }  // end of option list
            if kind == 1 {  // NOP
                index += 1
                continue
            }
            guard index + 1 < count else {
                error = ParseError(.truncated, at: bytes.origin + index, layer: .tcp, "TCP option length missing")
                return
            }
            let length = Int(bytes.u8(index + 1))
            guard length >= 2 else {
                error = ParseError(.malformed, at: bytes.origin + index, layer: .tcp, "TCP option length below 2")
                return
            }
            guard index + length <= count else {
                error = ParseError(.truncated, at: bytes.origin + index, layer: .tcp, "TCP option past header end")
                return
            }
            let value = index + 2
            switch kind {
            case 2 where length == 4: maximumSegmentSize = bytes.u16(value)
            case 3 where length == 3: windowScale = bytes.u8(value)
            case 4: sackPermitted = true
            case 5: sackBlockCount = (length - 2) / 8
            case 8 where length == 10:
                timestampValue = bytes.u32(value)
                timestampEcho = bytes.u32(value + 4)
            case 19 where length == 18: md5Signature = (bytes.origin + value)..<(bytes.origin + value + 16)
            case 29: authenticationOption = true
            default: unknownCount += 1
            }
            index += length
        }
    }

    /// One option as found on the wire.
    public struct Option {
        public var kind: UInt8
        /// The option's value bytes (after kind and length).
        public var value: Cursor
    }

    /// Walk every option in `cursor`, in order. EOL (kind 0) ends the walk; NOP (1) is reported with an
    /// empty value. Throws on a length below 2 or past the end.
    public static func forEach(
        in cursor: inout Cursor, _ body: (Option) throws(ParseError) -> Void
    ) throws(ParseError) {
        cursor.layer = .tcp
        while !cursor.isEmpty {
            let kind = try cursor.readU8()
            switch kind {
            case 0:
                try body(Option(kind: 0, value: try cursor.sub(0)))
                cursor.skipRest()
                return
            case 1:
                try body(Option(kind: 1, value: try cursor.sub(0)))
            default:
                let length = Int(try cursor.readU8())
                guard length >= 2 else { throw cursor.error(.malformed, "TCP option length below 2") }
                try body(Option(kind: kind, value: try cursor.sub(length - 2)))
            }
        }
    }

    public static func name(ofKind kind: UInt8) -> String {
        switch kind {
        case 0: "eol"
        case 1: "nop"
        case 2: "mss"
        case 3: "wscale"
        case 4: "sackOK"
        case 5: "sack"
        case 8: "TS"
        case 19: "md5"
        case 28: "user-timeout"
        case 29: "tcp-ao"
        case 30: "mptcp"
        case 34: "tfo"
        default: "opt-\(kind)"
        }
    }
}
