import Foundation
import TestSupport
import Testing

/// How addrinspect reads its command line: `--netns`/`-n` in the order `ip -n NAME addr` takes it as well as after
/// the subcommand, and no subcommand at all as a usage error.
struct CommandLineTests {
    /// Every spelling and position of the namespace option lists the namespace's addresses, not the host's: an
    /// address only the test's namespace holds (on its lo, so no link and no traffic is needed).
    @Test func namespaceBeforeOrAfterTheSubcommand() throws {
        let lab = try NamespaceLab(name: "vs-fresh-\(getpid())-n")
        defer { lab.tearDown() }
        try lab.ip("addr", "add", "198.51.100.77/32", "dev", "lo")
        let name = lab.name

        let host = try Support.addrinspect(["addr"])
        try #require(host.status == 0, "addrinspect addr failed: \(host.standardError)")
        try #require(!host.standardOutput.contains("198.51.100.77/32"), "the host itself holds 198.51.100.77")

        let forms = [
            ["--netns", name, "addr"], ["-n", name, "addr"], ["--netns=\(name)", "addr"],
            ["addr", "--netns", name], ["addr", "-n", name],
        ]
        var outputs: Set<String> = []
        for arguments in forms {
            let output = try Support.addrinspect(arguments)
            #expect(output.status == 0, "addrinspect \(arguments.joined(separator: " ")): \(output.standardError)")
            #expect(output.standardOutput.contains("lo inet 198.51.100.77/32"),
                "\(arguments): \(output.standardOutput)")
            outputs.insert(output.standardOutput)
        }
        #expect(outputs.count == 1, "the forms disagree: \(outputs)")

        // A verdict too: local inside the namespace (0), not on the host.
        #expect(try Support.addrinspect(["-n", name, "has", "198.51.100.77"]).status == 0)
        #expect(try Support.addrinspect(["has", "198.51.100.77", "--netns", name]).status == 0)
        #expect(try Support.addrinspect(["has", "198.51.100.77"]).status != 0)
    }

    @Test func anUnknownNamespaceBeforeTheSubcommandIsOneSentence() throws {
        let output = try Support.addrinspect(["-n", "vs-fresh-\(getpid())-absent", "link"])
        #expect(output.status == 1)
        #expect(output.standardError == "addrinspect: there is no network namespace named "
            + "'vs-fresh-\(getpid())-absent'; list them with 'ip netns list'.\n")
    }

    @Test func noSubcommandIsAUsageError() throws {
        let output = try Support.addrinspect([])
        #expect(output.status == 64)
        #expect(output.standardOutput.isEmpty)
        let lines = output.standardError.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines.last == "", "two lines, each ended: \(output.standardError)")
        #expect(lines.first?.hasPrefix("addrinspect: ") == true)
        #expect(lines.dropFirst().first?.contains("'addrinspect --help'") == true)
    }

    /// Every other usage error is one line too (`addrinspect: ...`) plus the `--help` hint, exit 64, as in
    /// the other tools: not swift-argument-parser's `Error:` line followed by the usage synopsis.
    @Test(arguments: [
        ["bogus"], ["watch", "addr", "--duration", "-1"], ["watch", "--count", "1e300"], ["addr", "--family", "7"],
        ["has"], ["route", "--no-such-option"],
    ])
    func usageErrorsAreOneLineAndTheHint(_ arguments: [String]) throws {
        let output = try Support.addrinspect(arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        #expect(output.standardOutput.isEmpty)
        let lines = output.standardError.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines.last == "", "\(arguments): two lines, each ended: \(output.standardError)")
        #expect(lines.first?.hasPrefix("addrinspect: ") == true, "\(arguments): \(output.standardError)")
        #expect(lines.dropFirst().first?.contains("'addrinspect --help'") == true)
    }
}
