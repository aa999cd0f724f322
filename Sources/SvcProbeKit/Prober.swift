import Glibc
import EventLoop
import PacketCore

/// How a probe behaves once it has a greeting.
public enum LoginMode: Sendable, Hashable {
    /// Finish the protocol's login exchange as user `user` with an empty password, so the server never
    /// counts the probe as a handshake error (the default; see `Prober`).
    case polite(user: String)
    /// Close as soon as the greeting is read, as nmap, curl and most TCP health checks do. MariaDB and
    /// MySQL count every such connection against `max_connect_errors` for the client's address.
    case closeAfterGreeting
}

public struct ProbeOptions: Sendable {
    /// Budget for connect + greeting, and again for the login exchange after the greeting.
    public var timeoutNanoseconds: Int64 = 3_000_000_000
    /// After the greeting did not come within the timeout (a stalled server whose kernel accepted the
    /// connection), keep the connection this much longer: the probe reports on time, and if the greeting
    /// comes the polite login still runs (a `late` report), so the server cannot count the probe as a
    /// handshake error. 0 closes at the timeout.
    public var lingerNanoseconds: Int64 = 10_000_000_000
    /// Probes in flight at once (each holds one socket).
    public var concurrency = 256
    public var login: LoginMode = .polite(user: "svcprobe")
    /// How long to keep reading a non-MySQL banner that has no line end yet.
    public var bannerWaitNanoseconds: Int64 = 300_000_000
    /// How long to wait for the server to close after its login verdict (so the close is the server's).
    public var drainNanoseconds: Int64 = 1_000_000_000
    /// `--tls`: SSLRequest and a TLS handshake after a greeting that offers CLIENT_SSL.
    public var tls = TLSOptions()

    public init() {}
}

/// Probes many TCP targets at once with non-blocking sockets and one `poll` loop (no threads): connect,
/// read what the server says first, decode a MySQL/MariaDB greeting or ERR packet, and take the
/// connection down politely.
///
/// Politeness, from MariaDB's source (sql/sql_acl.cc `acl_authenticate`, sql/hostname.h
/// `Host_errors::sum_connect_errors`): of all the errors counted per client address, only *handshake*
/// errors (CR_AUTH_HANDSHAKE: the client vanished or sent garbage before the authentication finished)
/// feed `max_connect_errors`; a failed login (wrong user or password) is counted apart and never blocks the
/// host. A probe that reads the greeting and closes is a handshake error; so is one that sends COM_QUIT
/// in place of the login packet (it is too short to be a HandshakeResponse). So the polite probe sends a
/// well-formed HandshakeResponse41 for a user with an empty password, answers auth-switch requests with an
/// empty reply, reads the verdict (normally ERR 1045), sends COM_QUIT if let in, and lets the server close.
///
/// With TLS the same exchange runs inside TLS: SSLRequest (sequence 1), the handshake on the same socket
/// (non-blocking SSL_connect driven by the same poll loop), then the HandshakeResponse41 (sequence 2) and
/// everything after it through SSL_read/SSL_write, and close_notify (SSL_shutdown) before the close.
public struct Prober: Sendable {
    public var options: ProbeOptions

    public init(options: ProbeOptions = ProbeOptions()) {
        self.options = options
    }

    /// Resolve and probe every target; results come back in the targets' order. `onResult` sees each one
    /// as it completes (completion order).
    ///
    /// A probe whose greeting did not come within the timeout is reported then (outcome `silent`,
    /// `lingering` set) but its connection stays open for `lingerNanoseconds`: `onAllResults` gets every
    /// on-time result (targets' order) as soon as the last one is in, and `onLate` each lingering probe's
    /// final result (a late greeting and its polite login, or the linger ran out) before `run` returns.
    public func run(
        _ targets: [ProbeTarget], onResult: (ProbeResult) -> Void = { _ in },
        onAllResults: ([ProbeResult]) -> Void = { _ in }, onLate: (ProbeResult) -> Void = { _ in }
    ) -> [ProbeResult] {
        var results = [ProbeResult?](repeating: nil, count: targets.count)
        var delivered = 0
        var pending: [(Int, SocketAddress)] = []
        var resolved: [String: Result<SocketAddress, ResolutionError>] = [:]
        var allDelivered = false
        func deliver(_ report: ProbeReport) {
            switch report {
            case .result(let index, let result):
                onResult(result)
                if results[index] == nil { delivered += 1 }
                results[index] = result
            case .late(_, let result):
                onLate(result)
            }
        }
        for (index, target) in targets.enumerated() {
            let key = target.description
            let resolution = resolved[key] ?? SocketAddress.resolve(target)
            resolved[key] = resolution
            switch resolution {
            case .success(let address):
                pending.append((index, address))
            case .failure(let error):
                deliver(.result(index, ProbeResult.unresolved(target, error)))
            }
        }
        let engine = ProbeEngine(options: options)
        var next = 0
        while next < pending.count || engine.inFlight > 0 {
            // Start a few at a time and poll in between, so a connect that completes while hundreds of
            // others are being started is noticed (and timed) at once, not after the whole batch.
            var startedThisTurn = 0
            while engine.inFlight < engine.concurrency, next < pending.count, startedThisTurn < 32 {
                startedThisTurn += 1
                let (index, address) = pending[next]
                next += 1
                engine.start(index: index, target: targets[index], address: address, report: deliver)
            }
            if !allDelivered && delivered == targets.count {
                allDelivered = true
                onAllResults(results.enumerated().map { $0.element ?? ProbeResult(target: targets[$0.offset], outcome: .failed) })
            }
            if engine.inFlight == 0 { continue }
            let busy = next < pending.count && engine.inFlight < engine.concurrency
            engine.poll(until: busy ? 0 : .max, report: deliver)
        }
        let final = results.enumerated().map { index, result in
            result ?? ProbeResult(target: targets[index], outcome: .failed)
        }
        if !allDelivered { onAllResults(final) }
        return final
    }

    /// Check the TLS options (CA file readable, ...) before probing: the sentence to print, or nil.
    public static func checkTLS(_ options: TLSOptions) -> String? {
        do throws(OpenSSLError) {
            _ = try TLSContext(options)
            return nil
        } catch {
            return error.message
        }
    }

    /// Raise the soft open-files limit toward `wanted` (never above the hard limit); returns the limit.
    static func raiseDescriptorLimit(wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < rlim_t(wanted) {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}

/// `base + delta` for deadlines, saturating: `ProbeOptions` is public, and no budget can make it trap.
func later(_ base: Int64, _ delta: Int64) -> Int64 {
    let (sum, overflow) = base.addingReportingOverflow(max(0, delta))
    return overflow ? .max : sum
}

/// What the engine hands back: a probe's result on time, or the final result of a probe that was reported
/// on time (no greeting within the timeout) and kept its connection open (`ProbeOptions.lingerNanoseconds`).
public enum ProbeReport: Sendable {
    case result(Int, ProbeResult)
    case late(Int, ProbeResult)
}

/// The one poll loop behind every probe (no threads): connections started by index, polled together, each
/// reported once on time and, if it lingered, once more when it ends. `Prober.run` drives it for one round;
/// `WatchSession` keeps one across rounds so a lingering probe outlives its round.
final class ProbeEngine {
    let options: ProbeOptions
    /// One SSL_CTX for the engine; if it cannot be made, every TLS attempt reports why.
    private let tls: Result<TLSContext, OpenSSLError>?
    let concurrency: Int
    private var active: [Connection] = []
    private var descriptors = PollSet()

    init(options: ProbeOptions) {
        self.options = options
        if options.tls.enabled {
            do throws(OpenSSLError) { tls = .success(try TLSContext(options.tls)) } catch { tls = .failure(error) }
        } else {
            tls = nil
        }
        let limit = Prober.raiseDescriptorLimit(wanted: options.concurrency + 32)
        concurrency = max(1, min(options.concurrency, limit - 32))
    }

    var inFlight: Int { active.count }

    /// Whether a connection for `index` is still open (probing, or lingering after its on-time report).
    func isInFlight(_ index: Int) -> Bool { active.contains { $0.index == index } }

    func start(index: Int, target: ProbeTarget, address: SocketAddress, report: (ProbeReport) -> Void) {
        let connection = Connection(index: index, target: target, address: address, options: options, tls: tls)
        connection.start()
        if !collect(connection, report: report) { active.append(connection) }
    }

    /// One poll: wait for socket events until the earliest probe deadline (or `until`, monotonic ns, if
    /// sooner), handle them, and report what finished.
    func poll(until: Int64, report: (ProbeReport) -> Void) {
        guard !active.isEmpty else { return }
        descriptors.removeAll()
        var earliest = until
        for connection in active {
            descriptors.add(connection.descriptor, events: connection.pollEvents)
            earliest = min(earliest, connection.wakeAt)
        }
        // A failed poll (not EINTR) counts as a timeout, as before: the deadlines below still end every probe.
        let ready = (try? descriptors.wait(until: earliest).get()) ?? 0
        if ready > 0 {
            for (position, connection) in active.enumerated() where descriptors.events(at: position) != 0 {
                connection.handle(revents: descriptors.events(at: position))
            }
        }
        let after = Monotonic.now()
        for connection in active where !connection.isDone && connection.wakeAt <= after {
            connection.wake(now: after)
        }
        active.removeAll { collect($0, report: report) }
    }

    /// Report what `connection` has to say; true when it is done (and closed).
    private func collect(_ connection: Connection, report: (ProbeReport) -> Void) -> Bool {
        if let early = connection.takeOnTimeReport() { report(.result(connection.index, early)) }
        guard connection.isDone else { return false }
        if connection.reportedOnTime {
            report(.late(connection.index, connection.result))
        } else {
            report(.result(connection.index, connection.result))
        }
        return true
    }
}

/// One probe's socket and state machine.
final class Connection {
    enum Phase {
        case connecting, greeting, banner, tlsHandshake, login, draining, done
    }

    let index: Int
    let options: ProbeOptions
    var result: ProbeResult
    private(set) var descriptor: Int32 = -1
    private var phase = Phase.connecting
    private var startedAt: Int64 = 0
    private var deadline: Int64 = 0
    private var bannerDeadline: Int64 = .max
    private var stream = StreamBuffer(capacity: 70_000, layer: .mysql)
    private var head: [UInt8] = []
    private var output: [UInt8] = []
    private var packets: [(sequence: UInt8, payload: [UInt8])] = []
    private var authRounds = 0
    private let tlsContext: Result<TLSContext, OpenSSLError>?
    /// Set from the SSLRequest on; reads and writes go through it once `isSecure`.
    private var tls: TLSSession?
    private var isSecure = false
    /// The poll events OpenSSL asked for (WANT_READ / WANT_WRITE) during the handshake or a write.
    private var tlsWants: Int16 = 0
    /// Set when the greeting timed out and the connection lingers: the on-time result, until the engine
    /// takes it.
    private var onTimeReport: ProbeResult?
    /// The on-time result went out already: the final one is a late report.
    private(set) var reportedOnTime = false
    private var lingering = false
    /// The login packet waits for the handshake; this is its sequence id and capability set.
    private var pendingLogin: (sequence: UInt8, capabilities: MySQLCapabilities, greeting: MySQLGreeting)?

    init(
        index: Int, target: ProbeTarget, address: SocketAddress, options: ProbeOptions,
        tls: Result<TLSContext, OpenSSLError>? = nil
    ) {
        self.index = index
        self.options = options
        tlsContext = tls
        result = ProbeResult(target: target, outcome: .failed)
        result.address = address
    }

    var isDone: Bool { phase == .done }

    var pollEvents: Int16 {
        switch phase {
        case .connecting: Int16(POLLOUT)
        case .done: 0
        case .tlsHandshake: output.isEmpty ? tlsWants : Int16(POLLOUT)
        default: Int16(POLLIN) | (output.isEmpty ? 0 : Int16(POLLOUT)) | tlsWants
        }
    }

    var wakeAt: Int64 { phase == .banner ? min(deadline, bannerDeadline) : deadline }

    func start() {
        guard let address = result.address else { return finish(.failed, detail: "no address") }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        descriptor = socket(address.family, type, 0)
        startedAt = Monotonic.now()
        result.startedAt = startedAt
        deadline = later(startedAt, options.timeoutNanoseconds)
        guard descriptor >= 0 else { return finish(.failed, detail: "socket: " + Self.describe(errno)) }
        // Small writes go out at once: the login packet must not wait for Nagle.
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let status = address.withSockaddr { connect(descriptor, $0, $1) }
        if status == 0 {
            connected()
        } else if errno != EINPROGRESS {
            connectFailed(errno)
        }
    }

    func handle(revents: Int16) {
        switch phase {
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
            if error == 0 && revents & Int16(POLLOUT) != 0 { connected() } else { connectFailed(error == 0 ? ECONNREFUSED : error) }
        case .done:
            return
        case .tlsHandshake:
            continueHandshake()
        default:
            if revents & Int16(POLLOUT) != 0 { flush() }
            if revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { receive() }
        }
    }

    /// A deadline passed.
    func wake(now: Int64) {
        switch phase {
        case .connecting:
            finish(.timeout, detail: "no answer to the SYN within the timeout")
        case .greeting:
            let what = head.isEmpty
                ? "connected, but the server sent nothing"
                : "incomplete greeting: \(head.count) bytes, then nothing"
            if lingering {
                return finish(.silent, detail: what + " within the timeout and the linger; closed (a server that "
                    + "accepts it later may count it as a handshake error)")
            }
            guard options.lingerNanoseconds > 0 else { return finish(.silent, detail: what) }
            // Report on time, keep the connection: a stalled server (SIGSTOP, overload) that accepts it
            // later gets the polite login, not a close it would count against max_connect_errors.
            var early = result
            early.outcome = .silent
            early.detail = what + "; connection kept open up to " + DurationText.describe(options.lingerNanoseconds)
                + " more for a late greeting"
            early.lingering = true
            early.timings.total = now - startedAt
            onTimeReport = early
            lingering = true
            deadline = later(now, options.lingerNanoseconds)
        case .banner:
            result.banner = printableBanner(head)
            finish(.banner)
        case .tlsHandshake:
            var report = TLSReport(status: .failed)
            report.error = "TLS handshake timed out: the server did not complete it within the timeout"
            result.tls = report
            finish(result.outcome)
        case .login:
            result.login = .incomplete("no verdict from the server within the timeout")
            finish(result.outcome)
        case .draining:
            finish(result.outcome)
        case .done:
            return
        }
    }

    // MARK: Steps

    private func connected() {
        result.timings.connect = Monotonic.now() - startedAt
        phase = .greeting
    }

    private func connectFailed(_ code: Int32) {
        switch code {
        case ECONNREFUSED: finish(.refused, detail: Self.describe(code))
        case ETIMEDOUT: finish(.timeout, detail: Self.describe(code))
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN: finish(.unreachable, detail: Self.describe(code))
        default: finish(.failed, detail: "connect: " + Self.describe(code))
        }
    }

    private func receive() {
        if isSecure { return receiveSecure() }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while phase != .done {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let now = Monotonic.now()
                if result.timings.firstByte == nil { result.timings.firstByte = now - startedAt }
                consume(Array(chunk[0..<count]), now: now)
                // The greeting may have started TLS (and on a fast path even finished the handshake): from
                // here on the socket's bytes belong to OpenSSL, never to a plain recv.
                if isSecure { return receiveSecure() }
                if phase == .tlsHandshake { return }
                continue
            }
            if count == 0 { return endOfStream() }
            switch errno {
            case EAGAIN, EWOULDBLOCK: return
            case EINTR: continue
            case ECONNRESET: return connectionReset()
            default: return finish(phase == .greeting ? .failed : result.outcome, detail: "recv: " + Self.describe(errno))
            }
        }
    }

    /// `receive()` through TLS: the same consumer, with OpenSSL's read outcomes.
    private func receiveSecure() {
        guard let tls else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        tlsWants = 0
        while phase != .done {
            switch tls.read(into: &chunk) {
            case .done(let count):
                consume(Array(chunk[0..<count]), now: Monotonic.now())
            case .wantRead:
                return
            case .wantWrite:
                tlsWants = Int16(POLLOUT)
                return
            case .closed:
                return endOfStream()
            case .reset:
                return connectionReset()
            case .failed(let error):
                if case .login = phase { result.login = .incomplete(error.message) }
                return finish(result.outcome)
            }
        }
    }

    private func consume(_ bytes: [UInt8], now: Int64) {
        switch phase {
        case .greeting, .login:
            if head.count < 256 { head += bytes.prefix(256 - head.count) }
            do {
                try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
                    try stream.feed(raw, framer: { MySQLPacket.frame(&$0, maximumPayload: 65_536) }) { message in
                        guard let packet = try? MySQLPacket(parsing: &message),
                            var body = try? message.window(packet.payload)
                        else { return }
                        let payload = body.readRest()
                        packets.append((packet.header.sequenceID, payload))
                    }
                }
            } catch {
                if phase == .greeting { return enterBanner(now: now) }
                result.login = .incomplete("unreadable reply from the server")
                return startDraining(now: now)
            }
            processPackets(now: now)
        case .banner:
            if head.count < 256 { head += bytes.prefix(256 - head.count) }
            if head.contains(0x0A) || head.count >= 256 {
                result.banner = printableBanner(head)
                finish(.banner)
            }
        case .draining, .connecting, .tlsHandshake, .done:
            return
        }
    }

    private func enterBanner(now: Int64) {
        phase = .banner
        bannerDeadline = later(now, options.bannerWaitNanoseconds)
        if head.contains(0x0A) || head.count >= 256 {
            result.banner = printableBanner(head)
            finish(.banner)
        }
    }

    private func processPackets(now: Int64) {
        while !packets.isEmpty, phase == .greeting || phase == .login {
            let (sequence, payload) = packets.removeFirst()
            if phase == .greeting {
                greetingPacket(sequence: sequence, payload: payload, now: now)
            } else {
                loginReply(sequence: sequence, payload: payload, now: now)
            }
        }
    }

    private func greetingPacket(sequence: UInt8, payload: [UInt8], now: Int64) {
        guard sequence == 0, let first = payload.first, first == 10 || first == 9 || first == 0xFF else {
            return enterBanner(now: now)
        }
        result.timings.greeting = now - startedAt
        if first == 0xFF {
            do {
                result.error = try withCursor(over: payload, layer: .mysql) { (cursor: inout Cursor) throws(ParseError) in
                    try MySQLErrorPacket(parsing: &cursor)
                }
            } catch {
                result.parseError = error
            }
            result.outcome = .error
            return startDraining(now: now)
        }
        let greeting: MySQLGreeting
        do {
            greeting = try withCursor(over: payload, layer: .mysql) { (cursor: inout Cursor) throws(ParseError) in
                try MySQLGreeting(parsing: &cursor)
            }
        } catch {
            result.parseError = error
            result.banner = printableBanner(head)
            return finish(.banner, detail: "looked like MySQL but did not decode: \(error)")
        }
        result.greeting = greeting
        result.outcome = .greeting
        let modern = greeting.protocolVersion == 10 && greeting.capabilities.contains([.protocol41, .secureConnection])
        var capabilities: MySQLCapabilities = [.longPassword, .protocol41, .secureConnection]
        if greeting.capabilities.contains(.pluginAuth) { capabilities.insert(.pluginAuth) }
        if options.tls.enabled {
            if !greeting.offersTLS {
                result.tls = TLSReport(status: .notOffered)
            } else if !modern {
                var report = TLSReport(status: .failed)
                report.error = "pre-4.1 server: no SSLRequest sent"
                result.tls = report
            } else {
                // The SSLRequest is the first 32 bytes of the login packet, CLIENT_SSL set; the login that
                // follows inside TLS repeats them (same capabilities) with the next sequence id.
                capabilities.insert(.ssl)
                let request = MySQLClientHello.sslRequest(
                    capabilities: capabilities, collation: greeting.collation ?? .latin1SwedishCI)
                send(MySQLPacket.encode(request, sequenceID: sequence &+ 1))
                pendingLogin = (sequence &+ 2, capabilities, greeting)
                return beginHandshake(now: now)
            }
        }
        guard case .polite = options.login else { return finish(.greeting) }
        guard modern else {
            result.login = .incomplete("pre-4.1 server: no login attempted")
            return finish(.greeting)
        }
        sendLogin(sequence: sequence &+ 1, capabilities: capabilities, greeting: greeting, now: now)
    }

    private func sendLogin(sequence: UInt8, capabilities: MySQLCapabilities, greeting: MySQLGreeting, now: Int64) {
        guard case .polite(let user) = options.login else { return finish(.greeting) }
        let plugin = greeting.authPluginName ?? "mysql_native_password"
        let collation = greeting.collation ?? .latin1SwedishCI
        let response = MySQLClientHello.handshakeResponse(
            capabilities: capabilities, collation: collation, user: user, plugin: plugin)
        send(MySQLPacket.encode(response, sequenceID: sequence))
        phase = .login
        // The login exchange gets its own budget, so a greeting that arrives late is still answered.
        deadline = later(now, options.timeoutNanoseconds)
    }

    // MARK: TLS

    private func beginHandshake(now: Int64) {
        switch tlsContext {
        case .success(let context)?:
            do throws(OpenSSLError) {
                tls = try TLSSession(context: context, descriptor: descriptor, host: result.target.host)
            } catch {
                return tlsFailed(error.message)
            }
        case .failure(let error)?:
            return tlsFailed(error.message)
        case nil:
            return tlsFailed("no TLS context")
        }
        phase = .tlsHandshake
        // The handshake gets its own budget, as the login does.
        deadline = later(now, options.timeoutNanoseconds)
        continueHandshake()
    }

    /// One non-blocking SSL_connect step, once the SSLRequest has left (OpenSSL writes the ClientHello to
    /// the socket itself, so the request must not still sit in `output`).
    private func continueHandshake() {
        guard let tls else { return }
        flush()
        guard output.isEmpty else { return }
        switch tls.connect() {
        case .done:
            let now = Monotonic.now()
            isSecure = true
            tlsWants = 0
            result.timings.tls = now - startedAt
            result.tls = tls.report(now: realtimeSeconds())
            guard let (sequence, capabilities, greeting) = pendingLogin else { return finish(result.outcome) }
            // Impolite mode stops here, as it stops after the greeting in clear.
            guard case .polite = options.login else { return finish(result.outcome) }
            sendLogin(sequence: sequence, capabilities: capabilities, greeting: greeting, now: now)
            // Anything OpenSSL already holds would never wake poll.
            receiveSecure()
        case .wantRead:
            tlsWants = Int16(POLLIN)
        case .wantWrite:
            tlsWants = Int16(POLLOUT)
        case .closed:
            tlsFailed("TLS handshake failed: the server closed the connection")
        case .reset:
            tlsFailed("TLS handshake failed: the server reset the connection")
        case .failed(let error):
            tlsFailed(error.message)
        }
    }

    private func tlsFailed(_ reason: String) {
        var report = TLSReport(status: .failed)
        report.error = reason
        result.tls = report
        finish(result.outcome)
    }

    private func loginReply(sequence: UInt8, payload: [UInt8], now: Int64) {
        let reply: MySQLServerReply
        do {
            reply = try withCursor(over: payload, layer: .mysql) { (cursor: inout Cursor) throws(ParseError) in
                try MySQLServerReply(parsing: &cursor)
            }
        } catch {
            result.login = .incomplete("unreadable reply: \(error)")
            return startDraining(now: now)
        }
        switch reply {
        case .ok:
            result.timings.login = now - startedAt
            result.login = .accepted
            send(MySQLPacket.encode([0x01], sequenceID: 0))  // COM_QUIT
            startDraining(now: now)
        case .error(let error):
            result.timings.login = now - startedAt
            result.login = .denied(error)
            startDraining(now: now)
        case .authSwitch(let plugin):
            result.authSwitches.append(plugin)
            answerAuthRound(sequence: sequence, now: now)
        case .authMoreData:
            // caching_sha2_password's "fast auth succeeded" (0x01 0x03) is followed by OK: just wait.
            if payload == [0x01, 0x03] { return }
            answerAuthRound(sequence: sequence, now: now)
        case .other(let byte):
            result.login = .incomplete("unexpected reply 0x" + String(byte, radix: 16))
            startDraining(now: now)
        }
    }

    /// An empty password is an empty auth response, whatever the plugin.
    private func answerAuthRound(sequence: UInt8, now: Int64) {
        authRounds += 1
        guard authRounds <= 4 else {
            result.login = .incomplete("more than 4 authentication rounds")
            return startDraining(now: now)
        }
        send(MySQLPacket.encode([], sequenceID: sequence &+ 1))
    }

    private func startDraining(now: Int64) {
        phase = .draining
        deadline = min(max(deadline, now), later(now, options.drainNanoseconds))
    }

    private func endOfStream() {
        switch phase {
        case .greeting:
            if head.isEmpty {
                finish(.closed, detail: "the server closed the connection without sending anything")
            } else {
                finish(.closed, detail: "the server closed the connection after \(head.count) bytes of an incomplete greeting")
            }
        case .banner:
            result.banner = printableBanner(head)
            finish(.banner)
        case .login:
            result.login = .incomplete("the server closed the connection during the login")
            finish(result.outcome)
        default:
            finish(result.outcome)
        }
    }

    private func connectionReset() {
        switch phase {
        case .greeting:
            finish(.reset, detail: head.isEmpty ? "reset before any byte" : "reset after \(head.count) bytes of the greeting")
        case .banner:
            result.banner = printableBanner(head)
            finish(.banner)
        case .login:
            result.login = .incomplete("the server reset the connection during the login")
            finish(result.outcome)
        default:
            finish(result.outcome)
        }
    }

    private func send(_ bytes: [UInt8]) {
        output += bytes
        flush()
    }

    private func flush() {
        if isSecure, let tls {
            tlsWants = 0
            while !output.isEmpty {
                switch tls.write(output) {
                case .done(let count): output.removeFirst(count)
                case .wantRead: tlsWants = Int16(POLLIN); return
                case .wantWrite: return  // POLLOUT is asked for while `output` is not empty
                case .closed, .reset, .failed: output.removeAll(); return  // surfaces on the next read
                }
            }
            return
        }
        while !output.isEmpty {
            let sent = output.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                output.removeFirst(sent)
            } else if sent < 0 && errno == EINTR {
                continue
            } else {
                return  // EAGAIN: POLLOUT will call again; errors surface on the next read
            }
        }
    }

    /// The on-time result of a probe that lingers (once).
    func takeOnTimeReport() -> ProbeResult? {
        guard let early = onTimeReport else { return nil }
        onTimeReport = nil
        reportedOnTime = true
        return early
    }

    private func finish(_ outcome: ProbeOutcome, detail: String? = nil) {
        result.outcome = outcome
        result.late = lingering
        if let detail { result.detail = detail }
        if isSecure { tls?.shutdown() }
        tls = nil
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        result.timings.total = Monotonic.now() - startedAt
        phase = .done
    }

    func realtimeSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
