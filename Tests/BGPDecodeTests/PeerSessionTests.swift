import BGPDecodeKit
import PacketCore
import Testing

/// The messages `bgpdecode listen` builds, read back by the parsers, and the passive state machine's
/// answers to the OPENs RFC 4271 section 6.2 says to reject.
@Suite("BGP message builder and passive peer state machine")
struct PeerSessionTests {
    static func parse(_ bytes: [UInt8]) throws -> (BGPMessageHeader, [UInt8]) {
        try bytes.withUnsafeBytes { raw in
            var cursor = Cursor(raw)
            let header = try BGPMessageHeader(parsing: &cursor)
            return (header, cursor.readRest())
        }
    }

    static func open(_ bytes: [UInt8]) throws -> BGPOpen {
        try bytes.withUnsafeBytes { raw in
            var cursor = Cursor(raw)
            _ = try BGPMessageHeader(parsing: &cursor)
            return try BGPOpen(parsing: &cursor)
        }
    }

    static func notification(_ bytes: [UInt8]) throws -> BGPNotification {
        try bytes.withUnsafeBytes { raw in
            var cursor = Cursor(raw)
            _ = try BGPMessageHeader(parsing: &cursor)
            return try BGPNotification(parsing: &cursor)
        }
    }

    static let configuration = BGPListenerConfiguration(
        localAS: 4_200_000_100, routerID: IPv4Address(203, 0, 113, 254),
        peers: [.v4(IPv4Address(203, 0, 113, 1)): 64513],
        holdTime: 30)

    @Test func ourOpenCarriesTheCapabilitiesTheIssueAsksFor() throws {
        let bytes = Self.configuration.openMessage
        let (header, _) = try Self.parse(bytes)
        #expect(header.type == .open)
        #expect(header.length == bytes.count)
        let open = try Self.open(bytes)
        #expect(open.version == 4)
        // RFC 6793 section 4.1: a 4-byte AS goes in My AS as AS_TRANS.
        #expect(open.myAS == BGPOpen.asTrans)
        #expect(open.autonomousSystem == 4_200_000_100)
        #expect(open.holdTime == 30)
        #expect(open.identifier == IPv4Address(203, 0, 113, 254))
        #expect(open.multiprotocolFamilies == [.ipv4Unicast, .ipv6Unicast])
        #expect(open.supportsExtendedMessage)
        #expect(open.capabilities.contains { $0.code == .routeRefresh })
        #expect(open.addPathModes() == [.ipv4Unicast: 1, .ipv6Unicast: 1])
        #expect(open.gracefulRestart == nil)
    }

    @Test func twoByteASGoesInMyAS() throws {
        let open = try Self.open(BGPMessageBuilder.open(asn: 64512, holdTime: 0, identifier: IPv4Address(1, 2, 3, 4),
            capabilities: []))
        #expect(open.myAS == 64512)
        #expect(open.capabilities.isEmpty)
    }

    @Test func keepaliveIsTheBareHeader() throws {
        let bytes = BGPMessageBuilder.keepalive()
        let (header, body) = try Self.parse(bytes)
        #expect(bytes.count == 19 && header.type == .keepalive && body.isEmpty)
    }

    @Test func ceaseCarriesTheShutdownCommunication() throws {
        let notification = try Self.notification(BGPMessageBuilder.cease(subcode: 2, communication: "maintenance ✓"))
        #expect(notification.code == 6 && notification.subcode == 2)
        #expect(notification.shutdownCommunication == "maintenance ✓")
        // RFC 9003: at most 255 bytes, cut on a character boundary.
        let long = try Self.notification(
            BGPMessageBuilder.cease(subcode: 2, communication: String(repeating: "é", count: 200)))
        #expect(long.shutdownCommunication == String(repeating: "é", count: 127))
    }

    static func session() -> BGPPeerSession {
        BGPPeerSession(remote: .v4(IPv4Address(203, 0, 113, 1)), local: .v4(IPv4Address(203, 0, 113, 254)),
            configuration: configuration, now: 0)
    }

    static func sent(_ actions: [BGPPeerAction]) -> [[UInt8]] {
        actions.compactMap { if case .send(let bytes) = $0 { bytes } else { nil } }
    }

    static func peerOpen(asn: UInt32 = 64513, hold: UInt16 = 9, id: IPv4Address = IPv4Address(203, 0, 113, 1),
        version: UInt8 = 4) throws -> BGPOpen
    {
        try open(BGPMessageBuilder.open(asn: asn, holdTime: hold, identifier: id, capabilities: [.fourOctetAS(asn)],
            version: version))
    }

    @Test(arguments: [
        // (peer AS, hold, identifier, version) -> NOTIFICATION code/subcode (RFC 4271 section 6.2)
        (UInt32(65000), UInt16(9), IPv4Address(203, 0, 113, 1), UInt8(4), UInt8(2), UInt8(2)),
        (UInt32(64513), UInt16(9), IPv4Address(203, 0, 113, 1), UInt8(3), UInt8(2), UInt8(1)),
        (UInt32(64513), UInt16(9), IPv4Address(0, 0, 0, 0), UInt8(4), UInt8(2), UInt8(3)),
        (UInt32(64513), UInt16(2), IPv4Address(203, 0, 113, 1), UInt8(4), UInt8(2), UInt8(6)),
    ])
    func badOpensAreRejectedWithTheRightNotification(
        asn: UInt32, hold: UInt16, id: IPv4Address, version: UInt8, code: UInt8, subcode: UInt8
    ) throws {
        var session = Self.session()
        _ = session.start()
        let peerOpen = try Self.peerOpen(asn: asn, hold: hold, id: id, version: version)
        let actions = session.receive(type: .open, open: peerOpen, now: 1)
        let sent = Self.sent(actions)
        #expect(sent.count == 1)
        let notification = try Self.notification(try #require(sent.first))
        #expect(notification.code == code && notification.subcode == subcode)
        #expect(actions.last == .close)
        #expect(session.state == .closed)
    }

    @Test func badPeerASSaysWhatToCheck() throws {
        var session = Self.session()
        _ = session.start()
        let actions = session.receive(type: .open, open: try Self.peerOpen(asn: 65000), now: 1)
        let logs = actions.compactMap { if case .log(let text) = $0 { text } else { nil } }
        #expect(logs.contains { $0.contains("says AS 65000, expected 64513: check the BGPPeer's myASN/peerASN") })
    }

    @Test func establishesKeepsAliveAndExpires() throws {
        var session = Self.session()
        _ = session.start()
        let second: Int64 = 1_000_000_000
        let reply = Self.sent(session.receive(type: .open, open: try Self.peerOpen(hold: 9), now: 0))
        #expect(try reply.map { try Self.parse($0).0.type } == [.keepalive])
        #expect(session.holdTime == 9)  // the smaller of 30 and 9
        #expect(Self.sent(session.receive(type: .keepalive, open: nil, now: 1 * second)).isEmpty)
        #expect(session.state == .established)
        // A KEEPALIVE every third of the hold time.
        #expect(try Self.sent(session.tick(now: 3 * second)).map { try Self.parse($0).0.type } == [.keepalive])
        #expect(session.tick(now: 4 * second).isEmpty)
        // Nothing from the peer for 9 s after its last message (at 1 s): Hold Timer Expired.
        #expect(Self.sent(session.tick(now: 9 * second)).allSatisfy { (try? Self.parse($0).0.type) == .keepalive })
        let expiry = session.tick(now: 10 * second)
        let notification = try Self.notification(try #require(Self.sent(expiry).first))
        #expect(notification.code == 4 && notification.subcode == 0)
        #expect(session.state == .closed)
    }

    @Test func negotiatedContextComesFromBothOpens() throws {
        var session = Self.session()
        _ = session.start()
        #expect(session.context == nil)
        _ = session.receive(type: .open, open: try Self.peerOpen(), now: 0)
        let context = try #require(session.context)
        #expect(context.asSize == 4)
        #expect(context.addPath(.ipv4Unicast) == false)  // the peer does not send path ids
    }
}
