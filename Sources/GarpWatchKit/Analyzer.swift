import PacketCore

/// Tuning and scope of an analysis.
public struct AnalyzerOptions: Sendable, Hashable {
    /// Two MACs claiming an address this close together (and interleaving) are a split-brain; an old owner
    /// silent this long after the new owner's first frame makes a clean takeover. Nanoseconds.
    public var conflictWindow: Int64 = 5_000_000_000
    /// Gratuitous frames of a new owner this long after its first frame belong to its takeover burst
    /// (MetalLB announces for about 4.4 s, keepalived repeats after 5 s). Nanoseconds.
    public var burstWindow: Int64 = 6_000_000_000
    /// Gratuitous frames closer than this are one round of a burst (MetalLB's request + reply pair).
    public var roundGap: Int64 = 200_000_000
    /// Follow only these addresses (empty: all).
    public var scope: [IPRange] = []
    /// Report addresses outside all of these as bogons (empty: no bogon check).
    public var localNets: [IPPrefix] = []

    public init() {}
}

/// Frame counts for the summary.
public struct FrameCounters: Sendable, Hashable {
    public var frames = 0
    public var arp = 0
    public var ndp = 0
    /// Frames whose decoding stopped at a truncated header (snaplen cuts included).
    public var truncated = 0
    /// Frames whose headers contradict themselves.
    public var malformed = 0
    public var unsupported = 0
    /// ARP probes and DAD NS (they claim nothing).
    public var probes = 0
    /// ARP/NDP frames about addresses outside `--ip/--net/--range`.
    public var outOfScope = 0
}

/// The binding table and everything derived from it. Feed it every decoded frame in capture order with
/// `process(_:at:)`, take the events it appends to `events`, and call `finish()` at the end.
///
/// The per-frame path allocates nothing: bindings are found through a dictionary keyed by a small value
/// type, and text is only built when an event fires (by the renderer, not here).
public struct Analyzer: Sendable {
    public let options: AnalyzerOptions
    public private(set) var bindings: [Binding] = []
    public private(set) var counters = FrameCounters()
    /// Events not yet taken by the caller (see `takeEvents()`).
    public var events: [Event] = []
    private var index: [BindingKey: Int] = [:]
    /// Bindings with a pending takeover or a split-brain in progress.
    private var scheduled: [Int] = []
    private var nextDeadline: Timestamp?

    public init(options: AnalyzerOptions = AnalyzerOptions(), restoring restored: [Binding] = []) {
        self.options = options
        for binding in restored where index[binding.key] == nil {
            index[binding.key] = bindings.count
            bindings.append(binding)
        }
        events.reserveCapacity(16)
    }

    public func binding(for key: BindingKey) -> Binding? { index[key].map { bindings[$0] } }

    /// Hand the caller the events so far and clear them (keeping the storage).
    public mutating func takeEvents() -> [Event] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Account for one decoded frame captured at `time`.
    public mutating func process(_ packet: Packet, at time: Timestamp) {
        counters.frames += 1
        if let issue = packet.issue {
            switch issue.kind {
            case .truncated: counters.truncated += 1
            case .malformed: counters.malformed += 1
            case .unsupported: counters.unsupported += 1
            }
        }
        if let nextDeadline, time >= nextDeadline { advance(to: time) }
        guard let observation = Observation.of(packet) else { return }
        observe(observation, at: time, linkSource: packet.link.source)
    }

    /// Account for one frame's binding facts (what `process` does after decoding).
    public mutating func observe(_ observation: Observation, at time: Timestamp, linkSource: MACAddress? = nil) {
        if observation.hopLimit == nil { counters.arp += 1 } else { counters.ndp += 1 }
        let key = observation.key
        if !options.scope.isEmpty && !inScope(key.ip) {
            counters.outOfScope += 1
            return
        }
        guard let mac = observation.mac else {
            counters.probes += 1
            return
        }
        if key.ip.isUnspecifiedAddress { return }
        if observation.anomalies.contains(.broadcastSenderMAC) || observation.anomalies.contains(.zeroSenderMAC)
            || observation.anomalies.contains(.multicastSenderMAC) || mac.isMulticast || mac.isZero
        {
            // Never a station: arpwatch reports it and keeps it out of the table.
            reportOnce(.ethernetBroadcast, key: key, mac: mac, time: time, observation: observation)
            return
        }

        let slot: Int
        if let existing = index[key] {
            slot = existing
            bindings[slot].claim(mac: mac, kind: observation.kind, time: time, options: options, events: &events)
        } else {
            slot = bindings.count
            index[key] = slot
            bindings.append(Binding(key: key, mac: mac, time: time, gratuitous: observation.kind.isGratuitous))
            var event = Event(kind: .newStation, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            events.append(event)
        }
        if let deadline = bindings[slot].deadline {
            schedule(slot, deadline)
        }
        if !options.localNets.isEmpty && !bindings[slot].bogonReported
            && !options.localNets.contains(where: { $0.contains(key.ip) })
        {
            bindings[slot].bogonReported = true
            var event = Event(kind: .bogon, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            events.append(event)
        }
        if observation.anomalies.contains(.ethernetSourceMismatch) || !observation.lint.isEmpty {
            reportFrameProblems(slot, observation: observation, mac: mac, time: time, linkSource: linkSource)
        }
    }

    /// Report takeovers whose windows have passed and split-brains that ended, as of `time` (live mode calls
    /// this when the wire is quiet).
    public mutating func advance(to time: Timestamp) {
        guard let deadline = nextDeadline, time >= deadline else { return }
        var next: Timestamp?
        var still: [Int] = []
        for slot in scheduled {
            if let due = bindings[slot].deadline, time >= due {
                _ = bindings[slot].expire(now: time, options: options, events: &events)
            }
            if let due = bindings[slot].deadline {
                still.append(slot)
                next = next.map { min($0, due) } ?? due
            } else {
                bindings[slot].isScheduled = false
            }
        }
        scheduled = still
        nextDeadline = next
    }

    /// End of input: report every takeover still waiting for its windows. Split-brains still in progress
    /// stay open (the summary shows them).
    public mutating func finish() {
        for slot in scheduled {
            _ = bindings[slot].expire(now: bindings[slot].lastSeen, options: options, events: &events, final: true)
            bindings[slot].isScheduled = false
        }
        scheduled.removeAll()
        nextDeadline = nil
    }

    // MARK: Helpers

    private mutating func schedule(_ slot: Int, _ deadline: Timestamp) {
        if !bindings[slot].isScheduled {
            bindings[slot].isScheduled = true
            scheduled.append(slot)
        }
        nextDeadline = nextDeadline.map { min($0, deadline) } ?? deadline
    }

    private func inScope(_ ip: IPAddress) -> Bool {
        for range in options.scope where range.contains(ip) { return true }
        return false
    }

    /// Broadcast senders never get a binding: remember the report in a side table keyed like a binding.
    private var reportedBroadcast: Set<BindingKey> = []

    private mutating func reportOnce(
        _ kind: Event.Kind, key: BindingKey, mac: MACAddress, time: Timestamp, observation: Observation
    ) {
        guard reportedBroadcast.insert(key).inserted else { return }
        var event = Event(kind: kind, time: time, key: key, mac: mac)
        event.frameKind = observation.kind
        events.append(event)
    }

    private mutating func reportFrameProblems(
        _ slot: Int, observation: Observation, mac: MACAddress, time: Timestamp, linkSource: MACAddress?
    ) {
        guard let claimant = bindings[slot].claimants.firstIndex(where: { $0.mac == mac }) else { return }
        let key = bindings[slot].key
        var reported = bindings[slot].claimants[claimant].reported
        if observation.anomalies.contains(.ethernetSourceMismatch) && reported & Claimant.reportedMismatch == 0 {
            reported |= Claimant.reportedMismatch
            var event = Event(kind: .ethernetMismatch, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            event.frameSource = linkSource
            events.append(event)
        }
        for (flag, _, _) in Observation.Lint.all where observation.lint.contains(flag) {
            guard reported & UInt16(flag.rawValue) == 0 else { continue }
            reported |= UInt16(flag.rawValue)
            var event = Event(kind: .lint, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            event.lint = flag
            events.append(event)
        }
        bindings[slot].claimants[claimant].reported = reported
    }
}

extension IPAddress {
    var isUnspecifiedAddress: Bool {
        switch self {
        case .v4(let v4): v4.isUnspecified
        case .v6(let v6): v6.isUnspecified
        }
    }
}
