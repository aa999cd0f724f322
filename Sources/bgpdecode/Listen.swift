import ArgumentParser
import BGPDecodeKit
import Glibc
import PacketCore
import ToolSupport

/// `bgpdecode listen`: be the BGP peer a speaker announces to, and decode what it announces.
struct Listen: ParsableCommand {
    // Wrapped by hand within 78 columns (see Decode.configuration).
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Accept BGP sessions from speakers and decode what they announce.",
        usage: """
            bgpdecode listen --local-as <asn> --router-id <id> [--bind <addr[:port]>]
                             (--peer <ip> --peer-as <asn> ... | --accept-any)
            bgpdecode listen --metallb <file> --nodes <file> [--secrets <dir>]
                             --router-id <id> [--local-as <asn>] [--bind <a[:p]>]
                             [--md5-password <ip=secret> ...]
                             [--md5-password-file <ip=file> ...] [--hold-time <s>]
                             [--max-prefixes <n>] [--settle <s>]
                             [--table] [--json] [--node-name <name>]
                             [(--expect-prefix <prefix> ... | --expect-file <file>)
                              --wait <s>]
            """,
        discussion: """
            A passive, receive-only BGP speaker: point a BGPPeer (MetalLB) or a
            router's neighbor at this address and see every announcement. It only
            accepts connections (it never dials out) from the --peer addresses, or
            from anyone with --accept-any, and sends its OPEN with IPv4 and IPv6
            unicast, 4-octet AS, route refresh, ADD-PATH receive and extended
            messages. It never announces a route. The hold time is the smaller of
            --hold-time (default 90) and the peer's; KEEPALIVEs go out every third
            of it. Every received message goes through the same decoder, tables,
            events and --json output as 'bgpdecode -r' (see bgpdecode --help); the
            session key is "peer > local address".

            ERRORS (each sent as a NOTIFICATION, logged in plain words on stderr)
              2/2 Bad Peer AS         the OPEN's AS is not --peer-as (MetalLB:
                                      check the BGPPeer's myASN and peerASN)
              2/1 Unsupported Version the OPEN is not BGP version 4
              2/3 Bad BGP Identifier  router id 0, or ours in an iBGP session
              2/6 Unacceptable Hold Time  the peer offers 1 or 2 seconds
              4/0 Hold Timer Expired  nothing from the peer for the hold time
              6/5 Connection Rejected the address is not a --peer
            A peer that connects again starts a new session: the old session ends
            and its routes are withdrawn (no graceful restart is offered).
            --md5-password PEER=SECRET sets a TCP-MD5 key (RFC 2385) for that peer
            on the listening socket; segments without it are dropped by the kernel,
            so a wrong password shows as a peer that never connects.
            --md5-password-file PEER=FILE reads it from the first line of FILE
            instead (not in the process list).
            --max-prefixes N: a peer whose table grows past N routes gets Cease/
            Maximum Number of Prefixes Reached (6/1) and is closed. The default,
            2000000 per session, holds a full IPv4 and IPv6 table (about 1.2
            million routes today) and bounds a session at roughly 80 to 280 MB:
            measured, 40 bytes a route when routes share their attributes (52 MB
            peak for a million /32s) and 135 when every 4 routes have a path of
            their own (148 MB for a million). --max-prefixes 0 removes the bound
            (a daemon's maximum-prefix is off by default, but a diagnostic
            listener must not grow without end).
            A peer that sends bytes that are not BGP gets Message Header Error
            (1/1, 1/2) and is closed; one that sends no OPEN within 15 s gets Hold
            Timer Expired (4/0).

            STANDING IN FOR METALLB'S ROUTER
            --metallb FILE (kubectl get bgppeers -A -o yaml, MetalLB 0.13/0.14)
            with --nodes FILE (kubectl get nodes -o json) sets up the router the
            BGPPeers describe. A BGPPeer's router side is ours: --local-as is its
            peerASN (all BGPPeers must agree, else give --local-as, which then
            picks the BGPPeers with that peerASN), and --bind is its
            peerAddress:peerPort when that address is one of this host's (else,
            as without --metallb, every address, port 179). The speakers' side is
            myASN: every node's InternalIP (of the peerAddress's family) becomes a
            --peer with --peer-as myASN, since MetalLB's speakers connect from
            their node's address, which a BGPPeer does not hold; hence --nodes is
            required. nodeSelectors are not applied: a node that does not peer
            never connects. A TCP-MD5 password in passwordSecret (name N) is read
            from --secrets DIR, where Kubernetes mounts a Secret as files: the
            first line of DIR/N/password (kubectl get secret N -o
            jsonpath='{.data.password}' | base64 -d > DIR/N/password also makes
            one). An inline password: is used as it is (MetalLB accepts it; a
            Secret keeps it out of the resource). --peer, --peer-as, --local-as,
            --bind and --md5-password given on the command line win over the
            files.

            Ctrl-C (SIGINT) or SIGTERM sends Cease/Administrative Shutdown (6/2) to
            every peer, then prints the final table of each session.

            VERIFICATION
            With --expect-prefix/--expect-file, bgpdecode waits up to --wait
            seconds and exits as soon as every expected prefix is announced (with
            its next hop, when given) by the peers and each of those sessions sent
            End-of-RIB, or no UPDATE came for --settle seconds (default 5); at
            the deadline it reports what is missing. The report and codes are
            those of 'bgpdecode -r'.

            EXIT STATUS
              0   stopped by a signal; or, verifying, every expected prefix is
                  announced and nothing unexpected is
              10  verifying: an expected prefix is not announced at the deadline
              11  verifying: an expected prefix has another next hop
              12  verifying: a prefix that is not expected is also announced
              13  verifying: no peer had a session by the deadline
              2   verifying: interrupted before a verdict
              1   the socket could not be opened (port in use, no permission)
              64  usage error

            Examples:
              bgpdecode listen --local-as 64512 --router-id 203.0.113.254 \\
                  --peer 203.0.113.1 --peer-as 64513
              bgpdecode listen --local-as 64512 --router-id 203.0.113.254 \\
                  --accept-any --bind 203.0.113.254:1790 --table
              bgpdecode listen --local-as 64512 --router-id 203.0.113.254 \\
                  --peer 203.0.113.1 --peer-as 64513 \\
                  --md5-password 203.0.113.1=s3cret --json
              bgpdecode listen --router-id 203.0.113.254 --metallb bgppeers.yaml \\
                  --nodes nodes.json --secrets /var/run/secrets/bgp --table
              bgpdecode listen --local-as 64512 --router-id 203.0.113.254 \\
                  --peer 203.0.113.1 --peer-as 64513 \\
                  --expect-prefix 198.51.100.10/32 --wait 60
            """,
        version: VipscopeVersion.string)

    // Numeric options are read as text and range-checked in validate() (see Decode).
    @Option(name: .customLong("local-as"), parsing: .unconditional, help: ArgumentHelp(
        "Our AS number (1 to 4294967295); with --metallb, default the BGPPeers' peerASN.", valueName: "asn"))
    var localASText: String?

    @Option(name: .customLong("router-id"), help: ArgumentHelp("Our BGP identifier (an IPv4 address).",
        valueName: "id"))
    var routerID: String

    @Option(help: ArgumentHelp("Address (and port) to listen on; default every address, port 179.",
        valueName: "addr[:port]"))
    var bind: String?

    @Option(name: .customLong("peer"), help: ArgumentHelp(
        "A peer allowed to connect; pair each with a --peer-as. Repeatable.", valueName: "ip"))
    var peers: [String] = []

    @Option(name: .customLong("peer-as"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "The AS the matching --peer must say in its OPEN. Repeatable.", valueName: "asn"))
    var peerASTexts: [String] = []

    @Flag(name: .customLong("accept-any"), help: "Accept sessions from any address, with any AS.")
    var acceptAny = false

    @Option(name: .customLong("md5-password"), help: ArgumentHelp(
        "TCP-MD5 password for a peer, as PEER=SECRET. Repeatable.", valueName: "ip=secret"))
    var md5Passwords: [String] = []

    @Option(name: .customLong("md5-password-file"), help: ArgumentHelp(
        "TCP-MD5 password for a peer from the first line of a file, as PEER=FILE. Repeatable.",
        valueName: "ip=file"))
    var md5PasswordFiles: [String] = []

    @Option(name: .customLong("metallb"), help: ArgumentHelp(
        "MetalLB's BGPPeers (kubectl get bgppeers -A -o yaml): stand in for the router they name. Needs --nodes.",
        valueName: "file"))
    var metallb: String?

    @Option(name: .customLong("nodes"), help: ArgumentHelp(
        "With --metallb: kubectl get nodes -o json; each InternalIP may connect with the BGPPeers' myASN.",
        valueName: "file"))
    var nodes: String?

    @Option(name: .customLong("secrets"), help: ArgumentHelp(
        "With --metallb: where Secrets are mounted; a passwordSecret N is read from DIR/N/password.",
        valueName: "dir"))
    var secrets: String?

    @Option(name: .customLong("max-prefixes"), parsing: .unconditional, help: ArgumentHelp(
        "The most routes a session may hold; past it, Cease 6/1 and the connection closes. 0: no limit "
            + "(default 2000000).", valueName: "n"))
    var maxPrefixesText: String?

    @Option(name: .customLong("hold-time"), parsing: .unconditional, help: ArgumentHelp(
        "Hold time to offer, in seconds: 0 or 3 to 65535 (default 90).", valueName: "s"))
    var holdTimeText: String?

    @OptionGroup var report: ReportOptions

    @Option(name: .customLong("wait"), parsing: .unconditional, help: ArgumentHelp(
        "With --expect-*: the most seconds to wait for the expected prefixes (at most 2592000).", valueName: "s"))
    var waitText: String?

    @Option(name: .customLong("settle"), parsing: .unconditional, help: ArgumentHelp(
        "With --expect-*: without End-of-RIB from every checked session, the quiet seconds after the last "
            + "UPDATE before a verdict (default 5).", valueName: "s"))
    var settleText: String?

    var isVerifying: Bool { report.isVerifying }

    static let maximumPrefixesRange = 0...100_000_000
    /// The limit the listener applies (nil: none, from --max-prefixes 0).
    var maximumPrefixes: Int? {
        let value = maxPrefixesText.flatMap {
            try? NumericOption.integer($0, option: "--max-prefixes", range: Self.maximumPrefixesRange).get()
        } ?? BGPListenerConfiguration.defaultMaximumPrefixes
        return value == 0 ? nil : value
    }

    static let asRange: ClosedRange<UInt32> = 1...UInt32.max
    // The checked values (validate() has refused anything these would not parse).
    var localAS: UInt32? {
        localASText.flatMap { try? NumericOption.integer($0, option: "--local-as", range: Self.asRange).get() }
    }
    var peerASes: [UInt32] {
        peerASTexts.compactMap { try? NumericOption.integer($0, option: "--peer-as", range: Self.asRange).get() }
    }
    var holdTime: UInt16 {
        holdTimeText.flatMap { try? NumericOption.integer($0, option: "--hold-time", range: UInt16(0)...65535).get() }
            ?? 90
    }
    var wait: Double? { waitText.flatMap { try? NumericOption.seconds($0, option: "--wait").get() } }
    var settle: Double { settleText.flatMap { try? NumericOption.seconds($0, option: "--settle").get() } ?? 5 }

    /// `ADDR`, `ADDR:PORT` or `[V6]:PORT`.
    static func parseBind(_ text: String) -> (IPAddress, UInt16)? {
        if let address = IPAddress(text) { return (address, 179) }
        var host = Substring(text)
        guard let colon = host.lastIndex(of: ":"), let port = UInt16(host[host.index(after: colon)...]), port > 0
        else { return nil }
        host = host[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return IPAddress(host).map { ($0, port) }
    }

    func validate() throws {
        if IPv4Address(routerID) == nil {
            throw ValidationError("--router-id must be an IPv4 address, like 203.0.113.254.")
        }
        if let localASText,
            case .failure(let bad) = NumericOption.integer(localASText, option: "--local-as", range: Self.asRange)
        {
            throw ValidationError(bad.message)
        }
        if metallb == nil {
            if localASText == nil { throw ValidationError("Give our AS with --local-as ASN (or --metallb FILE).") }
            if nodes != nil { throw ValidationError("--nodes applies to --metallb FILE.") }
            if secrets != nil { throw ValidationError("--secrets applies to --metallb FILE.") }
        } else if nodes == nil {
            throw ValidationError("--metallb needs --nodes FILE (kubectl get nodes -o json): MetalLB's speakers "
                + "connect from their nodes' InternalIPs, which a BGPPeer does not hold.")
        }
        for text in peerASTexts {
            if case .failure(let bad) = NumericOption.integer(text, option: "--peer-as", range: Self.asRange) {
                throw ValidationError(bad.message)
            }
        }
        if let holdTimeText {
            let allowed = "a whole number of seconds, 0 or 3 to 65535"
            switch NumericOption.integer(holdTimeText, option: "--hold-time", range: UInt16(0)...65535, allowed: allowed) {
            case .failure(let bad): throw ValidationError(bad.message)
            case .success(1), .success(2): throw ValidationError("--hold-time must be \(allowed) (got \(holdTimeText)).")
            case .success: break
            }
        }
        if peers.count != peerASTexts.count {
            throw ValidationError(
                "Give one --peer-as for each --peer (\(peers.count) peers, \(peerASTexts.count) AS numbers).")
        }
        if peers.isEmpty && !acceptAny && metallb == nil {
            throw ValidationError("Say who may connect: --peer IP --peer-as N (repeatable), or --accept-any.")
        }
        for peer in peers where IPAddress(peer) == nil {
            throw ValidationError("--peer '\(peer)' is not an IP address.")
        }
        if let bind, Self.parseBind(bind) == nil {
            throw ValidationError("--bind must be ADDR, ADDR:PORT or [IPV6]:PORT with PORT between 1 and 65535, "
                + "like 203.0.113.254:1790 (got \(PrintableText.escaped(bind.prefix(60)))).")
        }
        for entry in md5Passwords {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, IPAddress(parts[0]) != nil, !parts[1].isEmpty else {
                throw ValidationError("--md5-password must be PEER=SECRET, like 203.0.113.1=s3cret.")
            }
        }
        for entry in md5PasswordFiles {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, IPAddress(parts[0]) != nil, !parts[1].isEmpty else {
                throw ValidationError("--md5-password-file must be PEER=FILE, like 203.0.113.1=/etc/bgp/node1.key.")
            }
        }
        if let maxPrefixesText,
            case .failure(let bad) = NumericOption.integer(
                maxPrefixesText, option: "--max-prefixes", range: Self.maximumPrefixesRange,
                allowed: "a whole number between 0 (no limit) and 100000000")
        {
            throw ValidationError(bad.message)
        }
        if isVerifying && waitText == nil { throw ValidationError("--expect-prefix/--expect-file need --wait SECONDS.") }
        if !isVerifying && waitText != nil { throw ValidationError("--wait applies to --expect-prefix/--expect-file.") }
        if let waitText, case .failure(let bad) = NumericOption.seconds(waitText, option: "--wait") {
            throw ValidationError(bad.message)
        }
        if !isVerifying && settleText != nil { throw ValidationError("--settle applies to --expect-prefix/--expect-file.") }
        if let settleText, case .failure(let bad) = NumericOption.seconds(settleText, option: "--settle") {
            throw ValidationError(bad.message)
        }
    }

    func run() throws {
        let expectations: [BGPExpectation]
        switch report.loadExpectations() {
        case .success(let loaded): expectations = loaded
        case .failure(let error): fail(error.message)
        }
        var standIn: MetalLBStandIn?
        if let metallb, let nodes {
            switch MetalLBStandIn.load(metallb: metallb, nodes: nodes, secrets: secrets, localAS: localAS) {
            case .success(let loaded): standIn = loaded
            case .failure(let failure): fail(failure.message, status: failure.status)
            }
        }
        let localAS = localAS ?? standIn?.localAS ?? 0
        var configuration = BGPListenerConfiguration(
            localAS: localAS, routerID: IPv4Address(routerID) ?? .any, acceptAny: acceptAny, holdTime: holdTime)
        // The files first: what the command line says wins.
        if let standIn {
            configuration.peers = standIn.peers
            configuration.md5Passwords = standIn.md5Passwords
            if let (address, port) = standIn.bind {
                configuration.bindAddress = address
                configuration.port = port
            }
            StandardStreams.error("bgpdecode: \(standIn.summary)")
        }
        if let bind, let (address, port) = Self.parseBind(bind) {
            configuration.bindAddress = address
            configuration.port = port
        }
        for (peer, asn) in zip(peers, peerASes) {
            if let address = IPAddress(peer) { configuration.peers[address] = asn }
        }
        for entry in md5Passwords {
            let parts = entry.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let address = IPAddress(parts[0]) {
                configuration.md5Passwords[address] = String(parts[1])
            }
        }
        for entry in md5PasswordFiles {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let address = IPAddress(parts[0]) else { continue }
            switch Self.readSecret(String(parts[1])) {
            case .success(let secret): configuration.md5Passwords[address] = secret
            case .failure(let error): fail(error.message)
            }
        }
        configuration.maximumPrefixes = maximumPrefixes

        let showEvents = !report.table && !isVerifying
        let json = report.json
        let keepalives = report.keepalives
        let envelope = report.node.envelope
        let analyzer = BGPAnalyzer()
        let sink = OutputSink(BGPTextRenderer(descriptor: 1))
        if json {
            sink.renderer.output.appendLine(envelope.start(tool: "bgpdecode", time: WallClock.now()).text)
            sink.renderer.flush()
        }
        if showEvents {
            analyzer.onEvent = { event in
                if json {
                    if let line = BGPRender.json(event, keepalives: keepalives, envelope: envelope) {
                        sink.renderer.output.appendLine(line.text)
                    }
                } else {
                    sink.renderer.write(event, keepalives: keepalives)
                }
                sink.renderer.flush()
            }
        }
        let listener = BGPListener(configuration: configuration, analyzer: analyzer) { text in
            sink.renderer.flush()
            StandardStreams.error("bgpdecode: \(text)")
        }
        do throws(BGPListenerError) {
            try listener.start()
        } catch {
            fail(error.message)
        }
        let metrics = BGPMetricsOutput.make(report, expectations: expectations)
        metrics?.start()
        defer { metrics?.publish(analyzer, force: true) }
        StopSignal.install()
        let where_ = configuration.bindAddress.map { "\($0)" } ?? "every address"
        StandardStreams.error("bgpdecode: listening on \(where_) port \(configuration.port) as AS \(localAS), "
            + "router id \(routerID), "
            + (configuration.maximumPrefixes.map { "at most \($0) routes per session" } ?? "no route limit"))

        var verdict: BGPVerification?
        let deadline = wait.map { ContinuousClock.now + NumericOption.duration($0) }
        var lastUpdates = -1
        var lastMessages = -1
        var cached: BGPVerification?
        var lastChange = ContinuousClock.now
        let settleTime = NumericOption.duration(settle)
        listener.run {
            metrics?.publish(analyzer)
            if StopSignal.isRaised { return true }
            guard isVerifying else { return false }
            if let deadline, ContinuousClock.now >= deadline {
                verdict = BGPVerification(
                    analyzer: analyzer, expectations: expectations, peer: nil, speakers: listener.peersEverEstablished)
                return true
            }
            // The expected set is not enough: the speaker may not have finished (ExaBGP announced .60, then
            // .61 four seconds later). A verdict needs End-of-RIB from every checked session, or --settle
            // seconds without an UPDATE (issue 16 item 8).
            let updates = analyzer.sessions.values.reduce(0) { $0 + $1.updates }
            if updates != lastUpdates {
                lastUpdates = updates
                lastChange = ContinuousClock.now
            }
            // Computed again only when a message arrived since the last check.
            if analyzer.messages != lastMessages || cached == nil {
                lastMessages = analyzer.messages
                cached = BGPVerification(
                    analyzer: analyzer, expectations: expectations, peer: nil, speakers: listener.peersEverEstablished)
            }
            guard let current = cached else { return false }
            if current.missing.isEmpty, current.wrongNextHop.isEmpty, !current.sessionsChecked.isEmpty,
                current.endOfRIBFromEverySession || ContinuousClock.now - lastChange >= settleTime
            {
                verdict = current
                return true
            }
            return false
        }
        // The Cease first, so that no session is shown up after it: the table then shows each session's
        // routes as withdrawn at that session end.
        analyzer.onEvent = nil
        listener.shutdown(communication: "bgpdecode listen stopped")
        // A listener is live: its table and verdict are as of now.
        if let verdict {
            if json {
                sink.renderer.output.appendLine(verdict.json(envelope: envelope, time: WallClock.now()).text)
            } else {
                sink.renderer.output.append(verdict.report)
            }
        } else {
            // Stopped by a signal: the table, then (verifying) the status that says no verdict was reached.
            var input = BGPInputReport()
            input.interrupted = isVerifying
            if json {
                let now = WallClock.now()
                sink.renderer.writeTableJSON(analyzer, routes: true, envelope: envelope, time: now)
                if isVerifying { sink.renderer.output.appendLine(input.json(envelope: envelope, time: now).text) }
            } else {
                sink.renderer.writeTable(analyzer)
                if isVerifying { sink.renderer.output.append("PARTIAL: interrupted before a verdict\n") }
            }
        }
        sink.renderer.flush()
        if let verdict, verdict.exitCode != 0 { throw ExitCode(verdict.exitCode) }
        if isVerifying && verdict == nil { throw ExitCode(ExitStatus.interrupted) }
    }

    /// The first line of a password file (RFC 2385 keys are at most 80 bytes; a larger file is refused).
    static func readSecret(_ path: String) -> Result<String, ExpectationFileError> {
        let shown = PrintableText.escaped(path)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return .failure(ExpectationFileError(message: "cannot read the password file \(shown): "
                + String(cString: strerror(errno)) + "; check the path"))
        }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 1024)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else {
            return .failure(ExpectationFileError(message: "cannot read the password file \(shown): "
                + String(cString: strerror(errno))))
        }
        let line = bytes[..<count].prefix { $0 != 0x0A && $0 != 0x0D }
        guard !line.isEmpty, line.count <= 80, let secret = String(validating: line, as: UTF8.self) else {
            return .failure(ExpectationFileError(message: "the password file \(shown) must hold a password of "
                + "1 to 80 bytes on its first line"))
        }
        return .success(secret)
    }

    private func fail(_ message: String, status: Int32 = ExitStatus.failure) -> Never {
        StandardStreams.error("bgpdecode: \(message)")
        Glibc.exit(status)
    }
}
