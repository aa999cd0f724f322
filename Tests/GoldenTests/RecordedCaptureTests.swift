import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// Every recorded capture in captures/ decodes to the values tshark decoded when it was recorded
/// (captures/expected/NAME.json, written by scripts/lab/tshark-expect.py).
@Suite("Recorded captures against tshark")
struct RecordedCaptureTests {
    static let captureFiles = Paths.files(in: Paths.captures, extensions: ["pcap", "pcapng"])

    @Test func thereAreRecordedCapturesAndEachHasExpectations() throws {
        #expect(Self.captureFiles.count >= 8, "captures/ should hold the lab recordings")
        let readme = try String(contentsOf: Paths.captures.appendingPathComponent("README.md"), encoding: .utf8)
        for file in Self.captureFiles {
            let name = file.deletingPathExtension().lastPathComponent
            #expect(
                FileManager.default.fileExists(atPath: Paths.expected.appendingPathComponent("\(name).json").path),
                "\(name) has no expected values")
            #expect(readme.contains(file.lastPathComponent), "\(file.lastPathComponent) is not described in captures/README.md")
        }
    }

    @Test(arguments: captureFiles.map(\.lastPathComponent))
    func decodesAsTsharkDid(fileName: String) throws {
        let file = Paths.captures.appendingPathComponent(fileName)
        let name = file.deletingPathExtension().lastPathComponent
        let data = try Data(contentsOf: Paths.expected.appendingPathComponent("\(name).json"))
        let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let expectedFrames = try #require(expected["frames"] as? [[String: Any]])
        let frames = try decodeFile(file)
        #expect(frames.count == expectedFrames.count, "\(fileName): frame count")
        var checked = 0
        for (frame, oracle) in zip(frames, expectedFrames) {
            checked += compare(frame, with: oracle, file: fileName)
        }
        #expect(checked > frames.count, "\(fileName): too few values compared (\(checked))")
    }

    /// Compares every value the oracle has for this frame; returns how many values were compared.
    func compare(_ frame: DecodedFrame, with oracle: [String: Any], file: String) -> Int {
        let packet = frame.packet
        let at = "\(file) frame \(frame.number)"
        var compared = 0
        func check<T: Equatable>(_ ours: T?, _ theirs: Any?, _ what: String) {
            guard let theirs else { return }
            compared += 1
            if let theirs = theirs as? T {
                #expect(ours == theirs, "\(at): \(what): ours \(String(describing: ours)), tshark \(theirs)")
            } else if let number = theirs as? NSNumber, let ours = ours as? Int {
                #expect(ours == number.intValue, "\(at): \(what): ours \(ours), tshark \(number)")
            } else {
                Issue.record("\(at): \(what): tshark value \(theirs) has an unexpected type")
            }
        }

        check(frame.originalLength, oracle["len"], "frame length")
        check(frame.capturedLength, oracle["cap_len"], "captured length")
        check(Int(packet.linkType.rawValue), oracle["linktype"], "link type")
        #expect(packet.issue == nil || packet.issue?.kind == .unsupported, "\(at): \(String(describing: packet.issue))")

        if let eth = oracle["eth"] as? [String: Any] {
            check(packet.link.source?.description, eth["src"], "eth.src")
            check(packet.link.destination?.description, eth["dst"], "eth.dst")
        }
        if let sll = oracle["sll"] as? [String: Any] {
            check(packet.link.source?.description, sll["src"], "sll.src")
            check(packet.link.cookedPacketType.map { Int($0.rawValue) }, sll["pkttype"], "sll.pkttype")
            check(packet.link.interfaceIndex.map { Int($0) }, sll["ifindex"], "sll.ifindex")
        }
        if let vlan = oracle["_vlan"] as? [String: Any] {
            let theirs = ((vlan["vlan_id"] as? [Int]) ?? []) + ((vlan["ad_id"] as? [Int]) ?? [])
            compared += 1
            #expect(packet.link.vlans.map { Int($0.id) }.sorted() == theirs.sorted(), "\(at): VLAN ids")
        }
        if let arp = oracle["arp"] as? [String: Any] {
            let ours = packet.arp
            #expect(ours != nil, "\(at): tshark saw ARP, we did not")
            check(ours.map { Int($0.operation.rawValue) }, arp["opcode"], "arp.opcode")
            check(ours?.senderMAC.description, arp["sender_mac"], "arp.sender_mac")
            check(ours?.senderIP.description, arp["sender_ip"], "arp.sender_ip")
            check(ours?.targetMAC.description, arp["target_mac"], "arp.target_mac")
            check(ours?.targetIP.description, arp["target_ip"], "arp.target_ip")
            // tshark: gratuitous when sender IP == target IP (request or reply); probe when sender IP is 0.
            check(ours.map { $0.senderIP == $0.targetIP }, arp["gratuitous"], "arp.isgratuitous")
            check(ours.map { $0.kind == .probe }, arp["probe"], "arp.isprobe")
            check(ours.map { $0.kind == .announcement }, arp["announcement"], "arp.isannouncement")
        }
        if let ip = oracle["ip"] as? [String: Any] {
            // Only the outer header: tshark also decodes IP inside ICMP errors, listing both.
            check(packet.ipv4?.source.description, ip["src"], "ip.src")
            check(packet.ipv4?.destination.description, ip["dst"], "ip.dst")
            check(packet.ipv4.map { Int($0.protocolNumber.rawValue) }, ip["proto"], "ip.proto")
            check(packet.ipv4.map { Int($0.ttl) }, ip["ttl"], "ip.ttl")
        }
        if let ipv6 = oracle["ipv6"] as? [String: Any] {
            check(packet.ipv6?.source.description, ipv6["src"], "ipv6.src")
            check(packet.ipv6?.destination.description, ipv6["dst"], "ipv6.dst")
            check(packet.ipv6.map { Int($0.nextHeader.rawValue) }, ipv6["next_header"], "ipv6.nxt")
            check(packet.ipv6.map { Int($0.hopLimit) }, ipv6["hop_limit"], "ipv6.hlim")
        }
        if let icmp = oracle["icmp"] as? [String: Any], case .icmpv4(let ours) = packet.transport {
            check(Int(ours.type), icmp["type"], "icmp.type")
            check(Int(ours.code), icmp["code"], "icmp.code")
        }
        if let icmpv6 = oracle["icmpv6"] as? [String: Any] {
            let ours = packet.icmpv6
            #expect(ours != nil, "\(at): tshark saw ICMPv6, we did not")
            check(ours.map { Int($0.type.rawValue) }, icmpv6["type"], "icmpv6.type")
            check(ours.map { Int($0.code) }, icmpv6["code"], "icmpv6.code")
            check(ours?.ndp?.router, icmpv6["na_router"], "na.flag.r")
            check(ours?.ndp?.solicited, icmpv6["na_solicited"], "na.flag.s")
            check(ours?.ndp?.override, icmpv6["na_override"], "na.flag.o")
            check(ours?.ndp?.target?.description, icmpv6["na_target"], "na.target")
            check(ours?.ndp?.target?.description, icmpv6["ns_target"], "ns.target")
            check(ours?.ndp?.sourceLinkLayer?.description, icmpv6["source_lladdr"], "opt.src_linkaddr")
            check(ours?.ndp?.targetLinkLayer?.description, icmpv6["target_lladdr"], "opt.target_linkaddr")
        }
        if let tcp = oracle["tcp"] as? [String: Any] {
            let ours = packet.tcp
            #expect(ours != nil, "\(at): tshark saw TCP, we did not")
            check(ours.map { Int($0.sourcePort) }, tcp["src_port"], "tcp.srcport")
            check(ours.map { Int($0.destinationPort) }, tcp["dst_port"], "tcp.dstport")
            check(ours.map { Int($0.sequence) }, tcp["seq"], "tcp.seq_raw")
            check(ours.map { Int($0.acknowledgment) }, tcp["ack"], "tcp.ack_raw")
            if let flags = tcp["flags"] as? Int { check(ours.map { Int($0.flags.rawValue) }, flags & 0x1FF, "tcp.flags") }
            check(ours.map { _ in packet.payload.count }, tcp["payload_len"], "tcp.len")
        }
        if let udp = oracle["udp"] as? [String: Any], let ours = packet.udp {
            check(Int(ours.sourcePort), udp["src_port"], "udp.srcport")
            check(Int(ours.destinationPort), udp["dst_port"], "udp.dstport")
        }
        return compared
    }
}
