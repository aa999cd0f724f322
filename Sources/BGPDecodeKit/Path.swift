import PacketCore

/// One distinct set of path attributes with its next hop, shared by every route announced with it (interned:
/// a million routes sent with the same attributes cost one of these). `key` is the attribute bytes without
/// MP_REACH/MP_UNREACH, followed for multiprotocol routes by a pseudo-attribute of type 0 holding the
/// MP_REACH next hop bytes.
public final class BGPPath: Sendable {
    /// Its index in the analysis's path table (`BGPAnalyzer.path(_:)`): renderers cache per id.
    public let id: Int32
    public let key: [UInt8]
    /// Decoded once, from the first message that carried these attributes (offsets are that message's).
    public let attributes: BGPAttributes
    /// The next hop: NEXT_HOP for IPv4 NLRI outside MP_REACH, else MP_REACH's.
    public let nextHop: BGPNextHop?
    /// RFC 7606: the attributes make every NLRI they come with treat-as-withdraw (or worse).
    let isRejected: Bool
    /// Well-known mandatory attributes missing for plain NLRI and for MP_REACH NLRI (RFC 7606 section 3 (d)).
    let missingForPlain: [BGPAttributeType]
    let missingForMultiprotocol: [BGPAttributeType]

    init(id: Int32, key: [UInt8], attributes: BGPAttributes, nextHop: BGPNextHop?) {
        self.id = id
        self.key = key
        self.attributes = attributes
        self.nextHop = nextHop
        if let outcome = attributes.worstOutcome, outcome != .attributeDiscard { isRejected = true } else {
            isRejected = false
        }
        missingForPlain = attributes.missingMandatory(hasPlainNLRI: true, hasMPReachNLRI: false)
        missingForMultiprotocol = attributes.missingMandatory(hasPlainNLRI: false, hasMPReachNLRI: true)
    }

    /// Whether routes announced with these attributes are installed: not rejected, nothing missing.
    func isUsable(multiprotocol: Bool) -> Bool {
        !isRejected && (multiprotocol ? missingForMultiprotocol.isEmpty : missingForPlain.isEmpty)
    }

    /// `via 203.0.113.2 path 64512 4200000001 origin igp med 10 local-pref 100 communities 64512:100 ...`
    public var summary: String {
        var parts: [String] = []
        if let nextHop { parts.append("via \(nextHop)") }
        if let path = attributes.effectiveASPath {
            parts.append(path.segments.isEmpty ? "path (empty)" : "path \(path)")
        }
        if attributes.asSizeGuessed { parts.append("(as-size guessed \(attributes.asSize))") }
        if let origin = attributes.origin { parts.append("origin \(origin)") }
        if let med = attributes.multiExitDisc { parts.append("med \(med)") }
        if let localPref = attributes.localPref { parts.append("local-pref \(localPref)") }
        if attributes.atomicAggregate { parts.append("atomic-aggregate") }
        if let aggregator = attributes.effectiveAggregator { parts.append("aggregator \(aggregator)") }
        if !attributes.communities.isEmpty {
            parts.append("communities " + attributes.communities.map(\.description).joined(separator: " "))
        }
        if !attributes.largeCommunities.isEmpty {
            parts.append("large-communities " + attributes.largeCommunities.map(\.description).joined(separator: " "))
        }
        if !attributes.extendedCommunities.isEmpty {
            parts.append("ext-communities " + attributes.extendedCommunities.map(\.description).joined(separator: " "))
        }
        if let originator = attributes.originatorID { parts.append("originator \(originator)") }
        if !attributes.clusterList.isEmpty {
            parts.append("cluster-list " + attributes.clusterList.map(\.description).joined(separator: " "))
        }
        if let aigp = attributes.aigp { parts.append("aigp \(aigp)") }
        if let otc = attributes.onlyToCustomer { parts.append("otc \(otc)") }
        for other in attributes.all where !Self.summarized.contains(other.type.rawValue) {
            parts.append("\(other.type)[\(other.flags)](\(other.value.count) bytes)")
        }
        return parts.joined(separator: " ")
    }

    /// The attribute types `summary` shows by name.
    static let summarized: Set<UInt8> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 26, 32, 35]
}

/// The interning table of paths, shared by all sessions of one analysis.
struct PathTable {
    private(set) var paths: [BGPPath] = []
    private var index: [[UInt8]: Int32] = [:]

    subscript(_ id: Int32) -> BGPPath { paths[Int(id)] }

    /// The id of the path with these key bytes; `make` builds it (given its id) on first sight.
    mutating func intern(_ key: [UInt8], make: (Int32) -> BGPPath) -> (id: Int32, isNew: Bool) {
        if let id = index[key] { return (id, false) }
        let id = Int32(paths.count)
        paths.append(make(id))
        index[key] = id
        return (id, true)
    }
}
