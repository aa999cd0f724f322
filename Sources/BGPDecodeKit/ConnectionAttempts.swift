import PacketCore

/// What happened to the TCP connections to the BGP port that carried no BGP message, so a capture that
/// holds none says why instead of nothing: SYNs signed with TCP-MD5 (RFC 2385) that got no answer (the
/// peer drops segments whose signature it cannot check: no password, or another one), SYNs answered by
/// RST (nothing listens on the port), SYNs with no answer at all, and connections that came up but
/// carried no OPEN.
///
/// Fed every TCP segment on the BGP ports; it only looks at SYN and RST segments and at the first payload
/// of a connection, so it costs a flag test per segment.
public struct BGPConnectionAttempts: Sendable {
    /// One client's attempts to one server port.
    struct Attempt: Sendable {
        var syns = 0
        var signedSyns = 0
        var answered = false
        var resets = 0
        var payloadBytes = 0
    }

    struct Key: Hashable, Sendable, Comparable {
        var client: FlowEndpoint
        var server: FlowEndpoint
        static func < (a: Key, b: Key) -> Bool { (a.server, a.client) < (b.server, b.client) }
    }

    private var attempts: [Key: Attempt] = [:]
    /// Attempts tracked at most (a SYN flood must not grow this without bound).
    static let maximumAttempts = 4096

    public init() {}

    /// One TCP segment from `source` to `destination` with `flags`, `payload` bytes and (when signed) a
    /// TCP-MD5 option.
    public mutating func note(
        source: FlowEndpoint, destination: FlowEndpoint, flags: TCPFlags, signed: Bool, payload: Int
    ) {
        if flags.contains(.syn) {
            if flags.contains(.ack) {
                update(Key(client: destination, server: source)) { $0.answered = true }
            } else {
                update(Key(client: source, server: destination)) { attempt in
                    attempt.syns += 1
                    if signed { attempt.signedSyns += 1 }
                }
            }
        } else if flags.contains(.rst) {
            // An RST from the server to the client (the answer to a SYN to a closed port carries ACK).
            let key = Key(client: destination, server: source)
            if attempts[key] != nil { update(key) { $0.resets += 1 } }
        } else if payload > 0 {
            for key in [Key(client: source, server: destination), Key(client: destination, server: source)]
            where attempts[key] != nil {
                update(key) { $0.payloadBytes += payload }
            }
        }
    }

    private mutating func update(_ key: Key, _ change: (inout Attempt) -> Void) {
        if attempts[key] == nil, attempts.count >= Self.maximumAttempts { return }
        change(&attempts[key, default: Attempt()])
    }

    /// One sentence per client and server between which no BGP message was decoded (`hasMessages` says
    /// whether any was, for a speaker and peer address pair, either direction).
    public func diagnoses(hasMessages: (IPAddress, IPAddress) -> Bool) -> [String] {
        var lines: [String] = []
        for (key, attempt) in attempts.sorted(by: { $0.key < $1.key }) {
            guard !hasMessages(key.client.address, key.server.address) else { continue }
            let route = "\(key.client.address) > \(key.server)"
            if !attempt.answered {
                if attempt.signedSyns > 0 {
                    lines.append("\(route): TCP-MD5 signed SYNs unanswered (\(attempt.signedSyns)): password missing "
                        + "or wrong on the peer (it drops segments it cannot verify)")
                } else if attempt.resets > 0 {
                    lines.append("\(route): SYN answered by RST (\(attempt.resets)): nothing listens on "
                        + "\(key.server.port) at \(key.server.address); is the BGP daemon running and bound there?")
                } else if attempt.syns > 0 {
                    lines.append("\(route): SYNs unanswered (\(attempt.syns)): the peer is down, a firewall drops "
                        + "them, or it expects a TCP-MD5 password")
                }
            } else if attempt.syns > 0 {
                lines.append("\(route): connection up but no OPEN"
                    + (attempt.payloadBytes > 0 ? " (\(attempt.payloadBytes) bytes that are not BGP)"
                        : ": neither side sent one (both passive, or a speaker waiting for its configuration?)"))
            }
        }
        return lines
    }
}
