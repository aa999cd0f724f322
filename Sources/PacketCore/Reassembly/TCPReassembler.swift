/// TCP stream reassembly for passive observers (RFC 9293 section 3.4, sequence numbers; section 3.10.7,
/// segment arrival): per connection and per direction, turns captured segments into ordered bytes for a
/// stream consumer (BGP, MySQL decoders).
///
/// - Retransmitted and overlapping bytes: the first copy received wins, as most stacks do, whether the
///   earlier copy was delivered already or is buffered out of order.
/// - Out-of-order bytes are copied into a bounded per-direction buffer and delivered when the hole fills.
///   A hole is declared lost (`.gap`) when the peer acknowledges past it (the bytes were sent but not
///   captured), when the direction's buffer is full, or when the flow ends; delivery continues after it.
/// - In-order bytes with nothing buffered ahead are delivered straight from the segment's payload.
/// - A flow first seen without a SYN starts at the first segment's sequence number.
/// - A FIN ends its direction once everything before it is accounted for; FINs from both sides, or a RST,
///   close the flow. Closed flows are remembered (until idle) so late ACKs and retransmissions do not open
///   phantom flows; a new SYN on the same addresses and ports starts a new flow.
/// - Time is packet time only: a flow idle for `idleTimeoutNanoseconds` (by the newest timestamp seen) is
///   closed, and memory is bounded by `ReassemblyLimits` (the least recently active flow is evicted).
///
/// Events are passed to a non-escaping handler in a deterministic order (never dictionary order), so a
/// replayed capture yields the same events every time.
public struct TCPReassembler: Sendable {
    public let limits: ReassemblyLimits

    struct Flow: Sendable {
        var key: FlowKey
        var low = FlowDirection()
        var high = FlowDirection()
        var lastSeen: Timestamp
        var isClosed = false

        var bufferedBytes: Int { low.bufferedBytes + high.bufferedBytes }

        func direction(_ side: FlowSide) -> FlowDirection {
            switch side {
            case .low: low
            case .high: high
            }
        }

        static let vacant = Flow(
            key: FlowKey(FlowEndpoint(address: .v4(.any), port: 0), FlowEndpoint(address: .v4(.any), port: 0)),
            lastSeen: .zero)
    }

    /// Slot number of each tracked flow (open or recently closed).
    private var table: [FlowKey: Int32] = [:]
    private var flows: [Flow] = []
    private var freeSlots: [Int32] = []
    /// Every tracked flow, least recently active first (for idle expiry and `maxFlows` eviction).
    private var recency = SlotList()
    /// Flows holding out-of-order bytes, least recently active first (for `totalBytes` eviction).
    private var buffering = SlotList()
    /// The newest packet timestamp seen; time never runs backwards even if a capture's timestamps do.
    public private(set) var latestTimestamp: Timestamp?
    private var counters = ReassemblyStatistics()

    public init(limits: ReassemblyLimits = .init()) {
        self.limits = limits
    }

    public var statistics: ReassemblyStatistics { counters }

    // MARK: Segments

    /// Feed one captured segment. `segment.payload` is only read during this call.
    public mutating func process(_ segment: TCPSegment, _ handler: (StreamEvent) -> Void) {
        counters.segments += 1
        let now = advanceClock(to: segment.timestamp)
        expireIdle(now: now, handler)

        let key = FlowKey(segment.source, segment.destination)
        let side = key.side(of: segment.source)
        let flags = segment.flags
        var slot: Int32
        if let existing = table[key] {
            slot = existing
            if flows[Int(slot)].isClosed {
                // Only a new connection revives a closed flow; anything else is a straggler of the old one.
                guard flags.contains(.syn), !flags.contains(.rst) else {
                    counters.ignored += 1
                    return
                }
                removeFlow(slot)
                slot = openFlow(key, side: side, flags: flags, now: now, handler)
            } else if flags.contains(.syn), !flags.contains(.rst),
                isNewConnection(flows[Int(slot)].direction(side), synSequence: segment.sequence)
            {
                closeFlow(slot, reason: .reused, timestamp: segment.timestamp, handler)
                removeFlow(slot)
                slot = openFlow(key, side: side, flags: flags, now: now, handler)
            }
        } else {
            guard !flags.contains(.rst) else {
                counters.ignored += 1
                return
            }
            slot = openFlow(key, side: side, flags: flags, now: now, handler)
        }
        touch(slot, now: now)
        handle(segment, slot: slot, side: side, handler)
    }

    /// A SYN from a side whose stream already began with a different SYN (or with data) is a new connection
    /// reusing the ports; the same SYN again is a retransmission.
    private func isNewConnection(_ direction: FlowDirection, synSequence: UInt32) -> Bool {
        switch direction.phase {
        case .unstarted: false
        case .open, .finished: direction.synSequence != synSequence
        }
    }

    private mutating func handle(
        _ segment: TCPSegment, slot: Int32, side: FlowSide, _ handler: (StreamEvent) -> Void
    ) {
        let flags = segment.flags
        let key = flows[Int(slot)].key
        let context = EventContext(key: key, side: side, timestamp: segment.timestamp)
        let limits = self.limits

        if flags.contains(.rst) {
            // A reset ends both directions at once; whatever it carries is diagnostic text, not stream data.
            closeFlow(slot, reason: .rst, timestamp: segment.timestamp, handler)
            return
        }

        var sequence = segment.sequence
        let payload = segment.payload
        if flags.contains(.syn) {
            // The SYN takes one sequence number; any data it carries (TCP Fast Open) follows it.
            withDirection(slot, side) { direction, _ in direction.start(synSequence: sequence) }
            sequence &+= 1
        }
        if !payload.isEmpty || flags.contains(.fin) {
            // A bare ACK does not start a stream: a keep-alive probe carries the sequence number minus one.
            withDirection(slot, side) { direction, _ in direction.start(at: sequence) }
        }
        if !payload.isEmpty {
            let budget = makeRoomForOutOfOrder(slot: slot, side: side, sequence: sequence, count: payload.count,
                timestamp: segment.timestamp, handler)
            withDirection(slot, side) { direction, stats in
                direction.ingest(sequence: sequence, payload: payload, budget: budget, limits: limits,
                    context, &stats, handler)
            }
        }
        if flags.contains(.fin) {
            let fin = sequence &+ UInt32(truncatingIfNeeded: payload.count)
            withDirection(slot, side) { direction, stats in direction.noteFin(at: fin, limits: limits, &stats) }
        }
        if flags.contains(.ack) {
            let peer = EventContext(key: key, side: side.other, timestamp: segment.timestamp)
            withDirection(slot, side.other) { direction, stats in
                direction.acknowledge(segment.acknowledgment, limits: limits, peer, &stats, handler)
            }
        }
        if flows[Int(slot)].low.finOffset != nil, flows[Int(slot)].high.finOffset != nil {
            closeFlow(slot, reason: .fin, timestamp: segment.timestamp, handler)
        } else if flows[Int(slot)].bufferedBytes > 0 {
            buffering.moveToBack(slot)
        } else {
            buffering.remove(slot)
        }
    }

    /// When a segment is about to be buffered and the totals would pass `totalBytes` or `totalSegments`,
    /// evict other flows holding buffered bytes (least recently active first) until it fits. Returns how
    /// much this direction may hold: its own limits, or less if only this flow is left to give room.
    private mutating func makeRoomForOutOfOrder(
        slot: Int32, side: FlowSide, sequence: UInt32, count: Int, timestamp: Timestamp,
        _ handler: (StreamEvent) -> Void
    ) -> FlowDirection.Budget {
        let direction = flows[Int(slot)].direction(side)
        let distance = SequenceNumber.distance(from: direction.nextSequence, to: sequence)
        let own = FlowDirection.Budget(bytes: limits.perDirectionBytes, pieces: limits.perDirectionSegments)
        // In-order and old bytes are never buffered, so they never need room.
        guard distance > 0, distance <= Int64(limits.maxSequenceJump) else { return own }
        while counters.bufferedBytes + count > limits.totalBytes || counters.bufferedSegments >= limits.totalSegments {
            var victim = buffering.head
            if victim == slot { victim = buffering.next(after: victim) }
            guard victim >= 0 else { break }
            counters.evictions += 1
            closeFlow(victim, reason: .evicted, timestamp: timestamp, handler)
            removeFlow(victim)
        }
        let held = flows[Int(slot)].direction(side)
        let bytesElsewhere = counters.bufferedBytes - held.bufferedBytes
        let piecesElsewhere = counters.bufferedSegments - held.chunks.count
        return FlowDirection.Budget(
            bytes: max(0, min(own.bytes, limits.totalBytes - bytesElsewhere)),
            pieces: max(0, min(own.pieces, limits.totalSegments - piecesElsewhere)))
    }

    // MARK: Time

    private mutating func advanceClock(to timestamp: Timestamp) -> Timestamp {
        if let latest = latestTimestamp, latest >= timestamp { return latest }
        latestTimestamp = timestamp
        return timestamp
    }

    /// Close flows idle for longer than the limit, judged by packet time `now`.
    private mutating func expireIdle(now: Timestamp, _ handler: (StreamEvent) -> Void) {
        while recency.head >= 0,
            now.nanoseconds(since: flows[Int(recency.head)].lastSeen) > limits.idleTimeoutNanoseconds
        {
            expire(recency.head, timestamp: now, handler)
        }
    }

    /// Close every flow whose last segment is older than `before` (packet time), oldest first, with
    /// `.idleTimeout`. Use it to age flows out between packets, for example when a capture goes quiet.
    public mutating func expire(before: Timestamp, _ handler: (StreamEvent) -> Void) {
        while recency.head >= 0, flows[Int(recency.head)].lastSeen < before {
            expire(recency.head, timestamp: before, handler)
        }
    }

    private mutating func expire(_ slot: Int32, timestamp: Timestamp, _ handler: (StreamEvent) -> Void) {
        if !flows[Int(slot)].isClosed {
            counters.timeouts += 1
            closeFlow(slot, reason: .idleTimeout, timestamp: timestamp, handler)
        }
        removeFlow(slot)
    }

    /// The capture ended: deliver what is buffered (declaring the holes before it lost) and close every
    /// open flow with `.endOfCapture`, least recently active first. The reassembler is empty afterwards.
    public mutating func finish(_ handler: (StreamEvent) -> Void) {
        let timestamp = latestTimestamp ?? .zero
        var slot = recency.head
        while slot >= 0 {
            let next = recency.next(after: slot)
            closeFlow(slot, reason: .endOfCapture, timestamp: timestamp, handler)
            slot = next
        }
        table = [:]
        flows = []
        freeSlots = []
        recency.removeAll()
        buffering.removeAll()
        counters.flows = 0
        counters.closedFlowsRetained = 0
        counters.bufferedBytes = 0
        counters.bufferedSegments = 0
    }

    // MARK: Flow table

    private mutating func openFlow(
        _ key: FlowKey, side: FlowSide, flags: TCPFlags, now: Timestamp, _ handler: (StreamEvent) -> Void
    ) -> Int32 {
        while table.count >= limits.maxFlows, recency.head >= 0 {
            let victim = recency.head
            if !flows[Int(victim)].isClosed {
                counters.evictions += 1
                closeFlow(victim, reason: .evicted, timestamp: now, handler)
            }
            removeFlow(victim)
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            flows[Int(slot)] = Flow(key: key, lastSeen: now)
        } else {
            slot = Int32(truncatingIfNeeded: flows.count)
            flows.append(Flow(key: key, lastSeen: now))
            recency.grow(to: flows.count)
            buffering.grow(to: flows.count)
        }
        table[key] = slot
        counters.flows += 1
        counters.flowsOpened += 1
        let initiator: FlowSide? =
            flags.contains(.syn) ? (flags.contains(.ack) ? side.other : side) : nil
        handler(.opened(key, initiator: initiator, sawHandshake: flags.contains(.syn)))
        return slot
    }

    private mutating func touch(_ slot: Int32, now: Timestamp) {
        flows[Int(slot)].lastSeen = now
        recency.moveToBack(slot)
    }

    /// Flush both directions (holes become gaps, buffered bytes are delivered) and report the close. The
    /// flow stays in the table, closed, to absorb stragglers.
    private mutating func closeFlow(
        _ slot: Int32, reason: CloseReason, timestamp: Timestamp, _ handler: (StreamEvent) -> Void
    ) {
        guard !flows[Int(slot)].isClosed else { return }
        let key = flows[Int(slot)].key
        for side in FlowSide.allCases {
            let context = EventContext(key: key, side: side, timestamp: timestamp)
            withDirection(slot, side) { direction, stats in direction.flush(context, &stats, handler) }
        }
        flows[Int(slot)].isClosed = true
        buffering.remove(slot)
        counters.flows -= 1
        counters.closedFlowsRetained += 1
        counters.flowsClosed += 1
        handler(.closed(key, reason: reason, timestamp: timestamp))
    }

    /// Forget a flow entirely (it must already be closed or be being replaced).
    private mutating func removeFlow(_ slot: Int32) {
        let flow = flows[Int(slot)]
        table.removeValue(forKey: flow.key)
        recency.remove(slot)
        buffering.remove(slot)
        if flow.isClosed { counters.closedFlowsRetained -= 1 } else { counters.flows -= 1 }
        counters.bufferedBytes -= flow.bufferedBytes
        counters.bufferedSegments -= flow.low.chunks.count + flow.high.chunks.count
        flows[Int(slot)] = .vacant
        freeSlots.append(slot)
    }

    /// Recompute what the counters and lists claim from the flows themselves; empty when consistent.
    /// For tests and fuzzing: O(flows + buffered pieces).
    func invariantViolations() -> [String] {
        var problems: [String] = []
        var open = 0
        var closed = 0
        var bytes = 0
        var pieces = 0
        for (key, slot) in table {
            let flow = flows[Int(slot)]
            if flow.key != key { problems.append("slot \(slot) holds \(flow.key), indexed as \(key)") }
            if flow.isClosed { closed += 1 } else { open += 1 }
            if !recency.contains(slot) { problems.append("\(key) missing from the recency list") }
            if buffering.contains(slot) != (flow.bufferedBytes > 0) && !flow.isClosed {
                problems.append("\(key) buffering-list membership wrong")
            }
            for direction in [flow.low, flow.high] {
                bytes += direction.bufferedBytes
                pieces += direction.chunks.count
                if direction.chunks.reduce(0, { $0 + $1.bytes.count }) != direction.bufferedBytes {
                    problems.append("\(key) direction byte count wrong")
                }
                // The first chunk starts after a hole; later ones may touch but not overlap.
                var lowest = direction.nextOffset + 1
                for chunk in direction.chunks {
                    if chunk.bytes.isEmpty || chunk.offset < lowest {
                        problems.append("\(key) chunks unsorted, overlapping, empty or deliverable")
                    }
                    lowest = chunk.end
                }
                if let fin = direction.finOffset, let last = direction.chunks.last, last.end > fin {
                    problems.append("\(key) bytes buffered past the FIN")
                }
                if direction.bufferedBytes > limits.perDirectionBytes
                    || direction.chunks.count > limits.perDirectionSegments
                {
                    problems.append("\(key) direction over its limits")
                }
            }
        }
        if open != counters.flows || closed != counters.closedFlowsRetained {
            problems.append("flow counts \(counters.flows)/\(counters.closedFlowsRetained), actual \(open)/\(closed)")
        }
        if bytes != counters.bufferedBytes || pieces != counters.bufferedSegments {
            problems.append(
                "buffered \(counters.bufferedBytes)B/\(counters.bufferedSegments), actual \(bytes)B/\(pieces)")
        }
        if recency.count != table.count { problems.append("recency list has \(recency.count) of \(table.count)") }
        if table.count > limits.maxFlows { problems.append("\(table.count) flows tracked") }
        return problems
    }

    /// Mutate one direction of a flow in place, alongside the counters (two disjoint stored properties, so
    /// no copy of the direction's buffer is made).
    private mutating func withDirection<R>(
        _ slot: Int32, _ side: FlowSide, _ body: (inout FlowDirection, inout ReassemblyStatistics) -> R
    ) -> R {
        switch side {
        case .low: body(&flows[Int(slot)].low, &counters)
        case .high: body(&flows[Int(slot)].high, &counters)
        }
    }
}
