import PacketCore

/// The header in front of every netlink message (`struct nlmsghdr`, linux/netlink.h; RFC 3549 section 2.3.2).
///
/// Netlink is a host-to-kernel protocol, so its integers are in the host's byte order, not network order: they are
/// read little-endian here, which is the byte order of every platform this toolkit builds for (x86_64, aarch64).
/// Addresses inside the messages stay in network order, as on the wire.
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                  Length (header + payload)                    |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |             Type              |             Flags             |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                       Sequence Number                         |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                    Process ID (port ID)                       |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     | payload (Length - 16 bytes), then padding to a 4-byte boundary |
///
/// A datagram holds several messages back to back, each starting on a 4-byte boundary (NLMSG_ALIGN).
struct NetlinkMessageHeader {
    static let size = 16

    /// NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE; rtnetlink types (RTM_*) start at 16.
    static let noop: UInt16 = 1
    static let error: UInt16 = 2
    static let done: UInt16 = 3

    /// NLM_F_DUMP_INTR: the table changed while the kernel was dumping it, so the dump may be inconsistent.
    static let dumpInterrupted: UInt16 = 0x10

    var length: Int
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var portID: UInt32

    /// Read one header; the cursor is left at the start of the payload.
    init(parsing cursor: inout Cursor) throws(ParseError) {
        let start = cursor
        length = Int(try cursor.readU32LE())
        type = try cursor.readU16LE()
        flags = try cursor.readU16LE()
        sequence = try cursor.readU32LE()
        portID = try cursor.readU32LE()
        if length < Self.size {
            cursor = start
            throw cursor.error(.malformed, "netlink message length shorter than its header")
        }
    }

    /// Split `datagram` into messages: `body` gets each header and a cursor over exactly its payload.
    static func forEachMessage(
        in datagram: inout Cursor, _ body: (NetlinkMessageHeader, inout Cursor) throws(ParseError) -> Void
    ) throws(ParseError) {
        while datagram.remaining >= size {
            let header = try NetlinkMessageHeader(parsing: &datagram)
            var payload = try datagram.sub(header.length - size)
            try body(header, &payload)
            try datagram.skip(min(padding(header.length), datagram.remaining))
        }
    }

    /// Bytes from the end of a `length`-byte structure to the next 4-byte boundary (NLMSG_ALIGN, RTA_ALIGN).
    static func padding(_ length: Int) -> Int { (4 - length % 4) % 4 }
}
