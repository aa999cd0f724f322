import PacketCore

/// One rtnetlink attribute (`struct rtattr`, linux/rtnetlink.h; RFC 3549 section 2.3.3.1): a type-length-value in
/// host byte order, the length counting the 4-byte header but not the padding to the next 4-byte boundary.
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |        Length (4 + value)     |             Type              |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |               value (Length - 4 bytes), then padding           |
///
/// The top two type bits are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER), not part of the type.
struct RouteAttribute {
    var type: UInt16
    /// A window over exactly the value.
    var value: Cursor

    /// The next attribute of `cursor`, or nil when none is left. Trailing bytes too short for an attribute header
    /// are ignored, as the kernel's own nla_for_each_attr does.
    static func next(_ cursor: inout Cursor) throws(ParseError) -> RouteAttribute? {
        guard cursor.remaining >= 4 else {
            cursor.skipRest()
            return nil
        }
        let start = cursor
        let length = Int(try cursor.readU16LE())
        let type = try cursor.readU16LE() & 0x3FFF
        if length < 4 {
            cursor = start
            throw cursor.error(.malformed, "rtnetlink attribute length shorter than its header")
        }
        let value = try cursor.sub(length - 4)
        try cursor.skip(min(NetlinkMessageHeader.padding(length), cursor.remaining))
        return RouteAttribute(type: type, value: value)
    }
}
