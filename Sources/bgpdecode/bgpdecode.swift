import ArgumentParser
import BGPDecodeKit
import Capture
import Foundation
import PacketCore
import ToolSupport

/// `bgpdecode`: BGP from captures and MRT files, decoded with each session's negotiated context, and the
/// table every speaker announced rebuilt from it.
@main
struct BGPDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgpdecode",
        abstract: "Decode BGP from captures or MRT files and rebuild the table each speaker announced.",
        discussion: """
            Captures (-r, pcap or pcapng, several allowed) are reassembled per TCP connection on port 179 (or \
            --port), so messages that span segments and several messages per segment decode; a capture that \
            starts mid-session resynchronises on the BGP marker. Each direction is decoded with the context \
            of that connection's two OPENs (4-byte AS, ADD-PATH per family, extended messages). Without the \
            OPENs, AS size and ADD-PATH are guessed per message and the output says so; --asn-size and \
            --add-path override. MRT files (--mrt, '-' for standard input) hold BGP4MP/BGP4MP_ET messages \
            and TABLE_DUMP_V2 RIB entries.

            Each session (speaker > peer) keeps a table keyed by family, path id and prefix: UPDATEs \
            announce and withdraw, End-of-RIB flushes stale routes, and when the session ends (NOTIFICATION, \
            FIN, RST) its routes are withdrawn, or kept as stale when graceful restart applies.

            Output: one line per event (OPEN, announce, withdraw, END-OF-RIB, NOTIFICATION, SESSION-DOWN, \
            MALFORMED with the RFC 7606 outcome, ERROR with the byte offset), then a summary with per-prefix \
            flap counts. --table prints only the final table. --json writes JSON Lines: "type" is open, \
            announce, withdraw, end_of_rib, notification, route_refresh, session_down, malformed_attribute, \
            error, note, state_change, keepalive (with --keepalives); every object has time, speaker, peer \
            and offset; routes have family, prefix, path_id, next_hop, next_hop_link_local, as_path, \
            as_path_numbers, origin, med, local_pref, communities, large_communities, \
            extended_communities. --table --json writes "route" objects, then "session" objects.

            Verification (--expect-prefix, --expect-file; --peer picks the speaker): exit 0 when the final \
            announced set is exactly the expected one, 10 when an expected prefix is missing, 11 when one is \
            announced with another next hop, 12 when an unexpected prefix is announced, 13 when no session \
            of --peer is in the input (the first that applies, in that order). 1: the input could not be \
            read; 64: usage.

            Examples:
              bgpdecode -r node1.pcap
              bgpdecode -r node1.pcap --table
              bgpdecode -r node1.pcap --port 1790 --json
              bgpdecode -r node1.pcap --peer 203.0.113.2 --expect-prefix 198.51.100.10/32
              bgpdecode -r node1.pcap --peer 203.0.113.2 --expect-file expected-vips.txt
              zcat updates.20240101.0000.gz | bgpdecode --mrt - --table
            """)

    @Option(name: [.customShort("r"), .customLong("read")], help: ArgumentHelp(
        "A pcap or pcapng file to read ('-' for standard input). Repeat for several files.", valueName: "file"))
    var files: [String] = []

    @Option(help: ArgumentHelp("An MRT file to read ('-' for standard input).", valueName: "file"))
    var mrt: String?

    @Option(help: ArgumentHelp("TCP port BGP runs on (default 179). Repeat for several.", valueName: "port"))
    var port: [UInt16] = []

    @Flag(help: "Print only the final table of each session (and flap counts), not the events.")
    var table = false

    @Flag(help: "Write JSON Lines instead of text.")
    var json = false

    @Flag(help: "Also show KEEPALIVE messages.")
    var keepalives = false

    @Option(name: .customLong("expect-prefix"), help: ArgumentHelp(
        "A prefix that must be announced, optionally 'PREFIX NEXTHOP'. Repeatable.", valueName: "prefix"))
    var expectPrefixes: [String] = []

    @Option(name: .customLong("expect-file"), help: ArgumentHelp(
        "A file of expected prefixes, one per line, optionally followed by a next hop; # starts a comment.",
        valueName: "file"))
    var expectFile: String?

    @Option(help: ArgumentHelp("Verify the routes announced by this speaker (an IP address).", valueName: "ip"))
    var peer: String?

    @Option(name: .customLong("asn-size"), help: ArgumentHelp(
        "Force 2- or 4-byte AS numbers instead of the OPENs' (or the guess).", valueName: "2|4"))
    var asnSize: Int?

    @Option(name: .customLong("add-path"), help: ArgumentHelp(
        "Force ADD-PATH path identifiers on or off for every family.", valueName: "on|off"))
    var addPath: String?

    var isVerifying: Bool { !expectPrefixes.isEmpty || expectFile != nil }

    func validate() throws {
        if files.isEmpty && mrt == nil {
            throw ValidationError("Give a capture to read with -r FILE, or an MRT file with --mrt FILE.")
        }
        if !files.isEmpty && mrt != nil { throw ValidationError("Read captures (-r) or an MRT file (--mrt), not both.") }
        if let asnSize, asnSize != 2 && asnSize != 4 { throw ValidationError("--asn-size must be 2 or 4.") }
        if let addPath, addPath != "on" && addPath != "off" { throw ValidationError("--add-path must be on or off.") }
        if port.contains(0) { throw ValidationError("--port must be between 1 and 65535.") }
        if let peer, IPAddress(peer) == nil { throw ValidationError("--peer must be an IPv4 or IPv6 address.") }
        for prefix in expectPrefixes where BGPExpectation(line: prefix) == nil {
            throw ValidationError("--expect-prefix '\(prefix)' is not a prefix (like 198.51.100.10/32), "
                + "optionally followed by a next hop.")
        }
        if peer != nil && !isVerifying {
            throw ValidationError("--peer selects the speaker to verify: add --expect-prefix or --expect-file.")
        }
    }

    func run() throws {
        var expectations = expectPrefixes.compactMap { BGPExpectation(line: $0) }
        if let expectFile {
            guard let text = try? String(contentsOfFile: expectFile, encoding: .utf8) else {
                fail("cannot read the expect file \(expectFile); check the path")
            }
            switch BGPExpectation.parseFile(text) {
            case .success(let parsed): expectations += parsed
            case .failure(let bad):
                fail("\(expectFile) line \(bad.number) is not 'PREFIX [NEXTHOP]': \(bad.text)")
            }
        }
        let showEvents = !table && !isVerifying
        let json = self.json
        let keepalives = self.keepalives
        let analyzer = BGPAnalyzer()
        if showEvents {
            var pending = ""
            analyzer.onEvent = { event in
                if json {
                    if let line = BGPRender.json(event, keepalives: keepalives) { pending += line.text + "\n" }
                } else if let line = BGPRender.text(event, keepalives: keepalives) {
                    pending += line + "\n"
                }
                if pending.utf8.count > 1 << 16 {
                    StandardStreams.output(pending)
                    pending = ""
                }
            }
            defer { StandardStreams.output(pending) }
            try decode(analyzer)
            StandardStreams.output(pending)
            pending = ""
        } else {
            try decode(analyzer)
        }
        if isVerifying {
            let verdict = BGPVerification(
                analyzer: analyzer, expectations: expectations, peer: peer.flatMap { IPAddress($0) })
            if json {
                var line = JSONLine()
                line.add("type", "verify")
                line.add("status", verdict.exitCode)
                line.add("matched", list: verdict.matched)
                line.add("missing", list: verdict.missing.map(\.prefix))
                line.add("wrong_next_hop", list: verdict.wrongNextHop.map(\.expected.prefix))
                line.add("unexpected", list: verdict.unexpected)
                line.add("stale", list: verdict.staleOnly)
                StandardStreams.output(line.text + "\n")
            } else {
                StandardStreams.output(verdict.report)
            }
            if verdict.exitCode != 0 { throw ExitCode(verdict.exitCode) }
            return
        }
        if json {
            var out = ""
            for line in BGPRender.tableJSON(analyzer, routes: table) {
                out += line.text + "\n"
                if out.utf8.count >= 1 << 16 {
                    StandardStreams.output(out)
                    out = ""
                }
            }
            StandardStreams.output(out)
        } else if table {
            BGPRender.tableText(analyzer) { StandardStreams.output($0) }
        } else {
            StandardStreams.output(BGPRender.summaryText(analyzer))
        }
    }

    private func decode(_ analyzer: BGPAnalyzer) throws {
        let forcedAddPath = addPath.map { $0 == "on" }
        if let mrt {
            let decoder = BGPMRTDecoder(analyzer: analyzer, asSize: asnSize, addPath: forcedAddPath)
            do throws(MRTReadError) {
                try decoder.read(path: mrt)
            } catch {
                fail(error.message)
            }
            if let failure = decoder.failure {
                StandardStreams.error("bgpdecode: \(mrt): MRT framing failed (\(failure)); records after it were not read")
            } else if decoder.leftoverBytes > 0 {
                StandardStreams.error("bgpdecode: \(mrt): the file ends inside a record (\(decoder.leftoverBytes) bytes ignored)")
            }
            return
        }
        let decoder = BGPCaptureDecoder(
            analyzer: analyzer, ports: Set(port.isEmpty ? [179] : port), asSize: asnSize, addPath: forcedAddPath)
        for path in files {
            do {
                let source = try PacketSource.openFile(path)
                try decoder.read(source)
            } catch let error as CaptureError {
                // A cut file still says what it holds up to the cut: report it, keep the results.
                guard error.kind == .truncatedFile else {
                    decoder.finish()
                    fail(error.message)
                }
                StandardStreams.error("bgpdecode: \(error.message)")
            }
        }
        decoder.finish()
    }

    private func fail(_ message: String) -> Never {
        StandardStreams.error("bgpdecode: \(message)")
        Foundation.exit(ExitStatus.failure)
    }
}
