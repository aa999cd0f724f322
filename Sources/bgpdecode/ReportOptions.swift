import ArgumentParser
import BGPDecodeKit
import MetricsSink
import ToolSupport

/// What to print and what to verify: the options `bgpdecode -r/-i/--mrt` and `bgpdecode listen` share, so
/// both parse, validate and load expectations the same way.
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print only the final table of each session (and flap counts), not the events.")
    var table = false

    @Flag(help: "Write JSON Lines instead of text (docs/json.md).")
    var json = false

    @OptionGroup var node: NodeNameOptions

    @OptionGroup var metrics: MetricsOptions

    @Flag(help: "Also show KEEPALIVE messages.")
    var keepalives = false

    @Option(name: .customLong("expect-prefix"), help: ArgumentHelp(
        "A prefix that must be announced, optionally 'PREFIX NEXTHOP'. Repeatable.", valueName: "prefix"))
    var expectPrefixes: [String] = []

    @Option(name: .customLong("expect-file"), help: ArgumentHelp(
        "A file of expected prefixes, one per line, optionally followed by a next hop; # starts a comment.",
        valueName: "file"))
    var expectFile: String?

    var isVerifying: Bool { !expectPrefixes.isEmpty || expectFile != nil }

    func validate() throws {
        for prefix in expectPrefixes where BGPExpectation(line: prefix) == nil {
            throw ValidationError("--expect-prefix '\(prefix)' is not a prefix (like 198.51.100.10/32), "
                + "optionally followed by a next hop.")
        }
    }

    /// Every expectation from --expect-prefix and --expect-file, or the one sentence that says what is wrong
    /// with the file.
    func loadExpectations() -> Result<[BGPExpectation], ExpectationFileError> {
        let expectations = expectPrefixes.compactMap { BGPExpectation(line: $0) }
        guard let expectFile else { return .success(expectations) }
        return ExpectationFile.load(path: expectFile).map { expectations + $0 }
    }
}
