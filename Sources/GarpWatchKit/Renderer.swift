import PacketCore
import ToolSupport

/// Turns events, the binding table and verdicts into text lines (tcpdump-like, stable, greppable) or JSON
/// Lines (one object per line, stable field names). Text is built only here, never on the per-frame path.
public struct Renderer: Sendable {
    public var nodes: NodeMap
    public var json: Bool

    public init(nodes: NodeMap = NodeMap(), json: Bool = false) {
        self.nodes = nodes
        self.json = json
    }

    // MARK: Events

    public func line(_ event: Event) -> String {
        json ? jsonLine(event).text : textLine(event)
    }

    public func textLine(_ event: Event) -> String {
        var text = "\(event.time.iso8601) \(event.kind.rawValue) \(event.key) "
        switch event.kind {
        case .newStation:
            text += nodes.label(event.mac)
        case .changedEthernetAddress, .flipFlop, .reusedOldEthernetAddress:
            text += nodes.label(event.mac) + " was " + (event.oldMAC.map(nodes.label) ?? "?")
        case .ethernetMismatch:
            text += nodes.label(event.mac) + " frame source " + (event.frameSource?.description ?? "?")
        case .ethernetBroadcast:
            text += "sender MAC \(event.mac) is not a station address"
        case .bogon:
            text += nodes.label(event.mac) + " is outside --local-net"
        case .takeover:
            text += (event.oldMAC.map(nodes.label) ?? "?") + " -> " + nodes.label(event.mac)
            if let takeover = event.takeover {
                text += " gap \(Formatting.milliseconds(takeover.gapNanoseconds)) ms"
                text += takeover.isUnannounced ? " unannounced (no gratuitous frame)" : " " + Self.describe(takeover.burst)
            }
        case .splitBrain:
            text += (event.conflict?.macs ?? [event.mac]).map(nodes.label).joined(separator: ", ")
        case .splitBrainResolved:
            text += "owner " + nodes.label(event.mac)
            if let conflict = event.conflict {
                text += " after \(conflict.flips) flips over \(Formatting.fixed(Double(conflict.durationNanoseconds) / 1e9, decimals: 3)) s"
            }
        case .lint:
            text += nodes.label(event.mac)
            if let lint = event.lint, let entry = Observation.Lint.all.first(where: { $0.0 == lint }) {
                text += " \(entry.1): \(entry.2)"
            }
        }
        if let frame = event.frameKind, event.kind != .takeover { text += " [\(frame.rawValue)]" }
        return text
    }

    /// `burst 10 frames in 5 rounds every 1.100 s over 4.400 s`
    static func describe(_ burst: Burst) -> String {
        var text = "burst \(burst.frames) frame\(burst.frames == 1 ? "" : "s") in \(burst.rounds) round\(burst.rounds == 1 ? "" : "s")"
        if let spacing = burst.roundSpacingNanoseconds {
            text += " every \(Formatting.fixed(Double(spacing) / 1e9, decimals: 3)) s"
        }
        return text + " over \(Formatting.fixed(Double(burst.durationNanoseconds) / 1e9, decimals: 3)) s"
    }

    public func jsonLine(_ event: Event) -> JSONLine {
        var line = JSONLine()
        line.add("event", event.kind.rawValue)
        line.add("time", event.time)
        addKey(&line, event.key)
        line.add("mac", event.mac.description)
        line.add("node", nodes.name(of: event.mac))
        line.add("old_mac", event.oldMAC?.description)
        line.add("old_node", event.oldMAC.flatMap(nodes.name(of:)))
        line.add("frame", event.frameKind?.rawValue)
        line.add("frame_source", event.frameSource?.description)
        if let takeover = event.takeover {
            line.add("gap_ms", milliseconds(takeover.gapNanoseconds))
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
        if let lint = event.lint, let entry = Observation.Lint.all.first(where: { $0.0 == lint }) {
            line.add("lint", entry.1)
            line.add("reason", entry.2)
        }
        return line
    }

    // MARK: Summary

    public func summary(_ analyzer: Analyzer) -> [String] {
        let counters = analyzer.counters
        let seen = analyzer.bindings.filter { $0.frames > 0 }.sorted { $0.key < $1.key }
        var lines: [String] = []
        if json {
            for binding in seen { lines.append(bindingJSON(binding).text) }
            var line = JSONLine()
            line.add("event", "summary")
            line.add("frames", counters.frames)
            line.add("arp", counters.arp)
            line.add("ndp", counters.ndp)
            line.add("probes", counters.probes)
            line.add("out_of_scope", counters.outOfScope)
            line.add("truncated", counters.truncated)
            line.add("malformed", counters.malformed)
            line.add("unsupported", counters.unsupported)
            line.add("addresses", seen.count)
            line.add("takeovers", seen.reduce(0) { $0 + $1.takeovers })
            line.add("conflicts", seen.reduce(0) { $0 + $1.conflicts })
            lines.append(line.text)
            return lines
        }
        lines.append(
            "summary: \(counters.frames) frames (\(counters.arp) ARP, \(counters.ndp) NDP, \(counters.probes) probes, "
                + "\(counters.outOfScope) out of scope), \(counters.truncated) truncated, \(counters.malformed) malformed, "
                + "\(counters.unsupported) unsupported; \(seen.count) address\(seen.count == 1 ? "" : "es")")
        for binding in seen {
            var text = "  \(binding.key) owner \(nodes.label(binding.owner)) since \(binding.ownerSince.iso8601)"
            text += "; first \(binding.firstSeen.iso8601) last \(binding.lastSeen.iso8601)"
            text += "; frames \(binding.frames) gratuitous \(binding.gratuitous) takeovers \(binding.takeovers)"
            text += " conflicts \(binding.conflicts)"
            if let conflict = binding.conflict {
                text += " (split-brain ongoing: \(conflict.macs.map(nodes.label).joined(separator: ", ")))"
            }
            let others = binding.activeClaimants.filter { $0.mac != binding.owner }
            if !others.isEmpty {
                text += "; also " + others.map { "\(nodes.label($0.mac)) x\($0.frames)" }.joined(separator: ", ")
            }
            lines.append(text)
        }
        return lines
    }

    public func bindingJSON(_ binding: Binding) -> JSONLine {
        var line = JSONLine()
        line.add("event", "binding")
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

    // MARK: Verdicts

    public func line(_ verdict: Verdict) -> String {
        if json {
            var line = JSONLine()
            line.add("event", "verdict")
            line.add("expect", verdict.expectation.description)
            line.add("ip", verdict.expectation.ip.description)
            line.add("outcome", verdict.outcome.rawValue)
            line.add("exit_status", Int(verdict.outcome.exitStatus))
            line.add("expected", list: verdict.expected)
            line.add("seen", list: verdict.seen)
            line.add("seen_nodes", list: verdict.seen.compactMap(nodes.name(of:)))
            return line.text
        }
        let seen = verdict.seen.isEmpty ? "nothing" : verdict.seen.map(nodes.label).joined(separator: ", ")
        return "expect \(verdict.expectation): \(verdict.outcome.rawValue) (exit \(verdict.outcome.exitStatus)); seen \(seen)"
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
