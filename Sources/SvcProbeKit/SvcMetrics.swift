import MetricsSink
import PacketCore
import Prometheus

/// svcprobe's results as the Prometheus metrics of deploy/METRICS.md (`--metrics-listen` with `--watch`,
/// `--metrics-file`). One set of series per target given on the command line (so bounded by it); the
/// server's version is the one label the wire gives, one series per target at a time.
public final class SvcMetrics {
    public let registry: PrometheusCollectorRegistry
    public let node: String
    public static let durationBuckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

    private final class Series {
        let labels: [(String, String)]
        let up: Gauge
        let duration: ValueHistogram
        var probes: [ProbeOutcome: Counter] = [:]
        var server: (version: String, gauge: Gauge)?

        init(_ target: ProbeTarget, service: String, node: String, registry: PrometheusCollectorRegistry) {
            let family = IPAddress(target.host).map(MetricLabels.family(of:)) ?? "name"
            labels = [("node", node), ("ip", target.host), ("service", service), ("port", "\(target.port)"),
                ("family", family)]
            up = registry.gauge(SvcMetrics.up, labels)
            duration = registry.histogram(SvcMetrics.duration, labels, buckets: SvcMetrics.durationBuckets)
            // Every outcome from the start, at 0: a rate() over a counter that appears late misses its first probe.
            for outcome in ProbeOutcome.allCases {
                probes[outcome] = registry.counter(SvcMetrics.probesTotal, labels + [("result", outcome.rawValue)])
            }
        }
    }

    private var series: [ProbeTarget: Series] = [:]

    /// `services`: the Service (`namespace/name`) of targets that came from `--services`.
    public init(node: String, targets: [ProbeTarget], services: [ProbeTarget: String] = [:],
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.node = node
        for target in targets where series[target] == nil {
            series[target] = Series(target, service: services[target] ?? "", node: node, registry: registry)
        }
        registry.gauge(MetricName.expectationsLoaded, [("node", node)]).set(to: Double(series.count))
    }

    /// One probe's result (on time or late).
    public func observe(_ result: ProbeResult) {
        guard let entry = series[result.target] else { return }
        entry.up.set(to: result.outcome.isUp ? 1 : 0)
        entry.probes[result.outcome]?.increment()
        if let nanoseconds = result.timings.greeting ?? result.timings.connect {
            entry.duration.record(Double(nanoseconds) / 1e9)
        }
        if let version = result.greeting?.version, entry.server?.version != version {
            if let old = entry.server { registry.unregisterGauge(old.gauge) }
            let gauge = registry.gauge(Self.serverInfo, entry.labels + [("version", version)])
            gauge.set(to: 1)
            entry.server = (version, gauge)
        }
    }

    // MARK: Names (deploy/METRICS.md)

    static let up = MetricName("vipscope_svc_up",
        help: "1 when the last probe of ip:port connected and the server spoke (a MySQL greeting or a banner).")
    static let probesTotal = MetricName("vipscope_svc_probes_total", help: "Probes of ip:port by how they ended.")
    static let duration = MetricName("vipscope_svc_probe_duration_seconds",
        help: "Time to the whole greeting (or to the TCP handshake when none came), of probes that connected.")
    static let serverInfo = MetricName("vipscope_svc_server_info",
        help: "1 for the version the server's last greeting gave.")
}
