import ArgumentParser
import Capture
import CaptureCLI
import FoundationEssentials
import Glibc
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
        abstract: "Report which MAC announces each IP, its failovers, and split-brain.",
        // Every line stays within 78 columns: swift-argument-parser re-wraps longer ones at 80.
        discussion: """
            Follows IPv4 ARP of every kind and IPv6 NDP (unsolicited and solicited
            NA, NS, DAD) in captures (-r, pcap or pcapng, any link type vipscope
            decodes) or live on interfaces (-i, several allowed; stop with
            --duration, --count or Ctrl-C, which prints the summary). VLAN tags are
            kept: the same IP on two VLANs is two stations.

            EVENTS (one line each; --json: one JSON object per line, field "event")
              new-station, changed-ethernet-address, flip-flop,
              reused-old-ethernet-address, ethernet-mismatch, ethernet-broadcast,
              bogon
                  arpwatch's events with arpwatch's meanings (bogon needs
                  --local-net)
              takeover
                  a new owner, once the old one stayed silent for
                  --conflict-window: the gap from the old owner's last frame to
                  the new owner's first, and the gratuitous burst (frames,
                  rounds, spacing, duration; MetalLB: 10 frames in 5 rounds
                  every 1.1 s over 4.4 s), or "unannounced" when the new owner
                  sent no gratuitous frame at all
              split-brain
                  two or more MACs claim the IP within --conflict-window,
                  interleaving
              split-brain-resolved
                  only one MAC answered for a whole window again
              lint
                  announcements that break clients: gratuitous reply whose
                  target MAC is not the sender's, unsolicited NA without target
                  link-layer address, NDP hop limit other than 255
            A summary follows: per IP the owner, first and last seen, frame and
            gratuitous counts, takeovers, conflicts, and the frames that could not
            be decoded (counted, never fatal).

            PROBE (--probe IP, live, one -i; runs --duration, default 3 s)
              Sends a who-has for IP once a second: a broadcast ARP request
              (IPv4), or a Neighbor Solicitation to the solicited-node group
              (IPv6). Unlike arping it never switches to unicast, so a second
              node holding the IP cannot hide. Requests come from the
              interface's MAC and the --probe-source address, by default 0.0.0.0
              (an ARP probe: it claims nothing) or, for IPv6, the interface's
              link-local address. Linux answers both for any address configured
              on it (not for one MetalLB only announces). Prints a "probe-responder"
              line per MAC that answered (replies, first and last reply) and a
              "probe" line with the totals; with --expect, two responders are
              more than one owner (exit 11).

            VERIFICATION (--expect IP=MAC or IP=NODE, repeatable; NODE names come
            from --node-map)
              exit 0    every expected IP was announced, and only by its owner
              exit 10   wrong owner: another MAC announced the IP (it failed
                        over, or the wrong node holds it)
              exit 11   more than one owner: MACs claimed the IP at the same
                        time, interleaving (split-brain), or answered one probe
              exit 12   not seen: no frame announced the IP
              exit 1    could not run (unreadable file, missing interface, no
                        permission, bad filter, bad state file)
              exit 2    interrupted by SIGINT/SIGTERM before the verdict
              exit 64   usage error
            With several --expect, the most serious failure decides: 11, then 10,
            then 12.

            EXAMPLES
              garpwatch -r captures/failover-l2.pcap
              garpwatch -r capture.pcapng --net 198.51.100.200-198.51.100.250 \\
                  --node-map nodes.txt --json
              garpwatch -i eth0 --duration 60 --expect 198.51.100.20=node2 \\
                  --node-map nodes.txt
              garpwatch -i eth0 --probe 198.51.100.20 --duration 5 \\
                  --expect 198.51.100.20=node2 --node-map nodes.txt
              garpwatch -i bond0.100 -i bond0.200 --state /var/lib/garpwatch.json \\
                  --local-net 198.51.100.0/24

            NODE MAP: lines "MAC NAME" (# starts a comment), or JSON
            {"MAC": "NAME"} or {"NAME": ["MAC", ...]}.
            """,
        version: VipscopeVersion.string)

    /// A usage error is one line plus the `--help` hint (ToolSupport.CommandRunner).
    static func main() { CommandRunner.main(Self.self) }

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

    @Option(help: ArgumentHelp(
        "Most addresses tracked at once; frames about further new addresses are counted and reported.",
        valueName: "count"))
    var maxBindings = 65_536

    @Option(help: ArgumentHelp("MAC-to-node names (text or JSON, see below).", valueName: "file"))
    var nodeMap: String?

    @Option(name: .customLong("expect"), help: ArgumentHelp(
        "Verify that IP is announced only by MAC or NODE (repeatable); sets the exit status.", valueName: "ip=owner"))
    var expectations: [String] = []

    @Option(help: ArgumentHelp(
        "Keep the binding table across runs in this JSON file (written atomically).", valueName: "file"))
    var state: String?

    @Option(name: .customLong("probe"), help: ArgumentHelp(
        "Live: ask who has this IP once a second and report every MAC that answers (repeatable).",
        valueName: "ip"))
    var probes: [String] = []

    @Option(help: ArgumentHelp(
        "Sender address of --probe requests (default 0.0.0.0, or the link-local address for IPv6).",
        valueName: "ip"))
    var probeSource: String?

    @Flag(help: "Print events as JSON Lines.")
    var json = false

    @Flag(help: "Print only the summary (and verdicts), no events.")
    var summaryOnly = false

    func validate() throws {
        if maxBindings < 1 { throw ValidationError("--max-bindings must be at least 1.") }
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
        for text in probes where IPAddress(text) == nil {
            throw ValidationError("--probe '\(text)' is not an IPv4 or IPv6 address (e.g. 198.51.100.20).")
        }
        if !probes.isEmpty && capture.interfaces.count != 1 {
            throw ValidationError("--probe sends on one interface: give exactly one -i IFACE (not -r).")
        }
        if let probeSource {
            guard IPAddress(probeSource) != nil else {
                throw ValidationError("--probe-source '\(probeSource)' is not an IPv4 or IPv6 address.")
            }
            if probes.isEmpty { throw ValidationError("--probe-source needs --probe IP.") }
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
        options.maxBindings = maxBindings

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

        var pipeline = Pipeline(
            analyzer: Analyzer(options: options, restoring: restored), renderer: Renderer(nodes: nodes, json: json),
            limit: capture.count ?? .max, quiet: summaryOnly)
        if !probes.isEmpty { pipeline.prober = Prober(targets: probes.compactMap { IPAddress($0) }) }
        var interrupted = false
        do {
            interrupted = try read(into: &pipeline)
        } catch let error as CaptureError {
            pipeline.finish()
            fail(error.message)
        }
        pipeline.finish()
        if let state {
            do { try StateFile.save(pipeline.analyzer.bindings, to: state) } catch { fail(error.description) }
        }
        guard !expected.isEmpty else { return }
        let verdicts = expected.map { expectation in
            Verdict(
                expectation, bindings: pipeline.analyzer.bindings, nodes: nodes,
                probeResponders: pipeline.prober?.responders(for: expectation.ip)?.map(\.mac))
        }
        for verdict in verdicts { StandardStreams.output(pipeline.renderer.line(verdict) + "\n") }
        if interrupted {
            StandardStreams.error("garpwatch: interrupted before the verdict; the lines above are what was seen so far")
            throw ExitCode(ExitStatus.interrupted)
        }
        let status = Verdict.exitStatus(verdicts)
        if status != 0 { throw ExitCode(status) }
    }

    // MARK: Reading

    /// Feed every frame to the pipeline; true when a signal ended the capture.
    private func read(into pipeline: inout Pipeline) throws -> Bool {
        // Files too: Ctrl-C on a long capture still prints the summary of what was read.
        StopSignal.install()
        if !capture.isLive {
            for path in capture.files where !pipeline.isFull && !StopSignal.isRaised {
                let source = try capture.openFile(path)
                try source.forEach(shouldStop: { StopSignal.isRaised }) { record in pipeline.handle(record) }
            }
            return StopSignal.isRaised
        }

        var sources: [PacketSource] = []
        for name in capture.interfaces {
            sources.append(try openInterface(name))
        }
        var probe: ProbeSender?
        if let prober = pipeline.prober {
            probe = try ProbeSender(interface: capture.interfaces[0], targets: prober.targets, source: probeSource)
        }
        let deadline = capture.deadline ?? (probe == nil ? nil : ContinuousClock.now + .seconds(3))
        // Poll the interfaces in turn with short slices, so one quiet interface never starves another.
        let slice = Duration.milliseconds(sources.count == 1 ? 200 : 20)
        while !pipeline.isFull && !StopSignal.isRaised {
            let now = ContinuousClock.now
            if let deadline, now >= deadline { break }
            if var sender = probe, now >= sender.nextRound {
                try sender.send(on: sources[0], counting: &pipeline)
                probe = sender
            }
            var until = deadline.map { min($0, now + slice) } ?? now + slice
            if let probe { until = min(until, probe.nextRound) }
            for source in sources where !pipeline.isFull {
                try source.forEach(until: until, shouldStop: { StopSignal.isRaised }) { record in
                    pipeline.handle(record)
                }
            }
            // Quiet wire: takeovers whose windows passed are reported without waiting for the next frame.
            pipeline.advance(to: wallClock())
            // Live events show up within a slice; files flush only when the buffer fills.
            pipeline.output.flush()
        }
        for source in sources {
            if let statistics = source.statistics(), statistics.droppedByKernel > 0 {
                pipeline.output.flush()
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

/// The per-frame path: one reused `Packet`, the analyzer, and text built (only when an event fires) into
/// one output buffer that is written in 64 KiB chunks rather than one `write(2)` per line. A struct, used
/// through `inout`: as a class its stored properties cost a dynamic exclusivity check on every frame (about
/// 190 instructions per frame in callgrind).
struct Pipeline {
    var analyzer: Analyzer
    let renderer: Renderer
    let limit: Int
    let quiet: Bool
    var output = TextBuffer(capacity: Pipeline.flushThreshold + 4096)
    /// `--probe`: the responders to our requests.
    var prober: Prober?
    private var packet = Packet()
    private var frames = 0

    static let flushThreshold = 1 << 16

    init(analyzer: Analyzer, renderer: Renderer, limit: Int, quiet: Bool) {
        self.analyzer = analyzer
        self.renderer = renderer
        self.limit = limit
        self.quiet = quiet
    }

    var isFull: Bool { frames >= limit }

    @inline(__always)
    mutating func handle(_ record: borrowing PacketRecord) -> IterationControl {
        packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
        analyzer.process(packet, at: record.timestamp)
        if !analyzer.events.isEmpty { flushEvents() }
        if prober != nil { prober?.observe(packet, at: record.timestamp) }
        frames += 1
        return frames >= limit ? .stop : .continue
    }

    mutating func advance(to time: Timestamp) {
        analyzer.advance(to: time)
        if !analyzer.events.isEmpty { flushEvents() }
    }

    /// End of input: the last takeovers, the summary, and everything written out.
    mutating func finish() {
        analyzer.finish()
        flushEvents()
        if let prober { renderer.writeProbe(prober, to: &output) }
        renderer.writeSummary(analyzer, to: &output)
        output.flush()
    }

    private mutating func flushEvents() {
        if !quiet {
            for event in analyzer.events { renderer.write(event, to: &output) }
        }
        analyzer.events.removeAll(keepingCapacity: true)
        if output.count >= Pipeline.flushThreshold { output.flush() }
    }
}

/// `--probe`: the request frames for one interface, sent once a second.
struct ProbeSender {
    let frames: [[UInt8]]
    var nextRound = ContinuousClock.now

    /// Reads the interface's MAC (and, for IPv6 without `--probe-source`, its link-local address).
    init(interface: String, targets: [IPAddress], source: String?) throws(CaptureError) {
        let path = "/sys/class/net/\(interface)/address"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let mac = MACAddress(text.filter { !$0.isWhitespace }), !mac.isZero
        else {
            throw CaptureError(
                .noSuchInterface,
                "--probe cannot send on \(interface): it has no Ethernet address (\(path)); probe on a real interface")
        }
        let given = source.flatMap { IPAddress($0) }
        let wantsIPv6 = targets.contains { if case .v6 = $0 { true } else { false } }
        let linkLocal = wantsIPv6 ? Self.linkLocal(of: interface) : nil
        frames = targets.map { target in
            let sender: IPAddress?
            switch (target, given) {
            case (.v4, .v4?), (.v6, .v6?): sender = given
            case (.v6, _): sender = linkLocal.map { .v6($0) }
            default: sender = nil
            }
            return Prober.request(for: target, sourceMAC: mac, sourceIP: sender)
        }
    }

    /// One request per probed address, and the time of the next round.
    /// Throws `CaptureError` (untyped here: a typed-throws closure passed to `withUnsafeBytes` crashes this compiler).
    mutating func send(on source: PacketSource, counting pipeline: inout Pipeline) throws {
        for (index, frame) in frames.enumerated() {
            try frame.withUnsafeBytes { bytes in try source.inject(bytes) }
            pipeline.prober?.countRequest(for: index)
        }
        // Once a second; after a stall (a slow terminal), carry on from now rather than catch up in a burst.
        nextRound = max(nextRound + .seconds(1), ContinuousClock.now)
    }

    /// The interface's link-local IPv6 address from /proc/net/if_inet6 (`fe80...01 03 40 20 80 eth0`: address,
    /// index, prefix length, scope 0x20 = link, flags, name).
    static func linkLocal(of interface: String) -> IPv6Address? {
        guard let table = try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 6, fields[5] == interface, fields[3] == "20", fields[0].count == 32 else { continue }
            let hex = Array(fields[0])
            let groups = stride(from: 0, to: 32, by: 4).map { String(hex[$0..<$0 + 4]) }
            return IPv6Address(groups.joined(separator: ":"))
        }
        return nil
    }
}
