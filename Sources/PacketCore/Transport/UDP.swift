/// A UDP header (RFC 768).
///
/// ```
/// | Source Port (2) | Destination Port (2) | Length (2) | Checksum (2) | data ... |
/// ```
public struct UDPHeader: Sendable, Hashable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus data, as the header claims.
    public var length: Int
    public var checksum: UInt16

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .udp
        guard cursor.remaining >= 8 else { throw cursor.error(.truncated, "UDP header needs 8 bytes") }
        let fixed = try cursor.readHeader(8)
        sourcePort = fixed.u16(0)
        destinationPort = fixed.u16(2)
        length = Int(fixed.u16(4))
        checksum = fixed.u16(6)
    }
}
