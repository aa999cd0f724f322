import Foundation
import Testing

/// docs/runbook.md shows the tools' real output; this fails as soon as a tool's output, a capture or the
/// generator changes without the runbook being regenerated (`sudo scripts/runbook`).
@Suite("docs/runbook.md")
struct RunbookTests {
    @Test func runbookMatchesAFreshGeneration() throws {
        guard NodeReadiness.requireRoot("scripts/runbook --check (namespace lab)") else { return }
        let tools = try NodeReadiness.builtToolsDirectory()
        let check = try NodeReadiness.run(["scripts/runbook", "--check", "--bin", tools])
        #expect(check.status == 0, "\(check.standardError)\n\(check.standardOutput)")
    }

    /// Every symptom the runbook promises has its entry, each with a command and the output it printed.
    @Test func runbookCoversEverySymptom() throws {
        let text = try String(
            contentsOf: NodeReadiness.repository.appendingPathComponent("docs/runbook.md"), encoding: .utf8)
        let symptoms = [
            "Service IP not reachable from outside", "Reachable only from some clients",
            "Drops for seconds during a node drain", "Works, then stops after minutes", "Two MACs answer",
            "Router does not learn the route", "Route flaps when a Service changes",
            "Database behind the IP refuses connections", "An alert fired",
        ]
        let sections = text.components(separatedBy: "\n## ")
        for symptom in symptoms {
            // An entry is a "## N. Symptom" heading and what follows it up to the next heading.
            let section = sections.first { $0.first?.isNumber == true && $0.prefix { $0 != "\n" }.contains(symptom) }
            #expect(section != nil, "no runbook entry for \"\(symptom)\"")
            guard let section else { continue }
            // A code block whose first line is a command and whose next line is what it printed.
            let blocks = section.components(separatedBy: "```text\n").dropFirst()
            let commandsWithOutput = blocks.filter { block in
                let lines = block.prefix { $0 != "`" }.split(separator: "\n")
                return lines.count >= 2 && (lines[0].hasPrefix("$ ") || lines[0].contains("# "))
            }
            #expect(!commandsWithOutput.isEmpty, "\"\(symptom)\" shows no command with its output")
        }
    }
}
