import MetricsSink
import PacketCore
import Prometheus

/// bgpdecode's sessions as the Prometheus metrics of deploy/METRICS.md (`--metrics-listen`, `--metrics-file`).
/// One set of series per session direction (`speaker` sent the UPDATEs to `peer`), for at most
/// `maximumSessions` of them: a capture of a node has a handful, the listener its configured peers; sessions
/// beyond the bound are counted, not labelled. Expected prefixes (`--expect-prefix`, `--expect-file`) get a
/// gauge per session.
///
/// `refresh` runs on the thread that owns the analyzer (about once a second live, and at the end); the HTTP
/// thread only reads the registry.
public final class BGPMetrics {
    public let registry: PrometheusCollectorRegistry
    public let node: String
    public static let maximumSessions = 256
    private let expectations: [BGPExpectation]

    private final class Series {
        let labels: [(String, String)]
        let up: Gauge
        var updates: CounterFromTotal
        var announcements: CounterFromTotal
        var withdrawals: CounterFromTotal
        var ends: CounterFromTotal
        var routes: [BGPAddressFamily: Gauge] = [:]
        var expected: [Gauge] = []

        init(_ key: BGPSessionKey, node: String, registry: PrometheusCollectorRegistry, expectations: [BGPExpectation]) {
            labels = [("node", node), ("speaker", "\(key.speaker)"), ("peer", "\(key.peer)")]
            up = registry.gauge(BGPMetrics.sessionUp, labels)
            updates = CounterFromTotal(registry.counter(BGPMetrics.updatesTotal, labels))
            announcements = CounterFromTotal(registry.counter(BGPMetrics.announcementsTotal, labels))
            withdrawals = CounterFromTotal(registry.counter(BGPMetrics.withdrawalsTotal, labels))
            ends = CounterFromTotal(registry.counter(BGPMetrics.sessionEndsTotal, labels))
            // Unicast from the start (0 until routes come), so a session's series never appear late.
            for family in [BGPAddressFamily.ipv4Unicast, .ipv6Unicast] {
                routes[family] = registry.gauge(BGPMetrics.routes, labels + [("family", BGPMetrics.familyLabel(family))])
            }
            expected = expectations.map { expectation in
                registry.gauge(BGPMetrics.expectedAnnounced, labels + [
                    ("prefix", "\(expectation.prefix)"), ("family", expectation.prefix.isIPv6 ? "ipv6" : "ipv4"),
                ])
            }
        }
    }

    private var series: [BGPSessionKey: Series] = [:]
    private let untracked: Gauge
    private var dropped: CounterFromTotal

    public init(node: String, expectations: [BGPExpectation],
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.node = node
        self.expectations = expectations
        untracked = registry.gauge(Self.untrackedSessions, [("node", node)])
        dropped = CounterFromTotal(registry.counter(MetricName.captureDroppedPackets, [("node", node)]))
        registry.gauge(MetricName.expectationsLoaded, [("node", node)]).set(to: Double(expectations.count))
    }

    /// Read every session of `analyzer` into the metrics.
    public func refresh(_ analyzer: BGPAnalyzer) {
        var beyond = 0
        for session in analyzer.sortedSessions {
            guard let entry = series[session.key] ?? makeSeries(session.key) else {
                beyond += 1
                continue
            }
            entry.up.set(to: session.isUp ? 1 : 0)
            entry.updates.update(total: Int64(session.updates))
            entry.announcements.update(total: Int64(session.announcements))
            entry.withdrawals.update(total: Int64(session.withdrawals))
            entry.ends.update(total: Int64(session.earlierSessions + (session.isUp ? 0 : 1)))
            let table = session.routes
            for (family, count) in table.familyCounts {
                let gauge = entry.routes[family] ?? {
                    let made = registry.gauge(Self.routes, entry.labels + [("family", Self.familyLabel(family))])
                    entry.routes[family] = made
                    return made
                }()
                gauge.set(to: Double(count))
            }
            for family in entry.routes.keys where !table.familyCounts.contains(where: { $0.family == family }) {
                entry.routes[family]?.set(to: 0)
            }
            guard !expectations.isEmpty else { continue }
            // Path id 0 first (no ADD-PATH: MetalLB, most speakers); an expectation not found that way is
            // looked for under every path id, one pass over the table for all of them.
            var held = [Bool](repeating: false, count: expectations.count)
            var unresolved: [BGPPrefix: [Int]] = [:]
            for (index, expectation) in expectations.enumerated() {
                let family: BGPAddressFamily = expectation.prefix.isIPv6 ? .ipv6Unicast : .ipv4Unicast
                if let route = table[BGPRouteKey(family: family, prefix: expectation.prefix)], !route.stale {
                    held[index] = true
                } else {
                    unresolved[expectation.prefix, default: []].append(index)
                }
            }
            if !unresolved.isEmpty {
                for (key, route) in table where !route.stale {
                    guard let indices = unresolved[key.prefix] else { continue }
                    for index in indices { held[index] = true }
                }
            }
            for (index, isHeld) in held.enumerated() { entry.expected[index].set(to: isHeld ? 1 : 0) }
        }
        untracked.set(to: Double(beyond))
    }

    /// The kernel's drop count on the live interface (a running total).
    public func setKernelDrops(_ total: UInt64) { dropped.update(total: Int64(clamping: total)) }

    private func makeSeries(_ key: BGPSessionKey) -> Series? {
        guard series.count < Self.maximumSessions else { return nil }
        let made = Series(key, node: node, registry: registry, expectations: expectations)
        series[key] = made
        return made
    }

    /// `ipv4`, `ipv6` for unicast (what the alert rules and dashboards expect), else `afi/safi` text
    /// (`ipv4-vpn`...): a fixed, small set either way.
    static func familyLabel(_ family: BGPAddressFamily) -> String {
        if family == .ipv4Unicast { return "ipv4" }
        if family == .ipv6Unicast { return "ipv6" }
        return String(family.description.map { $0 == " " ? "-" : $0 })
    }

    // MARK: Names (deploy/METRICS.md)

    static func name(_ metric: String, _ help: String) -> MetricName { MetricName("vipscope_bgp_" + metric, help: help) }

    static let sessionUp = name("session_up",
        "1 while the session from speaker to peer is up (no NOTIFICATION, FIN or RST since its OPEN or first message).")
    static let routes = name("routes", "Routes speaker announces to peer now, per address family.")
    static let updatesTotal = name("updates_total", "UPDATE messages from speaker to peer.")
    static let announcementsTotal = name("announcements_total", "Routes announced (NLRI) from speaker to peer.")
    static let withdrawalsTotal = name("withdrawals_total", "Routes withdrawn from speaker to peer.")
    static let sessionEndsTotal = name("session_ends_total", "Sessions from speaker to peer that ended.")
    static let expectedAnnounced = name("expected_prefix_announced",
        "1 while speaker's table towards peer holds the expected prefix (a fresh route, not a stale one).")
    static let untrackedSessions = name("untracked_sessions",
        "Sessions beyond the 256 with series of their own: counted here, not labelled.")
}
