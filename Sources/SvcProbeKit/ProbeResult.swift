import PacketCore

/// How a probe ended, as an operator reads it.
public enum ProbeOutcome: String, Sendable, Hashable, CaseIterable {
    /// Connected and received a MySQL/MariaDB greeting: the service answers.
    case greeting
    /// Connected and received an ERR packet instead of a greeting (1130 host not allowed, 1129 host
    /// blocked, 1040 too many connections, ...): the server runs but turns this client away.
    case error
    /// Connected and the server spoke first, but not MySQL (SSH, SMTP, FTP banners, ...).
    case banner
    /// Connected, but nothing arrived before the timeout (a proxy with no backend, a wrong service).
    case silent
    /// Connected, then the server closed (FIN) before a complete greeting.
    case closed
    /// Connected, then the server reset the connection (RST) before a complete greeting.
    case reset
    /// The connection was refused (RST to the SYN: nothing listens; kube-proxy without endpoints).
    case refused
    /// No answer to the SYN before the timeout (dropped, blackholed, or nobody answered ARP/NDP).
    case timeout
    /// ICMP/ICMPv6 unreachable, no route, or the neighbour (ARP/NDP) failed (EHOSTUNREACH, ENETUNREACH).
    case unreachable
    /// The name did not resolve.
    case unresolved
    /// Anything else the system reported (the errno text is in `detail`).
    case failed

    /// Whether the service answered (greeting or banner).
    public var isUp: Bool { self == .greeting || self == .banner }
}

/// What the polite login exchange after a greeting gave (see `ProbeOptions.login`).
public enum LoginOutcome: Sendable, Hashable {
    /// Not attempted: no greeting, a pre-4.1 server, or `--close-after-greeting`.
    case notAttempted
    /// The server let the probe user in (a passwordless account): the probe sent COM_QUIT.
    case accepted
    /// The server refused the login (normally 1045 access denied): not a connection error.
    case denied(MySQLErrorPacket)
    /// The exchange did not finish (timeout, reset, close, or too many auth switches): `reason`.
    case incomplete(String)

    public var word: String {
        switch self {
        case .notAttempted: "none"
        case .accepted: "accepted"
        case .denied: "denied"
        case .incomplete: "incomplete"
        }
    }
}

/// Per-step times, in nanoseconds from the moment `connect()` was called (monotonic clock).
public struct ProbeTimings: Sendable, Hashable {
    /// The TCP handshake completed.
    public var connect: Int64?
    /// The first byte from the server arrived.
    public var firstByte: Int64?
    /// The whole greeting (or ERR packet, or banner) arrived.
    public var greeting: Int64?
    /// The TLS handshake completed (`--tls`).
    public var tls: Int64?
    /// The server's verdict on the polite login arrived.
    public var login: Int64?
    /// The probe ended (socket closed).
    public var total: Int64 = 0

    public init() {}
}

/// One probe's result.
public struct ProbeResult: Sendable {
    public var target: ProbeTarget
    public var address: SocketAddress?
    public var outcome: ProbeOutcome
    public var timings = ProbeTimings()
    public var greeting: MySQLGreeting?
    public var error: MySQLErrorPacket?
    /// Printable text of a non-MySQL banner (control characters escaped, at most 200 bytes).
    public var banner: String?
    public var login: LoginOutcome = .notAttempted
    /// `--tls`: what the SSLRequest and handshake gave (nil without --tls or without a greeting).
    public var tls: TLSReport?
    /// Auth switch requests the server sent during the login (plugin names).
    public var authSwitches: [String] = []
    /// The system error behind refused/unreachable/reset/failed (`strerror` text), or other context.
    public var detail: String?
    /// A greeting or ERR packet that could not be decoded.
    public var parseError: ParseError?
    /// The monotonic time the probe started (for watch timelines).
    public var startedAt: Int64 = 0
    /// An on-time report of a probe whose greeting did not come within the timeout: its connection is
    /// still open (`ProbeOptions.lingerNanoseconds`), and a `late` result follows.
    public var lingering = false
    /// The final result of a probe that lingered (reported once on time already): the late greeting and
    /// its login, or `silent` when the linger ran out too.
    public var late = false

    public init(target: ProbeTarget, outcome: ProbeOutcome) {
        self.target = target
        self.outcome = outcome
    }
}

extension ProbeResult {
    static func unresolved(_ target: ProbeTarget, _ error: ResolutionError) -> ProbeResult {
        var result = ProbeResult(target: target, outcome: .unresolved)
        result.detail = error.message
        result.startedAt = Monotonic.now()
        return result
    }
}

/// Make a banner printable: ASCII kept, CR/LF/TAB and others escaped, cut at 200 bytes.
func printableBanner(_ bytes: some Collection<UInt8>) -> String {
    var text = ""
    for byte in bytes.prefix(200) {
        switch byte {
        case 0x0D: text += "\\r"
        case 0x0A: text += "\\n"
        case 0x09: text += "\\t"
        case 0x5C: text += "\\\\"
        case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16)
            text += "\\x" + (hex.count == 1 ? "0" : "") + hex
        }
    }
    return text
}
