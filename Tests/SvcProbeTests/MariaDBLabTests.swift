import Foundation
import TestSupport
import Testing

/// A real MariaDB server (Debian's package) in a network namespace, probed with the svcprobe executable
/// from a second namespace across a veth pair (not loopback: MariaDB's host cache, and so
/// `max_connect_errors`, ignores loopback clients).
///
/// Server namespace: eth0 203.0.113.1/24 and fd99:7::1/64; the server listens on all addresses, port
/// 3306, with name resolution ON (with --skip-name-resolve MariaDB never blocks a host) through
/// namespace-local /etc/netns/NS/hosts so reverse lookups of the client addresses succeed at once.
/// It forwards, so it can also answer for 198.51.100.0/24 routes: 198.51.100.98 is `unreachable` (ICMP
/// host unreachable back to the client), 198.51.100.99 is a `blackhole` (silently dropped: a timeout).
/// Client namespace: eth0 203.0.113.2/24 (account probe@203.0.113.2) and 203.0.113.3 (no account).
final class MariaDBLab {
    let server: String
    let client: String
    let directory: String
    var daemon: Process?
    static let serverAddress = "203.0.113.1"
    static let serverAddress6 = "fd99:7::1"

    /// `prefix` names the namespaces (suites that may run at the same time use different ones);
    /// `serverArguments` are added to mariadbd's command line (TLS certificates, ...).
    init(maxConnectErrors: Int, prefix: String = "sp", serverArguments: [String] = []) throws {
        let pid = getpid()
        server = "\(prefix)\(pid)db"
        client = "\(prefix)\(pid)cl"
        directory = NSTemporaryDirectory() + "\(prefix)-mariadb-\(pid)-\(UUID().uuidString.prefix(8))"
        tearDown()
        do {
            try setUp(maxConnectErrors: maxConnectErrors, serverArguments: serverArguments)
        } catch {
            tearDown()
            throw error
        }
    }

    private func setUp(maxConnectErrors: Int, serverArguments: [String]) throws {
        for namespace in [server, client] {
            try ChildProcess.mustRun(["ip", "netns", "add", namespace])
            try ChildProcess.mustRun(["ip", "-n", namespace, "link", "set", "lo", "up"])
        }
        try ChildProcess.mustRun([
            "ip", "-n", server, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", client,
        ])
        try ChildProcess.mustRun(["ip", "-n", server, "addr", "add", "\(Self.serverAddress)/24", "dev", "eth0"])
        try ChildProcess.mustRun(["ip", "-n", server, "addr", "add", "\(Self.serverAddress6)/64", "dev", "eth0", "nodad"])
        try ChildProcess.mustRun(["ip", "-n", client, "addr", "add", "203.0.113.2/24", "dev", "eth0"])
        try ChildProcess.mustRun(["ip", "-n", client, "addr", "add", "203.0.113.3/24", "dev", "eth0"])
        try ChildProcess.mustRun(["ip", "-n", client, "addr", "add", "fd99:7::2/64", "dev", "eth0", "nodad"])
        try ChildProcess.mustRun(["ip", "-n", server, "link", "set", "eth0", "up"])
        try ChildProcess.mustRun(["ip", "-n", client, "link", "set", "eth0", "up"])
        try ChildProcess.mustRun(["ip", "netns", "exec", server, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try ChildProcess.mustRun(["ip", "-n", server, "route", "add", "unreachable", "198.51.100.98/32"])
        try ChildProcess.mustRun(["ip", "-n", server, "route", "add", "blackhole", "198.51.100.99/32"])
        try ChildProcess.mustRun(["ip", "-n", client, "route", "add", "198.51.100.0/24", "via", Self.serverAddress])

        // Name resolution inside the server namespace: /etc/hosts for the clients, no DNS server at all.
        let etc = "/etc/netns/\(server)"
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        try "127.0.0.1 localhost\n203.0.113.2 spclient2\n203.0.113.3 spclient3\nfd99:7::2 spclient6\n"
            .write(toFile: etc + "/hosts", atomically: true, encoding: .utf8)
        try "nameserver 127.0.0.1\n".write(toFile: etc + "/resolv.conf", atomically: true, encoding: .utf8)

        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ChildProcess.mustRun(["chmod", "755", directory])
        try ChildProcess.mustRun(["chown", "mysql:mysql", directory])
        // A temporary directory of its own: labs started at the same time (this suite's, the TLS suite's,
        // other developers') otherwise share /tmp for the server's internal temporary tables, and one
        // bootstrap was seen failing on another's file ("Error on delete of '/tmp/#sql-temptable-...'").
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        try ChildProcess.mustRun(["chown", "mysql:mysql", directory + "/tmp"])
        try ChildProcess.mustRun([
            "mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir=\(directory)/data", "--skip-test-db",
            "--auth-root-authentication-method=socket", "--tmpdir=\(directory)/tmp",
        ])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ip", "netns", "exec", server, "mariadbd", "--no-defaults", "--user=mysql", "--datadir=\(directory)/data",
            "--socket=\(directory)/s.sock", "--pid-file=\(directory)/pid", "--log-error=\(directory)/err.log",
            // "::" would listen on IPv6 only in MariaDB 10.11; "*" is both families.
            "--bind-address=*", "--port=3306", "--max-connect-errors=\(maxConnectErrors)",
            "--innodb-buffer-pool-size=16M", "--max-connections=200", "--tmpdir=\(directory)/tmp",
        ] + serverArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        daemon = process
        var ready = false
        for _ in 0..<300 {
            if (try? ChildProcess.run(["mariadb-admin", "--no-defaults", "-S", "\(directory)/s.sock", "-u", "root", "ping"]))?
                .status == 0
            {
                ready = true
                break
            }
            usleep(100_000)
        }
        let log = (try? String(contentsOfFile: "\(directory)/err.log", encoding: .utf8)) ?? ""
        try #require(ready, "mariadbd did not start within 30 s: \(log.suffix(800))")
        try sql("CREATE USER 'probe'@'203.0.113.2' IDENTIFIED BY 'vipscope-probe'; "
            + "CREATE USER 'probe'@'fd99:7::2' IDENTIFIED BY 'vipscope-probe';")
    }

    /// Run SQL as root over the server's Unix socket; returns the tab-separated rows. Without TLS: the
    /// client would otherwise start TLS even over the socket and count in the server's Ssl_* statistics.
    @discardableResult
    func sql(_ statement: String) throws -> String {
        let output = try ChildProcess.run([
            "mariadb", "--no-defaults", "--skip-ssl", "-S", "\(directory)/s.sock", "-u", "root", "-N", "-B", "-e",
            statement,
        ])
        try #require(output.status == 0, "SQL failed: \(statement): \(output.standardError)")
        return output.standardOutput
    }

    /// Log in over TCP from the client namespace as the probe account (in clear, or with TLS without
    /// checking the certificate); returns (status, stdout, stderr).
    func clientQuery(_ statement: String, host: String = serverAddress, tls: Bool = false) throws -> ProcessOutput {
        try ChildProcess.run([
            "ip", "netns", "exec", client, "mariadb", "--no-defaults", tls ? "--ssl" : "--skip-ssl", "--protocol=TCP",
            "-h", host,
            "-P", "3306", "-u", "probe", "-pvipscope-probe", "-N", "-B", "-e", statement,
        ])
    }

    /// Run svcprobe in the client namespace with `--json`.
    func probe(_ arguments: [String]) throws -> (status: Int32, lines: [[String: Any]], stderr: String) {
        let output = try ChildProcess.run(["ip", "netns", "exec", client, try Support.svcprobe(), "--json"] + arguments)
        return (output.status, try JSONLines.events(output.standardOutput, tool: "svcprobe"), output.standardError)
    }

    func tearDown() {
        if ProcessInfo.processInfo.environment["SP_KEEP_LAB"] != nil, daemon != nil { return }
        if let daemon, daemon.isRunning {
            kill(daemon.processIdentifier, SIGTERM)
            for _ in 0..<100 where daemon.isRunning { usleep(50_000) }
            if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
            daemon.waitUntilExit()
        }
        // mariadbd itself is a child of `ip netns exec` (which execs it: same PID); anything left in the
        // namespaces was started by this lab.
        for namespace in [server, client] {
            if let pids = try? ChildProcess.run(["ip", "netns", "pids", namespace]).standardOutput {
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
        }
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(server)")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("svcprobe against a real MariaDB in network namespaces (root)", .serialized)
struct MariaDBLabTests {
    static func prerequisites() throws {
        try #require(TestEnvironment.isRoot, "the MariaDB lab needs root (network namespaces)")
        for tool in ["ip", "mariadbd", "mariadb", "mariadb-install-db", "mariadb-admin", "python3"] {
            try #require(ChildProcess.which(tool) != nil, "install \(tool) (scripts/setup)")
        }
    }

    @Test("Greeting decode matches what the server says about itself; ERR 1130; refused, timeout, unreachable, silent")
    func greetingAndOutcomes() throws {
        try Self.prerequisites()
        let lab = try MariaDBLab(maxConnectErrors: 100)
        defer { lab.tearDown() }
        let (servers, ports) = try TestServers.start(address: "203.0.113.1", modes: ["silent"], namespace: lab.server)
        defer { servers.stop() }

        let probed = try lab.probe(["203.0.113.1:3306", "--timeout", "2s"])
        #expect(probed.status == 0)
        let greeting = try #require(probed.lines.first)
        #expect(greeting["outcome"] as? String == "greeting")
        // The server's own view, from the very next connection (thread ids count up by one per connection).
        let view = try lab.clientQuery(
            "SELECT VERSION(), CONNECTION_ID(), @@collation_server, "
                + "(SELECT ID FROM information_schema.COLLATIONS WHERE COLLATION_NAME = @@collation_server), "
                + "@@have_ssl")
        try #require(view.status == 0, "mariadb client: \(view.standardError)")
        let fields = view.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").map(String.init)
        try #require(fields.count == 5, "unexpected: \(view.standardOutput)")
        #expect(greeting["version"] as? String == fields[0])
        #expect((greeting["server_version"] as? String) == "5.5.5-" + fields[0], "MariaDB 10.x greets with the prefix")
        let connectionID = try #require(greeting["connection_id"] as? Int)
        #expect(connectionID + 1 == Int(fields[1]))
        #expect(greeting["collation"] as? String == fields[2])
        #expect(greeting["collation_id"] as? Int == Int(fields[3]).map { $0 & 0xFF })
        #expect(greeting["tls_offered"] as? Bool == (fields[4] == "YES"))
        #expect(greeting["flavour"] as? String == "mariadb")
        #expect(greeting["login"] as? String == "denied")
        #expect([1045, 1698].contains(greeting["login_error_code"] as? Int ?? 0), "access denied (1698: no password)")
        #expect((greeting["connect_us"] as? Double ?? 0) > 0)

        // IPv6 across the same veth; the probe account exists for fd99:7::2 too.
        let v6 = try lab.probe(["[fd99:7::1]:3306"])
        #expect(v6.lines.first?["outcome"] as? String == "greeting")
        #expect(v6.lines.first?["address"] as? String == "fd99:7::1")

        // Refused, silent, unreachable (ICMP from the server namespace), timeout (blackhole).
        let mixed = try lab.probe([
            "203.0.113.1:3307", "203.0.113.1:\(ports[0])", "198.51.100.98:3306", "198.51.100.99:3306",
            "--timeout", "700ms", "--linger", "300ms", "--expect-up",
        ])
        let onTime = mixed.lines.filter { $0["event"] as? String == "probe" }
        #expect(onTime.map { $0["outcome"] as? String } == ["refused", "silent", "unreachable", "timeout"])
        // The silent server's connection was kept for a late greeting, then closed when the linger ran out.
        #expect(onTime[1]["lingering"] as? Bool == true)
        #expect(mixed.lines.filter { $0["event"] as? String == "late" }.map { $0["outcome"] as? String } == ["silent"])
        #expect(mixed.status == 10, "--expect-up with targets down")
        let unreachableAfter = onTime[2]["total_us"] as? Double ?? .infinity
        #expect(unreachableAfter < 500_000, "ICMP unreachable ends the connect at once, not at the timeout")

        // ERR 1130 for the address without an account: its traffic now leaves from 203.0.113.3.
        try ChildProcess.mustRun(["ip", "-n", lab.client, "route", "replace", "203.0.113.1/32", "dev", "eth0", "src", "203.0.113.3"])
        let refusedHost = try lab.probe(["203.0.113.1:3306", "--expect-up"])
        #expect(refusedHost.status == 11)
        let error = try #require(refusedHost.lines.first)
        #expect(error["outcome"] as? String == "error")
        #expect(error["error_code"] as? Int == 1130)
        #expect(error["error_name"] as? String == "ER_HOST_NOT_PRIVILEGED")
        // Name resolution is on: the server names the client by its (namespace /etc/hosts) name.
        #expect((error["error_message"] as? String)?.contains("'spclient3'") == true)
        #expect(error["error_sqlstate"] == nil, "no SQLSTATE before the greeting")

        // --expect-version
        try ChildProcess.mustRun(["ip", "-n", lab.client, "route", "del", "203.0.113.1/32"])
        let major = fields[0].split(separator: ".").first.map(String.init) ?? "10"
        #expect(try lab.probe(["203.0.113.1", "--expect-version", "^\(major)\\."]).status == 0)
        #expect(try lab.probe(["203.0.113.1", "--expect-version", "^9\\."]).status == 12)
    }

    @Test("Hundreds of polite probes never get the client blocked; closing after the greeting does")
    func politeProbesAreNotCountedAsConnectErrors() throws {
        try Self.prerequisites()
        let maxConnectErrors = 3
        let lab = try MariaDBLab(maxConnectErrors: maxConnectErrors)
        defer { lab.tearDown() }
        let probes = 300
        let polite = try lab.probe(
            [String](repeating: "203.0.113.1:3306", count: probes) + ["--concurrency", "16", "--expect-up"])
        #expect(polite.status == 0, "\(polite.stderr)")
        #expect(polite.lines.count == probes)
        let outcomes = Dictionary(grouping: polite.lines.map { $0["outcome"] as? String ?? "?" }, by: { $0 })
            .mapValues(\.count)
        #expect(outcomes == ["greeting": probes], "every polite probe got a greeting: \(outcomes)")
        #expect(polite.lines.allSatisfy { [1045, 1698].contains($0["login_error_code"] as? Int ?? 0) })
        let ids = Set(polite.lines.compactMap { $0["connection_id"] as? Int })
        #expect(ids.count == probes, "each probe was a distinct server connection")

        // A normal client from the same address still gets in.
        let after = try lab.clientQuery("SELECT 1")
        #expect(after.status == 0 && after.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "1",
            "blocked after polite probes: \(after.standardError)")

        // The same server, the same address, the impolite way: blocked after max_connect_errors.
        // One probe per run, a moment apart: the server counts a handshake error when its connection
        // thread sees the close, which may be after the next connection's host check.
        var rudeOutcomes: [(String, Int?)] = []
        for _ in 0..<10 {
            let rude = try lab.probe(["203.0.113.1:3306", "--close-after-greeting"])
            rudeOutcomes += rude.lines.map { ($0["outcome"] as? String ?? "?", $0["error_code"] as? Int) }
            usleep(100_000)
        }
        #expect(rudeOutcomes.prefix(maxConnectErrors).allSatisfy { $0.0 == "greeting" })
        #expect(rudeOutcomes.last?.0 == "error" && rudeOutcomes.last?.1 == 1129,
            "\(rudeOutcomes) \((try? String(contentsOfFile: lab.directory + "/err.log", encoding: .utf8))?.suffix(1500) ?? "")")
        let blocked = try lab.clientQuery("SELECT 1")
        #expect(blocked.status != 0 && blocked.standardError.contains("1129"), "client: \(blocked.standardError)")
        // And once blocked, svcprobe says why.
        let why = try lab.probe(["203.0.113.1:3306"])
        #expect(why.lines.first?["error_name"] as? String == "ER_HOST_IS_BLOCKED")
    }

    /// Issue 17: a server frozen with SIGSTOP for longer than 10 probe intervals, `max_connect_errors=2`.
    /// The kernel still accepts the probes' connections; a prober that closes them at its timeout leaves
    /// them in the accept backlog, and the server, resumed, counts each as a handshake error and blocks
    /// the prober (ERR 1129). svcprobe keeps the one connection in flight open (`--linger`), finishes the
    /// polite login when the greeting comes, and starts no other connection meanwhile: after SIGCONT the
    /// host cache shows 0 errors for the prober's address and the next probe gets a greeting. The same
    /// watch with `--linger 0` shows the test can fail: the host gets blocked.
    @Test("SIGSTOP for 3 s with max_connect_errors=2: the polite watch is not blocked, --linger 0 is")
    func stalledServerDoesNotGetTheProberBlocked() throws {
        try Self.prerequisites()
        let lab = try MariaDBLab(maxConnectErrors: 2, prefix: "vs-svc-", serverArguments: ["--performance-schema=ON"])
        defer { lab.tearDown() }
        let daemon = try #require(lab.daemon)
        let svcprobe = try Support.svcprobe()
        let hostCache = "SELECT SUM_CONNECT_ERRORS, COUNT_HANDSHAKE_ERRORS FROM performance_schema.host_cache "
            + "WHERE IP = '203.0.113.2'"

        func watchThroughStall(extra: [String]) throws -> [[String: Any]] {
            let watch = try Background([
                "ip", "netns", "exec", lab.client, svcprobe, "203.0.113.1:3306", "--watch", "--json", "--interval", "200ms",
                "--timeout", "500ms", "--duration", "6s",
            ] + extra)
            usleep(1_000_000)
            kill(daemon.processIdentifier, SIGSTOP)
            usleep(3_000_000)  // 15 probe intervals
            kill(daemon.processIdentifier, SIGCONT)
            let (status, output) = watch.outputAfterExit(within: 30)
            #expect(status == 0, "\(output)")
            return try JSONLines.events(output, tool: "svcprobe")
        }

        let polite = try watchThroughStall(extra: [])
        let events = polite.map { $0["event"] as? String ?? "?" }
        #expect(events.first == "initial" && polite.first?["outcome"] as? String == "greeting", "\(events)")
        #expect(events.contains("down"), "the stall is seen on time: \(events)")
        let late = polite.filter { $0["event"] as? String == "late" }
        #expect(late.count == 1, "one probe was in flight during the stall: \(late)")
        #expect(late.first?["outcome"] as? String == "greeting" && late.first?["login"] as? String == "denied")
        #expect(polite.contains { $0["event"] as? String == "up" }, "up again after SIGCONT: \(events)")
        #expect(!polite.contains { $0["error_code"] as? Int == 1129 }, "never blocked: \(polite)")
        let summary = try #require(polite.last)
        #expect(summary["event"] as? String == "summary" && summary["down_at_end"] as? Bool == false)
        #expect(summary["outages"] as? Int == 1 && (summary["skipped_rounds"] as? Int ?? 0) >= 10, "\(summary)")
        #expect(summary["exit_status"] as? Int == 0)
        let cache = try lab.sql(hostCache).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(cache == "0\t0", "host cache for the prober (connect errors, handshake errors): '\(cache)'")
        let next = try lab.probe(["203.0.113.1:3306"])
        #expect(next.lines.first?["outcome"] as? String == "greeting", "\(next.lines)")

        // The impolite way under the same stall: the backlog's closed connections block the address.
        let rude = try watchThroughStall(extra: ["--linger", "0"])
        usleep(300_000)
        let rudeCache = try lab.sql(hostCache).trimmingCharacters(in: .whitespacesAndNewlines)
        let errors = Int(rudeCache.split(separator: "\t").first ?? "") ?? 0
        #expect(errors >= 2, "closing at the timeout is counted: '\(rudeCache)'")
        let afterRude = try lab.probe(["203.0.113.1:3306"])
        #expect(afterRude.lines.first?["error_code"] as? Int == 1129, "blocked: \(afterRude.lines)")
        // Every change is an event: the stall (silent) turning into ERR 1129 is `changed`, with the text.
        let blocked = try #require(rude.first { $0["error_code"] as? Int == 1129 }, "\(rude)")
        #expect(blocked["event"] as? String == "changed", "\(blocked)")
        #expect((blocked["error_message"] as? String)?.contains("blocked") == true)
        #expect((blocked["reason"] as? String)?.hasPrefix("was silent") == true)
        #expect(rude.last?["down_at_end"] as? Bool == true && rude.last?["outages"] as? Int == 1)

        // Down for the whole watch: one outage as long as the watch, not outages=0.
        let downAll = try lab.probe(["203.0.113.1:3306", "--watch", "--interval", "200ms", "--duration", "1s",
            "--expect-up"])
        #expect(downAll.status == 10)
        let summary2 = try #require(downAll.lines.last)
        #expect(downAll.lines.first?["event"] as? String == "initial" && downAll.lines.first?["error_code"] as? Int == 1129)
        #expect(summary2["outages"] as? Int == 1 && summary2["down_at_start"] as? Bool == true
            && summary2["down_at_end"] as? Bool == true, "\(summary2)")
        #expect((summary2["total_outage_ms"] as? Double ?? 0) > 800, "\(summary2)")
        #expect(summary2["exit_status"] as? Int == 10, "the summary carries the real exit status")

        // FLUSH HOSTS during a watch that began blocked: `up`, and the outage from before the watch counts.
        let flushing = try Background([
            "ip", "netns", "exec", lab.client, svcprobe, "203.0.113.1:3306", "--watch", "--json", "--interval", "200ms",
            "--duration", "2s",
        ])
        usleep(800_000)
        try lab.sql("FLUSH HOSTS")
        let (flushStatus, flushOutput) = flushing.outputAfterExit(within: 20)
        #expect(flushStatus == 0)
        let flushed = try JSONLines.events(flushOutput, tool: "svcprobe")
        #expect(flushed.map { $0["event"] as? String ?? "?" }.prefix(2) == ["initial", "up"], "\(flushed)")
        #expect(flushed.last?["outages"] as? Int == 1 && flushed.last?["down_at_start"] as? Bool == true)
        #expect(flushed.last?["down_at_end"] as? Bool == false)
    }
}
