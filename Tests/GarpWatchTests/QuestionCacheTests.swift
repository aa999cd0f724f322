@testable import GarpWatchKit
import PacketCore
import Testing

/// The request table (first wave's note): requests whose addresses share a slot must not hide a split-brain.
@Suite struct QuestionCacheTests {
    let node1 = "02:76:73:15:01:01"
    let node2 = "02:76:73:15:01:02"
    let requester = "203.0.113.9"

    /// Keys (an address of 198.51.100.0/24 on a VLAN) that fall in the same set as untagged `vip`, found by
    /// search (the set function is fixed, so this is deterministic).
    func colliding(with vip: String, count: Int) throws -> [(ip: String, vlan: UInt16)] {
        let key = BindingKey(ip: try #require(IPAddress(vip)))
        var found: [(ip: String, vlan: UInt16)] = []
        for vlan in UInt16(1)...200 {
            for fourth in 1...254 where found.count < count {
                let candidate = "198.51.100.\(fourth)"
                guard let ip = IPAddress(candidate) else { continue }
                let other = BindingKey(vlans: VLANPath(ids: [vlan]), ip: ip)
                if QuestionCache.set(other) == QuestionCache.set(key) { found.append((candidate, vlan)) }
            }
        }
        return found
    }

    /// Who-has for the VIP, then who-has for addresses of the same set, then both holders answer the first: a
    /// split-brain, with up to `ways - 1` colliding requests in between; with more, the loss is counted.
    @Test(arguments: [1, 3, 4])
    func collidingRequestsDoNotHideASplitBrain(others: Int) throws {
        let vip = "198.51.100.20"
        let collisions = try colliding(with: vip, count: others)
        try #require(collisions.count == others, "the search found \(collisions.count) colliding addresses")
        var feeder = Feeder()
        feeder.feed(Frames.arp(op: 1, sender: "02:76:73:15:01:09", senderIP: requester, targetIP: vip), at: 0)
        for (index, other) in collisions.enumerated() {
            feeder.feed(Frames.arp(op: 1, sender: "02:76:73:15:01:08", senderIP: "203.0.113.8", targetIP: other.ip,
                                   vlans: [other.vlan]), at: 0.001 * Double(index + 1))
        }
        feeder.feed(Frames.arp(op: 2, sender: node1, senderIP: vip, target: "02:76:73:15:01:09", targetIP: requester),
                    at: 0.01)
        feeder.feed(Frames.arp(op: 2, sender: node2, senderIP: vip, target: "02:76:73:15:01:09", targetIP: requester),
                    at: 0.011)
        feeder.finish()
        if others < QuestionCache.ways {
            #expect(feeder.kinds(.splitBrain).count == 1, "\(others) colliding requests hid the split-brain")
            #expect(feeder.analyzer.evictedQuestions == 0)
        } else {
            // Bounded: the oldest open question gave way, and the summary says so.
            #expect(feeder.analyzer.evictedQuestions == 1)
            #expect(Renderer().summary(feeder.analyzer).first?.contains("1 who-has requests forgotten") == true)
        }
    }

    /// A request whose window is over frees its way: a steady stream of requests never counts as a loss.
    @Test func expiredQuestionsAreReusedNotEvicted() throws {
        var cache = QuestionCache()
        let key = BindingKey(ip: try #require(IPAddress("198.51.100.20")))
        let others = try colliding(with: "198.51.100.20", count: 8)
        for (index, other) in others.enumerated() {
            let time = Timestamp(seconds: Int64(index) * 2, nanoseconds: 0)
            cache.ask(BindingKey(vlans: VLANPath(ids: [other.vlan]), ip: try #require(IPAddress(other.ip))), from: .v4(IPv4Address(rawValue: 1)), at: time,
                      closes: time.adding(nanoseconds: 1_000_000_000))
        }
        #expect(cache.evictedOpen == 0)
        let late = Timestamp(seconds: 100, nanoseconds: 0)
        cache.ask(key, from: .v4(IPv4Address(rawValue: 1)), at: late, closes: late.adding(nanoseconds: 1_000_000_000))
        #expect(cache.answer(key, from: try #require(MACAddress(node1)), to: .v4(IPv4Address(rawValue: 1)), at: late) == nil)
        let second = cache.answer(key, from: try #require(MACAddress(node2)), to: .v4(IPv4Address(rawValue: 1)), at: late)
        #expect(second?.first == MACAddress(node1))
    }
}
