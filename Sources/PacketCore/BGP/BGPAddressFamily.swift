/// Address Family Identifier (IANA "Address Family Numbers"; RFC 4760 section 3). Open: unknown values are
/// kept and shown as numbers.
public struct BGPAFI: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = BGPAFI(rawValue: 1)
    public static let ipv6 = BGPAFI(rawValue: 2)
    public static let l2vpn = BGPAFI(rawValue: 25)
    public static let linkState = BGPAFI(rawValue: 16388)

    static let names: [UInt16: String] = [1: "ipv4", 2: "ipv6", 25: "l2vpn", 16388: "bgp-ls"]

    public var description: String { Self.names[rawValue] ?? "afi\(rawValue)" }
    public static func < (lhs: BGPAFI, rhs: BGPAFI) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Subsequent Address Family Identifier (IANA "SAFI Values"). Open.
public struct BGPSAFI: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unicast = BGPSAFI(rawValue: 1)
    public static let multicast = BGPSAFI(rawValue: 2)
    public static let labeledUnicast = BGPSAFI(rawValue: 4)
    public static let multicastVPN = BGPSAFI(rawValue: 5)
    public static let evpn = BGPSAFI(rawValue: 70)
    public static let vpnUnicast = BGPSAFI(rawValue: 128)
    public static let vpnMulticast = BGPSAFI(rawValue: 129)
    public static let routeTargetConstraint = BGPSAFI(rawValue: 132)
    public static let flowspec = BGPSAFI(rawValue: 133)
    public static let flowspecVPN = BGPSAFI(rawValue: 134)

    static let names: [UInt8: String] = [
        1: "unicast", 2: "multicast", 4: "labeled-unicast", 5: "mvpn", 7: "encapsulation", 70: "evpn",
        71: "bgp-ls", 73: "sr-te", 128: "vpn-unicast", 129: "vpn-multicast", 132: "rt-constraint",
        133: "flowspec", 134: "flowspec-vpn",
    ]

    public var description: String { Self.names[rawValue] ?? "safi\(rawValue)" }
    public static func < (lhs: BGPSAFI, rhs: BGPSAFI) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An AFI/SAFI pair: the unit capabilities, End-of-RIB, ADD-PATH and the RIB are kept per.
public struct BGPAddressFamily: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var afi: BGPAFI
    public var safi: BGPSAFI

    public init(afi: BGPAFI, safi: BGPSAFI) {
        self.afi = afi
        self.safi = safi
    }

    public init(afi: UInt16, safi: UInt8) {
        self.init(afi: BGPAFI(rawValue: afi), safi: BGPSAFI(rawValue: safi))
    }

    public static let ipv4Unicast = BGPAddressFamily(afi: .ipv4, safi: .unicast)
    public static let ipv6Unicast = BGPAddressFamily(afi: .ipv6, safi: .unicast)
    public static let ipv4Multicast = BGPAddressFamily(afi: .ipv4, safi: .multicast)
    public static let ipv6Multicast = BGPAddressFamily(afi: .ipv6, safi: .multicast)

    /// Whether NLRI of this family are plain IP prefixes after optional labels and route distinguisher,
    /// which is what the prefix decoder understands (RFC 4271, 4760, 8277, 4364).
    public var carriesIPPrefixes: Bool {
        (afi == .ipv4 || afi == .ipv6)
            && (safi == .unicast || safi == .multicast || safi == .labeledUnicast || safi == .vpnUnicast
                || safi == .vpnMulticast)
    }

    /// `ipv4-unicast`, `ipv6-vpn-unicast`, `afi25-evpn`.
    public var description: String { "\(afi)-\(safi)" }

    public static func < (lhs: BGPAddressFamily, rhs: BGPAddressFamily) -> Bool {
        (lhs.afi.rawValue, lhs.safi.rawValue) < (rhs.afi.rawValue, rhs.safi.rawValue)
    }
}
