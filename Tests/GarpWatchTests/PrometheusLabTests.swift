import Foundation
import TestSupport
import Testing

/// Issue 21 in a lab: a real Prometheus server (Debian's prometheus) scrapes `garpwatch --metrics-listen` every
/// second while two real keepalived nodes fail over and then split-brain, with deploy/prometheusrule.yaml's
/// alert rules loaded; the test asks Prometheus's HTTP API for what it stored. garpwatch, Prometheus and a
/// pinging client run in the observer namespace `PREFIX-n3` (its loopback carries the scrapes and queries).
/// Namespaces `vs-garp-<pid>-pm-*`, created and deleted here; every process is stopped by its PID. Root is
/// required: under CI=true it fails, never skips.
@Suite(.serialized) struct PrometheusLabTests {
    let prefix = "vs-garp-\(getpid())-pm"
    let vip = "198.51.100.22"
    let macs = ["02:67:77:42:00:01", "02:67:77:42:00:02", "02:67:77:42:00:09"]
    let directory = NSTemporaryDirectory() + "vs-garp-pm-\(getpid())"
    var observer: String { "\(prefix)-n3" }

    func setUp() throws {
        try #require(getuid() == 0, "the Prometheus lab needs root (network namespaces, capture)")
        for tool in ["keepalived", "prometheus", "python3", "arping"] {
            try #require(ChildProcess.which(tool) != nil, "\(tool) is not installed (scripts/setup)")
        }
        let yaml = try ChildProcess.run(["python3", "-c", "import yaml"])
        try #require(yaml.status == 0, "python3 cannot import yaml (Debian's python3-yaml; scripts/setup)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try BridgeLab.build(prefix: prefix, macs: macs) { node, index in
            let address = index == 2 ? "203.0.113.100/24" : "203.0.113.\(index + 1)/24"
            try ChildProcess.mustRun(["ip", "-n", node, "addr", "add", address, "dev", "eth0"])
        }
        try ChildProcess.mustRun(["ip", "-n", observer, "link", "set", "lo", "up"])
        try ChildProcess.mustRun(["ip", "-n", observer, "route", "add", "198.51.100.0/24", "dev", "eth0"])
    }

    func tearDown() {
        for name in ["sw", "n1", "n2", "n3"] { _ = try? ChildProcess.run(["ip", "netns", "del", "\(prefix)-\(name)"]) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stop a lab process by its PID, and say so when SIGTERM was not enough.
    static func stop(_ process: RunningProcess, _ name: String) {
        let (_, seconds) = process.stop()
        if seconds == nil { print("Prometheus lab: \(name) ignored SIGTERM for 5 s and was killed") }
    }

    /// An instant query to the lab's Prometheus: each result's labels and value.
    func query(_ promql: String) throws -> [(labels: [String: String], value: Double)] {
        let script = """
            import sys, urllib.parse, urllib.request
            url = 'http://127.0.0.1:9090/api/v1/query?query=' + urllib.parse.quote(sys.argv[1])
            print(urllib.request.urlopen(url, timeout=5).read().decode())
            """
        let output = try ChildProcess.run(["ip", "netns", "exec", observer, "python3", "-c", script, promql])
        guard output.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any],
            let data = object["data"] as? [String: Any], let results = data["result"] as? [[String: Any]]
        else { return [] }
        return results.compactMap { result in
            guard let labels = result["metric"] as? [String: String], let pair = result["value"] as? [Any],
                pair.count == 2, let text = pair[1] as? String, let value = Double(text)
            else { return nil }
            return (labels, value)
        }
    }

    /// Poll `promql` until `accept` holds for its results or `seconds` pass; the last results.
    @discardableResult
    func waitFor(_ promql: String, seconds: Double, _ accept: ([(labels: [String: String], value: Double)]) -> Bool)
        throws -> [(labels: [String: String], value: Double)]
    {
        let deadline = Date().addingTimeInterval(seconds)
        var results = try query(promql)
        while !accept(results) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            results = try query(promql)
        }
        return results
    }

    @Test func prometheusScrapesAFailoverAndASplitBrain() throws {
        let begun = Date()
        defer {
            tearDown()
            print("Prometheus lab: \(String(format: "%.0f", Date().timeIntervalSince(begun))) s with set-up and tear-down")
        }
        tearDown()
        try setUp()
        let ip = try #require(ChildProcess.which("ip"))
        let started = Date()
        var first = try KeepalivedNode.start(prefix: prefix, directory: directory, number: 1, vip: vip, priority: 150)
        var firstRunning = true
        defer { if firstRunning { Self.stop(first, "keepalived 1") } }
        let second = try KeepalivedNode.start(prefix: prefix, directory: directory, number: 2, vip: vip, priority: 100)
        defer { Self.stop(second, "keepalived 2") }
        let deadline = Date().addingTimeInterval(8)
        while !KeepalivedNode.holds(vip, prefix: prefix, number: 1) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(KeepalivedNode.holds(vip, prefix: prefix, number: 1), "node 1 did not become MASTER within 8 s")

        let nodeMap = "\(directory)/nodes.txt"
        try "\(macs[0]) node-a\n\(macs[1]) node-b\n".write(toFile: nodeMap, atomically: true, encoding: .utf8)
        let garpwatch = try RunningProcess(
            ip, ["netns", "exec", observer, try Support.garpwatchBinary(), "-i", "eth0", "--duration", "120", "--ip", vip,
                 "--node-map", nodeMap, "--node-name", "observer", "--metrics-listen", "127.0.0.1:9781", "--summary-only"])
        defer { Self.stop(garpwatch, "garpwatch") }

        // Prometheus with the DaemonSet's alert rules (deploy/prometheusrule.yaml's spec), scraping every second.
        let rules = "\(directory)/rules.yaml"
        let extract = try ChildProcess.run([
            "python3", "-c", "import sys, yaml; yaml.safe_dump(yaml.safe_load(open(sys.argv[1]))['spec'], open(sys.argv[2], 'w'))",
            TestEnvironment.repository.appendingPathComponent("deploy/prometheusrule.yaml").path, rules,
        ])
        try #require(extract.status == 0, "\(extract.standardError)")
        try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: [\(rules)]
            scrape_configs:
              - job_name: garpwatch
                static_configs:
                  - targets: ['127.0.0.1:9781']
            """.write(toFile: "\(directory)/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try RunningProcess(
            ip, ["netns", "exec", observer, "prometheus", "--config.file=\(directory)/prometheus.yml",
                 "--storage.tsdb.path=\(directory)/data", "--web.listen-address=127.0.0.1:9090"])
        defer { Self.stop(prometheus, "prometheus") }

        // The client: an ICMP echo request to the VIP every 0.2 s (its replies are the owner's IP traffic).
        let pinger = Pinger.script(vip, count: 600, interval: 0.2)
        let ping = try RunningProcess(ip, ["netns", "exec", observer, "python3", "-c", pinger])
        defer { Self.stop(ping, "the pinger") }

        let up = try waitFor("up{job=\"garpwatch\"}", seconds: 30) { $0.first?.value == 1 }
        try #require(up.first?.value == 1, "Prometheus never scraped garpwatch: \(up)")
        let owner = "vipscope_garp_owner_info{ip=\"\(vip)\"}"
        let before = try waitFor(owner, seconds: 15) { $0.first?.labels["owner"] == "node-a" }
        try #require(before.count == 1 && before.first?.labels["owner"] == "node-a", "\(before)")
        #expect(before.first?.labels["node"] == "observer" && before.first?.labels["family"] == "ipv4")

        // 1. A graceful failover: keepalived's priority-0 advert, then node 2's gratuitous ARPs.
        kill(first.process.processIdentifier, SIGTERM)
        _ = first.wait()
        firstRunning = false
        let failedOver = Date()
        let changes = try waitFor("vipscope_garp_ownership_changes_total{ip=\"\(vip)\"}", seconds: 25) {
            $0.first?.value == 1
        }
        #expect(changes.first?.value == 1, "no ownership change stored: \(changes)")
        let seenAfter = Date().timeIntervalSince(failedOver)
        let after = try waitFor(owner, seconds: 5) { $0.first?.labels["owner"] == "node-b" }
        #expect(after.count == 1 && after.first?.labels["owner"] == "node-b", "one owner series, node-b: \(after)")
        #expect(try query("vipscope_garp_failover_gap_seconds_count{ip=\"\(vip)\"}").first?.value == 1)
        let gap = try #require(try query("vipscope_garp_last_failover_gap_seconds{ip=\"\(vip)\"}").first?.value)
        #expect(gap > 0.3 && gap < 1.5, "keepalived's hand-over is about 0.6 s; stored \(gap) s")
        #expect(try query("vipscope_garp_owners{ip=\"\(vip)\"}").first?.value == 1, "a failover is one owner")
        #expect(try query("ALERTS{alertname=\"VipscopeIPHasTwoOwners\"}").isEmpty)
        // The slow-failover rule's subtraction finds its bucket (a label mismatch would leave no result at all).
        let slow = try query("sum by (ip) (increase(vipscope_garp_failover_gap_seconds_count[10m]) - ignoring(le) "
            + "increase(vipscope_garp_failover_gap_seconds_bucket{le=\"2.0\"}[10m]))")
        #expect(slow.count == 1 && abs(slow.first?.value ?? 9) < 0.5, "\(slow)")

        // 2. A split-brain: node 1 comes back in another VRRP group, so both are MASTER and both hold the VIP.
        first = try KeepalivedNode.start(prefix: prefix, directory: directory, number: 1, vip: vip, priority: 150,
                                         routerID: 52)
        firstRunning = true
        let bothDeadline = Date().addingTimeInterval(8)
        while !KeepalivedNode.holds(vip, prefix: prefix, number: 1) && Date() < bothDeadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(KeepalivedNode.holds(vip, prefix: prefix, number: 1) && KeepalivedNode.holds(vip, prefix: prefix, number: 2))
        _ = try ChildProcess.run(["ip", "netns", "exec", observer, "arping", "-c", "3", "-I", "eth0", vip])
        let owners = try waitFor("vipscope_garp_owners{ip=\"\(vip)\"}", seconds: 15) { $0.first?.value == 2 }
        #expect(owners.first?.value == 2, "two owners not stored: \(owners)")
        #expect(try query("vipscope_garp_split_brain{ip=\"\(vip)\"}").first?.value == 1)
        #expect(try query("vipscope_garp_conflicts_total{ip=\"\(vip)\"}").first?.value == 1)
        let alert = try waitFor("ALERTS{alertname=\"VipscopeIPHasTwoOwners\"}", seconds: 10) { !$0.isEmpty }
        #expect(alert.first?.labels["ip"] == vip && alert.first?.labels["alertstate"] == "pending", "\(alert)")

        // /healthz answers on the same port.
        let health = try ChildProcess.run(["ip", "netns", "exec", observer, "python3", "-c",
            "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9781/healthz', timeout=5).read().decode())"])
        #expect(health.standardOutput == "ok\n\n", "\(health.standardOutput)\(health.standardError)")
        print("Prometheus lab: takeover stored \(String(format: "%.1f", seenAfter)) s after the SIGTERM, gap \(gap) s; "
            + "split-brain stored, alert pending; \(String(format: "%.0f", Date().timeIntervalSince(started))) s in all")
    }
}
