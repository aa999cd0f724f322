import PacketCore
import ToolSupport

/// Turns events, the binding table and verdicts into text lines (tcpdump-like, stable, greppable) or JSON
/// Lines (one object per line, stable field names, docs/json.md). Text is built only here, never on the
/// per-frame path.
public struct Renderer: Sendable {
    public var nodes: NodeMap
    public var json: Bool
    /// The common keys of every JSON object (`host` from `--node-name`).
    public var envelope: JSONEnvelope
    /// The live capture interface every object carries (one `-i`); nil for files, or several interfaces
    /// where an object is not tied to one.
    public var interface: String?

    public init(
        nodes: NodeMap = NodeMap(), json: Bool = false,
        envelope: JSONEnvelope = JSONEnvelope(host: NodeNameOptions.hostname()), interface: String? = nil
    ) {
        self.nodes = nodes
        self.json = json
        self.envelope = envelope
        self.interface = interface
    }

    // MARK: Events

    public func line(_ event: Event) -> String {
        json ? jsonLine(event).text : textLine(event)
    }

    public func textLine(_ event: Event) -> String {
        var text = TextBuffer(capacity: 128)
        writeText(event, to: &text)
        return text.string
    }

    /// Append the event's line and a newline to `output` (text or JSON as configured). `interface`: the one
    /// the event's frame came in on, when known (several `-i`).
    public func write(_ event: Event, interface: String? = nil, to output: inout TextBuffer) {
        if json {
            output.append(string: jsonLine(event, interface: interface).text)
        } else {
            writeText(event, to: &output)
        }
        output.append(byte: UInt8(ascii: "\n"))
    }

    /// The text form, without the newline. Built as bytes: see `TextBuffer` for why.
    func writeText(_ event: Event, to text: inout TextBuffer) {
        text.append(iso8601: event.time)
        text.append(" ")
        text.append(string: event.kind.rawValue)
        text.append(" ")
        text.append(event.key)
        text.append(" ")
        switch event.kind {
        case .newStation:
            nodes.appendLabel(event.mac, to: &text)
        case .changedEthernetAddress, .flipFlop, .reusedOldEthernetAddress:
            nodes.appendLabel(event.mac, to: &text)
            text.append(" was ")
            appendLabel(event.oldMAC, to: &text)
        case .ethernetMismatch:
            nodes.appendLabel(event.mac, to: &text)
            text.append(" frame source ")
            if let source = event.frameSource { text.append(source) } else { text.append("?") }
        case .ethernetBroadcast:
            text.append("sender MAC ")
            text.append(event.mac)
            text.append(" is not a station address")
        case .bogon:
            nodes.appendLabel(event.mac, to: &text)
            text.append(" is outside --local-net")
        case .takeover:
            appendLabel(event.oldMAC, to: &text)
            text.append(" -> ")
            nodes.appendLabel(event.mac, to: &text)
            if let takeover = event.takeover {
                switch takeover.gapKind {
                case .outage:
                    text.append(string: " gap \(Formatting.milliseconds(takeover.gapNanoseconds)) ms")
                    if takeover.oldEvidence != .claim {
                        // Say what bounded the gap when it was more than the old owner's last ARP/NDP frame.
                        text.append(string: " from \(takeover.oldEvidence.rawValue)")
                        if let kind = takeover.newEvidence { text.append(string: " to \(kind.rawValue)") }
                        text.append(";")
                    }
                case .acrossRuns:
                    text.append(" gap not measured: old owner last seen ")
                    text.append(iso8601: takeover.oldLast)
                    text.append(" by an earlier run (not watched since)")
                case .stateNewer:
                    text.append(" gap not measured: state file newer than the capture (old owner last seen ")
                    text.append(iso8601: takeover.oldLast)
                    text.append(" by an earlier run)")
                case .outOfOrder:
                    text.append(" gap not measured: frames out of order (old owner's last frame ")
                    text.append(iso8601: takeover.oldLast)
                    text.append(" is later)")
                }
                text.append(
                    string: takeover.isUnannounced
                        ? " unannounced (no gratuitous frame)" : " " + Self.describe(takeover.burst))
                if let client = takeover.clientGapNanoseconds, client >= 0 {
                    // Only with client traffic in the capture: its last reply from the old MAC to the first
                    // from the new.
                    text.append(string: "; clients saw \(Formatting.milliseconds(client)) ms without replies")
                }
            }
        case .splitBrain:
            text.append(string: (event.conflict?.macs ?? [event.mac]).map(nodes.label).joined(separator: ", "))
            if let requester = event.evidence {
                text.append(" (each answered one broadcast who-has from ")
                text.append(requester)
                text.append(")")
            }
        case .splitBrainResolved:
            text.append("owner ")
            nodes.appendLabel(event.mac, to: &text)
            if let conflict = event.conflict {
                let seconds = Formatting.fixed(Double(conflict.durationNanoseconds) / 1e9, decimals: 3)
                text.append(string: " after \(conflict.flips) flips over \(seconds) s")
            }
            if let requester = event.evidence {
                text.append(" (alone answered a broadcast who-has from ")
                text.append(requester)
                text.append(")")
            }
        case .metalLBStyle:
            nodes.appendLabel(event.mac, to: &text)
            text.append(" announces with a gratuitous request and reply to ff:ff:ff:ff:ff:ff each round (healthy)")
        case .lint:
            nodes.appendLabel(event.mac, to: &text)
            if let lint = event.lint, let entry = Observation.Lint.all.first(where: { $0.0 == lint }) {
                text.append(string: " \(entry.1): \(entry.2)")
            }
        }
        if let frame = event.frameKind, event.kind != .takeover {
            text.append(" [")
            text.append(string: frame.rawValue)
            text.append("]")
        }
    }

    private func appendLabel(_ mac: MACAddress?, to text: inout TextBuffer) {
        if let mac { nodes.appendLabel(mac, to: &text) } else { text.append("?") }
    }

    /// `burst 10 frames in 5 rounds every 1.100 s over 4.400 s`
    static func describe(_ burst: Burst) -> String {
        var text = "burst \(burst.frames) frame\(burst.frames == 1 ? "" : "s") in \(burst.rounds) round\(burst.rounds == 1 ? "" : "s")"
        if let spacing = burst.roundSpacingNanoseconds {
            text += " every \(Formatting.fixed(Double(spacing) / 1e9, decimals: 3)) s"
        }
        return text + " over \(Formatting.fixed(Double(burst.durationNanoseconds) / 1e9, decimals: 3)) s"
    }

    public func jsonLine(_ event: Event, interface: String? = nil) -> JSONLine {
        var line = envelope.object(event.kind.rawValue, time: event.time, interface: interface ?? self.interface)
        addKey(&line, event.key)
        line.add("mac", event.mac.description)
        line.add("node", nodes.name(of: event.mac))
        line.add("old_mac", event.oldMAC?.description)
        line.add("old_node", event.oldMAC.flatMap(nodes.name(of:)))
        line.add("frame", event.frameKind?.rawValue)
        line.add("frame_source", event.frameSource?.description)
        if let takeover = event.takeover {
            line.add("gap", takeover.gapKind.rawValue)
            line.add("gap_ms", takeover.gapKind == .outage ? milliseconds(takeover.gapNanoseconds) : nil)
            line.add("gap_from", takeover.oldEvidence.rawValue)
            line.add("gap_to", takeover.newEvidence?.rawValue)
            line.add("old_last_reply", takeover.oldLastReply)
            line.add("new_first_reply", takeover.newFirstReply)
            line.add("client_gap_ms", takeover.clientGapNanoseconds.map(milliseconds))
            line.add("old_last", takeover.oldLast)
            line.add("new_first", takeover.newFirst)
            line.add("unannounced", takeover.isUnannounced)
            var burst = JSONLine()
            burst.add("frames", takeover.burst.frames)
            burst.add("rounds", takeover.burst.rounds)
            burst.add("spacing_ms", takeover.burst.roundSpacingNanoseconds.map(milliseconds))
            burst.add("duration_ms", milliseconds(takeover.burst.durationNanoseconds))
            line.add("burst", burst)
        }
        if let conflict = event.conflict {
            line.add("macs", list: conflict.macs)
            line.add("nodes", list: conflict.macs.compactMap(nodes.name(of:)))
            line.add("flips", conflict.flips)
            line.add("started", conflict.started)
            line.add("duration_ms", milliseconds(conflict.durationNanoseconds))
        }
        line.add("evidence_requester", event.evidence?.description)
        if let lint = event.lint, let entry = Observation.Lint.all.first(where: { $0.0 == lint }) {
            line.add("lint", entry.1)
            line.add("reason", entry.2)
        }
        return line
    }

    // MARK: Summary

    public func summary(_ analyzer: Analyzer, time: Timestamp = .zero) -> [String] {
        var text = TextBuffer()
        writeSummary(analyzer, time: time, to: &text)
        return text.string.split(separator: "\n").map(String.init)
    }

    /// Append the summary lines (each with its newline) to `output`.
    /// `partial`: why the input was not read to its end (the summary says so). `time`: the JSON objects' (the
    /// last frame's, or the wall clock when live or when no frame was read). `flushingTo`: write `output` to
    /// this descriptor whenever it holds 64 KiB, instead of holding the whole summary (a line per address:
    /// about 190 MB of text for a million addresses, more than the table itself).
    public func writeSummary(
        _ analyzer: Analyzer, partial: String? = nil, time: Timestamp, to output: inout TextBuffer,
        flushingTo descriptor: Int32? = nil
    ) {
        let counters = analyzer.counters
        let bindings = analyzer.bindings
        let seen = Self.positionsInKeyOrder(bindings)
        func lineDone() {
            if let descriptor, output.count >= Self.summaryFlushThreshold { output.flush(to: descriptor) }
        }
        if json {
            for position in seen {
                output.append(string: bindingJSON(bindings[position], time: time).text)
                output.append("\n")
                lineDone()
            }
            var line = envelope.object("summary", time: time, interface: interface)
            line.add("frames", counters.frames)
            line.add("arp", counters.arp)
            line.add("ndp", counters.ndp)
            line.add("probes", counters.probes)
            line.add("own_probe_requests", counters.ownProbeRequests)
            line.add("evicted_questions", analyzer.evictedQuestions)
            line.add("out_of_scope", counters.outOfScope)
            line.add("refused_new_addresses", counters.refusedNewAddresses)
            line.add("truncated", counters.truncated)
            line.add("malformed", counters.malformed)
            line.add("unsupported", counters.unsupported)
            line.add("addresses", seen.count)
            line.add("takeovers", seen.reduce(0) { $0 + bindings[$1].takeovers })
            line.add("conflicts", seen.reduce(0) { $0 + bindings[$1].conflicts })
            line.add("partial", partial != nil)
            line.add("partial_reason", partial)
            output.append(string: line.text)
            output.append("\n")
            return
        }
        output.append(string:
            "summary: \(counters.frames) frames (\(counters.arp) ARP, \(counters.ndp) NDP, \(counters.probes) probes"
                + (counters.ownProbeRequests > 0 ? " (\(counters.ownProbeRequests) ours, --probe), " : ", ")
                + "\(counters.outOfScope) out of scope), \(counters.truncated) truncated, \(counters.malformed) malformed, "
                + "\(counters.unsupported) unsupported; \(seen.count) address\(seen.count == 1 ? "" : "es")"
                + (counters.refusedNewAddresses > 0
                    ? "; table full: \(counters.refusedNewAddresses) frames about further new addresses not tracked "
                        + "(raise --max-bindings)" : "")
                + (analyzer.evictedQuestions > 0
                    ? "; \(analyzer.evictedQuestions) who-has requests forgotten before their reply window ended "
                        + "(too many at once to compare their answers)" : "")
                + (partial.map { "; partial: \($0), the input was not read to its end" } ?? "")
                + "\n")
        for position in seen {
            let binding = bindings[position]
            output.append("  ")
            output.append(binding.key)
            output.append(" owner ")
            nodes.appendLabel(binding.owner, to: &output)
            output.append(" since ")
            output.append(iso8601: binding.ownerSince)
            output.append("; first ")
            output.append(iso8601: binding.firstSeen)
            output.append(" last ")
            output.append(iso8601: binding.lastSeen)
            output.append("; frames ")
            output.append(decimal: binding.frames)
            output.append(" gratuitous ")
            output.append(decimal: binding.gratuitous)
            output.append(" takeovers ")
            output.append(decimal: binding.takeovers)
            output.append(" conflicts ")
            output.append(decimal: binding.conflicts)
            if let conflict = binding.conflict {
                let macs = conflict.macs.map(nodes.label).joined(separator: ", ")
                output.append(string: " (split-brain ongoing: \(macs))")
            }
            // Only a binding with a detail has claimants besides its owner.
            if let detail = binding.existingDetail {
                var separator: StaticString = "; also "
                for (slot, other) in detail.history.enumerated() where slot != detail.ownerSlot {
                    guard other.frames > 0 && other.mac != binding.owner else { continue }
                    output.append(separator)
                    separator = ", "
                    nodes.appendLabel(other.mac, to: &output)
                    output.append(" x")
                    output.append(decimal: other.frames)
                }
            }
            output.append("\n")
            lineDone()
        }
    }

    static let summaryFlushThreshold = 1 << 16

    /// The positions of the bindings with frames in this run, in key order.
    ///
    /// Keys are sorted together with their positions in one contiguous array: sorting bare positions by keys
    /// read through them cost a cache miss per comparison (and a copy of the binding) once the table outgrew
    /// the cache, 20 million of them for a million addresses.
    static func positionsInKeyOrder(_ bindings: [Binding]) -> some RandomAccessCollection<Int> {
        var order: [KeyPosition] = []
        order.reserveCapacity(bindings.count)
        bindings.withUnsafeBufferPointer { buffer in
            for position in buffer.indices where buffer[position].frames > 0 {
                order.append(KeyPosition(key: buffer[position].key, position: Int32(truncatingIfNeeded: position)))
            }
        }
        // Keys are unique (one binding per key), so an unstable order of equal keys cannot arise.
        order.sort { $0.key < $1.key }
        return order.lazy.map { Int($0.position) }
    }

    struct KeyPosition {
        var key: BindingKey
        var position: Int32
    }

    public func bindingJSON(_ binding: Binding, time: Timestamp) -> JSONLine {
        var line = envelope.object("binding", time: time, interface: interface)
        addKey(&line, binding.key)
        line.add("owner", binding.owner.description)
        line.add("owner_node", nodes.name(of: binding.owner))
        line.add("owner_since", binding.ownerSince)
        line.add("first_seen", binding.firstSeen)
        line.add("last_seen", binding.lastSeen)
        line.add("frames", binding.frames)
        line.add("gratuitous", binding.gratuitous)
        line.add("takeovers", binding.takeovers)
        line.add("conflicts", binding.conflicts)
        line.add("split_brain_ongoing", binding.conflict != nil)
        let claimants = binding.activeClaimants.map { claimant in
            var item = JSONLine()
            item.add("mac", claimant.mac.description)
            item.add("node", nodes.name(of: claimant.mac))
            item.add("frames", claimant.frames)
            item.add("gratuitous", claimant.gratuitous)
            item.add("first_seen", claimant.firstSeen)
            item.add("last_seen", claimant.lastSeen)
            return JSONValue(item)
        }
        line.add("macs", JSONValue(claimants))
        return line
    }

    // MARK: Probes

    /// Per probed address: every responder (`probe-responder`), then the totals (`probe`). `time`: when the
    /// probing ended (the wall clock: probing is live).
    public func writeProbe(_ prober: Prober, time: Timestamp, to output: inout TextBuffer) {
        for (index, ip) in prober.targets.enumerated() {
            let responders = prober.responders[index]
            for responder in responders {
                if json {
                    var line = envelope.object("probe-responder", time: time, interface: interface)
                    line.add("ip", ip.description)
                    line.add("mac", responder.mac.description)
                    line.add("node", nodes.name(of: responder.mac))
                    line.add("replies", responder.replies)
                    line.add("first_reply", responder.firstReply)
                    line.add("last_reply", responder.lastReply)
                    output.append(string: line.text)
                } else {
                    output.append("probe ")
                    output.append(ip)
                    output.append(" responder ")
                    nodes.appendLabel(responder.mac, to: &output)
                    output.append(" replies ")
                    output.append(decimal: responder.replies)
                    output.append(" first ")
                    output.append(iso8601: responder.firstReply)
                    output.append(" last ")
                    output.append(iso8601: responder.lastReply)
                }
                output.append("\n")
            }
            if json {
                var line = envelope.object("probe", time: time, interface: interface)
                line.add("ip", ip.description)
                line.add("requests", prober.requests[index])
                line.add("responders", responders.count)
                line.add("macs", list: responders.map(\.mac))
                output.append(string: line.text)
            } else {
                output.append("probe ")
                output.append(ip)
                output.append(" requests ")
                output.append(decimal: prober.requests[index])
                output.append(" responders ")
                output.append(decimal: responders.count)
                if responders.count > 1 { output.append(" (more than one MAC answers: split-brain)") }
            }
            output.append("\n")
        }
    }

    // MARK: Verdicts

    public func line(_ verdict: Verdict, time: Timestamp = .zero) -> String {
        line(verdict, exitStatus: verdict.outcome.exitStatus, partial: nil, time: time)
    }

    /// The verdict with the process's real exit status: when the input was not read to its end (`partial`:
    /// interrupted, cut short) that is 2 or 1, whatever the outcome from the frames seen so far.
    public func line(_ verdict: Verdict, exitStatus: Int32, partial: String?, time: Timestamp) -> String {
        if json {
            var line = envelope.object("verdict", time: time, interface: interface)
            line.add("expect", verdict.expectation.description)
            line.add("ip", verdict.expectation.ip.description)
            line.add("service", verdict.expectation.service)
            line.add("outcome", verdict.outcome.rawValue)
            line.add("exit_status", Int(exitStatus))
            line.add("outcome_exit_status", Int(verdict.outcome.exitStatus))
            line.add("partial", partial != nil)
            line.add("partial_reason", partial)
            line.add("expected", list: verdict.expected)
            line.add("seen", list: verdict.seen)
            line.add("seen_nodes", list: verdict.seen.compactMap(nodes.name(of:)))
            return line.text
        }
        let seen = verdict.seen.isEmpty ? "nothing" : verdict.seen.map(nodes.label).joined(separator: ", ")
        let status = partial.map { "exit \(exitStatus): \($0), from the frames seen so far" } ?? "exit \(exitStatus)"
        return "expect \(verdict.expectation): \(verdict.outcome.rawValue) (\(status)); seen \(seen)"
    }

    // MARK: Helpers

    private func addKey(_ line: inout JSONLine, _ key: BindingKey) {
        line.add("ip", key.ip.description)
        if key.vlans.count > 0 { line.add("vlans", JSONValue(key.vlans.ids.map { JSONValue(Int($0)) })) }
    }

    private func milliseconds(_ nanoseconds: Int64) -> Double {
        (Double(nanoseconds) / 1000).rounded() / 1000
    }
}
