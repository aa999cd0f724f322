import Foundation
import PacketCore
import TestSupport
import Testing
@testable import SvcProbeKit
import ToolSupport

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
        options.lingerNanoseconds = 300_000_000
        options.login = .closeAfterGreeting
        let targets = ports.map { ProbeTarget(host: "127.0.0.1", port: $0) } + [ProbeTarget(host: "127.0.0.1", port: closedPort)]
        var late: [ProbeResult] = []
        let results = Prober(options: options).run(targets, onLate: { late.append($0) })
        // The silent server never greets: reported on time, then the linger runs out (a late `silent`).
        #expect(results[0].lingering && results[0].timings.total < 700_000_000)
        #expect(late.count == 1 && late.first?.outcome == .silent && late.first?.late == true)
        #expect((late.first?.timings.total ?? 0) >= 700_000_000, "kept for timeout + linger")
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

    /// A server that accepts and stays quiet past the timeout (as a SIGSTOPped mariadbd's kernel does) gets
    /// an on-time `silent`, and the polite login still runs when its greeting comes: a `late` greeting
    /// with the login verdict, so the server never sees a connection closed before the login.
    @Test func stalledServerGetsTheLoginLate() throws {
        let (server, ports) = try TestServers.start(address: "127.0.0.1", modes: ["stall"])
        defer { server.stop() }
        var options = ProbeOptions()
        options.timeoutNanoseconds = 250_000_000
        options.lingerNanoseconds = 3_000_000_000
        var onTime: [ProbeResult] = []
        var late: [ProbeResult] = []
        let results = Prober(options: options).run(
            [ProbeTarget(host: "127.0.0.1", port: ports[0])], onAllResults: { onTime = $0 }, onLate: { late.append($0) })
        #expect(onTime.count == 1 && onTime[0].outcome == .silent && onTime[0].lingering)
        #expect(onTime[0].timings.total < 500_000_000, "reported at the timeout: \(onTime[0].timings.total)")
        #expect(results.map(\.outcome) == [.silent])
        try #require(late.count == 1)
        #expect(late[0].outcome == .greeting && late[0].late && late[0].greeting?.connectionID == 7)
        guard case .denied(let error) = late[0].login else {
            Issue.record("no login verdict: \(late[0].login)")
            return
        }
        #expect(error.code.rawValue == 1045)
        let lateLine = ProbeRendering.json(late[0], event: "late", envelope: JSONEnvelope(host: "n1"), time: .zero)
        #expect(lateLine.text.contains("\"late\":true"))
    }

    /// A watch that ends at --duration with a probe still waiting for a greeting lets it finish, and says
    /// so; it does not tell the user to press Ctrl-C "again" when nobody pressed it.
    @Test func watchEndingAtItsDurationDoesNotSayCtrlCAgain() throws {
        let (server, ports) = try TestServers.start(address: "127.0.0.1", modes: ["stall"])
        defer { server.stop() }
        let output = try ChildProcess.run([
            try Support.svcprobe(), "127.0.0.1:\(ports[0])", "--watch", "--interval", "100ms", "--timeout", "200ms",
            "--duration", "0.3s", "--linger", "2s",
        ])
        #expect(output.standardError.contains("in flight finish politely"), "\(output.standardError)")
        #expect(output.standardError.contains("press Ctrl-C to quit now"), "\(output.standardError)")
        #expect(!output.standardError.contains("again"), "\(output.standardError)")
    }

    /// A hostile server's version, auth plugin and error messages (CR/LF, ESC) cannot forge a line or
    /// reach the terminal in text output, one line per probe and in -v details; JSON keeps them exactly.
    @Test func hostileServerTextCannotForgeLines() throws {
        let (server, ports) = try TestServers.start(address: "127.0.0.1", modes: ["hostile", "errhostile"])
        defer { server.stop() }
        let bin = try Support.svcprobe()
        let targets = ports.map { "127.0.0.1:\($0)" }
        let text = try ChildProcess.run([bin, "--timeout", "2s", "-v"] + targets)
        let lines = text.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(!text.standardOutput.contains("\u{1B}") && !text.standardOutput.contains("\r"), "\(text.standardOutput)")
        let probeLines = lines.filter { !$0.hasPrefix("  ") }
        #expect(probeLines.count == 2, "one line per target: \(lines)")
        #expect(probeLines[0].contains("10.11.19-MariaDB\\r\\nfake line \\x1b[2J"), "\(probeLines[0])")
        #expect(probeLines[0].contains("auth=evil\\r\\nplugin"))
        #expect(probeLines[1].contains("\"Host blocked\\r\\nsummary forged\\x1b[0m\""), "\(probeLines[1])")
        #expect(lines.contains { $0.contains("denied 1045 ER_ACCESS_DENIED_ERROR: Access denied\\r\\n2026-01-01") })
        #expect(!lines.contains { $0.hasPrefix("fake line") || $0.hasPrefix("summary") || $0.hasPrefix("2026") })

        let json = try ChildProcess.run([bin, "--timeout", "2s", "--json"] + targets)
        let objects = try JSONLines.events(json.standardOutput, tool: "svcprobe")
        #expect(objects.count == 2)
        #expect(objects.first?["version"] as? String == "10.11.19-MariaDB\r\nfake line \u{1B}[2J\u{1B}]0;owned\u{07}")
        #expect(objects.last?["error_message"] as? String == "Host blocked\r\nsummary forged\u{1B}[0m")
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
