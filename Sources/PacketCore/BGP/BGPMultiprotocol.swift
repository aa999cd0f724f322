/// MP_REACH_NLRI (RFC 4760 section 3; RFC 8950 IPv4 NLRI with an IPv6 next hop; RFC 2545 IPv6 global +
/// link-local next hop).
///
/// ```
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// | Subsequent Address Family Identifier (1 octet)          |
/// | Length of Next Hop Network Address (1 octet)            |
/// | Network Address of Next Hop (variable)                  |
/// | Reserved (1 octet)                                      |
/// | Network Layer Reachability Information (variable)       |
/// +---------------------------------------------------------+
/// ```
public struct BGPMPReach: Sendable, Hashable {
    public var family: BGPAddressFamily
    public var nextHop: BGPNextHop
    /// The NLRI bytes, absolute: walk them with `BGPNLRIIterator`.
    public var nlri: Range<Int>

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        let afi = try cursor.readU16()
        let safi = try cursor.readU8()
        family = BGPAddressFamily(afi: afi, safi: safi)
        let nextHopLength = Int(try cursor.readU8())
        var nextHopBytes = try cursor.sub(nextHopLength)
        nextHop = BGPNextHop(parsing: &nextHopBytes, family: family)
        try cursor.skip(1)  // reserved (formerly SNPA count)
        nlri = cursor.remainingRange
        cursor.skipRest()
    }

    /// The abbreviated form inside MRT TABLE_DUMP_V2 RIB entries (RFC 6396 section 4.3.4): only the next
    /// hop length and next hop; the family comes from the RIB entry.
    public init(parsingAbbreviated cursor: inout Cursor, family: BGPAddressFamily) throws(ParseError) {
        // Some writers put the full form here anyway: the entry's own AFI/SAFI in front tells them apart.
        if cursor.remaining >= 4, cursor.peekU16() == family.afi.rawValue, cursor.peekU8(ahead: 2) == family.safi.rawValue {
            try self.init(parsing: &cursor)
            return
        }
        let nextHopLength = Int(try cursor.readU8())
        var nextHopBytes = try cursor.sub(nextHopLength)
        self.init(family: family, nextHop: BGPNextHop(parsing: &nextHopBytes, family: family),
            nlri: cursor.offset..<cursor.offset)
        cursor.skipRest()
    }

    public init(family: BGPAddressFamily, nextHop: BGPNextHop, nlri: Range<Int>) {
        self.family = family
        self.nextHop = nextHop
        self.nlri = nlri
    }
}

/// MP_UNREACH_NLRI (RFC 4760 section 4): AFI (2), SAFI (1), withdrawn routes (variable). Empty withdrawn
/// routes make it an End-of-RIB marker for the family (RFC 4724 section 2).
public struct BGPMPUnreach: Sendable, Hashable {
    public var family: BGPAddressFamily
    public var withdrawn: Range<Int>

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        let afi = try cursor.readU16()
        let safi = try cursor.readU8()
        family = BGPAddressFamily(afi: afi, safi: safi)
        withdrawn = cursor.remainingRange
        cursor.skipRest()
    }
}

/// A next hop: IPv4, IPv6 global with an optional link-local (RFC 2545 section 3), for VPN families the
/// 8-byte zero route distinguisher in front is skipped (RFC 4364 section 4.3.2); anything else is raw.
public struct BGPNextHop: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress?
    public var linkLocal: IPv6Address?
    /// The next hop's bytes when they are not one of the shapes above.
    public var rawLength: Int

    public init(address: IPAddress?, linkLocal: IPv6Address? = nil) {
        self.address = address
        self.linkLocal = linkLocal
        rawLength = 0
    }

    public init(parsing cursor: inout Cursor, family: BGPAddressFamily) {
        address = nil
        linkLocal = nil
        rawLength = cursor.remaining
        let vpn = family.safi == .vpnUnicast || family.safi == .vpnMulticast
        if vpn, cursor.remaining == 12 || cursor.remaining == 24 || cursor.remaining == 48 {
            _ = try? cursor.skip(8)
        }
        do throws(ParseError) {
            switch cursor.remaining {
            case 4:
                address = .v4(try cursor.readIPv4())
            case 16:
                address = .v6(try cursor.readIPv6())
            case 32, 40:  // 40: VPN form whose second half carries its own route distinguisher
                address = .v6(try cursor.readIPv6())
                if cursor.remaining == 24 { try cursor.skip(8) }
                linkLocal = try cursor.readIPv6()
            default:
                return
            }
            rawLength = 0
        } catch {
            address = nil
        }
    }

    /// `fd99:4::1 fe80::1`, or `(N bytes)` for a next hop of unknown shape.
    public var description: String {
        guard let address else { return "(\(rawLength) bytes)" }
        if let linkLocal { return "\(address) \(linkLocal)" }
        return address.description
    }
}
