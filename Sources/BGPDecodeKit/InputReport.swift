import PacketCore
import ToolSupport

/// Whether the inputs were read completely, the one rule every exit status and summary follows: an input
/// that could not be read to its end (a cut capture, an MRT framing error, bytes lost to reassembly
/// limits) is exit 1 after what was decoded is printed and marked partial; SIGINT/SIGTERM before the end
/// is exit 2. (An input that could not be opened at all is reported before any of this and has no
/// summary.)
public struct BGPInputReport: Sendable, Equatable {
    /// Why the input is incomplete, one sentence each (peer text already escaped).
    public var problems: [String] = []
    /// Counted things worth a line in the summary that do not make the input incomplete (records of MRT
    /// types not read, for instance).
    public var notes: [String] = []
    public var interrupted = false

    public init() {}

    public var isComplete: Bool { problems.isEmpty && !interrupted }

    /// 2 when interrupted, 1 when incomplete, else 0.
    public var status: Int32 {
        if interrupted { return ExitStatus.interrupted }
        return problems.isEmpty ? ExitStatus.ok : ExitStatus.failure
    }

    /// Summary lines for text output: empty when complete and nothing is noted.
    public var text: String {
        var out = ""
        for note in notes { out += "note: \(note)\n" }
        if interrupted { out += "PARTIAL: interrupted before the end of the input\n" }
        for problem in problems { out += "PARTIAL: \(problem)\n" }
        return out
    }

    /// The closing `summary` object of `--json` output, with the exit status the run ends with; `time` is the
    /// last message's (`BGPAnalyzer.lastMessageTime`), or the wall clock when none was read or the run is live.
    public func json(status: Int32? = nil, envelope: JSONEnvelope, time: Timestamp) -> JSONLine {
        var line = envelope.object("summary", time: time)
        line.add("exit_status", status ?? self.status)
        line.add("complete", isComplete)
        line.add("interrupted", interrupted)
        line.add("problems", list: problems)
        line.add("notes", list: notes)
        return line
    }
}
