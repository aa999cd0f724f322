import Foundation
import TestSupport
import Testing
import Yams

enum Deploy {
    static let directory = TestEnvironment.repository.appendingPathComponent("deploy")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    static func text(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }

    /// Every document of every manifest in deploy/, with the file it came from.
    static func manifests() throws -> [(file: String, object: [String: Any])] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") && $0 != "rules-test.yaml" && $0 != "kustomization.yaml" }.sorted()
        var documents: [(String, [String: Any])] = []
        for file in files {
            for document in try Yams.load_all(yaml: text(file)) {
                guard let object = document as? [String: Any] else { continue }
                documents.append((file, object))
            }
        }
        return documents
    }

    static func objects(kind: String) throws -> [[String: Any]] {
        try manifests().map(\.object).filter { $0["kind"] as? String == kind }
    }

    /// METRICS.md's metrics table: name -> (type, labels).
    static func metrics() throws -> [String: (type: String, labels: Set<String>)] { try MetricsContract.table() }

    /// METRICS.md's labels table.
    static func documentedLabels() throws -> Set<String> {
        var labels: Set<String> = []
        for line in try text("METRICS.md").split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count == 2, cells[0].hasPrefix("`"), !cells[0].hasPrefix("`vipscope_") {
                labels.insert(cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")))
            }
        }
        return labels
    }

    /// Capabilities per tool from scripts/install's help table ("garpwatch    cap_net_raw   ..."), upper-cased
    /// without the `cap_` prefix as Kubernetes spells them, so the manifest and the installer cannot drift.
    static func installCapabilities() throws -> [String: Set<String>] {
        let install = try String(
            contentsOf: TestEnvironment.repository.appendingPathComponent("scripts/install"), encoding: .utf8)
        var table: [String: Set<String>] = [:]
        for line in install.split(separator: "\n") {
            let words = line.split(separator: " ")
            // The help table's rows: "  TOOL    cap_a,cap_b    why" or "  TOOL    none    why"; first row per tool.
            guard words.count >= 2, ["garpwatch", "bgpdecode", "vipdump", "addrinspect", "svcprobe"].contains(words[0]),
                words[1] == "none" || words[1].hasPrefix("cap_"), table[String(words[0])] == nil
            else { continue }
            let caps = words[1] == "none" ? [] : words[1].split(separator: ",").map { $0.dropFirst(4).uppercased() }
            table[String(words[0])] = Set(caps)
        }
        return table
    }
}

extension Dictionary where Key == String, Value == Any {
    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    func objects(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
    func strings(_ key: String) -> [String] { self[key] as? [String] ?? [] }
}
