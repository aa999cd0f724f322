import CPrefetch
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
    /// Per slot: the position in `bindings` plus one in the low 32 bits (0: an empty slot) and a 32-bit
    /// fingerprint of the key in the high 32. A probe compares fingerprints before it reads a binding, so
    /// only a probable match costs the cache miss of reading one (at 65,536 tracked addresses and a flood
    /// of new ones, a miss used to read about two bindings per frame). The count is a power of two.
    private var slots: [UInt64]
    private var shift: UInt64
    private(set) var count = 0
    private let seed: UInt64

    init(minimumCapacity: Int = 64) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        seed = UInt64.random(in: .min ... .max) | 1
    }

    /// Where `key`'s binding is, or nil.
    @inline(__always)
    func find(_ key: BindingKey, in bindings: [Binding]) -> Int? {
        let word = mix(key)
        let tag = word << 32
        var slot = Int(truncatingIfNeeded: word >> shift)
        let mask = slots.count - 1
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let found = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if bindings[found].key == key { return found }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Start loading `key`'s home slot into the cache (a hint): the frame's other work then overlaps the miss.
    @inline(__always)
    func prefetch(_ key: BindingKey) {
        let slot = Int(truncatingIfNeeded: mix(key) >> shift)
        slots.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { vipscope_prefetch(base + slot) }
        }
    }

    /// Start loading the binding `key` probably has (the first slot on its probe path whose fingerprint
    /// matches) into the cache, without reading any binding: a hint, so a wrong guess costs only the load.
    /// Reading the slot waits for it, so call this after `prefetch(_:)` had some work to hide behind.
    @inline(__always)
    func prefetchBinding(_ key: BindingKey, in bindings: [Binding]) {
        let word = mix(key)
        let tag = word << 32
        var slot = Int(truncatingIfNeeded: word >> shift)
        let mask = slots.count - 1
        for _ in 0..<4 {
            let entry = slots[slot]
            if entry == 0 { return }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let found = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                bindings.withUnsafeBufferPointer { buffer in
                    if let base = buffer.baseAddress, found < buffer.count { vipscope_prefetch(base + found) }
                }
                return
            }
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
        let word = mix(key)
        var slot = Int(truncatingIfNeeded: word >> shift)
        let mask = slots.count - 1
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = word << 32 | UInt64(truncatingIfNeeded: index + 1) & 0xFFFF_FFFF
    }

    private mutating func grow(_ bindings: [Binding]) {
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        shift -= 1
        for entry in old where entry != 0 {
            let index = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
            place(bindings[index].key, index)
        }
    }

    /// The key's words mixed with the seed (a multiplicative hash): the top bits pick the home slot, the low
    /// 32 bits are the fingerprint (the multiply by an odd constant is a bijection of the low 32 bits, so
    /// keys that differ only there, addresses of one subnet, never share a fingerprint).
    @inline(__always)
    private func mix(_ key: BindingKey) -> UInt64 {
        var word: UInt64
        switch key.ip {
        case .v4(let address): word = UInt64(address.rawValue)
        case .v6(let address): word = address.high &* 0xC2B2_AE3D_27D4_EB4F ^ address.low
        }
        word ^= key.vlans.rawValue &* 0x1656_67B1_9E37_79F9
        word ^= seed
        return (word ^ word >> 32) &* 0x9E37_79B9_7F4A_7C15
    }
}
