import ArgumentParser
import BGPDecodeKit
import Capture
import MetricsSink
import PacketCore
import ToolSupport

/// `--metrics-listen` / `--metrics-file` for both modes: the model, where it goes, and the cadence (about once a
/// second from the capture or listener loop, and once at the end).
final class BGPMetricsOutput {
    let model: BGPMetrics
    let publisher: MetricsPublisher

    /// nil when no metrics were asked for; an unusable --metrics-listen ends the run (exit 1) before any input.
    static func make(_ report: ReportOptions, expectations: [BGPExpectation]) -> BGPMetricsOutput? {
        guard report.metrics.isRequested else { return nil }
        let model = BGPMetrics(node: report.node.resolved, expectations: expectations)
        do {
            return BGPMetricsOutput(model: model, publisher: try MetricsPublisher(report.metrics, registry: model.registry))
        } catch {
            StandardStreams.error("bgpdecode: \(error.message)")
            BGPDecode.exit(withError: ExitCode(ExitStatus.failure))
        }
    }

    private init(model: BGPMetrics, publisher: MetricsPublisher) {
        self.model = model
        self.publisher = publisher
    }

    func start() { publisher.start() }

    func publish(_ analyzer: BGPAnalyzer, source: PacketSource? = nil, force: Bool = false) {
        let failure = publisher.publish(force: force) {
            model.refresh(analyzer)
            if let drops = source?.statistics()?.droppedByKernel { model.setKernelDrops(drops) }
        }
        if let failure { StandardStreams.error("bgpdecode: \(PrintableText.escaped(failure))") }
    }
}
