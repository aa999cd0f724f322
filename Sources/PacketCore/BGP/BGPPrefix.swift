/// An IP prefix as BGP carries it, in fixed storage (no arrays): the hot path of a million-route table
/// keeps these as dictionary keys. IPv4 addresses sit in the top 32 bits of `high`, so ordering is numeric.
public struct BGPPrefix: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64
    public let length: UInt8
    public let isIPv6: Bool

    /// Host bits are cleared, so two encodings of one prefix compare equal.
    @inlinable
    public init(high: UInt64, low: UInt64, length: UInt8, isIPv6: Bool) {
        let bits = Int(length)
        self.high = high & (bits >= 64 ? .max : bits == 0 ? 0 : ~(UInt64.max >> UInt64(bits)))
        self.low = low & (bits >= 128 ? .max : bits <= 64 ? 0 : ~(UInt64.max >> UInt64(bits - 64)))
        self.length = length
        self.isIPv6 = isIPv6
    }

    public init(_ address: IPv4Address, length: UInt8) {
        self.init(high: UInt64(address.rawValue) << 32, low: 0, length: min(length, 32), isIPv6: false)
    }

    public init(_ address: IPv6Address, length: UInt8) {
        self.init(high: address.high, low: address.low, length: min(length, 128), isIPv6: true)
    }

    /// From an `IPPrefix` (host bits cleared).
    public init(_ prefix: IPPrefix) {
        switch prefix.address {
        case .v4(let v4): self.init(v4, length: UInt8(prefix.length))
        case .v6(let v6): self.init(v6, length: UInt8(prefix.length))
        }
    }

    public var address: IPAddress {
        isIPv6 ? .v6(IPv6Address(high: high, low: low)) : .v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: high >> 32)))
    }

    public var ipPrefix: IPPrefix? { IPPrefix(address: address, length: Int(length)) }

    public var description: String { "\(address)/\(length)" }

    public static func < (lhs: BGPPrefix, rhs: BGPPrefix) -> Bool {
        (lhs.isIPv6 ? 1 : 0, lhs.high, lhs.low, lhs.length) < (rhs.isIPv6 ? 1 : 0, rhs.high, rhs.low, rhs.length)
    }

    /// Decode one RFC 4271 section 4.3 prefix: a length in bits, then just enough bytes to hold it.
    ///
    /// ```
    /// +---------------------------+
    /// |   Length (1 octet)        |
    /// +---------------------------+
    /// |   Prefix (variable)       |
    /// +---------------------------+
    /// ```
    @inlinable
    public init(parsing cursor: inout Cursor, ipv6: Bool) throws(ParseError) {
        let start = cursor.offset
        let bits = Int(try cursor.readU8())
        guard bits <= (ipv6 ? 128 : 32) else {
            throw ParseError(.malformed, at: start, layer: .bgp, "prefix length longer than the address")
        }
        try self.init(bitsAfterLength: bits, parsing: &cursor, ipv6: ipv6, start: start)
    }

    /// The address bytes of a prefix whose bit length (already read, and checked) is `bits`.
    @inlinable
    public init(bitsAfterLength bits: Int, parsing cursor: inout Cursor, ipv6: Bool, start: Int) throws(ParseError) {
        let count = (bits + 7) / 8
        guard count <= cursor.remaining else {
            throw ParseError(.truncated, at: start, layer: .bgp, "prefix bytes missing")
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        // Whole words first (a /32 is one 4-byte read), then the odd bytes.
        var index = 0
        if count >= 8 {
            high = try cursor.readU64()
            index = 8
            if count >= 12 {
                low = UInt64(try cursor.readU32()) << 32
                index = 12
            }
        } else if count >= 4 {
            high = UInt64(try cursor.readU32()) << 32
            index = 4
        }
        while index < count {
            let byte = UInt64(try cursor.readU8())
            if index < 8 { high |= byte << UInt64(56 - 8 * index) } else { low |= byte << UInt64(56 - 8 * (index - 8)) }
            index += 1
        }
        self.init(high: high, low: low, length: UInt8(bits), isIPv6: ipv6)
    }
}

/// One NLRI entry: the prefix, its ADD-PATH path identifier (RFC 7911; 0 without ADD-PATH), and for
/// labeled and VPN families the label stack and route distinguisher that precede it.
public struct BGPNLRI: Sendable, Hashable, CustomStringConvertible {
    public var pathID: UInt32
    public var prefix: BGPPrefix
    /// RFC 4364 route distinguisher (8 bytes) for VPN families, else nil.
    public var routeDistinguisher: UInt64?
    /// The first MPLS label (RFC 8277) for labeled families, else nil.
    public var label: UInt32?

    public init(pathID: UInt32 = 0, prefix: BGPPrefix, routeDistinguisher: UInt64? = nil, label: UInt32? = nil) {
        self.pathID = pathID
        self.prefix = prefix
        self.routeDistinguisher = routeDistinguisher
        self.label = label
    }

    public var description: String {
        var text = ""
        if let routeDistinguisher {
            let type = routeDistinguisher >> 48
            let value = routeDistinguisher & 0xFFFF_FFFF_FFFF
            text += type == 0 ? "rd \(value >> 32):\(value & 0xFFFF_FFFF) " :
                type == 2 ? "rd \(value >> 16):\(value & 0xFFFF) " :
                "rd \(IPv4Address(rawValue: UInt32(truncatingIfNeeded: value >> 16))):\(value & 0xFFFF) "
        }
        text += prefix.description
        if let label { text += " label \(label)" }
        return text
    }
}

/// Walks a run of NLRI (the UPDATE's withdrawn routes or NLRI field, or MP_REACH/MP_UNREACH's), one entry
/// per `next()`, without allocating.
///
/// ```
/// [Path Identifier (4 octets, ADD-PATH only)] Length (1) [Labels (3 each)] [RD (8)] Prefix (variable)
/// ```
public struct BGPNLRIIterator {
    public var cursor: Cursor
    public let family: BGPAddressFamily
    public let addPath: Bool
    /// Labeled NLRI in a withdrawal may carry the compatibility label 0x800000 (RFC 8277 section 2.4).
    @usableFromInline let isIPv6: Bool
    @usableFromInline let labeled: Bool
    @usableFromInline let vpn: Bool
    @usableFromInline let decodable: Bool

    @inlinable
    public init(_ cursor: Cursor, family: BGPAddressFamily, addPath: Bool) {
        self.cursor = cursor
        self.cursor.layer = .bgp
        self.family = family
        self.addPath = addPath
        isIPv6 = family.afi == .ipv6
        let safi = family.safi
        labeled = safi == .labeledUnicast || safi == .vpnUnicast || safi == .vpnMulticast
        vpn = safi == .vpnUnicast || safi == .vpnMulticast
        decodable = family.carriesIPPrefixes
    }

    /// The next entry, nil at the end; throws on a malformed or cut entry (RFC 7606 section 5.3: the
    /// caller decides the outcome).
    @inlinable
    public mutating func next() throws(ParseError) -> BGPNLRI? {
        guard !cursor.isEmpty else { return nil }
        guard decodable else {
            throw cursor.error(.unsupported, "NLRI of this address family are not decoded")
        }
        if !labeled, !addPath, !isIPv6 {
            // Plain IPv4 (most of any table, and all of a MetalLB one): the same checks, without the general
            // byte loop.
            let start = cursor.offset
            let bits = Int(try cursor.readU8())
            guard bits <= 32 else {
                throw ParseError(.malformed, at: start, layer: .bgp, "prefix length longer than the address")
            }
            let count = (bits + 7) >> 3
            guard count <= cursor.remaining else {
                throw ParseError(.truncated, at: start, layer: .bgp, "prefix bytes missing")
            }
            var value: UInt32 = 0
            if count == 4 {
                value = try cursor.readU32()
            } else {
                for index in 0..<count { value |= UInt32(try cursor.readU8()) << UInt32(24 - 8 * index) }
            }
            return BGPNLRI(prefix: BGPPrefix(high: UInt64(value) << 32, low: 0, length: UInt8(bits), isIPv6: false))
        }
        let pathID = addPath ? try cursor.readU32() : 0
        if !labeled {
            return BGPNLRI(pathID: pathID, prefix: try BGPPrefix(parsing: &cursor, ipv6: isIPv6))
        }
        let start = cursor.offset
        var bits = Int(try cursor.readU8())
        var label: UInt32?
        // Labels until the bottom-of-stack bit (or the withdrawal compatibility value).
        while true {
            guard bits >= 24 else { throw ParseError(.malformed, at: start, layer: .bgp, "labeled prefix too short") }
            let entry = try cursor.readU24()
            bits -= 24
            if label == nil { label = entry >> 4 }
            if entry & 1 != 0 || entry == 0x800000 || entry == 0 { break }
        }
        var distinguisher: UInt64?
        if vpn {
            guard bits >= 64 else { throw ParseError(.malformed, at: start, layer: .bgp, "VPN prefix too short") }
            distinguisher = try cursor.readU64()
            bits -= 64
        }
        guard bits <= (isIPv6 ? 128 : 32) else {
            throw ParseError(.malformed, at: start, layer: .bgp, "prefix length longer than the address")
        }
        let prefix = try BGPPrefix(bitsAfterLength: bits, parsing: &cursor, ipv6: isIPv6, start: start)
        return BGPNLRI(pathID: pathID, prefix: prefix, routeDistinguisher: distinguisher, label: label)
    }

    /// Whether the bytes parse as a whole run of NLRI with (or without) path identifiers: the heuristic
    /// for captures without the OPENs (in the style of Wireshark's `decode_path_prefix` check): a run
    /// that parses one way only is taken that way.
    public static func parsesCleanly(_ cursor: Cursor, family: BGPAddressFamily, addPath: Bool) -> Bool {
        var iterator = BGPNLRIIterator(cursor, family: family, addPath: addPath)
        do throws(ParseError) {
            while let entry = try iterator.next() {
                // A path-less parse of ADD-PATH bytes typically yields /0 routes from the zero path-id bytes.
                if !addPath, entry.prefix.length == 0 { return false }
            }
            return true
        } catch {
            return false
        }
    }
}
