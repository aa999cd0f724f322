import ArgumentParser
import Capture
import CaptureCLI
import FoundationEssentials
import Glibc
import GarpWatchKit
import KubeInputs
import MetricsSink
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
            --duration, --count or Ctrl-C, which prints the summary). Several -r
            files are one capture, merged by frame time. VLAN tags are kept: the
            same IP on two VLANs is two stations. A pipe or FIFO (tcpdump -U -w - |
            garpwatch -r -) prints each event as soon as its frame is read.

            EVENTS (one line each; --json: one JSON object per line, field "event")
              new-station, changed-ethernet-address, flip-flop,
              reused-old-ethernet-address, ethernet-mismatch, ethernet-broadcast,
              bogon
                  arpwatch's events with arpwatch's meanings (bogon needs
                  --local-net)
              takeover
                  a new owner, once the old one stayed silent for
                  --conflict-window: the gap from the old owner's last sign of
                  life (ARP/NDP; its replies to clients, "from ip-source"; VRRP
                  adverts, "from vrrp-advert" or "from vrrp-priority-0") to the
                  new owner's first frame, and the gratuitous burst (frames,
                  rounds, spacing, duration; MetalLB: 10 frames in 5 rounds
                  every 1.1 s over 4.4 s), or "unannounced" when the new owner
                  sent no gratuitous frame at all; "gap not measured" when the
                  old owner was last seen by an earlier run (--state) or the
                  frames are out of order; with client traffic in the capture,
                  "clients saw": last reply from the old MAC to the first from
                  the new
              split-brain
                  two or more MACs claim the IP within --conflict-window,
                  interleaving, or answer one broadcast who-has
              split-brain-resolved
                  a broadcast who-has that only one of the MACs answered (never
                  mere silence: a quiet owner may still hold the IP)
              lint
                  announcements that break clients: gratuitous reply whose
                  target MAC is not the sender's (unless its gratuitous request
                  came just before it), unsolicited NA without target
                  link-layer address, NDP hop limit other than 255
              metallb-style
                  once per IP and MAC: a gratuitous request and reply to
                  ff:ff:ff:ff:ff:ff each round (MetalLB's healthy pattern)
            Addresses given with --ip, --net or --expect are also claimed by
            their IP traffic (the address as source, "[ip-source]"), so a
            capture begun after the last gratuitous ARP still finds the owner
            and sees it move; VRRP adverts claim the addresses they list
            ("[vrrp-advert]"), and two masters advertising in turn are a
            split-brain. Events print in time order: lines after a takeover
            wait until its windows have passed.
            A summary follows: per IP the owner, first and last seen, frame and
            gratuitous counts, takeovers, conflicts, and the frames that could not
            be decoded (counted, never fatal).
            --json (docs/json.md): a "start" object (tool, version,
            schema_version), then every object with event, time, host
            (--node-name) and, live on one -i, interface; "binding" objects and
            the "summary" and "verdict" carry the last frame's time.

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
              exit 10   wrong owner: another MAC owns the IP at the end (it
                        failed over, or the wrong node holds it); a clean
                        takeover to the expected owner during the capture is 0
              exit 11   more than one owner: MACs claimed the IP at the same
                        time, interleaving (split-brain), or answered one probe
              exit 12   not seen: no frame announced the IP
              exit 1    could not run (unreadable file, missing interface, no
                        permission, bad filter, bad state file), or an input
                        was cut short: what was read, the summary (marked
                        partial) and the verdicts are printed first
              exit 2    interrupted by SIGINT/SIGTERM before the verdict
                        (the verdict lines then carry exit_status 2)
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

            CLUSTER (kubectl's JSON, as the DaemonSet in deploy/ mounts it)
              --services: every LoadBalancer IP is followed and gets a verdict:
              any one owner is ok, two at once are multiple-owners (11).
              --nodes: a MAC that announces a node's InternalIP is printed as
              that node from then on, in events, summary, verdicts, metrics.

            METRICS (deploy/METRICS.md; series only for expected IPs)
              --metrics-listen ADDR:PORT serves /metrics (Prometheus text) and
              /healthz while live; --metrics-file FILE writes the same text
              every second live and at the end (node_exporter's textfile
              collector), also after -r. Owners count the analyzer's verdict:
              a clean takeover is one owner, a split-brain two until evidence
              ends it; only measured failover gaps enter the histogram.
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

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds within which two interleaving owners are a split-brain, and an old owner must stay silent "
            + "for a clean takeover.", valueName: "seconds"))
    var conflictWindow: Double = 5

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds after a new owner's first frame whose gratuitous frames count as its burst.", valueName: "seconds"))
    var burstWindow: Double = 6

    @Option(parsing: .unconditional, help: ArgumentHelp(
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

    @Option(help: ArgumentHelp(
        "LoadBalancer Services (kubectl get svc -A -o json): each IP is followed, must have exactly one owner "
            + "(a verdict each), and carries its namespace/name in the metrics.", valueName: "file"))
    var services: String?

    @Option(help: ArgumentHelp(
        "Nodes (kubectl get nodes -o json): the MAC seen announcing a node's InternalIP is named after the "
            + "node, with no --node-map to write.", valueName: "file"))
    var nodes: String?

    @Option(name: .customLong("probe"), help: ArgumentHelp(
        "Live: ask who has this IP once a second and report every MAC that answers (repeatable).",
        valueName: "ip"))
    var probes: [String] = []

    @Option(help: ArgumentHelp(
        "Sender address of --probe requests (default 0.0.0.0, or the link-local address for IPv6).",
        valueName: "ip"))
    var probeSource: String?

    @Flag(help: "Print events as JSON Lines (docs/json.md).")
    var json = false

    @OptionGroup var node: NodeNameOptions

    @Flag(help: "Print only the summary (and verdicts), no events.")
    var summaryOnly = false

    @OptionGroup var metrics: MetricsOptions

    /// Allowed values of the numeric options (checked in `validate()`, so an absurd value is a usage error
    /// naming the range, never an overflow in the nanosecond arithmetic).
    static let windowRange: ClosedRange<Double> = 0.001...3600
    static let bindingsRange: ClosedRange<Int> = 1...1_048_576

    func validate() throws {
        try capture.requireSource()
        // Declared with `parsing: .unconditional`, so `--max-bindings -5` reaches these checks ("must be
        // positive") instead of swift-argument-parser reading -5 as an option ("Missing value").
        try OptionRange.integer(maxBindings, option: "--max-bindings", in: Self.bindingsRange, unit: "addresses")
        try OptionRange.seconds(
            conflictWindow, option: "--conflict-window", minimum: Self.windowRange.lowerBound,
            maximum: Self.windowRange.upperBound)
        try OptionRange.seconds(
            burstWindow, option: "--burst-window", minimum: Self.windowRange.lowerBound,
            maximum: Self.windowRange.upperBound)
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
        if metrics.listen != nil && !capture.isLive {
            throw ValidationError(
                "--metrics-listen serves while garpwatch captures live: give -i IFACE (for a capture file, "
                    + "--metrics-file FILE writes the metrics at the end).")
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
            && nodeMap == nil && nodes == nil
        {
            throw ValidationError(
                "--expect with a node name needs --node-map FILE or --nodes FILE to know the node's MACs.")
        }
    }

    func run() throws {
        // First: a FIFO, standard input or a state file on a stalled pipe must never make SIGINT/SIGTERM wait.
        StopSignal.install()
        var options = AnalyzerOptions()
        options.conflictWindow = Int64((conflictWindow * 1e9).rounded())
        options.burstWindow = Int64((burstWindow * 1e9).rounded())
        options.scope = (ips + nets).compactMap { IPRange($0) }
        options.localNets = localNets.compactMap { IPPrefix($0) }
        // Named addresses are followed through their IP traffic too (a capture after the last announcement).
        options.ipSourceScope = options.scope + expectations.compactMap { Expectation($0).flatMap { IPRange("\($0.ip)") } }
        options.maxBindings = maxBindings

        var nodeMap: NodeMap
        var restored = StateFile.Loaded(bindings: [], dropped: 0, newest: nil)
        do {
            nodeMap = try loadNodeMap()
            if let state { restored = try StateFile.load(state, maxBindings: maxBindings) }
        } catch let failure as NodeMap.ParseError {
            fail(failure.description)
        } catch let failure as StateFile.Failure {
            if StopSignal.isRaised { interruptedBeforeReading() }
            fail(failure.description)
        }
        if restored.dropped > 0, let state {
            StandardStreams.error(
                "garpwatch: state file \(PrintableText.escaped(state)) holds \(restored.bindings.count + restored.dropped) "
                    + "bindings; loaded the first \(restored.bindings.count) (--max-bindings) and dropped "
                    + "\(restored.dropped), which the file will no longer hold: raise --max-bindings to keep them")
        }
        let given = expectations.compactMap(Expectation.init)
        // With --nodes a node's MACs are learned from the wire; without it a name the map lacks is a typo.
        for expectation in given where nodes == nil && expectation.expectedMACs(nodeMap).isEmpty {
            fail("--expect \(expectation): the node map has no MAC for that node (check the name in "
                + "\(PrintableText.escaped(self.nodeMap ?? "-")))")
        }
        // The cluster's declared state: Services' LoadBalancer IPs become expectations of one owner each (an
        // --expect for the same IP says more and wins); nodes' InternalIPs name the MACs that announce them.
        let cluster = loadCluster()
        let explicit = Set(given.map(\.ip))
        let expected = given + cluster.services.filter { !explicit.contains($0.ip) }.map {
            Expectation(ip: $0.ip, owner: .anyOneOwner(service: $0.service))
        }
        let declaredIPs = cluster.services.map { IPRange("\($0.ip)") } + cluster.nodeIPs.keys.map { IPRange("\($0)") }
        if !options.scope.isEmpty { options.scope += declaredIPs.compactMap { $0 } }
        options.ipSourceScope += cluster.services.compactMap { IPRange("\($0.ip)") }
        for binding in restored.bindings {
            if let name = cluster.nodeIPs[binding.key.ip] { nodeMap.learn(binding.owner, name: name) }
        }
        let serviceOf = Dictionary(cluster.services.map { ($0.ip, $0.service) }, uniquingKeysWith: { first, _ in first })

        // Metrics: series for the expected addresses only (--expect, a single --ip), bounded by what was declared.
        // The port is bound now, so one in use fails before any capture starts.
        var metricsOutput: MetricsOutput?
        if metrics.isRequested {
            var seen = Set<IPAddress>()
            var declared: [GarpMetrics.Expected] = []
            for ip in expected.map(\.ip) + (ips + nets).compactMap({ IPRange($0) }).filter({ $0.first == $0.last }).map(\.first)
            where seen.insert(ip).inserted {
                declared.append(GarpMetrics.Expected(ip: ip, service: serviceOf[ip] ?? ""))
            }
            let model = GarpMetrics(node: node.resolved, expected: declared, scope: options.scope)
            do {
                metricsOutput = MetricsOutput(model: model, publisher: try MetricsPublisher(metrics, registry: model.registry))
            } catch {
                fail(error.message)
            }
        }

        // Every input is opened before anything is printed: an input never opened gets no summary.
        var sources: [PacketSource] = []
        do {
            if capture.isLive {
                for name in capture.interfaces { sources.append(try openInterface(name)) }
            } else {
                for path in capture.files { sources.append(try capture.openFile(path)) }
            }
        } catch {
            if StopSignal.isRaised { interruptedBeforeReading() }
            fail(PrintableText.escaped(error.message))
        }

        let renderer = Renderer(
            nodes: nodeMap, json: json, envelope: node.envelope,
            interface: capture.isLive && capture.interfaces.count == 1 ? capture.interfaces.first : nil)
        if json {
            // Printed before any frame is read: the start object is the one whose time is the wall clock's even
            // for a capture file.
            StandardStreams.output(
                node.envelope.start(tool: "garpwatch", time: wallClock(), interface: renderer.interface).text + "\n")
        }
        var pipeline = Pipeline(
            analyzer: Analyzer(options: options, restoring: restored.bindings),
            renderer: renderer, limit: capture.count ?? .max, quiet: summaryOnly)
        pipeline.isLive = capture.isLive
        pipeline.metrics = metricsOutput?.model
        pipeline.nodeIPs = cluster.nodeIPs
        if !probes.isEmpty { pipeline.prober = Prober(targets: probes.compactMap { IPAddress($0) }) }
        var end = ReadEnd()
        if capture.isLive {
            metricsOutput?.publisher.start()
            readLive(sources, into: &pipeline, end: &end, metrics: metricsOutput)
        } else {
            readFiles(sources, into: &pipeline, end: &end)
        }
        // A signal that cut a read short (EINTR) is an interruption, not a broken file.
        if StopSignal.isRaised { end.interrupted = true }
        if end.interrupted { end.failures.removeAll() }
        let partial: String? = end.interrupted ? "interrupted" : end.failures.isEmpty ? nil : "input cut short"
        pipeline.finish(partial: partial)
        metricsOutput?.publish(pipeline, sources: sources, force: true)
        if let state {
            do { try StateFile.save(pipeline.analyzer.bindings, to: state) } catch { fail("\(error)") }
            if let newest = restored.newest, let first = pipeline.firstFrame, newest > first {
                StandardStreams.error(
                    "garpwatch: note: state file \(PrintableText.escaped(state)) records frames up to "
                        + "\(newest.iso8601), later than this capture's first frame (\(first.iso8601)); takeovers "
                        + "from its owners are labelled \"state file newer than the capture\", not measured")
            }
        }
        let verdicts = expected.map { expectation in
            Verdict(
                expectation, bindings: pipeline.analyzer.bindings, nodes: pipeline.renderer.nodes,
                probeResponders: pipeline.prober?.responders(for: expectation.ip)?.map { $0.mac })
        }
        let status: Int32 =
            end.interrupted
            ? (expected.isEmpty && capture.isLive ? ExitStatus.ok : ExitStatus.interrupted)
            : !end.failures.isEmpty ? ExitStatus.failure : Verdict.exitStatus(verdicts)
        let verdictTime = pipeline.tableTime
        for verdict in verdicts {
            StandardStreams.output(
                pipeline.renderer.line(verdict, exitStatus: status, partial: partial, time: verdictTime) + "\n")
        }
        for failure in end.failures { StandardStreams.error("garpwatch: \(failure)") }
        if end.interrupted && !expected.isEmpty {
            StandardStreams.error("garpwatch: interrupted before the verdict; the lines above are what was seen so far")
        } else if end.interrupted && !capture.isLive {
            StandardStreams.error(
                "garpwatch: interrupted before the end of the input; the lines above are what was read so far")
        }
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    // MARK: Reading

    /// How the reading ended: a signal, and the inputs that could not be read to their end.
    struct ReadEnd {
        var interrupted = false
        var failures: [String] = []
    }

    /// A signal arrived before any input was open: nothing was read, so nothing is summarised.
    private func interruptedBeforeReading() -> Never {
        StandardStreams.error("garpwatch: interrupted before any input was read; nothing to report")
        GarpWatch.exit(withError: ExitCode(ExitStatus.interrupted))
    }

    /// Files: one is read straight through; several are merged by timestamp (a heap holding the next frame of
    /// each), so the order of the `-r` options never changes the events. A file that breaks off is reported
    /// and the others are read to their end.
    private func readFiles(_ sources: [PacketSource], into pipeline: inout Pipeline, end: inout ReadEnd) {
        if sources.count == 1, let source = sources.first {
            // `tcpdump -U -w - | garpwatch -r -`: each event is written as soon as its frame is read, not at
            // the end of the input (a pipe may never end); a regular file keeps the 64 KiB output batches.
            let streaming = Self.isStream(source.name)
            do {
                var packet = Packet()
                try source.forEach(shouldStop: { StopSignal.isRaised }) { record in
                    let control = pipeline.handle(record, decodingInto: &packet)
                    if streaming && pipeline.output.count > 0 { pipeline.output.flush() }
                    return control
                }
            } catch {
                end.failures.append(Self.describe(error, reading: source.name))
            }
            end.interrupted = StopSignal.isRaised
            return
        }
        // Ties (equal timestamps in two files) go by file name, so swapping the -r options changes nothing.
        let order = sources.indices.sorted { (sources[$0].name, $0) < (sources[$1].name, $1) }
        var rank = [Int](repeating: 0, count: sources.count)
        for (position, index) in order.enumerated() { rank[index] = position }
        var heads = [MergeHead](repeating: MergeHead(), count: sources.count)
        var heap = MergeHeap()
        func pull(_ index: Int) {
            var got = false
            do {
                try sources[index].forEach(shouldStop: { StopSignal.isRaised }) { record in
                    heads[index].load(record)
                    got = true
                    return .stop
                }
            } catch {
                end.failures.append(Self.describe(error, reading: sources[index].name))
            }
            if got { heap.push(MergeHeap.Entry(time: heads[index].timestamp, rank: rank[index], source: index)) }
        }
        for index in sources.indices where !StopSignal.isRaised { pull(index) }
        var packet = Packet()
        while !pipeline.isFull && !StopSignal.isRaised, let next = heap.pop() {
            heads[next.source].bytes.withUnsafeBytes { bytes in
                let head = heads[next.source]
                pipeline.handle(
                    bytes, linkType: head.linkType, originalLength: head.originalLength, timestamp: head.timestamp,
                    decodingInto: &packet)
            }
            pull(next.source)
        }
        end.interrupted = StopSignal.isRaised
    }

    /// A pipe, FIFO, socket or terminal (standard input for "-"): input that arrives over time.
    static func isStream(_ path: String) -> Bool {
        var status = stat()
        let result = path == "-" ? fstat(STDIN_FILENO, &status) : stat(path, &status)
        guard result == 0 else { return false }
        let type = status.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR
    }

    private static func describe(_ error: any Error, reading name: String) -> String {
        // libpcap's messages carry the file or interface name as given: escaped like all text not ours.
        PrintableText.escaped((error as? CaptureError)?.message ?? "cannot read \(name): \(error)")
    }

    private func readLive(
        _ sources: [PacketSource], into pipeline: inout Pipeline, end: inout ReadEnd, metrics: MetricsOutput?
    ) {
        do {
            try readLiveFrames(sources, into: &pipeline, metrics: metrics)
        } catch {
            end.failures.append(Self.describe(error, reading: capture.interfaces.joined(separator: ", ")))
        }
        end.interrupted = StopSignal.isRaised
    }

    /// Feed every frame of the interfaces to the pipeline until --duration, --count or a signal.
    private func readLiveFrames(
        _ sources: [PacketSource], into pipeline: inout Pipeline, metrics: MetricsOutput?
    ) throws {
        var probe: ProbeSender?
        if let prober = pipeline.prober {
            probe = try ProbeSender(interface: capture.interfaces[0], targets: prober.targets, source: probeSource)
        }
        let deadline = capture.deadline ?? (probe == nil ? nil : ContinuousClock.now + .seconds(3))
        // -w: the file holds exactly the frames the analyzer saw (written before each is analysed).
        let recorder = try capture.makeRecorder(for: sources)
        var packet = Packet()
        defer {
            if let recorder {
                do { try recorder.close() } catch {
                    StandardStreams.error("garpwatch: \(PrintableText.escaped(error.message))")
                }
            }
        }
        // Poll the interfaces in turn with short slices, so one quiet interface never starves another.
        let slice = Duration.milliseconds(sources.count == 1 ? 200 : 20)
        while !pipeline.isFull && !StopSignal.isRaised {
            let now = ContinuousClock.now
            if let deadline, now >= deadline { break }
            if var sender = probe, now >= sender.nextRound {
                try sender.send(on: sources[0], counting: &pipeline)
                probe = sender
            }
            for (position, source) in sources.enumerated() where !pipeline.isFull {
                // Each interface gets its own slice from now: with one `until` for all, the first quiet interface
                // waited it out and every later one returned at its first deadline check without reading a
                // frame (seen with -i p0 -i p1 on a bridge: p1's frames were never read).
                let start = ContinuousClock.now
                var until = deadline.map { min($0, start + slice) } ?? start + slice
                if let probe { until = min(until, probe.nextRound) }
                pipeline.currentInterface = sources.count > 1 ? source.name : nil
                defer { pipeline.currentInterface = nil }
                try source.forEach(until: until, shouldStop: { StopSignal.isRaised }) { record in
                    recorder?.write(record, interface: position)
                    return pipeline.handle(record, decodingInto: &packet)
                }
            }
            // Quiet wire: takeovers whose windows passed are reported without waiting for the next frame.
            pipeline.advance(to: wallClock())
            metrics?.publish(pipeline, sources: sources)
            // Live events show up within a slice; files flush only when the buffer fills.
            pipeline.output.flush()
            // So that a killed garpwatch leaves the evidence it analysed.
            try recorder?.flush()
        }
        for source in sources {
            if let statistics = source.statistics(), statistics.droppedByKernel > 0 {
                pipeline.output.flush()
                StandardStreams.error("garpwatch: \(PrintableText.escaped(source.name)): \(statistics)")
            }
        }
    }

    /// Live frames come in kernel blocks handed over at most this long after their first frame, not one wake-up
    /// per frame. Measured with scripts/bench-garpwatch-live (300,000 ARP frames by tcpreplay --topspeed into a
    /// veth pair): in immediate mode libpcap uses TPACKET_V2 slots sized by the snaplen, 32 of them in the 8 MiB
    /// buffer, and garpwatch -i dropped 192,205 frames where tcpdump dropped 0.
    static let batchTimeout = Duration.milliseconds(50)

    /// ARP and ICMPv6 claim addresses; VRRP adverts and ICMP (clients' pings) are signs of life that bound a
    /// takeover's gap; tagged frames are kept for the core to unwrap; and frames from the followed addresses
    /// (`--ip`, `--net`, `--expect`) are their claims in a capture after the last announcement.
    private var liveFilter: String {
        var filter = "arp or icmp6 or icmp or ip proto 112 or vlan"
        let followed = (ips + nets + expectations.compactMap { Expectation($0).map { "\($0.ip)" } })
            .compactMap { IPRange($0) }
        if followed.contains(where: { $0.first != $0.last }) {
            filter += " or ip or ip6"
        } else {
            for range in followed { filter += " or src host \(range.first)" }
        }
        return filter
    }

    private func openInterface(_ name: String) throws(CaptureError) -> PacketSource {
        let source: PacketSource
        do {
            source = try capture.openInterface(name, baseFilter: liveFilter, batchTimeout: Self.batchTimeout)
        } catch {
            guard error.kind == .badFilter && capture.filter == nil else { throw error }
            source = try capture.openInterface(name, batchTimeout: Self.batchTimeout)
        }
        for warning in source.warnings { StandardStreams.error("garpwatch: \(PrintableText.escaped(warning))") }
        return source
    }

    /// `--services` and `--nodes`, read whole (bounded, see KubeInputs); an unreadable or malformed file stops
    /// the run before any capture.
    private func loadCluster() -> (services: [(ip: IPAddress, service: String)], nodeIPs: [IPAddress: String]) {
        var declared: [(ip: IPAddress, service: String)] = []
        var nodeIPs: [IPAddress: String] = [:]
        do {
            if let services {
                let inventory = try ServiceInventory.read(file: services)
                var seen = Set<IPAddress>()
                for service in inventory.services {
                    for ip in service.expectedIPs where seen.insert(ip).inserted {
                        declared.append((ip, service.qualifiedName))
                    }
                }
                if declared.isEmpty {
                    StandardStreams.error(
                        "garpwatch: --services \(PrintableText.escaped(services)): no LoadBalancer Service has an IP "
                            + "(\(inventory.services.count) LoadBalancer, \(inventory.ignoredServices) other Services)")
                }
            }
            if let nodes {
                for node in try NodeInventory.read(file: nodes).nodes {
                    for ip in node.internalIPs where nodeIPs[ip] == nil { nodeIPs[ip] = node.name }
                }
            }
        } catch {
            fail(PrintableText.escaped(error.description))
        }
        return (declared, nodeIPs)
    }

    private func loadNodeMap() throws -> NodeMap {
        guard let nodeMap else { return NodeMap() }
        let name = PrintableText.escaped(nodeMap)
        switch BoundedFile.read(nodeMap, limit: 16 << 20, requireRegular: false) {
        case .contents(let data):
            return try NodeMap(parsing: String(decoding: data, as: UTF8.self), source: nodeMap)
        case .missing: fail("cannot read node map \(name): no such file (check the path)")
        case .failure(let reason): fail("cannot read node map \(name): \(reason)")
        case .tooLarge: fail("node map \(name) is larger than 16 MiB; give a file of MAC NAME lines")
        case .interrupted: interruptedBeforeReading()
        }
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
    var renderer: Renderer
    let limit: Int
    let quiet: Bool
    var output = TextBuffer(capacity: Pipeline.flushThreshold + 4096)
    /// `--metrics-listen` / `--metrics-file`: sees every event, printed or not.
    var metrics: GarpMetrics?
    /// `--nodes`: InternalIP -> node name; a MAC announcing one is named after the node from then on.
    var nodeIPs: [IPAddress: String] = [:]
    /// `--probe`: the responders to our requests.
    var prober: Prober?
    /// Live capture: objects with no packet of their own carry the wall clock.
    var isLive = false
    /// With several `-i`: the interface whose frames are being read (events found on them carry it).
    var currentInterface: String?
    private var frames = 0
    private var latest = Timestamp(seconds: .min, nanoseconds: 0)
    /// Events after an unreported takeover, waiting for it (see `flushEvents`), with the interface they came from.
    private var held: [(event: Event, interface: String?)] = []
    /// `held` before this index is written already (compacted from time to time).
    private var heldStart = 0

    static let flushThreshold = 1 << 16

    init(analyzer: Analyzer, renderer: Renderer, limit: Int, quiet: Bool) {
        self.analyzer = analyzer
        self.renderer = renderer
        self.limit = limit
        self.quiet = quiet
    }

    var isFull: Bool { frames >= limit }

    /// The earliest frame time of the run (for the "state file newer than the capture" note).
    var firstFrame: Timestamp? { frames > 0 ? earliest : nil }

    /// The `time` of the binding, summary, probe and verdict objects: the last frame's, so a replayed capture
    /// prints the same; the wall clock when live or when no frame was read.
    var tableTime: Timestamp {
        if isLive || frames == 0 || prober != nil { return Pipeline.wallClock() }
        return latest
    }

    static func wallClock() -> Timestamp { WallClock.now() }
    private var earliest = Timestamp(seconds: .max, nanoseconds: 0)

    /// Times garpwatch can print and subtract: years 0001 to 9999. A forged capture's absurd timestamp is
    /// clamped into it, so no arithmetic on it can overflow.
    static let timeRange: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// One frame. `packet` is the caller's scratch value, decoded into for every frame: kept outside the
    /// pipeline, it is lent to the analyzer as it is (held here, it was copied, 489 bytes, for every frame).
    @inline(__always)
    mutating func handle(_ record: borrowing PacketRecord, decodingInto packet: inout Packet) -> IterationControl {
        handle(
            record.bytes, linkType: record.linkType, originalLength: record.originalLength, timestamp: record.timestamp,
            decodingInto: &packet)
    }

    @inline(__always)
    @discardableResult
    mutating func handle(
        _ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int, timestamp given: Timestamp,
        decodingInto packet: inout Packet
    ) -> IterationControl {
        var timestamp = given
        if !Self.timeRange.contains(timestamp.seconds) {
            timestamp.seconds = min(max(timestamp.seconds, Self.timeRange.lowerBound), Self.timeRange.upperBound)
        }
        if timestamp < earliest { earliest = timestamp }
        if timestamp > latest { latest = timestamp }
        // Plain ARP frames skip the general decode (the prober reads every frame as a Packet, so not with it).
        if prober != nil
            || !analyzer.processPlainARP(bytes, linkType: linkType, originalLength: originalLength, at: timestamp)
        {
            packet.decode(bytes, linkType: linkType, originalLength: originalLength)
            analyzer.process(lent: &packet, bytes: bytes, at: timestamp)
        }
        // A takeover leaving the pending state always comes with an event (takeover or split-brain), which
        // releases what `held` keeps.
        if !analyzer.events.isEmpty { flushEvents() }
        if prober != nil { prober?.observe(packet, at: timestamp) }
        frames += 1
        return frames >= limit ? .stop : .continue
    }

    mutating func advance(to time: Timestamp) {
        analyzer.advance(to: time)
        if !analyzer.events.isEmpty || heldStart < held.count { flushEvents() }
    }

    /// End of input: the last takeovers, the summary (marked `partial` when the input was not read to its
    /// end), and everything written out.
    mutating func finish(partial: String? = nil) {
        analyzer.finish()
        flushEvents(final: true)
        let time = tableTime
        if let prober { renderer.writeProbe(prober, time: Pipeline.wallClock(), to: &output) }
        renderer.writeSummary(analyzer, partial: partial, time: time, to: &output, flushingTo: 1)
        output.flush()
    }

    /// Events in time order (issue 15 item 6): a takeover is only known once its windows passed, seconds after
    /// its new owner's first frame, which is its time. Events later than an unreported takeover wait in `held`
    /// until it is reported (or the input ends), so its line is never printed after later events.
    private mutating func flushEvents(final: Bool = false) {
        metrics?.observe(analyzer.events)
        if !nodeIPs.isEmpty {
            for event in analyzer.events {
                if let name = nodeIPs[event.key.ip] { renderer.nodes.learn(event.mac, name: name) }
            }
        }
        if quiet {
            analyzer.events.removeAll(keepingCapacity: true)
            return
        }
        let floor = final ? nil : analyzer.unreportedTakeoverSince
        if heldStart == held.count && floor == nil && analyzer.events.count == 1, let event = analyzer.events.first {
            renderer.write(event, interface: currentInterface, to: &output)  // the usual case: one event, nothing waiting
        } else {
            // `held[heldStart...]` stays sorted by time (stable: events of one time keep the order they were made
            // in, a move before its takeover). Events mostly come in time order, so this is an append; only a
            // takeover, reported late, goes back to its place. Sorting the whole list on every event instead was
            // quadratic while takeovers overlap (measured: 2.1 s instead of 0.14 s CPU on the bench input).
            for event in analyzer.events {
                var position = held.count
                while position > heldStart && held[position - 1].event.time > event.time { position -= 1 }
                held.insert((event, currentInterface), at: position)
            }
            while heldStart < held.count, floor.map({ held[heldStart].event.time <= $0 }) ?? true {
                renderer.write(held[heldStart].event, interface: held[heldStart].interface, to: &output)
                heldStart += 1
            }
            if heldStart == held.count {
                held.removeAll(keepingCapacity: true)
                heldStart = 0
            } else if heldStart > 4096 && heldStart * 2 > held.count {
                held.removeFirst(heldStart)
                heldStart = 0
            }
        }
        analyzer.events.removeAll(keepingCapacity: true)
        if output.count >= Pipeline.flushThreshold { output.flush() }
    }
}

/// The metrics model and where it goes; refreshed from the pipeline about once a second live, and at the end.
struct MetricsOutput {
    let model: GarpMetrics
    let publisher: MetricsPublisher

    func publish(_ pipeline: Pipeline, sources: [PacketSource], force: Bool = false) {
        let failure = publisher.publish(force: force) {
            model.refresh(pipeline.analyzer, nodes: pipeline.renderer.nodes)
            model.setKernelDrops(sources.reduce(UInt64(0)) { $0 &+ ($1.statistics()?.droppedByKernel ?? 0) })
        }
        if let failure { StandardStreams.error("garpwatch: \(PrintableText.escaped(failure))") }
    }
}

/// `--probe`: the request frames for one interface, sent once a second.
struct ProbeSender {
    let frames: [[UInt8]]
    /// The interface's MAC, which the requests come from.
    let mac: MACAddress
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
        self.mac = mac
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
            pipeline.analyzer.countOwnProbeRequest()
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

/// The next frame of one file while several are merged: its bytes copied out of libpcap's buffer (which is
/// only lent for one callback), the buffer kept across frames.
struct MergeHead {
    var bytes: [UInt8] = []
    var timestamp = Timestamp.zero
    var originalLength = 0
    var linkType = LinkType.ethernet

    mutating func load(_ record: borrowing PacketRecord) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: record.bytes)
        timestamp = record.timestamp
        originalLength = record.originalLength
        linkType = record.linkType
    }
}
