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
        self.key = compactCopy(key)
        // The decoder appends to these arrays, which leaves growth slack in each; a path lives for the whole
        // analysis and a full table holds over a hundred thousand of them, so keep exactly sized copies.
        var attributes = attributes
        attributes.all = exactlySized(attributes.all)
        attributes.communities = exactlySized(attributes.communities)
        attributes.extendedCommunities = exactlySized(attributes.extendedCommunities)
        attributes.largeCommunities = exactlySized(attributes.largeCommunities)
        attributes.clusterList = exactlySized(attributes.clusterList)
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
        // One String appended to, not parts joined: built once per path, and a full table has a quarter
        // million paths (the parts version was a fifth of the run time of printing one).
        var text = ""
        text.reserveCapacity(160)
        func part(_ piece: String) {
            if !text.isEmpty { text += " " }
            text += piece
        }
        func list<T: CustomStringConvertible>(_ name: String, _ items: [T]) {
            guard !items.isEmpty else { return }
            part(name)
            for item in items {
                text += " "
                text += item.description
            }
        }
        if let nextHop {
            part("via ")
            text += nextHop.description
        }
        if let path = attributes.effectiveASPath {
            if path.segments.isEmpty { part("path (empty)") } else {
                part("path ")
                text += path.description
            }
        }
        if attributes.asSizeGuessed { part("(as-size guessed \(attributes.asSize))") }
        if let origin = attributes.origin {
            part("origin ")
            text += origin.description
        }
        if let med = attributes.multiExitDisc {
            part("med ")
            text += String(med)
        }
        if let localPref = attributes.localPref {
            part("local-pref ")
            text += String(localPref)
        }
        if attributes.atomicAggregate { part("atomic-aggregate") }
        if let aggregator = attributes.effectiveAggregator { part("aggregator \(aggregator)") }
        list("communities", attributes.communities)
        list("large-communities", attributes.largeCommunities)
        list("ext-communities", attributes.extendedCommunities)
        if let originator = attributes.originatorID { part("originator \(originator)") }
        list("cluster-list", attributes.clusterList)
        if let aigp = attributes.aigp { part("aigp \(aigp)") }
        if let otc = attributes.onlyToCustomer { part("otc \(otc)") }
        for other in attributes.all where !Self.summarized.contains(other.type.rawValue) {
            part("\(other.type)[\(other.flags)](\(other.value.count) bytes)")
        }
        return text
    }

    /// `summary`'s bytes, appended to `out` without building Strings (the table renderer's path: a full
    /// table prints a quarter million summaries). BGPRenderingTests hold it to `summary`.
    func appendSummary(to out: inout OutputBuffer) {
        let start = out.count
        func part(_ piece: StaticString) {
            if out.count > start { out.append(byte: UInt8(ascii: " ")) }
            out.append(piece)
        }
        func list<T: CustomStringConvertible>(_ name: StaticString, _ items: [T]) {
            guard !items.isEmpty else { return }
            part(name)
            for item in items {
                out.append(byte: UInt8(ascii: " "))
                out.append(item.description)
            }
        }
        if let nextHop {
            part("via ")
            if let address = nextHop.address {
                out.append(address)
                if let linkLocal = nextHop.linkLocal {
                    out.append(byte: UInt8(ascii: " "))
                    out.append(.v6(linkLocal))
                }
            } else {
                out.append(nextHop.description)
            }
        }
        if let path = attributes.effectiveASPath {
            if path.segments.isEmpty { part("path (empty)") } else {
                part("path ")
                for (index, segment) in path.segments.enumerated() {
                    if index > 0 { out.append(byte: UInt8(ascii: " ")) }
                    let (open, close): (UInt8?, UInt8?) = switch segment.type {
                    case 1: (UInt8(ascii: "{"), UInt8(ascii: "}"))
                    case 3: (UInt8(ascii: "("), UInt8(ascii: ")"))
                    case 4: (UInt8(ascii: "["), UInt8(ascii: "]"))
                    default: (nil, nil)
                    }
                    if let open { out.append(byte: open) }
                    let separator = segment.isSet ? UInt8(ascii: ",") : UInt8(ascii: " ")
                    for (position, number) in segment.numbers.enumerated() {
                        if position > 0 { out.append(byte: separator) }
                        out.append(decimal: UInt64(number))
                    }
                    if let close { out.append(byte: close) }
                }
            }
        }
        if attributes.asSizeGuessed {
            part("(as-size guessed ")
            out.append(decimal: attributes.asSize)
            out.append(byte: UInt8(ascii: ")"))
        }
        if let origin = attributes.origin {
            part("origin ")
            out.append(origin.description)
        }
        if let med = attributes.multiExitDisc {
            part("med ")
            out.append(decimal: UInt64(med))
        }
        if let localPref = attributes.localPref {
            part("local-pref ")
            out.append(decimal: UInt64(localPref))
        }
        if attributes.atomicAggregate { part("atomic-aggregate") }
        if let aggregator = attributes.effectiveAggregator {
            part("aggregator ")
            out.append(aggregator.description)
        }
        list("communities", attributes.communities)
        list("large-communities", attributes.largeCommunities)
        list("ext-communities", attributes.extendedCommunities)
        if let originator = attributes.originatorID {
            part("originator ")
            out.append(originator.description)
        }
        list("cluster-list", attributes.clusterList)
        if let aigp = attributes.aigp {
            part("aigp ")
            out.append("\(aigp)")
        }
        if let otc = attributes.onlyToCustomer {
            part("otc ")
            out.append("\(otc)")
        }
        for other in attributes.all where !Self.summarized.contains(other.type.rawValue) {
            part("")
            out.append("\(other.type)[\(other.flags)](\(other.value.count) bytes)")
        }
    }

    /// The attribute types `summary` shows by name.
    static let summarized: Set<UInt8> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 26, 32, 35]
}

/// The interning table of paths, shared by all sessions of one analysis.
struct PathTable {
    private(set) var paths: [BGPPath] = []
    private var index: [Key: Int32] = [:]

    /// Key bytes hashed in one call. Why: `[UInt8]`'s own hashing feeds the hasher a byte at a time, which
    /// was a tenth of the run time of a full table (a quarter million paths, an UPDATE lookup each).
    private struct Key: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(bytes.count)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            rhs.bytes.withUnsafeBytes { BGPAnalyzer.equal(lhs.bytes, $0) }
        }
    }

    subscript(_ id: Int32) -> BGPPath { paths[Int(id)] }

    /// The id of the path with these key bytes; `make` builds it (given its id) on first sight.
    mutating func intern(_ key: [UInt8], make: (Int32) -> BGPPath) -> (id: Int32, isNew: Bool) {
        if let id = index[Key(bytes: key)] { return (id, false) }
        let id = Int32(paths.count)
        let path = make(id)
        paths.append(path)
        // The path's own (compact) copy, not `key`: see `compactCopy`.
        index[Key(bytes: path.key)] = id
        return (id, true)
    }
}

/// A copy of `bytes` in a buffer of their size. Why: the analyzer builds keys in a scratch array with 4 KiB
/// reserved, and an array shares its buffer, capacity included, with every copy. Storing that array as a path
/// key kept 4 KiB per distinct path alive (a one-million-prefix full table with a quarter million paths
/// peaked at 700 MB), and the shared buffer made the scratch array reallocate 4 KiB for every UPDATE.
func compactCopy(_ bytes: [UInt8]) -> [UInt8] {
    bytes.withUnsafeBufferPointer { Array($0) }
}

/// `array` without growth slack: itself when it has none, else a copy in a buffer of its size.
func exactlySized<Element>(_ array: [Element]) -> [Element] {
    guard array.capacity > array.count else { return array }
    return array.withUnsafeBufferPointer { Array($0) }
}
