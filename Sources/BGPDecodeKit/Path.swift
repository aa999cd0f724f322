import PacketCore

/// One distinct set of path attributes with its next hop, shared by every route announced with it (interned:
/// a million routes sent with the same attributes cost one of these). `key` is the attribute bytes without
/// MP_REACH/MP_UNREACH, followed for multiprotocol routes by a pseudo-attribute of type 0 holding the
/// MP_REACH next hop bytes.
public struct BGPPath: Sendable {
    public var key: [UInt8]
    /// Decoded once, from the first message that carried these attributes (offsets are that message's).
    public var attributes: BGPAttributes
    /// The next hop: NEXT_HOP for IPv4 NLRI outside MP_REACH, else MP_REACH's.
    public var nextHop: BGPNextHop?

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
        let known: Set<UInt8> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 26, 32, 35]
        for other in attributes.all where !known.contains(other.type.rawValue) {
            parts.append("\(other.type)[\(other.flags)](\(other.value.count) bytes)")
        }
        return parts.joined(separator: " ")
    }
}

/// The interning table of paths, shared by all sessions of one analysis.
struct PathTable {
    private(set) var paths: [BGPPath] = []
    private var index: [[UInt8]: Int32] = [:]

    subscript(_ id: Int32) -> BGPPath { paths[Int(id)] }

    /// The id of the path with these key bytes; `make` builds it on first sight.
    mutating func intern(_ key: [UInt8], make: () -> BGPPath) -> (id: Int32, isNew: Bool) {
        if let id = index[key] { return (id, false) }
        let id = Int32(paths.count)
        paths.append(make())
        index[key] = id
        return (id, true)
    }
}
