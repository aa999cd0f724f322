/// An IPv4 header (RFC 791 section 3.1).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-------+-------+-----------+---+-------------------------------+
/// |Version|  IHL  |   DSCP    |ECN|          Total Length         |
/// +-------+-------+-----------+---+-----+-------------------------+
/// |         Identification        |Flags|     Fragment Offset     |
/// +---------------+---------------+-----+-------------------------+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +---------------+---------------+-------------------------------+
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// |                    Options (IHL > 5)                          |
/// +---------------------------------------------------------------+
/// ```
public struct IPv4Header: Sendable, Hashable {
    public var headerLength: Int
    public var dscp: UInt8
    public var ecn: UInt8
    public var totalLength: Int
    public var identification: UInt16
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// Fragment offset in bytes.
    public var fragmentOffset: Int
    public var ttl: UInt8
    public var protocolNumber: IPProtocol
    public var checksum: UInt16
    public var source: IPv4Address
    public var destination: IPv4Address
    /// Absolute range of the options bytes (empty when IHL is 5).
    public var options: Range<Int>

    /// Part of a fragmented datagram (more fragments follow, or this is not the first).
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
    /// Only the first fragment carries the transport header.
    public var isFirstFragment: Bool { fragmentOffset == 0 }

    /// Decode the header; `cursor` ends at the first payload byte. The caller limits the payload to
    /// `totalLength` (trimming Ethernet padding).
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .ipv4
        guard cursor.remaining >= 20 else { throw cursor.error(.truncated, "IPv4 header needs 20 bytes") }
        let fixed = try cursor.readHeader(20)
        let versionAndLength = fixed.u8(0)
        guard versionAndLength >> 4 == 4 else {
            throw ParseError(.malformed, at: fixed.origin, layer: .ipv4, "IP version is not 4")
        }
        headerLength = Int(versionAndLength & 0x0F) * 4
        guard headerLength >= 20 else {
            throw ParseError(.malformed, at: fixed.origin, layer: .ipv4, "IPv4 header length below 20")
        }
        let tos = fixed.u8(1)
        dscp = tos >> 2
        ecn = tos & 0x3
        totalLength = Int(fixed.u16(2))
        identification = fixed.u16(4)
        let flagsAndOffset = fixed.u16(6)
        dontFragment = flagsAndOffset & 0x4000 != 0
        moreFragments = flagsAndOffset & 0x2000 != 0
        fragmentOffset = Int(flagsAndOffset & 0x1FFF) * 8
        ttl = fixed.u8(8)
        protocolNumber = IPProtocol(rawValue: fixed.u8(9))
        checksum = fixed.u16(10)
        source = fixed.ipv4(12)
        destination = fixed.ipv4(16)
        guard totalLength >= headerLength else {
            throw ParseError(.malformed, at: fixed.origin + 2, layer: .ipv4, "IPv4 total length below header")
        }
        options = try cursor.readRange(headerLength - 20)
    }
}

/// One IPv4 option (RFC 791 section 3.1, IANA "IP Option Numbers"), kept raw with its name.
public struct IPv4Option: Sendable, Hashable, CustomStringConvertible {
    /// The full option type octet (copied flag, class, number).
    public var type: UInt8
    /// Absolute range of the option's data (after type and length).
    public var data: Range<Int>

    public var name: String? {
        switch type {
        case 0: "EOL"
        case 1: "NOP"
        case 7: "RR"
        case 68: "TS"
        case 130: "SEC"
        case 131: "LSRR"
        case 137: "SSRR"
        case 148: "RA"
        default: nil
        }
    }

    public var description: String { name ?? "opt-\(type)" }

    /// Walk the options in `cursor` (a window over `IPv4Header.options`), calling `body` for each one.
    /// A malformed option (length below 2 or past the end) throws; EOL ends the walk.
    public static func forEach(
        in cursor: inout Cursor, _ body: (IPv4Option) -> Void
    ) throws(ParseError) {
        cursor.layer = .ipv4
        while !cursor.isEmpty {
            let type = try cursor.readU8()
            if type == 0 {
                body(IPv4Option(type: 0, data: cursor.offset..<cursor.offset))
                return
            }
            if type == 1 {
                body(IPv4Option(type: 1, data: cursor.offset..<cursor.offset))
                continue
            }
            let length = Int(try cursor.readU8())
            guard length >= 2 else { throw cursor.error(.malformed, "IPv4 option length below 2") }
            body(IPv4Option(type: type, data: try cursor.readRange(length - 2)))
        }
    }
}
