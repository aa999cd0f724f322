import Foundation
import Testing

/// One sample of the Prometheus text format: `name{labels} value`.
public struct Sample: Equatable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
}

/// The text exposition, read back: samples, and `# TYPE` per metric name.
public struct Exposition: Sendable {
    public var samples: [Sample] = []
    public var types: [String: String] = [:]

    public init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { continue }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let brace = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<brace])
                // Label values here never hold `",` (node names, IPs, MACs): a split is enough for tests.
                let body = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                for pair in body.split(separator: "\",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { labels[String(parts[0])] = String(parts[1].filter { $0 != "\"" }) }
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    public func values(_ name: String, _ match: [String: String] = [:]) -> [Double] {
        samples.filter { sample in
            sample.name == name && match.allSatisfy { key, value in sample.labels[key] == value }
        }.map(\.value)
    }

    public func value(_ name: String, _ match: [String: String] = [:]) -> Double? {
        let found = values(name, match)
        return found.count == 1 ? found[0] : nil
    }
}

/// deploy/METRICS.md (the metrics contract) and promtool, for every tool's metrics tests.
public enum MetricsContract {
    /// METRICS.md's table: name -> (type, labels).
    public static func table() throws -> [String: (type: String, labels: Set<String>)] {
        let text = try String(
            contentsOf: TestEnvironment.repository.appendingPathComponent("deploy/METRICS.md"), encoding: .utf8)
        var table: [String: (String, Set<String>)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `vipscope_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let labels = Set(cells[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            table[name] = (cells[1], labels)
        }
        return table
    }

    /// Every name `exposition` exports is in the table with its type and label set (histogram series without
    /// `le`); nothing is said about rows the tool does not export.
    public static func expectConforms(_ exposition: Exposition, tool: String) throws {
        let table = try Self.table()
        try #require(table.count > 10, "METRICS.md's table was not read")
        try #require(!exposition.types.isEmpty, "\(tool) exported nothing")
        for (name, type) in exposition.types {
            let row = try #require(table[name], "\(tool) exports \(name), which deploy/METRICS.md does not list")
            #expect(row.type == type, "\(name): exported as \(type), METRICS.md says \(row.type)")
            for sample in exposition.samples where sample.name == name || sample.name.hasPrefix(name + "_") {
                let labels = Set(sample.labels.keys).subtracting(["le"])
                #expect(labels == row.labels, "\(sample.name): labels \(labels.sorted()), METRICS.md \(row.labels.sorted())")
            }
        }
    }

    /// promtool, or nil (a recorded failure under CI: the lab is required there).
    public static func promtool() -> String? {
        if let path = ChildProcess.which("promtool") { return path }
        if TestEnvironment.isCI { Issue.record("promtool (Debian's prometheus package) is needed: run scripts/setup") }
        return nil
    }

    /// `promtool check metrics` on `exposition`.
    public static func check(_ exposition: String, promtool: String) throws -> ProcessOutput {
        let file = NSTemporaryDirectory() + "promtool-\(getpid())-\(UUID().uuidString).prom"
        try exposition.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try ChildProcess.run(["sh", "-c", "\"$0\" check metrics < \"$1\"", promtool, file])
    }
}
