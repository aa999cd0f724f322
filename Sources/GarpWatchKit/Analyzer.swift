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
    /// Replies this long after a broadcast who-has answer it (Linux answers within milliseconds).
    public var replyWindow: Int64 = 1_000_000_000
    /// Follow only these addresses (empty: all).
    public var scope: [IPRange] = []
    /// Report addresses outside all of these as bogons (empty: no bogon check).
    public var localNets: [IPPrefix] = []
    /// Most addresses tracked at once (`--max-bindings`). A flood of unique sender IPs (a scan, a spoofing
    /// tool, a broken host) cannot grow memory past this: frames about further new addresses are counted in
    /// `FrameCounters.refusedNewAddresses` and reported, never silently lost. 65,536 is a /16 of stations.
    public var maxBindings = 65_536

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
    /// Frames about a new address refused because the table held `maxBindings` addresses already.
    public var refusedNewAddresses = 0
}

/// The binding table and everything derived from it. Feed it every decoded frame in capture order with
/// `process(_:at:)`, take the events it appends to `events`, and call `finish()` at the end.
///
/// The per-frame path allocates nothing: bindings are found through `BindingIndex`, the usual frame (from
/// the current owner) only updates scalars of its binding, and text is only built when an event fires (by
/// the renderer, not here).
public struct Analyzer: Sendable {
    public let options: AnalyzerOptions
    /// Every binding, in order of first appearance.
    public var bindings: [Binding] {
        guard hot.contains(where: { $0.frames > 0 }) else { return storage }
        var list = storage
        for position in list.indices { Self.fold(hot[position], into: &list[position]) }
        return list
    }
    /// The bindings, except for owner frames still counted in `hot` (see `HotBinding`).
    private var storage: [Binding] = []
    /// One record per binding, same positions as `storage`: what the usual frame reads and counts.
    private var hot: [HotBinding] = []
    public private(set) var counters = FrameCounters()
    /// Events not yet taken by the caller (see `takeEvents()`).
    public var events: [Event] = []
    private var index = BindingIndex()
    /// Bindings with a pending takeover or a split-brain in progress.
    private var scheduled: [Int] = []
    private var nextDeadline: Timestamp?

    public init(options: AnalyzerOptions = AnalyzerOptions(), restoring restored: [Binding] = []) {
        self.options = options
        index = BindingIndex(minimumCapacity: restored.count)
        for binding in restored where index.find(binding.key, in: hot) == nil {
            storage.append(binding)
            hot.append(HotBinding(key: binding.key, owner: binding.owner, lastSeen: binding.lastSeen, isQuiet: false))
            refresh(storage.count - 1)
            index.insert(binding.key, at: storage.count - 1, in: hot)
        }
        events.reserveCapacity(16)
    }

    public func binding(for key: BindingKey) -> Binding? {
        guard let position = index.find(key, in: hot) else { return nil }
        var binding = storage[position]
        Self.fold(hot[position], into: &binding)
        return binding
    }

    /// Hand the caller the events so far and clear them (keeping the storage).
    public mutating func takeEvents() -> [Event] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Account for one decoded frame captured at `time`. `bytes`, the frame, lets VRRP adverts count as a
    /// sign of life of the master.
    public mutating func process(_ packet: borrowing Packet, bytes: UnsafeRawBufferPointer? = nil, at time: Timestamp) {
        counters.frames += 1
        if let kind = packet.issue?.kind {
            switch kind {
            case .truncated: counters.truncated += 1
            case .malformed: counters.malformed += 1
            case .unsupported: counters.unsupported += 1
            }
        }
        if let nextDeadline, time >= nextDeadline { advance(to: time) }
        // Only the ARP fields are read (not a copy of the whole layer enum): the benchmark's frames are ARP.
        if case .arp(let arp) = packet.network {
            let observation = Observation(arp: arp, vlans: VLANPath(packet.link.vlans))
            if observation.kind == .arpRequest || observation.kind == .arpProbe,
                packet.link.destination?.isBroadcast == true, let target = observation.targetIP
            {
                // An ARP probe (`garpwatch --probe`, RFC 5227) asks from 0.0.0.0, and the reply goes back to it.
                let requester =
                    observation.kind == .arpProbe ? IPAddress.v4(IPv4Address(rawValue: 0)) : observation.key.ip
                ask(BindingKey(vlans: observation.key.vlans, ip: target), from: requester, at: time)
            }
            observe(observation, at: time, linkSource: packet.link.source)
        } else if let observation = Observation.of(copy packet) {
            // IPv6: an NS to the solicited-node group is the broadcast who-has; a solicited NA answers the NS's
            // source, which is the NA's destination.
            var requester: IPAddress?
            if case .ipv6(let header) = packet.network {
                if observation.kind == .neighborSolicitation, packet.link.destination?.isMulticast == true,
                    let target = observation.targetIP
                {
                    ask(BindingKey(vlans: observation.key.vlans, ip: target), from: .v6(header.source), at: time)
                } else if observation.kind == .solicitedNA {
                    requester = .v6(header.destination)
                }
            }
            observe(observation, at: time, linkSource: packet.link.source, answering: requester)
        } else if !storage.isEmpty, let mac = packet.link.source {
            noteLife(packet, bytes: bytes, mac: mac, at: time)
        }
    }

    /// Signs of life that claim nothing: a frame with a tracked address as source from its owner's MAC (a
    /// reply to a client), and VRRP adverts listing tracked addresses. They bound a takeover's gap better
    /// than the old owner's last ARP frame, which may be seconds older than its last reply.
    private mutating func noteLife(_ packet: borrowing Packet, bytes: UnsafeRawBufferPointer?, mac: MACAddress,
                                   at time: Timestamp) {
        let vlans = VLANPath(packet.link.vlans)
        let source: IPAddress
        let isIPv6: Bool
        switch packet.network {
        case .ipv4(let header):
            source = .v4(header.source)
            isIPv6 = false
        case .ipv6(let header):
            source = .v6(header.source)
            isIPv6 = true
        default:
            return
        }
        if case .other(let protocolNumber) = packet.transport, protocolNumber.rawValue == 112, let bytes,
            packet.payload.upperBound <= bytes.count
        {
            var cursor = Cursor(
                UnsafeRawBufferPointer(rebasing: bytes[packet.payload]), origin: packet.payload.lowerBound)
            if let advert = VRRPAdvert(parsing: &cursor, ipv6: isIPv6) {
                let evidence: Takeover.Evidence = advert.priority == 0 ? .vrrpRelease : .vrrpAdvert
                for address in advert.addresses {
                    guard let slot = index.find(BindingKey(vlans: vlans, ip: address), in: hot) else { continue }
                    fold(slot)
                    storage[slot].live(mac, evidence: evidence, reply: false, at: time)
                }
            }
            return
        }
        guard let slot = index.find(BindingKey(vlans: vlans, ip: source), in: hot), hot[slot].owner == mac else {
            return
        }
        storage[slot].live(mac, evidence: .ipSource, reply: true, at: time)
    }

    /// Account for one frame's binding facts (what `process` does after decoding).
    /// `answering`: for a solicited NA, the address it answers (its destination); ARP replies carry theirs.
    public mutating func observe(
        _ observation: Observation, at time: Timestamp, linkSource: MACAddress? = nil, answering: IPAddress? = nil
    ) {
        let answered = observation.kind == .arpReply ? observation.targetIP : answering
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

        // A reply: does it make a second MAC answering one broadcast who-has?
        let twoOwners = answered.flatMap { questions.answer(key, from: mac, to: $0, at: time) }
        let slot: Int
        if let existing = index.find(key, in: hot) {
            slot = existing
            if twoOwners == nil && hot[slot].isQuiet && hot[slot].owner == mac && hot[slot].frames < HotBinding.foldLimit
                && observation.lint.isEmpty && !observation.anomalies.contains(.ethernetSourceMismatch)
            {
                // The usual frame: the owner again, nothing pending. Same effect as `claim`, counted here.
                hot[slot].frames += 1
                if observation.kind.isGratuitous { hot[slot].gratuitous += 1 }
                if time > hot[slot].lastSeen { hot[slot].lastSeen = time }
                return
            }
            fold(slot)
            let wasInConflict = storage[slot].conflict != nil
            storage[slot].dropQuestion(ifOverAt: time, events: &events)
            storage[slot].claim(mac: mac, kind: observation.kind, time: time, options: options, events: &events)
            if let twoOwners, let answered {
                storage[slot].startSplitBrain(
                    answers: [twoOwners.first, mac], requester: answered, asked: twoOwners.asked, at: time,
                    events: &events)
            }
            if storage[slot].question != nil, let answered {
                storage[slot].answer(from: mac, to: answered, at: time, events: &events)
            }
            if wasInConflict || storage[slot].conflict != nil { count(wasInConflict, slot) }
        } else {
            guard storage.count < options.maxBindings else {
                counters.refusedNewAddresses += 1
                return
            }
            slot = storage.count
            storage.append(Binding(key: key, mac: mac, time: time, gratuitous: observation.kind.isGratuitous))
            hot.append(HotBinding(key: key, owner: mac, lastSeen: time, isQuiet: false))
            index.insert(key, at: slot, in: hot)
            var event = Event(kind: .newStation, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            events.append(event)
        }
        if let deadline = storage[slot].deadline {
            schedule(slot, deadline)
        }
        if !options.localNets.isEmpty && !storage[slot].bogonReported
            && !options.localNets.contains(where: { $0.contains(key.ip) })
        {
            storage[slot].bogonReported = true
            var event = Event(kind: .bogon, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            events.append(event)
        }
        if observation.anomalies.contains(.ethernetSourceMismatch) || !observation.lint.isEmpty {
            reportFrameProblems(slot, observation: observation, mac: mac, time: time, linkSource: linkSource)
        }
        refresh(slot)
    }

    /// Report takeovers whose windows have passed and split-brains that ended, as of `time` (live mode calls
    /// this when the wire is quiet).
    public mutating func advance(to time: Timestamp) {
        guard let deadline = nextDeadline, time >= deadline else { return }
        var next: Timestamp?
        var still: [Int] = []
        for slot in scheduled {
            if let due = storage[slot].deadline, time >= due {
                fold(slot)
                let wasInConflict = storage[slot].conflict != nil
                _ = storage[slot].expire(now: time, options: options, events: &events)
                count(wasInConflict, slot)
            }
            if let due = storage[slot].deadline {
                still.append(slot)
                next = next.map { min($0, due) } ?? due
            } else {
                storage[slot].isScheduled = false
                refresh(slot)
            }
        }
        scheduled = still
        nextDeadline = next
    }

    /// End of input: report every takeover still waiting for its windows. Split-brains still in progress
    /// stay open (the summary shows them).
    public mutating func finish() {
        for slot in scheduled {
            fold(slot)
            _ = storage[slot].expire(now: storage[slot].lastSeen, options: options, events: &events, final: true)
            storage[slot].isScheduled = false
        }
        for slot in storage.indices {
            fold(slot)
            refresh(slot)
        }
        scheduled.removeAll()
        nextDeadline = nil
    }

    // MARK: Helpers

    /// Bindings with a split-brain in progress: while there are none, who-has requests cost nothing extra.
    private var openConflicts = 0

    private mutating func count(_ wasInConflict: Bool, _ slot: Int) {
        let isInConflict = storage[slot].conflict != nil
        if isInConflict && !wasInConflict { openConflicts += 1 }
        if wasInConflict && !isInConflict { openConflicts -= 1 }
    }

    /// The recent broadcast who-has requests and their first answerer.
    private var questions = QuestionCache()

    /// A broadcast who-has (ARP request or probe to ff:ff:ff:ff:ff:ff, NS to the solicited-node group) for
    /// `key` from `requester`: noted in `questions`, so two owners answering it show; and, during a split-brain
    /// of that address, in its binding too, so one owner answering it alone ends the split-brain.
    private mutating func ask(_ key: BindingKey, from requester: IPAddress, at time: Timestamp) {
        guard options.scope.isEmpty || inScope(key.ip) else { return }
        questions.ask(key, from: requester, at: time, closes: time.adding(nanoseconds: options.replyWindow))
        guard openConflicts > 0, let slot = index.find(key, in: hot), storage[slot].conflict != nil else { return }
        fold(slot)
        storage[slot].ask(from: requester, at: time, options: options, events: &events)
        count(true, slot)
        if let deadline = storage[slot].deadline { schedule(slot, deadline) }
        refresh(slot)
    }

    /// Move the owner frames counted in `hot` into the binding.
    private mutating func fold(_ slot: Int) {
        guard hot[slot].frames > 0 else { return }
        Self.fold(hot[slot], into: &storage[slot])
        hot[slot].frames = 0
        hot[slot].gratuitous = 0
    }

    private static func fold(_ record: HotBinding, into binding: inout Binding) {
        guard record.frames > 0 else { return }
        let frames = Int(record.frames)
        let gratuitous = Int(record.gratuitous)
        binding.frames += frames
        binding.gratuitous += gratuitous
        if record.lastSeen > binding.lastSeen { binding.lastSeen = record.lastSeen }
        binding.current.frames += frames
        binding.current.gratuitous += gratuitous
        if record.lastSeen > binding.current.lastSeen { binding.current.lastSeen = record.lastSeen }
    }

    /// After the binding changed: its owner, and whether an owner frame may take the counting shortcut.
    private mutating func refresh(_ slot: Int) {
        let binding = storage[slot]
        hot[slot].owner = binding.owner
        hot[slot].isQuiet = binding.deadline == nil && binding.pending == nil && binding.conflict == nil
            && binding.question == nil
            && (options.localNets.isEmpty || binding.bogonReported)
    }

    private mutating func schedule(_ slot: Int, _ deadline: Timestamp) {
        if !storage[slot].isScheduled {
            storage[slot].isScheduled = true
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
        guard var reported = storage[slot].reportedFlags(of: mac) else { return }
        let key = storage[slot].key
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
        storage[slot].setReportedFlags(reported, of: mac)
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
