import Testing
@testable import PacketCore

/// MRT records built field by field (RFC 6396, RFC 8050).
@Suite("MRT records")
struct MRTRecordTests {
    typealias B = BGPBuild

    static let peerIndex: [UInt8] = B.mrt(type: 13, subtype: 1,
        B.be32(0xCB00_7101) + B.be16(4) + Array("main".utf8) + B.be16(2)
            + [2] + B.be32(0xCB00_7102) + B.be32(0xCB00_7102) + B.be32(4_200_000_001)
            + [1] + B.be32(9) + BGPBuild.prefix("2001:db8::9/128").dropFirst() + B.be16(64513))

    static let ribEntry: [UInt8] = {
        let attributes = B.attribute(1, [0]) + B.attribute(2, B.asPath([4_200_000_001])) + B.attribute(3, B.be32(0xCB00_7102))
        return B.mrt(type: 13, subtype: 8,  // RIB_IPV4_UNICAST_ADDPATH
            B.be32(7) + B.prefix("198.51.100.0/24") + B.be16(1)
                + B.be16(0) + B.be32(1_700_000_000) + B.be32(42) + B.be16(attributes.count) + attributes)
    }()

    @Test func bgp4mpExtendedTimestampAS4() throws {
        let record = B.bgp4mpAS4(B.keepalive)
        try withCursor(over: record) { (cursor: inout Cursor) throws(ParseError) in
            let whole = cursor
            let header = try MRTHeader(parsing: &cursor)
            #expect(header.type == .bgp4mpET)
            #expect(header.timestamp == Timestamp(seconds: 1_700_000_000, nanoseconds: 250_000_000))
            var body = try whole.window(header.body)
            let entry = try MRTBGP4MP(parsing: &body, subtype: MRTBGP4MPSubtype(rawValue: header.subtype))
            #expect(entry.peerAS == 64512 && entry.localAS == 4_200_000_001)
            #expect(entry.peerAddress == .v4(IPv4Address(203, 0, 113, 2)))
            #expect(entry.message?.count == 19)
            var framed = whole
            #expect(MRTHeader.frame(&framed) == .message(length: record.count))
        }
    }

    @Test func bgp4mpTwoByteStateChange() throws {
        let body = B.be16(64512) + B.be16(64513) + B.be16(3) + B.be16(2) + B.prefix("fd99::2/128").dropFirst()
            + B.prefix("fd99::1/128").dropFirst() + B.be16(6) + B.be16(1)
        try withCursor(over: B.mrt(type: 16, subtype: 0, body)) { (cursor: inout Cursor) throws(ParseError) in
            let whole = cursor
            let header = try MRTHeader(parsing: &cursor)
            var window = try whole.window(header.body)
            let entry = try MRTBGP4MP(parsing: &window, subtype: .stateChange)
            #expect(entry.oldState == 6 && entry.newState == 1 && entry.interfaceIndex == 3)
            #expect(entry.localAddress.description == "fd99::1")
        }
    }

    @Test func tableDumpV2PeerIndexAndAddPathRIB() throws {
        let peers = try withCursor(over: Self.peerIndex) { (cursor: inout Cursor) throws(ParseError) in
            let whole = cursor
            let header = try MRTHeader(parsing: &cursor)
            var body = try whole.window(header.body)
            return try MRTPeerIndexTable(parsing: &body)
        }
        #expect(peers.viewName == "main" && peers.peers.count == 2)
        #expect(peers.peers[0].autonomousSystem == 4_200_000_001 && peers.peers[1].autonomousSystem == 64513)
        #expect(peers.peers[1].address.description == "2001:db8::9")
        try withCursor(over: Self.ribEntry) { (cursor: inout Cursor) throws(ParseError) in
            let whole = cursor
            let header = try MRTHeader(parsing: &cursor)
            var body = try whole.window(header.body)
            let rib = try MRTRIBRecord(parsing: &body, subtype: MRTTableDumpV2Subtype(rawValue: header.subtype))
            #expect(rib.sequence == 7 && rib.family == .ipv4Unicast)
            #expect(rib.prefix?.description == "198.51.100.0/24")
            #expect(rib.entries.count == 1 && rib.entries[0].pathID == 42)
            let attributes = BGPAttributes(parsing: try whole.window(rib.entries[0].attributes), asSize: 4)
            #expect(attributes.asPath?.description == "4200000001")
        }
    }

    @Test(arguments: [peerIndex, ribEntry, BGPBuild.bgp4mpAS4(BGPBuild.announce(["198.51.100.1/32"]))])
    func everyPrefixIsTruncation(record: [UInt8]) {
        for length in 0..<record.count {
            let cut = Array(record.prefix(length))
            do throws(ParseError) {
                try withCursor(over: cut) { (cursor: inout Cursor) throws(ParseError) in _ = try MRTHeader(parsing: &cursor) }
                Issue.record("a record cut at \(length) decoded")
            } catch {
                #expect(error.kind == .truncated)
            }
            var framed: FrameResult = .needMore
            cut.withUnsafeBytes { raw in
                var cursor = Cursor(raw)
                framed = MRTHeader.frame(&cursor)
            }
            #expect(framed == .needMore)
        }
    }
}
