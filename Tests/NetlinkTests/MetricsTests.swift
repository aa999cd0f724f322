import Foundation
import TestSupport
import Testing

/// `addrinspect watch --metrics-listen/--metrics-file` (issue 21): whether each expected IP is local, as the
/// test adds and removes it in a namespace of its own; the changes and overflows counted; METRICS.md; promtool.
@Suite(.serialized)
struct AddrMetricsTests {
    static func read(_ path: String) -> Exposition {
        Exposition((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    /// Poll the metrics file until `done` or `seconds` pass.
    static func wait(_ path: String, seconds: Double, until done: (Exposition) -> Bool) -> Exposition {
        let deadline = Date().addingTimeInterval(seconds)
        var metrics = read(path)
        while !done(metrics) && Date() < deadline {
            usleep(100_000)
            metrics = read(path)
        }
        return metrics
    }

    @Test func expectedIPsTurnLocalAndBackAsTheyAreAddedAndRemoved() throws {
        let lab = try NamespaceLab(tag: "m")
        defer { lab.tearDown() }
        try lab.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
        try lab.ip("link", "set", "v0", "up")
        try lab.ip("addr", "add", "203.0.113.1/24", "dev", "v0")
        let services = NSTemporaryDirectory() + "ai-metrics-svc-\(getpid()).json"
        try """
            {"apiVersion": "v1", "kind": "List", "items": [
             {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
              "spec": {"type": "LoadBalancer", "ports": [{"port": 3306}]},
              "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.41"}]}}}]}
            """.write(toFile: services, atomically: true, encoding: .utf8)
        let file = NSTemporaryDirectory() + "ai-metrics-\(getpid()).prom"
        defer { for path in [services, file] { try? FileManager.default.removeItem(atPath: path) } }
        let watch = try RunningProcess(try Support.addrinspect, [
            "watch", "addr", "--netns", lab.name, "--duration", "30", "--node-name", "worker-1",
            "--ip", "198.51.100.40", "--ip", "2001:db8::40", "--services", services, "--metrics-file", file,
        ])
        defer { if watch.process.isRunning { watch.stop() } }
        let vip = ["ip": "198.51.100.40", "node": "worker-1", "service": "", "family": "ipv4"]
        let service = ["ip": "198.51.100.41", "service": "shop/db"]
        let v6 = ["ip": "2001:db8::40", "family": "ipv6"]
        let first = Self.wait(file, seconds: 10) { $0.value("vipscope_addr_ip_local", vip) != nil }
        #expect(first.value("vipscope_addr_ip_local", vip) == 0, "not an address yet")
        #expect(first.value("vipscope_expectations_loaded") == 3)

        try lab.ip("addr", "add", "198.51.100.40/32", "dev", "v0")
        try lab.ip("addr", "add", "198.51.100.41/32", "dev", "v0")
        try lab.ip("-6", "addr", "add", "2001:db8::40/128", "dev", "v0", "nodad")
        let added = Self.wait(file, seconds: 5) { $0.value("vipscope_addr_ip_local", v6) == 1 }
        #expect(added.value("vipscope_addr_ip_local", vip) == 1)
        #expect(added.value("vipscope_addr_ip_local", service) == 1)
        #expect(added.value("vipscope_addr_ip_local", v6) == 1)
        #expect(added.value("vipscope_addr_changes_total", ["kind": "addr", "action": "added"]) == 3)

        try lab.ip("addr", "del", "198.51.100.40/32", "dev", "v0")
        let removed = Self.wait(file, seconds: 5) { $0.value("vipscope_addr_ip_local", vip) == 0 }
        #expect(removed.value("vipscope_addr_ip_local", vip) == 0)
        #expect(removed.value("vipscope_addr_ip_local", service) == 1)
        #expect(removed.value("vipscope_addr_changes_total", ["kind": "addr", "action": "removed"]) == 1)
        #expect(removed.value("vipscope_addr_overflows_total") == 0)
        let (output, _) = watch.stop()
        #expect(output.status == 0 || output.status == 130 || output.status == 143, "\(output.standardError)")
        try MetricsContract.expectConforms(Self.read(file), tool: "addrinspect")
        if let promtool = MetricsContract.promtool() {
            let check = try MetricsContract.check(try String(contentsOfFile: file, encoding: .utf8), promtool: promtool)
            #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        }
    }

    @Test func ipAndServicesNeedAMetricsOutput() throws {
        let output = try Support.addrinspect(["watch", "addr", "--ip", "198.51.100.40", "--duration", "1"])
        #expect(output.status == 64 && output.standardError.contains("--metrics-listen"), "\(output.standardError)")
    }
}
