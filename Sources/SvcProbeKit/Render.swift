import PacketCore
import ToolSupport

/// Text and JSON Lines renderings of probe results (one line per probe; `--verbose` adds indented detail).
///
/// Every text that came from the peer (server version, error messages, auth plugin names, certificate
/// names, a client's user name in a capture) goes through `PrintableText.escaped` on a text line, so a
/// server cannot forge a line or drive the terminal. JSON quoting needs nothing more.
public enum ProbeRendering {
    /// Peer text for a text line.
    static func peer(_ text: some StringProtocol) -> String { PrintableText.escaped(text) }

    /// Microseconds with three decimals, in milliseconds: `0.081ms`.
    static func ms(_ nanoseconds: Int64?) -> String? {
        nanoseconds.map { Formatting.fixed(Double($0) / 1e6, decimals: 3) + "ms" }
    }

    static func microseconds(_ nanoseconds: Int64?) -> Double? {
        nanoseconds.map { (Double($0) / 1e3 * 1000).rounded() / 1000 }
    }

    /// One line: `TARGET OUTCOME what-it-said timings`.
    public static func text(_ result: ProbeResult) -> String {
        var parts = [result.target.description]
        if let address = result.address, address.ip != result.target.host { parts.append("(\(address.ip))") }
        parts.append(result.outcome.rawValue)
        if let greeting = result.greeting {
            parts.append(greeting.flavour.rawValue)
            parts.append(peer(greeting.version))
            parts.append("id=\(greeting.connectionID)")
        }
        if let error = result.error {
            parts.append("\(error.code.rawValue) \(error.code.symbol)")
            if let state = error.sqlState { parts.append("[\(peer(state))]") }
            parts.append("\"\(peer(error.message))\"")
        }
        if let banner = result.banner { parts.append("\"\(banner)\"") }
        var timing: [String] = []
        if let value = ms(result.timings.connect) { timing.append("connect=\(value)") }
        if let value = ms(result.timings.firstByte) { timing.append("first-byte=\(value)") }
        if let value = ms(result.timings.greeting) { timing.append("greeting=\(value)") }
        if result.timings.connect == nil, let value = ms(result.timings.total) { timing.append("after=\(value)") }
        parts += timing
        if let report = result.tls {
            parts += tlsWords(report)
        } else if let greeting = result.greeting {
            parts.append("tls=" + (greeting.offersTLS ? "offered" : "no"))
        }
        if let greeting = result.greeting {
            if let plugin = greeting.authPluginName { parts.append("auth=\(peer(plugin))") }
            if let collation = greeting.collation { parts.append("collation=\(collation)") }
        }
        switch result.login {
        case .notAttempted: break
        case .accepted: parts.append("login=accepted")
        case .denied(let error): parts.append("login=denied(\(error.code.rawValue))")
        case .incomplete: parts.append("login=incomplete")
        }
        if let detail = result.detail, result.greeting == nil, result.error == nil { parts.append("(\(peer(detail)))") }
        return parts.joined(separator: " ")
    }

    /// `tls=TLSv1.3 cipher=... cert="CN = db" expires=2027-06-01T12:00:00Z(364d) unverified`.
    static func tlsWords(_ report: TLSReport) -> [String] {
        switch report.status {
        case .notOffered: return ["tls=not-offered"]
        case .failed: return ["tls=failed", "(\(peer(report.error ?? "TLS handshake failed")))"]
        case .established: break
        }
        var words = ["tls=\(peer(report.version ?? "?"))", "cipher=\(peer(report.cipher ?? "?"))"]
        if let certificate = report.certificate {
            words.append("cert=\"\(peer(certificate.subject))\"")
            if let notAfter = certificate.notAfter {
                let left = report.daysRemaining.map { "\($0)d" } ?? "?"
                words.append("expires=\(CertificateSummary.utc(notAfter))(\(left))")
            }
        } else {
            words.append("cert=none")
        }
        switch report.verification {
        case .unverified: words.append("unverified")
        case .verified: words.append("verified")
        case .failed(let reason): words.append("verify=failed(\(peer(reason)))")
        }
        return words
    }

    /// Indented detail lines for `--verbose`.
    public static func details(_ result: ProbeResult) -> [String] {
        var lines: [String] = []
        if let greeting = result.greeting {
            let mariaDB = greeting.flavour == .mariaDB
            lines.append("  protocol \(greeting.protocolVersion), server version \"\(peer(greeting.serverVersion))\"")
            lines.append("  capabilities 0x\(String(greeting.capabilities.classic, radix: 16)): "
                + greeting.capabilities.names(mariaDB: mariaDB).filter { !$0.hasPrefix("MARIADB_") }.joined(separator: " "))
            if mariaDB {
                let extended = greeting.capabilities.names(mariaDB: true).filter { $0.hasPrefix("MARIADB_") }
                lines.append("  mariadb extended capabilities 0x\(String(greeting.capabilities.mariaDBExtended, radix: 16)): "
                    + extended.joined(separator: " "))
            }
            if let status = greeting.status {
                lines.append("  status 0x\(String(status.rawValue, radix: 16)): \(status.names.joined(separator: " "))")
            }
            if let collation = greeting.collation {
                lines.append("  collation \(collation.rawValue) \(collation) (charset \(collation.characterSet ?? "?"))")
            }
        }
        if let meaning = result.error?.code.meaning { lines.append("  error meaning: \(meaning)") }
        if let report = result.tls { lines += tlsDetails(report, handshakeAt: result.timings.tls) }
        switch result.login {
        case .denied(let error):
            lines.append("  login as probe user: denied \(error.code.rawValue) \(error.code.symbol): \(peer(error.message))")
        case .incomplete(let reason): lines.append("  login as probe user: incomplete: \(peer(reason))")
        case .accepted: lines.append("  login as probe user: accepted, COM_QUIT sent")
        case .notAttempted: break
        }
        if !result.authSwitches.isEmpty { lines.append("  auth switch to: \(peer(result.authSwitches.joined(separator: ", ")))") }
        if let value = ms(result.timings.login) { lines.append("  login verdict at \(value)") }
        if let value = ms(result.timings.total) { lines.append("  total \(value)") }
        if let detail = result.detail, result.greeting != nil || result.error != nil { lines.append("  \(peer(detail))") }
        if let parseError = result.parseError { lines.append("  decode problem: \(peer(String(describing: parseError)))") }
        return lines
    }

    static func tlsDetails(_ report: TLSReport, handshakeAt: Int64?) -> [String] {
        switch report.status {
        case .notOffered:
            return ["  tls: not offered (the greeting lacks CLIENT_SSL: the server has no TLS set up)"]
        case .failed:
            return ["  tls: \(peer(report.error ?? "failed"))"]
        case .established:
            break
        }
        let at = ms(handshakeAt).map { ", handshake done at \($0)" } ?? ""
        var lines = ["  tls \(peer(report.version ?? "?")) \(peer(report.cipher ?? "?"))" + at]
        if let certificate = report.certificate {
            lines.append("  certificate subject: \(peer(certificate.subject))")
            lines.append("  certificate issuer: \(peer(certificate.issuer))")
            let names = certificate.dnsNames.map { "DNS:\(peer($0))" } + certificate.ipAddresses.map { "IP:\(peer($0))" }
            let listed = names.isEmpty ? "(no subjectAltName)" : names.joined(separator: " ")
            lines.append("  certificate names: " + listed)
            let from = certificate.notBefore.map(CertificateSummary.utc) ?? "?"
            let to = certificate.notAfter.map(CertificateSummary.utc) ?? "?"
            let left = report.daysRemaining.map { $0 < 0 ? "EXPIRED \(-$0) days ago" : "\($0) days left" } ?? "?"
            lines.append("  certificate valid \(from) to \(to) (\(left))")
            lines.append("  certificate sha256 \(certificate.sha256)")
        } else {
            lines.append("  certificate: none presented")
        }
        switch report.verification {
        case .unverified: lines.append("  certificate unverified (shown as presented; --tls-verify checks it)")
        case .verified: lines.append("  certificate verified: chain and name check out")
        case .failed(let reason): lines.append("  certificate NOT verified: \(peer(reason))")
        }
        return lines
    }

    /// One JSON object (field names are the documented schema, docs/json.md: add, never rename). `time` is
    /// the wall clock when the result is printed: a live probe has no packet time of its own.
    public static func json(
        _ result: ProbeResult, event: String = "probe", envelope: JSONEnvelope, time: Timestamp
    ) -> JSONLine {
        var line = envelope.object(event, time: time)
        line.add("target", result.target.description)
        line.add("address", result.address?.ip)
        line.add("port", Int(result.target.port))
        line.add("outcome", result.outcome.rawValue)
        line.add("up", result.outcome.isUp)
        line.add("connect_us", microseconds(result.timings.connect))
        line.add("first_byte_us", microseconds(result.timings.firstByte))
        line.add("greeting_us", microseconds(result.timings.greeting))
        line.add("tls_us", microseconds(result.timings.tls))
        line.add("login_us", microseconds(result.timings.login))
        line.add("total_us", microseconds(result.timings.total))
        if let greeting = result.greeting { addGreeting(greeting, to: &line) }
        if let error = result.error { addError(error, prefix: "error", to: &line) }
        if let report = result.tls { addTLS(report, to: &line) }
        line.add("banner", result.banner)
        line.add("login", result.greeting == nil ? nil : result.login.word)
        if case .denied(let error) = result.login { addError(error, prefix: "login_error", to: &line) }
        if case .incomplete(let reason) = result.login { line.add("login_detail", reason) }
        if !result.authSwitches.isEmpty { line.add("auth_switches", list: result.authSwitches) }
        line.add("detail", result.detail)
        line.add("decode_error", result.parseError.map { String(describing: $0) })
        if result.lingering { line.add("lingering", true) }
        if result.late { line.add("late", true) }
        return line
    }

    static func addGreeting(_ greeting: MySQLGreeting, to line: inout JSONLine) {
        line.add("protocol", Int(greeting.protocolVersion))
        line.add("flavour", greeting.flavour.rawValue)
        line.add("version", greeting.version)
        line.add("server_version", greeting.serverVersion)
        line.add("connection_id", greeting.connectionID)
        line.add("capabilities", greeting.capabilities.classic)
        line.add("capability_names", list: greeting.capabilities.names(mariaDB: greeting.flavour == .mariaDB))
        if greeting.flavour == .mariaDB { line.add("mariadb_capabilities", greeting.capabilities.mariaDBExtended) }
        line.add("collation_id", greeting.collation.map { Int($0.rawValue) })
        line.add("collation", greeting.collation.map { $0.description })
        // The server status flags (SERVER_STATUS_*), named so that no key called status is ambiguous.
        line.add("server_status", greeting.status.map { Int($0.rawValue) })
        if let status = greeting.status { line.add("server_status_names", list: status.names) }
        line.add("auth_plugin", greeting.authPluginName)
        line.add("tls_offered", greeting.offersTLS)
    }

    static func addTLS(_ report: TLSReport, to line: inout JSONLine) {
        line.add("tls", report.status.rawValue)
        line.add("tls_version", report.version)
        line.add("tls_cipher", report.cipher)
        line.add("tls_error", report.error)
        if let certificate = report.certificate {
            line.add("cert_subject", certificate.subject)
            line.add("cert_issuer", certificate.issuer)
            line.add("cert_dns_names", list: certificate.dnsNames)
            line.add("cert_ip_addresses", list: certificate.ipAddresses)
            line.add("cert_not_before", certificate.notBefore.map(CertificateSummary.utc))
            line.add("cert_not_after", certificate.notAfter.map(CertificateSummary.utc))
            line.add("cert_days_left", report.daysRemaining)
            line.add("cert_sha256", certificate.sha256)
        }
        guard report.status == .established else { return }
        // tls_verified only when a check ran (--tls-verify): "false" must never mean "not checked".
        switch report.verification {
        case .unverified:
            line.add("tls_verification", "unverified")
        case .verified:
            line.add("tls_verification", "verified")
            line.add("tls_verified", true)
        case .failed(let reason):
            line.add("tls_verification", "failed")
            line.add("tls_verified", false)
            line.add("tls_verify_error", reason)
        }
    }

    static func addError(_ error: MySQLErrorPacket, prefix: String, to line: inout JSONLine) {
        line.add("\(prefix)_code", Int(error.code.rawValue))
        line.add("\(prefix)_name", error.code.symbol)
        line.add("\(prefix)_sqlstate", error.sqlState)
        line.add("\(prefix)_message", error.message)
    }
}

/// The exit statuses a script can trust (documented in `svcprobe --help`).
public enum ProbeVerdict {
    /// `--expect-up`: some target did not answer (refused, timeout, unreachable, reset, closed, silent,
    /// unresolved, failed).
    public static let down: Int32 = 10
    /// `--expect-up`: some target answered with an ERR packet instead of a greeting (1129, 1130, 1040, ...).
    public static let serverError: Int32 = 11
    /// `--expect-version`: a greeting's version did not match the expression (or there was no greeting).
    public static let versionMismatch: Int32 = 12
    /// `--expect-tls`: a greeting did not offer TLS (no CLIENT_SSL: the server has no certificate set up).
    public static let tlsNotOffered: Int32 = 13
    /// `--expect-tls` or `--tls-verify`: the TLS handshake failed, or (`--tls-verify`) the certificate did
    /// not verify.
    public static let tlsFailed: Int32 = 14

    /// The status for a set of results: 0, or the most severe failed expectation (the lowest code).
    public static func status(
        _ results: [ProbeResult], expectUp: Bool, expectVersion: Regex<AnyRegexOutput>?, expectTLS: Bool = false,
        verifyTLS: Bool = false
    ) -> Int32 {
        let checkUp = expectUp || expectVersion != nil || expectTLS
        if checkUp, results.contains(where: { !$0.outcome.isUp && $0.outcome != .error }) { return down }
        if checkUp, results.contains(where: { $0.outcome == .error }) { return serverError }
        if let expectVersion {
            for result in results {
                guard let version = result.greeting?.version else { return versionMismatch }
                if (try? expectVersion.firstMatch(in: version)) == nil { return versionMismatch }
            }
        }
        if let code = tlsStatus(results, expectTLS: expectTLS, verifyTLS: verifyTLS) { return code }
        return ExitStatus.ok
    }
}

extension ProbeVerdict {
    /// 13 or 14 for the TLS expectations, or nil when they hold (only probes that got a greeting count).
    public static func tlsStatus(_ results: [ProbeResult], expectTLS: Bool, verifyTLS: Bool) -> Int32? {
        let greeted = results.filter { $0.greeting != nil }
        if expectTLS, greeted.contains(where: { $0.tls == nil || $0.tls?.status == .notOffered }) {
            return tlsNotOffered
        }
        if expectTLS || verifyTLS, greeted.contains(where: { $0.tls?.status == .failed }) { return tlsFailed }
        if verifyTLS, greeted.contains(where: { if case .failed? = $0.tls?.verification { true } else { false } }) {
            return tlsFailed
        }
        return nil
    }
}

extension ProbeRendering {
    /// `later - earlier` in nanoseconds; nil when either is missing, when the capture's clock went back
    /// (a negative time would be nonsense), or when the difference does not fit (far-future stamps).
    static func since(_ later: Timestamp?, _ earlier: Timestamp?) -> Int64? {
        guard let later, let earlier, later >= earlier else { return nil }
        let (seconds, overflow) = later.seconds.subtractingReportingOverflow(earlier.seconds)
        guard !overflow, seconds < 9_000_000_000 else { return nil }
        return seconds * 1_000_000_000 + Int64(later.nanoseconds) - Int64(earlier.nanoseconds)
    }

    static func verdictWord(_ reply: MySQLServerReply?) -> String? {
        switch reply {
        case .ok?: "accepted"
        case .error(let error)?: "denied(\(error.code.rawValue))"
        case .authSwitch(let plugin)?: "auth-switch(\(plugin))"
        case .authMoreData?: "auth-more-data"
        case .other(let byte)?: "reply-0x\(String(byte, radix: 16))"
        case nil: nil
        }
    }

    /// One line per connection found in a capture, in the live probe's words; times are packet times
    /// relative to the client's SYN.
    public static func text(_ finding: CaptureFinding) -> String {
        var parts: [String] = []
        parts.append((finding.synAt ?? finding.greetingAt).map { $0.iso8601 } ?? "-")
        parts.append("\(finding.client) > \(finding.server)")
        parts.append(finding.outcome.rawValue)
        if let greeting = finding.greeting {
            parts += [greeting.flavour.rawValue, peer(greeting.version), "id=\(greeting.connectionID)"]
        }
        if let error = finding.error {
            parts.append("\(error.code.rawValue) \(error.code.symbol)")
            if let state = error.sqlState { parts.append("[\(peer(state))]") }
            parts.append("\"\(peer(error.message))\"")
        }
        if let value = ms(since(finding.synAckAt, finding.synAt)) { parts.append("connect=\(value)") }
        if let value = ms(since(finding.greetingAt, finding.synAt)) { parts.append("greeting=\(value)") }
        if let greeting = finding.greeting {
            parts.append("tls=" + (greeting.offersTLS ? "offered" : "no"))
            if let plugin = greeting.authPluginName { parts.append("auth=\(peer(plugin))") }
            if let collation = greeting.collation { parts.append("collation=\(collation)") }
        }
        if let hello = finding.clientHello {
            parts.append(hello.isSSLRequest ? "client=ssl-request" : "user=\(peer(hello.user ?? ""))")
        }
        if let verdict = verdictWord(finding.verdict) { parts.append("login=\(peer(verdict))") }
        if finding.countsAsConnectError == true { parts.append("counts-toward-max_connect_errors") }
        if finding.evicted { parts.append("evicted") }
        if let problem = finding.problem { parts.append("(\(peer(String(describing: problem))))") }
        return parts.joined(separator: " ")
    }

    /// `fallback` is the object's time when the finding has none (no packet at all: never from a scan).
    public static func json(
        _ finding: CaptureFinding, envelope: JSONEnvelope, fallback: Timestamp = .zero
    ) -> JSONLine {
        var line = envelope.object("handshake", time: finding.time ?? fallback)
        line.add("client", finding.client.description)
        line.add("server", finding.server.description)
        line.add("outcome", finding.outcome.rawValue)
        line.add("connect_us", microseconds(since(finding.synAckAt, finding.synAt)))
        line.add("greeting_us", microseconds(since(finding.greetingAt, finding.synAt)))
        if let greeting = finding.greeting { addGreeting(greeting, to: &line) }
        if let error = finding.error { addError(error, prefix: "error", to: &line) }
        if let hello = finding.clientHello {
            line.add("ssl_request", hello.isSSLRequest)
            line.add("user", hello.user)
        }
        line.add("login", verdictWord(finding.verdict))
        if case .error(let error)? = finding.verdict { addError(error, prefix: "login_error", to: &line) }
        line.add("close", finding.closeReason?.rawValue)
        line.add("counts_as_connect_error", finding.countsAsConnectError)
        if finding.evicted { line.add("evicted", true) }
        line.add("decode_error", finding.problem.map { String(describing: $0) })
        return line
    }

    /// `summary FILE connections=N greetings=G errors=E counted-toward-max_connect_errors=C [evicted=K]
    /// [partial]`: one per file that was opened.
    public static func text(_ summary: CaptureScanSummary) -> String {
        var text = "summary \(peer(summary.path)) frames=\(summary.frames) connections=\(summary.connections) "
            + "greetings=\(summary.greetings) errors=\(summary.errors) "
            + "counted-toward-max_connect_errors=\(summary.countedAsConnectErrors)"
        if summary.evicted > 0 { text += " evicted=\(summary.evicted)" }
        if summary.backwardTimestamps > 0 { text += " backward-timestamps=\(summary.backwardTimestamps)" }
        if summary.partial { text += " partial" }
        return text
    }

    /// `time` is the last frame read, or `now` when the file had none.
    public static func json(
        _ summary: CaptureScanSummary, exitStatus: Int32, envelope: JSONEnvelope, now: Timestamp
    ) -> JSONLine {
        var line = envelope.object("summary", time: summary.lastPacketAt ?? now)
        line.add("file", summary.path)
        line.add("frames", summary.frames)
        line.add("connections", summary.connections)
        line.add("greetings", summary.greetings)
        line.add("errors", summary.errors)
        line.add("counted_as_connect_errors", summary.countedAsConnectErrors)
        line.add("evicted", summary.evicted)
        line.add("backward_timestamps", summary.backwardTimestamps)
        line.add("partial", summary.partial)
        line.add("read_error", summary.readError)
        line.add("exit_status", Int(exitStatus))
        return line
    }
}

// MARK: --watch events and summaries

extension ProbeRendering {
    /// `changed TARGET STATE (was ...) "server text"`, `down ... (was up for ...)`, `up ... after outage=...`.
    public static func text(_ event: WatchTimeline.Event, result: ProbeResult) -> String {
        var text = "\(event.change.rawValue) \(event.target) \(peer(event.state))"
        switch event.change {
        case .up:
            text += " after outage=\(Formatting.milliseconds(event.duration ?? 0))ms (\(event.failedProbes ?? 0) probes failed)"
        case .down:
            text += " (was up for \(Formatting.milliseconds(event.duration ?? 0))ms)"
        case .changed:
            if let reason = event.reason { text += " (\(peer(reason)))" }
        case .initial:
            break
        }
        if let error = result.error { text += " \"\(peer(error.message))\"" }
        if !event.isUp, result.error == nil, let detail = result.detail { text += " \(peer(detail))" }
        return text
    }

    public static func text(_ summary: WatchTimeline.Summary) -> String {
        var text = "summary \(summary.target) probes=\(summary.probes) failed=\(summary.failedProbes) "
            + "outages=\(summary.outages) longest=\(Formatting.milliseconds(summary.longestOutage))ms "
            + "total-down=\(Formatting.milliseconds(summary.totalOutage))ms"
        if summary.skippedRounds > 0 { text += " skipped-rounds=\(summary.skippedRounds)" }
        if summary.lingered > 0 { text += " lingered=\(summary.lingered) late-greetings=\(summary.lateGreetings)" }
        if summary.downAtStart { text += " down-at-start" }
        if summary.downAtEnd { text += " down-at-end" }
        return text
    }

    /// The summary object; `exitStatus` is the status the run ends with.
    public static func json(
        _ summary: WatchTimeline.Summary, exitStatus: Int32, envelope: JSONEnvelope, time: Timestamp
    ) -> JSONLine {
        var line = envelope.object("summary", time: time)
        line.add("target", summary.target)
        line.add("probes", summary.probes)
        line.add("failed_probes", summary.failedProbes)
        line.add("outages", summary.outages)
        line.add("longest_outage_ms", Double(summary.longestOutage) / 1e6)
        line.add("total_outage_ms", Double(summary.totalOutage) / 1e6)
        line.add("down_at_start", summary.downAtStart)
        line.add("down_at_end", summary.downAtEnd)
        line.add("skipped_rounds", summary.skippedRounds)
        line.add("lingered", summary.lingered)
        line.add("late_greetings", summary.lateGreetings)
        line.add("exit_status", Int(exitStatus))
        return line
    }
}
