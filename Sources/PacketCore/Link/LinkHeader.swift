/// The link-layer header of a frame, whatever the capture's link type, reduced to what the upper layers
/// and the tools need: MAC addresses when the link has them, VLAN tags, and the protocol that follows.
public struct LinkHeader: Sendable, Hashable {
    /// Source MAC (Ethernet), or the link-layer address a Linux cooked header recorded when it is 6 bytes.
    public var source: MACAddress?
    /// Destination MAC; only Ethernet frames carry one (cooked captures do not).
    public var destination: MACAddress?
    /// VLAN tags, outermost first.
    public var vlans = VLANStack()
    /// The protocol of the next header (ARP, IPv4, IPv6, ...). For raw-IP links it is derived from the IP
    /// version nibble; nil when the link header does not say (802.3 length field, unknown family).
    public var etherType: EtherType?
    /// For Linux cooked captures: the direction/kind the kernel recorded.
    public var cookedPacketType: CookedPacketType?
    /// For Linux cooked v2 captures: the interface index the packet was seen on.
    public var interfaceIndex: UInt32?
    /// Bytes of link header, including VLAN tags.
    public var length: Int = 0

    public init() {}

    /// Back to the empty state, field by field (cheaper than assigning a new value on the per-frame path).
    @inline(__always)
    mutating func reset() {
        source = nil
        destination = nil
        vlans = VLANStack()
        etherType = nil
        cookedPacketType = nil
        interfaceIndex = nil
        length = 0
    }

    /// Decode the link header for `linkType`; on return `cursor` is at the first byte of the next header.
    ///
    /// Truncation inside the link header throws `.truncated`; an unknown link type throws `.unsupported`.
    public init(parsing cursor: inout Cursor, linkType: LinkType) throws(ParseError) {
        self.init()
        try parse(&cursor, linkType: linkType)
    }

    /// Decode into this value (which must be freshly initialised): the in-place form of
    /// `init(parsing:linkType:)`, so the packet decoder does not copy the header per frame.
    mutating func parse(_ cursor: inout Cursor, linkType: LinkType) throws(ParseError) {
        cursor.layer = .link
        let start = cursor.offset
        switch linkType {
        case .ethernet:
            try parseEthernet(&cursor)
        case .linuxSLL:
            try parseSLL(&cursor)
        case .linuxSLL2:
            try parseSLL2(&cursor)
        case .raw, .rawAlt12, .rawAlt14:
            guard let first = cursor.peekU8() else { throw cursor.error(.truncated, "raw IP frame is empty") }
            etherType = Self.etherTypeFromIPVersion(first)
        case .ipv4:
            etherType = .ipv4
        case .ipv6:
            etherType = .ipv6
        case .null:
            try parseNull(&cursor, networkOrder: false)
        case .loop:
            try parseNull(&cursor, networkOrder: true)
        default:
            throw cursor.error(.unsupported, "unsupported link type")
        }
        length = cursor.offset - start
    }

    /// Ethernet II (IEEE 802.3 clause 3.1.1), with any number of VLAN tags:
    /// ```
    /// | destination MAC (6) | source MAC (6) | [TPID (2) TCI (2)]* | EtherType or length (2) | payload |
    /// ```
    private mutating func parseEthernet(_ cursor: inout Cursor) throws(ParseError) {
        guard cursor.remaining >= 14 else { throw cursor.error(.truncated, "Ethernet header needs 14 bytes") }
        let header = try cursor.readHeader(14)
        destination = header.mac(0)
        source = header.mac(6)
        let type = EtherType(rawValue: header.u16(12))
        if type.isVLANTag {
            try parseTags(&cursor, first: type)
        } else {
            // Values up to 1500 are an 802.3 length, not a type (LLC/SNAP follows): nothing we decode.
            etherType = type.rawValue >= 0x0600 ? type : nil
        }
    }

    /// Reads VLAN tags while the type is a VLAN TPID, then the type that follows them.
    private mutating func parseTags(_ cursor: inout Cursor, first: EtherType) throws(ParseError) {
        var type = first
        while type.isVLANTag {
            cursor.layer = .vlan
            guard cursor.remaining >= 4 else { throw cursor.error(.truncated, "VLAN tag needs 4 bytes") }
            vlans.append(tpid: type, tci: try cursor.readU16())
            type = EtherType(rawValue: try cursor.readU16())
        }
        cursor.layer = .link
        // Values up to 1500 are an 802.3 length, not a type (LLC/SNAP follows): nothing we decode.
        etherType = type.rawValue >= 0x0600 ? type : nil
    }

    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL), https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
    /// ```
    /// | packet type (2) | ARPHRD type (2) | address length (2) | address (8, padded) | protocol (2) |
    /// ```
    private mutating func parseSLL(_ cursor: inout Cursor) throws(ParseError) {
        guard cursor.remaining >= 16 else { throw cursor.error(.truncated, "SLL header needs 16 bytes") }
        cookedPacketType = CookedPacketType(rawValue: try cursor.readU16())
        let hardwareType = try cursor.readU16()
        let addressLength = try cursor.readU16()
        source = try Self.cookedAddress(&cursor, hardwareType: hardwareType, length: Int(addressLength))
        try parseCookedProtocol(&cursor, hardwareType: hardwareType)
    }

    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2), https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
    /// ```
    /// | protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) | packet type (1) |
    /// | address length (1) | address (8, padded) |
    /// ```
    private mutating func parseSLL2(_ cursor: inout Cursor) throws(ParseError) {
        guard cursor.remaining >= 20 else { throw cursor.error(.truncated, "SLL2 header needs 20 bytes") }
        let protocolType = try cursor.readU16()
        try cursor.skip(2)
        interfaceIndex = try cursor.readU32()
        let hardwareType = try cursor.readU16()
        cookedPacketType = CookedPacketType(rawValue: UInt16(try cursor.readU8()))
        let addressLength = try cursor.readU8()
        source = try Self.cookedAddress(&cursor, hardwareType: hardwareType, length: Int(addressLength))
        try classifyCookedProtocol(&cursor, protocolType: protocolType, hardwareType: hardwareType)
    }

    private mutating func parseCookedProtocol(_ cursor: inout Cursor, hardwareType: UInt16) throws(ParseError) {
        let protocolType = try cursor.readU16()
        try classifyCookedProtocol(&cursor, protocolType: protocolType, hardwareType: hardwareType)
    }

    private mutating func classifyCookedProtocol(
        _ cursor: inout Cursor, protocolType: UInt16, hardwareType: UInt16
    ) throws(ParseError) {
        // ARPHRD_NETLINK (824) carries netlink messages, not Ethernet types.
        guard hardwareType != 824 else {
            etherType = nil
            return
        }
        // libpcap re-inserts stripped VLAN tags after the cooked header.
        try parseTags(&cursor, first: EtherType(rawValue: protocolType))
    }

    /// The 8-byte address slot of a cooked header; a MAC when it holds 6 bytes of an Ethernet-like device.
    private static func cookedAddress(
        _ cursor: inout Cursor, hardwareType: UInt16, length: Int
    ) throws(ParseError) -> MACAddress? {
        var slot = try cursor.sub(8)
        // ARPHRD_ETHER (1), ARPHRD_LOOPBACK (772) and ARPHRD_IEEE80211 (801) carry 6-byte MACs.
        guard length == 6, hardwareType == 1 || hardwareType == 772 || hardwareType == 801 else { return nil }
        return try slot.readMAC()
    }

    /// BSD loopback: a 4-byte address family, in the capturing host's byte order (NULL) or network order (LOOP).
    private mutating func parseNull(_ cursor: inout Cursor, networkOrder: Bool) throws(ParseError) {
        guard cursor.remaining >= 4 else { throw cursor.error(.truncated, "loopback header needs 4 bytes") }
        let raw = try cursor.readU32()
        // The writer's byte order is unknown for NULL: a family is a small number, so a value with only the
        // top byte set was written little-endian.
        let family = networkOrder || raw & 0xFFFF_0000 == 0 ? raw : raw.byteSwapped
        switch family {
        case 2: etherType = .ipv4  // AF_INET everywhere
        case 10, 24, 28, 30: etherType = .ipv6  // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
        default: etherType = Self.etherTypeFromIPVersion(cursor.peekU8())
        }
    }

    static func etherTypeFromIPVersion(_ firstByte: UInt8?) -> EtherType? {
        switch firstByte.map({ $0 >> 4 }) {
        case 4: .ipv4
        case 6: .ipv6
        default: nil
        }
    }
}

/// The packet type a Linux cooked header records (`sll_pkttype`).
public struct CookedPacketType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let host = CookedPacketType(rawValue: 0)
    public static let broadcast = CookedPacketType(rawValue: 1)
    public static let multicast = CookedPacketType(rawValue: 2)
    public static let otherHost = CookedPacketType(rawValue: 3)
    public static let outgoing = CookedPacketType(rawValue: 4)

    public var description: String {
        switch self {
        case .host: "In"
        case .broadcast: "B"
        case .multicast: "M"
        case .otherHost: "P"
        case .outgoing: "Out"
        default: "type-\(rawValue)"
        }
    }
}
