import Foundation
import TestSupport
import Testing
import Yams

@Suite("PrometheusRule alerts")
struct AlertTests {
    static func rules() throws -> [[String: Any]] {
        let rule = try #require(try Deploy.objects(kind: "PrometheusRule").first)
        return rule.object("spec").objects("groups").flatMap { $0.objects("rules") }
    }

    @Test("The five alerts exist")
    func alerts() throws {
        let names = try Self.rules().compactMap { $0["alert"] as? String }
        #expect(Set(names) == ["VipscopeIPHasTwoOwners", "VipscopeSlowFailover", "VipscopeExpectedPrefixMissing",
                               "VipscopeBGPSessionDown", "VipscopeServiceNotUp"])
        let owners = try Self.rules().first { $0["alert"] as? String == "VipscopeIPHasTwoOwners" }
        let expr: String = owners?["expr"] as? String ?? ""
        #expect(expr.contains("vipscope_garp_owners) > 1"))
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).map { match in
            (0..<match.numberOfRanges).map { index in
                Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
        }
    }

    @Test("Every expr names only metrics in METRICS.md, and only labels those metrics have")
    func contract() throws {
        let metrics = try Deploy.metrics()
        #expect(metrics.count >= 10, "METRICS.md's table was not found")
        let documentedLabels = try Deploy.documentedLabels()
        for rule in try Self.rules() {
            let name = rule["alert"] as? String ?? "?"
            let expr = rule["expr"] as? String ?? ""
            var labels: Set<String> = []
            var usesHistogram = false
            let used = Self.matches(#"vipscope_[a-z_]+"#, in: expr).map { $0[0] }
            #expect(!used.isEmpty, "\(name) names no metric")
            for series in used {
                var base = series
                for suffix in ["_bucket", "_count", "_sum"] where base.hasSuffix(suffix) {
                    let trimmed = String(base.dropLast(suffix.count))
                    if metrics[trimmed]?.type == "histogram" {
                        base = trimmed
                        usesHistogram = true
                    }
                }
                guard let metric = metrics[base] else {
                    Issue.record("\(name): \(series) is not in deploy/METRICS.md")
                    continue
                }
                labels.formUnion(metric.labels)
            }
            if usesHistogram { labels.insert("le") }
            // Labels in by/on/ignoring/without lists, in {label=...} selectors, and in $labels.X templates.
            var referenced: Set<String> = []
            for list in Self.matches(#"\b(?:by|on|ignoring|without)\s*\(([^)]*)\)"#, in: expr) {
                for label in list[1].split(separator: ",") {
                    referenced.insert(label.trimmingCharacters(in: .whitespaces))
                }
            }
            for selector in Self.matches(#"\{([^}]*)\}"#, in: expr) {
                for matcher in Self.matches(#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)"#, in: selector[1]) {
                    referenced.insert(matcher[1])
                }
            }
            let annotations = (rule["annotations"] as? [String: Any] ?? [:]).values.compactMap { $0 as? String }
            for text in annotations {
                for match in Self.matches(#"\$labels\.([a-zA-Z_]+)"#, in: text) { referenced.insert(match[1]) }
            }
            #expect(!referenced.isEmpty, "\(name) uses no label")
            for label in referenced {
                #expect(labels.contains(label), "\(name): label \(label) is not one of \(labels.sorted())")
                #expect(documentedLabels.contains(label) || label == "le", "\(name): \(label) not in the labels table")
            }
        }
    }

    /// promtool from Debian's prometheus package; under CI its absence fails the test.
    static func promtool() -> String? {
        if let path = ChildProcess.which("promtool") { return path }
        if TestEnvironment.isCI { Issue.record("promtool is missing: run scripts/setup (Debian package prometheus).") }
        return nil
    }

    /// A folder holding the PrometheusRule's spec.groups as vipscope-rules.yaml (what rules-test.yaml loads),
    /// with `edit` applied to every rule's expr first, and a copy of rules-test.yaml.
    static func rulesFolder(edit: (String) -> String = { $0 }) throws -> URL {
        let rule = try #require(try Deploy.objects(kind: "PrometheusRule").first)
        let groups: [[String: Any]] = rule.object("spec").objects("groups").map { group in
            var group = group
            group["rules"] = group.objects("rules").map { rule in
                var rule = rule
                if let expr = rule["expr"] as? String { rule["expr"] = edit(expr) }
                return rule
            }
            return group
        }
        let text = try Yams.dump(object: ["groups": groups])
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("vipscope-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try edit(text).write(
            to: folder.appendingPathComponent("vipscope-rules.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: Deploy.url("rules-test.yaml"), to: folder.appendingPathComponent("rules-test.yaml"))
        return folder
    }

    @Test("promtool check rules accepts the group")
    func checkRules() throws {
        guard let promtool = Self.promtool() else { return }
        let folder = try Self.rulesFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try ChildProcess.run([promtool, "check", "rules", "vipscope-rules.yaml"], directory: folder)
        #expect(output.status == 0, "\(output.standardOutput)\(output.standardError)")
        #expect(output.standardOutput.contains("SUCCESS: 5 rules found"))
    }

    @Test("promtool test rules: each alert fires on its series and stays silent on the others")
    func testRules() throws {
        guard let promtool = Self.promtool() else { return }
        let folder = try Self.rulesFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try ChildProcess.run([promtool, "test", "rules", "rules-test.yaml"], directory: folder)
        #expect(output.status == 0, "\(output.standardOutput)\(output.standardError)")
    }

    /// The same tests against broken rules must fail: they really evaluate the rules.
    @Test("promtool test rules fails when an alert's threshold is wrong", arguments: [
        ("(vipscope_garp_owners) > 1", "(vipscope_garp_owners) > 2"),
        ("le=\"2.0\"", "le=\"+Inf\""),
        ("vipscope_bgp_session_up == 1", "vipscope_bgp_session_up == 0"),
        ("vipscope_svc_up == 0", "vipscope_svc_up == 1"),
    ])
    func brokenRulesFail(_ edit: (from: String, to: String)) throws {
        guard let promtool = Self.promtool() else { return }
        var applied = false
        let folder = try Self.rulesFolder { text in
            applied = applied || text.contains(edit.from)
            return text.replacingOccurrences(of: edit.from, with: edit.to)
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(applied, "the rules no longer contain \(edit.from)")
        let output = try ChildProcess.run([promtool, "test", "rules", "rules-test.yaml"], directory: folder)
        #expect(output.status != 0)
    }
}
