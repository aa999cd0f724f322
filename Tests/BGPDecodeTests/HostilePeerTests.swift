import BGPDecodeKit
import Foundation
import PacketCore
import Synchronization
import Testing

/// Issue 16 item 10: hostile or broken peers on loopback (127.0.0.1 -> a listener on 127.0.0.3), driven by
/// hand: garbage before the OPEN, a bad length, 10 MB of zeros, too many prefixes, a burst of connections.
/// Each must get the RFC 4271 / RFC 4486 NOTIFICATION, a log line, and a closed connection.
@Suite("bgpdecode listen against hostile peers (issue 16 item 10)", .serialized)
struct HostilePeerTests {
    final class Running {
        let listener: BGPListener
        let analyzer: BGPAnalyzer
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
        final class LogSink: Sendable { let lines = Mutex<[String]>([]) }
        let sink: LogSink
        let port: UInt16

        init(maximumPrefixes: Int? = nil) throws {
            port = UInt16(20000 + (getpid() &+ Int32.random(in: 0..<5000)) % 20000)
            var configuration = BGPListenerConfiguration(
                localAS: 64512, routerID: IPv4Address(203, 0, 113, 254), bindAddress: .v4(IPv4Address(127, 0, 0, 3)),
                port: port, peers: [.v4(IPv4Address(127, 0, 0, 1)): 65001], holdTime: 30)
            configuration.maximumPrefixes = maximumPrefixes
            analyzer = BGPAnalyzer()
            let sink = LogSink()
            self.sink = sink
            listener = BGPListener(configuration: configuration, analyzer: analyzer) { text in
                sink.lines.withLock { $0.append(text) }
            }
            try listener.start()
            nonisolated(unsafe) let me = self
            Thread {
                me.listener.run { me.stop.load(ordering: .relaxed) }
                me.done.store(true, ordering: .relaxed)
            }.start()
        }

        func finish() {
            stop.store(true, ordering: .relaxed)
            while !done.load(ordering: .relaxed) { usleep(10_000) }
            listener.shutdown(communication: "test over")
        }

        var log: [String] { sink.lines.withLock { $0 } }

        func connect() throws -> Int32 { try HostilePeerTests.connect(port: port) }
    }

    /// A TCP connection from 127.0.0.1 to a listener on 127.0.0.3 `port`, with a 3 s receive timeout.
    static func connect(port: UInt16) throws -> Int32 {
        try ListenerLoopbackTests.connect(port: port, host: 0x7F00_0003, timeout: 3)
    }

    /// Our OPEN and a KEEPALIVE, then `count` (at most 256) /32s in 198.51.100.0/24, one UPDATE each (as
    /// MetalLB sends them).
    static func announceHostRoutes(_ client: Int32, count: Int) {
        ListenerLoopbackTests.send(client, Self.open)
        ListenerLoopbackTests.send(client, BGPMessageBuilder.keepalive())
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xE9, 0x40, 3, 4, 127, 0, 0, 1]
        for last in 0..<min(count, 256) {
            let body: [UInt8] = [0, 0, 0, UInt8(attributes.count)] + attributes + [32, 198, 51, 100, UInt8(last)]
            ListenerLoopbackTests.send(client, [UInt8](repeating: 0xFF, count: 16) + [0, UInt8(19 + body.count), 2] + body)
        }
    }

    static let open = BGPMessageBuilder.open(asn: 65001, holdTime: 30, identifier: IPv4Address(203, 0, 113, 1),
        capabilities: [.multiprotocol(.ipv4Unicast), .fourOctetAS(65001)])

    /// The NOTIFICATIONs (code, subcode) in what the listener sent, and whether it closed.
    static func notifications(_ descriptor: Int32) -> (codes: [[UInt8]], closed: Bool) {
        let (bytes, closed) = ListenerLoopbackTests.drain(descriptor)
        return (ListenLimitsTests.notificationCodes(bytes), closed)
    }

    static let broken: [(name: String, bytes: [UInt8], expected: [UInt8])] = [
        ("garbage before the OPEN", Array("GET / HTTP/1.0\r\n\r\n".utf8), [1, 1]),
        ("a length below 19", [UInt8](repeating: 0xFF, count: 16) + [0, 5, 1], [1, 2]),
        ("a length above 4096", [UInt8](repeating: 0xFF, count: 16) + [0x20, 0, 2], [1, 2]),
    ]

    @Test(arguments: 0..<3)
    func brokenBytesGetAMessageHeaderError(index: Int) throws {
        let (name, bytes, expected) = Self.broken[index]
        let running = try Running()
        defer { running.finish() }
        let client = try running.connect()
        defer { close(client) }
        ListenerLoopbackTests.send(client, bytes)
        let received = Self.notifications(client)
        #expect(received.codes == [expected], "\(name): \(received.codes)")
        #expect(received.closed, "\(name)")
        #expect(running.log.contains { $0.contains("not a BGP message") && $0.contains("Message Header Error") },
            "\(running.log)")
    }

    @Test func tenMegabytesOfZerosAreRefusedAtOnce() throws {
        let running = try Running()
        defer { running.finish() }
        let client = try running.connect()
        defer { close(client) }
        ListenerLoopbackTests.send(client, Self.open)
        ListenerLoopbackTests.send(client, BGPMessageBuilder.keepalive())
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var sent = 0
        for _ in 0..<10 {
            let count = zeros.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
        let received = Self.notifications(client)
        #expect(received.codes.contains([1, 1]), "\(received.codes)")
        #expect(received.closed)
        #expect(sent < 10 << 20 || received.closed)
    }

    @Test func tooManyPrefixesGetCeaseSixOne() throws {
        let running = try Running(maximumPrefixes: 100)
        defer { running.finish() }
        let client = try running.connect()
        defer { close(client) }
        Self.announceHostRoutes(client, count: 150)
        let received = Self.notifications(client)
        #expect(received.codes == [[6, 1]], "\(received.codes)")
        #expect(received.closed)
        #expect(running.log.contains { $0.contains("--max-prefixes 100") }, "\(running.log)")
        let key = BGPSessionKey(speaker: .v4(IPv4Address(127, 0, 0, 1)), peer: .v4(IPv4Address(127, 0, 0, 3)))
        let session = try #require(running.analyzer.sessions[key])
        #expect(!session.isUp && session.endedRoutes.count == 101, "\(session.endedRoutes.count)")
    }

    @Test func aBurstOfFiveHundredPeersIsAccepted() throws {
        let running = try Running()
        defer { running.finish() }
        // The listener refuses them (127.0.0.1 is the only peer and it speaks no OPEN here) but must accept
        // every one: each gets our OPEN first.
        var clients: [Int32] = []
        defer { for client in clients { close(client) } }
        for _ in 0..<500 { clients.append(try running.connect()) }
        var opened = 0
        for client in clients {
            var header = [UInt8](repeating: 0, count: 19)
            let count = header.withUnsafeMutableBytes { recv(client, $0.baseAddress, 19, Int32(MSG_WAITALL)) }
            if count == 19, header[18] == 1 { opened += 1 }
        }
        #expect(opened == 500)
    }
}
