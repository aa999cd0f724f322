import PacketCore

/// Finds a binding's position in the analyzer's arrays from its key: an open-addressing table (linear
/// probing, at most half full) of positions, compared through the bindings' keys.
///
/// It replaces `[BindingKey: Int]`, whose SipHash and generic probing were a third of the per-frame cost
/// (callgrind: about 340 instructions per frame for the lookup alone). Keys are a few machine words, so
/// one seeded multiply-xorshift mix is enough; the seed is random per process so that frames crafted to
/// collide (any host on the segment can send ARP for addresses of its choosing) cannot be precomputed.
/// Bindings are never removed, so the table needs no tombstones.
struct BindingIndex: Sendable {
    /// Positions in `bindings`, or -1 for an empty slot. The count is a power of two.
    private var slots: [Int32]
    private var shift: UInt64
    private(set) var count = 0
    private let seed: UInt64

    init(minimumCapacity: Int = 64) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        slots = Array(repeating: -1, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        seed = UInt64.random(in: .min ... .max) | 1
    }

    /// Where `key`'s binding is, or nil.
    @inline(__always)
    func find(_ key: BindingKey, in bindings: [Binding]) -> Int? {
        var slot = position(key)
        let mask = slots.count - 1
        while true {
            let found = Int(slots[slot])
            if found < 0 { return nil }
            if bindings[found].key == key { return found }
            slot = (slot + 1) & mask
        }
    }

    /// Record that `key`'s binding is at `index`; the key must not be in the table yet.
    mutating func insert(_ key: BindingKey, at index: Int, in bindings: [Binding]) {
        if (count + 1) * 2 > slots.count { grow(bindings) }
        place(key, index)
        count += 1
    }

    private mutating func place(_ key: BindingKey, _ index: Int) {
        var slot = position(key)
        let mask = slots.count - 1
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(truncatingIfNeeded: index)
    }

    private mutating func grow(_ bindings: [Binding]) {
        let old = slots
        slots = Array(repeating: -1, count: old.count * 2)
        shift -= 1
        for index in old where index >= 0 {
            place(bindings[Int(index)].key, Int(index))
        }
    }

    /// The home slot: the key's words mixed with the seed, top bits of a multiplicative hash.
    @inline(__always)
    private func position(_ key: BindingKey) -> Int {
        var word: UInt64
        switch key.ip {
        case .v4(let address): word = UInt64(address.rawValue)
        case .v6(let address): word = address.high &* 0xC2B2_AE3D_27D4_EB4F ^ address.low
        }
        word ^= key.vlans.rawValue &* 0x1656_67B1_9E37_79F9
        word ^= seed
        word = (word ^ word >> 32) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: word >> shift)
    }
}
