import ArgumentParser
import Capture
import Glibc
import PacketCore
import SvcProbeKit
import ToolSupport

/// `svcprobe`: does IP:port answer, how fast, and what does the MySQL/MariaDB server say, without getting
/// the client's address blocked by `max_connect_errors`.
@main
struct SvcProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svcprobe",
        abstract: "Probe TCP services and decode what a MySQL or MariaDB server says, without getting blocked.",
        discussion: """
            Each target gets a non-blocking TCP connect (many at once, --concurrency),
            timed with the monotonic clock (connect, first byte, greeting; printed in
            ms with microsecond resolution), and one outcome:
              greeting     a MySQL/MariaDB greeting (HandshakeV10/V9): flavour, real
                           version (MariaDB's 5.5.5- prefix removed), connection
                           id, capabilities incl. MariaDB's extended ones,
                           collation, status, auth plugin, TLS offered
              error        an ERR packet instead of a greeting: 1130 host not
                           allowed, 1129 host blocked, 1040 too many connections
              banner       another protocol spoke first (SSH, SMTP, ...)
              silent       connected, but nothing was said within --timeout
              closed/reset the server hung up before a complete greeting
              refused      RST to the SYN (nothing listens; no endpoints)
              timeout      no answer to the SYN
              unreachable  ICMP unreachable, no route, no ARP/NDP answer
              unresolved   the name did not resolve

            WHAT THE PROBE SENDS. MariaDB and MySQL count a connection that ends
            before the login exchange completes (connect, read the greeting, close:
            what nmap, curl and TCP health checks do) as a handshake error for the
            client's address; after max_connect_errors of them the address gets ERR
            1129 until FLUSH HOSTS. A failed login is not counted. So after a 4.1+
            greeting svcprobe sends one HandshakeResponse41 for user 'svcprobe'
            (--user) with an EMPTY password and the server's auth plugin name,
            answers auth-switch requests with an empty reply (at most 4), reads the
            verdict (normally ERR 1045 access denied), sends COM_QUIT if it was let
            in, and waits for the server to close. Nothing else: no password, no
            query. The server's error log shows "Access denied for user 'svcprobe'"
            (with log_warnings >= 2); a passwordless account without privileges
            (CREATE USER svcprobe@'%') makes the logins succeed quietly.
            --close-after-greeting does the impolite thing instead. Non-MySQL
            servers only get connect, read, close.

            A STALLED SERVER (frozen, overloaded) still has its kernel accept the
            connection; closing it at the timeout leaves it in the accept queue,
            and the server, once it resumes, counts it as a handshake error. So a
            probe without a greeting within --timeout is reported silent at once,
            but keeps its connection for --linger (default 10s) and, if the
            greeting comes, runs the polite login: a second line, event "late".
            --linger 0 closes at the timeout.

            TLS (--tls). After a greeting that offers CLIENT_SSL, svcprobe sends the
            SSLRequest, completes a TLS handshake on the same socket (SNI when the
            target is a name or --tls-name is given), reports protocol version,
            cipher and the certificate (subject, issuer, DNS and IP SANs, validity,
            days left, SHA-256), then runs the same polite login inside TLS and
            ends with COM_QUIT (if let in), close_notify and close. The certificate
            is NOT verified by default: it is shown as presented ("unverified").
            --tls-verify checks chain, expiry and name against the system store
            (or --tls-ca FILE) and reports the reason when it fails; the probe goes
            on either way (it never sends a secret). A server without TLS set up
            gives tls=not-offered and the login runs in clear. A failed handshake
            is a handshake error to the server, as for any client; so is
            --close-after-greeting with --tls (it closes after the handshake).

            TARGETS: HOST:PORT, [IPv6]:PORT, HOST (port 3306), HOST:LOW-HIGH (a
            port range); names are resolved with getaddrinfo (the first address is
            probed). Results print in argument order.

            OUTPUT: one line per target (-v adds details). --json prints one JSON
            object per line (schema: docs/json.md), first a "start" object (tool,
            version, schema_version), then objects with the fields event, time,
            host (--node-name), target, address, port, outcome,
            up, connect_us, first_byte_us, greeting_us, tls_us, login_us, total_us,
            protocol, flavour, version, server_version, connection_id,
            capabilities, capability_names, mariadb_capabilities, collation_id,
            collation, server_status, server_status_names, auth_plugin,
            tls_offered, error_code,
            error_name, error_sqlstate, error_message, banner, login (none,
            accepted, denied, incomplete), login_error_code, login_error_name,
            login_error_message, login_detail, detail; with --tls also tls
            (established, not-offered, failed), tls_version, tls_cipher, tls_error,
            cert_subject, cert_issuer, cert_dns_names, cert_ip_addresses,
            cert_not_before, cert_not_after (UTC, ISO 8601), cert_days_left,
            cert_sha256, tls_verification (unverified, verified, failed),
            tls_verified and tls_verify_error (with --tls-verify). Subject and
            issuer read as `openssl x509 -subject` prints them. Absent fields do
            not apply; lingering and late are true on those reports. --watch adds
            events initial, down, up, changed (another outcome or ERR code while
            down, such as 1129 or 1040; another version, or connection ids going
            back, while up; with the server's text), late, and a summary per
            target; an outage open at the start or the end counts. It keeps at
            most one connection per target in flight: a round that finds the last
            probe still open skips the target (skipped_rounds). -r prints event
            "handshake" objects as each connection ends, then a summary per file.

            -r CAPTURES: a connection established and closed before the client's
            login packet is marked counts-toward-max_connect_errors (what nc -z and
            TCP health checks do: the cause of an ERR 1129). A SYN without an
            answer is timeout. At most 32768 connections are tracked at once; the
            oldest is then reported as it stands (evicted=N in the summary).

            EXIT STATUS:
              0   ran (and every expectation held)
              1   could not run (unreadable capture or CA file, ...), or a
                  capture could not be read to its end (what came before is
                  printed and its summary says partial)
              2   interrupted
              64  usage error
            With --expect-up, --expect-version, --expect-tls (each implies
            --expect-up) or --tls-verify:
              10  a target did not answer (refused, timeout, unreachable, reset,
                  closed, silent, unresolved)
              11  a target answered with an ERR packet instead of a greeting
              12  a greeting's version did not match --expect-version
              13  --expect-tls: a greeting did not offer TLS (tls not offered)
              14  --expect-tls or --tls-verify: the TLS handshake failed, or
                  (--tls-verify) the certificate did not verify
            When several apply, the lowest code wins. In --watch mode, 10 means
            the service was down at some point.

            Examples:
              svcprobe 198.51.100.20:3306
              svcprobe db.example:3306 '[2001:db8::20]:3306' 203.0.113.5:22 --json
              svcprobe 198.51.100.20 --expect-up --expect-version '^10\\.11\\.'
              svcprobe 198.51.100.20 --tls -v
              svcprobe db.example --expect-tls --tls-verify --tls-ca ca.pem
              svcprobe 198.51.100.20:3306 --watch --interval 200ms --duration 60s
              svcprobe -r captures/mariadb-greeting.pcap
            """,
        version: VipscopeVersion.string)

    /// A usage error is one line plus the `--help` hint (ToolSupport.CommandRunner).
    static func main() { CommandRunner.main(Self.self) }

    @Argument(help: ArgumentHelp("Targets: HOST:PORT, [IPv6]:PORT, HOST (port 3306), HOST:LOW-HIGH.", valueName: "target"))
    var targets: [String] = []

    // Numeric options are read as text (`.unconditional`: `-5` is a value, not an option) and checked in
    // validate() against their ranges, so a negative or absurd value is a usage error, never a trap.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Give up on a step after this long (1ms to 3600s; e.g. 500ms, 3s).", valueName: "duration"))
    var timeout = "3s"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "After a timeout waiting for the greeting, keep the connection this long (0 to 3600s) to finish the login.",
        valueName: "duration"))
    var linger = "10s"

    @Option(parsing: .unconditional, help: ArgumentHelp("Probes in flight at once (1 to 65536).", valueName: "n"))
    var concurrency = "256"

    @Option(help: ArgumentHelp("The user name in the polite login (empty password).", valueName: "name"))
    var user = "svcprobe"

    @Flag(help: "Close right after the greeting, as nmap and curl do (counts against max_connect_errors).")
    var closeAfterGreeting = false

    @Flag(help: "Exit 10 if a target did not answer, 11 if it answered with an ERR packet.")
    var expectUp = false

    @Option(help: ArgumentHelp(
        "Exit 12 unless every greeting's version (without the 5.5.5- prefix) matches this regular expression.",
        valueName: "regex"))
    var expectVersion: String?

    @Flag(help: "After the greeting, switch to TLS (SSLRequest) and report version, cipher, certificate.")
    var tls = false

    @Flag(help: "Check the certificate (chain, expiry, name); exit 14 if it fails. Implies --tls.")
    var tlsVerify = false

    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file for --tls-verify (implies it).",
        valueName: "file"))
    var tlsCa: String?

    @Option(help: ArgumentHelp("The server name for SNI and --tls-verify (default: the target's name).",
        valueName: "name"))
    var tlsName: String?

    @Flag(help: "Exit 13 if a greeting does not offer TLS, 14 if the handshake fails. Implies --tls.")
    var expectTls = false

    @Flag(help: "Probe again and again; print a timeline of up/down changes with outage lengths.")
    var watch = false

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Time between probe rounds in --watch mode (1ms to 86400s).", valueName: "duration"))
    var interval = "1s"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Stop --watch after this long (1ms to 31622400s; default: until Ctrl-C).", valueName: "duration"))
    var duration: String?

    @Option(name: [.customShort("r"), .customLong("read")], help: ArgumentHelp(
        "Find the MySQL handshakes in this pcap/pcapng file instead of probing. Repeatable.", valueName: "file"))
    var files: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "The server port to look for in -r captures (1 to 65535).", valueName: "port"))
    var port = "3306"

    @Option(name: [.customShort("f"), .customLong("filter")], help: ArgumentHelp(
        "An extra BPF filter for -r captures.", valueName: "expr"))
    var filter: String?

    @Flag(help: "Print JSON Lines instead of text (docs/json.md).")
    var json = false

    @OptionGroup var node: NodeNameOptions

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Add capability, status and login details.")
    var verbose = false

    func validate() throws {
        if targets.isEmpty && files.isEmpty {
            throw ValidationError("Give targets to probe (HOST:PORT ...) or a capture to read with -r FILE.")
        }
        if !targets.isEmpty && !files.isEmpty { throw ValidationError("Probe targets or read captures (-r), not both.") }
        _ = try Self.checked(DurationText.validated(timeout, option: "--timeout", range: Limits.timeout, example: "500ms"))
        _ = try Self.checked(DurationText.validated(linger, option: "--linger", range: Limits.linger, example: "10s"))
        _ = try Self.checked(DurationText.validated(interval, option: "--interval", range: Limits.interval, example: "200ms"))
        if let duration {
            _ = try Self.checked(DurationText.validated(duration, option: "--duration", range: Limits.duration, example: "60s"))
        }
        _ = try Self.checked(NumberText.validated(concurrency, option: "--concurrency", range: 1...65_536))
        _ = try Self.checked(NumberText.validated(port, option: "--port", range: 1...65_535))
        if duration != nil && !watch { throw ValidationError("--duration applies to --watch only.") }
        if watch && !files.isEmpty { throw ValidationError("--watch probes live targets; it cannot read captures.") }
        if let expectVersion, (try? Regex(expectVersion)) == nil {
            throw ValidationError("--expect-version '\(expectVersion)' is not a valid regular expression.")
        }
        if user.isEmpty || user.utf8.contains(0) { throw ValidationError("--user must be a non-empty name.") }
        if !files.isEmpty && (tls || tlsVerify || tlsCa != nil || tlsName != nil || expectTls) {
            throw ValidationError("The --tls options apply to live probes, not to -r captures.")
        }
        if let tlsName, tlsName.isEmpty || tlsName.utf8.contains(0) {
            throw ValidationError("--tls-name must be a non-empty name.")
        }
        for target in targets {
            do { _ = try ProbeTarget.parse(target) } catch { throw ValidationError("Bad target \(error)") }
        }
    }

    /// The allowed ranges of the duration options, in nanoseconds (named in their usage errors).
    enum Limits {
        static let timeout: ClosedRange<Int64> = 1_000_000...3_600_000_000_000
        static let linger: ClosedRange<Int64> = 0...3_600_000_000_000
        static let interval: ClosedRange<Int64> = 1_000_000...86_400_000_000_000
        static let duration: ClosedRange<Int64> = 1_000_000...31_622_400_000_000_000
    }

    static func checked<Value>(_ result: Result<Value, DurationError>) throws -> Value {
        switch result {
        case .success(let value): return value
        case .failure(let error): throw ValidationError(error.description)
        }
    }

    // After validate(): the checked values.
    var timeoutNanoseconds: Int64 { DurationText.nanoseconds(timeout) ?? 3_000_000_000 }
    var lingerNanoseconds: Int64 { DurationText.nanoseconds(linger) ?? 10_000_000_000 }
    var intervalNanoseconds: Int64 { DurationText.nanoseconds(interval) ?? 1_000_000_000 }
    var durationNanoseconds: Int64? { duration.flatMap(DurationText.nanoseconds) }
    var concurrencyValue: Int { Int(concurrency) ?? 256 }
    var portValue: UInt16 { UInt16(port) ?? 3306 }

    func run() throws {
        let envelope = node.envelope
        if json { StandardStreams.output(envelope.start(tool: "svcprobe", time: WallClock.now()).text + "\n") }
        if !files.isEmpty { return try readCaptures(envelope) }
        var parsed: [ProbeTarget] = []
        for target in targets { parsed += (try? ProbeTarget.parse(target)) ?? [] }
        var options = ProbeOptions()
        options.timeoutNanoseconds = timeoutNanoseconds
        options.lingerNanoseconds = lingerNanoseconds
        options.concurrency = concurrencyValue
        options.login = closeAfterGreeting ? .closeAfterGreeting : .polite(user: user)
        options.tls.enabled = tls || tlsVerify || tlsCa != nil || tlsName != nil || expectTls
        options.tls.verify = tlsVerify || tlsCa != nil
        options.tls.caFile = tlsCa
        options.tls.serverName = tlsName
        if options.tls.enabled, let problem = Prober.checkTLS(options.tls) {
            StandardStreams.error("svcprobe: \(problem).")
            throw ExitCode(ExitStatus.failure)
        }
        let expression = expectVersion.flatMap { try? Regex($0) }
        if watch { return try runWatch(options, parsed, expression, envelope) }
        let prober = Prober(options: options)
        // On-time results print in argument order as soon as the last is in; a probe that lingers for a
        // late greeting adds a `late` line when it ends (the exit status is the on-time verdict's).
        let results = prober.run(
            parsed, onAllResults: { results in for result in results { emit(result, envelope: envelope) } },
            onLate: { result in emit(result, event: "late", envelope: envelope) })
        let status = ProbeVerdict.status(
            results, expectUp: expectUp, expectVersion: expression, expectTLS: expectTls,
            verifyTLS: options.tls.verify)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    private func emit(_ result: ProbeResult, event: String = "probe", envelope: JSONEnvelope) {
        if json {
            StandardStreams.output(
                ProbeRendering.json(result, event: event, envelope: envelope, time: WallClock.now()).text + "\n")
        } else {
            var text = (event == "probe" ? "" : event + " ") + ProbeRendering.text(result) + "\n"
            if verbose { for line in ProbeRendering.details(result) { text += line + "\n" } }
            StandardStreams.output(text)
        }
    }

    private func runWatch(
        _ options: ProbeOptions, _ parsed: [ProbeTarget], _ expression: Regex<AnyRegexOutput>?, _ envelope: JSONEnvelope
    ) throws {
        StopSignal.install()
        let session = WatchSession(targets: parsed, options: options, intervalNanoseconds: intervalNanoseconds)
        let start = session.startedAt
        let end = durationNanoseconds.map { start.addingReportingOverflow($0).overflow ? Int64.max : start + $0 }
        var mismatch = false
        var tlsProblem: Int32?
        session.onResult = { result in
            if let expression, let version = result.greeting?.version, (try? expression.firstMatch(in: version)) == nil {
                mismatch = true
            }
            if let code = ProbeVerdict.tlsStatus([result], expectTLS: expectTls, verifyTLS: options.tls.verify) {
                tlsProblem = min(tlsProblem ?? code, code)
            }
        }
        let output: (WatchSession.Output) -> Void = { output in
            switch output {
            case .event(let event, let result): emitWatch(event, result: result, start: start, envelope: envelope)
            case .late(let result): emitLate(result, start: start, envelope: envelope)
            }
        }
        while !StopSignal.isRaised {
            if let end, Monotonic.now() >= end { break }
            session.step(until: end ?? .max, output: output)
        }
        // Probes still open finish politely: closing them now is what gets a client blocked. A second
        // Ctrl-C ends the program at once (StopSignal restores the default action). When --duration ended
        // the watch, nobody pressed Ctrl-C yet: restore the default action now, so one Ctrl-C quits.
        if session.inFlight > 0 {
            let interrupted = StopSignal.isRaised
            if !interrupted {
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
            }
            StandardStreams.error(
                "svcprobe: letting \(session.inFlight) probe(s) in flight finish politely (at most "
                    + "\(DurationText.describe(timeoutNanoseconds))+\(DurationText.describe(lingerNanoseconds))); "
                    + "press Ctrl-C \(interrupted ? "again " : "")to quit now.")
        }
        session.drain(shouldStop: { false }, output: output)
        var status = ExitStatus.ok
        if expectUp || expectVersion != nil || expectTls {
            if session.everDown { status = ProbeVerdict.down } else if mismatch { status = ProbeVerdict.versionMismatch }
        }
        if status == ExitStatus.ok, let tlsProblem { status = tlsProblem }
        for summary in session.summaries() {
            if json {
                StandardStreams.output(
                    ProbeRendering.json(summary, exitStatus: status, envelope: envelope, time: WallClock.now()).text
                        + "\n")
            } else {
                StandardStreams.output(ProbeRendering.text(summary) + "\n")
            }
        }
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    private func emitWatch(_ event: WatchTimeline.Event, result: ProbeResult, start: Int64, envelope: JSONEnvelope) {
        let since = event.at.subtractingReportingOverflow(start).partialValue
        if json {
            var line = ProbeRendering.json(
                result, event: event.change.rawValue, envelope: envelope, time: WallClock.now())
            line.add("elapsed_s", Double(since) / 1e9)
            line.add("state", event.state)
            if event.change == .up { line.add("outage_ms", event.duration.map { Double($0) / 1e6 }) }
            if event.change == .down { line.add("up_for_ms", event.duration.map { Double($0) / 1e6 }) }
            line.add("failed_probes", event.failedProbes)
            line.add("reason", event.reason)
            StandardStreams.output(line.text + "\n")
            return
        }
        let elapsed = Formatting.fixed(Double(since) / 1e9, decimals: 3) + "s"
        StandardStreams.output("\(realtimeNow().iso8601) +\(elapsed) " + ProbeRendering.text(event, result: result) + "\n")
    }

    private func emitLate(_ result: ProbeResult, start: Int64, envelope: JSONEnvelope) {
        let since = Monotonic.now().subtractingReportingOverflow(start).partialValue
        if json {
            var line = ProbeRendering.json(result, event: "late", envelope: envelope, time: WallClock.now())
            line.add("elapsed_s", Double(since) / 1e9)
            StandardStreams.output(line.text + "\n")
            return
        }
        let elapsed = Formatting.fixed(Double(since) / 1e9, decimals: 3) + "s"
        StandardStreams.output("\(realtimeNow().iso8601) +\(elapsed) late " + ProbeRendering.text(result) + "\n")
    }

    /// Each file's connections as they end, then one summary per file that was opened (none for a file
    /// that could not be: its error is on stderr). A file cut mid-record prints what came before, is
    /// marked partial, and makes the exit status 1; summaries carry that status.
    private func readCaptures(_ envelope: JSONEnvelope) throws {
        var summaries: [CaptureScanSummary] = []
        var status = ExitStatus.ok
        for path in files {
            do throws(CaptureError) {
                let summary = try CaptureScanner.scan(path: path, port: portValue, extraFilter: filter) { finding in
                    StandardStreams.output(
                        (json ? ProbeRendering.json(finding, envelope: envelope).text : ProbeRendering.text(finding))
                            + "\n")
                }
                if let problem = summary.readError {
                    StandardStreams.error("svcprobe: \(problem)")
                    status = ExitStatus.failure
                }
                summaries.append(summary)
            } catch {
                StandardStreams.error("svcprobe: \(error.message)")
                status = ExitStatus.failure
            }
        }
        for summary in summaries {
            StandardStreams.output(
                (json
                    ? ProbeRendering.json(summary, exitStatus: status, envelope: envelope, now: WallClock.now()).text
                    : ProbeRendering.text(summary)) + "\n")
        }
        if status != ExitStatus.ok { throw ExitCode(status) }
    }
}

func realtimeNow() -> Timestamp {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int32(now.tv_nsec))
}
