import Testing
@testable import PacketCore

typealias FB = FrameBuilder

@Suite("Frame decoding, layer by layer")
struct FrameDecodeTests {
    static let node1 = "02:00:00:00:00:01"
    static let node2 = "02:00:00:00:00:02"

    // MARK: ARP

    @Test(arguments: [
        // operation, sender IP, target MAC, target IP, expected kind
        (UInt16(1), "203.0.113.1", "00:00:00:00:00:00", "203.0.113.2", ARPKind.request),
        (2, "203.0.113.1", node2, "203.0.113.2", .reply),
        (1, "198.51.100.10", "ff:ff:ff:ff:ff:ff", "198.51.100.10", .gratuitousRequest),
        (2, "198.51.100.10", "ff:ff:ff:ff:ff:ff", "198.51.100.10", .gratuitousReply),
        (1, "0.0.0.0", "00:00:00:00:00:00", "198.51.100.10", .probe),
        (1, "198.51.100.10", "00:00:00:00:00:00", "198.51.100.10", .announcement),
        (3, "198.51.100.10", "00:00:00:00:00:00", "198.51.100.11", .other),
    ])
    func arpKinds(operation: UInt16, senderIP: String, targetMAC: String, targetIP: String, kind: ARPKind) throws {
        let frame = FB.ethernet(
            source: Self.node1, type: 0x0806,
            payload: FB.arp(
                operation: operation, senderMAC: Self.node1, senderIP: senderIP, targetMAC: targetMAC,
                targetIP: targetIP), padTo60: true)
        let packet = FB.decode(frame)
        let arp = try #require(packet.arp)
        #expect(packet.issue == nil)
        #expect(arp.kind == kind)
        #expect(arp.senderMAC.description == Self.node1)
        #expect(arp.senderIP.description == senderIP)
        #expect(arp.targetIP.description == targetIP)
        #expect(arp.anomalies.isEmpty)
        #expect(arp.isGratuitous == [.gratuitousRequest, .gratuitousReply, .announcement].contains(kind))
    }

    @Test func arpAnomaliesArpwatchReports() throws {
        // Frame source differs from the ARP sender hardware address ("ethernet mismatch").
        let mismatch = FB.decode(
            FB.ethernet(
                source: Self.node2, type: 0x0806,
                payload: FB.arp(
                    operation: 2, senderMAC: Self.node1, senderIP: "198.51.100.10", targetMAC: Self.node1,
                    targetIP: "198.51.100.10")))
        let arp = try #require(mismatch.arp)
        #expect(arp.anomalies == [.ethernetSourceMismatch])
        #expect(!arp.isGratuitousReplyWithForeignTarget)
        // Broadcast sender MAC ("ethernet broadcast") and zero sender MAC.
        for (sender, anomaly) in [("ff:ff:ff:ff:ff:ff", ARPAnomalies.broadcastSenderMAC), ("00:00:00:00:00:00", .zeroSenderMAC)] {
            let packet = FB.decode(
                FB.ethernet(
                    source: sender, type: 0x0806,
                    payload: FB.arp(
                        operation: 1, senderMAC: sender, senderIP: "203.0.113.1", targetMAC: "00:00:00:00:00:00",
                        targetIP: "203.0.113.2")))
            #expect(try #require(packet.arp).anomalies == anomaly)
        }
        // MetalLB's reply targets ff:ff:ff:ff:ff:ff, not its own MAC: Linux ignores it as gratuitous.
        let metallbReply = FB.decode(
            FB.ethernet(
                source: Self.node1, type: 0x0806,
                payload: FB.arp(
                    operation: 2, senderMAC: Self.node1, senderIP: "198.51.100.10", targetMAC: "ff:ff:ff:ff:ff:ff",
                    targetIP: "198.51.100.10")))
        #expect(try #require(metallbReply.arp).isGratuitousReplyWithForeignTarget)
    }

    @Test func arpForOtherHardwareIsUnsupportedNotACrash() {
        let frame = FB.ethernet(type: 0x0806, payload: FB.be16(6) + FB.be16(0x0800) + [8, 4] + FB.be16(1) + [UInt8](repeating: 1, count: 24))
        let packet = FB.decode(frame)
        #expect(packet.arp == nil)
        #expect(packet.issue?.kind == .unsupported)
        #expect(packet.issue?.layer == .arp)
    }

    // MARK: VLAN / QinQ

    @Test(arguments: [UInt16(0x8100), 0x88a8, 0x9100])
    func vlanTagsAreKeptOutermostFirst(outer: UInt16) throws {
        let frame = FB.ethernet(
            source: Self.node1, tags: [(outer, 0x2000 | 100), (0x8100, 20)], type: 0x0806,
            payload: FB.arp(
                operation: 1, senderMAC: Self.node1, senderIP: "198.51.100.10", targetMAC: "ff:ff:ff:ff:ff:ff",
                targetIP: "198.51.100.10"))
        let packet = FB.decode(frame)
        #expect(packet.issue == nil)
        #expect(packet.link.vlans.map(\.id) == [100, 20])
        #expect(packet.link.vlans.first?.tpid.rawValue == outer)
        #expect(packet.link.vlans.first?.priority == 1)
        #expect(packet.link.length == 22)
        #expect(try #require(packet.arp).kind == .gratuitousRequest)
    }

    @Test func manyVLANTagsOverflowWithoutCrashing() {
        let tags = (0..<40).map { (tpid: UInt16(0x8100), id: UInt16($0)) }
        let packet = FB.decode(FB.ethernet(tags: tags, type: 0x0800, payload: []))
        #expect(packet.link.vlans.count == VLANStack.capacity)
        #expect(packet.link.vlans.overflowed)
        #expect(packet.issue?.layer == .ipv4)
    }

    // MARK: Cooked, raw and loopback links

    @Test func linuxCookedV1AndV2() throws {
        let arp = FB.arp(
            operation: 1, senderMAC: Self.node1, senderIP: "198.51.100.10", targetMAC: "ff:ff:ff:ff:ff:ff",
            targetIP: "198.51.100.10")
        let sll: [UInt8] = FB.be16(4) + FB.be16(1) + FB.be16(6) + FB.mac(Self.node1) + [0, 0] + FB.be16(0x0806) + arp
        let v1 = FB.decode(sll, linkType: .linuxSLL)
        #expect(v1.issue == nil)
        #expect(v1.link.cookedPacketType == .outgoing)
        #expect(v1.link.source?.description == Self.node1)
        #expect(try #require(v1.arp).kind == .gratuitousRequest)

        let tcp = FB.ipv4(protocolNumber: 6, payload: FB.tcp(flags: 0x012))
        let sll2: [UInt8] = FB.be16(0x0800) + [0, 0] + FB.be32(7) + FB.be16(1) + [0, 6] + FB.mac(Self.node2) + [0, 0] + tcp
        let v2 = FB.decode(sll2, linkType: .linuxSLL2)
        #expect(v2.issue == nil)
        #expect(v2.link.interfaceIndex == 7)
        #expect(v2.link.cookedPacketType == .host)
        #expect(try #require(v2.tcp).flags == [.syn, .ack])
    }

    /// libpcap puts a stripped VLAN tag back after the cooked header: the tag is read like Ethernet's, and a
    /// cut tag is a truncation at the VLAN layer.
    @Test func linuxCookedWithReinsertedVLANTag() throws {
        let arp = FB.arp(
            operation: 1, senderMAC: Self.node1, senderIP: "198.51.100.10", targetMAC: "ff:ff:ff:ff:ff:ff",
            targetIP: "198.51.100.10")
        let header: [UInt8] = FB.be16(4) + FB.be16(1) + FB.be16(6) + FB.mac(Self.node1) + [0, 0] + FB.be16(0x8100)
        let tagged = FB.decode(header + FB.be16(0x2064) + FB.be16(0x0806) + arp, linkType: .linuxSLL)
        #expect(tagged.issue == nil)
        #expect(tagged.link.vlans.map(\.id) == [100])
        #expect(tagged.link.vlans.first?.priority == 1)
        #expect(try #require(tagged.arp).kind == .gratuitousRequest)

        let cut = FB.decode(header + [0x20], linkType: .linuxSLL)
        #expect(cut.issue?.layer == .vlan)
        #expect(cut.arp == nil)
    }

    @Test func rawAndLoopbackLinks() throws {
        let v4 = FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: [1, 2, 3]))
        let v6 = FB.ipv6(nextHeader: 17, payload: FB.udp(payload: [1, 2, 3]))
        for linkType in [LinkType.raw, .rawAlt12, .rawAlt14] {
            #expect(FB.decode(v4, linkType: linkType).udp?.destinationPort == 53)
            #expect(FB.decode(v6, linkType: linkType).ipv6 != nil)
        }
        #expect(FB.decode(v4, linkType: .ipv4).payload.count == 3)
        #expect(FB.decode(v6, linkType: .ipv6).payload.count == 3)
        // NULL: host byte order (little-endian writer here); LOOP: network order. AF_INET6 differs per OS.
        #expect(FB.decode([2, 0, 0, 0] + v4, linkType: .null).ipv4 != nil)
        #expect(FB.decode([0, 0, 0, 2] + v4, linkType: .null).ipv4 != nil)
        for family: UInt8 in [10, 24, 28, 30] {
            #expect(FB.decode([family, 0, 0, 0] + v6, linkType: .null).ipv6 != nil)
            #expect(FB.decode([0, 0, 0, family] + v6, linkType: .loop).ipv6 != nil)
        }
        let unknown = FB.decode(v4, linkType: LinkType(rawValue: 9999))
        #expect(unknown.issue?.kind == .unsupported)
        #expect(unknown.summary.contains("linktype-9999"))
    }

    // MARK: IPv4

    @Test func ipv4PaddingTrimmedOptionsAndFragments() throws {
        // A 1-byte UDP payload in a padded 60-byte frame: padding is not payload.
        let padded = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: [0xAB])), padTo60: true))
        #expect(padded.issue == nil)
        #expect(padded.payload.count == 1)

        // Router alert option (RFC 2113): 4 bytes of options.
        let withOptions = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: []), options: [148, 4, 0, 0])))
        let header = try #require(withOptions.ipv4)
        #expect(header.headerLength == 24)
        #expect(header.options.count == 4)
        var names: [String] = []
        try FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 17, payload: [], options: [1, 148, 4, 0, 0, 0, 0, 0]))
            .withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
                let cursor = Cursor(raw)
                var options = try cursor.window(14 + 20..<14 + 28)
                try IPv4Option.forEach(in: &options) { names.append($0.description) }
            }
        #expect(names == ["NOP", "RA", "EOL"])

        // A non-first fragment has no transport header.
        let fragment = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 6, payload: [1, 2, 3, 4], flagsAndOffset: 0x0002)))
        #expect(try #require(fragment.ipv4).isFragment)
        #expect(fragment.transport == .fragment)
        #expect(fragment.payload.count == 4)
        let first = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: [9]), flagsAndOffset: 0x2000)))
        #expect(try #require(first.ipv4).isFragment)
        #expect(first.udp != nil)
    }

    @Test func ipv4LengthLiesAreMalformedButSnaplenCutsAreTruncated() throws {
        let ip = FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: [1, 2, 3, 4]), totalLengthOverride: 200)
        let lying = FB.decode(FB.ethernet(type: 0x0800, payload: ip))
        #expect(lying.issue?.kind == .malformed)
        #expect(lying.udp != nil)  // decoded as far as it goes

        let whole = FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 17, payload: FB.udp(payload: [UInt8](repeating: 7, count: 100))))
        let cut = FB.decode(Array(whole.prefix(50)), originalLength: whole.count)
        #expect(cut.isTruncated)
        #expect(cut.issue?.kind == .truncated)
        #expect(cut.udp?.length == 108)
        #expect(cut.payload.count == 50 - 14 - 20 - 8)

        let badIHL = FB.decode(FB.ethernet(type: 0x0800, payload: [0x44] + [UInt8](repeating: 0, count: 30)))
        #expect(badIHL.issue?.kind == .malformed)
        #expect(badIHL.issue?.offset == 14)  // the version/IHL byte
    }

    // MARK: IPv6 and NDP

    @Test func unsolicitedNeighborAdvertisement() throws {
        let na = FB.neighborAdvertisement(target: "fd99::10", targetLinkLayer: Self.node1)
        let packet = FB.decode(
            FB.ethernet(
                source: Self.node1, destination: "33:33:00:00:00:01", type: 0x86DD,
                payload: FB.ipv6(source: "fe80::1", destination: "ff02::1", nextHeader: 58, payload: na, hopLimit: 255)))
        #expect(packet.issue == nil)
        let ndp = try #require(packet.ndp)
        #expect(ndp.type == .neighborAdvertisement)
        #expect(ndp.target?.description == "fd99::10")
        #expect(!ndp.router && !ndp.solicited && ndp.override)
        #expect(ndp.targetLinkLayer?.description == Self.node1)
        #expect(packet.ipv6?.hopLimit == 255)
        #expect(packet.summary.contains("neighbor advertisement tgt fd99::10 [O] tll 02:00:00:00:00:01 hlim 255"))
    }

    @Test func dadProbeAndSolicitation() throws {
        let dad = FB.decode(
            FB.ethernet(
                type: 0x86DD,
                payload: FB.ipv6(source: "::", destination: "ff02::1:ff00:10", nextHeader: 58,
                    payload: FB.neighborSolicitation(target: "fd99::10", sourceLinkLayer: nil), hopLimit: 255)))
        #expect(dad.isDADProbe)
        let ns = FB.decode(
            FB.ethernet(
                type: 0x86DD,
                payload: FB.ipv6(source: "fd99::1", destination: "ff02::1:ff00:10", nextHeader: 58,
                    payload: FB.neighborSolicitation(target: "fd99::10", sourceLinkLayer: Self.node2), hopLimit: 255)))
        #expect(!ns.isDADProbe)
        #expect(ns.ndp?.sourceLinkLayer?.description == Self.node2)
    }

    @Test func ndpOptionErrorsKeepTheFixedFields() throws {
        // Option length 0 is invalid (RFC 4861 4.6) but the target stays decoded.
        let na = FB.neighborAdvertisement(target: "fd99::10", targetLinkLayer: nil) + [2, 0, 0, 0, 0, 0, 0, 0]
        let packet = FB.decode(FB.ethernet(type: 0x86DD, payload: FB.ipv6(nextHeader: 58, payload: na, hopLimit: 255)))
        #expect(packet.ndp?.target?.description == "fd99::10")
        #expect(packet.ndp?.optionsError?.kind == .malformed)
        #expect(packet.issue?.layer == .ndp)
    }

    @Test func routerAdvertisementAndUnknownOptions() throws {
        var ra: [UInt8] = [134, 0, 0, 0, 64, 0xC0] + FB.be16(1800) + FB.be32(0) + FB.be32(0)
        ra += [1, 1] + FB.mac(Self.node1)  // source link-layer
        ra += [5, 1, 0, 0] + FB.be32(1500)  // MTU
        ra += [3, 4] + [UInt8](repeating: 0, count: 30)  // prefix information
        ra += [25, 3] + [UInt8](repeating: 0, count: 22)  // RDNSS, unknown to us
        let packet = FB.decode(FB.ethernet(type: 0x86DD, payload: FB.ipv6(nextHeader: 58, payload: ra, hopLimit: 255)))
        #expect(packet.issue == nil)
        let ndp = try #require(packet.ndp)
        #expect(ndp.currentHopLimit == 64 && ndp.managed && ndp.otherConfig && ndp.routerLifetime == 1800)
        #expect(ndp.sourceLinkLayer?.description == Self.node1)
        #expect(ndp.mtu == 1500 && ndp.prefixCount == 1 && ndp.otherOptionCount == 1)
    }

    @Test func ipv6ExtensionChainAndFragments() throws {
        // Hop-by-hop (8 bytes) -> destination options (16 bytes) -> TCP.
        let hopByHop: [UInt8] = [60, 0, 5, 2, 0, 0, 1, 0]
        let destination: [UInt8] = [6, 1] + [UInt8](repeating: 0, count: 14)
        let packet = FB.decode(
            FB.ethernet(type: 0x86DD, payload: FB.ipv6(nextHeader: 0, payload: hopByHop + destination + FB.tcp(flags: 0x002))))
        #expect(packet.issue == nil)
        let header = try #require(packet.ipv6)
        #expect(header.extensionCount == 2 && header.upperProtocol == .tcp && header.extensions.count == 24)
        #expect(packet.tcp?.flags == .syn)

        let laterFragment: [UInt8] = [6, 0] + FB.be16(185 << 3 | 1) + FB.be32(99)
        let fragment = FB.decode(FB.ethernet(type: 0x86DD, payload: FB.ipv6(nextHeader: 44, payload: laterFragment + [1, 2, 3])))
        #expect(fragment.ipv6?.fragment == IPv6Fragment(offset: 1480, moreFragments: true, identification: 99))
        #expect(fragment.transport == .fragment)

        // An endless chain of extension headers is cut off, never looped over.
        let endless = [UInt8]((0..<200).flatMap { _ in [UInt8(60), 0, 0, 0, 0, 0, 0, 0] })
        let hostile = FB.decode(FB.ethernet(type: 0x86DD, payload: FB.ipv6(nextHeader: 60, payload: endless)))
        #expect(hostile.issue?.kind == .malformed)
        #expect(hostile.ipv6?.extensionCount == IPv6Header.maximumExtensionHeaders)
    }

    // MARK: TCP and UDP

    @Test func tcpOptionsEveryKind() throws {
        // A SYN's options (40 bytes at most fit in a header), then a BGP segment's (TCP-MD5 and SACK).
        let synOptions: [UInt8] =
            [2, 4] + FB.be16(1460)  // MSS
            + [1, 3, 3, 7]  // NOP, window scale 7
            + [4, 2]  // SACK permitted
            + [8, 10] + FB.be32(111) + FB.be32(222)  // timestamps
            + [254, 4, 0xF9, 0x89]  // experimental, unknown to us: kept
        let syn = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 6, payload: FB.tcp(flags: 0x002, options: synOptions))))
        #expect(syn.issue == nil)
        let tcp = try #require(syn.tcp)
        #expect(tcp.flags == [.syn])
        #expect(tcp.options.maximumSegmentSize == 1460)
        #expect(tcp.options.windowScale == 7)
        #expect(tcp.options.sackPermitted)
        #expect(tcp.options.timestampValue == 111 && tcp.options.timestampEcho == 222)
        #expect(tcp.options.unknownCount == 1)
        #expect(tcp.options.md5Signature == nil)

        let bgpOptions: [UInt8] =
            [1, 1, 19, 18] + [UInt8](repeating: 0xAA, count: 16)  // TCP-MD5 signature (BGP with a password)
            + [5, 10] + FB.be32(1) + FB.be32(2)  // one SACK block
        let segment = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 6, payload: FB.tcp(flags: 0x018, options: bgpOptions, payload: [0xFF, 0xFF]))))
        #expect(segment.issue == nil)
        let bgp = try #require(segment.tcp)
        #expect(bgp.flags == [.psh, .ack])
        #expect(bgp.options.md5Signature?.count == 16)
        #expect(bgp.options.sackBlockCount == 1)
        #expect(segment.payload.count == 2)
        #expect(segment.summary.contains("options [sack 1,md5] len 2"))

        // Every option can be walked again, unknown kinds included.
        var kinds: [UInt8] = []
        try FB.tcp(options: synOptions).withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            var cursor = try Cursor(raw).window(20..<raw.count)
            try TCPOptions.forEach(in: &cursor) { (option: TCPOptions.Option) throws(ParseError) in kinds.append(option.kind) }
        }
        #expect(kinds == [2, 1, 3, 4, 8, 254])
    }

    @Test func tcpBadOptionLengthKeepsTheHeader() throws {
        let packet = FB.decode(
            FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 6, payload: FB.tcp(options: [2, 4, 5, 180, 30, 1, 0, 0]))))
        #expect(packet.tcp?.options.maximumSegmentSize == 1460)
        #expect(packet.issue?.kind == .malformed)
        #expect(packet.issue?.layer == .tcp)
        let badOffset = FB.ipv4(protocolNumber: 6, payload: FB.be16(1) + FB.be16(2) + [UInt8](repeating: 0, count: 8) + [0x20, 0x02] + [UInt8](repeating: 0, count: 6))
        #expect(FB.decode(FB.ethernet(type: 0x0800, payload: badOffset)).issue?.kind == .malformed)
    }

    @Test func udpLengthLimitsPayload() throws {
        var udp = FB.udp(payload: [1, 2, 3, 4])
        udp[4...5] = [0, 10]  // claims 2 bytes of payload; the IP packet carries 4
        let packet = FB.decode(FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 17, payload: udp)))
        #expect(packet.payload.count == 2)
        #expect(packet.issue == nil)
    }

    @Test func unknownEtherTypeAndProtocolAreKeptRaw() {
        let lldp = FB.decode(FB.ethernet(type: 0x88CC, payload: [1, 2, 3]))
        #expect(lldp.network == .other(.lldp))
        #expect(lldp.issue == nil)
        let gre = FB.decode(FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 47, payload: [0, 0, 8, 0])))
        #expect(gre.transport == .other(.gre))
        #expect(gre.payload.count == 4)
        let llc = FB.decode(FB.ethernet(type: 0x0030, payload: [0xAA]))
        #expect(llc.network == .other(nil))
    }
}

@Suite("TCP option fast paths")
struct TCPOptionFastPathTests {
    /// Linux's two everyday layouts take a shortcut; the same options padded with EOL take the general
    /// loop. Both must decode to the same values.
    @Test(arguments: [
        [1, 1, 8, 10] + FB.be32(0xDEAD_BEEF) + FB.be32(42),  // data: NOP NOP TS
        [2, 4, 0x05, 0xB4, 4, 2, 8, 10] + FB.be32(7) + FB.be32(0) + [1, 3, 3, 9],  // SYN: MSS SACKOK TS NOP WS
    ])
    func shortcutsAgreeWithTheGeneralLoop(options: [UInt8]) throws {
        func decode(_ options: [UInt8]) throws -> TCPOptions {
            let packet = FB.decode(FB.ethernet(type: 0x0800, payload: FB.ipv4(protocolNumber: 6, payload: FB.tcp(options: options))))
            #expect(packet.issue == nil)
            return try #require(packet.tcp?.options)
        }
        let fast = try decode(options)
        var slow = try decode(options + [0, 0, 0, 0])
        #expect(slow.range.count == fast.range.count + 4)
        slow.range = fast.range
        #expect(fast == slow)
        #expect(fast.timestampValue != nil)
    }
}
