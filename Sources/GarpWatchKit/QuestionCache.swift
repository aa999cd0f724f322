import PacketCore

/// The recent broadcast who-has requests (ARP request or probe to ff:ff:ff:ff:ff:ff, NS to the solicited-node
/// group) and who answered each: two different MACs answering one request within the reply window are two live
/// owners (issue 15 item 1), however close together their replies came.
///
/// Half the frames of a busy segment are who-has requests, so this must cost next to nothing: a direct-mapped
/// table of `size` entries preallocated once, one entry per asked address (a newer question overwrites an
/// older one in its slot), no allocation and no scheduling per frame. Measured on 1M frames (half of them
/// requests, release build): questions kept in their bindings with deadlines took 2.2 s, lazily dropped 0.45 s,
/// this table 0.18 s (0.16 s with no question tracking at all; the bare read loop 0.04-0.07 s).
struct QuestionCache: Sendable {
    struct Entry: Sendable {
        var key = BindingKey(ip: .v4(IPv4Address(rawValue: 0)))
        var requester = IPAddress.v4(IPv4Address(rawValue: 0))
        var asked = Timestamp.zero
        var first = MACAddress(rawValue: 0)
        var answered = false
    }

    /// `sets` sets of `ways` entries (4096 in all, as before). Direct-mapped, two requests for addresses whose
    /// slots collided overwrote each other, and the two answers to the first were then never compared: a
    /// split-brain hidden by an unrelated request (first wave's note). Now a request takes a way of its set
    /// that holds the same address, or one whose window is over, and only when all `ways` hold open questions
    /// the oldest of them: that loss is counted (`evictedOpen`, in the summary), never silent.
    static let ways = 4
    static let sets = 1024
    static let size = sets * ways
    private var entries = [Entry](repeating: Entry(), count: QuestionCache.size)
    /// Per way, the fingerprint of its key (0: a free way) and when its window closes, in arrays of their own:
    /// a request scans its set's 32 bytes of fingerprints and 64 of closing times and reads only the entry
    /// whose fingerprint matches; scanning the 100-byte entries of a set was seven cache lines per frame.
    private var tags = [UInt64](repeating: 0, count: QuestionCache.size)
    private var closing = [Timestamp](repeating: .zero, count: QuestionCache.size)
    /// Open questions pushed out of a full set before their window ended.
    private(set) var evictedOpen = 0

    /// The key's set (low bits) and a nonzero fingerprint (the other bits).
    @inline(__always)
    static func hash(_ key: BindingKey) -> (set: Int, tag: UInt64) {
        // The VLAN path is spread before it is combined: xored in raw, 198.51.100.1 on VLAN 3 and 198.51.100.2
        // on VLAN 0 made nearly one word, and 50,800 keys of one /24 on 200 VLANs reached only 235 of 1024 sets.
        var word = key.vlans.rawValue &* 0x1656_67B1_9E37_79F9
        switch key.ip {
        case .v4(let v4): word ^= UInt64(v4.rawValue)
        case .v6(let v6): word ^= v6.high &* 0xC2B2_AE3D_27D4_EB4F ^ v6.low
        }
        // splitmix64's finalizer (a bare multiply of these few-bit-apart words leaves the set bits structured).
        word = (word ^ word >> 30) &* 0xBF58_476D_1CE4_E5B9
        word = (word ^ word >> 27) &* 0x94D0_49BB_1331_11EB
        word ^= word >> 31
        return (Int(truncatingIfNeeded: word) & (sets - 1), word | 1)
    }

    @inline(__always)
    static func set(_ key: BindingKey) -> Int { hash(key).set }

    /// A who-has for `key` from `requester` at `time`, answered by replies until `closes`.
    @inline(__always)
    mutating func ask(_ key: BindingKey, from requester: IPAddress, at time: Timestamp, closes: Timestamp) {
        let (set, tag) = Self.hash(key)
        let base = set * Self.ways
        var chosen = -1
        for way in 0..<Self.ways {
            let wayTag = tags[base + way]
            if wayTag == tag && entries[base + way].key == key {
                // The same address: its newer question replaces the older.
                chosen = way
                break
            }
            if chosen < 0 && (wayTag == 0 || closing[base + way] < time) { chosen = way }
        }
        if chosen < 0 {
            // Every way holds an open question: the oldest goes, counted.
            chosen = 0
            for way in 1..<Self.ways where entries[base + way].asked < entries[base + chosen].asked { chosen = way }
            evictedOpen += 1
        }
        tags[base + chosen] = tag
        closing[base + chosen] = closes
        entries[base + chosen] = Entry(
            key: key, requester: requester, asked: time, first: MACAddress(rawValue: 0),
            answered: false)
    }

    /// A reply from `mac` for `key` to `requester`. Returns the first answerer and the time of the question when
    /// `mac` is a second, different MAC answering the same question in its window; nil otherwise.
    @inline(__always)
    mutating func answer(_ key: BindingKey, from mac: MACAddress, to requester: IPAddress, at time: Timestamp)
        -> (first: MACAddress, asked: Timestamp)?
    {
        let (set, tag) = Self.hash(key)
        let base = set * Self.ways
        for way in 0..<Self.ways where tags[base + way] == tag {
            let index = base + way
            guard entries[index].key == key else { continue }
            guard entries[index].requester == requester, time >= entries[index].asked,
                time <= closing[index]
            else { return nil }
            if !entries[index].answered {
                entries[index].answered = true
                entries[index].first = mac
                return nil
            }
            return entries[index].first == mac ? nil : (entries[index].first, entries[index].asked)
        }
        return nil
    }
}
