import MetricsSink
import PacketCore
import Prometheus

/// garpwatch's model as the Prometheus metrics of deploy/METRICS.md (`--metrics-listen`, `--metrics-file`).
/// Series exist only for the expected addresses (`--expect`, a single `--ip`, `--services`), so their number
/// is bounded by what the cluster declares, never by traffic; other addresses announced inside the followed
/// ranges are counted, not labelled.
///
/// Used from the capture thread: `observe` takes the events as they leave the analyzer, `refresh` reads the
/// bindings of the expected addresses (about once a second live, and at the end). The registry is what the
/// HTTP thread reads; it takes its own locks.
public final class GarpMetrics {
    public let registry: PrometheusCollectorRegistry
    public let node: String
    public typealias Expected = ExpectedAddress

    public static let gapBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30]

    private final class Series {
        let labels: [(String, String)]
        let owners: Gauge
        let splitBrain: Gauge
        let lastSeen: Gauge
        let lastGap: Gauge
        let gap: ValueHistogram
        var announcements: CounterFromTotal
        var changes: CounterFromTotal
        var conflicts: CounterFromTotal
        let unmeasuredGaps: Counter
        var ownerInfo: (owner: String, gauge: Gauge)?
        /// The binding keys (VLAN paths) this address was seen on.
        var keys: Set<BindingKey>

        init(_ expected: Expected, node: String, registry: PrometheusCollectorRegistry) {
            labels = [("node", node), ("ip", "\(expected.ip)"), ("service", expected.service),
                ("family", MetricLabels.family(of: expected.ip))]
            owners = registry.gauge(GarpMetrics.owners, labels)
            splitBrain = registry.gauge(GarpMetrics.splitBrain, labels)
            lastSeen = registry.gauge(GarpMetrics.lastSeen, labels)
            lastGap = registry.gauge(GarpMetrics.lastGap, labels)
            gap = registry.histogram(GarpMetrics.gap, labels, buckets: GarpMetrics.gapBuckets)
            announcements = CounterFromTotal(registry.counter(GarpMetrics.announcements, labels))
            changes = CounterFromTotal(registry.counter(GarpMetrics.changes, labels))
            conflicts = CounterFromTotal(registry.counter(GarpMetrics.conflictsTotal, labels))
            unmeasuredGaps = registry.counter(GarpMetrics.unmeasured, labels)
            keys = [BindingKey(ip: expected.ip)]
        }
    }

    private var series: [IPAddress: Series] = [:]
    private let scope: [IPRange]
    private let unexpectedV4: Counter
    private let unexpectedV6: Counter
    private var frames: CounterFromTotal
    private var untracked: CounterFromTotal
    private var undecodable: CounterFromTotal
    private var dropped: CounterFromTotal

    /// `scope`: the followed ranges (`--net`, `--ip A-B`, MetalLB pools), inside which an address nobody
    /// declared is counted as unexpected.
    public init(node: String, expected: [Expected], scope: [IPRange],
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.node = node
        self.scope = scope
        let nodeLabel = [("node", node)]
        for entry in expected where series[entry.ip] == nil {
            series[entry.ip] = Series(entry, node: node, registry: registry)
        }
        unexpectedV4 = registry.counter(Self.unexpected, nodeLabel + [("family", "ipv4")])
        unexpectedV6 = registry.counter(Self.unexpected, nodeLabel + [("family", "ipv6")])
        frames = CounterFromTotal(registry.counter(Self.framesTotal, nodeLabel))
        untracked = CounterFromTotal(registry.counter(Self.untrackedTotal, nodeLabel))
        undecodable = CounterFromTotal(registry.counter(Self.undecodableTotal, nodeLabel))
        dropped = CounterFromTotal(registry.counter(MetricName.captureDroppedPackets, nodeLabel))
        registry.gauge(MetricName.expectationsLoaded, nodeLabel).set(to: Double(series.count))
    }

    /// The expected addresses, as labelled.
    public var expectedAddresses: [IPAddress] { series.keys.sorted() }

    /// Events as they leave the analyzer (before any is printed or dropped by --summary-only).
    public func observe(_ events: [Event]) {
        for event in events {
            guard let entry = series[event.key.ip] else {
                if event.kind == .newStation, scope.contains(where: { $0.contains(event.key.ip) }) {
                    if case .v6 = event.key.ip { unexpectedV6.increment() } else { unexpectedV4.increment() }
                }
                continue
            }
            entry.keys.insert(event.key)
            if event.kind == .takeover, let takeover = event.takeover {
                // Only a gap both of whose ends this run saw, in order, is a measured outage; the others are
                // counted as unmeasured, never put in the histogram as a number they are not.
                if takeover.gapKind == .outage {
                    let seconds = Double(takeover.gapNanoseconds) / 1e9
                    entry.gap.record(seconds)
                    entry.lastGap.set(to: seconds)
                } else {
                    entry.unmeasuredGaps.increment()
                }
            }
        }
    }

    /// Read the expected addresses' bindings (and the frame counters) into the metrics.
    public func refresh(_ analyzer: Analyzer, nodes: NodeMap) {
        frames.update(total: Int64(analyzer.counters.frames))
        untracked.update(total: Int64(analyzer.counters.refusedNewAddresses))
        undecodable.update(total: Int64(analyzer.counters.truncated + analyzer.counters.malformed))
        for (_, entry) in series {
            var inConflict = Set<MACAddress>()
            var frameTotal = 0
            var takeovers = 0
            var conflicts = 0
            var newest: Binding?
            for key in entry.keys {
                guard let binding = analyzer.binding(for: key) else { continue }
                frameTotal += binding.frames
                takeovers += binding.takeovers
                conflicts += binding.conflicts
                if let conflict = binding.conflict { inConflict.formUnion(conflict.macs) }
                if newest.map({ binding.lastSeen > $0.lastSeen }) ?? true { newest = binding }
            }
            entry.announcements.update(total: Int64(frameTotal))
            entry.changes.update(total: Int64(takeovers))
            entry.conflicts.update(total: Int64(conflicts))
            // The analyzer's judgment, not a count of recent senders: after a clean takeover the old MAC is no
            // owner (a count over a window would read every failover as two owners), and during a split-brain
            // its MACs count until evidence ends it (a who-has only one answered), not only until they fall
            // quiet: a quiet owner may still hold the address.
            entry.owners.set(to: Double(inConflict.count > 1 ? inConflict.count : newest == nil ? 0 : 1))
            entry.splitBrain.set(to: inConflict.isEmpty ? 0 : 1)
            guard let newest else { continue }
            entry.lastSeen.set(to: Double(newest.lastSeen.seconds) + Double(newest.lastSeen.nanoseconds) / 1e9)
            let owner = nodes.name(of: newest.owner) ?? "\(newest.owner)"
            if entry.ownerInfo?.owner != owner {
                if let old = entry.ownerInfo { registry.unregisterGauge(old.gauge) }
                let gauge = registry.gauge(Self.ownerInfo, entry.labels + [("owner", owner)])
                gauge.set(to: 1)
                entry.ownerInfo = (owner, gauge)
            }
        }
    }

    /// The kernel's drop count over every live interface (a running total).
    public func setKernelDrops(_ total: UInt64) { dropped.update(total: Int64(clamping: total)) }

    // MARK: Names (deploy/METRICS.md)

    static func name(_ metric: String, _ help: String) -> MetricName { MetricName("vipscope_garp_" + metric, help: help) }

    static let owners = name("owners",
        "MACs that own ip now: those of a split-brain in progress (2 or more), else 1 once a MAC claimed it, 0 before.")
    static let splitBrain = name("split_brain",
        "1 while garpwatch sees two or more MACs claiming ip (ended only by evidence: a who-has one MAC answered).")
    static let ownerInfo = name("owner_info", "1 for the current owner of ip (the node name, else its MAC).")
    static let lastSeen = name("last_seen_timestamp_seconds", "Unix time of the last announcement of ip.")
    static let announcements = name("announcements_total", "Frames that claimed ip (ARP, NDP, VRRP adverts).")
    static let changes = name("ownership_changes_total", "Clean takeovers of ip by another MAC (failovers).")
    static let conflictsTotal = name("conflicts_total", "Split-brain episodes of ip.")
    static let gap = name("failover_gap_seconds",
        "Silence from the old owner's last sign of life to the new owner's first frame, per measured failover.")
    static let lastGap = name("last_failover_gap_seconds", "The gap of the latest measured failover of ip.")
    static let unmeasured = name("failover_gap_unmeasured_total",
        "Failovers whose gap could not be measured (old owner seen by an earlier run, frames out of order).")
    static let unexpected = MetricName("vipscope_unexpected_addresses_total",
        help: "Addresses inside the followed ranges first announced during this run that no Service or --expect declares.")
    static let framesTotal = name("frames_total", "Frames garpwatch read.")
    static let untrackedTotal = name("untracked_frames_total",
        "Frames about new addresses refused because --max-bindings addresses were tracked already.")
    static let undecodableTotal = name("undecodable_frames_total", "Truncated or malformed frames.")
}
