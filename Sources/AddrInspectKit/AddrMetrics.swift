import MetricsSink
import Netlink
import PacketCore
import Prometheus

/// `addrinspect watch`'s model as the Prometheus metrics of deploy/METRICS.md (`--metrics-listen`,
/// `--metrics-file`): whether each expected IP (`--ip`, `--services`) is an address of this node, and the
/// changes and kernel overflows the watch saw. Series for the expected IPs only.
public final class AddrMetrics {
    public let registry: PrometheusCollectorRegistry
    public let node: String

    public typealias Expected = ExpectedAddress

    private var local: [IPAddress: Gauge] = [:]
    private var changes: [String: Counter] = [:]
    private let overflows: Counter

    public init(node: String, expected: [Expected], registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.node = node
        for entry in expected where local[entry.ip] == nil {
            local[entry.ip] = registry.gauge(Self.ipLocal, [("node", node), ("ip", "\(entry.ip)"), ("service", entry.service),
                ("family", MetricLabels.family(of: entry.ip))])
        }
        for kind in ObjectKind.allCases {
            for action in [Change.Action.added, .removed, .changed] {
                changes["\(kind.rawValue) \(action.rawValue)"] = registry.counter(Self.changesTotal,
                    [("node", node), ("kind", kind.rawValue), ("action", action.rawValue)])
            }
        }
        overflows = registry.counter(Self.overflowsTotal, [("node", node)])
        registry.gauge(MetricName.expectationsLoaded, [("node", node)]).set(to: Double(local.count))
    }

    /// One event of the watch.
    public func observe(_ event: AddrInspectEvent) {
        switch event {
        case .change(let change):
            let kind = (change.new ?? change.old)?.kind.rawValue ?? "?"
            changes["\(kind) \(change.action.rawValue)"]?.increment()
        case .overflow:
            overflows.increment()
        default:
            break
        }
    }

    /// Whether each expected IP is local now, from the monitor's state (after the initial read and each batch).
    public func refresh(_ state: ChangeTracker) {
        guard !local.isEmpty else { return }
        let addresses = Set(state.addresses.values.map(\.local))
        for (ip, gauge) in local { gauge.set(to: addresses.contains(ip) ? 1 : 0) }
    }

    static let ipLocal = MetricName("vipscope_addr_ip_local",
        help: "1 when ip is an address of this node (any interface: kube-ipvs0 with IPVS, a VIP on eth0).")
    static let changesTotal = MetricName("vipscope_addr_changes_total",
        help: "Changes addrinspect watch saw, by kind (addr, link, neigh, route) and action.")
    static let overflowsTotal = MetricName("vipscope_addr_overflows_total",
        help: "Times the kernel dropped notifications (ENOBUFS) and the state was read again.")
}
