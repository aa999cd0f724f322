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
        sourcePort = try cursor.readU16()
        destinationPort = try cursor.readU16()
        sequence = try cursor.readU32()
        acknowledgment = try cursor.readU32()
        let offsetAndFlags = try cursor.readU16()
        headerLength = Int(offsetAndFlags >> 12) * 4
        flags = TCPFlags(rawValue: offsetAndFlags & 0x01FF)
        window = try cursor.readU16()
        checksum = try cursor.readU16()
        urgentPointer = try cursor.readU16()
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

    init(parsing window: Cursor) {
        range = window.remainingRange
        var cursor = window
        do throws(ParseError) {
            try Self.forEach(in: &cursor) { (option: Option) throws(ParseError) in
                var value = option.value
                switch option.kind {
                case 2 where value.remaining == 2: maximumSegmentSize = try value.readU16()
                case 3 where value.remaining == 1: windowScale = try value.readU8()
                case 4: sackPermitted = true
                case 5: sackBlockCount = value.remaining / 8
                case 8 where value.remaining == 8:
                    timestampValue = try value.readU32()
                    timestampEcho = try value.readU32()
                case 19 where value.remaining == 16: md5Signature = value.remainingRange
                case 29: authenticationOption = true
                case 0, 1: break
                default: unknownCount += 1
                }
            }
        } catch {
            self.error = error
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
