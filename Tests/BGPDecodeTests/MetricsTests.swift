import Foundation
import PacketCore
import TestSupport
import Testing

/// bgpdecode's metrics (issue 21): `--metrics-file` on every recorded BGP capture against the same run's JSON
/// session objects and tshark's count of UPDATEs, deploy/METRICS.md and promtool; and `listen
/// --metrics-listen` scraped over loopback while a session comes up, announces and ends.
@Suite("bgpdecode metrics", .serialized)
struct BGPMetricsTests {
    static let captures = ["../bgp-bird-frr.pcap", "../bgp-segmented.pcap", "exabgp-bird-addpath.pcap",
                           "exabgp-bird-midstream.pcap", "gobgp-frr-graceful-restart.pcap", "gobgp-frr-metallb.pcap"]

    static func path(_ name: String) -> String {
        name.hasPrefix("../")
            ? TestEnvironment.captures.appendingPathComponent(String(name.dropFirst(3))).path
            : TestEnvironment.captures.appendingPathComponent("bgpdecode").appendingPathComponent(name).path
    }

    static func run(_ capture: String, _ extra: [String] = []) throws -> (Exposition, String, [[String: Any]]) {
        let file = NSTemporaryDirectory() + "bgpdecode-metrics-\(getpid())-\(UUID().uuidString).prom"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let output = try ChildProcess.run([try Tool.bgpdecode(), "-r", path(capture), "--json", "--node-name", "n1",
                                           "--metrics-file", file] + extra)
        #expect([0, 10].contains(output.status), "\(capture): \(output.standardError)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        return (Exposition(text), text, try JSONLines.objects(output.standardOutput))
    }

    @Test("Per session: the counters and the table are the JSON session objects' numbers", arguments: captures)
    func sessionsMatchTheirSummary(capture: String) throws {
        let (metrics, _, objects) = try Self.run(capture)
        let sessions = objects.filter { $0["event"] as? String == "session" }
        try #require(!sessions.isEmpty)
        for session in sessions {
            let labels = ["speaker": session["speaker"] as? String ?? "?", "peer": session["peer"] as? String ?? "?",
                          "node": "n1"]
            let name = "\(capture) \(labels)"
            #expect(metrics.value("vipscope_bgp_updates_total", labels) == (session["updates"] as? Double), "\(name)")
            #expect(metrics.value("vipscope_bgp_announcements_total", labels) == (session["announced"] as? Double), "\(name)")
            #expect(metrics.value("vipscope_bgp_withdrawals_total", labels) == (session["withdrawn"] as? Double), "\(name)")
            let up = session["up"] as? Bool ?? false
            #expect(metrics.value("vipscope_bgp_session_up", labels) == (up ? 1 : 0), "\(name)")
            let routes = metrics.values("vipscope_bgp_routes", labels).reduce(0, +)
            #expect(routes == (session["routes"] as? Double), "\(name): \(routes) routes")
        }
        #expect(metrics.value("vipscope_bgp_untracked_sessions") == 0)
    }

    @Test("UPDATEs per direction are tshark's on the BIRD <-> FRR capture")
    func updatesAreTsharks() throws {
        let capture = "../bgp-bird-frr.pcap"
        let (metrics, _, _) = try Self.run(capture)
        let output = try ChildProcess.run(["tshark", "-n", "-r", Self.path(capture), "-Y", "bgp.type == 2", "-T", "fields",
            "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "bgp.type"])
        try #require(output.status == 0, "\(output.standardError)")
        var counts: [String: Double] = [:]
        for line in output.lines {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { continue }
            let source = fields[0].isEmpty ? fields[1] : fields[0]
            let destination = fields[2].isEmpty ? fields[3] : fields[2]
            counts["\(source)>\(destination)", default: 0] += Double(fields[4].split(separator: ",").filter { $0 == "2" }.count)
        }
        try #require(counts.count == 4, "\(counts)")
        for (direction, updates) in counts {
            let parts = direction.split(separator: ">").map(String.init)
            #expect(metrics.value("vipscope_bgp_updates_total", ["speaker": parts[0], "peer": parts[1]]) == updates,
                "\(direction): tshark \(updates)")
        }
    }

    @Test("Expected prefixes: 1 on the session whose table holds them, 0 elsewhere; names in METRICS.md; promtool")
    func expectedPrefixesContractAndPromtool() throws {
        // The midstream capture ends with its sessions up, and ExaBGP announces with ADD-PATH path ids.
        let (_, midstreamText, objects) = try Self.run("exabgp-bird-midstream.pcap", ["--table"])
        let route = try #require(objects.first { $0["event"] as? String == "route" })
        let speaker = try #require(route["speaker"] as? String)
        let prefix = try #require(route["prefix"] as? String)
        let (expected, _, _) = try Self.run("exabgp-bird-midstream.pcap", ["--expect-prefix", prefix, "--expect-prefix", "192.0.2.0/24"])
        let held = expected.values("vipscope_bgp_expected_prefix_announced", ["speaker": speaker, "prefix": prefix])
        #expect(held == [1], "\(prefix) from \(speaker): \(held)")
        let absent = expected.values("vipscope_bgp_expected_prefix_announced", ["prefix": "192.0.2.0/24"])
        #expect(!absent.isEmpty && absent.allSatisfy { $0 == 0 })
        #expect(expected.value("vipscope_expectations_loaded") == 2)
        try MetricsContract.expectConforms(expected, tool: "bgpdecode")
        guard let promtool = MetricsContract.promtool() else { return }
        for capture in Self.captures {
            let (_, text, _) = try Self.run(capture)
            let check = try MetricsContract.check(text, promtool: promtool)
            #expect(check.status == 0, "\(capture): \(check.standardOutput)\(check.standardError)")
        }
        #expect(try MetricsContract.check(midstreamText, promtool: promtool).status == 0)
    }

    /// GET /metrics from a `--metrics-listen` on loopback.
    static func scrape(_ port: UInt16) throws -> Exposition {
        let descriptor = try ListenerLoopbackTests.connect(port: port, host: 0x7F00_0001, timeout: 5)
        defer { close(descriptor) }
        ListenerLoopbackTests.send(descriptor, Array("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        let (bytes, _) = ListenerLoopbackTests.drain(descriptor)
        let text = String(decoding: bytes, as: UTF8.self)
        try #require(text.hasPrefix("HTTP/1.1 200 OK"), "\(text)")
        return Exposition(String(text.split(separator: "\r\n\r\n", maxSplits: 1).last ?? ""))
    }

    @Test("listen --metrics-listen: a session's life as a scraper sees it")
    func listenerMetricsOverLoopback() throws {
        let metricsPort = UInt16(20000 + (getpid() &+ 7919) % 20000)
        let (process, port) = try ListenMaximumPrefixesTests.listener(
            ["--metrics-listen", "127.0.0.1:\(metricsPort)", "--expect-prefix", "198.51.100.3/32", "--wait", "60",
             "--node-name", "router"])
        defer { if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL); _ = process.wait() } }
        usleep(1_000_000)
        let before = try Self.scrape(metricsPort)
        #expect(before.value("vipscope_expectations_loaded", ["node": "router"]) == 1)
        #expect(before.values("vipscope_bgp_session_up").isEmpty, "no session yet")
        let client = try HostilePeerTests.connect(port: port)
        defer { close(client) }
        HostilePeerTests.announceHostRoutes(client, count: 5)  // 198.51.100.0 ... .4
        let session = ["speaker": "127.0.0.1", "peer": "127.0.0.3", "node": "router"]
        var during = try Self.scrape(metricsPort)
        for _ in 0..<30 where during.value("vipscope_bgp_routes", session.merging(["family": "ipv4"]) { $1 }) != 5 {
            usleep(200_000)
            during = try Self.scrape(metricsPort)
        }
        #expect(during.value("vipscope_bgp_session_up", session) == 1)
        #expect(during.value("vipscope_bgp_routes", session.merging(["family": "ipv4"]) { $1 }) == 5)
        #expect(during.value("vipscope_bgp_updates_total", session) == 5)
        #expect(during.value("vipscope_bgp_expected_prefix_announced", session.merging(["prefix": "198.51.100.3/32"]) { $1 }) == 1)
        // The speaker ends the session: Cease, then FIN.
        ListenerLoopbackTests.send(client, BGPMessageBuilder.cease(subcode: 2, communication: "maintenance"))
        close(client)
        var after = try Self.scrape(metricsPort)
        for _ in 0..<30 where after.value("vipscope_bgp_session_up", session) != 0 {
            usleep(200_000)
            after = try Self.scrape(metricsPort)
        }
        #expect(after.value("vipscope_bgp_session_up", session) == 0)
        #expect(after.value("vipscope_bgp_session_ends_total", session) == 1)
        #expect(after.value("vipscope_bgp_routes", session.merging(["family": "ipv4"]) { $1 }) == 0)
        #expect(after.value("vipscope_bgp_expected_prefix_announced", session.merging(["prefix": "198.51.100.3/32"]) { $1 }) == 0)
        kill(process.process.processIdentifier, SIGINT)
        _ = process.wait()
    }
}
