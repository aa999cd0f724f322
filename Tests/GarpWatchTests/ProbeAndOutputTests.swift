import Capture
import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// `--probe` request frames (checked by tshark and by the kernel's own checksum rules), the byte-level text
/// formatters (checked against the core's own `description`/`iso8601`), the owner-frame counting shortcut,
/// and the help layout.
@Suite struct ProbeAndOutputTests {
    static let ourMAC = MACAddress("02:67:70:00:00:09")!

    /// Write `frames` to a pcap and return tshark's `fields` for each (one array per frame).
    func tsharkFields(_ frames: [[UInt8]], _ fields: [String]) throws -> [[String]] {
        let path = NSTemporaryDirectory() + "gp-probe-\(getpid())-\(UUID().uuidString).pcap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PacketWriter(path: path, linkType: .ethernet)
        for frame in frames {
            let time = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
            frame.withUnsafeBytes { writer.write(timestamp: time, bytes: $0) }
        }
        try writer.close()
        return try Support.tshark(path, filter: "frame", fields: fields)
    }

    @Test func arpProbeRequestIsABroadcastWhoHas() throws {
        let target = try #require(IPAddress("198.51.100.20"))
        let probe = Prober.request(for: target, sourceMAC: Self.ourMAC, sourceIP: nil)
        let sourced = Prober.request(for: target, sourceMAC: Self.ourMAC, sourceIP: IPAddress("198.51.100.9"))
        let fields = ["eth.dst", "eth.src", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.proto_ipv4"]
        let rows = try tsharkFields([probe, sourced], fields)
        try #require(rows.count == 2)
        #expect(rows[0] == ["ff:ff:ff:ff:ff:ff", "02:67:70:00:00:09", "1", "02:67:70:00:00:09", "0.0.0.0",
                            "198.51.100.20"])
        #expect(rows[1][4] == "198.51.100.9")
        // Our own decoder calls the sender-0.0.0.0 form an ARP probe (RFC 5227), which claims nothing.
        #expect(Frames.decode(probe).arp?.kind == .probe)
    }

    @Test func neighborSolicitationGoesToTheSolicitedNodeGroup() throws {
        let target = try #require(IPAddress("2001:db8:90::1:2345"))
        let linkLocal = try #require(IPAddress("fe80::67:70ff:fe00:9"))
        let ns = Prober.request(for: target, sourceMAC: Self.ourMAC, sourceIP: linkLocal)
        let dad = Prober.request(for: target, sourceMAC: Self.ourMAC, sourceIP: nil)
        let fields = ["eth.dst", "ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.type", "icmpv6.nd.ns.target_address",
                      "icmpv6.opt.linkaddr", "icmpv6.checksum.status"]
        let rows = try tsharkFields([ns, dad], fields)
        try #require(rows.count == 2)
        #expect(rows[0] == ["33:33:ff:01:23:45", "fe80::67:70ff:fe00:9", "ff02::1:ff01:2345", "255", "135",
                            "2001:db8:90::1:2345", "02:67:70:00:00:09", "1"])
        // From :: (duplicate address detection form) RFC 4861 forbids the source link-layer option.
        #expect(rows[1][1] == "::" && rows[1][6] == "" && rows[1][7] == "1")
    }

    @Test func proberCountsEveryDistinctResponder() throws {
        let vip = "198.51.100.20"
        let address = try #require(IPAddress(vip))
        var prober = Prober(targets: [address])
        let replies = [("02:67:70:00:00:01", 1.0), ("02:67:70:00:00:02", 1.001), ("02:67:70:00:00:01", 2.0)]
        for (mac, seconds) in replies {
            let frame = Frames.arp(op: 2, sender: mac, senderIP: vip, target: "02:67:70:00:00:09", targetIP: "0.0.0.0")
            let nanoseconds = Int32(seconds.truncatingRemainder(dividingBy: 1) * 1e9)
            prober.observe(Frames.decode(frame), at: Timestamp(seconds: Int64(seconds), nanoseconds: nanoseconds))
        }
        // A request from the VIP (not a reply) and a reply for another address are not answers.
        let request = Frames.arp(op: 1, sender: "02:67:70:00:00:03", senderIP: vip, targetIP: vip)
        prober.observe(Frames.decode(request), at: .zero)
        prober.observe(Frames.decode(Frames.arp(op: 2, sender: "02:67:70:00:00:04", senderIP: "198.51.100.21",
                                                targetIP: "0.0.0.0")), at: .zero)
        let responders = try #require(prober.responders(for: address))
        #expect(responders.map(\.mac.description) == ["02:67:70:00:00:01", "02:67:70:00:00:02"])
        #expect(responders.map(\.replies) == [2, 1])
        #expect(responders[0].lastReply == Timestamp(seconds: 2, nanoseconds: 0))
    }

    @Test func textFormattersMatchTheCoreText() throws {
        var generator = SystemRandomNumberGenerator()
        var times: [Timestamp] = [.zero, Timestamp(seconds: -1, nanoseconds: 999_999_999),
                                  Timestamp(seconds: 951_782_400, nanoseconds: 5),
                                  Timestamp(seconds: 253_402_300_799, nanoseconds: 0)]
        var macs: [MACAddress] = [MACAddress(rawValue: 0), MACAddress(rawValue: 0xFFFF_FFFF_FFFF)]
        var ips: [IPAddress] = [.v4(IPv4Address(rawValue: 0)), .v4(IPv4Address(rawValue: .max))]
        for _ in 0..<500 {
            times.append(Timestamp(seconds: Int64.random(in: -5_000_000_000...5_000_000_000, using: &generator),
                                   nanoseconds: Int32.random(in: 0..<1_000_000_000, using: &generator)))
            macs.append(MACAddress(rawValue: UInt64.random(in: 0...0xFFFF_FFFF_FFFF, using: &generator)))
            ips.append(.v4(IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &generator))))
        }
        ips.append(try #require(IPAddress("2001:db8::1")))
        for time in times {
            var text = TextBuffer()
            text.append(iso8601: time)
            text.append(iso8601: time)  // the second one comes from the cached date
            #expect(text.string == time.iso8601 + time.iso8601)
        }
        for mac in macs {
            var text = TextBuffer()
            text.append(mac)
            #expect(text.string == mac.description)
        }
        for ip in ips {
            var text = TextBuffer()
            text.append(BindingKey(vlans: VLANPath(ids: [100, 200]), ip: ip))
            #expect(text.string == BindingKey(vlans: VLANPath(ids: [100, 200]), ip: ip).description)
        }
        for value in [0, 9, 10, Int.max, Int.min + 1, -42] {
            var text = TextBuffer()
            text.append(decimal: value)
            #expect(text.string == String(value))
        }
    }

    /// Owner frames take a counting shortcut (`Binding.countOwnerFrame`); the totals must still be exact,
    /// out-of-order times included, before and after a takeover moves the owner's record into the history.
    @Test func ownerFrameCountsAreExact() {
        var feeder = Feeder()
        let vip = "198.51.100.30"
        let times = [1.0, 3.0, 2.0, 2.5]
        let request = Frames.arp(op: 1, sender: "02:67:70:00:00:01", senderIP: vip, targetIP: "198.51.100.1")
        for time in times { feeder.feed(request, at: time) }
        feeder.feed(Frames.metallb("02:67:70:00:00:01", vip)[0], at: 3.5)
        var binding = feeder.analyzer.bindings[0]
        #expect(binding.frames == times.count + 1)
        #expect(binding.gratuitous == 1)
        #expect(binding.lastSeen.seconds == 1_700_000_003 && binding.lastSeen.nanoseconds == 500_000_000)
        #expect(binding.claimants.first?.frames == times.count + 1)
        feeder.feed(Frames.metallb("02:67:70:00:00:02", vip)[0], at: 20)
        feeder.feed(Frames.arp(op: 2, sender: "02:67:70:00:00:02", senderIP: vip, targetIP: "198.51.100.1"), at: 21)
        feeder.finish()
        binding = feeder.analyzer.bindings[0]
        #expect(binding.frames == times.count + 3)
        #expect(binding.claimants.map(\.frames) == [times.count + 1, 2])
        #expect(feeder.kinds(.takeover).first?.takeover?.oldLast.seconds == 1_700_000_003)
    }

    @Test func helpFitsEightyColumnsAndTeaches() throws {
        let output = try ChildProcess.run(["COLUMNS=80", try Support.garpwatchBinary(), "--help"])
        #expect(output.status == 0)
        for line in output.lines {
            #expect(line.count <= 80, "help line longer than 80 columns: \(line)")
        }
        // swift-argument-parser re-wraps long lines; a wrapped discussion line starts at column 0 mid-sentence.
        for needle in ["  exit 0 ", "  exit 10 ", "  exit 11 ", "  exit 12 ", "  exit 1 ", "  exit 2 ", "  exit 64 ",
                       "  garpwatch -r captures/failover-l2.pcap", "  garpwatch -i eth0 --probe 198.51.100.20",
                       "--probe <ip>", "--probe-source <ip>", "split-brain", "takeover"] {
            #expect(output.lines.contains { $0.contains(needle) }, "help lacks \(needle)")
        }
    }
}
