import PacketCore
import ToolSupport

/// A prefix the operator expects to be announced, optionally with its next hop.
public struct BGPExpectation: Sendable, Hashable, CustomStringConvertible {
    public var prefix: BGPPrefix
    public var nextHop: IPAddress?

    public init(prefix: BGPPrefix, nextHop: IPAddress? = nil) {
        self.prefix = prefix
        self.nextHop = nextHop
    }

    /// `198.51.100.10/32`, `198.51.100.10` (a host prefix) or `198.51.100.10/32 203.0.113.2`.
    public init?(line: some StringProtocol) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard (1...2).contains(fields.count), let prefix = IPPrefix(fields[0]) else { return nil }
        self.prefix = BGPPrefix(prefix)
        if fields.count == 2 {
            guard let nextHop = IPAddress(fields[1]) else { return nil }
            self.nextHop = nextHop
        }
    }

    /// An expect file: one expectation per line; blank lines and `#` comments are ignored. Returns the
    /// expectations, or the number of the first bad line.
    public static func parseFile(_ text: String) -> Result<[BGPExpectation], BadLine> {
        var expectations: [BGPExpectation] = []
        // "\r\n" is one Character in Swift: split on it too, or a CR LF file reads as one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in lines.enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            guard let expectation = BGPExpectation(line: line.trimmingCharacters(in: " \t\r")) else {
                return .failure(BadLine(number: index + 1, text: String(raw)))
            }
            expectations.append(expectation)
        }
        return .success(expectations)
    }

    public struct BadLine: Error, Sendable {
        public var number: Int
        public var text: String
    }

    public var description: String { nextHop.map { "\(prefix) via \($0)" } ?? prefix.description }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return text
    }
}

/// The verdict of `--expect-prefix`/`--expect-file`: the final announced set (routes of every session
/// whose speaker is `--peer`, or of every session) against the expectations.
public struct BGPVerification: Sendable {
    public static let missingCode: Int32 = 10
    public static let wrongNextHopCode: Int32 = 11
    public static let unexpectedCode: Int32 = 12
    public static let noSessionCode: Int32 = 13

    public var sessionsChecked: [BGPSessionKey] = []
    public var missing: [BGPExpectation] = []
    public var wrongNextHop: [(expected: BGPExpectation, actual: [String])] = []
    public var unexpected: [BGPPrefix] = []
    /// Expected prefixes present only as stale (graceful restart) routes: counted as present, reported.
    public var staleOnly: [BGPPrefix] = []
    public var matched: [BGPPrefix] = []
    /// Missing prefixes that were announced until a session end withdrew them (rather than never
    /// announced): the session, when it ended and why.
    public var lostAtSessionEnd: [BGPPrefix: (session: BGPSessionKey, at: Timestamp, reason: String)] = [:]
    /// Every checked session sent End-of-RIB for each family of the expected prefixes that its speaker
    /// announced in its OPEN (IPv4 unicast when it announced none): the speaker finished its initial
    /// update (RFC 4724 section 2). A listener's verdict waits for this or for a quiet `--settle`.
    public var endOfRIBFromEverySession = false
    /// Whether the input was read completely: a verdict on a partial input is not OK (see `exitCode`).
    public var input = BGPInputReport()

    /// `speakers`, when given, limits the sessions checked to those speakers (the listener's peers that
    /// reached Established).
    public init(
        analyzer: BGPAnalyzer, expectations: [BGPExpectation], peer: IPAddress?, speakers: Set<IPAddress>? = nil
    ) {
        let sessions = analyzer.sortedSessions.filter {
            (peer == nil || $0.key.speaker == peer) && (speakers?.contains($0.key.speaker) ?? true)
        }
        sessionsChecked = sessions.map(\.key)
        // Per prefix: one path id (and any others in a side table: rare), and whether a fresh route exists.
        var announced: [BGPPrefix: (path: Int32, fresh: Bool)] = [:]
        var otherPaths: [BGPPrefix: [Int32]] = [:]
        for session in sessions {
            for (key, route) in session.routes {
                if let entry = announced[key.prefix] {
                    if entry.path != route.pathID { otherPaths[key.prefix, default: []].append(route.pathID) }
                    if !entry.fresh && !route.stale { announced[key.prefix]?.fresh = true }
                } else {
                    announced[key.prefix] = (route.pathID, !route.stale)
                }
            }
        }
        func nextHops(_ prefix: BGPPrefix) -> Set<String> {
            var hops: Set<String> = []
            for id in [announced[prefix]?.path].compactMap({ $0 }) + (otherPaths[prefix] ?? []) {
                guard let nextHop = analyzer.path(id).nextHop else { continue }
                if let address = nextHop.address { hops.insert(address.description) }
                if let linkLocal = nextHop.linkLocal { hops.insert(linkLocal.description) }
            }
            return hops
        }
        var expectedPrefixes: Set<BGPPrefix> = []
        for expectation in expectations {
            expectedPrefixes.insert(expectation.prefix)
            guard let entry = announced[expectation.prefix] else {
                missing.append(expectation)
                continue
            }
            if !entry.fresh { staleOnly.append(expectation.prefix) }
            if let nextHop = expectation.nextHop, case let hops = nextHops(expectation.prefix),
                !hops.contains(nextHop.description)
            {
                wrongNextHop.append((expectation, hops.sorted()))
            } else {
                matched.append(expectation.prefix)
            }
        }
        unexpected = announced.keys.filter { !expectedPrefixes.contains($0) }.sorted()
        let wanted = Set(expectations.map { $0.prefix.isIPv6 ? BGPAddressFamily.ipv6Unicast : .ipv4Unicast })
        endOfRIBFromEverySession = !sessions.isEmpty && sessions.allSatisfy { session in
            let offered = session.speakerOpen.map { $0.multiprotocolFamilies.isEmpty ? [.ipv4Unicast] : $0.multiprotocolFamilies }
                ?? [.ipv4Unicast]
            return wanted.intersection(offered).isSubset(of: session.endOfRIB)
        }
        if !missing.isEmpty {
            let missingPrefixes = Set(missing.map(\.prefix))
            for session in sessions {
                guard let endedAt = session.endedAt else { continue }
                for (key, _) in session.endedRoutes where missingPrefixes.contains(key.prefix) {
                    lostAtSessionEnd[key.prefix] = (session.key, endedAt, session.downReason ?? "?")
                }
            }
        }
    }

    /// 0 when the announced set matches; else the first that applies of 2 (interrupted), 1 (the input was
    /// not read completely: a verdict on part of it cannot be trusted), 13 (no session from --peer), 10
    /// (missing), 11 (wrong next hop), 12 (unexpected).
    public var exitCode: Int32 {
        if input.status != 0 { return input.status }
        if sessionsChecked.isEmpty { return Self.noSessionCode }
        if !missing.isEmpty { return Self.missingCode }
        if !wrongNextHop.isEmpty { return Self.wrongNextHopCode }
        if !unexpected.isEmpty { return Self.unexpectedCode }
        return 0
    }

    /// The verdict as one `--json` object: `{"event":"verdict",...,"exit_status":N,"matched":[...],...}`; `time`
    /// is the last message's (`BGPAnalyzer.lastMessageTime`), or the wall clock when none was read.
    public func json(envelope: JSONEnvelope, time: Timestamp) -> JSONLine {
        var line = envelope.object("verdict", time: time)
        line.add("exit_status", exitCode)
        line.add("matched", list: matched)
        line.add("missing", list: missing.map(\.prefix))
        line.add("wrong_next_hop", list: wrongNextHop.map(\.expected.prefix))
        line.add("unexpected", list: unexpected)
        line.add("stale", list: staleOnly)
        line.add("lost_at_session_end", list: missing.map(\.prefix).filter { lostAtSessionEnd[$0] != nil })
        line.add("complete", input.isComplete)
        if !input.problems.isEmpty { line.add("problems", list: input.problems) }
        if input.interrupted { line.add("interrupted", true) }
        return line
    }

    /// A readable report, one finding per line, ending with the verdict.
    public var report: String {
        var lines: [String] = []
        if sessionsChecked.isEmpty { lines.append("verify: no BGP session from that speaker in the input") }
        for expectation in missing {
            if let lost = lostAtSessionEnd[expectation.prefix] {
                lines.append("verify: MISSING \(expectation) (withdrawn at session end \(lost.at.iso8601), "
                    + "session \(lost.session) \(PrintableText.escaped(lost.reason)))")
            } else {
                lines.append("verify: MISSING \(expectation)")
            }
        }
        for (expectation, actual) in wrongNextHop {
            lines.append("verify: WRONG-NEXT-HOP \(expectation.prefix) expected \(expectation.nextHop.map(\.description) ?? "?") "
                + "announced via \(actual.isEmpty ? "(none)" : actual.joined(separator: ","))")
        }
        for prefix in unexpected { lines.append("verify: UNEXPECTED \(prefix)") }
        for prefix in staleOnly { lines.append("verify: STALE \(prefix) (only kept by graceful restart)") }
        if input.interrupted { lines.append("verify: INCOMPLETE interrupted before the end of the input") }
        for problem in input.problems { lines.append("verify: INCOMPLETE \(problem)") }
        let verdict = exitCode == 0 ? "OK" : "FAIL"
        lines.append("verify: \(verdict): \(matched.count) matched, \(missing.count) missing, \(wrongNextHop.count) "
            + "wrong next hop, \(unexpected.count) unexpected, sessions "
            + (sessionsChecked.isEmpty ? "none" : sessionsChecked.map(\.description).joined(separator: ", ")))
        return lines.joined(separator: "\n") + "\n"
    }
}
