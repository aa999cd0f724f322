/// Address Family Identifier (IANA "Address Family Numbers"; RFC 4760 section 3). Open: unknown values are
/// kept and shown as numbers.
public struct BGPAFI: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var ipv4: BGPAFI { BGPAFI(rawValue: 1) }
    @inlinable public static var ipv6: BGPAFI { BGPAFI(rawValue: 2) }
    @inlinable public static var l2vpn: BGPAFI { BGPAFI(rawValue: 25) }
    @inlinable public static var linkState: BGPAFI { BGPAFI(rawValue: 16388) }

    static let names: [UInt16: String] = [1: "ipv4", 2: "ipv6", 25: "l2vpn", 16388: "bgp-ls"]

    public var description: String { Self.names[rawValue] ?? "afi\(rawValue)" }
    public static func < (lhs: BGPAFI, rhs: BGPAFI) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Subsequent Address Family Identifier (IANA "SAFI Values"). Open.
public struct BGPSAFI: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    @inlinable public static var unicast: BGPSAFI { BGPSAFI(rawValue: 1) }
    @inlinable public static var multicast: BGPSAFI { BGPSAFI(rawValue: 2) }
    @inlinable public static var labeledUnicast: BGPSAFI { BGPSAFI(rawValue: 4) }
    @inlinable public static var multicastVPN: BGPSAFI { BGPSAFI(rawValue: 5) }
    @inlinable public static var evpn: BGPSAFI { BGPSAFI(rawValue: 70) }
    @inlinable public static var vpnUnicast: BGPSAFI { BGPSAFI(rawValue: 128) }
    @inlinable public static var vpnMulticast: BGPSAFI { BGPSAFI(rawValue: 129) }
    @inlinable public static var routeTargetConstraint: BGPSAFI { BGPSAFI(rawValue: 132) }
    @inlinable public static var flowspec: BGPSAFI { BGPSAFI(rawValue: 133) }
    @inlinable public static var flowspecVPN: BGPSAFI { BGPSAFI(rawValue: 134) }

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

    @inlinable public init(afi: BGPAFI, safi: BGPSAFI) {
        self.afi = afi
        self.safi = safi
    }

    @inlinable public init(afi: UInt16, safi: UInt8) {
        self.init(afi: BGPAFI(rawValue: afi), safi: BGPSAFI(rawValue: safi))
    }

    @inlinable public static var ipv4Unicast: BGPAddressFamily { BGPAddressFamily(afi: .ipv4, safi: .unicast) }
    @inlinable public static var ipv6Unicast: BGPAddressFamily { BGPAddressFamily(afi: .ipv6, safi: .unicast) }
    @inlinable public static var ipv4Multicast: BGPAddressFamily { BGPAddressFamily(afi: .ipv4, safi: .multicast) }
    @inlinable public static var ipv6Multicast: BGPAddressFamily { BGPAddressFamily(afi: .ipv6, safi: .multicast) }

    /// Whether NLRI of this family are plain IP prefixes after optional labels and route distinguisher,
    /// which is what the prefix decoder understands (RFC 4271, 4760, 8277, 4364).
    @inlinable public var carriesIPPrefixes: Bool {
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
