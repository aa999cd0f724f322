import Capture
import Foundation
import GarpWatchKit
import PacketCore
import Testing

/// Recorded lab captures (captures/ and captures/garpwatch/, see their README.md) through the analyzer, with
/// every expected value computed from tshark's decoding of the same file: owners, gaps, bursts, conflicts.
@Suite struct RecordedCaptureTests {
    struct Failover: Sendable, CustomTestStringConvertible {
        var file: String
        var vip: String
        /// tshark display filter selecting the frames that claim the VIP (on the right VLAN).
        var claims: String
        /// tshark field holding the claiming MAC.
        var macField: String
        /// tshark filter for the announcements among them.
        var announcements: String
        var vlans: [UInt16] = []
        var testDescription: String { file }
    }

    static let failovers: [Failover] = [
        Failover(file: "../failover-l2.pcap", vip: "198.51.100.20", claims: "arp.src.proto_ipv4 == 198.51.100.20",
                 macField: "arp.src.hw_mac", announcements: "arp.dst.proto_ipv4 == 198.51.100.20"),
        Failover(file: "keepalived-failover.pcap", vip: "198.51.100.40", claims: "arp.src.proto_ipv4 == 198.51.100.40",
                 macField: "arp.src.hw_mac", announcements: "arp.dst.proto_ipv4 == 198.51.100.40"),
        Failover(file: "na-failover.pcap", vip: "2001:db8:51::60", claims: "icmpv6.nd.na.target_address == 2001:db8:51::60",
                 macField: "icmpv6.opt.linkaddr", announcements: "icmpv6.nd.na.flag.s == 0"),
        Failover(file: "vlan-failover.pcap", vip: "198.51.100.70", claims: "vlan.id == 100 && arp.src.proto_ipv4 == 198.51.100.70",
                 macField: "arp.src.hw_mac", announcements: "arp.dst.proto_ipv4 == 198.51.100.70", vlans: [100]),
    ]

    @Test(arguments: failovers)
    func takeoverMatchesTshark(_ case_: Failover) throws {
        let path = Support.capture(case_.file)
        let claims = try Support.tshark(path, filter: case_.claims, fields: ["frame.time_epoch", case_.macField])
        let announced = try Support.tshark(
            path, filter: "(\(case_.claims)) && (\(case_.announcements))", fields: ["frame.time_epoch", case_.macField])
        let firstMAC = try #require(claims.first?[1])
        let switchIndex = try #require(claims.firstIndex { $0[1] != firstMAC })
        let newMAC = claims[switchIndex][1]
        let lastClaim = try #require(Support.timestamp(claims[switchIndex - 1][0]))
        let newFirst = try #require(Support.timestamp(claims[switchIndex][0]))
        // Issue 15 item 2: the old owner's replies to clients (the VIP as IP source, from its MAC) are signs of
        // life too; the gap starts at the last of them or of its claims, whichever is later.
        let sourceField = case_.vip.contains(":") ? "ipv6.src" : "ip.src"
        let replies = try Support.tshark(
            path, filter: "\(sourceField) == \(case_.vip) && eth.src == \(firstMAC) && !arp && !(icmpv6.type == 135 || icmpv6.type == 136)",
            fields: ["frame.time_epoch"]
        ).compactMap { $0.first.flatMap(Support.timestamp) }.filter { $0 < newFirst }
        let oldLast = max(lastClaim, replies.max() ?? lastClaim)
        // The burst: the new owner's announcements within the 6 s burst window, in rounds 200 ms apart.
        let burstTimes = announced.filter { $0[1] == newMAC }.compactMap { Support.timestamp($0[0]) }
            .filter { $0.nanoseconds(since: newFirst) <= 6_000_000_000 }
        var rounds = 0
        var previous: Timestamp?
        for time in burstTimes {
            if previous.map({ time.nanoseconds(since: $0) > 200_000_000 }) ?? true { rounds += 1 }
            previous = time
        }

        let (analyzer, events) = try Support.analyze(path)
        let takeovers = events.filter { $0.kind == .takeover && $0.key.ip.description == case_.vip }
        #expect(takeovers.count == 1)
        let event = try #require(takeovers.first)
        let takeover = try #require(event.takeover)
        #expect(event.oldMAC?.description == firstMAC)
        #expect(event.mac.description == newMAC)
        #expect(event.key.vlans.ids == case_.vlans)
        #expect(takeover.oldLast == oldLast)
        #expect(takeover.oldEvidence == (oldLast > lastClaim ? .ipSource : .claim))
        #expect(takeover.oldLastReply == replies.max())
        #expect(takeover.newFirst == newFirst)
        #expect(takeover.gapNanoseconds == newFirst.nanoseconds(since: oldLast))
        #expect(takeover.burst.frames == burstTimes.count)
        #expect(takeover.burst.rounds == rounds)
        #expect(takeover.burst.first == burstTimes.first && takeover.burst.last == burstTimes.last)
        #expect(events.allSatisfy { $0.kind != .splitBrain })
        let verdict = Verdict(try #require(Expectation("\(case_.vip)=\(newMAC)")), bindings: analyzer.bindings, nodes: NodeMap())
        #expect(verdict.outcome == .wrongOwner)  // the old owner announced it too
        // (on other VLANs another MAC may hold the same address: the verdict is about the address)
        #expect(Set(verdict.seen.map(\.description)).isSuperset(of: [firstMAC, newMAC]))
    }

    /// MetalLB: a request + reply pair every 1.1 s, five times (captures/README.md); keepalived: five requests
    /// back to back, again 5 s later. These are protocol facts of the senders, checked on top of tshark.
    @Test func burstShapesOfMetalLBAndKeepalived() throws {
        let (_, metallb) = try Support.analyze(Support.capture("../failover-l2.pcap"))
        let metallbBurst = try #require(metallb.first { $0.kind == .takeover }?.takeover?.burst)
        #expect(metallbBurst.frames == 10 && metallbBurst.rounds == 5)
        let spacing = Double(metallbBurst.roundSpacingNanoseconds ?? 0) / 1e9
        #expect(spacing > 1.1 && spacing < 1.2)
        let (_, keepalived) = try Support.analyze(Support.capture("keepalived-failover.pcap"))
        let keepalivedBurst = try #require(keepalived.first { $0.kind == .takeover }?.takeover?.burst)
        #expect(keepalivedBurst.frames == 10 && keepalivedBurst.rounds == 2)
    }

    @Test(arguments: ["split-brain.pcap", "split-brain-any.pcap"])
    func splitBrainMatchesTshark(_ file: String) throws {
        let path = Support.capture(file)
        let vip = "198.51.100.50"
        let macs = Set(try Support.tshark(path, filter: "arp.src.proto_ipv4 == \(vip)", fields: ["arp.src.hw_mac"]).map { $0[0] })
        #expect(macs.count == 2)
        let (analyzer, events) = try Support.analyze(path)
        let split = events.filter { $0.kind == .splitBrain && $0.key.ip.description == vip }
        #expect(split.count == 1)
        #expect(Set(split.first?.conflict?.macs.map(\.description) ?? []) == macs)
        #expect(!events.contains { $0.kind == .takeover && $0.key.ip.description == vip })
        for mac in macs {
            let verdict = Verdict(try #require(Expectation("\(vip)=\(mac)")), bindings: analyzer.bindings, nodes: NodeMap())
            #expect(verdict.outcome == .multipleOwners)
        }
    }

    /// Issue 15 item 1 on a recorded lab: two real kernels answering iputils arping's first (broadcast) request.
    @Test func twoRepliesToOneBroadcastRequestMatchTshark() throws {
        let path = Support.capture("arping-split-brain.pcap")
        let vip = "198.51.100.30"
        let repliers = Set(try Support.tshark(
            path, filter: "arp.opcode == 2 && arp.src.proto_ipv4 == \(vip)", fields: ["arp.src.hw_mac"]).map { $0[0] })
        let requester = try #require(try Support.tshark(
            path, filter: "arp.opcode == 1 && eth.dst == ff:ff:ff:ff:ff:ff && arp.dst.proto_ipv4 == \(vip)",
            fields: ["arp.src.proto_ipv4"]).first?.first)
        #expect(repliers.count == 2)
        let (analyzer, events) = try Support.analyze(path)
        let split = try #require(events.first { $0.kind == .splitBrain && $0.key.ip.description == vip })
        #expect(Set(split.conflict?.macs.map(\.description) ?? []) == repliers)
        #expect(split.evidence?.description == requester)
        #expect(!events.contains { $0.kind == .takeover || $0.kind == .splitBrainResolved })
        let verdict = Verdict(try #require(Expectation("\(vip)=\(repliers.sorted()[0])")), bindings: analyzer.bindings,
                              nodes: NodeMap())
        #expect(verdict.outcome == .multipleOwners)
    }

    /// Issue 15 item 2 on a recorded lab: real keepalived stopped gracefully. The gap runs from its priority-0
    /// advert to the new master's first gratuitous ARP, and the clients' gap from the last echo reply of the
    /// old MAC to the first of the new, all from tshark.
    @Test func keepalivedGracefulStopMatchesTshark() throws {
        let path = Support.capture("keepalived-graceful.pcap")
        let (old, new) = ("02:67:77:16:00:01", "02:67:77:16:00:02")
        func times(_ filter: String) throws -> [Timestamp] {
            try Support.tshark(path, filter: filter, fields: ["frame.time_epoch"]).compactMap { $0.first.flatMap(Support.timestamp) }
        }
        let release = try #require(try times("vrrp.prio == 0 && eth.src == \(old)").first)
        let newFirst = try #require(try times("arp.isgratuitous && eth.src == \(new)").first)
        let lastOldReply = try #require(try times("icmp.type == 0 && eth.src == \(old)").last)
        let firstNewReply = try #require(try times("icmp.type == 0 && eth.src == \(new)").first)
        let (_, events) = try Support.analyze(path)
        let takeover = try #require(events.first { $0.kind == .takeover }?.takeover)
        #expect(takeover.oldEvidence == .vrrpRelease)
        #expect(takeover.oldLast == release && takeover.newFirst == newFirst)
        #expect(takeover.gapNanoseconds == newFirst.nanoseconds(since: release))
        #expect(takeover.clientGapNanoseconds == firstNewReply.nanoseconds(since: lastOldReply))
    }

    /// Every ARP sender/target address and NA target that tshark reports, garpwatch saw too (and nothing else).
    @Test(arguments: [
        "../failover-l2.pcap", "../garp-arping.pcap", "../ndp-unsolicited-na.pcap", "../vlan-qinq.pcap", "../sll2-any.pcap",
        "keepalived-failover.pcap", "split-brain.pcap", "split-brain-any.pcap", "na-failover.pcap", "vlan-failover.pcap",
        "arping-split-brain.pcap", "keepalived-graceful.pcap",
    ])
    func everyAddressTsharkSeesGarpwatchSees(_ file: String) throws {
        let path = Support.capture(file)
        var tshark = Set<String>()
        for row in try Support.tshark(path, filter: "arp", fields: ["arp.src.proto_ipv4", "arp.dst.proto_ipv4"]) {
            tshark.formUnion(row.filter { !$0.isEmpty })
        }
        for row in try Support.tshark(path, filter: "icmpv6.type == 136", fields: ["icmpv6.nd.na.target_address"]) {
            tshark.formUnion(row.filter { !$0.isEmpty })
        }
        var ours = Set<String>()
        let source = try Capture.PacketSource.openFile(path)
        try source.forEach { record in
            let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
            if let observation = Observation.of(packet) {
                if packet.arp != nil {
                    ours.insert(packet.arp.map { "\($0.senderIP)" } ?? "")
                    if let target = observation.targetIP { ours.insert(target.description) }
                } else if observation.kind == .solicitedNA || observation.kind == .unsolicitedNA {
                    ours.insert(observation.key.ip.description)
                }
            }
            return .continue
        }
        #expect(!tshark.isEmpty)
        #expect(ours == tshark)
    }
}
