/// An ICMP (v4) message header (RFC 792): type, code, checksum; the body is left in `body`.
///
/// ```
/// | Type (1) | Code (1) | Checksum (2) | rest of header (4) | data ... |
/// ```
public struct ICMPv4Header: Sendable, Hashable {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    /// Absolute range of everything after the 4-byte type/code/checksum.
    public var body: Range<Int>

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .icmpv4
        guard cursor.remaining >= 4 else { throw cursor.error(.truncated, "ICMP header needs 4 bytes") }
        type = try cursor.readU8()
        code = try cursor.readU8()
        checksum = try cursor.readU16()
        body = cursor.remainingRange
        cursor.skipRest()
    }

    public var name: String {
        switch type {
        case 0: "echo reply"
        case 3: "unreachable"
        case 5: "redirect"
        case 8: "echo request"
        case 11: "time exceeded"
        case 12: "parameter problem"
        default: "icmp-type-\(type)"
        }
    }
}
