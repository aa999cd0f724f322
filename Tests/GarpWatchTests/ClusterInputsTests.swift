import Foundation
import TestSupport
import Testing

/// `--services` and `--nodes` (issue 21): kubectl's JSON as garpwatch's expectations and node names, on the
/// recorded captures.
@Suite("garpwatch --services and --nodes")
struct ClusterInputsTests {
    static func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "garpwatch-cluster-\(getpid())-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `kubectl get svc -A -o json` of LoadBalancer Services `(namespace/name, ip)`, and a ClusterIP one.
    static func services(_ entries: [(String, String)]) throws -> String {
        let items = entries.map { name, ip in
            let parts = name.split(separator: "/")
            return """
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "\(parts[1])", "namespace": "\(parts[0])"},
                 "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "protocol": "TCP"}]},
                 "status": {"loadBalancer": {"ingress": [{"ip": "\(ip)"}]}}}
                """
        } + ["""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
             "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1"}, "status": {"loadBalancer": {}}}
            """]
        return try write("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\(items.joined(separator: ","))]}")
    }

    static func nodes(_ entries: [(String, String)]) throws -> String {
        let items = entries.map { name, ip in
            """
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "\(name)"},
             "status": {"addresses": [{"type": "InternalIP", "address": "\(ip)"}, {"type": "Hostname", "address": "\(name)"}]}}
            """
        }
        return try write("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\(items.joined(separator: ","))]}")
    }

    @Test("Each LoadBalancer IP is a verdict of one owner; a node's InternalIP names its MAC")
    func failoverWithServicesAndNodes() throws {
        let services = try Self.services([("shop/web", "198.51.100.20"), ("shop/db", "198.51.100.99")])
        let nodes = try Self.nodes([("worker-1", "203.0.113.1")])
        let metrics = NSTemporaryDirectory() + "garpwatch-cluster-\(getpid()).prom"
        defer { for file in [services, nodes, metrics] { try? FileManager.default.removeItem(atPath: file) } }
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", Support.capture("../failover-l2.pcap"),
            "--services", services, "--nodes", nodes, "--metrics-file", metrics])
        // shop/web failed over cleanly (one owner at a time: ok); shop/db's IP was never announced.
        #expect(output.status == 12, "\(output.standardOutput)\(output.standardError)")
        #expect(output.lines.contains { $0.hasPrefix("expect 198.51.100.20 (one owner, service shop/web): ok (exit 12)") },
            "\(output.standardOutput)")
        #expect(output.lines.contains { $0.hasPrefix("expect 198.51.100.99 (one owner, service shop/db): not-seen") })
        // 203.0.113.1 is worker-1's InternalIP: the MAC that announced it is worker-1, in the takeover line too.
        let takeover = try #require(output.lines.first { $0.contains(" takeover 198.51.100.20 ") })
        #expect(takeover.contains("02:76:73:03:00:02 (worker-1) -> 02:76:73:03:00:03"), "\(takeover)")
        let exposition = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(exposition.contains("vipscope_garp_ownership_changes_total{node=") && exposition.contains(
            "ip=\"198.51.100.20\",service=\"shop/web\",family=\"ipv4\"} 1"), "\(exposition)")
        #expect(exposition.contains("vipscope_expectations_loaded{node=\"") && exposition.contains("} 2.0"))

        let json = try ChildProcess.run([try Support.garpwatchBinary(), "-r", Support.capture("../failover-l2.pcap"),
            "--services", services, "--json"])
        let verdicts = try JSONLines.objects(json.standardOutput).filter { $0["event"] as? String == "verdict" }
        #expect(verdicts.compactMap { $0["service"] as? String }.sorted() == ["shop/db", "shop/web"])
    }

    @Test("Two owners of a Service's IP are a split-brain verdict (exit 11); an --expect for the IP wins")
    func splitBrainService() throws {
        let services = try Self.services([("shop/web", "198.51.100.50")])
        defer { try? FileManager.default.removeItem(atPath: services) }
        let binary = try Support.garpwatchBinary()
        let split = try ChildProcess.run([binary, "-r", Support.capture("split-brain.pcap"), "--services", services])
        #expect(split.status == 11, "\(split.standardOutput)")
        #expect(split.lines.contains { $0.hasPrefix("expect 198.51.100.50 (one owner, service shop/web): multiple-owners") })
        let explicit = try ChildProcess.run([binary, "-r", Support.capture("split-brain.pcap"), "--services", services,
            "--expect", "198.51.100.50=02:00:00:00:00:01"])
        #expect(explicit.lines.filter { $0.hasPrefix("expect 198.51.100.50") }.count == 1, "\(explicit.standardOutput)")
    }

    @Test("A missing or malformed file stops garpwatch before it reads a frame, naming the file")
    func badFiles() throws {
        let binary = try Support.garpwatchBinary()
        let missing = try ChildProcess.run([binary, "-r", Support.capture("split-brain.pcap"), "--services", "/nonexistent.json"])
        #expect(missing.status == 1 && missing.standardError.contains("/nonexistent.json"), "\(missing.standardError)")
        #expect(!missing.standardOutput.contains("summary"))
        let broken = try Self.write("{\"items\": [")
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let malformed = try ChildProcess.run([binary, "-r", Support.capture("split-brain.pcap"), "--nodes", broken])
        #expect(malformed.status == 1 && malformed.standardError.contains(broken), "\(malformed.standardError)")
    }
}
