import Glibc
import PacketCore
import Prometheus

/// The label conventions of deploy/METRICS.md: every value comes from declared state (an expected IP, its
/// Service, the node) or a small fixed set, never from traffic alone.
public enum MetricLabels {
    /// `ipv4` or `ipv6`.
    public static func family(of address: IPAddress) -> String {
        if case .v6 = address { return "ipv6" }
        return "ipv4"
    }
}

/// A Prometheus counter fed from a running total the model keeps (frames of a binding, takeovers): it only
/// ever moves up, by the difference, so a total that restarts lower (a binding evicted and seen again) never
/// makes the counter go back.
public struct CounterFromTotal {
    public let counter: Counter
    private var last: Int64 = 0

    public init(_ counter: Counter) { self.counter = counter }

    public mutating func update(total: Int64) {
        if total > last { counter.increment(by: total - last) }
        last = total
    }
}

extension PrometheusCollectorRegistry {
    /// The exposition as bytes, for `/metrics` and `--metrics-file`.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 << 10)
        emit(into: &buffer)
        return buffer
    }
}

/// `--metrics-file PATH`: the exposition written whole into PATH (a temporary file renamed over it), the
/// format node_exporter's textfile collector reads (`*.prom` in its --collector.textfile.directory).
public enum MetricsFile {
    public static func write(_ bytes: [UInt8], to path: String) -> String? {
        let temporary = path + ".tmp.\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return "cannot write \(temporary): \(String(cString: strerror(errno)))" }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                return "cannot write \(temporary): \(reason)"
            }
            written += count
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return "cannot rename \(temporary) to \(path): \(reason)"
        }
        return nil
    }
}

/// A metric's full name and its HELP text, declared once per metric (the registry refuses a second, different
/// help text for a name).
public struct MetricName: Sendable, Hashable {
    public let name: String
    public let help: String

    public init(_ name: String, help: String) {
        self.name = name
        self.help = help
    }

    var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
}

/// An address the cluster (or the command line) declares, and the Service it belongs to ("" when given by hand):
/// the series the tools create for it.
public struct ExpectedAddress: Sendable, Hashable {
    public var ip: IPAddress
    public var service: String
    public init(ip: IPAddress, service: String) {
        self.ip = ip
        self.service = service
    }
}

extension MetricName {
    /// Every tool's count of what it was told to expect.
    public static let expectationsLoaded = MetricName("vipscope_expectations_loaded",
        help: "Expectations loaded: expected IPs or prefixes (0: none given, or the inputs are empty).")
    /// garpwatch's and bgpdecode's live capture.
    public static let captureDroppedPackets = MetricName("vipscope_capture_dropped_packets_total",
        help: "Packets the kernel dropped before libpcap read them.")
}

extension PrometheusCollectorRegistry {
    public func gauge(_ metric: MetricName, _ labels: [(String, String)]) -> Gauge {
        makeGauge(descriptor: metric.descriptor, labels: labels)
    }

    public func counter(_ metric: MetricName, _ labels: [(String, String)]) -> Counter {
        makeCounter(descriptor: metric.descriptor, labels: labels)
    }

    public func histogram(_ metric: MetricName, _ labels: [(String, String)], buckets: [Double]) -> ValueHistogram {
        makeValueHistogram(descriptor: metric.descriptor, labels: labels, buckets: buckets)
    }
}
