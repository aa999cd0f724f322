import PacketCore

/// One MAC that has claimed an address.
public struct Claimant: Sendable, Hashable {
    public var mac: MACAddress
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    /// Frames in this run (0 for a claimant known only from the state file).
    public var frames: Int
    public var gratuitous: Int
    /// Report-once flags: lint bits in the low byte, then ethernet-mismatch.
    var reported: UInt16 = 0

    static let reportedMismatch: UInt16 = 1 << 8
    /// `metallb-style` was said for this MAC.
    static let reportedMetalLBStyle: UInt16 = 1 << 9
}

/// A takeover waiting for its burst and conflict windows to pass before it is reported.
struct PendingTakeover: Sendable, Hashable {
    var oldOwner: MACAddress
    var newOwner: MACAddress
    var takeover: Takeover
    var deadline: Timestamp
}

/// Everything known about one address on one VLAN path.
///
/// A binding costs its bytes once per tracked address (up to a million with `--max-bindings`), so it is kept
/// small (issue 15: about 1.4 KB of memory per address before, 128 bytes here): the fields every frame reads
/// are stored inline, and everything an address only needs once it has seen a second MAC, a takeover window,
/// a split-brain, a VRRP advert or a gratuitous request lives in `BindingDetail`, allocated out of line the
/// first time it is written (`detail`). Until then the binding has one claimant, its owner since the first
/// frame, whose record is the binding's own counters (`current`). The usual address never needs the detail.
public struct Binding: Sendable, Hashable {
    // The fields every frame touches come first, together: the bindings array is walked in random order,
    // so each frame pays a cache miss per cache line of its binding it reads.
    public var key: BindingKey
    private var flags: Flags = []
    /// The owner's report-once flags while there is no detail (then in `detail.current`).
    private var ownerReported: UInt16 = 0
    /// The MAC that claimed the address last.
    public internal(set) var owner: MACAddress
    /// Claiming frames in this run.
    public internal(set) var frames = 0
    public internal(set) var gratuitous = 0
    public internal(set) var lastSeen: Timestamp
    public internal(set) var firstSeen: Timestamp
    /// Nil until something beyond one owner's counters happens (see `detail`).
    private var box: DetailBox?
    /// The current owner's latest sign of life other than a claim (IP frame with the address as source, VRRP
    /// advert); claims are in `current.lastSeen`. Inline: every station that talks IP has one.
    var ownerLife: SignOfLife?
    /// The current owner's last frame with the address as source (a reply to a client).
    var ownerLastReply: Timestamp?

    static let historyLimit = 8

    init(key: BindingKey, mac: MACAddress, time: Timestamp, gratuitous: Bool) {
        self.key = key
        owner = mac
        firstSeen = time
        lastSeen = time
        frames = 1
        self.gratuitous = gratuitous ? 1 : 0
    }

    /// A binding restored from a state file: its history, no frames in this run.
    init(restoring key: BindingKey, owner: MACAddress, previousOwner: MACAddress?, firstSeen: Timestamp,
         lastSeen: Timestamp, claimants: [Claimant]) {
        self.key = key
        self.owner = owner
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        frames = 0
        var claimants = claimants
        if !claimants.contains(where: { $0.mac == owner }) {
            claimants.append(Claimant(mac: owner, firstSeen: firstSeen, lastSeen: lastSeen, frames: 0, gratuitous: 0))
        }
        var history = Array(claimants.prefix(Self.historyLimit))
        if !history.contains(where: { $0.mac == owner }) {
            // More than `historyLimit` claimants and the owner beyond them: keep the owner.
            history[history.count - 1] = claimants.first { $0.mac == owner } ?? history[history.count - 1]
        }
        let ownerSlot = history.firstIndex { $0.mac == owner } ?? 0
        var detail = BindingDetail(current: history[ownerSlot], ownerSince: lastSeen, history: history)
        detail.ownerSlot = ownerSlot
        detail.previousOwner = previousOwner
        box = DetailBox(detail)
    }

    // MARK: Inline flags

    private struct Flags: OptionSet, Sendable, Hashable {
        let rawValue: UInt8
        static let scheduled = Flags(rawValue: 1 << 0)
        static let bogonReported = Flags(rawValue: 1 << 1)
        static let vrrpOnly = Flags(rawValue: 1 << 2)
        static let quiet = Flags(rawValue: 1 << 3)
    }

    private func flag(_ flag: Flags) -> Bool { flags.contains(flag) }
    private mutating func set(_ flag: Flags, _ on: Bool) {
        if on { flags.insert(flag) } else { flags.remove(flag) }
    }

    var isScheduled: Bool {
        get { flag(.scheduled) }
        set { set(.scheduled, newValue) }
    }
    var bogonReported: Bool {
        get { flag(.bogonReported) }
        set { set(.bogonReported, newValue) }
    }
    /// Known only from VRRP adverts so far (no ARP/NDP claim): a new master's advert is then its claim.
    var vrrpOnly: Bool {
        get { flag(.vrrpOnly) }
        set { set(.vrrpOnly, newValue) }
    }
    /// Nothing pending (no takeover window, no split-brain, no bogon check to make): an owner frame changes
    /// nothing but the counters (`countOwnerFrame`). Kept by the analyzer (`Analyzer.refresh`).
    var isQuiet: Bool {
        get { flag(.quiet) }
        set { set(.quiet, newValue) }
    }

    // MARK: The detail

    /// The out-of-line state, created on first write from what the inline fields imply (one claimant, the
    /// owner since the first frame). Reading a binding without one allocates nothing: the accessors below
    /// give the defaults.
    var detail: BindingDetail {
        get { box?.value ?? BindingDetail(implied: self) }
        _modify {
            var storage = box ?? DetailBox(BindingDetail(implied: self))
            box = nil  // so that `storage` holds the only reference unless the binding was copied
            defer { box = storage }
            yield &storage.value
        }
    }

    /// Give the binding its detail now (what the inline fields imply), before they change.
    mutating func materializeDetail() {
        if box == nil { box = DetailBox(BindingDetail(implied: self)) }
    }

    /// The detail, if the binding has one (the renderer walks the history only then).
    var existingDetail: BindingDetail? { box?.value }

    /// The current owner's claimant record. Without a detail it is the binding's own counters.
    var current: Claimant {
        get {
            box?.value.current
                ?? Claimant(mac: owner, firstSeen: firstSeen, lastSeen: lastSeen, frames: frames, gratuitous: gratuitous,
                            reported: ownerReported)
        }
        set {
            detail.current = newValue
            owner = newValue.mac
        }
    }
    public internal(set) var ownerSince: Timestamp {
        get { box?.value.ownerSince ?? firstSeen }
        set { detail.ownerSince = newValue }
    }
    public internal(set) var previousOwner: MACAddress? {
        get { box?.value.previousOwner }
        set { if box != nil || newValue != nil { detail.previousOwner = newValue } }
    }
    public internal(set) var takeovers: Int {
        get { box?.value.takeovers ?? 0 }
        set { detail.takeovers = newValue }
    }
    /// Split-brain episodes (started in this run).
    public internal(set) var conflicts: Int {
        get { box?.value.conflicts ?? 0 }
        set { detail.conflicts = newValue }
    }
    /// The split-brain in progress, if any.
    public internal(set) var conflict: Conflict? {
        get { box?.value.conflict }
        set { if box != nil || newValue != nil { detail.conflict = newValue } }
    }
    /// The claimant list, except that the owner's entry (at `ownerSlot`) is stale while it owns the address:
    /// its live record is `current`. Allocates for a binding without a detail: only the slow paths read it.
    var history: [Claimant] {
        get { box?.value.history ?? [current] }
        set { detail.history = newValue }
    }
    var ownerSlot: Int {
        get { box?.value.ownerSlot ?? 0 }
        set { if box != nil || newValue != 0 { detail.ownerSlot = newValue } }
    }
    /// When the binding next needs `expire(now:)`.
    var deadline: Timestamp? {
        get { box?.value.deadline }
        set { if box != nil || newValue != nil { detail.deadline = newValue } }
    }
    var pending: PendingTakeover? {
        get { box?.value.pending }
        set { if box != nil || newValue != nil { detail.pending = newValue } }
    }
    var question: Question? {
        get { box?.value.question }
        set { if box != nil || newValue != nil { detail.question = newValue } }
    }
    var lastGratuitousRequest: SignOfLife? {
        get { box?.value.lastGratuitousRequest }
        set { if box != nil || newValue != nil { detail.lastGratuitousRequest = newValue } }
    }
    var lastGratuitousRequestMAC: MACAddress {
        get { box?.value.lastGratuitousRequestMAC ?? MACAddress(rawValue: 0) }
        set { if box != nil || newValue.rawValue != 0 { detail.lastGratuitousRequestMAC = newValue } }
    }
    var masters: [VRRPMaster] {
        get { box?.value.masters ?? [] }
        set { if box != nil || !newValue.isEmpty { detail.masters = newValue } }
    }

    /// Every MAC seen for the address (at most `historyLimit`), the current owner at index `ownerSlot`.
    public var claimants: [Claimant] {
        guard let detail = box?.value else { return [current] }
        var list = detail.history
        list[detail.ownerSlot] = detail.current
        return list
    }

    /// One more frame from the current owner.
    @inline(__always)
    mutating func countOwnerFrame(at time: Timestamp, gratuitous isGratuitous: Bool) {
        frames += 1
        if time > lastSeen { lastSeen = time }
        if isGratuitous { gratuitous += 1 }
        // Without a detail the owner's record is these counters.
        if box != nil { detail.current.touch(time, gratuitous: isGratuitous) }
    }

    /// MACs that claimed the address in this run.
    public var activeClaimants: [Claimant] { claimants.filter { $0.frames > 0 } }

    /// A takeover seen but not yet reported (its windows have not passed).
    public var pendingTakeover: Takeover? { pending?.takeover }

    /// Record one claiming frame; events go to `events`.
    @inline(__always)
    mutating func claim(
        mac: MACAddress, kind: Observation.Kind, time: Timestamp, options: AnalyzerOptions, events: inout [Event]
    ) {
        let isGratuitous = kind.isGratuitous
        if kind == .gratuitousRequest {
            lastGratuitousRequest = SignOfLife(time: time, evidence: .claim)
            lastGratuitousRequestMAC = mac
        }
        if mac == owner {
            countOwnerFrame(at: time, gratuitous: isGratuitous)
            if isGratuitous, let first = pending?.takeover.newFirst, time.nanoseconds(since: first) <= options.burstWindow {
                pending?.takeover.burst.add(time, roundGap: options.roundGap)
            }
            return
        }
        // Another MAC: the owner's record moves into the history, so it must stop being the binding's own
        // counters before they count this frame.
        materializeDetail()
        frames += 1
        if time > lastSeen { lastSeen = time }
        if isGratuitous { gratuitous += 1 }
        changeOwner(to: mac, kind: kind, time: time, isGratuitous: isGratuitous, options: options, events: &events)
    }

    private mutating func changeOwner(
        to mac: MACAddress, kind: Observation.Kind, time: Timestamp, isGratuitous: Bool, options: AnalyzerOptions,
        events: inout [Event]
    ) {
        history[ownerSlot] = current
        let slot = history.firstIndex { $0.mac == mac }
        let oldOwner = owner
        var oldLast = current.lastSeen
        var oldEvidence = Takeover.Evidence.claim
        if let life = ownerLife, life.time > oldLast {
            oldLast = life.time
            oldEvidence = life.evidence
        }
        let oldLastReply = ownerLastReply
        ownerLife = nil
        ownerLastReply = nil
        let oldFrames = current.frames
        var moved = Event(
            kind: slot == nil ? .changedEthernetAddress : (mac == previousOwner ? .flipFlop : .reusedOldEthernetAddress),
            time: time, key: key, mac: mac)
        moved.oldMAC = oldOwner
        moved.frameKind = kind
        events.append(moved)

        let window = options.conflictWindow
        // Interleaving: this MAC claimed the address within the window, then the current owner did, and now
        // this MAC again. A clean handover never goes back.
        let interleaves = slot.map { within(history[$0].lastSeen, time, window) } ?? false
        if conflict != nil {
            conflict?.flips += 1
            conflict?.lastFlip = time
            if conflict?.macs.contains(mac) == false { conflict?.macs.append(mac) }
        } else if interleaves && within(oldLast, time, window) {
            // The takeover that looked clean was not: it is part of the split-brain.
            let started = pending?.takeover.newFirst ?? slot.map { history[$0].lastSeen } ?? time
            pending = nil
            var macs = history.filter { within($0.lastSeen, time, window) }.sorted { $0.firstSeen < $1.firstSeen }
                .map(\.mac)
            if !macs.contains(mac) { macs.append(mac) }
            conflict = Conflict(macs: macs, started: min(started, time), lastFlip: time, flips: 1)
            conflicts += 1
            var event = Event(kind: .splitBrain, time: time, key: key, mac: mac)
            event.oldMAC = oldOwner
            event.conflict = conflict
            events.append(event)
            deadline = question?.closes
        } else {
            if let previous = pending {
                report(previous, events: &events)
            }
            var burst = Burst()
            if isGratuitous { burst.add(time, roundGap: options.roundGap) }
            let waiting = max(window, options.burstWindow)
            var takeover = Takeover(oldLast: oldLast, newFirst: time, burst: burst)
            // No frame of the old owner in this run: its last one is the state file's.
            takeover.oldLastFromEarlierRun = oldFrames == 0 && oldEvidence == .claim
            takeover.oldEvidence = oldEvidence
            takeover.newEvidence = kind
            takeover.oldLastReply = oldLastReply
            pending = PendingTakeover(
                oldOwner: oldOwner, newOwner: mac, takeover: takeover, deadline: time.adding(nanoseconds: waiting))
            deadline = pending?.deadline
        }

        previousOwner = oldOwner
        ownerSince = time
        if let slot {
            history[slot].touch(time, gratuitous: isGratuitous)
            ownerSlot = slot
        } else {
            let claimant = Claimant(
                mac: mac, firstSeen: time, lastSeen: time, frames: 1, gratuitous: isGratuitous ? 1 : 0)
            if history.count < Self.historyLimit {
                history.append(claimant)
                ownerSlot = history.count - 1
            } else {
                // Forget the MAC heard from longest ago (never the old owner: flip-flop needs it).
                var oldest = ownerSlot == 0 ? 1 : 0
                for index in history.indices
                where index != ownerSlot && history[index].lastSeen < history[oldest].lastSeen {
                    oldest = index
                }
                history[oldest] = claimant
                ownerSlot = oldest
            }
        }
        current = history[ownerSlot]
    }

    /// The report-once flags of `mac`'s claimant, nil if it has none.
    func reportedFlags(of mac: MACAddress) -> UInt16? {
        guard let detail = box?.value else { return mac == owner ? ownerReported : nil }
        if mac == detail.current.mac { return detail.current.reported }
        return detail.history.first { $0.mac == mac }?.reported
    }

    mutating func setReportedFlags(_ flags: UInt16, of mac: MACAddress) {
        if box == nil {
            if mac == owner { ownerReported = flags }
        } else if mac == owner {
            detail.current.reported = flags
        } else if let index = detail.history.firstIndex(where: { $0.mac == mac }) {
            detail.history[index].reported = flags
        }
    }

    private mutating func report(_ pending: PendingTakeover, events: inout [Event]) {
        takeovers += 1
        var event = Event(kind: .takeover, time: pending.takeover.newFirst, key: key, mac: pending.newOwner)
        event.oldMAC = pending.oldOwner
        event.takeover = pending.takeover
        events.append(event)
        self.pending = nil
    }

    /// Report what has waited long enough by `now`; returns the next time this binding needs a look.
    ///
    /// A split-brain is never declared over because a claimant was quiet (iputils arping goes unicast after
    /// the first reply, so the second owner of a VIP may never speak again): only a broadcast who-has that
    /// exactly one MAC answered ends it (see `ask` and `answer`).
    mutating func expire(now: Timestamp, options: AnalyzerOptions, events: inout [Event], final: Bool = false)
        -> Timestamp?
    {
        if let pending, final || now >= pending.deadline {
            report(pending, events: &events)
        }
        if let question, !final, now >= question.closes {
            close(question, events: &events)
        }
        deadline = pending?.deadline
        if conflict != nil, let closes = question?.closes { deadline = deadline.map { min($0, closes) } ?? closes }
        return deadline
    }

    // MARK: Signs of life

    /// A frame from `mac` that shows it alive for this address without claiming it: an IP frame with the
    /// address as source (`reply`), or a VRRP advert listing it.
    mutating func live(_ mac: MACAddress, evidence: Takeover.Evidence, reply: Bool, at time: Timestamp) {
        if mac == current.mac {
            if ownerLife.map({ time >= $0.time }) ?? true { ownerLife = SignOfLife(time: time, evidence: evidence) }
            if reply {
                if ownerLastReply.map({ time > $0 }) ?? true { ownerLastReply = time }
                if let waiting = pending, waiting.newOwner == mac, waiting.takeover.newFirstReply == nil {
                    pending?.takeover.newFirstReply = time
                }
            }
        }
    }

    // MARK: VRRP masters

    /// A VRRP advert (priority above 0) listing this address from `mac`. Two MACs advertising it in turn within
    /// the conflict window (A, B, A) are two masters (keepalived with VRRP blocked between the nodes): a
    /// split-brain. A handover never interleaves: the old master stops (or sends priority 0) before the new one
    /// starts.
    mutating func advertised(by mac: MACAddress, at time: Timestamp, options: AnalyzerOptions, events: inout [Event]) {
        let mine = masters.firstIndex { $0.mac == mac }
        let previous = mine.map { masters[$0].last } ?? .zero
        if mine != nil, conflict == nil,
            let other = masters.first(where: { $0.mac != mac && $0.last > previous }),
            within(previous, time, options.conflictWindow), within(other.last, time, options.conflictWindow)
        {
            pending = nil
            conflict = Conflict(macs: [other.mac, mac], started: previous, lastFlip: time, flips: 1)
            conflicts += 1
            var event = Event(kind: .splitBrain, time: time, key: key, mac: mac)
            event.oldMAC = other.mac
            event.conflict = conflict
            event.frameKind = .vrrpAdvert
            events.append(event)
        } else if let conflict, !conflict.macs.contains(mac) {
            self.conflict?.macs.append(mac)
        }
        if let mine {
            masters[mine].last = time
        } else if masters.count < 2 {
            masters.append(VRRPMaster(mac: mac, last: time))
        } else {
            let oldest = masters[0].last <= masters[1].last ? 0 : 1
            masters[oldest] = VRRPMaster(mac: mac, last: time)
        }
    }

    /// A priority-0 advert from `mac`: it gave the address up, so its earlier adverts no longer interleave.
    mutating func released(by mac: MACAddress) {
        masters.removeAll { $0.mac == mac }
    }

    // MARK: Questions

    /// A broadcast who-has for this address from `requester`: replies to it within the reply window answer it.
    mutating func ask(from requester: IPAddress, at time: Timestamp, options: AnalyzerOptions, events: inout [Event]) {
        if let question { close(question, events: &events) }
        question = Question(requester: requester, asked: time, closes: time.adding(nanoseconds: options.replyWindow))
        // Only a split-brain needs the question's end on time (to resolve it); otherwise a second answer is
        // seen as it comes, and the question is dropped lazily (`dropQuestion(ifOverAt:)`): no scheduling per
        // request, which cost the whole table a scan on every frame (half the frames of a busy segment are
        // who-has requests).
        if conflict != nil { deadline = deadline.map { min($0, question?.closes ?? $0) } ?? question?.closes }
    }

    /// Drop a question whose reply window is over by `time` (closing it, which can resolve a split-brain).
    mutating func dropQuestion(ifOverAt time: Timestamp, events: inout [Event]) {
        if let question, time > question.closes { close(question, events: &events) }
    }

    /// During a split-brain: a reply from `mac` to `requester` answers the open question when it came within
    /// the reply window.
    mutating func answer(from mac: MACAddress, to requester: IPAddress?, at time: Timestamp, events: inout [Event]) {
        guard var open = question, let requester, requester == open.requester, time >= open.asked, time <= open.closes
        else { return }
        if !open.answered.contains(mac) { open.answered.append(mac) }
        open.lastAnswer = time
        question = open
        if open.answered.count >= 2 {
            for other in open.answered where conflict?.macs.contains(other) == false { conflict?.macs.append(other) }
        }
    }

    /// Two MACs answered one broadcast who-has (`QuestionCache`): a second live owner, a split-brain, never a
    /// takeover (a takeover cannot take microseconds), whatever the conflict window says.
    mutating func startSplitBrain(
        answers: [MACAddress], requester: IPAddress, asked: Timestamp, at time: Timestamp, events: inout [Event]
    ) {
        if conflict != nil {
            for mac in answers where conflict?.macs.contains(mac) == false { conflict?.macs.append(mac) }
            return
        }
        // The takeover this reply started (or the one still waiting) was the second owner answering.
        pending = nil
        conflict = Conflict(macs: answers, started: asked, lastFlip: time, flips: 1)
        conflicts += 1
        var event = Event(kind: .splitBrain, time: time, key: key, mac: answers.last ?? owner)
        event.oldMAC = answers.first
        event.conflict = conflict
        event.evidence = requester
        events.append(event)
        deadline = nil
    }

    /// The reply window of `question` is over: one MAC alone answering ends the split-brain.
    private mutating func close(_ closed: Question, events: inout [Event]) {
        question = nil
        guard let conflict, closed.answered.count == 1, let alone = closed.answered.first else { return }
        var event = Event(kind: .splitBrainResolved, time: closed.lastAnswer, key: key, mac: alone)
        event.conflict = conflict
        event.evidence = closed.requester
        events.append(event)
        self.conflict = nil
    }
}

/// What a binding needs beyond its inline fields once it has more than one owner's counters to keep: owner
/// history, takeover and split-brain state, questions, signs of life, VRRP masters (see `Binding`).
struct BindingDetail: Sendable, Hashable {
    /// The current owner's claimant record (authoritative; copied back into `history` when ownership moves).
    var current: Claimant
    var ownerSince: Timestamp
    /// Every MAC seen for the address, the owner's entry at `ownerSlot` stale while it owns the address: its
    /// live record is `current` (updating a stored property is much cheaper than a nested array element).
    var history: [Claimant]
    var ownerSlot = 0
    var previousOwner: MACAddress?
    var takeovers = 0
    var conflicts = 0
    var conflict: Conflict?
    var deadline: Timestamp?
    var pending: PendingTakeover?
    /// During a split-brain: the last broadcast who-has for the address and who answered it (the evidence
    /// that can end the split-brain).
    var question: Question?
    /// The latest gratuitous ARP request seen on the slow path, and from whom: the first half of MetalLB's
    /// request + reply round.
    var lastGratuitousRequest: SignOfLife?
    var lastGratuitousRequestMAC = MACAddress(rawValue: 0)
    /// The last two MACs that sent VRRP adverts listing the address (see `Binding.advertised`).
    var masters: [VRRPMaster] = []

    init(current: Claimant, ownerSince: Timestamp, history: [Claimant]) {
        self.current = current
        self.ownerSince = ownerSince
        self.history = history
    }

    /// What a binding without a detail stands for: its one claimant, the owner since the first frame.
    init(implied binding: Binding) {
        let owner = binding.current
        self.init(current: owner, ownerSince: binding.firstSeen, history: [owner])
    }
}

/// Copy-on-write storage of a `BindingDetail`: a copied binding shares it until one of the copies writes.
struct DetailBox: Sendable, Hashable {
    private final class Storage: @unchecked Sendable {
        // Only written through `value`'s `_modify`, which first makes the storage unique to the writer.
        var value: BindingDetail
        init(_ value: BindingDetail) { self.value = value }
    }

    private var storage: Storage

    init(_ value: BindingDetail) { storage = Storage(value) }

    var value: BindingDetail {
        get { storage.value }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.value) }
            yield &storage.value
        }
    }

    static func == (lhs: DetailBox, rhs: DetailBox) -> Bool { lhs.storage === rhs.storage || lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
}

/// The latest VRRP advert of one MAC listing an address.
struct VRRPMaster: Sendable, Hashable {
    var mac: MACAddress
    var last: Timestamp
}

/// When and how an owner last showed it was alive.
struct SignOfLife: Sendable, Hashable {
    var time: Timestamp
    var evidence: Takeover.Evidence
}

/// A broadcast who-has seen during a split-brain, and the MACs that answered it within the reply window.
struct Question: Sendable, Hashable {
    var requester: IPAddress
    var asked: Timestamp
    var closes: Timestamp
    var answered: [MACAddress] = []
    var lastAnswer = Timestamp.zero

    init(requester: IPAddress, asked: Timestamp, closes: Timestamp) {
        self.requester = requester
        self.asked = asked
        self.closes = closes
    }
}

extension Claimant {
    @inline(__always)
    mutating func touch(_ time: Timestamp, gratuitous isGratuitous: Bool) {
        if time > lastSeen { lastSeen = time }
        frames += 1
        if isGratuitous { gratuitous += 1 }
    }
}

/// `a` and `b` are at most `window` nanoseconds apart (either order: frames from several interfaces interleave).
@inline(__always)
func within(_ a: Timestamp, _ b: Timestamp, _ window: Int64) -> Bool {
    let difference = b.nanoseconds(since: a)
    return difference <= window && difference >= -window
}
