/// Path attribute type code (RFC 4271 section 5; IANA "BGP Path Attributes"). Open.
public struct BGPAttributeType: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let origin = BGPAttributeType(rawValue: 1)
    public static let asPath = BGPAttributeType(rawValue: 2)
    public static let nextHop = BGPAttributeType(rawValue: 3)
    public static let multiExitDisc = BGPAttributeType(rawValue: 4)
    public static let localPref = BGPAttributeType(rawValue: 5)
    public static let atomicAggregate = BGPAttributeType(rawValue: 6)
    public static let aggregator = BGPAttributeType(rawValue: 7)
    public static let communities = BGPAttributeType(rawValue: 8)
    public static let originatorID = BGPAttributeType(rawValue: 9)
    public static let clusterList = BGPAttributeType(rawValue: 10)
    public static let mpReachNLRI = BGPAttributeType(rawValue: 14)
    public static let mpUnreachNLRI = BGPAttributeType(rawValue: 15)
    public static let extendedCommunities = BGPAttributeType(rawValue: 16)
    public static let as4Path = BGPAttributeType(rawValue: 17)
    public static let as4Aggregator = BGPAttributeType(rawValue: 18)
    public static let pmsiTunnel = BGPAttributeType(rawValue: 22)
    public static let tunnelEncapsulation = BGPAttributeType(rawValue: 23)
    public static let ipv6ExtendedCommunities = BGPAttributeType(rawValue: 25)
    public static let aigp = BGPAttributeType(rawValue: 26)
    public static let largeCommunity = BGPAttributeType(rawValue: 32)
    public static let bgpsecPath = BGPAttributeType(rawValue: 33)
    public static let onlyToCustomer = BGPAttributeType(rawValue: 35)
    public static let attributeSet = BGPAttributeType(rawValue: 128)

    static let names: [UInt8: String] = [
        1: "ORIGIN", 2: "AS_PATH", 3: "NEXT_HOP", 4: "MULTI_EXIT_DISC", 5: "LOCAL_PREF", 6: "ATOMIC_AGGREGATE",
        7: "AGGREGATOR", 8: "COMMUNITIES", 9: "ORIGINATOR_ID", 10: "CLUSTER_LIST", 14: "MP_REACH_NLRI",
        15: "MP_UNREACH_NLRI", 16: "EXTENDED_COMMUNITIES", 17: "AS4_PATH", 18: "AS4_AGGREGATOR",
        22: "PMSI_TUNNEL", 23: "TUNNEL_ENCAPSULATION", 25: "IPV6_EXTENDED_COMMUNITIES", 26: "AIGP",
        29: "BGP-LS", 32: "LARGE_COMMUNITY", 33: "BGPSEC_PATH", 35: "OTC", 40: "PREFIX_SID",
        128: "ATTR_SET",
    ]

    public var description: String { Self.names[rawValue] ?? "ATTR_\(rawValue)" }
    public static func < (lhs: BGPAttributeType, rhs: BGPAttributeType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// What RFC 7606 section 7 says to do when this attribute is malformed.
    public var malformedOutcome: BGPErrorOutcome {
        switch rawValue {
        case 6, 7, 18: .attributeDiscard  // ATOMIC_AGGREGATE, AGGREGATOR, AS4_AGGREGATOR (sections 7.6, 7.7, RFC 6793)
        case 14, 15: .sessionReset  // MP_REACH/MP_UNREACH: the NLRI cannot be located (section 7.11, 3 (j))
        case 17: .attributeDiscard  // AS4_PATH (RFC 6793 section 6)
        case 1, 2, 3, 4, 5, 8, 9, 10, 16, 26, 32, 35: .treatAsWithdraw
        default: .attributeDiscard  // unrecognised optional attributes: no harm in dropping them
        }
    }
}

/// RFC 7606 section 2: how a receiver handles a malformed UPDATE.
public enum BGPErrorOutcome: String, Sendable, Hashable {
    /// The UPDATE's NLRI are treated as withdrawn.
    case treatAsWithdraw = "treat-as-withdraw"
    /// The attribute is dropped, the UPDATE is otherwise used.
    case attributeDiscard = "attribute-discard"
    /// The session (or the AFI/SAFI) is reset: the UPDATE cannot be parsed reliably.
    case sessionReset = "session-reset"
}

/// Attribute flags (RFC 4271 section 4.3).
public struct BGPAttributeFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let optional = BGPAttributeFlags(rawValue: 0x80)
    public static let transitive = BGPAttributeFlags(rawValue: 0x40)
    public static let partial = BGPAttributeFlags(rawValue: 0x20)
    public static let extendedLength = BGPAttributeFlags(rawValue: 0x10)

    /// `OTPE` letters, `-` for a clear bit (tcpdump's style).
    public var description: String {
        (contains(.optional) ? "O" : "-") + (contains(.transitive) ? "T" : "-") + (contains(.partial) ? "P" : "-")
            + (contains(.extendedLength) ? "E" : "-")
    }
}

/// One path attribute as a range into the message: decoded further only when asked.
///
/// ```
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Attr. Flags  |Attr. Type Code|  Attr. Length (1 octet, or 2 with the Extended Length flag)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct BGPPathAttribute: Sendable, Hashable {
    public var flags: BGPAttributeFlags
    public var type: BGPAttributeType
    /// Absolute offset of the flags byte.
    public var offset: Int
    /// The value bytes, absolute.
    public var value: Range<Int>

    @inlinable
    public init(flags: BGPAttributeFlags, type: BGPAttributeType, offset: Int, value: Range<Int>) {
        self.flags = flags
        self.type = type
        self.offset = offset
        self.value = value
    }
}

/// Walks the path attributes field of an UPDATE (or of an MRT RIB entry) one attribute at a time.
public struct BGPAttributeIterator {
    public var cursor: Cursor

    public init(_ cursor: Cursor) {
        self.cursor = cursor
        self.cursor.layer = .bgp
    }

    /// The next attribute, nil at the end. Throws when an attribute header or length overruns the field
    /// (RFC 7606 section 4: treat-as-withdraw, since the rest of the field can no longer be trusted).
    @inlinable
    public mutating func next() throws(ParseError) -> BGPPathAttribute? {
        guard !cursor.isEmpty else { return nil }
        let offset = cursor.offset
        let flags = BGPAttributeFlags(rawValue: try cursor.readU8())
        let type = BGPAttributeType(rawValue: try cursor.readU8())
        let length = flags.contains(.extendedLength) ? Int(try cursor.readU16()) : Int(try cursor.readU8())
        guard length <= cursor.remaining else {
            throw ParseError(.malformed, at: offset, layer: .bgp, "attribute length overruns the attributes field")
        }
        let value = try cursor.readRange(length)
        return BGPPathAttribute(flags: BGPAttributeFlags(rawValue: flags.rawValue & 0xF0), type: type, offset: offset, value: value)
    }
}
