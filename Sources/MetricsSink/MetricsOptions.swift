import ArgumentParser
import EventLoop
import Prometheus

/// `--metrics-listen` and `--metrics-file`, the same on every tool that has them.
public struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Serve Prometheus metrics at http://ADDR:PORT/metrics (and /healthz) while running live; ':PORT' for every "
            + "address (deploy/METRICS.md).", valueName: "addr:port"))
    public var listen: String?

    @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
        "Write the metrics to FILE (replaced whole, node_exporter's textfile format) every second while live "
            + "and at the end.", valueName: "file"))
    public var file: String?

    public init() {}

    /// Whether any metrics output was asked for.
    public var isRequested: Bool { listen != nil || file != nil }

    public var listenAddress: MetricsListenAddress? { listen.flatMap(MetricsListenAddress.init) }

    public func validate() throws {
        if let listen, MetricsListenAddress(listen) == nil {
            throw ValidationError(
                "--metrics-listen '\(listen)' must be ADDR:PORT, [IPv6]:PORT or :PORT with a port from 1 to 65535 "
                    + "(e.g. 127.0.0.1:9781, :9781); names are not resolved.")
        }
        if let file, file.isEmpty { throw ValidationError("--metrics-file must not be empty.") }
    }
}

/// Where the metrics go: the HTTP responder and/or the file, refreshed by the tool's loop at most once per
/// `interval`.
public final class MetricsPublisher {
    public let registry: PrometheusCollectorRegistry
    public let server: MetricsServer?
    public let file: String?
    private var lastWrite: Int64 = .min
    public static let interval: Int64 = 1_000_000_000

    /// Binds the listening socket now, so a port in use fails before any capture starts.
    public init(_ options: MetricsOptions, registry: PrometheusCollectorRegistry,
                health: @escaping @Sendable () -> String? = { nil }) throws(MetricsServerError) {
        self.registry = registry
        file = options.file
        if let address = options.listenAddress {
            server = try MetricsServer(listen: address, exposition: { registry.exposition() }, health: health)
        } else {
            server = nil
        }
    }

    public func start() { server?.start() }

    /// Whether a refresh is due (one `interval` after the last).
    public var isDue: Bool { lastWrite == .min || MonotonicClock.now() - lastWrite >= Self.interval }

    private var reportedFailure = false

    /// When a refresh is due (or `force`): `refresh` (the tool moves its model into the registry), then the file
    /// is written. Returns why the file could not be written, the first time only (the caller says it once).
    public func publish(force: Bool = false, refresh: () -> Void) -> String? {
        guard force || isDue else { return nil }
        refresh()
        lastWrite = MonotonicClock.now()
        guard let file, let failure = MetricsFile.write(registry.exposition(), to: file), !reportedFailure else {
            return nil
        }
        reportedFailure = true
        return "--metrics-file: \(failure)"
    }
}
