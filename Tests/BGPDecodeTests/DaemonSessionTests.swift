import BGPDecodeKit
import Capture
import Foundation
import PacketCore
import Testing

/// Sessions between real daemons (captures/bgpdecode/, recorded by scripts/record-bgpdecode-captures; see the
/// README there) decoded through BGPDecodeKit and checked against two independent oracles, both saved at
/// recording time so these tests read files only:
/// - tshark's decode of every message (expected/NAME.json, scripts/lab/tshark-bgp-messages.py, which walks
///   tshark's protocol tree so an ADD-PATH path id stays paired with its prefix);
/// - the receiving daemon's own RIB (NAME.rib-LABEL.json: FRR's `show bgp ... detail json`, BIRD's
///   `show route all`, normalised by scripts/lab/rib-snapshot.py), taken at a known host time: the capture is
///   decoded up to that time and the speaker's table compared with what the daemon holds.
///
/// Where tshark could be wrong: it guesses 2- vs 4-byte AS numbers and ADD-PATH per packet instead of reading
/// them from the OPENs. In these captures every session negotiated 4-byte AS, and every AS_PATH holds a
/// number above 65535 (or is empty), so its guess lands on 4 bytes (its 2-byte reading does not parse); and
/// its ADD-PATH guess decodes ExaBGP's path ids right, even in the mid-stream capture, because the NLRI of
/// these /32s and /128s with a path id do not parse as plain NLRI. So tshark is not wrong in these captures;
/// `tsharkGuessesAgree` pins the AS-size premise, so a re-recording that breaks tshark's guess fails there
/// (tshark's error) rather than in the comparisons (which would then wrongly blame bgpdecode).
@Suite("Daemon sessions against tshark and the daemons' RIBs")
struct DaemonSessionTests {
    static let captures = ["gobgp-frr-metallb", "gobgp-frr-graceful-restart", "exabgp-bird-addpath",
        "exabgp-bird-midstream"]

    /// Every RIB snapshot: capture, label, the speaker whose table the receiving daemon shows.
    static let snapshots: [(capture: String, label: String, speaker: String)] = [
        ("gobgp-frr-metallb", "before-shutdown", "203.0.113.1"),
        ("gobgp-frr-metallb", "after-shutdown", "203.0.113.1"),
        ("gobgp-frr-graceful-restart", "before-restart", "203.0.113.1"),
        ("gobgp-frr-graceful-restart", "during-restart", "203.0.113.1"),
        ("gobgp-frr-graceful-restart", "after-restart", "203.0.113.1"),
        ("exabgp-bird-addpath", "before-feed", "203.0.113.1"),
        ("exabgp-bird-addpath", "end", "203.0.113.1"),
    ]

    // MARK: Against tshark

    @Test(arguments: captures)
    func routesAndAttributesMatchTshark(name: String) throws {
        let decoded = try DaemonCapture.decode(name)
        let oracle = try DaemonCapture.tshark(name)
        var theirs: [String] = []
        for message in oracle where message["type"] as? Int == 2 {
            let speaker = message["src"] as? String ?? "?"
            for route in message["routes"] as? [[String: Any]] ?? [] {
                let key = "\(speaker) \(route["family"] ?? "?") \(route["prefix"] ?? "?") "
                    + "id \(route["path_id"] as? Int ?? 0)"
                if route["op"] as? String == "withdraw" {
                    theirs.append("withdraw \(key)")
                } else {
                    theirs.append("announce \(key) | " + DaemonCapture.tsharkAttributes(message))
                }
            }
        }
        var ours: [String] = []
        for event in decoded.events {
            switch event {
            case .announce(let origin, let key, let path, _):
                ours.append("announce \(origin.session.speaker) \(key.family) \(key.prefix) id \(key.pathID) | "
                    + DaemonCapture.attributes(path))
            case .withdraw(let origin, let key, .withdrawn, _, _):
                ours.append("withdraw \(origin.session.speaker) \(key.family) \(key.prefix) id \(key.pathID)")
            default: break
            }
        }
        #expect(!theirs.isEmpty)
        #expect(ours.sorted() == theirs.sorted())
        #expect(!decoded.events.contains { if case .decodeError = $0 { true } else { false } })
        #expect(!decoded.events.contains { if case .attributeProblem = $0 { true } else { false } })
    }

    @Test(arguments: captures)
    func opensEndOfRIBAndNotificationsMatchTshark(name: String) throws {
        let decoded = try DaemonCapture.decode(name)
        let oracle = try DaemonCapture.tshark(name)
        var theirs: [String] = []
        for message in oracle {
            let speaker = message["src"] as? String ?? "?"
            switch message["type"] as? Int {
            case 1:
                var text = "open \(speaker) as \(message["as4"] ?? "none") my \(message["my_as"] ?? "?") "
                    + "hold \(message["hold_time"] ?? "?") id \(message["identifier"] ?? "?") caps "
                    + (message["capability_codes"] as? [Int] ?? []).map(String.init).joined(separator: ",")
                if let restart = message["graceful_restart"] as? [String: Any] {
                    text += " gr r=\(restart["restart"] as? Bool ?? false) "
                        + "n=\(restart["notification"] as? Bool ?? false) "
                        + (restart["families"] as? [[String: Any]] ?? []).map {
                            "\($0["family"] ?? "?")/f=\($0["forwarding"] as? Bool ?? false)"
                        }.joined(separator: ",")
                }
                theirs.append(text)
            case 2:
                if let family = message["end_of_rib"] as? String { theirs.append("eor \(speaker) \(family)") }
            case 3:
                theirs.append("notification \(speaker) \(message["code"] ?? "?")/\(message["subcode"] ?? "?") "
                    + (message["communication"] as? String ?? ""))
            default: break
            }
        }
        var ours: [String] = []
        for event in decoded.events {
            switch event {
            case .open(let origin, let open):
                var text = "open \(origin.session.speaker) as "
                    + (open.supportsFourOctetAS ? "\(open.autonomousSystem)" : "none")
                    + " my \(open.myAS) hold \(open.holdTime) id \(open.identifier) caps "
                    + open.capabilities.map { String($0.code.rawValue) }.joined(separator: ",")
                if let restart = open.gracefulRestart {
                    text += " gr r=\(restart.restarting) n=\(restart.notificationSupport) "
                        + restart.families.map { "\($0.family)/f=\($0.forwardingPreserved)" }.joined(separator: ",")
                }
                ours.append(text)
            case .endOfRIB(let origin, let family, _):
                ours.append("eor \(origin.session.speaker) \(family)")
            case .notification(let origin, let notification):
                ours.append("notification \(origin.session.speaker) \(notification.code)/\(notification.subcode) "
                    + (notification.shutdownCommunication ?? ""))
            default: break
            }
        }
        #expect(ours.sorted() == theirs.sorted())
    }

    /// The premises of comparing with tshark at all (see the suite comment): if a re-recording makes tshark
    /// guess 2-byte AS numbers, the AS_PATH comparison above is tshark's error, not ours.
    @Test(arguments: captures)
    func tsharkGuessesAgree(name: String) throws {
        for message in try DaemonCapture.tshark(name) where message["as_path"] != nil {
            let path = message["as_path"] as? [Int] ?? []
            #expect(path.isEmpty || message["as_path_size"] as? Int == 4, "frame \(message["frame"] ?? "?")")
        }
    }

    // MARK: Against the receiving daemon's RIB

    @Test(arguments: snapshots.indices)
    func tableMatchesDaemonRIB(index: Int) throws {
        let snapshot = Self.snapshots[index]
        let rib = try DaemonCapture.rib(snapshot.capture, snapshot.label)
        let decoded = try DaemonCapture.decode(snapshot.capture, until: rib.takenAt)
        let speaker = try #require(IPAddress(snapshot.speaker))
        let session = decoded.analyzer.sessions.values.first { $0.key.speaker == speaker }
        // The daemon's view: its routes from this speaker (BIRD also lists its own static route).
        let theirRoutes = rib.routes.filter { ($0["protocol"] as? String ?? "bgp") != "svc4" }
        let keys = Set(theirRoutes.flatMap { $0.keys }).subtracting(["protocol", "peer", "since"])
        let theirs = theirRoutes.map { DaemonCapture.ribLine($0, keys: keys) }
        let ours = (session?.routes ?? [:]).map { key, route in
            DaemonCapture.ribLine(DaemonCapture.ribFields(key, route, decoded.analyzer), keys: keys)
        }
        #expect(ours.sorted() == theirs.sorted(), "\(snapshot.capture) \(snapshot.label)")
    }

    // MARK: Session behaviour

    @Test func metallbSpeakerOnePrefixPerUpdateThenCease() throws {
        let decoded = try DaemonCapture.decode("gobgp-frr-metallb")
        let gobgp = try #require(IPAddress("203.0.113.1"))
        // Like MetalLB's native speaker, GoBGP sends each service IP in its own UPDATE (tshark: one prefix in
        // each of its announcing messages).
        let oracle = try DaemonCapture.tshark("gobgp-frr-metallb").filter { $0["src"] as? String == "203.0.113.1" }
        let perMessage = oracle.compactMap { message -> Int? in
            let routes = message["routes"] as? [[String: Any]] ?? []
            return routes.contains { $0["op"] as? String == "announce" } ? routes.count : nil
        }
        #expect(!perMessage.isEmpty && perMessage.allSatisfy { $0 == 1 })
        var offsets: [Int: Int] = [:]
        for case .announce(let origin, _, _, _) in decoded.events where origin.session.speaker == gobgp {
            offsets[origin.offset, default: 0] += 1
        }
        #expect(offsets.count == perMessage.count && offsets.values.allSatisfy { $0 == 1 })
        // The Cease (RFC 8203 text) takes every route of both directions down with it.
        let session = try #require(decoded.analyzer.sessions.values.first { $0.key.speaker == gobgp })
        #expect(!session.isUp)
        #expect(session.routes.isEmpty)
        #expect(session.lastNotification?.code == 6 && session.lastNotification?.subcode == 2)
        let downs = decoded.withdrawals.filter { $0.0.speaker == gobgp && $0.2 == .sessionDown }
        #expect(downs.count == 4)
        // GoBGP's capabilities by name: FQDN (73) and 4-octet AS 4200000010.
        let open = try #require(session.speakerOpen)
        #expect(open.capabilities.contains { $0.code.rawValue == 73 })
        #expect(open.autonomousSystem == 4_200_000_010 && open.myAS == 23456)
    }

    @Test func gracefulRestartMarksStaleAndFlushesAtEndOfRIB() throws {
        let name = "gobgp-frr-graceful-restart"
        let gobgp = try #require(IPAddress("203.0.113.1"))
        // While gobgpd is down FRR holds all four routes as stale (its own view), and so do we.
        let during = try DaemonCapture.rib(name, "during-restart")
        #expect(during.routes.count == 4 && during.routes.allSatisfy { $0["stale"] as? Bool == true })
        let halfway = try DaemonCapture.decode(name, until: during.takenAt)
        let stale = try #require(halfway.analyzer.sessions.values.first { $0.key.speaker == gobgp })
        #expect(!stale.isUp)
        #expect(stale.routes.count == 4 && stale.staleCount == 4)
        #expect(halfway.events.contains {
            if case .sessionDown(let origin, _, withdrawn: 0, stale: 4) = $0 {
                origin.session.speaker == gobgp
            } else { false }
        })
        // After the restart: .31, .32 and the IPv6 VIP re-announced (replacing the stale copies), then
        // End-of-RIB flushes the stale .33 that the restarted speaker no longer has.
        let decoded = try DaemonCapture.decode(name)
        let session = try #require(decoded.analyzer.sessions.values.first { $0.key.speaker == gobgp })
        #expect(session.isUp && session.staleCount == 0)
        let flushed = decoded.withdrawals.filter { $0.0.speaker == gobgp && $0.2 == .staleFlushed }
            .map { "\($0.1.prefix)" }
        #expect(flushed == ["198.51.100.33/32"])
        let replaced = decoded.events.compactMap {
            if case .announce(let origin, let key, _, replaced: true) = $0, origin.session.speaker == gobgp {
                "\(key.prefix)"
            } else { nil }
        }
        #expect(Set(replaced) == ["198.51.100.31/32", "198.51.100.32/32", "2001:db8:51::31/128"])
        let eorFlush = decoded.events.compactMap {
            if case .endOfRIB(let origin, let family, let count) = $0, origin.session.speaker == gobgp, count > 0 {
                "\(family) \(count)"
            } else { nil }
        }
        #expect(eorFlush == ["ipv4-unicast 1"])
    }

    @Test func addPathKeepsPathIdentifiersApart() throws {
        let decoded = try DaemonCapture.decode("exabgp-bird-addpath")
        let exa = try #require(IPAddress("203.0.113.1"))
        let session = try #require(decoded.analyzer.sessions.values.first { $0.key.speaker == exa })
        #expect(session.contextSource == .open)
        // tshark's path ids for each prefix at the end (announced minus withdrawn) are the ids in our table.
        var theirs: [String: Set<Int>] = [:]
        let oracle = try DaemonCapture.tshark("exabgp-bird-addpath")
        for message in oracle where message["src"] as? String == "203.0.113.1" {
            for route in message["routes"] as? [[String: Any]] ?? [] {
                let prefix = route["prefix"] as? String ?? "?"
                let id = route["path_id"] as? Int ?? -1
                if route["op"] as? String == "withdraw" {
                    theirs[prefix]?.remove(id)
                } else {
                    theirs[prefix, default: []].insert(id)
                }
            }
        }
        var ours: [String: Set<Int>] = [:]
        for key in session.routes.keys { ours["\(key.prefix)", default: []].insert(Int(key.pathID)) }
        #expect(ours == theirs)
        // Two paths of one prefix, each with its own next hop, as BIRD shows them.
        #expect(ours["198.51.100.20/32"] == [1, 3] && ours["198.51.100.22/32"] == [1, 7])
        let hops = session.routes.filter { "\($0.key.prefix)" == "198.51.100.20/32" }
            .map { decoded.analyzer.path($0.value.pathID).nextHop?.address?.description ?? "-" }
        #expect(Set(hops) == ["203.0.113.1", "203.0.113.4"])
    }

    @Test func midStreamCaptureIsHeuristicAndMatchesDaemon() throws {
        let name = "exabgp-bird-midstream"
        let decoded = try DaemonCapture.decode(name)
        let exa = try #require(IPAddress("203.0.113.1"))
        #expect(!decoded.events.contains { if case .open = $0 { true } else { false } })
        #expect(decoded.events.contains {
            if case .contextNote(let origin, let text) = $0 {
                origin.session.speaker == exa && text.contains("heuristic")
            } else { false }
        })
        let session = try #require(decoded.analyzer.sessions.values.first { $0.key.speaker == exa })
        #expect(session.contextSource == .heuristic)
        #expect(session.isUp)
        // Both guesses (4-byte AS, ADD-PATH) are made and labelled on every announced path.
        let announced = decoded.announcements.filter { $0.0.speaker == exa }
        #expect(announced.count == 4)
        #expect(announced.allSatisfy {
            $0.2.attributes.asSizeGuessed && $0.2.attributes.asSize == 4 && $0.1.pathID != 0
        })
        // The table holds what BIRD learned after the capture started (its own timestamps), path ids apart.
        let rib = try DaemonCapture.rib(name, "end")
        let first = try DaemonCapture.firstPacketTime(name)
        let start = try #require(first)
        let learnedAfter = rib.routes.filter {
            $0["protocol"] as? String == "exa" && ($0["since"] as? Double ?? 0) >= start - 0.01
        }
        let keys: Set<String> = ["family", "prefix", "next_hop", "as_path", "med", "local_pref", "communities",
            "large_communities", "origin", "stale"]
        let theirs = learnedAfter.map { DaemonCapture.ribLine($0, keys: keys) }
        let ours = session.routes.map {
            DaemonCapture.ribLine(DaemonCapture.ribFields($0.key, $0.value, decoded.analyzer), keys: keys)
        }
        #expect(!theirs.isEmpty)
        #expect(ours.sorted() == theirs.sorted())
        // The withdrawal of a path announced before the cut is reported, and was not in the table.
        #expect(decoded.events.contains {
            if case .withdraw(_, let key, .withdrawn, wasPresent: false, _) = $0 { key.pathID == 2 } else { false }
        })
    }
}

/// Reading the daemon captures and their oracles.
enum DaemonCapture {
    static func path(_ name: String) -> String { Paths.bgpCaptures.appendingPathComponent("\(name).pcap").path }

    /// Decode a capture through BGPDecodeKit, up to and including packets at `until` (epoch seconds).
    static func decode(_ name: String, until: Double? = nil) throws -> Decoded {
        var events: [BGPEvent] = []
        let analyzer = BGPAnalyzer { events.append($0) }
        let decoder = BGPCaptureDecoder(analyzer: analyzer)
        let source = try PacketSource.openFile(path(name))
        try source.forEach(until: nil, shouldStop: { false }) { record in
            if let until, Double(record.timestamp.totalNanoseconds) / 1e9 > until { return .stop }
            decoder.process(record.bytes, linkType: record.linkType, originalLength: record.originalLength,
                timestamp: record.timestamp)
            return .continue
        }
        decoder.finish()
        analyzer.onEvent = nil
        return Decoded(analyzer: analyzer, events: events)
    }

    static func firstPacketTime(_ name: String) throws -> Double? {
        var first: Double?
        try PacketSource.openFile(path(name)).forEach(until: nil, shouldStop: { false }) { record in
            first = Double(record.timestamp.totalNanoseconds) / 1e9
            return .stop
        }
        return first
    }

    static func tshark(_ name: String) throws -> [[String: Any]] {
        let url = Paths.bgpCaptures.appendingPathComponent("expected/\(name).json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]] ?? []
    }

    static func rib(_ name: String, _ label: String) throws -> (takenAt: Double, routes: [[String: Any]]) {
        let url = Paths.bgpCaptures.appendingPathComponent("\(name).rib-\(label).json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        let takenAt = try #require(Double(json["taken_at"] as? String ?? ""))
        return (takenAt, json["routes"] as? [[String: Any]] ?? [])
    }

    /// tshark's attributes of an UPDATE, in the shape of `attributes(_:)`.
    static func tsharkAttributes(_ message: [String: Any]) -> String {
        let nextHop = (message["mp_next_hop"] ?? message["next_hop"]).map { "\($0)" } ?? "-"
        let linkLocal = message["mp_next_hop_link_local"].map { " \($0)" } ?? ""
        let path = (message["as_path"] as? [Int] ?? []).map(String.init).joined(separator: " ")
        return "via \(nextHop)\(linkLocal) path [\(path)] origin \(message["origin"] ?? "-") "
            + "med \(message["med"] ?? "-") lp \(message["local_pref"] ?? "-") "
            + "c [\((message["communities"] as? [String] ?? []).joined(separator: " "))] "
            + "lc [\((message["large_communities"] as? [String] ?? []).joined(separator: " "))]"
    }

    static func attributes(_ path: BGPPath) -> String {
        let attributes = path.attributes
        let linkLocal = path.nextHop?.linkLocal.map { " \($0)" } ?? ""
        let asPath = attributes.effectiveASPath?.flattened.map(String.init).joined(separator: " ") ?? ""
        return "via \(path.nextHop?.address?.description ?? "-")\(linkLocal) path [\(asPath)] "
            + "origin \(attributes.origin.map { "\($0)" } ?? "-") "
            + "med \(attributes.multiExitDisc.map(String.init) ?? "-") "
            + "lp \(attributes.localPref.map(String.init) ?? "-") "
            + "c [\(attributes.communities.map(\.description).joined(separator: " "))] "
            + "lc [\(attributes.largeCommunities.map(\.description).joined(separator: " "))]"
    }

    /// One of our table's routes as rib-snapshot.py's fields.
    static func ribFields(_ key: BGPRouteKey, _ route: BGPRoute, _ analyzer: BGPAnalyzer) -> [String: Any] {
        let path = analyzer.path(route.pathID)
        var fields: [String: Any] = [
            "family": "\(key.family)", "prefix": "\(key.prefix)", "stale": route.stale,
            "as_path": path.attributes.effectiveASPath?.flattened.map(Int.init) ?? [],
            "communities": path.attributes.communities.map(\.description),
            "large_communities": path.attributes.largeCommunities.map(\.description),
        ]
        if let nextHop = path.nextHop?.address { fields["next_hop"] = "\(nextHop)" }
        if let origin = path.attributes.origin { fields["origin"] = "\(origin)" }
        if let med = path.attributes.multiExitDisc { fields["med"] = Int(med) }
        if let localPref = path.attributes.localPref { fields["local_pref"] = Int(localPref) }
        return fields
    }

    /// The `keys` of a route, in a fixed order: a comparable line.
    static func ribLine(_ route: [String: Any], keys: Set<String>) -> String {
        keys.sorted().map { key in
            // Only `stale` is a flag: a JSON number 0 or 1 would also read as a Bool.
            let value = route[key].map { value -> String in
                if let list = value as? [Any] { return "[" + list.map { "\($0)" }.joined(separator: " ") + "]" }
                if key == "stale" { return (value as? Bool ?? false) ? "true" : "false" }
                return "\(value)"
            } ?? "-"
            return "\(key)=\(value)"
        }.joined(separator: " ")
    }
}
