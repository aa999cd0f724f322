import ArgumentParser
import Capture
import Foundation
import GarpWatchKit
import PacketCore
import ToolSupport

/// `garpwatch`: which MAC (and node) announces each IP on the wire, when ownership moves, how long the
/// failover took, and whether two nodes answer at once. All logic is in GarpWatchKit; this file wires
/// capture sources to the analyzer and prints.
@main
struct GarpWatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "garpwatch",
        abstract: "Report which MAC announces each IP (ARP and IPv6 NDP), failovers, and split-brain.",
        discussion: """
            Reads captures (-r, pcap or pcapng, any link type vipscope decodes, VLAN tags kept: the same IP on two
            VLANs is two stations) or watches interfaces live (-i, several allowed; stop with --duration, --count
            or Ctrl-C, which prints the summary). Every ARP kind and IPv6 NS/NA (unsolicited NA, DAD) is followed.

            Events, one line each (--json: one JSON object per line, field "event"):
              new-station, changed-ethernet-address, flip-flop, reused-old-ethernet-address, ethernet-mismatch,
              ethernet-broadcast, bogon     arpwatch's events with arpwatch's meanings (bogon needs --local-net)
              takeover        a new owner, once the old one stayed silent for --conflict-window: the gap from the
                              old owner's last frame to the new owner's first, and the gratuitous burst (frames,
                              rounds, spacing, duration; MetalLB: 10 frames in 5 rounds every 1.1 s over 4.4 s),
                              or "unannounced" when the new owner sent no gratuitous frame at all
              split-brain     two or more MACs claiming the IP within --conflict-window, interleaving
              split-brain-resolved   only one MAC answered for a whole window again
              lint            announcements that break clients: gratuitous reply whose target MAC is not the
                              sender's, unsolicited NA without target link-layer address, NDP hop limit != 255
            A summary follows: per IP the owner, first/last seen, frame and gratuitous counts, takeovers, conflicts,
            and the frames that could not be decoded (counted, never fatal).

            Verification (--expect IP=MAC or IP=NODE, repeatable; NODE names come from --node-map):
              exit 0    every expected IP was announced, and only by its expected owner
              exit 10   wrong owner: another MAC announced the IP (failed over, or the wrong node holds it)
              exit 11   more than one owner: MACs claimed the IP at the same time, interleaving (split-brain)
              exit 12   not seen: no frame announced the IP
              exit 1    could not run (unreadable file, missing interface, no permission, bad filter, bad state
                        file);  exit 2  interrupted by SIGINT/SIGTERM before the verdict;  exit 64  usage
            With several --expect, the most serious failure decides: 11, then 10, then 12.

            Examples:
              garpwatch -r captures/failover-l2.pcap
              garpwatch -r capture.pcapng --net 198.51.100.200-198.51.100.250 --node-map nodes.txt --json
              garpwatch -i eth0 --duration 60 --expect 198.51.100.20=node2 --node-map nodes.txt
              garpwatch -i bond0.100 -i bond0.200 --state /var/lib/garpwatch.json --local-net 198.51.100.0/24
            Node map: lines "MAC NAME" (# comments), or JSON {"MAC": "NAME"} / {"NAME": ["MAC", ...]}.
            """)

    @OptionGroup var capture: CaptureOptions

    @Option(name: .customLong("ip"), help: ArgumentHelp(
        "Follow only this address or MetalLB-style range A-B (repeatable).", valueName: "ip|A-B"))
    var ips: [String] = []

    @Option(name: .customLong("net"), help: ArgumentHelp(
        "Follow only addresses in this CIDR or range A-B (repeatable).", valueName: "cidr"))
    var nets: [String] = []

    @Option(name: .customLong("local-net"), help: ArgumentHelp(
        "Report addresses outside these CIDRs as bogons (repeatable).", valueName: "cidr"))
    var localNets: [String] = []

    @Option(help: ArgumentHelp(
        "Seconds within which two interleaving owners are a split-brain, and an old owner must stay silent "
            + "for a clean takeover.", valueName: "seconds"))
    var conflictWindow: Double = 5

    @Option(help: ArgumentHelp(
        "Seconds after a new owner's first frame whose gratuitous frames count as its burst.", valueName: "seconds"))
    var burstWindow: Double = 6

    @Option(help: ArgumentHelp("MAC-to-node names (text or JSON, see below).", valueName: "file"))
    var nodeMap: String?

    @Option(name: .customLong("expect"), help: ArgumentHelp(
        "Verify that IP is announced only by MAC or NODE (repeatable); sets the exit status.", valueName: "ip=owner"))
    var expectations: [String] = []

    @Option(help: ArgumentHelp(
        "Keep the binding table across runs in this JSON file (written atomically).", valueName: "file"))
    var state: String?

    @Flag(help: "Print events as JSON Lines.")
    var json = false

    @Flag(help: "Print only the summary (and verdicts), no events.")
    var summaryOnly = false

    func validate() throws {
        if conflictWindow <= 0 || !conflictWindow.isFinite {
            throw ValidationError("--conflict-window must be a positive number of seconds.")
        }
        if burstWindow <= 0 || !burstWindow.isFinite {
            throw ValidationError("--burst-window must be a positive number of seconds.")
        }
        for text in ips + nets where IPRange(text) == nil {
            throw ValidationError("'\(text)' is not an address, CIDR or range A-B (e.g. 198.51.100.200-198.51.100.250).")
        }
        for text in localNets where IPPrefix(text) == nil {
            throw ValidationError("--local-net '\(text)' is not a CIDR prefix (e.g. 198.51.100.0/24).")
        }
        for text in expectations where Expectation(text) == nil {
            throw ValidationError("--expect '\(text)' must be IP=MAC or IP=NODE (e.g. 198.51.100.20=node2).")
        }
        if expectations.contains(where: { Expectation($0).map { if case .node = $0.owner { true } else { false } } ?? false })
            && nodeMap == nil
        {
            throw ValidationError("--expect with a node name needs --node-map FILE to know the node's MACs.")
        }
    }

    func run() throws {
        var options = AnalyzerOptions()
        options.conflictWindow = Int64(conflictWindow * 1e9)
        options.burstWindow = Int64(burstWindow * 1e9)
        options.scope = (ips + nets).compactMap { IPRange($0) }
        options.localNets = localNets.compactMap { IPPrefix($0) }

        let nodes: NodeMap
        var restored: [Binding] = []
        do {
            nodes = try loadNodeMap()
            if let state { restored = try StateFile.load(state) }
        } catch let failure as NodeMap.ParseError {
            fail(failure.description)
        } catch let failure as StateFile.Failure {
            fail(failure.description)
        }
        let expected = expectations.compactMap(Expectation.init)
        for expectation in expected where expectation.expectedMACs(nodes).isEmpty {
            fail("--expect \(expectation): the node map has no MAC for that node (check the name in \(nodeMap ?? "-"))")
        }

        var analyzer = Analyzer(options: options, restoring: restored)
        let renderer = Renderer(nodes: nodes, json: json)
        var interrupted = false
        do {
            interrupted = try read(into: &analyzer, renderer: renderer)
        } catch let error as CaptureError {
            flushAndSummarize(&analyzer, renderer: renderer)
            fail(error.message)
        }
        flushAndSummarize(&analyzer, renderer: renderer)
        if let state {
            do { try StateFile.save(analyzer.bindings, to: state) } catch { fail(error.description) }
        }
        guard !expected.isEmpty else { return }
        let verdicts = expected.map { Verdict($0, bindings: analyzer.bindings, nodes: nodes) }
        for verdict in verdicts { StandardStreams.output(renderer.line(verdict) + "\n") }
        if interrupted {
            StandardStreams.error("garpwatch: interrupted before the verdict; the lines above are what was seen so far")
            throw ExitCode(ExitStatus.interrupted)
        }
        let status = Verdict.exitStatus(verdicts)
        if status != 0 { throw ExitCode(status) }
    }

    // MARK: Reading

    /// Feed every frame to the analyzer; true when a signal ended a live capture.
    private func read(into analyzer: inout Analyzer, renderer: Renderer) throws -> Bool {
        let pipeline = Pipeline(analyzer: analyzer, renderer: renderer, limit: capture.count ?? .max, quiet: summaryOnly)
        defer { analyzer = pipeline.analyzer }
        if !capture.isLive {
            for path in capture.files where !pipeline.isFull {
                let source = try capture.openFile(path)
                try source.forEach { record in pipeline.handle(record) }
            }
            return false
        }

        StopSignal.install()
        var sources: [PacketSource] = []
        for name in capture.interfaces {
            sources.append(try openInterface(name))
        }
        let deadline = capture.deadline
        // Poll the interfaces in turn with short slices, so one quiet interface never starves another.
        let slice = Duration.milliseconds(sources.count == 1 ? 200 : 20)
        while !pipeline.isFull && !StopSignal.isRaised {
            let now = ContinuousClock.now
            if let deadline, now >= deadline { break }
            let until = deadline.map { min($0, now + slice) } ?? now + slice
            for source in sources where !pipeline.isFull {
                try source.forEach(until: until, shouldStop: { StopSignal.isRaised }) { record in
                    pipeline.handle(record)
                }
            }
            // Quiet wire: takeovers whose windows passed are reported without waiting for the next frame.
            pipeline.advance(to: wallClock())
        }
        for source in sources {
            if let statistics = source.statistics(), statistics.droppedByKernel > 0 {
                StandardStreams.error("garpwatch: \(source.name): \(statistics)")
            }
        }
        return StopSignal.isRaised
    }

    private func openInterface(_ name: String) throws(CaptureError) -> PacketSource {
        let source: PacketSource
        do {
            // Only ARP and ICMPv6 matter; tagged frames are kept for the core to unwrap.
            source = try capture.openInterface(name, baseFilter: "arp or icmp6 or vlan")
        } catch {
            guard error.kind == .badFilter && capture.filter == nil else { throw error }
            source = try capture.openInterface(name)
        }
        for warning in source.warnings { StandardStreams.error("garpwatch: \(warning)") }
        return source
    }

    private func flushAndSummarize(_ analyzer: inout Analyzer, renderer: Renderer) {
        analyzer.finish()
        if !summaryOnly { emit(analyzer.takeEvents(), renderer: renderer) }
        StandardStreams.output(renderer.summary(analyzer).joined(separator: "\n") + "\n")
    }

    private func loadNodeMap() throws -> NodeMap {
        guard let nodeMap else { return NodeMap() }
        guard let data = FileManager.default.contents(atPath: nodeMap) else {
            fail("cannot read node map \(nodeMap): no such file or permission denied (check the path)")
        }
        return try NodeMap(parsing: String(decoding: data, as: UTF8.self), source: nodeMap)
    }

    private func wallClock() -> Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int32(now.tv_nsec))
    }

    private func fail(_ message: String) -> Never {
        StandardStreams.error("garpwatch: \(message)")
        GarpWatch.exit(withError: ExitCode(ExitStatus.failure))
    }
}

/// The per-frame path: one reused `Packet`, the analyzer, and printing when (only when) an event fires.
final class Pipeline {
    var analyzer: Analyzer
    let renderer: Renderer
    let limit: Int
    let quiet: Bool
    private var packet = Packet()
    private var frames = 0

    init(analyzer: Analyzer, renderer: Renderer, limit: Int, quiet: Bool) {
        self.analyzer = analyzer
        self.renderer = renderer
        self.limit = limit
        self.quiet = quiet
    }

    var isFull: Bool { frames >= limit }

    @inline(__always)
    func handle(_ record: borrowing PacketRecord) -> IterationControl {
        packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
        analyzer.process(packet, at: record.timestamp)
        if !analyzer.events.isEmpty { flushEvents() }
        frames += 1
        return frames >= limit ? .stop : .continue
    }

    func advance(to time: Timestamp) {
        analyzer.advance(to: time)
        if !analyzer.events.isEmpty { flushEvents() }
    }

    private func flushEvents() {
        let events = analyzer.takeEvents()
        if !quiet { emit(events, renderer: renderer) }
    }
}

func emit(_ events: [Event], renderer: Renderer) {
    var text = ""
    for event in events { text += renderer.line(event) + "\n" }
    StandardStreams.output(text)
}
