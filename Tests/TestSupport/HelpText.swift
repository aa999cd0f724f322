/// A tool's `--help` as a reader sees it. swift-argument-parser re-wraps each discussion line longer than
/// the terminal, so the help tests read it at 80 columns and wider and compare.
public enum HelpText {
    /// The lines `executable [arguments] --help` prints on a terminal `columns` wide.
    public static func lines(_ executable: String, _ arguments: [String] = [], columns: Int) throws -> [String] {
        let output = try ChildProcess.run([executable] + arguments + ["--help"], environment: ["COLUMNS": "\(columns)"])
        guard output.status == 0 else {
            throw ProcessFailure(description: "\(executable) --help failed: \(output.standardError)")
        }
        return output.standardOutput.components(separatedBy: "\n")
    }

    /// The discussion: from the line after the overview's blank line to the line before USAGE.
    public static func discussion(_ lines: [String]) -> [String] {
        guard let blank = lines.firstIndex(of: ""), let usage = lines.firstIndex(where: { $0.hasPrefix("USAGE:") })
        else { return [] }
        return Array(lines[(blank + 1)..<usage])
    }
}
