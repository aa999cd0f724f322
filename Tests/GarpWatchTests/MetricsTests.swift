import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// `--metrics-file` on the recorded captures (issue 21): the values match garpwatch's own events, the names
/// and types match deploy/METRICS.md, and promtool accepts every file.
@Suite("garpwatch metrics")
struct MetricsTests {
    /// garpwatch's metrics for `capture` with `arguments`, and its JSON events.
    static func run(_ capture: String, _ arguments: [String]) throws -> (Exposition, String, [[String: Any]]) {
        let file = NSTemporaryDirectory() + "garpwatch-metrics-\(getpid())-\(UUID().uuidString).prom"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let output = try ChildProcess.run(
            [try Support.garpwatchBinary(), "-r", Support.capture(capture), "--json", "--node-name", "lab-node",
             "--metrics-file", file] + arguments)
        #expect([0, 10, 11, 12].contains(output.status), "\(output.standardError)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        return (Exposition(text), text, try JSONLines.objects(output.standardOutput))
    }

    @Test("A clean failover: one ownership change, its gap in the histogram and as the last gap, one owner")
    func failover() throws {
        let vip = "198.51.100.20"
        let (metrics, text, events) = try Self.run("../failover-l2.pcap", ["--ip", vip])
        let takeover = try #require(events.first { $0["event"] as? String == "takeover" })
        let gap = try #require(takeover["gap_ms"] as? Double) / 1000
        let labels = ["ip": vip, "node": "lab-node", "family": "ipv4"]
        #expect(metrics.value("vipscope_garp_ownership_changes_total", labels) == 1)
        #expect(metrics.value("vipscope_garp_failover_gap_seconds_count", labels) == 1)
        let sum = try #require(metrics.value("vipscope_garp_failover_gap_seconds_sum", labels))
        #expect(abs(sum - gap) < 0.000_002, "histogram sum \(sum) s, takeover gap \(gap) s")
        #expect(abs((metrics.value("vipscope_garp_last_failover_gap_seconds", labels) ?? -1) - gap) < 0.000_002)
        #expect(metrics.value("vipscope_garp_owners", labels) == 1, "a clean takeover is one owner")
        #expect(metrics.value("vipscope_garp_split_brain", labels) == 0)
        let owner = try #require(takeover["mac"] as? String)
        #expect(metrics.value("vipscope_garp_owner_info", labels.merging(["owner": owner]) { $1 }) == 1)
        #expect(metrics.values("vipscope_garp_owner_info", labels).count == 1, "one owner series per IP")
        // The bucket the slow-failover alert reads is written as the rule names it.
        let bucket = gap <= 2 ? 1.0 : 0.0
        #expect(text.contains("le=\"2.0\"} \(Int(bucket))"), "\(text)")
        #expect(metrics.value("vipscope_expectations_loaded", ["node": "lab-node"]) == 1)
        let summary = try #require(events.first { $0["event"] as? String == "summary" })
        #expect(metrics.value("vipscope_garp_frames_total") == (summary["frames"] as? Double).map { $0 })
    }

    @Test("A split-brain: two owners until evidence ends it, one conflict, no ownership change")
    func splitBrain() throws {
        let vip = "198.51.100.50"
        let (metrics, _, events) = try Self.run("split-brain.pcap", ["--ip", vip])
        let split = try #require(events.first { $0["event"] as? String == "split-brain" })
        let macs = try #require(split["macs"] as? [String])
        let labels = ["ip": vip]
        #expect(metrics.value("vipscope_garp_owners", labels) == Double(macs.count) && macs.count >= 2)
        #expect(metrics.value("vipscope_garp_split_brain", labels) == 1)
        #expect(metrics.value("vipscope_garp_conflicts_total", labels) == 1)
        #expect(metrics.value("vipscope_garp_ownership_changes_total", labels) == 0)
        #expect(metrics.value("vipscope_garp_failover_gap_seconds_count", labels) == 0)
    }

    @Test("Series exist only for declared addresses; others inside --net are counted, not labelled")
    func boundedLabels() throws {
        let (metrics, _, events) = try Self.run("../failover-l2.pcap", ["--net", "198.51.100.0/24", "--net", "203.0.113.0/24"])
        let stations = Set(events.filter { $0["event"] as? String == "new-station" }.compactMap { $0["ip"] as? String })
        #expect(!stations.isEmpty)
        #expect(metrics.samples.allSatisfy { $0.labels["ip"] == nil }, "no --expect or single --ip: no per-IP series")
        let unexpected = metrics.values("vipscope_unexpected_addresses_total").reduce(0, +)
        #expect(unexpected == Double(stations.count), "\(stations)")
        #expect(metrics.value("vipscope_expectations_loaded") == 0)
    }

    @Test("Every metric garpwatch exports is in deploy/METRICS.md, with its type and labels")
    func matchesTheContract() throws {
        let table = try MetricsContract.table()
        let (metrics, _, _) = try Self.run("split-brain.pcap", ["--ip", "198.51.100.50"])
        try MetricsContract.expectConforms(metrics, tool: "garpwatch")
        let garpRows = table.keys.filter { $0.hasPrefix("vipscope_garp_") }
        for name in garpRows { #expect(metrics.types[name] != nil, "METRICS.md lists \(name); garpwatch does not export it") }
    }

    @Test("promtool check metrics accepts garpwatch's metrics on every recorded capture")
    func promtoolAcceptsEveryCapture() throws {
        guard let promtool = MetricsContract.promtool() else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.garpwatchCaptures.path)
            .filter { $0.hasSuffix(".pcap") }.sorted()
            + ["../failover-l2.pcap", "../garp-arping.pcap", "../ndp-unsolicited-na.pcap", "../vlan-qinq.pcap"]
        try #require(files.count >= 8)
        for name in files {
            let (_, text, events) = try Self.run(name, [])
            // Every address the capture announced, declared, so the per-IP series are all there.
            let ips = Set(events.compactMap { $0["event"] as? String == "new-station" ? $0["ip"] as? String : nil })
            let (_, declaredText, _) = try Self.run(name, ips.sorted().flatMap { ["--ip", $0] })
            for exposition in [text, declaredText] {
                let check = try MetricsContract.check(exposition, promtool: promtool)
                #expect(check.status == 0, "\(name): \(check.standardOutput)\(check.standardError)")
            }
        }
    }

    @Test("--metrics-listen needs -i; a bad address and a port in use are errors that say so")
    func usage() throws {
        let binary = try Support.garpwatchBinary()
        let offline = try ChildProcess.run([binary, "-r", Support.capture("split-brain.pcap"), "--metrics-listen", ":9781"])
        #expect(offline.status == 64 && offline.standardError.contains("--metrics-file"), "\(offline.standardError)")
        let bad = try ChildProcess.run([binary, "-i", "lo", "--metrics-listen", "localhost:9781"])
        #expect(bad.status == 64 && bad.standardError.contains("names are not resolved"), "\(bad.standardError)")
        // A port taken by a listener of ours on loopback.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(holder, pointer, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, pointer, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let taken = try ChildProcess.run([binary, "-i", "lo", "--duration", "1", "--metrics-listen", "127.0.0.1:\(port)"])
        #expect(taken.status == 1 && taken.standardError.contains("Address already in use"), "\(taken.standardError)")
    }
}
