import Capture
import EventLoop
import Glibc
import PacketCore
import ToolSupport

/// What svcprobe reports, one case per kind of line. The prober, the watch session and the capture scanner (the
/// model) emit these; a `ProbeSink` renders them. A new output field goes in `ProbeRendering` (both sinks take it
/// from there); a new format is a new `ProbeSink`.
public enum ProbeEvent {
    /// A one-shot probe's on-time result.
    case probe(ProbeResult)
    /// A probe that lingered for a late greeting, when it ends.
    case late(ProbeResult)
    /// `--watch`: a target changed state; `elapsed` is monotonic ns since the watch began.
    case watchChange(WatchTimeline.Event, ProbeResult, elapsed: Int64)
    /// `--watch`: a lingering probe ended.
    case watchLate(ProbeResult, elapsed: Int64)
    /// `--watch`: one target's summary at the end, with the status the run ends with.
    case watchSummary(WatchTimeline.Summary, exitStatus: Int32)
    /// `-r`: a handshake found in a capture.
    case finding(CaptureFinding)
    /// `-r`: one file's summary, with the status the run ends with.
    case captureSummary(CaptureScanSummary, exitStatus: Int32)
}

/// Renders events into text. A sink sees only the event and the wall-clock time it is printed at.
public protocol ProbeSink {
    /// The line output begins with, if any (JSON Lines: the `start` object).
    func start(time: Timestamp) -> String?
    /// The text for `event` (one line, or several for `--verbose`), without the final newline.
    func text(_ event: ProbeEvent, time: Timestamp) -> String
}

/// Human text, one line per event (`--verbose` adds the result's details).
public struct ProbeTextSink: ProbeSink {
    public let verbose: Bool

    public init(verbose: Bool) { self.verbose = verbose }

    public func start(time: Timestamp) -> String? { nil }

    public func text(_ event: ProbeEvent, time: Timestamp) -> String {
        switch event {
        case .probe(let result), .late(let result):
            var text = (event.isLate ? "late " : "") + ProbeRendering.text(result)
            if verbose { for line in ProbeRendering.details(result) { text += "\n" + line } }
            return text
        case .watchChange(let change, let result, let elapsed):
            return "\(time.iso8601) +\(Self.seconds(elapsed)) " + ProbeRendering.text(change, result: result)
        case .watchLate(let result, let elapsed):
            return "\(time.iso8601) +\(Self.seconds(elapsed)) late " + ProbeRendering.text(result)
        case .watchSummary(let summary, _):
            return ProbeRendering.text(summary)
        case .finding(let finding):
            return ProbeRendering.text(finding)
        case .captureSummary(let summary, _):
            return ProbeRendering.text(summary)
        }
    }

    static func seconds(_ nanoseconds: Int64) -> String { Formatting.fixed(Double(nanoseconds) / 1e9, decimals: 3) + "s" }
}

/// JSON Lines (docs/json.md): a `start` object, then one object per event after the common keys.
public struct ProbeJSONSink: ProbeSink {
    public let envelope: JSONEnvelope

    public init(envelope: JSONEnvelope) { self.envelope = envelope }

    public func start(time: Timestamp) -> String? { envelope.start(tool: "svcprobe", time: time).text }

    public func text(_ event: ProbeEvent, time: Timestamp) -> String {
        switch event {
        case .probe(let result):
            return ProbeRendering.json(result, envelope: envelope, time: time).text
        case .late(let result):
            return ProbeRendering.json(result, event: "late", envelope: envelope, time: time).text
        case .watchChange(let change, let result, let elapsed):
            var line = ProbeRendering.json(result, event: change.change.rawValue, envelope: envelope, time: time)
            line.add("elapsed_s", Double(elapsed) / 1e9)
            line.add("state", change.state)
            if change.change == .up { line.add("outage_ms", change.duration.map { Double($0) / 1e6 }) }
            if change.change == .down { line.add("up_for_ms", change.duration.map { Double($0) / 1e6 }) }
            line.add("failed_probes", change.failedProbes)
            line.add("reason", change.reason)
            return line.text
        case .watchLate(let result, let elapsed):
            var line = ProbeRendering.json(result, event: "late", envelope: envelope, time: time)
            line.add("elapsed_s", Double(elapsed) / 1e9)
            return line.text
        case .watchSummary(let summary, let status):
            return ProbeRendering.json(summary, exitStatus: status, envelope: envelope, time: time).text
        case .finding(let finding):
            return ProbeRendering.json(finding, envelope: envelope).text
        case .captureSummary(let summary, let status):
            return ProbeRendering.json(summary, exitStatus: status, envelope: envelope, now: time).text
        }
    }
}

extension ProbeEvent {
    var isLate: Bool { if case .late = self { true } else { false } }
}

/// Where events go: the sink's text, one line each, written at once (a live probe's line must show when it
/// happens) through ToolSupport's ByteWriter.
public final class ProbeOutput {
    public let sink: any ProbeSink
    private var writer = ByteWriter()

    public init(sink: any ProbeSink) { self.sink = sink }

    public func start() {
        if let line = sink.start(time: WallClock.now()) { write(line) }
    }

    public func emit(_ event: ProbeEvent) { write(sink.text(event, time: WallClock.now())) }

    private func write(_ text: String) {
        writer.line(text)
        writer.flush()
    }
}

/// What a run of svcprobe checks, from its command line.
public struct ProbeExpectations {
    public var expectUp = false
    public var expectVersion: Regex<AnyRegexOutput>?
    public var expectTLS = false

    public init(expectUp: Bool, expectVersion: Regex<AnyRegexOutput>?, expectTLS: Bool) {
        self.expectUp = expectUp
        self.expectVersion = expectVersion
        self.expectTLS = expectTLS
    }

    var any: Bool { expectUp || expectVersion != nil || expectTLS }
}

/// svcprobe's three pipelines: probes once, `--watch`, and `-r` captures. Each returns the exit status.
public enum ProbePipeline {
    /// On-time results print in argument order as soon as the last is in; a probe that lingers for a late greeting
    /// adds a `late` line when it ends (the exit status is the on-time verdict's).
    /// `observe` sees every result, on time or late (the metrics).
    public static func probeOnce(
        _ targets: [ProbeTarget], options: ProbeOptions, expect: ProbeExpectations, output: ProbeOutput,
        observe: @escaping (ProbeResult) -> Void = { _ in }
    ) -> Int32 {
        let prober = Prober(options: options)
        let sink = output
        let results = prober.run(
            targets,
            onAllResults: { results in
                for result in results {
                    observe(result)
                    sink.emit(.probe(result))
                }
            },
            onLate: { result in
                observe(result)
                sink.emit(.late(result))
            })
        return ProbeVerdict.status(
            results, expectUp: expect.expectUp, expectVersion: expect.expectVersion, expectTLS: expect.expectTLS,
            verifyTLS: options.tls.verify)
    }

    /// Probe every `interval` until `shouldStop` or `duration` (ns), printing state changes; then let probes in
    /// flight finish politely and print one summary per target.
    public static func watch(
        _ targets: [ProbeTarget], options: ProbeOptions, expect: ProbeExpectations, intervalNanoseconds: Int64,
        durationNanoseconds: Int64?, shouldStop: () -> Bool, output: ProbeOutput,
        observe: @escaping (ProbeResult) -> Void = { _ in }
    ) -> Int32 {
        let session = WatchSession(targets: targets, options: options, intervalNanoseconds: intervalNanoseconds)
        let start = session.startedAt
        let end = durationNanoseconds.map { start.addingReportingOverflow($0).overflow ? Int64.max : start + $0 }
        var mismatch = false
        var tlsProblem: Int32?
        session.onResult = { result in
            observe(result)
            if let expression = expect.expectVersion, let version = result.greeting?.version,
                (try? expression.firstMatch(in: version)) == nil
            {
                mismatch = true
            }
            if let code = ProbeVerdict.tlsStatus([result], expectTLS: expect.expectTLS, verifyTLS: options.tls.verify) {
                tlsProblem = min(tlsProblem ?? code, code)
            }
        }
        let sink = output
        let emit: (WatchSession.Output) -> Void = { event in
            switch event {
            case .event(let change, let result):
                sink.emit(.watchChange(change, result, elapsed: change.at.subtractingReportingOverflow(start).partialValue))
            case .late(let result):
                sink.emit(.watchLate(result, elapsed: MonotonicClock.now().subtractingReportingOverflow(start).partialValue))
            }
        }
        while !shouldStop() {
            if let end, MonotonicClock.now() >= end { break }
            session.step(until: end ?? .max, output: emit)
        }
        // Probes still open finish politely: closing them now is what gets a client blocked. A second
        // Ctrl-C ends the program at once (StopSignal restores the default action). When --duration ended
        // the watch, nobody pressed Ctrl-C yet: restore the default action now, so one Ctrl-C quits.
        if session.inFlight > 0 {
            let interrupted = shouldStop()
            if !interrupted {
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
            }
            StandardStreams.error(
                "svcprobe: letting \(session.inFlight) probe(s) in flight finish politely (at most "
                    + "\(DurationText.describe(options.timeoutNanoseconds))+"
                    + "\(DurationText.describe(options.lingerNanoseconds))); "
                    + "press Ctrl-C \(interrupted ? "again " : "")to quit now.")
        }
        session.drain(shouldStop: { false }, output: emit)
        var status = ExitStatus.ok
        if expect.any {
            if session.everDown { status = ProbeVerdict.down } else if mismatch { status = ProbeVerdict.versionMismatch }
        }
        if status == ExitStatus.ok, let tlsProblem { status = tlsProblem }
        for summary in session.summaries() { sink.emit(.watchSummary(summary, exitStatus: status)) }
        return status
    }

    /// Each file's connections as they end, then one summary per file that was opened (none for a file that could
    /// not be: its error is on stderr). A file cut mid-record prints what came before, is marked partial, and makes
    /// the exit status 1; summaries carry that status.
    public static func readCaptures(
        _ files: [String], port: UInt16, filter: String?, output: ProbeOutput
    ) -> Int32 {
        var summaries: [CaptureScanSummary] = []
        var status = ExitStatus.ok
        for path in files {
            do throws(CaptureError) {
                let summary = try CaptureScanner.scan(path: path, port: port, extraFilter: filter) { finding in
                    output.emit(.finding(finding))
                }
                if let problem = summary.readError {
                    StandardStreams.error("svcprobe: \(problem)")
                    status = ExitStatus.failure
                }
                summaries.append(summary)
            } catch {
                StandardStreams.error("svcprobe: \(error.message)")
                status = ExitStatus.failure
            }
        }
        for summary in summaries { output.emit(.captureSummary(summary, exitStatus: status)) }
        return status
    }
}
