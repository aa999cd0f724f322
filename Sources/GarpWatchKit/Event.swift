import PacketCore

/// Something garpwatch reports: arpwatch's station events, ownership moves, split-brain, lint.
public struct Event: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// arpwatch "new station": the first frame ever seen for this address (on this VLAN path).
        case newStation = "new-station"
        /// arpwatch "changed ethernet address": the address moved to a MAC never seen for it before.
        case changedEthernetAddress = "changed-ethernet-address"
        /// arpwatch "flip flop": the address moved back to the MAC it had just before the current one.
        case flipFlop = "flip-flop"
        /// arpwatch "reused old ethernet address": the address moved to a MAC it had longer ago.
        case reusedOldEthernetAddress = "reused-old-ethernet-address"
        /// arpwatch "ethernet mismatch": the frame's Ethernet source differs from the ARP sender MAC.
        case ethernetMismatch = "ethernet-mismatch"
        /// arpwatch "ethernet broadcast": the sender MAC is broadcast, multicast or zero (never a station).
        case ethernetBroadcast = "ethernet-broadcast"
        /// arpwatch "bogon": the address is outside every `--local-net`.
        case bogon
        /// The address has a new owner and the old one stayed silent for the conflict window: a clean
        /// handover, with the gap and the announcement burst.
        case takeover
        /// Two or more MACs claim the address within the conflict window, interleaving.
        case splitBrain = "split-brain"
        /// A split-brain ended on evidence: a broadcast who-has that only one MAC answered.
        case splitBrainResolved = "split-brain-resolved"
        /// An announcement frame with a problem that commonly breaks clients.
        case lint
    }

    public var kind: Kind
    /// When it happened (packet time): for a takeover, the new owner's first frame.
    public var time: Timestamp
    public var key: BindingKey
    /// The MAC the event is about (the new owner for moves).
    public var mac: MACAddress
    /// The previous owner, for moves.
    public var oldMAC: MACAddress?
    /// The frame kind that triggered the event.
    public var frameKind: Observation.Kind?
    /// Ethernet source of the frame, for `ethernet-mismatch`.
    public var frameSource: MACAddress?
    public var takeover: Takeover?
    public var conflict: Conflict?
    public var lint: Observation.Lint?
    /// `split-brain-resolved`: the requester whose broadcast who-has only `mac` answered.
    public var evidence: IPAddress?

    public init(kind: Kind, time: Timestamp, key: BindingKey, mac: MACAddress) {
        self.kind = kind
        self.time = time
        self.key = key
        self.mac = mac
    }
}

/// A clean change of owner.
public struct Takeover: Sendable, Hashable {
    /// The old owner's last frame for the address.
    public var oldLast: Timestamp
    /// The new owner's first frame for the address.
    public var newFirst: Timestamp
    /// The gratuitous frames the new owner sent within the burst window after its first frame.
    public var burst: Burst
    /// The old owner's last frame was not seen in this run: it comes from `--state` (an earlier run).
    public var oldLastFromEarlierRun = false
    /// What the old owner's last sign of life was (what bounds the gap on that side).
    public var oldEvidence: Evidence = .claim
    /// What the new owner's first frame was.
    public var newEvidence: Observation.Kind?
    /// Client traffic in the capture: the old owner's last frame with the address as source (a reply to a
    /// client) and the new owner's first.
    public var oldLastReply: Timestamp?
    public var newFirstReply: Timestamp?

    /// A sign of life of an owner.
    public enum Evidence: String, Sendable, Hashable {
        /// An ARP or NDP frame claiming the address.
        case claim
        /// An IPv4/IPv6 frame with the address as source, from the owner's MAC (a reply to a client).
        case ipSource = "ip-source"
        /// A VRRP advertisement listing the address, from the owner's MAC.
        case vrrpAdvert = "vrrp-advert"
        /// A VRRP advertisement with priority 0: the owner gave the address up (keepalived stopping).
        case vrrpRelease = "vrrp-priority-0"
    }

    /// What clients saw, when client traffic is in the capture: last reply from the old MAC to the first from
    /// the new, nanoseconds.
    public var clientGapNanoseconds: Int64? {
        guard let oldLastReply, let newFirstReply else { return nil }
        return newFirstReply.nanoseconds(since: oldLastReply)
    }

    /// What the time between the two owners means.
    public enum GapKind: String, Sendable, Hashable {
        /// Both frames seen in this run, in order: the silence a client saw.
        case outage
        /// The old owner's last frame is from an earlier run: garpwatch was not watching in between.
        case acrossRuns = "across-runs"
        /// The state file records the old owner after this capture's frame.
        case stateNewer = "state-newer"
        /// Frames of this run out of order (a capture of several interfaces): no gap to tell.
        case outOfOrder = "out-of-order"
    }

    public var gapKind: GapKind {
        if oldLastFromEarlierRun { return gapNanoseconds < 0 ? .stateNewer : .acrossRuns }
        return gapNanoseconds < 0 ? .outOfOrder : .outage
    }

    /// Silence between the two owners, in nanoseconds (negative if the frames arrived out of order).
    public var gapNanoseconds: Int64 { newFirst.nanoseconds(since: oldLast) }
    /// The new owner never announced the move: clients keep the old MAC until their entry expires.
    public var isUnannounced: Bool { burst.frames == 0 }
}

/// Gratuitous frames grouped into rounds (frames less than the round gap apart: MetalLB's request + reply
/// pair, keepalived's back-to-back repeats).
public struct Burst: Sendable, Hashable {
    public var frames = 0
    public var rounds = 0
    public var first = Timestamp.zero
    public var last = Timestamp.zero
    public var lastRoundStart = Timestamp.zero

    public init() {}

    mutating func add(_ time: Timestamp, roundGap: Int64) {
        if frames == 0 {
            first = time
            rounds = 1
            lastRoundStart = time
        } else if time.nanoseconds(since: last) > roundGap {
            rounds += 1
            lastRoundStart = time
        }
        last = time
        frames += 1
    }

    /// Mean time between round starts, nanoseconds; nil for fewer than two rounds.
    public var roundSpacingNanoseconds: Int64? {
        rounds > 1 ? lastRoundStart.nanoseconds(since: first) / Int64(rounds - 1) : nil
    }

    public var durationNanoseconds: Int64 { frames == 0 ? 0 : last.nanoseconds(since: first) }
}

/// Several MACs answering for one address.
public struct Conflict: Sendable, Hashable {
    /// Every MAC that claimed the address during the episode, in order of appearance.
    public var macs: [MACAddress]
    public var started: Timestamp
    public var lastFlip: Timestamp
    /// Ownership changes during the episode.
    public var flips: Int

    public var durationNanoseconds: Int64 { lastFlip.nanoseconds(since: started) }
}
