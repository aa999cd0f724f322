import Foundation
import Testing

/// `addrinspect --help` and every subcommand's: swift-argument-parser wraps at 80 columns (when not on a terminal)
/// and re-wraps any longer discussion line, so every line must fit; and the help must teach (examples) and
/// document the exit statuses scripts rely on.
struct HelpTests {
    static let commands = ["", "addr", "link", "neigh", "route", "has", "watch"]

    static func help(_ command: String) throws -> String {
        let output = try Support.addrinspect((command.isEmpty ? [] : [command]) + ["--help"])
        try #require(output.status == 0, "addrinspect \(command) --help failed: \(output.standardError)")
        return output.standardOutput
    }

    @Test(arguments: commands)
    func everyLineFitsEightyColumns(command: String) throws {
        let long = try Self.help(command).split(separator: "\n").filter { $0.count > 80 }
        #expect(long.isEmpty, "lines over 80 columns: \(long)")
    }

    @Test(arguments: commands)
    func hasExamplesAndExitStatuses(command: String) throws {
        let text = try Self.help(command)
        #expect(text.contains("Examples:\n  addrinspect \(command)"))
        #expect(text.contains("Exit status"))
        // The shared codes (ExitStatus: 1 failure, 64 usage) are in every command's help.
        #expect(text.contains("1 failure") || text.contains("1   failure"))
        #expect(text.contains("64 usage") || text.contains("64  usage"))
    }

    @Test func hasDocumentsEveryVerdictCode() throws {
        let lines = try Self.help("has").split(separator: "\n").map(String.init)
        for (code, verdict) in [("0", "local:"), ("10", "not local:"), ("11", "neighbour known:"), ("12", "unknown:")] {
            #expect(lines.contains { $0.hasPrefix("  \(code) ") && $0.contains(verdict) }, "no line for exit \(code)")
        }
        #expect(try Self.help("").contains("'has' also returns 10, 11 and 12"))
    }

    /// addr, route and watch spell out their usage by hand (the generated one is too long for 80 columns): it must
    /// still name every option the OPTIONS section lists.
    @Test(arguments: commands)
    func usageNamesEveryOption(command: String) throws {
        let text = try Self.help(command)
        let usage = text.components(separatedBy: "USAGE:").last?.components(separatedBy: "\n\n").first ?? ""
        let options = text.components(separatedBy: "OPTIONS:").last?.split(separator: "\n")
            .compactMap { line -> String? in
                let trimmed = line.drop { $0 == " " }
                guard trimmed.hasPrefix("--"), let name = trimmed.split(separator: " ").first else { return nil }
                return String(name)
            } ?? []
        for option in options where option != "--help" && option != "--version" {
            #expect(usage.contains(option), "usage of '\(command)' lacks \(option)")
        }
    }
}
