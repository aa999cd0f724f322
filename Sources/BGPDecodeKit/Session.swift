import PacketCore

/// A route in a session's table.
public struct BGPRoute: Sendable {
    /// Index of the interned path (attributes and next hop).
    public var pathID: Int32
    /// When it was (last) announced.
    public var since: Timestamp
    /// Kept across a session end under graceful restart (RFC 4724 section 4.2), until refreshed or flushed.
    public var stale: Bool
}

/// What one speaker announced to one peer: the RIB keyed by family, path identifier and prefix, the last
/// OPEN, counters and per-prefix flap counts. Fed by the capture decoder, the MRT reader and (later) the
/// passive listener through `BGPAnalyzer`.
public final class BGPSession {
    public let key: BGPSessionKey
    public internal(set) var routes: [BGPRouteKey: BGPRoute] = [:]
    /// Times each prefix went from announced to withdrawn (explicitly or with its session).
    public internal(set) var flaps: [BGPRouteKey: Int] = [:]
    public internal(set) var speakerOpen: BGPOpen?
    public internal(set) var contextSource: BGPContextSource = .heuristic
    public internal(set) var isUp = true
    public internal(set) var downReason: String?
    public internal(set) var lastNotification: BGPNotification?
    public internal(set) var firstSeen: Timestamp
    public internal(set) var lastSeen: Timestamp
    public internal(set) var messages = 0
    public internal(set) var updates = 0
    public internal(set) var announcements = 0
    public internal(set) var withdrawals = 0
    public internal(set) var decodeErrors = 0
    public internal(set) var endOfRIB: Set<BGPAddressFamily> = []
    /// The speaker's graceful restart capability from its last OPEN.
    var gracefulRestart: BGPGracefulRestart?
    /// The peer's OPEN (needed to decide graceful restart and the negotiated context).
    var peerOpen: BGPOpen?
    /// The attribute bytes of the last UPDATE and their path ids (a cache in front of the path table:
    /// speakers that send one prefix per UPDATE repeat the same attributes).
    var lastKey: [UInt8] = []
    var lastPlainPath: Int32 = -1
    var lastMPPath: Int32 = -1
    var lastMPKeyLength = -1

    init(key: BGPSessionKey, timestamp: Timestamp) {
        self.key = key
        firstSeen = timestamp
        lastSeen = timestamp
    }

    public var staleCount: Int { routes.values.reduce(0) { $0 + ($1.stale ? 1 : 0) } }

    public var speakerAS: UInt32? { speakerOpen?.autonomousSystem }
}
