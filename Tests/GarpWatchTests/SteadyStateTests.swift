import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// Issue 15 items 5-7 and the gaps of the first wave, from frames built by hand with known timing: a capture
/// begun after the last announcement, output in time order, MetalLB's healthy pattern, VRRP-only addresses and
/// two VRRP masters, and a pipe read as it is written.
@Suite struct SteadyStateTests {
    let node1 = "02:76:73:15:00:01"
    let node2 = "02:76:73:15:00:02"
    let vip = "198.51.100.20"
    let clientIP = "203.0.113.9"

    func ipv4(_ source: String, _ destination: String, _ protocolNumber: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x45, 0] + Frames.be16(UInt16(20 + payload.count)) + [0, 0, 0x40, 0, 255, protocolNumber, 0, 0]
            + Frames.ip4(source) + Frames.ip4(destination) + payload
    }

    /// An ICMP echo reply from the VIP to the client, sent by `mac`.
    func echoReply(_ mac: String, sequence: UInt16) -> [UInt8] {
        Frames.ethernet(source: mac, destination: "02:76:73:15:00:09", type: 0x0800,
                        payload: ipv4(vip, clientIP, 1, [0, 0, 0, 0, 0x12, 0x34] + Frames.be16(sequence)))
    }

    func advert(_ mac: String, priority: UInt8 = 150) -> [UInt8] {
        let vrrp: [UInt8] = [0x21, 51, priority, 1, 0, 1, 0, 0] + Frames.ip4(vip)
        return Frames.ethernet(source: mac, destination: "01:00:5e:00:00:12", type: 0x0800,
                               payload: ipv4("203.0.113.1", "224.0.0.18", 112, vrrp))
    }

    // MARK: Item 5

    /// No ARP at all: the owner is the MAC the VIP's replies come from, and a new MAC behind it is a takeover.
    @Test func steadyStateCaptureFindsTheOwnerFromItsReplies() throws {
        var options = AnalyzerOptions()
        options.ipSourceScope = [try #require(IPRange(vip))]
        var feeder = Feeder(options)
        for step in 0..<10 { feeder.feed(echoReply(node1, sequence: UInt16(step)), at: Double(step) * 0.5) }  // to 4.5 s
        for step in 0..<10 { feeder.feed(echoReply(node2, sequence: UInt16(20 + step)), at: 12 + Double(step) * 0.5) }
        feeder.finish()
        let stations = feeder.kinds(.newStation)
        #expect(stations.map(\.mac.description) == [node1])
        #expect(stations.first?.frameKind == .ipSource)
        let takeover = try #require(feeder.kinds(.takeover).first)
        #expect(takeover.oldMAC?.description == node1 && takeover.mac.description == node2)
        #expect(takeover.takeover?.gapNanoseconds == 7_500_000_000)  // 4.5 s -> 12 s
        #expect(takeover.takeover?.newEvidence == .ipSource)
        #expect(feeder.kinds(.splitBrain).isEmpty)
        let verdict = Verdict(try #require(Expectation("\(vip)=\(node2)")), bindings: feeder.analyzer.bindings,
                              nodes: NodeMap())
        #expect(verdict.outcome == .ok)
        #expect(feeder.analyzer.counters.otherClaims == 2 && feeder.analyzer.counters.arp == 0)  // the first, the move
    }

    /// Without a followed address, IP sources are no claims: every routed client would be a router "station".
    @Test func ipSourcesOutsideTheScopeClaimNothing() {
        var feeder = Feeder()
        for step in 0..<4 { feeder.feed(echoReply(node1, sequence: UInt16(step)), at: Double(step)) }
        feeder.finish()
        #expect(feeder.events.isEmpty)
        #expect(feeder.analyzer.bindings.isEmpty)
    }

    // MARK: Item 7

    /// MetalLB's request + reply to ff:ff:ff:ff:ff:ff each round: said once as metallb-style, never lint; a
    /// lone reply of that shape (no request in its round) still misleads Linux and stays lint.
    @Test func metalLBPatternIsRecognisedOnceAndNotLint() {
        var feeder = Feeder()
        for round in 0..<5 {
            for frame in Frames.metallb(node1, vip) { feeder.feed(frame, at: Double(round) * 1.1) }
        }
        for round in 0..<5 {
            for frame in Frames.metallb(node2, vip) { feeder.feed(frame, at: 20 + Double(round) * 1.1) }
        }
        feeder.feed(Frames.arp(op: 2, sender: node1, senderIP: "198.51.100.21", targetIP: "198.51.100.21"), at: 40)
        feeder.finish()
        let styles = feeder.kinds(.metalLBStyle)
        #expect(styles.map { "\($0.key.ip) \($0.mac)" } == ["\(vip) \(node1)", "\(vip) \(node2)"])
        #expect(feeder.kinds(.lint).map { "\($0.key.ip)" } == ["198.51.100.21"])
        #expect(feeder.kinds(.takeover).count == 1)
        let line = Renderer().textLine(styles[0])
        #expect(line.contains("metallb-style \(vip) \(node1)"), "\(line)")
        #expect(Renderer(json: true).line(styles[0]).contains("\"event\":\"metallb-style\""))
    }

    // MARK: VRRP

    /// An address seen only in VRRP adverts gets a binding; two masters advertising it in turn are split-brain.
    @Test func vrrpOnlyAddressAndTwoMasters() throws {
        var feeder = Feeder()
        for second in 0..<3 { feeder.feed(advert(node1), at: Double(second)) }
        #expect(feeder.kinds(.newStation).map(\.frameKind) == [.vrrpAdvert])
        #expect(feeder.kinds(.splitBrain).isEmpty)
        // keepalived on both nodes as MASTER (VRRP between them blocked): adverts from both, interleaving.
        for second in 3..<6 {
            feeder.feed(advert(node2), at: Double(second))
            feeder.feed(advert(node1), at: Double(second) + 0.5)
        }
        feeder.finish()
        let split = try #require(feeder.kinds(.splitBrain).first)
        #expect(Set(split.conflict?.macs.map(\.description) ?? []) == [node1, node2])
        let verdict = Verdict(try #require(Expectation("\(vip)=\(node1)")), bindings: feeder.analyzer.bindings,
                              nodes: NodeMap())
        #expect(verdict.outcome == .multipleOwners)
    }

    /// A graceful handover (priority 0, then the other master) and a dead master (silence, then the other) are
    /// takeovers, never split-brain.
    @Test func vrrpHandoversAreNotSplitBrain() {
        for graceful in [true, false] {
            var feeder = Feeder()
            for second in 0..<4 { feeder.feed(advert(node1), at: Double(second)) }
            if graceful { feeder.feed(advert(node1, priority: 0), at: 3.5) }
            for second in 0..<4 { feeder.feed(advert(node2), at: (graceful ? 4 : 7) + Double(second)) }
            feeder.finish()
            #expect(feeder.kinds(.splitBrain).isEmpty, "graceful: \(graceful)")
            #expect(feeder.kinds(.takeover).count == 1, "graceful: \(graceful)")
        }
    }

    // MARK: Item 6, and a pipe read as it is written

    /// A takeover is only known seconds after its first frame; its line still comes before later events.
    @Test func outputIsInTimeOrder() throws {
        var frames = HardeningTests.failoverFrames()  // node1 from 0 s, node2 takes over at 10 s
        frames.append((12, Frames.arp(op: 1, sender: node1, senderIP: "198.51.100.30", targetIP: "198.51.100.1")))
        frames.sort { $0.0 < $1.0 }
        let capture = HardeningTests.scratch("time-order.pcap")
        try HardeningTests.writeCapture(capture, frames)
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", capture])
        let events = output.lines.filter { $0.hasPrefix("2023-") }
        let kinds = events.map { $0.split(separator: " ")[1] }
        let takeover = try #require(kinds.firstIndex(of: "takeover"), "\(output.standardOutput)")
        let later = try #require(events.firstIndex { $0.contains("198.51.100.30") })
        #expect(takeover < later, "\(output.standardOutput)")
        let times = events.map { String($0.split(separator: " ")[0]) }
        #expect(times == times.sorted(), "\(output.standardOutput)")
    }

    /// `tcpdump -U -w - | garpwatch -r -`: an event is printed while the writer still holds the pipe open.
    @Test func eventsFromAPipeArePrintedBeforeItCloses() throws {
        let capture = HardeningTests.scratch("stream-source.pcap")
        try HardeningTests.writeCapture(capture, HardeningTests.failoverFrames())
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: capture)))
        let fifo = HardeningTests.scratch("stream.fifo")
        let printed = HardeningTests.scratch("stream.out")
        unlink(fifo)
        try #require(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let running = try RunningProcess(
            "/bin/sh", ["-c", "exec \"$0\" -r \"$1\" > \"$2\"", try Support.garpwatchBinary(), fifo, printed])
        let writer = try #require(FileHandle(forWritingAtPath: fifo))
        // The file header and the first frame (16-byte record header + 42-byte ARP frame) only.
        try writer.write(contentsOf: Data(bytes.prefix(24 + 16 + 42)))
        var seen = ""
        for _ in 0..<50 where !seen.contains("new-station") {
            usleep(100_000)
            seen = (try? String(contentsOfFile: printed, encoding: .utf8)) ?? ""
        }
        #expect(seen.contains("new-station \(HardeningTests.vip) \(HardeningTests.node1)"),
                "nothing printed while the pipe stayed open: \(seen)")
        try writer.write(contentsOf: Data(bytes.dropFirst(24 + 16 + 42)))
        try writer.close()
        let output = running.wait()
        #expect(output.status == 0, "\(output.standardError)")
        let all = (try? String(contentsOfFile: printed, encoding: .utf8)) ?? ""
        #expect(all.contains("takeover") && all.contains("summary: "), "\(all)")
    }
}
