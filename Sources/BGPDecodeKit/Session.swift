import PacketCore

/// What one speaker announced to one peer: the RIB keyed by family, path identifier and prefix, the last
/// OPEN, counters and per-prefix flap counts. Fed by the capture decoder, the MRT reader and (later) the
/// passive listener through `BGPAnalyzer`.
public final class BGPSession {
    public let key: BGPSessionKey
    /// The RIB. What changes once per message lives in one internal struct behind public getters, so the
    /// UPDATE hot path changes it in one access: each access to a class's stored property is checked for
    /// exclusivity at run time, and those checks were a tenth of the run time of a million UPDATEs.
    public var routes: BGPRouteTable { hot.table }
    /// The state lives in the analyzer's array, so the per-message path reaches it by index without
    /// retaining and releasing this object (which was 7% of the run time of a million UPDATEs, perf).
    /// Reading it applies the table's pending changes (batch mode, see `BGPRouteTable`) first.
    var hot: BGPSessionHotState {
        get {
            if owner.hotStates[index].table.hasPendingChanges { owner.hotStates[index].table.applyPendingChanges() }
            return owner.hotStates[index]
        }
        _modify { yield &owner.hotStates[index] }
    }
    /// The analysis this session belongs to (it owns the sessions and outlives them in every use).
    unowned let owner: BGPAnalyzer
    let index: Int
    /// Per prefix, how often it flapped in this TCP session: was withdrawn and then announced again. From
    /// the count of withdrawals that found a route (`BGPRouteTable.removals`): when the route is there at
    /// the end (in the table, or in the last table before a session end) every withdrawal was followed by
    /// an announcement, else all but the last were. A session end is not a flap (`endedRoutes`).
    public var flaps: [BGPRouteKey: Int] {
        let hot = self.hot
        let removed = hot.table.removals.sorted { $0.key < $1.key }
        guard !removed.isEmpty else { return [:] }
        let keys = removed.map(\.key)
        let inTable = hot.table.containsEach(sorted: keys)
        let inEnded = endedRoutes.isEmpty ? nil : endedRoutes.containsEach(sorted: keys)
        var flaps: [BGPRouteKey: Int] = [:]
        for (index, (key, removals)) in removed.enumerated() {
            let present = inTable[index] || (inEnded?[index] ?? false)
            let count = present ? removals : removals - 1
            if count > 0 { flaps[key] = count }
        }
        return flaps
    }
    /// The routes the last session end withdrew (those graceful restart did not keep): the table as it was
    /// just before the session went down, for `--table` and a verification that finds them missing.
    public internal(set) var endedRoutes = BGPRouteTable()
    /// When the session last ended (nil: it has not, since its last OPEN).
    public internal(set) var endedAt: Timestamp?
    /// Earlier TCP sessions of this speaker to this peer in the input: the counters are this session's.
    public internal(set) var earlierSessions = 0
    public internal(set) var speakerOpen: BGPOpen?
    public var contextSource: BGPContextSource { hot.contextSource }
    public internal(set) var isUp = true
    public internal(set) var downReason: String?
    public internal(set) var lastNotification: BGPNotification?
    public internal(set) var firstSeen: Timestamp
    public var lastSeen: Timestamp { hot.lastSeenTime }
    public var messages: Int { hot.messageCount }
    public var updates: Int { hot.updateCount }
    public var announcements: Int { hot.announcementCount }
    public var withdrawals: Int { hot.withdrawalCount }
    public internal(set) var decodeErrors = 0
    /// Holes in the sender's stream (`BGPEvent.gap`) and the bytes in them.
    public internal(set) var gaps = 0
    public internal(set) var lostBytes: UInt64 = 0
    /// Messages the stream ended inside (`BGPEvent.truncatedMessage`).
    public internal(set) var truncatedMessages = 0
    public internal(set) var endOfRIB: Set<BGPAddressFamily> = []
    /// The speaker's graceful restart capability from its last OPEN.
    var gracefulRestart: BGPGracefulRestart?
    /// The peer's OPEN (needed to decide graceful restart and the negotiated context).
    var peerOpen: BGPOpen?
    init(key: BGPSessionKey, timestamp: Timestamp, owner: BGPAnalyzer, index: Int) {
        self.key = key
        firstSeen = timestamp
        self.owner = owner
        self.index = index
    }

    public var staleCount: Int { hot.table.staleCount }

    public var speakerAS: UInt32? { speakerOpen?.autonomousSystem }
}

/// A session's state that changes with every message (see `BGPSession.routes`).
struct BGPSessionHotState {
    var table = BGPRouteTable()
    var messageCount = 0
    var updateCount = 0
    var announcementCount = 0
    var withdrawalCount = 0
    var lastSeenTime: Timestamp
    /// The raw attribute bytes of the last UPDATE that had no MP attributes and a usable path, the AS size
    /// they were read with, and that path (-1: none).
    var lastRawAttributes: [UInt8] = []
    var lastRawAsSize = 0
    var lastRawPath: Int32 = -1

    /// Set `lastRawAttributes`, reusing its buffer (a new array per plain UPDATE was an allocation each).
    mutating func setLastRawAttributes(_ bytes: UnsafeRawBufferPointer) {
        lastRawAttributes.removeAll(keepingCapacity: true)
        lastRawAttributes.append(contentsOf: bytes)
    }
    var contextSource: BGPContextSource = .heuristic

    init(lastSeenTime: Timestamp) {
        self.lastSeenTime = lastSeenTime
    }

    @inline(__always)
    mutating func noteMessage(_ timestamp: Timestamp) {
        messageCount += 1
        lastSeenTime = timestamp
    }

    /// Count an UPDATE; returns the path of the last plain UPDATE when `attributes` repeats its bytes (read
    /// with the same AS size), else -1.
    mutating func beginUpdate(attributes: Cursor?, asSize: Int) -> Int32 {
        updateCount += 1
        guard lastRawPath >= 0, lastRawAsSize == asSize, let attributes,
            attributes.withUnsafeRemainingBytes({ BGPAnalyzer.equal(lastRawAttributes, $0) })
        else { return -1 }
        return lastRawPath
    }

    /// Install one route; returns whether it replaced one.
    @inline(__always)
    mutating func install(_ key: BGPRouteKey, _ route: BGPRoute) -> Bool {
        announcementCount += 1
        return table.updateValue(route, forKey: key) != nil
    }

    /// Count a message and, when it is an UPDATE for which no events are built and which the fast path
    /// covers, apply it. The fast path is for speakers that send one prefix per UPDATE (MetalLB, GoBGP):
    /// the attribute bytes repeat the last plain UPDATE's, so its path applies and nothing is split,
    /// copied or decoded; the NLRI go into the table in one pass. Returns false when the message still has
    /// to be handled (it is counted either way); else the error that cut the NLRI short, if any.
    mutating func receive(
        _ message: Cursor, asSize: Int, addPath: Bool, batch: Bool, timestamp: Timestamp
    ) -> (applied: Bool, error: ParseError?) {
        noteMessage(timestamp)
        guard lastRawPath >= 0, lastRawAsSize == asSize, message.peekU8(ahead: 18) == BGPMessageType.update.rawValue
        else { return (false, nil) }
        var cursor = message
        guard (try? BGPMessageHeader(parsing: &cursor)) != nil, let update = try? BGPUpdate(parsing: &cursor),
            update.withdrawn.isEmpty, !update.nlri.isEmpty, let attributes = try? message.window(update.attributes),
            attributes.withUnsafeRemainingBytes({ BGPAnalyzer.equal(lastRawAttributes, $0) }),
            let nlri = try? message.window(update.nlri)
        else { return (false, nil) }
        updateCount += 1
        var iterator = BGPNLRIIterator(nlri, family: .ipv4Unicast, addPath: addPath)
        let (count, error) = table.install(
            &iterator, family: .ipv4Unicast, pathID: lastRawPath, since: timestamp, queued: batch)
        announcementCount += count
        return (true, error)
    }
}
