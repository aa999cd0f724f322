@testable import GarpWatchKit
import PacketCore
import Testing

/// Issue 15: memory per tracked address. A binding is one inline record; what only some addresses need (a
/// second MAC, takeover and split-brain state, gratuitous requests) is allocated for those addresses alone.
@Suite struct BindingMemoryTests {
    @Test func bindingRecordStaysSmall() {
        // 128 bytes a binding leaves room in the 256-byte budget per address for the index and the summary.
        #expect(MemoryLayout<Binding>.stride <= 128)
    }

    @Test func steadyOwnerNeedsNoDetailAndAMoveGetsOne() {
        var feeder = Feeder()
        let vip = "198.51.100.31"
        let reply = Frames.arp(op: 2, sender: "02:67:70:00:00:01", senderIP: vip, targetIP: "198.51.100.1")
        for time in [1.0, 2.0, 3.0] { feeder.feed(reply, at: time) }
        var binding = feeder.analyzer.bindings[0]
        #expect(binding.existingDetail == nil)
        #expect(binding.claimants.map(\.frames) == [3])
        #expect(binding.ownerSince == binding.firstSeen)
        feeder.feed(Frames.arp(op: 2, sender: "02:67:70:00:00:02", senderIP: vip, targetIP: "198.51.100.1"), at: 4)
        binding = feeder.analyzer.bindings[0]
        #expect(binding.existingDetail != nil)
        // The old owner's record keeps its own frames and last frame, not the new owner's.
        #expect(binding.claimants.map(\.frames) == [3, 1])
        #expect(binding.claimants.first?.lastSeen.seconds == 1_700_000_003)
        #expect(binding.frames == 4)
    }
}
