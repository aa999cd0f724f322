import Testing
@testable import PacketCore

/// Every prefix of well-formed frames: the decoder never crashes, flags the cut as truncation (never as
/// malformation), and whatever it does decode agrees with the full frame's decode.
@Suite("Truncation sweep")
struct TruncationSweepTests {
    static let frames: [(name: String, linkType: LinkType, bytes: [UInt8])] = [
        ("arp-gratuitous", .ethernet, FB.ethernet(
            source: "02:00:00:00:00:01", type: 0x0806,
            payload: FB.arp(operation: 2, senderMAC: "02:00:00:00:00:01", senderIP: "198.51.100.10",
                targetMAC: "ff:ff:ff:ff:ff:ff", targetIP: "198.51.100.10"), padTo60: true)),
        ("qinq-arp", .ethernet, FB.ethernet(
            tags: [(0x88a8, 100), (0x8100, 20)], type: 0x0806,
            payload: FB.arp(operation: 1, senderMAC: "02:00:00:00:00:01", senderIP: "0.0.0.0",
                targetMAC: "00:00:00:00:00:00", targetIP: "198.51.100.10"))),
        ("tcp-options", .ethernet, FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 6, payload: FB.tcp(
            flags: 0x018, options: [2, 4, 5, 180, 1, 3, 3, 7, 19, 18] + [UInt8](repeating: 1, count: 16),
            payload: Array("BGP!".utf8))))),
        ("ipv6-na", .ethernet, FB.ethernet(type: 0x86DD, payload: FB.ipv6(
            source: "fe80::1", destination: "ff02::1", nextHeader: 58,
            payload: FB.neighborAdvertisement(target: "2001:db8::10"), hopLimit: 255))),
        ("ipv6-ext-udp", .ethernet, FB.ethernet(type: 0x86DD, payload: FB.ipv6(
            nextHeader: 0, payload: [17, 0, 1, 4, 0, 0, 0, 0] + FB.udp(payload: [1, 2, 3])))),
        ("sll2-tcp", .linuxSLL2, FB.be16(0x0800) + [0, 0] + FB.be32(3) + FB.be16(1) + [4, 6]
            + FB.mac("02:00:00:00:00:02") + [0, 0] + FB.ipv4(protocolNumber: 6, payload: FB.tcp(payload: [1]))),
        ("sll-arp", .linuxSLL, FB.be16(0) + FB.be16(1) + FB.be16(6) + FB.mac("02:00:00:00:00:01") + [0, 0]
            + FB.be16(0x0806) + FB.arp(operation: 1, senderMAC: "02:00:00:00:00:01", senderIP: "203.0.113.1",
                targetMAC: "00:00:00:00:00:00", targetIP: "203.0.113.2")),
        ("null-udp", .null, [2, 0, 0, 0] + FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: [9, 9]))),
        ("raw-icmp", .raw, FB.ipv4(protocolNumber: 1, payload: [8, 0, 0, 0, 0, 1, 0, 1])),
    ]

    @Test(arguments: frames.indices)
    func everyPrefixDecodesConsistently(index: Int) throws {
        let (name, linkType, bytes) = Self.frames[index]
        let full = FB.decode(bytes, linkType: linkType)
        #expect(full.issue == nil, "\(name) must decode cleanly in full: \(String(describing: full.issue))")
        for length in 0...bytes.count {
            let packet = FB.decode(Array(bytes.prefix(length)), linkType: linkType, originalLength: bytes.count)
            #expect(packet.isTruncated == (length < bytes.count))
            if let issue = packet.issue {
                #expect(issue.kind == .truncated, "\(name)[..<\(length)]: \(issue)")
                #expect(issue.offset <= length)
            } else {
                // A clean decode of a cut frame means every header fitted: it must equal the full decode.
                #expect(packet.network == full.network, "\(name)[..<\(length)]")
                #expect(packet.transport == full.transport, "\(name)[..<\(length)]")
            }
            // What was decoded agrees with the full frame.
            if case .arp(let arp) = packet.network { #expect(full.arp == arp) }
            if packet.link.length > 0 { #expect(packet.link == full.link) }
            if let tcp = packet.tcp, tcp.options.error == nil { #expect(tcp == full.tcp) }
            if let ndp = packet.ndp {
                #expect(ndp.target == full.ndp?.target && ndp.override == full.ndp?.override)
                if ndp.targetLinkLayer != nil { #expect(ndp.targetLinkLayer == full.ndp?.targetLinkLayer) }
            }
            #expect(packet.payload.upperBound <= length)
            _ = packet.summary
        }
    }
}
