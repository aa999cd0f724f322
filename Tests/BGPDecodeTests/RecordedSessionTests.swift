import BGPDecodeKit
import Capture
import Foundation
import PacketCore
import TestSupport
import Testing
import ToolSupport

/// The recorded BIRD <-> FRR sessions (captures/, made by scripts/record-captures) decoded end to end and
/// compared with what tshark decoded at recording time (captures/expected/*.json).
///
/// Where tshark and we differ by design: tshark lists prefixes per frame without their length and decodes
/// each packet on its own (it guesses the AS size per packet; both sessions here negotiate 4-byte AS, so
/// its guess is right); it shows the AS_PATH of every UPDATE, including the routes FRR echoes back to BIRD.
@Suite("Recorded sessions against tshark")
struct RecordedSessionTests {
    static let names = ["bgp-bird-frr", "bgp-segmented"]

    @Test(arguments: names)
    func prefixesAndAttributesMatchTshark(name: String) throws {
        let decoded = try decodeCapture(Paths.captures.appendingPathComponent("\(name).pcap").path)
        let oracle = try tsharkBGP(name)
        var theirAnnounced: [String: Set<String>] = [:]
        var theirWithdrawn: [String: Set<String>] = [:]
        var theirCommunities: [String: Set<String>] = [:]
        var theirLarge: [String: Set<String>] = [:]
        var theirPaths: [String: Set<String>] = [:]
        var theirNextHops: [String: Set<String>] = [:]
        for (source, bgp) in oracle {
            theirAnnounced[source, default: []].formUnion(strings(bgp["nlri"]) + strings(bgp["mp_reach_ipv6"]))
            theirWithdrawn[source, default: []].formUnion(strings(bgp["withdrawn"]) + strings(bgp["mp_unreach_ipv6"]))
            theirCommunities[source, default: []].formUnion(strings(bgp["communities"]))
            theirLarge[source, default: []].formUnion(strings(bgp["large_communities"]))
            theirPaths[source, default: []].formUnion(strings(bgp["as_path_as4"]))
            theirNextHops[source, default: []].formUnion(strings(bgp["next_hop"]) + strings(bgp["mp_next_hop_ipv6"])
                + strings(bgp["mp_next_hop_link_local"]))
        }
        var ourAnnounced: [String: Set<String>] = [:]
        var ourCommunities: [String: Set<String>] = [:]
        var ourLarge: [String: Set<String>] = [:]
        var ourPaths: [String: Set<String>] = [:]
        var ourNextHops: [String: Set<String>] = [:]
        for (session, key, path) in decoded.announcements {
            let speaker = session.speaker.description
            ourAnnounced[speaker, default: []].insert(key.prefix.address.description)
            ourCommunities[speaker, default: []].formUnion(path.attributes.communities.map(\.description))
            ourLarge[speaker, default: []].formUnion(path.attributes.largeCommunities.map(\.description))
            ourPaths[speaker, default: []].formUnion(path.attributes.effectiveASPath?.flattened.map(String.init) ?? [])
            if let nextHop = path.nextHop {
                ourNextHops[speaker, default: []].formUnion(
                    [nextHop.address?.description, nextHop.linkLocal?.description].compactMap { $0 })
            }
            // Every announcement's prefix length: these labs announce host routes only.
            #expect(key.prefix.length == (key.prefix.isIPv6 ? 128 : 32))
        }
        var ourWithdrawn: [String: Set<String>] = [:]
        for (session, key, reason) in decoded.withdrawals where reason == .withdrawn {
            ourWithdrawn[session.speaker.description, default: []].insert(key.prefix.address.description)
        }
        func nonEmpty(_ map: [String: Set<String>]) -> [String: Set<String>] { map.filter { !$0.value.isEmpty } }
        #expect(nonEmpty(ourAnnounced) == nonEmpty(theirAnnounced))
        #expect(nonEmpty(ourWithdrawn) == nonEmpty(theirWithdrawn))
        #expect(nonEmpty(ourCommunities) == nonEmpty(theirCommunities))
        #expect(nonEmpty(ourLarge) == nonEmpty(theirLarge))
        #expect(nonEmpty(ourPaths) == nonEmpty(theirPaths))
        #expect(nonEmpty(ourNextHops) == nonEmpty(theirNextHops))
        #expect(!decoded.events.contains { if case .decodeError = $0 { true } else { false } })
    }

    @Test(arguments: names)
    func opensAndNotificationsMatchTshark(name: String) throws {
        let decoded = try decodeCapture(Paths.captures.appendingPathComponent("\(name).pcap").path)
        let oracle = try tsharkBGP(name)
        var theirOpens: [String] = []
        var theirNotifications: [String] = []
        for (source, bgp) in oracle {
            for (index, asn) in strings(bgp["open_as4"]).enumerated() {
                theirOpens.append("\(source) \(asn) \(strings(bgp["open_my_as"])[index]) \(strings(bgp["open_hold_time"])[index]) "
                    + "\(strings(bgp["open_identifier"])[index]) \(strings(bgp["open_capability_types"]).joined(separator: ","))")
            }
            for (index, code) in strings(bgp["notify_major"]).enumerated() {
                let text = strings(bgp["notify_communication"])
                theirNotifications.append("\(source) \(code)/\(strings(bgp["notify_minor_cease"])[index]) "
                    + (index < text.count ? text[index] : ""))
            }
        }
        var ourOpens: [String] = []
        var ourNotifications: [String] = []
        for event in decoded.events {
            switch event {
            case .open(let origin, let open):
                ourOpens.append("\(origin.session.speaker) \(open.autonomousSystem) \(open.myAS) \(open.holdTime) "
                    + "\(open.identifier) \(open.capabilities.map { String($0.code.rawValue) }.joined(separator: ","))")
            case .notification(let origin, let notification):
                ourNotifications.append("\(origin.session.speaker) \(notification.code)/\(notification.subcode) "
                    + (notification.shutdownCommunication ?? ""))
            default: break
            }
        }
        #expect(ourOpens.sorted() == theirOpens.sorted())
        #expect(ourNotifications.sorted() == theirNotifications.sorted())
        #expect(!ourOpens.isEmpty)
    }

    @Test func birdFrrSessionLifecycle() throws {
        let decoded = try decodeCapture(Paths.captures.appendingPathComponent("bgp-bird-frr.pcap").path)
        let analyzer = decoded.analyzer
        // Four directions, each with the context of its two OPENs; everything ended with FRR's shutdown.
        #expect(analyzer.sessions.count == 4)
        for session in analyzer.sessions.values {
            #expect(session.contextSource == .open)
            #expect(!session.isUp)
            #expect(session.routes.isEmpty, "implicit withdrawal at the NOTIFICATION: \(session.key)")
            #expect(session.downReason?.contains("Administrative Shutdown") == true)
        }
        // End-of-RIB for IPv4 unicast from both IPv4 speakers, for IPv6 unicast (empty MP_UNREACH) on v6.
        let eor = decoded.events.compactMap { if case .endOfRIB(let o, let f, _) = $0 { "\(o.session.speaker) \(f)" } else { nil } }
        #expect(Set(eor) == ["203.0.113.1 ipv4-unicast", "203.0.113.2 ipv4-unicast", "fd99:4::1 ipv6-unicast",
            "fd99:4::2 ipv6-unicast"])
        // FRR announced 198.51.100.10-12, then withdrew .12: just before the shutdown, its table held .10,
        // .11 and BIRD's two routes echoed back (AS_PATH 64512 4200000001).
        let frr = try #require(analyzer.sessions[BGPSessionKey(speaker: IPAddress("203.0.113.2")!, peer: IPAddress("203.0.113.1")!)])
        // .12 was withdrawn and not announced again (no flap); the shutdown is one session end whose last
        // table is kept, not a flap per route.
        #expect(frr.flaps.isEmpty)
        #expect(frr.withdrawals == 1)
        #expect(frr.endedRoutes.keys.map(\.prefix.description).sorted() ==
            ["198.51.100.10/32", "198.51.100.100/32", "198.51.100.101/32", "198.51.100.11/32"])
        #expect(frr.endedAt == decoded.events.compactMap {
            if case .sessionDown(let origin, _, withdrawn: 4, stale: 0) = $0, origin.session == frr.key {
                origin.timestamp
            } else { nil }
        }.first)
        #expect(BGPRender.tableText(analyzer).components(separatedBy: "withdrawn at session end 2026-").count - 1 == 8)
    }

    @Test func segmentedSessionTableIsComplete() throws {
        let decoded = try decodeCapture(Paths.captures.appendingPathComponent("bgp-segmented.pcap").path)
        let bird = try #require(decoded.analyzer.sessions[
            BGPSessionKey(speaker: IPAddress("203.0.113.1")!, peer: IPAddress("203.0.113.2")!)])
        // BIRD announced 198.51.100.0/24 as 256 host routes (captures/README.md); the capture ends with the
        // session up, so all of them are in the final table.
        #expect(bird.routes.count == 256)
        #expect(bird.isUp)
        let verdict = BGPVerification(analyzer: decoded.analyzer,
            expectations: (0..<256).map { BGPExpectation(prefix: BGPPrefix(IPv4Address(198, 51, 100, UInt8($0)), length: 32),
                nextHop: IPAddress("203.0.113.1")) },
            peer: IPAddress("203.0.113.1"))
        #expect(verdict.exitCode == 0, "\(verdict.report)")
    }

    @Test func verificationExitCodes() throws {
        let decoded = try decodeCapture(Paths.captures.appendingPathComponent("bgp-segmented.pcap").path)
        let analyzer = decoded.analyzer
        let bird = IPAddress("203.0.113.1")
        let all = (0..<256).map { BGPExpectation(prefix: BGPPrefix(IPv4Address(198, 51, 100, UInt8($0)), length: 32)) }
        #expect(BGPVerification(analyzer: analyzer, expectations: all, peer: bird).exitCode == 0)
        let extra = all + [BGPExpectation(line: "198.51.101.1/32")!]
        #expect(BGPVerification(analyzer: analyzer, expectations: extra, peer: bird).exitCode == BGPVerification.missingCode)
        var wrong = all
        wrong[5].nextHop = IPAddress("203.0.113.9")
        #expect(BGPVerification(analyzer: analyzer, expectations: wrong, peer: bird).exitCode == BGPVerification.wrongNextHopCode)
        #expect(BGPVerification(analyzer: analyzer, expectations: Array(all.dropLast()), peer: bird).exitCode
            == BGPVerification.unexpectedCode)
        #expect(BGPVerification(analyzer: analyzer, expectations: all, peer: IPAddress("203.0.113.77")).exitCode
            == BGPVerification.noSessionCode)
        let file = BGPExpectation.parseFile("# vips\n198.51.100.10/32 203.0.113.1\n\n198.51.100.11 # host\n")
        #expect((try? file.get())?.count == 2)
        if case .failure(let bad) = BGPExpectation.parseFile("198.51.100.10/32\nnot-a-prefix\n") { #expect(bad.number == 2) }
        else { Issue.record("a bad line must be reported") }
    }

    @Test func midStreamStartIsHeuristicAndStillDecodes() throws {
        // Drop the first 18 frames of the segmented capture (handshake, both OPENs, most of BIRD's UPDATEs:
        // BIRD's stream now starts inside an UPDATE): reassembly starts mid-connection, the stream
        // resynchronises on the marker, and the context is labelled heuristic.
        let original = Paths.captures.appendingPathComponent("bgp-segmented.pcap").path
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("bgp-midstream-\(getpid()).pcap").path
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let tshark = try ChildProcess.run(
            ["tshark", "-r", original, "-Y", "frame.number > 18", "-w", cut, "-F", "pcap"])
        #expect(tshark.status == 0, "tshark: \(tshark.standardError)")
        let decoded = try decodeCapture(cut)
        #expect(decoded.events.contains { if case .contextNote(_, let text) = $0 { text.contains("heuristic") } else { false } })
        let bird = try #require(decoded.analyzer.sessions[
            BGPSessionKey(speaker: IPAddress("203.0.113.1")!, peer: IPAddress("203.0.113.2")!)])
        #expect(bird.contextSource == .heuristic)
        #expect(bird.endOfRIB == [.ipv4Unicast], "the End-of-RIB after the cut UPDATE is found on the marker")
        // FRR's echo of all 256 routes: the AS size is guessed right (4200000002 needs 4 bytes) and labelled.
        let frr = try #require(decoded.analyzer.sessions[bird.key.reversed])
        #expect(frr.routes.count == 256)
        let guessed = decoded.announcements.filter { $0.0 == frr.key }
        #expect(guessed.count == 256)
        #expect(guessed.allSatisfy {
            $0.2.attributes.asSizeGuessed && $0.2.attributes.effectiveASPath?.description.hasPrefix("64513 4200000002") == true
        })
    }
}

/// The byte renderer (`BGPTextRenderer`: event lines and `--table`) writes exactly the text the String
/// renderer and the core's descriptions give, on every recorded session and every BGP capture of tcpdump's
/// corpus (clean or deliberately broken: MALFORMED, ERROR and NOTE lines included).
@Suite("BGP byte rendering on captures")
struct BGPCaptureRenderingTests {
    static let captures: [String] = {
        var paths = ["bgp-bird-frr", "bgp-segmented"].map { Paths.captures.appendingPathComponent("\($0).pcap").path }
        let recorded = (try? FileManager.default.contentsOfDirectory(atPath: Paths.bgpCaptures.path)) ?? []
        paths += recorded.filter { $0.hasSuffix(".pcap") }.sorted().map { Paths.bgpCaptures.appendingPathComponent($0).path }
        let corpus = (try? FileManager.default.contentsOfDirectory(atPath: Paths.tcpdumpCorpus.path)) ?? []
        paths += corpus.filter { ($0.contains("bgp") || $0.contains("BGP")) && ($0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng")) }
            .sorted().map { Paths.tcpdumpCorpus.appendingPathComponent($0).path }
        return paths
    }()

    @Test func capturesAreThere() {
        #expect(Self.captures.count >= 30)
    }

    /// Decode a capture into `analyzer` as bgpdecode -r does (a cut file counts up to the cut).
    static func read(_ path: String, into analyzer: BGPAnalyzer) throws {
        let decoder = BGPCaptureDecoder(analyzer: analyzer)
        do {
            try decoder.read(try PacketSource.openFile(path))
        } catch let error as CaptureError {
            if error.kind != .truncatedFile { throw error }
        }
        decoder.finish()
    }

    @Test(arguments: captures)
    func bytesMatchTheStringRenderer(path: String) throws {
        let decoded = try decodeCapture(path)
        var renderer = BGPTextRenderer()
        for event in decoded.events { renderer.write(event, keepalives: true) }
        let expected = decoded.events.compactMap { BGPRender.text($0, keepalives: true) }.map { $0 + "\n" }.joined()
        #expect(renderer.output.string == expected)

        // As bgpdecode prints events: the renderer shares its summaries with the analyzer, which renders
        // each new path's summary from the decode that validated it (MP attributes included), not from the
        // path's stored bytes.
        var sharing = BGPTextRenderer()
        var live: [BGPEvent] = []
        let analyzer = BGPAnalyzer { live.append($0) }
        analyzer.pathSummaries = sharing.summaries
        try Self.read(path, into: analyzer)
        for event in live { sharing.write(event, keepalives: true) }
        #expect(sharing.output.string == expected)

        // And as bgpdecode wires them: announcements straight to the renderer (`onAnnounce`, no event
        // value), every other event through `onEvent`, into one output in order.
        final class Sink { var renderer = BGPTextRenderer(); var direct = 0 }
        let sink = Sink()
        let wired = BGPAnalyzer { sink.renderer.write($0, keepalives: true) }
        wired.pathSummaries = sink.renderer.summaries
        wired.onAnnounce = { origin, key, pathID, replaced in
            sink.direct += 1
            let written = sink.renderer.writeAnnounce(origin, key, pathID: pathID, replaced: replaced)
            #expect(written)
        }
        try Self.read(path, into: wired)
        #expect(sink.renderer.output.string == expected)
        let plainAnnouncements = decoded.events.filter {
            if case .announce(_, let key, _, _) = $0 { key.routeDistinguisher == nil } else { false }
        }.count
        #expect(sink.direct == plainAnnouncements)

        // The table, built here from the core's descriptions.
        var table = ""
        for session in decoded.analyzer.sortedSessions {
            table += BGPRender.sessionHeader(session) + "\n"
            for (key, route) in session.routes.sorted(by: { $0.key < $1.key }) {
                table += "  \(key.family) \(key) \(decoded.analyzer.path(route.pathID).summary)"
                    + (route.stale ? " STALE" : "") + "\n"
            }
            // After a session end, its last table, each route marked with the end's time.
            for (key, route) in session.endedRoutes.sorted(by: { $0.key < $1.key }) {
                let endedAt = try #require(session.endedAt)
                table += "  \(key.family) \(key) \(decoded.analyzer.path(route.pathID).summary)"
                    + " withdrawn at session end \(endedAt.iso8601)\n"
            }
        }
        table += BGPRender.flapsText(decoded.analyzer)
        #expect(BGPRender.tableText(decoded.analyzer) == table)
        // `--table --json` and `--json`'s closing session objects, against the JSONLine builder; both carry the
        // common keys, with the last message's time.
        let envelope = JSONEnvelope(host: "node-1")
        let time = decoded.analyzer.lastMessageTime ?? .zero
        for routes in [true, false] {
            var json = BGPTextRenderer()
            json.writeTableJSON(decoded.analyzer, routes: routes, envelope: envelope, time: time)
            let built = BGPRender.tableJSON(decoded.analyzer, routes: routes, envelope: envelope, time: time)
            #expect(json.output.string == built.map { $0.text + "\n" }.joined())
            let common = #"","time":""# + time.iso8601 + #"","host":"node-1","speaker":"#
            for line in json.output.string.split(separator: "\n") {
                #expect(line.hasPrefix(#"{"event":"route"# + common) || line.hasPrefix(#"{"event":"session"# + common),
                        "\(line.prefix(200))")
            }
        }

        // Without events (`--table`), repeated plain UPDATEs take the analyzer's fast path, and with batched
        // table changes (what bgpdecode does then) the tables are built by one sort: same tables, same
        // JSON (flap counts per route included), same summary.
        for batches in [false, true] {
            let quiet = BGPAnalyzer()
            quiet.batchesTableChanges = batches
            try Self.read(path, into: quiet)
            #expect(BGPRender.tableText(quiet) == table, "batches: \(batches)")
            #expect(BGPRender.tableJSON(quiet, routes: true, envelope: envelope, time: time).map(\.text)
                == BGPRender.tableJSON(decoded.analyzer, routes: true, envelope: envelope, time: time).map(\.text),
                "batches: \(batches)")
            #expect(BGPRender.summaryText(quiet) == BGPRender.summaryText(decoded.analyzer), "batches: \(batches)")
        }
        // And as bgpdecode --table runs: batched, the renderer's summaries rendered by the analyzer as each
        // path comes (from its own decode), then the table written from them.
        var tableRenderer = BGPTextRenderer()
        let batched = BGPAnalyzer()
        batched.batchesTableChanges = true
        batched.pathSummaries = tableRenderer.summaries
        try Self.read(path, into: batched)
        tableRenderer.writeTable(batched)
        #expect(tableRenderer.output.string == table)
    }
}

/// `bgpdecode --help` as a reader sees it. swift-argument-parser re-wraps each discussion line longer than
/// the terminal, so text hand-wrapped wider than 80 columns comes out ragged; and the help must teach:
/// exit statuses, examples, what the context and its heuristics mean.
@Suite("bgpdecode --help")
struct BGPHelpTests {
    static func binary() throws -> String {
        try #require(
            TestEnvironment.builtTool("bgpdecode"), "build the bgpdecode executable first (swift build --build-tests)")
    }

    static func help(columns: Int, _ arguments: [String] = []) throws -> [String] {
        try HelpText.lines(try binary(), arguments, columns: columns)
    }

    @Test func fitsEightyColumnsWithoutRewrapping() throws {
        let standard = try Self.help(columns: 80)
        for line in standard { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
        // Wrapped by hand within 78 columns, the discussion reads the same on a wide terminal: the parser did
        // not have to split any line on an 80-column one.
        let discussion = HelpText.discussion(standard)
        #expect(discussion.count > 40)
        #expect(discussion == HelpText.discussion(try Self.help(columns: 200)))
    }

    @Test func teachesExitStatusesExamplesAndContext() throws {
        let text = try Self.help(columns: 80).joined(separator: "\n")
        for code in ["0", "1", "64", "\(BGPVerification.missingCode)", "\(BGPVerification.wrongNextHopCode)",
            "\(BGPVerification.unexpectedCode)", "\(BGPVerification.noSessionCode)"]
        {
            #expect(text.contains("\n  \(code) "), "exit status \(code) is not explained")
        }
        for needle in ["EXIT STATUS", "Examples:", "bgpdecode -r node1.pcap --table", "--mrt -", "--expect-prefix",
            "--expect-file", "CONTEXT AND HEURISTICS", "context heuristic", "4-byte AS", "ADD-PATH", "--asn-size",
            "--add-path", "STALE", "RFC 7606", "JSON Lines"]
        {
            #expect(text.contains(needle), "--help lacks \(needle)")
        }
    }
}
