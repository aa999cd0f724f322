import PacketCore

/// One direction of a BGP session: what `speaker` announced to `peer`. The RIB is kept per session key, not
/// per TCP connection, so a reconnect (graceful restart) continues the same table.
public struct BGPSessionKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var speaker: IPAddress
    public var peer: IPAddress

    public init(speaker: IPAddress, peer: IPAddress) {
        self.speaker = speaker
        self.peer = peer
    }

    public var reversed: BGPSessionKey { BGPSessionKey(speaker: peer, peer: speaker) }
    public var description: String { "\(speaker) > \(peer)" }

    public static func < (lhs: BGPSessionKey, rhs: BGPSessionKey) -> Bool {
        (lhs.speaker, lhs.peer) < (rhs.speaker, rhs.peer)
    }
}

/// A route's identity in a session's RIB: family, ADD-PATH path identifier and prefix (plus the route
/// distinguisher for VPN families).
public struct BGPRouteKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var family: BGPAddressFamily
    public var pathID: UInt32
    public var prefix: BGPPrefix
    public var routeDistinguisher: UInt64?

    public init(family: BGPAddressFamily, pathID: UInt32 = 0, prefix: BGPPrefix, routeDistinguisher: UInt64? = nil) {
        self.family = family
        self.pathID = pathID
        self.prefix = prefix
        self.routeDistinguisher = routeDistinguisher
    }

    public init(family: BGPAddressFamily, nlri: BGPNLRI) {
        self.init(family: family, pathID: nlri.pathID, prefix: nlri.prefix, routeDistinguisher: nlri.routeDistinguisher)
    }

    /// `198.51.100.10/32`, `198.51.100.10/32 path 2`, `rd 64512:1 198.51.100.0/24`.
    public var description: String {
        BGPNLRI(pathID: pathID, prefix: prefix, routeDistinguisher: routeDistinguisher).description
            + (pathID != 0 ? " path-id \(pathID)" : "")
    }

    /// Family, length and path id in one word: hashing and ordering a million keys is the table's hot path.
    @inlinable
    var packed: UInt64 {
        UInt64(family.afi.rawValue) << 48 | UInt64(family.safi.rawValue) << 40 | UInt64(prefix.length) << 32
            | UInt64(pathID)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(prefix.high)
        hasher.combine(prefix.low)
        hasher.combine(packed)
        hasher.combine(prefix.isIPv6)
        if let routeDistinguisher { hasher.combine(routeDistinguisher) }
    }

    /// Dictionary's hash entry point. A table of a million routes hashes every key again at each resize,
    /// and SipHash set-up was a quarter of the run time (perf, scripts/bench-bgpdecode): mix the words
    /// with the per-process seed through MurmurHash3's 64-bit finaliser instead. The seed is random per
    /// process, so a capture cannot be crafted to collide.
    public func _rawHashValue(seed: Int) -> Int {
        var hash = murmurMix(UInt64(bitPattern: Int64(seed)) ^ prefix.high)
        hash = murmurMix(hash ^ prefix.low &+ 0x9E37_79B9_7F4A_7C15)
        hash = murmurMix(hash ^ packed &+ (prefix.isIPv6 ? 0x9E37_79B9_7F4A_7C16 : 0x9E37_79B9_7F4A_7C15))
        if let routeDistinguisher { hash = murmurMix(hash ^ routeDistinguisher) }
        return Int(bitPattern: UInt(hash))
    }

    public static func == (lhs: BGPRouteKey, rhs: BGPRouteKey) -> Bool {
        lhs.prefix.high == rhs.prefix.high && lhs.prefix.low == rhs.prefix.low && lhs.packed == rhs.packed
            && lhs.prefix.isIPv6 == rhs.prefix.isIPv6 && lhs.routeDistinguisher == rhs.routeDistinguisher
    }

    /// Family, then address, prefix length, route distinguisher, path id.
    public static func < (lhs: BGPRouteKey, rhs: BGPRouteKey) -> Bool {
        let lhsFamily = lhs.packed >> 40
        let rhsFamily = rhs.packed >> 40
        if lhsFamily != rhsFamily { return lhsFamily < rhsFamily }
        if lhs.prefix.high != rhs.prefix.high { return lhs.prefix.high < rhs.prefix.high }
        if lhs.prefix.low != rhs.prefix.low { return lhs.prefix.low < rhs.prefix.low }
        if lhs.prefix.length != rhs.prefix.length { return lhs.prefix.length < rhs.prefix.length }
        if lhs.routeDistinguisher != rhs.routeDistinguisher {
            return (lhs.routeDistinguisher ?? 0) < (rhs.routeDistinguisher ?? 0)
        }
        return lhs.pathID < rhs.pathID
    }
}

/// How a session's decoding context (4-byte AS, ADD-PATH) was obtained.
public enum BGPContextSource: String, Sendable, Hashable {
    /// From both OPEN messages of the connection.
    case open
    /// The OPENs were not captured: AS size and ADD-PATH are guessed per message from the bytes.
    case heuristic
    /// From the MRT record subtype (AS4, ADD-PATH variants).
    case mrt
    /// From --asn-size / --add-path.
    case override
}

/// What a message sender's bytes mean: AS number size and which families carry ADD-PATH path identifiers.
/// A nil field is unknown (no OPEN seen) and is guessed per message.
public struct BGPMessageContext: Sendable, Hashable {
    public var asSize: Int?
    /// nil: unknown. Otherwise the families whose NLRI in this direction carry path identifiers.
    public var addPathFamilies: Set<BGPAddressFamily>?
    /// Every family carries path identifiers (MRT ADD-PATH subtypes, --add-path on).
    public var addPathEverywhere = false
    public var source: BGPContextSource

    public init(asSize: Int?, addPathFamilies: Set<BGPAddressFamily>?, addPathEverywhere: Bool = false,
        source: BGPContextSource)
    {
        self.asSize = asSize
        self.addPathFamilies = addPathFamilies
        self.addPathEverywhere = addPathEverywhere
        self.source = source
    }

    /// True/false when known, nil when it must be guessed.
    public func addPath(_ family: BGPAddressFamily) -> Bool? {
        if addPathEverywhere { return true }
        guard let families = addPathFamilies else { return nil }
        // Checked once per NLRI run: skip hashing in the usual case of no ADD-PATH at all.
        return families.isEmpty ? false : families.contains(family)
    }

    /// The context for messages sent by the speaker of `sent`, given the receiver's OPEN (RFC 6793 section
    /// 4: 4-byte AS only when both carry the capability; RFC 7911 section 5: path identifiers for a family
    /// only when the sender can send and the receiver can receive them).
    public static func negotiated(sender: BGPOpen?, receiver: BGPOpen?) -> BGPMessageContext {
        guard let sender, let receiver else {
            return BGPMessageContext(asSize: nil, addPathFamilies: nil, source: .heuristic)
        }
        let asSize = sender.supportsFourOctetAS && receiver.supportsFourOctetAS ? 4 : 2
        let sends = sender.addPathModes()
        let receives = receiver.addPathModes()
        var families: Set<BGPAddressFamily> = []
        for (family, mode) in sends where mode & 2 != 0 && (receives[family] ?? 0) & 1 != 0 {
            families.insert(family)
        }
        return BGPMessageContext(asSize: asSize, addPathFamilies: families, source: .open)
    }

    /// Apply --asn-size / --add-path.
    public func overridden(asSize forcedSize: Int?, addPath forcedAddPath: Bool?) -> BGPMessageContext {
        var context = self
        if let forcedSize {
            context.asSize = forcedSize
            context.source = .override
        }
        if let forcedAddPath {
            context.addPathEverywhere = forcedAddPath
            context.addPathFamilies = forcedAddPath ? nil : []
            context.source = .override
        }
        return context
    }
}

/// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit in a few instructions. The
/// route keys' hashes (`BGPRouteKey`, `BGPRouteTable`'s index) fold their words through it with a random
/// per-process or per-table seed.
@inline(__always)
func murmurMix(_ value: UInt64) -> UInt64 {
    var x = value
    x ^= x >> 33
    x &*= 0xFF51_AFD7_ED55_8CCD
    x ^= x >> 33
    x &*= 0xC4CE_B9FE_1A85_EC53
    x ^= x >> 33
    return x
}
