import BGPDecodeKit
import PacketCore
import Testing

/// Session state on hand-built messages: graceful restart (RFC 4724, RFC 8538), End-of-RIB, flaps,
/// ADD-PATH from the OPENs (RFC 7911), and the heuristic label.
@Suite("Sessions and RIB")
struct SessionTests {
    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func message(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [UInt8](repeating: 0xFF, count: 16) + be16(19 + body.count) + [type] + body
    }
    /// OPEN with 4-octet AS, graceful restart (N bit optional) for IPv4 unicast, ADD-PATH mode optional.
    static func open(asn: UInt8, gracefulRestart: Bool, notificationBit: Bool = false, addPath: UInt8? = nil) -> [UInt8] {
        var caps: [UInt8] = [1, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xFD, asn]
        if gracefulRestart { caps += [64, 6, notificationBit ? 0x40 : 0, 120, 0, 1, 1, 0x80] }
        if let addPath { caps += [69, 4, 0, 1, 1, addPath] }
        return message(1, [4, 0xFD, asn, 0, 90, 203, 0, 113, asn] + [UInt8(caps.count + 2), 2, UInt8(caps.count)] + caps)
    }
    static func announce(_ last: UInt8, pathID: UInt32? = nil) -> [UInt8] {
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 1, 0x40, 3, 4, 203, 0, 113, 1]
        let id: [UInt8] = pathID.map { [0, 0, 0, UInt8($0)] } ?? []
        return message(2, [0, 0] + be16(attributes.count) + attributes + id + [32, 198, 51, 100, last])
    }
    static let endOfRIB = message(2, [0, 0, 0, 0])
    static let speaker = BGPSessionKey(speaker: .v4(IPv4Address(203, 0, 113, 1)), peer: .v4(IPv4Address(203, 0, 113, 2)))

    /// Feed messages through an analyzer with the context the two OPENs negotiate.
    final class Harness {
        var events: [BGPEvent] = []
        lazy var analyzer = BGPAnalyzer { [unowned self] in self.events.append($0) }
        var opens: [BGPSessionKey: BGPOpen] = [:]
        var time = 0

        func send(_ bytes: [UInt8], from key: BGPSessionKey) {
            time += 1
            let context = BGPMessageContext.negotiated(sender: opens[key], receiver: opens[key.reversed])
            bytes.withUnsafeBytes { raw in
                if let open = analyzer.handleMessage(Cursor(raw), session: key, context: context,
                    timestamp: Timestamp(seconds: Int64(time), nanoseconds: 0)) { opens[key] = open }
            }
        }
    }

    @Test func gracefulRestartKeepsStaleRoutesUntilEndOfRIB() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: true), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: true), from: Self.speaker.reversed)
        harness.send(Self.announce(10), from: Self.speaker)
        harness.send(Self.announce(11), from: Self.speaker)
        harness.analyzer.endSession(Self.speaker, reason: "TCP RST", timestamp: Timestamp(seconds: 10, nanoseconds: 0))
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.count == 2 && session.staleCount == 2 && !session.isUp)
        // Reconnect: .10 is re-announced (fresh again), .11 is not; End-of-RIB flushes .11.
        harness.send(Self.open(asn: 1, gracefulRestart: true), from: Self.speaker)
        harness.send(Self.announce(10), from: Self.speaker)
        #expect(session.staleCount == 1)
        harness.send(Self.endOfRIB, from: Self.speaker)
        #expect(session.routes.keys.map(\.prefix.description) == ["198.51.100.10/32"])
        #expect(session.staleCount == 0 && session.isUp)
        #expect(harness.events.contains { if case .endOfRIB(_, _, let flushed) = $0 { flushed == 1 } else { false } })
        #expect(session.flaps.isEmpty, "a stale route flushed counts as gone, not as a flap of the announcement")
    }

    @Test func withoutGracefulRestartRoutesAreWithdrawnAtSessionEnd() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: true), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: false), from: Self.speaker.reversed)
        harness.send(Self.announce(10), from: Self.speaker)
        harness.analyzer.endSession(Self.speaker, reason: "TCP FIN", timestamp: Timestamp(seconds: 10, nanoseconds: 0))
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.isEmpty)
        #expect(session.flaps.values.reduce(0, +) == 1)
    }

    @Test(arguments: [(UInt8(2), true), (UInt8(9), false)])
    func notificationWithTheNBit(subcode: UInt8, keepsRoutes: Bool) throws {
        // RFC 8538: with N set on both sides, a NOTIFICATION keeps routes (stale), except Hard Reset (6/9).
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: true, notificationBit: true), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: true, notificationBit: true), from: Self.speaker.reversed)
        harness.send(Self.announce(10), from: Self.speaker)
        harness.send(Self.message(3, [6, subcode, 4, 0]), from: Self.speaker.reversed)
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(!session.isUp)
        #expect(session.routes.count == (keepsRoutes ? 1 : 0))
    }

    @Test func addPathFromTheOpensKeepsPathsApart() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: false, addPath: 2), from: Self.speaker)  // can send
        harness.send(Self.open(asn: 2, gracefulRestart: false, addPath: 1), from: Self.speaker.reversed)  // can receive
        harness.send(Self.announce(10, pathID: 1), from: Self.speaker)
        harness.send(Self.announce(10, pathID: 2), from: Self.speaker)
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.keys.map(\.pathID).sorted() == [1, 2])
        #expect(Set(session.routes.keys.map(\.prefix.description)) == ["198.51.100.10/32"])
        #expect(session.contextSource == .heuristic || session.contextSource == .open)
    }

    @Test func repeatedAnnouncementsAndFlaps() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: false), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: false), from: Self.speaker.reversed)
        for _ in 0..<3 {
            harness.send(Self.announce(10), from: Self.speaker)
            harness.send(Self.message(2, [0, 5, 32, 198, 51, 100, 10, 0, 0]), from: Self.speaker)
        }
        harness.send(Self.announce(10), from: Self.speaker)
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.count == 1)
        #expect(session.flaps.values.first == 3)
        #expect(BGPRender.tableText(harness.analyzer).contains("198.51.100.10/32=3"))
    }
}
