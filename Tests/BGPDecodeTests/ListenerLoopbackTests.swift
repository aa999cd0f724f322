import BGPDecodeKit
import Foundation
import PacketCore
import Synchronization
import Testing

/// `BGPListener` on 127.0.0.2 (clients come from 127.0.0.1, so the two directions differ) with hand-driven
/// clients: a peer that connects again while its first connection is still open (no BGP daemon does this
/// on demand). The clients' messages are built by `BGPMessageBuilder` and by hand (RFC 4271 section 4.3).
@Suite("BGPListener on loopback", .serialized)
struct ListenerLoopbackTests {
    /// RFC 4271 section 4.3: no withdrawals; ORIGIN IGP, AS_PATH [65001] (4-byte AS), NEXT_HOP 127.0.0.1;
    /// NLRI 198.51.100.50/32.
    static let update: [UInt8] = {
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xE9, 0x40, 3, 4, 127, 0, 0, 1]
        let body: [UInt8] = [0, 0, 0, UInt8(attributes.count)] + attributes + [32, 198, 51, 100, 50]
        return [UInt8](repeating: 0xFF, count: 16) + [0, UInt8(19 + body.count), 2] + body
    }()

    /// A TCP connection from 127.0.0.1 to `host` (127.0.0.2 by default) `port`, with a receive timeout.
    static func connect(port: UInt16, host: UInt32 = 0x7F00_0002, timeout seconds: Int = 2) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = host.bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(status == 0, "connect: \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    static func send(_ descriptor: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything readable until the peer closes or 2 s pass.
    static func drain(_ descriptor: Int32) -> (bytes: [UInt8], closed: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (bytes, true) }
            if count < 0 { return (bytes, false) }
            bytes += chunk[..<count]
        }
    }

    static func types(_ bytes: [UInt8]) -> [UInt8] {
        var types: [UInt8] = []
        var index = 0
        while index + 19 <= bytes.count {
            let length = Int(bytes[index + 16]) << 8 | Int(bytes[index + 17])
            guard length >= 19 else { break }
            types.append(bytes[index + 18])
            index += length
        }
        return types
    }

    @Test func reconnectEndsTheOldSessionAndWithdrawsItsRoutes() throws {
        let port = UInt16(20000 + getpid() % 20000)
        let configuration = BGPListenerConfiguration(
            localAS: 64512, routerID: IPv4Address(203, 0, 113, 254), bindAddress: .v4(IPv4Address(127, 0, 0, 2)),
            port: port, peers: [.v4(IPv4Address(127, 0, 0, 1)): 65001], holdTime: 30)
        nonisolated(unsafe) var events: [BGPEvent] = []
        nonisolated(unsafe) var logs: [String] = []
        let analyzer = BGPAnalyzer { events.append($0) }
        let listener = BGPListener(configuration: configuration, analyzer: analyzer) { logs.append($0) }
        try listener.start()
        let stop = Atomic<Bool>(false)
        nonisolated(unsafe) let running = listener
        let done = Atomic<Bool>(false)
        let thread = Thread {
            running.run { stop.load(ordering: .relaxed) }
            done.store(true, ordering: .relaxed)
        }
        thread.start()
        defer {
            stop.store(true, ordering: .relaxed)
            while !done.load(ordering: .relaxed) { usleep(10_000) }
        }

        let open = BGPMessageBuilder.open(asn: 65001, holdTime: 30, identifier: IPv4Address(203, 0, 113, 1),
            capabilities: [.multiprotocol(.ipv4Unicast), .fourOctetAS(65001)])
        let first = try Self.connect(port: port)
        defer { close(first) }
        Self.send(first, open)
        Self.send(first, BGPMessageBuilder.keepalive())
        Self.send(first, Self.update)
        usleep(300_000)
        let second = try Self.connect(port: port)
        defer { close(second) }
        Self.send(second, open)
        Self.send(second, BGPMessageBuilder.keepalive())
        // The first connection got our OPEN and KEEPALIVE, then was closed by the listener.
        let firstReceived = Self.drain(first)
        #expect(Self.types(firstReceived.bytes).prefix(2) == [1, 4])
        #expect(firstReceived.closed)
        usleep(300_000)
        stop.store(true, ordering: .relaxed)
        while !done.load(ordering: .relaxed) { usleep(10_000) }

        let peer = IPAddress.v4(IPv4Address(127, 0, 0, 1))
        let announced = events.compactMap { event -> String? in
            if case .announce(let origin, let key, _, _) = event, origin.session.speaker == peer {
                "\(key.prefix)"
            } else { nil }
        }
        #expect(announced == ["198.51.100.50/32"])
        let down = events.compactMap { event -> (String, Int)? in
            if case .sessionDown(let origin, let reason, let withdrawn, _) = event, origin.session.speaker == peer {
                (reason, withdrawn)
            } else { nil }
        }
        #expect(down.first?.0 == "replaced by a new connection from the peer")
        #expect(down.first?.1 == 1)
        #expect(logs.contains { $0.contains("connected again") })
        #expect(logs.filter { $0.contains("session established") }.count == 2)
        let key = BGPSessionKey(speaker: peer, peer: .v4(IPv4Address(127, 0, 0, 2)))
        #expect(analyzer.sessions[key]?.routes.count == 0)
    }
}
