import CPrefetch
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
    /// Addresses whose IP frames (the address as source) are claims, so that a capture begun after the last
    /// gratuitous ARP still finds the owner (issue 15 item 5). Only addresses named with `--ip`, `--net` or
    /// `--expect`: without a scope, every routed client address would become a "station" of the router's MAC.
    public var ipSourceScope: [IPRange] = []
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
    /// ARP probes and DAD NS (they claim nothing), garpwatch's own `--probe` requests included.
    public var probes = 0
    /// garpwatch's own `--probe` requests (issue 15 item 6: the summary said 0 probes after sending them; a
    /// packet socket does not capture what it sent itself).
    public var ownProbeRequests = 0
    /// ARP/NDP frames about addresses outside `--ip/--net/--range`.
    public var outOfScope = 0
    /// Frames about a new address refused because the table held `maxBindings` addresses already.
    public var refusedNewAddresses = 0
    /// Claims by frames other than ARP/NDP (IP frames from a followed address, VRRP adverts) that made a
    /// binding or moved it; the owner's further frames of these kinds are signs of life, not counted here.
    public var otherClaims = 0
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
    public var bindings: [Binding] { storage }
    private var storage: [Binding] = []
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
        // Room for the whole table at once: growing a big array by doubling briefly holds the old and the new
        // copy, twice the table (issue 15). Address space only: pages are touched as bindings arrive.
        storage.reserveCapacity(max(restored.count, min(options.maxBindings, Self.reservedBindingsLimit)))
        for binding in restored where index.find(binding.key, in: storage) == nil {
            storage.append(binding)
            refresh(storage.count - 1)
            index.insert(binding.key, at: storage.count - 1, in: storage)
        }
        events.reserveCapacity(16)
    }

    /// Most bindings reserved up front (`--max-bindings` allows 1,048,576; a library caller may pass more).
    static let reservedBindingsLimit = 1 << 20

    public func binding(for key: BindingKey) -> Binding? {
        guard let position = index.find(key, in: storage) else { return nil }
        return storage[position]
    }

    /// One `--probe` request sent (its frame is not captured back): counted with the probes in the summary.
    public mutating func countOwnProbeRequest() {
        counters.probes += 1
        counters.ownProbeRequests += 1
    }

    /// Hand the caller the events so far and clear them (keeping the storage).
    public mutating func takeEvents() -> [Event] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Account for one decoded frame captured at `time`. `bytes`, the frame, lets VRRP adverts count as a
    /// sign of life of the master.
    public mutating func process(_ packet: borrowing Packet, bytes: UnsafeRawBufferPointer? = nil, at time: Timestamp) {
        var frame = copy packet
        process(lent: &frame, bytes: bytes, at: time)
    }

    /// `process` for hot loops: the frame is taken `inout` (and left as it was) because a borrowed `Packet`,
    /// a large trivial value, was copied onto the stack (489 bytes) for every call.
    public mutating func process(lent packet: inout Packet, bytes: UnsafeRawBufferPointer? = nil, at time: Timestamp) {
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
            processARP(
                arp, vlans: VLANPath(packet.link.vlans), source: packet.link.source,
                toBroadcast: packet.link.destination?.isBroadcast == true, at: time)
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
        } else if let mac = packet.link.source {
            let vrrp = packet.transport.isVRRP
            if !storage.isEmpty || !options.ipSourceScope.isEmpty || vrrp {
                noteLife(&packet, bytes: bytes, mac: mac, at: time)
            }
        }
    }

    /// `process` for the commonest frame, a plain Ethernet II ARP frame captured whole, read straight from its
    /// bytes: the general decode (link layer, VLAN stack, network layer enum, the 489-byte `Packet`) was a
    /// third of garpwatch's instructions per frame on ARP-only input (callgrind: about 370 of 1,150 above the
    /// libpcap floor). Returns false, having done nothing, for any other frame (tagged, truncated, not ARP,
    /// not Ethernet/IPv4 ARP): the caller then decodes it and calls `process(lent:)`, so both paths see
    /// exactly the same ARP fields and anomalies (garpwatch's text and JSON output is byte-identical either way on
    /// every bundled and corpus capture; PlainARPPathTests compares the two paths' events and bindings).
    public mutating func processPlainARP(
        _ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int, at time: Timestamp
    ) -> Bool {
        guard linkType == .ethernet, bytes.count >= 42, originalLength <= bytes.count,
            bytes[12] == 0x08, bytes[13] == 0x06
        else { return false }
        var cursor = Cursor(bytes, origin: 0, layer: .link)
        let arp: ARPPacket
        let source: MACAddress
        let toBroadcast: Bool
        do throws(ParseError) {
            let header = try cursor.readHeader(14)
            source = header.mac(6)
            toBroadcast = header.mac(0).isBroadcast
            var parsed = try ARPPacket(parsing: &cursor)
            if source != parsed.senderMAC { parsed.anomalies.insert(.ethernetSourceMismatch) }
            arp = parsed
        } catch {
            return false
        }
        counters.frames += 1
        if let nextDeadline, time >= nextDeadline { advance(to: time) }
        processARP(arp, vlans: VLANPath(rawValue: 0), source: source, toBroadcast: toBroadcast, at: time)
        return true
    }

    @inline(__always)
    private mutating func processARP(
        _ arp: ARPPacket, vlans: VLANPath, source: MACAddress?, toBroadcast: Bool, at time: Timestamp
    ) {
        let observation = Observation(arp: arp, vlans: vlans)
        index.prefetch(observation.key)
        if observation.kind == .arpRequest || observation.kind == .arpProbe, toBroadcast,
            let target = observation.targetIP
        {
            // An ARP probe (`garpwatch --probe`, RFC 5227) asks from 0.0.0.0, and the reply goes back to it.
            let requester =
                observation.kind == .arpProbe ? IPAddress.v4(IPv4Address(rawValue: 0)) : observation.key.ip
            // The sender's binding starts loading now, so its miss overlaps the question cache's in `ask`
            // instead of stalling `observe` (perf: that load was 40 % of observe's samples).
            index.prefetchBinding(observation.key, in: storage)
            ask(BindingKey(vlans: observation.key.vlans, ip: target), from: requester, at: time)
        }
        observe(observation, at: time, linkSource: source)
    }

    /// Signs of life that claim nothing: a frame with a tracked address as source from its owner's MAC (a
    /// reply to a client), and VRRP adverts listing tracked addresses. They bound a takeover's gap better
    /// than the old owner's last ARP frame, which may be seconds older than its last reply.
    private mutating func noteLife(_ packet: inout Packet, bytes: UnsafeRawBufferPointer?, mac: MACAddress,
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
                    let key = BindingKey(vlans: vlans, ip: address)
                    guard let slot = index.find(key, in: storage) else {
                        // An address seen only in VRRP adverts is still owned by the master that lists it.
                        if advert.priority > 0 { observe(Observation(claim: .vrrpAdvert, key: key, mac: mac), at: time) }
                        continue
                    }
                    if storage[slot].vrrpOnly, advert.priority > 0, storage[slot].owner != mac {
                        // No ARP/NDP for it: the adverts are all there is to follow the master by.
                        observe(Observation(claim: .vrrpAdvert, key: key, mac: mac), at: time)
                    }
                    let wasInConflict = storage[slot].conflict != nil
                    storage[slot].live(mac, evidence: evidence, reply: false, at: time)
                    if advert.priority > 0 {
                        storage[slot].advertised(by: mac, at: time, options: options, events: &events)
                    } else {
                        storage[slot].released(by: mac)
                    }
                    count(wasInConflict, slot)
                    refresh(slot)
                }
            }
            return
        }
        guard let slot = index.find(BindingKey(vlans: vlans, ip: source), in: storage) else {
            if !options.ipSourceScope.isEmpty, options.ipSourceScope.contains(where: { $0.contains(source) }) {
                observe(Observation(claim: .ipSource, key: BindingKey(vlans: vlans, ip: source), mac: mac), at: time)
            }
            return
        }
        if storage[slot].owner == mac {
            storage[slot].live(mac, evidence: .ipSource, reply: true, at: time)
        } else if options.ipSourceScope.contains(where: { $0.contains(source) }) {
            // Another MAC answers from a followed address: the owner changed, even with no announcement seen.
            observe(Observation(claim: .ipSource, key: BindingKey(vlans: vlans, ip: source), mac: mac), at: time)
            storage[slot].live(mac, evidence: .ipSource, reply: true, at: time)
        }
    }

    /// Account for one frame's binding facts (what `process` does after decoding).
    /// `answering`: for a solicited NA, the address it answers (its destination); ARP replies carry theirs.
    public mutating func observe(
        _ observation: Observation, at time: Timestamp, linkSource: MACAddress? = nil, answering: IPAddress? = nil
    ) {
        let answered = observation.kind == .arpReply ? observation.targetIP : answering
        if !observation.isNeighborProtocol {
            counters.otherClaims += 1
        } else if observation.hopLimit == nil {
            counters.arp += 1
        } else {
            counters.ndp += 1
        }
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

        var metalLBRound = false
        // A reply: does it make a second MAC answering one broadcast who-has?
        // The binding first, so that its cache miss overlaps the question cache's.
        let found = index.find(key, in: storage)
        if let found { storage.withUnsafeBufferPointer { if let base = $0.baseAddress { vipscope_prefetch(base + found) } } }
        let twoOwners = answered.flatMap { questions.answer(key, from: mac, to: $0, at: time) }
        let slot: Int
        if let existing = found {
            slot = existing
            if twoOwners == nil && storage[slot].isQuiet && storage[slot].owner == mac
                && observation.kind != .gratuitousRequest && observation.lint.isEmpty
                && !observation.anomalies.contains(.ethernetSourceMismatch)
            {
                // The usual frame: the owner again, nothing pending. Same effect as `claim`, counted here. (A
                // gratuitous request goes through `claim`, which remembers it for `isMetalLBReply`.)
                storage[slot].countOwnerFrame(at: time, gratuitous: observation.kind.isGratuitous)
                return
            }
            metalLBRound = isMetalLBReply(observation, mac: mac, slot: slot, at: time)
            if observation.isNeighborProtocol { storage[slot].vrrpOnly = false }
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
            storage[slot].vrrpOnly = observation.kind == .vrrpAdvert
            index.insert(key, at: slot, in: storage)
            if observation.kind == .gratuitousRequest {
                storage[slot].lastGratuitousRequest = SignOfLife(time: time, evidence: .claim)
                storage[slot].lastGratuitousRequestMAC = mac
            }
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
            reportFrameProblems(
                slot, observation: observation, mac: mac, time: time, linkSource: linkSource, metalLBRound: metalLBRound)
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

    /// The earliest new-owner frame of a takeover not yet reported: that takeover's line will carry this time,
    /// so output in time order holds back every event after it (issue 15 item 6). Nil when none is waiting.
    public var unreportedTakeoverSince: Timestamp? {
        var earliest: Timestamp?
        for slot in scheduled {
            if let first = storage[slot].pending?.takeover.newFirst { earliest = earliest.map { min($0, first) } ?? first }
        }
        return earliest
    }

    /// End of input: report every takeover still waiting for its windows. Split-brains still in progress
    /// stay open (the summary shows them).
    public mutating func finish() {
        for slot in scheduled {
            _ = storage[slot].expire(now: storage[slot].lastSeen, options: options, events: &events, final: true)
            storage[slot].isScheduled = false
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

    /// Broadcast who-has requests forgotten before their reply window ended (more than `QuestionCache.ways`
    /// open at once in one set): two answers to them could not be compared. Reported in the summary.
    public var evictedQuestions: Int { questions.evictedOpen }

    /// A broadcast who-has (ARP request or probe to ff:ff:ff:ff:ff:ff, NS to the solicited-node group) for
    /// `key` from `requester`: noted in `questions`, so two owners answering it show; and, during a split-brain
    /// of that address, in its binding too, so one owner answering it alone ends the split-brain.
    private mutating func ask(_ key: BindingKey, from requester: IPAddress, at time: Timestamp) {
        guard options.scope.isEmpty || inScope(key.ip) else { return }
        questions.ask(key, from: requester, at: time, closes: time.adding(nanoseconds: options.replyWindow))
        guard openConflicts > 0, let slot = index.find(key, in: storage), storage[slot].conflict != nil else { return }
        storage[slot].ask(from: requester, at: time, options: options, events: &events)
        count(true, slot)
        if let deadline = storage[slot].deadline { schedule(slot, deadline) }
        refresh(slot)
    }

    /// After the binding changed: its owner, and whether an owner frame may take the counting shortcut.
    private mutating func refresh(_ slot: Int) {
        let binding = storage[slot]
        storage[slot].isQuiet = binding.deadline == nil && binding.pending == nil && binding.conflict == nil
            && binding.question == nil && !binding.vrrpOnly
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

    /// Broadcast senders never get a binding: remember the report in a side table keyed like a binding, bounded
    /// like the bindings (`maxBindings`): past it, frames about further such addresses are counted as refused
    /// new addresses (the summary reports them), never remembered (a flood of unique IPs would grow it forever).
    private var reportedBroadcast: Set<BindingKey> = []

    private mutating func reportOnce(
        _ kind: Event.Kind, key: BindingKey, mac: MACAddress, time: Timestamp, observation: Observation
    ) {
        guard !reportedBroadcast.contains(key) else { return }
        guard reportedBroadcast.count < options.maxBindings else {
            counters.refusedNewAddresses += 1
            return
        }
        reportedBroadcast.insert(key)
        var event = Event(kind: kind, time: time, key: key, mac: mac)
        event.frameKind = observation.kind
        events.append(event)
    }

    /// MetalLB's healthy announcement (issue 15 item 7): each round is a gratuitous ARP request and a gratuitous
    /// reply, both with target MAC ff:ff:ff:ff:ff:ff. Linux ignores the reply (its target MAC is not the
    /// sender's) but takes the request, so the pair misleads no kernel: this reply is one, when the same MAC's
    /// gratuitous request came within the round gap before it. A gratuitous request
    /// never takes the counting shortcut, so the last one is always in the binding.
    private func isMetalLBReply(_ observation: Observation, mac: MACAddress, slot: Int, at time: Timestamp) -> Bool {
        guard observation.lint.contains(.gratuitousReplyForeignTarget), observation.broadcastTarget else {
            return false
        }
        guard let request = storage[slot].lastGratuitousRequest, storage[slot].lastGratuitousRequestMAC == mac else {
            return false
        }
        return within(request.time, time, options.roundGap)
    }

    private mutating func reportFrameProblems(
        _ slot: Int, observation: Observation, mac: MACAddress, time: Timestamp, linkSource: MACAddress?,
        metalLBRound: Bool = false
    ) {
        guard var reported = storage[slot].reportedFlags(of: mac) else { return }
        let key = storage[slot].key
        var lint = observation.lint
        if metalLBRound {
            lint.remove(.gratuitousReplyForeignTarget)
            if reported & Claimant.reportedMetalLBStyle == 0 {
                reported |= Claimant.reportedMetalLBStyle
                var event = Event(kind: .metalLBStyle, time: time, key: key, mac: mac)
                event.frameKind = observation.kind
                events.append(event)
            }
        }
        if observation.anomalies.contains(.ethernetSourceMismatch) && reported & Claimant.reportedMismatch == 0 {
            reported |= Claimant.reportedMismatch
            var event = Event(kind: .ethernetMismatch, time: time, key: key, mac: mac)
            event.frameKind = observation.kind
            event.frameSource = linkSource
            events.append(event)
        }
        for (flag, _, _) in Observation.Lint.all where lint.contains(flag) {
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
