import Foundation
import PacketCore
import TestSupport
import Testing
@testable import SvcProbeKit

/// Each outcome against a real listener on loopback (Python servers that misbehave on purpose).
@Suite("svcprobe: outcomes against loopback servers", .serialized)
struct LoopbackProbeTests {
    static let modes = ["silent", "banner", "close", "reset", "toomany", "slowgreeting"]

    @Test func everyOutcomeIsClassified() throws {
        try #require(ChildProcess.which("python3") != nil, "python3 is needed for the test servers")
        let (server, ports) = try TestServers.start(address: "127.0.0.1", modes: Self.modes)
        defer { server.stop() }
        try #require(ports.count == Self.modes.count)
        // A port that was just free: bind, note it, close.
        let closedPort = try Self.freePort()
        var options = ProbeOptions()
        options.timeoutNanoseconds = 400_000_000
        options.login = .closeAfterGreeting
        let targets = ports.map { ProbeTarget(host: "127.0.0.1", port: $0) } + [ProbeTarget(host: "127.0.0.1", port: closedPort)]
        let results = Prober(options: options).run(targets)
        let byMode = Dictionary(uniqueKeysWithValues: zip(Self.modes + ["refused"], results))

        #expect(byMode["silent"]?.outcome == .silent)
        #expect(byMode["silent"]?.timings.connect != nil && byMode["silent"]?.timings.firstByte == nil)
        #expect(byMode["banner"]?.outcome == .banner)
        #expect(byMode["banner"]?.banner == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\r\\n")
        #expect(byMode["close"]?.outcome == .closed)
        #expect(byMode["reset"]?.outcome == .reset)
        #expect(byMode["reset"]?.detail?.contains("20 bytes") == true)
        #expect(byMode["toomany"]?.outcome == .error)
        #expect(byMode["toomany"]?.error?.code == .tooManyConnections)
        #expect(byMode["slowgreeting"]?.outcome == .greeting, "a greeting split over many segments")
        #expect(byMode["slowgreeting"]?.greeting?.version == "10.11.19-MariaDB")
        #expect(byMode["slowgreeting"]?.greeting?.connectionID == 7)
        let slow = try #require(byMode["slowgreeting"]?.timings)
        #expect((slow.greeting ?? 0) - (slow.firstByte ?? 0) > 50_000_000, "the greeting took many 10 ms segments")
        #expect(byMode["refused"]?.outcome == .refused)
        // Monotonic step order wherever the steps happened.
        for result in results {
            let t = result.timings
            if let connect = t.connect, let first = t.firstByte { #expect(connect <= first) }
            if let first = t.firstByte, let greeting = t.greeting { #expect(first <= greeting) }
            #expect(t.total > 0)
        }
    }

    @Test func ipv6LoopbackAndNames() throws {
        let (server, ports) = try TestServers.start(address: "::1", modes: ["slowgreeting"])
        defer { server.stop() }
        let port = try #require(ports.first)
        var options = ProbeOptions()
        options.timeoutNanoseconds = 1_000_000_000
        options.login = .closeAfterGreeting
        let targets = try ProbeTarget.parse("[::1]:\(port)") + ProbeTarget.parse("name.invalid:3306")
        let results = Prober(options: options).run(targets)
        #expect(results[0].outcome == .greeting && results[0].address?.ip == "::1")
        #expect(results[1].outcome == .unresolved && results[1].detail?.contains("name.invalid") == true)
    }

    static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound)
        return UInt16(bigEndian: address.sin_port)
    }
}
