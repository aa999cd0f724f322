import CPrefetch
import Glibc
import PacketCore

/// One distinct set of path attributes with its next hop, shared by every route announced with it (interned:
/// a million routes sent with the same attributes cost one of these).
///
/// Only the attribute bytes are kept; `attributes` decodes them on each access. Why: a full table has over
/// a hundred thousand distinct paths, and their decoded form (an array of attributes, AS path segments,
/// community lists, each a heap allocation) took about 800 bytes per path, half the peak memory of a
/// one-million-route table; the bytes take about 70. Renderers decode a path once and cache what they
/// print, so the decode is paid once per path either way.
public final class BGPPath: Sendable {
    /// Its index in the analysis's path table (`BGPAnalyzer.path(_:)`): renderers cache per id.
    public let id: Int32
    /// The path attributes as received, MP_REACH_NLRI and MP_UNREACH_NLRI left out (their NLRI are routes,
    /// not path properties; the MP next hop is `nextHop`).
    public let attributeBytes: [UInt8]
    /// The AS number size `attributeBytes` are read with (2 or 4); 0: guessed from AS_PATH.
    private let asSizeCode: UInt8
    /// The next hop: NEXT_HOP for IPv4 NLRI outside MP_REACH, else MP_REACH's.
    public let nextHop: BGPNextHop?
    /// RFC 7606: the attributes make every NLRI they come with treat-as-withdraw (or worse).
    let isRejected: Bool
    /// Well-known mandatory attributes missing for plain NLRI and for MP_REACH NLRI (RFC 7606 section 3 (d)).
    let missingForPlain: [BGPAttributeType]
    let missingForMultiprotocol: [BGPAttributeType]

    /// `decoded` is what the whole attributes field (MP attributes included) decoded to: the RFC 7606
    /// verdicts are taken from it.
    init(id: Int32, attributeBytes: UnsafeRawBufferPointer, asSize: Int?, decoded: BGPAttributes, nextHop: BGPNextHop?) {
        self.id = id
        self.attributeBytes = Array(attributeBytes)
        asSizeCode = UInt8(truncatingIfNeeded: asSize ?? 0)
        self.nextHop = nextHop
        if let outcome = decoded.worstOutcome, outcome != .attributeDiscard { isRejected = true } else {
            isRejected = false
        }
        missingForPlain = decoded.missingMandatory(hasPlainNLRI: true, hasMPReachNLRI: false)
        missingForMultiprotocol = decoded.missingMandatory(hasPlainNLRI: false, hasMPReachNLRI: true)
    }

    /// The attributes, decoded from `attributeBytes` (offsets are into those bytes). Each access decodes:
    /// read it once into a local when using several fields.
    public var attributes: BGPAttributes {
        let asSize = asSizeCode == 0 ? nil : Int(asSizeCode)
        return withCursor(over: attributeBytes, layer: .bgp) { cursor in BGPAttributes(parsing: cursor, asSize: asSize) }
    }

    /// Whether routes announced with these attributes are installed: not rejected, nothing missing.
    func isUsable(multiprotocol: Bool) -> Bool {
        !isRejected && (multiprotocol ? missingForMultiprotocol.isEmpty : missingForPlain.isEmpty)
    }

    /// `via 203.0.113.2 path 64512 4200000001 origin igp med 10 local-pref 100 communities 64512:100 ...`
    public var summary: String {
        // One String appended to, not parts joined: built once per path, and a full table has a quarter
        // million paths (the parts version was a fifth of the run time of printing one).
        let attributes = self.attributes
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
        for other in attributes.all where !Self.isSummarized(other.type.rawValue) {
            part("\(other.type)[\(other.flags)](\(other.value.count) bytes)")
        }
        return text
    }

    /// `summary`'s bytes, appended to `out` without building Strings (the table renderer's path: a full
    /// table prints a quarter million summaries). BGPRenderingTests hold it to `summary`.
    func appendSummary(to out: inout OutputBuffer) {
        appendSummary(of: attributes, to: &out)
    }

    /// `appendSummary` from attributes already decoded (the analyzer's own decode of a new path, so a
    /// summary costs no second decode). Written through one reservation of the output: the pieces printed
    /// for every path (next hop, AS path, numbers, communities) go straight into it; the rare ones are
    /// built as Strings first, so their lengths are known. Why: a reservation per piece was most of the
    /// cost of a summary (callgrind, about 4,800 instructions each on a full table).
    func appendSummary(of attributes: BGPAttributes, to out: inout OutputBuffer) {
        // Rare pieces, in their order: aggregator (between atomic-aggregate and communities), and everything
        // after the large communities.
        let aggregator = attributes.effectiveAggregator.map { "aggregator \($0)" }
        var tail: [String] = []
        func list<T: CustomStringConvertible>(_ name: String, _ items: [T]) {
            guard !items.isEmpty else { return }
            tail.append(name + items.map { " " + $0.description }.joined())
        }
        list("ext-communities", attributes.extendedCommunities)
        if let originator = attributes.originatorID { tail.append("originator \(originator)") }
        list("cluster-list", attributes.clusterList)
        if let aigp = attributes.aigp { tail.append("aigp \(aigp)") }
        if let otc = attributes.onlyToCustomer { tail.append("otc \(otc)") }
        for other in attributes.all where !Self.isSummarized(other.type.rawValue) {
            tail.append("\(other.type)[\(other.flags)](\(other.value.count) bytes)")
        }
        let nextHopText = nextHop.flatMap { $0.address == nil ? $0.description : nil }
        let path = attributes.effectiveASPath
        var room = 320 + (aggregator?.utf8.count ?? 0) + (nextHopText?.utf8.count ?? 0)
        room += tail.reduce(0) { $0 + $1.utf8.count + 1 }
        room += path.map { $0.segments.reduce(0) { $0 + 3 + 11 * $1.numbers.count } } ?? 0
        room += attributes.communities.count * 21 + attributes.largeCommunities.count * 34
        out.withSpace(room) { writer in
            let start = writer.index
            func part(_ piece: StaticString) {
                if writer.index > start { writer.append(byte: UInt8(ascii: " ")) }
                writer.append(piece)
            }
            func text(_ string: String) {
                var string = string
                string.withUTF8 { writer.append($0) }
            }
            if let nextHop {
                part("via ")
                if let address = nextHop.address {
                    writer.append(address)
                    if let linkLocal = nextHop.linkLocal {
                        writer.append(byte: UInt8(ascii: " "))
                        writer.append(.v6(linkLocal))
                    }
                } else if let nextHopText {
                    text(nextHopText)
                }
            }
            if let path {
                if path.segments.isEmpty { part("path (empty)") } else {
                    part("path ")
                    for (index, segment) in path.segments.enumerated() {
                        if index > 0 { writer.append(byte: UInt8(ascii: " ")) }
                        let (open, close): (UInt8?, UInt8?) = switch segment.type {
                        case 1: (UInt8(ascii: "{"), UInt8(ascii: "}"))
                        case 3: (UInt8(ascii: "("), UInt8(ascii: ")"))
                        case 4: (UInt8(ascii: "["), UInt8(ascii: "]"))
                        default: (nil, nil)
                        }
                        if let open { writer.append(byte: open) }
                        let separator = segment.isSet ? UInt8(ascii: ",") : UInt8(ascii: " ")
                        for (position, number) in segment.numbers.enumerated() {
                            if position > 0 { writer.append(byte: separator) }
                            writer.append(decimal: UInt64(number))
                        }
                        if let close { writer.append(byte: close) }
                    }
                }
            }
            if attributes.asSizeGuessed {
                part("(as-size guessed ")
                writer.append(decimal: attributes.asSize)
                writer.append(byte: UInt8(ascii: ")"))
            }
            if let origin = attributes.origin {
                part("origin ")
                switch origin.rawValue {
                case 0: writer.append("igp")
                case 1: writer.append("egp")
                case 2: writer.append("incomplete")
                default: text(origin.description)
                }
            }
            if let med = attributes.multiExitDisc {
                part("med ")
                writer.append(decimal: UInt64(med))
            }
            if let localPref = attributes.localPref {
                part("local-pref ")
                writer.append(decimal: UInt64(localPref))
            }
            if attributes.atomicAggregate { part("atomic-aggregate") }
            if let aggregator {
                part("")
                text(aggregator)
            }
            if !attributes.communities.isEmpty {
                part("communities")
                for community in attributes.communities {
                    writer.append(byte: UInt8(ascii: " "))
                    if let name = community.name {
                        text(name)
                    } else {
                        writer.append(decimal: UInt64(community.rawValue >> 16))
                        writer.append(byte: UInt8(ascii: ":"))
                        writer.append(decimal: UInt64(community.rawValue & 0xFFFF))
                    }
                }
            }
            if !attributes.largeCommunities.isEmpty {
                part("large-communities")
                for community in attributes.largeCommunities {
                    writer.append(byte: UInt8(ascii: " "))
                    writer.append(decimal: UInt64(community.globalAdministrator))
                    writer.append(byte: UInt8(ascii: ":"))
                    writer.append(decimal: UInt64(community.localData1))
                    writer.append(byte: UInt8(ascii: ":"))
                    writer.append(decimal: UInt64(community.localData2))
                }
            }
            for piece in tail {
                part("")
                text(piece)
            }
        }
    }

    /// Whether `summary` shows attributes of this type by name: 1 to 10, 14 to 18, 26, 32 and 35 (a bit
    /// mask: a `Set` lookup hashed the type for every attribute of every summary).
    static func isSummarized(_ type: UInt8) -> Bool {
        let low: UInt64 = 0b111_1100_0111_1111_1110 | 1 << 26 | 1 << 32 | 1 << 35
        return type < 64 && low >> UInt64(type) & 1 == 1
    }
}

/// The interning table of paths, shared by all sessions of one analysis: every distinct key (see
/// `BGPAnalyzer.split`) once, in one byte arena, found through an open-addressing index (linear probing, at
/// most half full) of 8-byte slots.
///
/// Why not `[[UInt8]: Int32]`: on a full table every UPDATE carries other attributes than the one before,
/// so every UPDATE is a lookup, and the Dictionary's SipHash over the key bytes, its resizes (rehashing
/// every key) and the reference counting of the key arrays were a sixth of the run time (perf).
struct PathTable {
    private(set) var paths: [BGPPath] = []
    /// Every key's bytes, back to back.
    private var arena: [UInt8] = []
    /// Per path id: offset in `arena` << 24 | key length (a key is at most one BGP message, < 2^24 bytes).
    private var spans: [UInt64] = []
    /// Per path id: the key's hash (kept so growing the index never hashes again).
    private var hashes: [UInt64] = []
    /// 0: empty; else the hash's upper 32 bits << 32 | (path id + 1).
    private var slots: [UInt64] = []
    /// Per path id: bit 0 usable with plain NLRI, bit 1 with MP_REACH NLRI (`BGPPath.isUsable`). Why here:
    /// every UPDATE asks, and reading it from the path object was a cache miss per UPDATE on a full table.
    private var usable: [UInt8] = []
    /// Per analysis, random: a capture cannot be crafted to make keys collide.
    private let seed = UInt64.random(in: .min ... .max)

    subscript(_ id: Int32) -> BGPPath { paths[Int(id)] }

    /// `self[id].isUsable(multiprotocol:)`, without touching the path object.
    @inline(__always)
    func isUsable(_ id: Int32, multiprotocol: Bool) -> Bool {
        usable[Int(id)] & (multiprotocol ? 2 : 1) != 0
    }

    /// Start loading path `id`'s object into the cache (a hint; see `BGPRouteTable.prefetch`).
    @inline(__always)
    func prefetch(_ id: Int32) {
        let index = Int(id)
        guard index >= 0, index < paths.count else { return }
        vipscope_prefetch_for_write(Unmanaged.passUnretained(paths[index]).toOpaque())
    }

    /// The id of the path with these key bytes; `make` builds it (given its id) on first sight.
    mutating func intern(_ key: UnsafeRawBufferPointer, make: (Int32) -> BGPPath) -> (id: Int32, isNew: Bool) {
        if (paths.count + 1) * 2 > slots.count { grow() }
        let hash = Self.hash(key, seed: seed)
        let tag = hash >> 32
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let value = slots[slot]
            if value == 0 { break }
            if value >> 32 == tag {
                let id = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                if keyEquals(id, key) { return (Int32(id), false) }
            }
            slot = (slot + 1) & mask
        }
        let id = Int32(paths.count)
        let path = make(id)
        paths.append(path)
        usable.append((path.isUsable(multiprotocol: false) ? 1 : 0) | (path.isUsable(multiprotocol: true) ? 2 : 0))
        spans.append(UInt64(arena.count) << 24 | UInt64(key.count))
        hashes.append(hash)
        arena.append(contentsOf: key)
        slots[slot] = tag << 32 | UInt64(id + 1)
        return (id, true)
    }

    private func keyEquals(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let span = spans[id]
        let length = Int(truncatingIfNeeded: span & 0xFF_FFFF)
        guard length == key.count else { return false }
        let start = Int(truncatingIfNeeded: span >> 24)
        return arena.withUnsafeBytes { stored in
            guard let base = stored.baseAddress, let other = key.baseAddress else { return length == 0 }
            return memcmp(base + start, other, length) == 0
        }
    }

    private mutating func grow() {
        var capacity = 64
        while capacity < (paths.count + 1) * 4 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (id, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = (hash >> 32) << 32 | UInt64(id + 1)
        }
        self.slots = slots
    }

    /// A seeded hash of the key bytes, 8 at a time, each folded in with a full 64 x 64 -> 128-bit multiply
    /// (as wyhash does): a few instructions per word, and every input bit reaches every output bit.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        @inline(__always) func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let product = a.multipliedFullWidth(by: b)
            return product.high ^ product.low
        }
        var state = seed ^ UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        guard let base = bytes.baseAddress else { return fold(state, 0xE703_7ED1_A0B4_28DB) }
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            state = fold(state ^ word, 0xA076_1D64_78BD_642F)
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
            shift += 8
            offset += 1
        }
        return fold(state ^ tail, 0xE703_7ED1_A0B4_28DB ^ shift)
    }
}
