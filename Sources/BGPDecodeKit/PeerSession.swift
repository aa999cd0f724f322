import PacketCore

/// What `bgpdecode listen` is and whom it accepts.
public struct BGPListenerConfiguration: Sendable {
    public var localAS: UInt32
    public var routerID: IPv4Address
    /// nil: every address (IPv4 and IPv6).
    public var bindAddress: IPAddress?
    public var port: UInt16
    /// Configured peers and the AS each must say in its OPEN.
    public var peers: [IPAddress: UInt32]
    /// Accept peers that are not configured (their AS is taken as it comes).
    public var acceptAny: Bool
    /// TCP-MD5 (RFC 2385) passwords per peer address.
    public var md5Passwords: [IPAddress: String]
    /// The hold time offered in our OPEN (0, or 3 and up).
    public var holdTime: UInt16
    /// Per session, the most routes its peer may announce (like a daemon's maximum-prefix): past it, Cease /
    /// Maximum Number of Prefixes Reached (6/1, RFC 4486) and the connection closes. nil: no limit.
    /// Bounded by default: a daemon's maximum-prefix is off unless configured, but a diagnostic listener
    /// keeps every route in memory and must not grow without end.
    public var maximumPrefixes: Int? = Self.defaultMaximumPrefixes

    /// A full IPv4 and IPv6 table (about 1.2 million routes in 2026) with room to spare: roughly 80 to 280 MB
    /// per session. Measured (issue 19, release build, `bgpdecode listen --table` fed over loopback, peak RSS
    /// by /usr/bin/time -v at 200,000 and 1,000,000 routes): 40 bytes a route when all share one path (20 MB,
    /// 52 MB), 135 bytes when every 4 routes have their own AS path and communities (40 MB, 148 MB).
    public static let defaultMaximumPrefixes = 2_000_000

    public init(
        localAS: UInt32, routerID: IPv4Address, bindAddress: IPAddress? = nil, port: UInt16 = 179,
        peers: [IPAddress: UInt32] = [:], acceptAny: Bool = false, md5Passwords: [IPAddress: String] = [:],
        holdTime: UInt16 = 90
    ) {
        self.localAS = localAS
        self.routerID = routerID
        self.bindAddress = bindAddress
        self.port = port
        self.peers = peers
        self.acceptAny = acceptAny
        self.md5Passwords = md5Passwords
        self.holdTime = holdTime
    }

    /// Our OPEN: IPv4 and IPv6 unicast, 4-octet AS, route refresh, ADD-PATH receive for both families and
    /// extended messages. No graceful restart: when a session ends, its routes are withdrawn at once.
    public var openMessage: [UInt8] {
        BGPMessageBuilder.open(asn: localAS, holdTime: holdTime, identifier: routerID, capabilities: [
            .multiprotocol(.ipv4Unicast), .multiprotocol(.ipv6Unicast), .routeRefresh, .fourOctetAS(localAS),
            .addPath([(.ipv4Unicast, 1), (.ipv6Unicast, 1)]), .extendedMessage,
        ])
    }
}

/// The RFC 4271 section 8 states a passive speaker goes through once a connection is accepted (Idle,
/// Connect and Active belong to the TCP side, which the listening socket covers).
public enum BGPPeerState: String, Sendable {
    case openSent = "OpenSent"
    case openConfirm = "OpenConfirm"
    case established = "Established"
    case closed = "Closed"
}

/// What the state machine asks its owner to do after a message or a timer.
public enum BGPPeerAction: Sendable, Equatable {
    /// Send these bytes.
    case send([UInt8])
    /// Tell the operator, in plain words.
    case log(String)
    /// Close the connection (after what was sent).
    case close
}

/// One accepted connection's state machine: checks the peer's OPEN (RFC 4271 section 6.2), negotiates the
/// hold time, and keeps the hold and keepalive timers (section 4.4, 10). Pure logic: time is passed in, the
/// caller owns the socket, so it is tested without one.
public struct BGPPeerSession: Sendable {
    public let remote: IPAddress
    public let local: IPAddress
    public let configuration: BGPListenerConfiguration
    public private(set) var state: BGPPeerState = .openSent
    public private(set) var peerOpen: BGPOpen?
    public private(set) var ourOpen: BGPOpen?
    /// The negotiated hold time in seconds (0: no keepalives, no hold timer).
    public private(set) var holdTime: UInt16 = 0
    /// Nanosecond clock values (any monotonic origin).
    var holdDeadline: Int64
    var nextKeepalive: Int64 = .max
    /// How long a peer that connected has to send its OPEN. RFC 4271 section 8.2.2 suggests 4 minutes,
    /// but the peer connected to us and has our OPEN: a speaker sends its own at once, and a connection
    /// that sends nothing (a port scan, a stuck or hostile peer) held a socket for 240 s (issue 16 item 10).
    static let initialHoldSeconds: Int64 = 15

    public init(remote: IPAddress, local: IPAddress, configuration: BGPListenerConfiguration, now: Int64) {
        self.remote = remote
        self.local = local
        self.configuration = configuration
        holdDeadline = now + Self.initialHoldSeconds * 1_000_000_000
    }

    /// The decoding context for the peer's messages (from both OPENs), or nil before its OPEN.
    public var context: BGPMessageContext? {
        guard let peerOpen, let ourOpen else { return nil }
        return BGPMessageContext.negotiated(sender: peerOpen, receiver: ourOpen)
    }

    public var extendedMessages: Bool {
        (peerOpen?.supportsExtendedMessage ?? false) && (ourOpen?.supportsExtendedMessage ?? false)
    }

    /// The OPEN to send on accept; remembers it (its capabilities decide the context).
    public mutating func start() -> [UInt8] {
        let bytes = configuration.openMessage
        ourOpen = bytes.withUnsafeBytes { raw in
            var cursor = Cursor(raw)
            guard (try? BGPMessageHeader(parsing: &cursor)) != nil else { return nil }
            return try? BGPOpen(parsing: &cursor)
        }
        return bytes
    }

    /// The transport ended: no more timers.
    public mutating func markClosed() { state = .closed }

    /// The earliest time `tick` has something to do.
    public var nextDeadline: Int64 { min(holdDeadline, nextKeepalive) }

    /// Timers: a KEEPALIVE every third of the hold time, and Hold Timer Expired when the peer said nothing for
    /// the whole hold time.
    public mutating func tick(now: Int64) -> [BGPPeerAction] {
        guard state != .closed else { return [] }
        if now >= holdDeadline {
            let seconds = state == .openSent ? Self.initialHoldSeconds : Int64(holdTime)
            let noOpen = state == .openSent
            state = .closed
            if noOpen {
                return [.send(BGPMessageBuilder.notification(code: 4, subcode: 0)),
                    .log("\(remote) sent no OPEN within \(seconds) s of connecting: sent Hold Timer Expired (4/0) "
                        + "and closed the connection"),
                    .close]
            }
            return [.send(BGPMessageBuilder.notification(code: 4, subcode: 0)),
                .log("\(remote) sent nothing for \(seconds) s (the hold time): sent Hold Timer Expired (4/0) and "
                    + "closed the session; is the speaker alive and is the path to it open?"),
                .close]
        }
        if now >= nextKeepalive {
            nextKeepalive = now + Int64(holdTime) * 1_000_000_000 / 3
            return [.send(BGPMessageBuilder.keepalive())]
        }
        return []
    }

    /// A whole message from the peer (header parsed by the caller); `open` is its OPEN when it is one.
    public mutating func receive(type: BGPMessageType, open: BGPOpen?, now: Int64) -> [BGPPeerAction] {
        guard state != .closed else { return [] }
        // Any message restarts the hold timer once it is negotiated (RFC 4271 section 4.4).
        if state != .openSent, holdTime > 0 { holdDeadline = now + Int64(holdTime) * 1_000_000_000 }
        switch (state, type) {
        case (.openSent, .open):
            guard let open else {
                return fail(1, 0, [], "\(remote) sent an OPEN that does not decode")
            }
            return receiveOpen(open, now: now)
        case (.openConfirm, .keepalive):
            state = .established
            return [.log("\(remote) AS \(peerOpen?.autonomousSystem ?? 0): session established (hold time "
                + "\(holdTime) s)")]
        case (.established, .keepalive), (.established, .update), (.established, .routeRefresh):
            return []
        case (_, .notification):
            state = .closed
            return [.close]
        case (.openSent, _):
            return fail(5, 1, [], "\(remote) sent \(type) before its OPEN")
        case (.openConfirm, _):
            return fail(5, 2, [], "\(remote) sent \(type) before its first KEEPALIVE")
        default:
            return fail(5, 3, [], "\(remote) sent an unexpected \(type) in the Established state")
        }
    }

    private mutating func receiveOpen(_ open: BGPOpen, now: Int64) -> [BGPPeerAction] {
        peerOpen = open
        // RFC 4271 section 6.2, in its order: version, peer AS, hold time, BGP identifier.
        if open.version != 4 {
            // Data: the largest version we support, in 2 bytes.
            return fail(2, 1, [0, 4], "\(remote) speaks BGP version \(open.version); only version 4 exists")
        }
        if let expected = configuration.peers[remote], expected != open.autonomousSystem {
            return fail(2, 2, [], "\(remote) says AS \(open.autonomousSystem), expected \(expected): "
                + "check the BGPPeer's myASN/peerASN")
        }
        if open.holdTime == 1 || open.holdTime == 2 {
            return fail(2, 6, [], "\(remote) offers a hold time of \(open.holdTime) s; it must be 0 or at least 3 s")
        }
        let sameAS = open.autonomousSystem == configuration.localAS
        if open.identifier.rawValue == 0 || open.identifier.rawValue == 0xFFFF_FFFF
            || (sameAS && open.identifier == configuration.routerID)
        {
            return fail(2, 3, [], "\(remote) has BGP identifier \(open.identifier), "
                + (open.identifier == configuration.routerID ? "the same as ours: give each speaker its own router id"
                    : "which is not a valid router id"))
        }
        holdTime = min(open.holdTime, configuration.holdTime)
        state = .openConfirm
        if holdTime == 0 {
            holdDeadline = .max
            nextKeepalive = .max
        } else {
            holdDeadline = now + Int64(holdTime) * 1_000_000_000
            nextKeepalive = now + Int64(holdTime) * 1_000_000_000 / 3
        }
        return [.send(BGPMessageBuilder.keepalive())]
    }

    private mutating func fail(_ code: UInt8, _ subcode: UInt8, _ data: [UInt8], _ why: String) -> [BGPPeerAction] {
        state = .closed
        return [.send(BGPMessageBuilder.notification(code: code, subcode: subcode, data: data)),
            .log("\(why); sent \(BGPNotification.name(code: code, subcode: subcode)) (\(code)/\(subcode)) "
                + "and closed the connection"),
            .close]
    }
}
