import PacketCore
import ToolSupport

/// Text and JSON Lines for events, tables and summaries. Field names of the JSON output are documented in
/// `bgpdecode --help` and docs/json.md and are stable: add, never rename.
public enum BGPRender {
    // MARK: Events

    /// One line per event; nil for KEEPALIVEs unless `keepalives` is set.
    public static func text(_ event: BGPEvent, keepalives: Bool = false) -> String? {
        let origin = event.origin
        let prefix = "\(origin.timestamp.iso8601) \(origin.session)"
        switch event {
        case .open(_, let open):
            var line = "\(prefix) OPEN as \(open.autonomousSystem) hold \(open.holdTime) id \(open.identifier)"
            if !open.capabilities.isEmpty {
                line += " caps [" + open.capabilities.map(\.description).joined(separator: "; ") + "]"
            }
            return line
        case .keepalive:
            return keepalives ? "\(prefix) KEEPALIVE" : nil
        case .notification(_, let notification):
            return "\(prefix) NOTIFICATION \(notification)"
        case .routeRefresh(_, let refresh):
            return "\(prefix) ROUTE-REFRESH \(refresh)"
        case .endOfRIB(_, let family, let flushed):
            return "\(prefix) END-OF-RIB \(family)" + (flushed > 0 ? " (\(flushed) stale routes flushed)" : "")
        case .announce(_, let key, let path, let replaced):
            return "\(prefix) \(replaced ? "replace" : "announce") \(key.family) \(key) \(path.summary)"
        case .withdraw(_, let key, let reason, let wasPresent, let rejected):
            var line = "\(prefix) withdraw \(key.family) \(key)"
            if reason != .withdrawn { line += " (\(reason.rawValue))" }
            if !wasPresent { line += " (was not announced)" }
            if let rejected { line += " rejected: \(rejected.summary)" }
            return line
        case .attributeProblem(_, let problem):
            return "\(prefix) MALFORMED \(problem)"
        case .sessionDown(_, let reason, let withdrawn, let stale):
            return "\(prefix) SESSION-DOWN \(reason): \(withdrawn) routes withdrawn"
                + (stale > 0 ? ", \(stale) kept as stale (graceful restart)" : "")
        case .decodeError(_, let error):
            return "\(prefix) ERROR \(error)"
        case .contextNote(_, let text):
            return "\(prefix) NOTE \(text)"
        case .stateChange(_, let old, let new):
            return "\(prefix) STATE \(MRTBGP4MP.stateName(old)) -> \(MRTBGP4MP.stateName(new))"
        case .other(_, let type):
            return "\(prefix) \(type) (not decoded)"
        case .gap(_, let lost):
            return "\(prefix) GAP stream bytes \(lost.lowerBound)-\(lost.upperBound) lost (\(lost.count) bytes "
                + "not captured or beyond the reassembly limits): the messages in them are missing"
        case .truncatedMessage(_, let received, let length):
            return "\(prefix) TRUNCATED message at stream byte \(origin.offset), "
                + (length.map { "\(received) of \($0) bytes" } ?? "\(received) bytes of its header")
                + " (the stream ends inside it)"
        }
    }

    /// One JSON object per event; nil for KEEPALIVEs unless `keepalives` is set. `interface` is a live
    /// capture's (`-i`).
    public static func json(
        _ event: BGPEvent, keepalives: Bool = false, envelope: JSONEnvelope, interface: String? = nil
    ) -> JSONLine? {
        let origin = event.origin
        var line = JSONLine()
        func head(_ event: String) {
            line = envelope.object(event, time: origin.timestamp, interface: interface)
            line.add("speaker", origin.session.speaker)
            line.add("peer", origin.session.peer)
            line.add("offset", origin.offset)
        }
        switch event {
        case .open(_, let open):
            head("open")
            line.add("as", open.autonomousSystem)
            line.add("my_as", open.myAS)
            line.add("hold_time", open.holdTime)
            line.add("identifier", open.identifier)
            line.add("capability_codes", JSONValue(open.capabilities.map { JSONValue($0.code.rawValue) }))
            line.add("capabilities", list: open.capabilities)
        case .keepalive:
            guard keepalives else { return nil }
            head("keepalive")
        case .notification(_, let notification):
            head("notification")
            line.add("code", notification.code)
            line.add("subcode", notification.subcode)
            line.add("name", BGPNotification.name(code: notification.code, subcode: notification.subcode))
            line.add("shutdown_communication", notification.shutdownCommunication)
            if let cause = notification.hardResetCause {
                line.add("hard_reset_code", cause.code)
                line.add("hard_reset_subcode", cause.subcode)
            }
        case .routeRefresh(_, let refresh):
            head("route_refresh")
            line.add("family", refresh.family)
            line.add("subtype", refresh.subtypeName)
        case .endOfRIB(_, let family, let flushed):
            head("end_of_rib")
            line.add("family", family)
            line.add("stale_flushed", flushed)
        case .announce(_, let key, let path, let replaced):
            head("announce")
            addRoute(&line, key)
            addPath(&line, path)
            line.add("replaced", replaced)
        case .withdraw(_, let key, let reason, let wasPresent, let rejected):
            head("withdraw")
            addRoute(&line, key)
            line.add("reason", reason.rawValue)
            line.add("was_present", wasPresent)
            if let rejected {
                var attributes = JSONLine()
                addPath(&attributes, rejected)
                line.add("rejected", attributes)
            }
        case .attributeProblem(_, let problem):
            head("malformed_attribute")
            line.add("attribute", problem.type?.description)
            line.add("problem_offset", problem.offset)
            line.add("reason", problem.reason)
            line.add("outcome", problem.outcome.rawValue)
        case .sessionDown(_, let reason, let withdrawn, let stale):
            head("session_down")
            line.add("reason", reason)
            line.add("withdrawn", withdrawn)
            line.add("stale", stale)
        case .decodeError(_, let error):
            head("error")
            line.add("kind", error.kind.rawValue)
            line.add("error_offset", error.offset)
            line.add("layer", error.layer.name)
            line.add("reason", error.reason.description)
        case .contextNote(_, let text):
            head("note")
            line.add("text", text)
        case .stateChange(_, let old, let new):
            head("state_change")
            line.add("old_state", MRTBGP4MP.stateName(old))
            line.add("new_state", MRTBGP4MP.stateName(new))
        case .other(_, let messageType):
            head("other")
            line.add("message_type", messageType.rawValue)
        case .gap(_, let lost):
            head("gap")
            line.add("start", lost.lowerBound)
            line.add("end", lost.upperBound)
            line.add("missing", lost.count)
        case .truncatedMessage(_, let received, let length):
            head("truncated_message")
            line.add("received", received)
            line.add("length", length)
        }
        return line
    }

    static func addRoute(_ line: inout JSONLine, _ key: BGPRouteKey) {
        line.add("family", key.family)
        line.add("prefix", key.prefix)
        if key.pathID != 0 { line.add("path_id", key.pathID) }
        if key.routeDistinguisher != nil {
            line.add("rd", BGPNLRI(prefix: key.prefix, routeDistinguisher: key.routeDistinguisher).description
                .split(separator: " ").dropFirst().first.map(String.init))
        }
    }

    static func addPath(_ line: inout JSONLine, _ path: BGPPath) {
        let attributes = path.attributes
        line.add("next_hop", path.nextHop?.address)
        line.add("next_hop_link_local", path.nextHop?.linkLocal)
        if let asPath = attributes.effectiveASPath {
            line.add("as_path", asPath.description)
            line.add("as_path_numbers", JSONValue(asPath.flattened.map { JSONValue($0) }))
        }
        if attributes.asSizeGuessed { line.add("as_size_guessed", attributes.asSize) }
        line.add("origin", attributes.origin?.description)
        line.add("med", attributes.multiExitDisc)
        line.add("local_pref", attributes.localPref)
        if attributes.atomicAggregate { line.add("atomic_aggregate", true) }
        line.add("aggregator", attributes.effectiveAggregator?.description)
        if !attributes.communities.isEmpty { line.add("communities", list: attributes.communities) }
        if !attributes.largeCommunities.isEmpty { line.add("large_communities", list: attributes.largeCommunities) }
        if !attributes.extendedCommunities.isEmpty {
            line.add("extended_communities", list: attributes.extendedCommunities)
        }
        line.add("originator_id", attributes.originatorID)
        if !attributes.clusterList.isEmpty { line.add("cluster_list", list: attributes.clusterList) }
        line.add("aigp", attributes.aigp)
        line.add("otc", attributes.onlyToCustomer)
    }

    // MARK: Tables and summaries

    /// The final table of every session, then flap counts: `--table` in text.
    public static func tableText(_ analyzer: BGPAnalyzer) -> String {
        var renderer = BGPTextRenderer()
        renderer.writeTable(analyzer)
        return renderer.output.string
    }

    public static func sessionHeader(_ session: BGPSession) -> String {
        var line = "session \(session.key)"
        if let asn = session.speakerAS { line += " as \(asn)" }
        let families = session.hot.table.familyCounts.map { "\($0.family) \($0.count)" }.joined(separator: ", ")
        line += ": \(session.hot.table.count) routes" + (families.isEmpty ? "" : " (\(families))")
        let stale = session.staleCount
        if stale > 0 { line += ", \(stale) stale" }
        line += session.isUp ? ", up" : ", down (\(session.downReason ?? "?"))"
        if let endedAt = session.endedAt {
            line += " at \(endedAt.iso8601), \(session.endedRoutes.count) withdrawn at session end"
        }
        if session.earlierSessions > 0 {
            line += ", \(session.earlierSessions) earlier \(session.earlierSessions == 1 ? "session" : "sessions")"
        }
        line += ", context \(session.contextSource.rawValue)"
        line += "; \(session.messages) messages, \(session.updates) updates, \(session.announcements) announced, "
            + "\(session.withdrawals) withdrawn"
        if !session.endOfRIB.isEmpty {
            line += ", end-of-rib " + session.endOfRIB.sorted().map(\.description).joined(separator: ",")
        }
        if session.decodeErrors > 0 { line += ", \(session.decodeErrors) decode errors" }
        if session.gaps > 0 {
            line += ", \(session.gaps) \(session.gaps == 1 ? "gap" : "gaps") (\(session.lostBytes) bytes lost)"
        }
        if session.truncatedMessages > 0 { line += ", \(session.truncatedMessages) truncated message" }
        return line
    }

    /// Per-prefix flap counts (withdrawn, then announced again), most first.
    public static func flapsText(_ analyzer: BGPAnalyzer) -> String {
        var out = ""
        for session in analyzer.sortedSessions {
            // Computed once: each withdrawn key is looked up in the tables (BGPSession.flaps).
            let flaps = session.flaps
            guard !flaps.isEmpty else { continue }
            out += "flaps \(session.key):"
            for (key, count) in mostFlapped(flaps, 50) { out += " \(key)=\(count)" }
            if flaps.count > 50 { out += " (+\(flaps.count - 50) more)" }
            out += "\n"
        }
        return out
    }

    /// The `limit` prefixes that flapped most (most first, then in key order), picked in one pass with a
    /// `limit`-sized list. Why not sort all: a full table's tens of thousands of flap counts sorted as
    /// (key, count) pairs took 4 MB more at the end of the run, when the table is largest.
    static func mostFlapped(_ flaps: [BGPRouteKey: Int], _ limit: Int) -> [(key: BGPRouteKey, count: Int)] {
        func before(_ a: (key: BGPRouteKey, count: Int), _ b: (key: BGPRouteKey, count: Int)) -> Bool {
            a.count != b.count ? a.count > b.count : a.key < b.key
        }
        var top: [(key: BGPRouteKey, count: Int)] = []
        top.reserveCapacity(limit + 1)
        for (key, count) in flaps {
            let item = (key: key, count: count)
            if top.count == limit, let last = top.last, !before(item, last) { continue }
            var index = top.count
            while index > 0, before(item, top[index - 1]) { index -= 1 }
            top.insert(item, at: index)
            if top.count > limit { top.removeLast() }
        }
        return top
    }

    /// The summary for text mode after the events: one header line per session, then flaps.
    public static func summaryText(_ analyzer: BGPAnalyzer) -> String {
        analyzer.sortedSessions.map { sessionHeader($0) + "\n" }.joined() + flapsText(analyzer)
    }

    /// `--table --json`: one `route` object per route, then one `session` object per session. `time` is the
    /// last message's (`BGPAnalyzer.lastMessageTime`).
    public static func tableJSON(
        _ analyzer: BGPAnalyzer, routes: Bool = true, envelope: JSONEnvelope, time: Timestamp
    ) -> [JSONLine] {
        var lines: [JSONLine] = []
        for session in analyzer.sortedSessions {
            if routes {
                session.routes.forEachSorted { key, route in
                    lines.append(routeJSON(session, key, route, analyzer.path(route.pathID), envelope: envelope, time: time))
                }
                session.endedRoutes.forEachSorted { key, route in
                    lines.append(routeJSON(session, key, route, analyzer.path(route.pathID), envelope: envelope, time: time,
                        endedAt: session.endedAt))
                }
            }
            lines.append(sessionJSON(session, envelope: envelope, time: time))
        }
        return lines
    }

    /// The `session` object of `--table --json`.
    public static func sessionJSON(_ session: BGPSession, envelope: JSONEnvelope, time: Timestamp) -> JSONLine {
        var line = envelope.object("session", time: time)
        line.add("speaker", session.key.speaker)
        line.add("peer", session.key.peer)
        line.add("as", session.speakerAS)
        line.add("routes", session.routes.count)
        line.add("stale", session.staleCount)
        line.add("up", session.isUp)
        line.add("down_reason", session.downReason)
        line.add("ended_at", session.endedAt)
        if session.endedAt != nil { line.add("withdrawn_at_end", session.endedRoutes.count) }
        if session.earlierSessions > 0 { line.add("earlier_sessions", session.earlierSessions) }
        line.add("context", session.contextSource.rawValue)
        line.add("messages", session.messages)
        line.add("updates", session.updates)
        line.add("announced", session.announcements)
        line.add("withdrawn", session.withdrawals)
        line.add("decode_errors", session.decodeErrors)
        line.add("gaps", session.gaps)
        line.add("lost_bytes", session.lostBytes)
        line.add("truncated_messages", session.truncatedMessages)
        line.add("end_of_rib", list: session.endOfRIB.sorted())
        // A list of objects, never keyed by prefix: keys are the schema, prefixes are data.
        let flaps = session.flaps
        if !flaps.isEmpty {
            line.add("flaps", JSONValue(flaps.sorted(by: { $0.key < $1.key }).map { key, count in
                var item = JSONLine()
                addRoute(&item, key)
                item.add("count", count)
                return JSONValue(item)
            }))
        }
        return line
    }

    /// The `route` object of `--table --json`.
    /// `endedAt`: the route is from the last table before the session ended at that time (`endedRoutes`).
    public static func routeJSON(
        _ session: BGPSession, _ key: BGPRouteKey, _ route: BGPRoute, _ path: BGPPath, envelope: JSONEnvelope,
        time: Timestamp, endedAt: Timestamp? = nil
    ) -> JSONLine {
        var line = envelope.object("route", time: time)
        line.add("speaker", session.key.speaker)
        line.add("peer", session.key.peer)
        addRoute(&line, key)
        addPath(&line, path)
        line.add("since", route.since)
        line.add("stale", route.stale)
        if let flaps = session.flaps[key] { line.add("flaps", flaps) }
        line.add("withdrawn_at_session_end", endedAt)
        return line
    }
}
