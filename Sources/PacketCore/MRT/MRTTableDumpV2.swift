/// TABLE_DUMP_V2 subtypes (RFC 6396 section 4.3; RFC 8050 ADD-PATH variants). Open.
public struct MRTTableDumpV2Subtype: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var peerIndexTable: MRTTableDumpV2Subtype { MRTTableDumpV2Subtype(rawValue: 1) }
    @inlinable public static var ribIPv4Unicast: MRTTableDumpV2Subtype { MRTTableDumpV2Subtype(rawValue: 2) }
    @inlinable public static var ribIPv4Multicast: MRTTableDumpV2Subtype { MRTTableDumpV2Subtype(rawValue: 3) }
    @inlinable public static var ribIPv6Unicast: MRTTableDumpV2Subtype { MRTTableDumpV2Subtype(rawValue: 4) }
    @inlinable public static var ribIPv6Multicast: MRTTableDumpV2Subtype { MRTTableDumpV2Subtype(rawValue: 5) }
    @inlinable public static var ribGeneric: MRTTableDumpV2Subtype { MRTTableDumpV2Subtype(rawValue: 6) }

    /// The family of an AFI/SAFI-specific RIB subtype (nil for RIB_GENERIC and the peer index table).
    public var family: BGPAddressFamily? {
        switch rawValue {
        case 2, 8: .ipv4Unicast
        case 3, 9: .ipv4Multicast
        case 4, 10: .ipv6Unicast
        case 5, 11: .ipv6Multicast
        default: nil
        }
    }

    public var isAddPath: Bool { (8...12).contains(rawValue) }
    public var isGeneric: Bool { rawValue == 6 || rawValue == 12 }

    public var description: String {
        let names: [UInt16: String] = [
            1: "PEER_INDEX_TABLE", 2: "RIB_IPV4_UNICAST", 3: "RIB_IPV4_MULTICAST", 4: "RIB_IPV6_UNICAST",
            5: "RIB_IPV6_MULTICAST", 6: "RIB_GENERIC", 7: "GEO_PEER_TABLE", 8: "RIB_IPV4_UNICAST_ADDPATH",
            9: "RIB_IPV4_MULTICAST_ADDPATH", 10: "RIB_IPV6_UNICAST_ADDPATH", 11: "RIB_IPV6_MULTICAST_ADDPATH",
            12: "RIB_GENERIC_ADDPATH",
        ]
        return names[rawValue] ?? "TABLE_DUMP_V2_\(rawValue)"
    }
}

/// PEER_INDEX_TABLE (RFC 6396 section 4.3.1): the peers RIB entries refer to by index.
///
/// ```
/// | Collector BGP ID (4) | View Name Length (2) | View Name | Peer Count (2) |
/// peer entry: | Peer Type (1: bit 0 IPv6, bit 1 AS4) | Peer BGP ID (4) | Peer IP (4/16) | Peer AS (2/4) |
/// ```
public struct MRTPeerIndexTable: Sendable, Hashable {
    public struct Peer: Sendable, Hashable {
        public var identifier: IPv4Address
        public var address: IPAddress
        public var autonomousSystem: UInt32
    }

    public var collectorID: IPv4Address
    public var viewName: String
    public var peers: [Peer]

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mrt
        collectorID = try cursor.readIPv4()
        let nameLength = Int(try cursor.readU16())
        viewName = try cursor.readString(nameLength)
        let count = Int(try cursor.readU16())
        peers = []
        peers.reserveCapacity(min(count, cursor.remaining / 7))
        for _ in 0..<count {
            let type = try cursor.readU8()
            let identifier = try cursor.readIPv4()
            let address: IPAddress = type & 1 != 0 ? .v6(try cursor.readIPv6()) : .v4(try cursor.readIPv4())
            let asn = type & 2 != 0 ? try cursor.readU32() : UInt32(try cursor.readU16())
            peers.append(Peer(identifier: identifier, address: address, autonomousSystem: asn))
        }
    }
}

/// A RIB record (RFC 6396 sections 4.3.2, 4.3.3; RFC 8050 section 4): one prefix and its entries, one per
/// peer (and per path identifier with ADD-PATH).
///
/// ```
/// AFI/SAFI-specific: | Sequence Number (4) | Prefix Length (1) | Prefix (variable) | Entry Count (2) | entries
/// RIB_GENERIC:       | Sequence Number (4) | AFI (2) | SAFI (1) | NLRI (variable) | Entry Count (2) | entries
/// entry: | Peer Index (2) | Originated Time (4) | [Path Identifier (4), ADD-PATH] | Attribute Length (2) | Attributes |
/// ```
public struct MRTRIBRecord: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var peerIndex: UInt16
        public var originatedTime: UInt32
        public var pathID: UInt32
        /// The path attributes (always 4-byte AS numbers; MP_REACH_NLRI abbreviated to the next hop).
        public var attributes: Range<Int>
    }

    public var sequence: UInt32
    public var family: BGPAddressFamily
    /// The prefix for the IP families; nil for a RIB_GENERIC record of another family (see `nlri`).
    public var prefix: BGPPrefix?
    public var nlri: Range<Int>
    public var entries: [Entry]

    public init(parsing cursor: inout Cursor, subtype: MRTTableDumpV2Subtype) throws(ParseError) {
        cursor.layer = .mrt
        sequence = try cursor.readU32()
        if let family = subtype.family {
            self.family = family
            let start = cursor.offset
            prefix = try BGPPrefix(parsing: &cursor, ipv6: family.afi == .ipv6)
            nlri = start..<cursor.offset
        } else if subtype.isGeneric {
            let afi = try cursor.readU16()
            family = BGPAddressFamily(afi: afi, safi: try cursor.readU8())
            // One NLRI; only IP unicast/multicast ones can be delimited without knowing the family's format.
            let start = cursor.offset
            if family.carriesIPPrefixes, family.safi == .unicast || family.safi == .multicast {
                prefix = try BGPPrefix(parsing: &cursor, ipv6: family.afi == .ipv6)
            } else {
                throw cursor.error(.unsupported, "RIB_GENERIC NLRI of this family are not decoded")
            }
            nlri = start..<cursor.offset
        } else {
            throw cursor.error(.unsupported, "TABLE_DUMP_V2 subtype is not a RIB")
        }
        let count = Int(try cursor.readU16())
        entries = []
        entries.reserveCapacity(min(count, cursor.remaining / 8))
        for _ in 0..<count {
            let peer = try cursor.readU16()
            let originated = try cursor.readU32()
            let pathID = subtype.isAddPath ? try cursor.readU32() : 0
            let length = Int(try cursor.readU16())
            entries.append(Entry(peerIndex: peer, originatedTime: originated, pathID: pathID,
                attributes: try cursor.readRange(length)))
        }
    }
}
