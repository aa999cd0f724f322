import ArgumentParser
import BGPDecodeKit
import Capture
import CaptureCLI
import Glibc
import PacketCore
import ToolSupport

/// `bgpdecode [decode]`: BGP from captures and MRT files, decoded with each session's negotiated context, and
/// the table every speaker announced rebuilt from it. The default subcommand: `bgpdecode -r FILE` runs it.
struct Decode: ParsableCommand {
    // The discussion is wrapped by hand within 78 columns, one source line per output line:
    // swift-argument-parser re-wraps every line longer than the terminal, so text wrapped any wider
    // comes out ragged on an 80-column terminal (BGPHelpTests checks this).
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode BGP from captures and MRT files; rebuild each speaker's table.",
        usage: """
            bgpdecode -r <file> ... [--port <port> ...] [--table] [--json] [<expr>]
            bgpdecode -i <iface> [--port <port> ...] [--duration <s>] [-c <n>]
                      [-w <file>] [<expr>]
            bgpdecode listen --local-as <asn> --router-id <id> ...
            bgpdecode --mrt <file> [--table] [--json] [--node-name <name>]
            bgpdecode (-r <file> ... | --mrt <file>) [--peer <ip>]
                      (--expect-prefix <prefix> ... | --expect-file <file>)
            """,
        discussion: """
            Captures (-r, pcap or pcapng, repeatable) are reassembled per TCP
            connection on port 179 (or --port), so messages that span segments, and
            several messages in one segment, decode. A capture that starts
            mid-session resynchronises on the 16-byte BGP marker. MRT files (--mrt,
            a dash for standard input) hold BGP4MP/BGP4MP_ET messages (2- and 4-byte AS
            and ADD-PATH subtypes) and TABLE_DUMP_V2 RIB entries. -i captures live
            on an interface (filter 'tcp port 179', or the --port ports) until
            --duration, -c frames or Ctrl-C, then prints the same summary or
            table; -w FILE keeps every frame captured (pcapng if the name ends
            in .pcapng, else pcap) while it decodes, and -n is accepted (names
            are never resolved). With one -r file, -w writes the frames the
            filter keeps, as tcpdump does, and -c stops reading after that many
            frames (a note says the rest was not read). The listen subcommand is
            a passive BGP speaker that speakers peer with (see bgpdecode listen
            --help).

            FILTER
            A BPF expression, after the options as tcpdump takes it or with -f,
            selects the frames of -r and -i: the capture filter becomes the
            expression "tcp and (EXPR)" (it replaces the port part of the default
            one; BGP is still decoded on the --port ports). An expression libpcap
            refuses is a usage error (64) with libpcap's message; so is one that
            can match no TCP ('not tcp', 'udp'), said as such.

            CONTEXT AND HEURISTICS
            BGP bytes mean different things depending on what the session
            negotiated. Each direction is decoded with the context of that TCP
            connection's two OPEN messages: 4-byte AS numbers (when both carry the
            capability), ADD-PATH path identifiers (per family and direction) and
            extended messages up to 65535 bytes. A capture without the OPENs
            (started after the session came up) is decoded with heuristics: the AS
            number size and ADD-PATH are guessed per message from the bytes, a NOTE
            line says so, and the table's session line shows "context heuristic".
            --asn-size and --add-path replace the guess ("context override"). MRT
            records carry their context in their subtype ("context mrt").

            TABLES
            Each session (speaker > peer) keeps a table keyed by family, path id and
            prefix: UPDATEs announce and withdraw, End-of-RIB flushes stale routes,
            and when the session ends (NOTIFICATION, TCP FIN or RST) its routes are
            withdrawn, or kept and marked STALE when graceful restart applies. A
            malformed attribute is reported (MALFORMED) with its RFC 7606 outcome,
            and decoding goes on.

            OUTPUT
            Text: one line per event (OPEN, announce, replace, withdraw, END-OF-RIB,
            NOTIFICATION, ROUTE-REFRESH, SESSION-DOWN, MALFORMED, ERROR with the
            byte offset, GAP for stream bytes lost, TRUNCATED for a message the
            stream ends inside), then one summary line per session (counters of
            its last TCP session) and per-prefix flap counts (withdrawn, then
            announced again; a session end is one SESSION-DOWN, not a flap).
            --table prints only the final table of each session, sorted, then
            the flap counts; a session that ended shows its last table, each
            route marked "withdrawn at session end TIME". Then "note:" lines
            (MRT records not read, why connections carried no BGP: TCP-MD5 SYNs
            unanswered, SYN answered by RST, no OPEN) and "PARTIAL:" lines when
            the input was not read to its end. Peer text (FQDN, shutdown
            communication) is escaped.
            --json writes JSON Lines (docs/json.md), first a "start" object (tool,
            version, schema_version). "event" is open, announce, withdraw,
            end_of_rib, notification, route_refresh, session_down,
            malformed_attribute, error, note, state_change, gap,
            truncated_message, other, or keepalive (with --keepalives). Every
            object has event, time, host (--node-name; with -i also interface);
            events also speaker, peer and offset. The last object is "summary"
            (exit_status: the exit status, complete, problems, notes).
            Routes have family, prefix, path_id, rd, next_hop, next_hop_link_local,
            as_path, as_path_numbers, origin, med, local_pref, atomic_aggregate,
            aggregator, communities, large_communities, extended_communities,
            originator_id, cluster_list, aigp and otc. --table --json writes
            "route" objects (also since, stale, flaps, withdrawn_at_session_end),
            then "session" objects (ended_at, withdrawn_at_end, earlier_sessions;
            flaps: a list of {family, prefix, count}); both at the last
            message's time. A verification ends with a "verdict" object
            (exit_status, matched, missing, wrong_next_hop, unexpected, stale,
            lost_at_session_end).

            VERIFICATION
            --expect-prefix (repeatable) and --expect-file (one prefix per line,
            optionally followed by its next hop; # starts a comment) are checked
            against the final announced routes of the sessions whose speaker is
            --peer (of every session without --peer). The report lists MISSING
            (with the session end that withdrew it, if one did), WRONG-NEXT-HOP,
            UNEXPECTED and STALE (kept only by graceful restart) prefixes, then
            OK or FAIL.

            EXIT STATUS
              0   decoded; when verifying, the announced set is the expected one
              13  verifying: no session of --peer is in the input
              10  verifying: an expected prefix is not announced
              11  verifying: an expected prefix is announced with another next hop
              12  verifying: a prefix that is not expected is announced
              1   an input could not be opened, or not read to its end (a cut
                  file, an MRT framing error, stream bytes lost in gaps): what
                  was decoded is printed and marked PARTIAL; no verdict is OK
              2   interrupted (SIGINT, SIGTERM) before the end of the input
              64  usage error (numeric options name their allowed range; a filter
                  libpcap refuses or that matches no TCP)
            When several apply, 2 and 1 win, then the first in this list.

            Examples:
              bgpdecode -r node1.pcap
              bgpdecode -r node1.pcap --table
              bgpdecode -r node1.pcap --port 1790 --json
              bgpdecode -r node1.pcap --asn-size 4 --add-path off --table
              bgpdecode -r node1.pcap --peer 203.0.113.2 \\
                  --expect-prefix 198.51.100.10/32
              bgpdecode -r node1.pcap --peer 203.0.113.2 \\
                  --expect-file expected-vips.txt
              zcat updates.20240101.0000.gz | bgpdecode --mrt - --table
              bgpdecode -i eth0 --duration 60 --table
              bgpdecode -i eth0 -c 500 -w evidence.pcapng port 179 and \\
                  host 203.0.113.1
              bgpdecode -r node1.pcap -w node2-only.pcap host 203.0.113.2
              bgpdecode listen --local-as 64512 --router-id 203.0.113.254 \\
                  --peer 203.0.113.1 --peer-as 64513
            """,
        version: VipscopeVersion.string)

    /// -r, -i, the filter, -w, -n, -c and --duration: the capture options garpwatch and vipdump take.
    @OptionGroup var capture: CaptureOptions

    @Option(help: ArgumentHelp("An MRT file to read ('-' for standard input).", valueName: "file"))
    var mrt: String?

    // Numeric options are read as text and range-checked in validate() (NumericOption): `.unconditional`
    // lets a negative value reach that check instead of reading as an option.
    @Option(name: .customLong("port"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "TCP port BGP runs on (default 179). Repeat for several.", valueName: "port"))
    var portTexts: [String] = []

    @OptionGroup var report: ReportOptions

    @Option(help: ArgumentHelp("Verify the routes announced by this speaker (an IP address).", valueName: "ip"))
    var peer: String?

    @Option(name: .customLong("asn-size"), parsing: .unconditional, help: ArgumentHelp(
        "Force 2- or 4-byte AS numbers instead of the OPENs' (or the guess).", valueName: "2|4"))
    var asnSizeText: String?

    @Option(name: .customLong("add-path"), help: ArgumentHelp(
        "Force ADD-PATH path identifiers on or off for every family.", valueName: "on|off"))
    var addPath: String?

    var table: Bool { report.table }
    var isVerifying: Bool { report.isVerifying }

    // The checked values (validate() has refused anything these would not parse).
    var port: [UInt16] { portTexts.compactMap { try? NumericOption.integer($0, option: "--port", range: 1...65535).get() } }
    var asnSize: Int? { asnSizeText.flatMap { Int($0) } }

    var files: [String] { capture.files }
    var interface: String? { capture.interfaces.first }

    /// What bgpdecode itself keeps of the frames of -r and -i when a filter is given: the filter is ANDed to it.
    static let ownFilter = "tcp"

    func validate() throws {
        let inputs = (files.isEmpty ? 0 : 1) + (mrt == nil ? 0 : 1) + (interface == nil ? 0 : 1)
        if inputs == 0 {
            throw ValidationError(
                "Give a capture to read with -r FILE, an MRT file with --mrt FILE, or an interface with -i IFACE.")
        }
        if inputs > 1 {
            throw ValidationError("Read captures (-r), an MRT file (--mrt) or an interface (-i), one of them.")
        }
        if capture.interfaces.count > 1 {
            throw ValidationError(
                "Capture on one interface (-i) at a time: run one bgpdecode per interface, or -i any.")
        }
        if mrt != nil && (capture.countText != nil || capture.writeFile != nil) {
            throw ValidationError("-c and -w apply to captures (-r, -i), not to MRT files (--mrt).")
        }
        if files.count > 1 && capture.writeFile != nil {
            throw ValidationError("-r FILE -w OUT keeps the frames of one file: give one -r with -w.")
        }
        if let output = capture.writeFile, let input = files.first, Self.sameFile(output, input) {
            throw ValidationError("-w would overwrite the capture -r reads: write to another file.")
        }
        if let filter = capture.filter {
            if mrt != nil {
                throw ValidationError("A filter applies to captures (-r, -i), not to MRT files (--mrt): drop it.")
            }
            // Checked here for Ethernet, so a bad filter is a usage error before anything is printed; an
            // interface or file of another link type is checked again when it is opened.
            do throws(CaptureError) {
                try PacketSource.checkFilter(capture.combinedFilter(Self.ownFilter) ?? filter)
            } catch {
                throw ValidationError(Self.filterProblem(error, filter: filter))
            }
        }
        if let asnSizeText, asnSizeText != "2" && asnSizeText != "4" {
            throw ValidationError("--asn-size must be 2 or 4 (got \(PrintableText.escaped(asnSizeText.prefix(40)))).")
        }
        if let addPath, addPath != "on" && addPath != "off" { throw ValidationError("--add-path must be on or off.") }
        for text in portTexts {
            if case .failure(let bad) = NumericOption.integer(text, option: "--port", range: UInt16(1)...65535) {
                throw ValidationError(bad.message)
            }
        }
        if report.metrics.listen != nil && interface == nil {
            throw ValidationError(
                "--metrics-listen serves while bgpdecode runs: give -i IFACE, or use bgpdecode listen (for a file, "
                    + "--metrics-file FILE writes the metrics at the end).")
        }
        if let peer, IPAddress(peer) == nil { throw ValidationError("--peer must be an IPv4 or IPv6 address.") }
        if peer != nil && !isVerifying {
            throw ValidationError("--peer selects the speaker to verify: add --expect-prefix or --expect-file.")
        }
    }

    func run() throws {
        let expectations: [BGPExpectation]
        switch report.loadExpectations() {
        case .success(let loaded): expectations = loaded
        case .failure(let error): fail(error.message)
        }
        let showEvents = !table && !isVerifying
        let json = report.json
        let keepalives = report.keepalives
        let envelope = report.node.envelope
        let liveInterface = interface
        let analyzer = BGPAnalyzer()
        // The tables are read once, at the end: changes can be applied in batches (see BGPRouteTable).
        analyzer.batchesTableChanges = !showEvents
        // Everything goes to standard output through one byte buffer, written in 64 KiB chunks.
        let sink = OutputSink(BGPTextRenderer(descriptor: 1))
        // Event lines and --table print a summary per route: render each path's as it comes, from the
        // analyzer's decode of the path, instead of decoding every path again to print it (5% of a full
        // table's --table run, for 2.4 MB more at its peak). Not for a verification, which prints none.
        if !json, !isVerifying { analyzer.pathSummaries = sink.renderer.summaries }
        defer { sink.renderer.flush() }
        if json {
            // A live capture's objects have no packet before the first one: the start is the wall clock's.
            sink.renderer.output.appendLine(
                envelope.start(tool: "bgpdecode", time: WallClock.now(), interface: liveInterface).text)
        }
        if showEvents {
            analyzer.onEvent = { event in
                if json {
                    if let line = BGPRender.json(
                        event, keepalives: keepalives, envelope: envelope, interface: liveInterface)
                    {
                        sink.renderer.output.appendLine(line.text)
                    }
                } else {
                    sink.renderer.write(event, keepalives: keepalives)
                }
            }
            // Announcements, a million lines on a full table, go straight to the renderer (no event value).
            if !json {
                analyzer.onAnnounce = { origin, key, pathID, replaced in
                    sink.renderer.writeAnnounce(origin, key, pathID: pathID, replaced: replaced)
                }
            }
        }
        let metrics = BGPMetricsOutput.make(report, expectations: expectations)
        // The last values, once the input is read (a verdict's or the table's exit status is thrown after it).
        defer { metrics?.publish(analyzer, force: true) }
        let input = decode(analyzer, sink, metrics: metrics)
        analyzer.onEvent = nil
        analyzer.onAnnounce = nil
        if isVerifying {
            var verdict = BGPVerification(
                analyzer: analyzer, expectations: expectations, peer: peer.flatMap { IPAddress($0) })
            verdict.input = input
            if json {
                let time = analyzer.lastMessageTime ?? WallClock.now()
                sink.renderer.output.appendLine(verdict.json(envelope: envelope, time: time).text)
            } else {
                sink.renderer.output.append(input.notes.map { "note: \($0)\n" }.joined())
                sink.renderer.output.append(verdict.report)
            }
            sink.renderer.flush()
            if verdict.exitCode != 0 { throw ExitCode(verdict.exitCode) }
            return
        }
        if json {
            let time = analyzer.lastMessageTime ?? WallClock.now()
            sink.renderer.writeTableJSON(analyzer, routes: table, envelope: envelope, time: time)
            sink.renderer.output.appendLine(input.json(envelope: envelope, time: time).text)
        } else {
            if table {
                sink.renderer.writeTable(analyzer)
            } else {
                sink.renderer.output.append(BGPRender.summaryText(analyzer))
            }
            sink.renderer.output.append(input.text)
        }
        sink.renderer.flush()
        if input.status != 0 { throw ExitCode(input.status) }
    }

    /// Read every input into `analyzer`; what made it incomplete, if anything. An input that cannot be
    /// opened at all ends the run here (exit 1, no summary).
    private func decode(_ analyzer: BGPAnalyzer, _ sink: OutputSink, metrics: BGPMetricsOutput?) -> BGPInputReport {
        var input = BGPInputReport()
        let forcedAddPath = addPath.map { $0 == "on" }
        // SIGINT/SIGTERM stop a read of a FIFO or a stalled pipe too: the summary of what was read is printed.
        StopSignal.install()
        if let mrt {
            let shown = PrintableText.escaped(mrt)
            let decoder = BGPMRTDecoder(analyzer: analyzer, asSize: asnSize, addPath: forcedAddPath)
            let end: BGPMRTDecoder.ReadEnd
            do throws(MRTReadError) {
                end = try decoder.read(path: mrt, shouldStop: { StopSignal.isRaised })
            } catch {
                if decoder.records == 0 { fail(error.message, flushing: sink) }
                input.problems.append(error.message)
                return input
            }
            if let skipped = decoder.skippedSummary { input.notes.append(skipped) }
            switch end {
            case .stopped:
                input.interrupted = true
            case .framingError:
                let failure = decoder.failure.map { "at byte \($0.offset) (\($0.reason))" } ?? ""
                input.problems.append("\(shown): MRT framing failed \(failure) after \(decoder.records) records; "
                    + "nothing after it can be read: check that this is an uncompressed MRT file (zcat/bzcat it first)")
            case .endOfInput:
                if decoder.leftoverBytes > 0 {
                    input.problems.append("\(shown): the file ends inside a record (\(decoder.leftoverBytes) bytes "
                        + "after \(decoder.records) records); copy the file again")
                }
            }
            for problem in input.problems { StandardStreams.error("bgpdecode: \(problem)") }
            return input
        }
        let decoder = BGPCaptureDecoder(
            analyzer: analyzer, ports: Set(port.isEmpty ? [179] : port), asSize: asnSize, addPath: forcedAddPath)
        if let interface {
            readLive(interface, decoder, sink, metrics: metrics)
            Self.noteStreamLosses(analyzer, decoder, &input)
            return input
        }
        var frames = 0
        for path in files {
            let source: PacketSource
            do {
                source = try capture.openFile(path, baseFilter: capture.filter == nil ? nil : Self.ownFilter)
            } catch {
                if StopSignal.isRaised {
                    input.interrupted = true
                    break
                }
                if error.kind == .badFilter { usageFail(Self.filterProblem(error, filter: capture.filter)) }
                // Never opened (missing, not a capture, cut inside its header): no summary for it.
                decoder.finish()
                fail(error.message, flushing: sink)
            }
            do {
                // -r FILE -w OUT: the frames the filter kept (and -c allowed), as tcpdump writes them.
                let recorder = try capture.makeRecorder(for: [source])
                try feed(source, decoder, recorder: recorder, frames: &frames, flushing: nil)
                try recorder?.close()
            } catch let error as CaptureError {
                if StopSignal.isRaised {
                    input.interrupted = true
                    break
                }
                // A cut file still says what it holds up to the cut: keep the results, mark them partial.
                input.problems.append(error.message)
                StandardStreams.error("bgpdecode: \(error.message)")
            } catch {
                input.problems.append("\(error)")
                StandardStreams.error("bgpdecode: \(error)")
            }
            if StopSignal.isRaised {
                input.interrupted = true
                break
            }
            if let count = capture.count, frames >= count {
                input.notes.append("stopped after -c \(count) frames: what follows in "
                    + "\(PrintableText.escaped(path)) was not read")
                break
            }
        }
        decoder.finish()
        Self.noteStreamLosses(analyzer, decoder, &input)
        return input
    }

    /// Bytes lost in stream gaps make the input incomplete (a table or verdict built without them cannot
    /// be trusted); messages cut by the end of a stream are noted.
    static func noteStreamLosses(_ analyzer: BGPAnalyzer, _ decoder: BGPCaptureDecoder, _ input: inout BGPInputReport) {
        if analyzer.gapCount > 0 {
            input.problems.append("\(analyzer.lostBytes) bytes of BGP streams were lost in \(analyzer.gapCount) "
                + "\(analyzer.gapCount == 1 ? "gap" : "gaps") (not captured, or beyond the reassembly limits): "
                + "messages in them are missing; capture with a larger buffer (-B) or closer to the speaker")
        }
        let evictions = decoder.reassemblyStatistics.evictions
        if evictions > 0 {
            input.problems.append("\(evictions) TCP \(evictions == 1 ? "flow was" : "flows were") dropped at the "
                + "reassembly limits: their sessions end early")
        }
        input.notes += decoder.noMessageDiagnoses
        if analyzer.truncatedMessages > 0 {
            input.notes.append("\(analyzer.truncatedMessages) \(analyzer.truncatedMessages == 1 ? "message" : "messages") "
                + "cut by the end of a stream (see TRUNCATED)")
        }
    }

    /// Capture on `interface` until --duration, -c or SIGINT/SIGTERM, keeping every frame in the -w file;
    /// what was decoded is reported either way (sessions still up stay up, as at the end of a capture file).
    private func readLive(
        _ interface: String, _ decoder: BGPCaptureDecoder, _ sink: OutputSink, metrics: BGPMetricsOutput?
    ) {
        let ports = port.isEmpty ? [UInt16(179)] : port
        // With the user's filter, it replaces the ports: 'tcp and (EXPR)'.
        let base = capture.filter == nil
            ? "\(Self.ownFilter) and (" + ports.map { "port \($0)" }.joined(separator: " or ") + ")" : Self.ownFilter
        StopSignal.install()  // SIGINT/SIGTERM end a live capture cleanly
        var frames = 0
        do {
            let source = try capture.openInterface(interface, baseFilter: base)
            let recorder = try capture.makeRecorder(for: [source])
            metrics?.start()
            try feed(source, decoder, recorder: recorder, frames: &frames, flushing: sink) {
                metrics?.publish(decoder.analyzer, source: source)
            }
            try recorder?.close()
        } catch let error as CaptureError {
            decoder.finish()
            if error.kind == .badFilter { usageFail(Self.filterProblem(error, filter: capture.filter)) }
            fail(error.message, flushing: sink)
        } catch {
            decoder.finish()
            fail("\(error)", flushing: sink)
        }
        decoder.finish()
    }

    /// Whether two paths name one existing file (same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// Hand every frame of `source` to `decoder` (and to the -w recorder) until it ends, -c frames in all
    /// were read, --duration passes (live) or a signal; `flushing`: print each event as it happens (live).
    private func feed(
        _ source: PacketSource, _ decoder: BGPCaptureDecoder, recorder: CaptureRecorder?, frames: inout Int,
        flushing sink: OutputSink?, tick: () -> Void = {}
    ) throws {
        let limit = capture.count ?? .max
        guard frames < limit else { return }
        // `shouldStop` runs at least every 100 ms live (and every 1024 frames): the metrics' cadence too.
        try source.forEach(until: source.isLive ? capture.deadline : nil, shouldStop: {
            tick()
            return StopSignal.isRaised
        }) {
            record in
            recorder?.write(record)
            decoder.process(record.bytes, linkType: record.linkType, originalLength: record.originalLength,
                timestamp: record.timestamp)
            frames += 1
            sink?.renderer.flush()
            return frames >= limit ? .stop : .continue
        }
    }

    /// A filter libpcap refused, in one sentence: "matches no BGP traffic" when libpcap proved that the
    /// filter with bgpdecode's own `tcp` matches nothing, else libpcap's message.
    static func filterProblem(_ error: CaptureError, filter: String?) -> String {
        let shown = PrintableText.escaped((filter ?? "").prefix(200))
        if error.message.contains("rejects all packets") {
            return "The filter '\(shown)' with bgpdecode's \(ownFilter) matches no BGP traffic: give an expression "
                + "that keeps TCP (like 'port 179 and host 203.0.113.1'), or none."
        }
        // `bgpdecode -r a.pcap b.pcap` reads b.pcap as the filter.
        let words = (filter ?? "").split(separator: " ").map(String.init)
        let sentence = error.message.prefix(1).uppercased() + error.message.dropFirst()
        if words.contains(where: { access($0, F_OK) == 0 }) {
            return sentence + "; to read several files, give -r before each."
        }
        return sentence
    }

    /// Report a usage problem found only when an input was opened (a filter that does not compile for its
    /// link type) and exit 64, as validate() would have.
    private func usageFail(_ message: String) -> Never {
        StandardStreams.error("bgpdecode: \(message)\nSee 'bgpdecode --help' for the options and examples.")
        Glibc.exit(ExitStatus.usage)
    }

    /// Report `message` and exit 1, after writing the output already produced.
    private func fail(_ message: String, flushing sink: OutputSink? = nil) -> Never {
        sink?.renderer.flush()
        StandardStreams.error("bgpdecode: \(message)")
        Glibc.exit(ExitStatus.failure)
    }
}

/// The renderer the event closure and the end of `run` share.
final class OutputSink {
    var renderer: BGPTextRenderer
    init(_ renderer: BGPTextRenderer) { self.renderer = renderer }
}
