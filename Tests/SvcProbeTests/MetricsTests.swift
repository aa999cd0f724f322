import Foundation
import TestSupport
import Testing

/// svcprobe's metrics (issue 21) against a real MariaDB: `--watch --metrics-listen` scraped from the client
/// namespace while it probes, `--metrics-file` after it, METRICS.md and promtool.
@Suite("svcprobe metrics against a real MariaDB (root)", .serialized)
struct SvcMetricsTests {
    @Test("--watch: up, probes by result, durations and the server's version, as a scraper sees them")
    func watchMetrics() throws {
        try MariaDBLabTests.prerequisites()
        let lab = try MariaDBLab(maxConnectErrors: 100, prefix: "spm")
        defer { lab.tearDown() }
        let version = try lab.clientQuery("SELECT VERSION()").standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!version.isEmpty)
        let file = NSTemporaryDirectory() + "svcprobe-metrics-\(getpid()).prom"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let watch = try RunningProcess(try #require(ChildProcess.which("ip")), [
            "netns", "exec", lab.client, try Support.svcprobe(), "--watch", "--interval", "200ms", "--duration", "4s",
            "--node-name", "client", "--metrics-listen", "127.0.0.1:9783", "--metrics-file", file,
            "203.0.113.1:3306", "203.0.113.1:3307",
        ])
        defer { if watch.process.isRunning { watch.stop() } }
        Thread.sleep(forTimeInterval: 2)
        let scrape = try ChildProcess.run(["ip", "netns", "exec", lab.client, "python3", "-c",
            "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9783/metrics', timeout=5).read().decode())"])
        try #require(scrape.status == 0, "\(scrape.standardError)")
        let live = Exposition(scrape.standardOutput)
        let db = ["ip": "203.0.113.1", "port": "3306", "node": "client", "family": "ipv4"]
        let closed = ["ip": "203.0.113.1", "port": "3307"]
        #expect(live.value("vipscope_svc_up", db) == 1, "\(scrape.standardOutput)")
        #expect(live.value("vipscope_svc_up", closed) == 0)
        #expect((live.value("vipscope_svc_probes_total", db.merging(["result": "greeting"]) { $1 }) ?? 0) >= 3)
        let output = watch.wait()
        #expect(output.status == 0, "\(output.standardError)")

        let final = Exposition(try String(contentsOfFile: file, encoding: .utf8))
        let greetings = try #require(final.value("vipscope_svc_probes_total", db.merging(["result": "greeting"]) { $1 }))
        let refused = try #require(final.value("vipscope_svc_probes_total", closed.merging(["result": "refused"]) { $1 }))
        // Both targets are probed every round (4 s every 200 ms: about 20 rounds).
        #expect(greetings >= 10 && abs(greetings - refused) <= 1, "greetings \(greetings), refused \(refused)")
        #expect(final.value("vipscope_svc_probes_total", db.merging(["result": "error"]) { $1 }) == 0)
        #expect(final.value("vipscope_svc_probe_duration_seconds_count", db) == greetings, "a duration per greeting")
        #expect(final.value("vipscope_svc_probe_duration_seconds_count", closed) == 0, "refused: no connect time")
        #expect(final.value("vipscope_svc_server_info", db.merging(["version": version]) { $1 }) == 1,
            "the server says it is \(version)")
        #expect(final.values("vipscope_svc_server_info", closed).isEmpty)
        try MetricsContract.expectConforms(final, tool: "svcprobe")
        if let promtool = MetricsContract.promtool() {
            let check = try MetricsContract.check(try String(contentsOfFile: file, encoding: .utf8), promtool: promtool)
            #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        }
    }

    @Test("--metrics-listen needs --watch; metrics are not for -r captures")
    func usage() throws {
        let once = try ChildProcess.run([try Support.svcprobe(), "127.0.0.1:9", "--metrics-listen", ":9783"])
        #expect(once.status == 64 && once.standardError.contains("--metrics-file"), "\(once.standardError)")
        let capture = try ChildProcess.run([try Support.svcprobe(), "-r",
            TestEnvironment.captures.appendingPathComponent("mariadb-greeting.pcap").path, "--metrics-file", "/tmp/x.prom"])
        #expect(capture.status == 64, "\(capture.standardError)")
    }
}
