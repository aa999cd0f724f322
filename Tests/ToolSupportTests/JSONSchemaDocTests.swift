import Foundation
import TestSupport
import Testing
import ToolSupport

/// docs/json.md cannot drift: every tool runs with --json over every bundled capture (and addrinspect in a
/// namespace of its own), in the modes that make each kind of object, and
/// - every object starts with the common keys (event, time as RFC 3339 with nanoseconds, host = --node-name),
///   and each run's first object is `start` with the documented schema version;
/// - every (tool, event, key) seen is documented, with the JSON type seen;
/// - every documented event was seen, or is marked "Live only" (or "Not in the bundled captures", for an event only
///   a crafted input makes) with the test that covers it (a file that exists).
///
/// `VIPSCOPE_WRITE_JSON_DOC=1 swift test --filter JSONSchemaDoc` adds what is missing to docs/json.md (keys
/// with the type seen and a meaning to fill in), so the doc stays easy to keep; the check then names what to
/// describe.
@Suite(.serialized)
struct JSONSchemaDocTests {
    static let docPath = TestEnvironment.repository.appendingPathComponent("docs/json.md").path
    static let node = "doc-node-1"

    // MARK: the document

    struct Key: Equatable {
        var name: String
        var type: String
        var meaning: String
    }

    struct Event {
        var name: String
        /// The lines before the key table, and after it.
        var prose: [String] = []
        var keys: [Key] = []
        var after: [String] = []
        /// The test file named in the paragraph that starts "Live only" or "Not in the bundled captures"
        /// (`Tests/....swift`); "" when it names none; nil without such a paragraph.
        var liveOnlyTest: String? {
            let text = (prose + after).joined(separator: " ")
            guard let start = text.range(of: "Live only") ?? text.range(of: "Not in the bundled captures")
            else { return nil }
            let paragraph = text[start.lowerBound...]
            guard let range = paragraph.range(of: #"Tests/[A-Za-z0-9_/]+\.swift"#, options: .regularExpression) else {
                return ""
            }
            return String(paragraph[range])
        }
    }

    struct Tool {
        var name: String
        var prose: [String] = []
        var events: [Event] = []
    }

    /// docs/json.md as sections: the preamble (with the common keys' table), then `## \`tool\`` and
    /// `### \`event\`` headings, each event with its prose and its key table.
    struct Document {
        var preamble: [String] = []
        var tools: [Tool] = []

        init(text: String) {
            for line in text.components(separatedBy: "\n") {
                if let name = Self.heading(line, "## ") {
                    tools.append(Tool(name: name))
                } else if let name = Self.heading(line, "### "), !tools.isEmpty {
                    tools[tools.count - 1].events.append(Event(name: name))
                } else if tools.isEmpty {
                    preamble.append(line)
                } else if let key = Self.row(line), !(tools[tools.count - 1].events.isEmpty) {
                    let tool = tools.count - 1
                    tools[tool].events[tools[tool].events.count - 1].keys.append(key)
                } else if line.hasPrefix("| key |") || line.hasPrefix("|---") {
                    continue  // the table's header: rendered again
                } else if tools[tools.count - 1].events.isEmpty {
                    tools[tools.count - 1].prose.append(line)
                } else {
                    let tool = tools.count - 1
                    let event = tools[tool].events.count - 1
                    if tools[tool].events[event].keys.isEmpty {
                        tools[tool].events[event].prose.append(line)
                    } else {
                        tools[tool].events[event].after.append(line)
                    }
                }
            }
        }

        static func heading(_ line: String, _ marker: String) -> String? {
            guard line.hasPrefix(marker + "`"), line.hasSuffix("`") else { return nil }
            let name = line.dropFirst(marker.count + 1).dropLast()
            return name.isEmpty || name.contains("`") ? nil : String(name)
        }

        /// `| \`key\` | type | meaning |`
        static func row(_ line: String) -> Key? {
            guard line.hasPrefix("| `"), line.hasSuffix(" |") else { return nil }
            let cells = line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
            guard cells.count >= 3, cells[0].hasPrefix("`"), cells[0].hasSuffix("`") else { return nil }
            return Key(name: String(cells[0].dropFirst().dropLast()), type: cells[1],
                       meaning: cells[2...].joined(separator: " | "))
        }

        /// The common keys: the preamble's table rows.
        var commonKeys: [Key] { preamble.compactMap(Self.row) }

        var schemaVersion: Int? {
            for line in preamble {
                if let range = line.range(of: #"schema_version[`"]?: ?\*?\*?([0-9]+)"#, options: .regularExpression) {
                    return Int(line[range].filter(\.isNumber))
                }
            }
            return nil
        }

        var text: String {
            var lines = preamble
            for tool in tools {
                lines.append("## `\(tool.name)`")
                lines += tool.prose
                for event in tool.events {
                    lines.append("### `\(event.name)`")
                    lines += event.prose
                    if !event.keys.isEmpty {
                        lines.append("| key | type | meaning |")
                        lines.append("|---|---|---|")
                        for key in event.keys { lines.append("| `\(key.name)` | \(key.type) | \(key.meaning) |") }
                    }
                    lines += event.after
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    static let undocumented = "(undocumented: say what it means)"

    // MARK: running the tools

    struct Run {
        var tool: String
        var arguments: [String]
        var objects: [[String: Any]]
    }

    static func captures() throws -> [String] {
        let root = TestEnvironment.captures
        var paths: [String] = []
        let manager = FileManager.default
        for name in try manager.contentsOfDirectory(atPath: root.path).sorted() {
            let path = root.appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                for inner in try manager.contentsOfDirectory(atPath: path).sorted() where inner.contains(".pcap") {
                    paths.append(path + "/" + inner)
                }
            } else if name.contains(".pcap") {
                paths.append(path)
            }
        }
        return paths
    }

    static func run(_ tool: String, _ arguments: [String], runs: inout [Run]) throws {
        let binary = try #require(TestEnvironment.builtTool(tool), "\(tool) is not built; run `swift build` first")
        let output = try ChildProcess.run([binary] + arguments + ["--json", "--node-name", node])
        // Verification modes end non-zero by design; a crash or a usage error is not output to document.
        try #require(output.status < 64, "\(tool) \(arguments) exited \(output.status): \(output.standardError)")
        let objects = try JSONLines.objects(output.standardOutput)
        runs.append(Run(tool: tool, arguments: arguments, objects: objects))
    }

    /// Every tool in the modes that make each kind of object.
    static func allRuns() throws -> [Run] {
        var runs: [Run] = []
        let captures = try Self.captures()
        try #require(captures.count >= 10, "the bundled captures are missing: \(captures)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vs-sch-doc-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        // Node names for the lab MACs of the failover captures (so the node keys appear).
        let nodes = scratch.appendingPathComponent("nodes.txt").path
        try "02:76:73:03:00:02 node1\n02:76:73:03:00:03 node2\n".write(toFile: nodes, atomically: true, encoding: .utf8)
        for capture in captures {
            try run("svcprobe", ["-r", capture], runs: &runs)
            try run("garpwatch", ["-r", capture, "--node-map", nodes, "--local-net", "203.0.113.0/24"], runs: &runs)
            let state = scratch.appendingPathComponent("state-\(runs.count).json").path
            try run("garpwatch", ["-r", capture], runs: &runs)
            try run("garpwatch", ["-r", capture, "--expect", "198.51.100.20=02:00:00:00:00:01", "--state", state],
                    runs: &runs)
            try run("garpwatch", ["-r", capture, "--state", state], runs: &runs)  // restored from the file
            try run("bgpdecode", ["-r", capture], runs: &runs)
            try run("bgpdecode", ["-r", capture, "--table"], runs: &runs)
            try run("bgpdecode", ["-r", capture, "--expect-prefix", "198.51.100.10/32"], runs: &runs)
        }
        // An MRT made from a capture-shaped session by the bench generator (the repository holds no MRT file).
        let pcap = scratch.appendingPathComponent("gen.pcap").path
        let mrt = scratch.appendingPathComponent("gen.mrt").path
        try ChildProcess.mustRun([
            "python3", TestEnvironment.repository.appendingPathComponent("scripts/lab/gen-bgp-bench.py").path,
            pcap, mrt, "200", "fulltable",
        ])
        try run("bgpdecode", ["--mrt", mrt], runs: &runs)
        try run("bgpdecode", ["--mrt", mrt, "--table"], runs: &runs)
        try run("bgpdecode", ["-r", pcap, "--keepalives"], runs: &runs)
        // An MRT state change and a message of an unknown type, which no capture holds (RFC 6396 BGP4MP).
        let crafted = scratch.appendingPathComponent("crafted.mrt")
        try Data(Self.craftedMRT).write(to: crafted)
        try run("bgpdecode", ["--mrt", crafted.path], runs: &runs)
        // tcpdump's own BGP captures: errors, malformed attributes, ROUTE-REFRESH, gaps.
        let corpus = TestEnvironment.repository.appendingPathComponent("Tests/Corpus/tcpdump")
        for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        where name.hasPrefix("bgp") && name.contains(".pcap") {
            try run("bgpdecode", ["-r", corpus.appendingPathComponent(name).path, "--keepalives"], runs: &runs)
        }

        // addrinspect reads the kernel: a namespace of its own with an address, a neighbour and routes.
        try #require(TestEnvironment.isRoot, "addrinspect's part needs root (a network namespace)")
        let namespace = "vs-sch-doc\(getpid())"
        _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
        try ChildProcess.mustRun(["ip", "netns", "add", namespace])
        defer { _ = try? ChildProcess.run(["ip", "netns", "del", namespace]) }
        for command in [
            ["link", "set", "lo", "up"], ["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            ["link", "set", "v0", "up"], ["link", "set", "v1", "up"], ["addr", "add", "203.0.113.1/24", "dev", "v0"],
            ["addr", "add", "198.51.100.10/32", "dev", "v1"],
            ["neigh", "add", "203.0.113.7", "lladdr", "02:00:00:00:00:07", "dev", "v0", "nud", "permanent"],
            ["route", "add", "default", "via", "203.0.113.254"],
            ["route", "add", "198.51.100.64/26", "nexthop", "via", "203.0.113.253", "nexthop", "via", "203.0.113.252"],
            ["rule", "add", "to", "198.51.100.160/27", "prohibit", "pref", "90"],
        ] {
            try ChildProcess.mustRun(["ip", "-n", namespace] + command)
        }
        for arguments in [
            ["addr"], ["link"], ["neigh"], ["route"], ["has", "198.51.100.10"], ["has", "203.0.113.7"],
            ["has", "203.0.113.99"], ["has", "198.51.100.161"], ["has", "2001:db8::1"],
            ["watch", "--duration", "0.2"],
        ] {
            try run("addrinspect", arguments + ["--netns", namespace], runs: &runs)
        }
        return runs
    }

    /// BGP4MP_MESSAGE with a BGP message of type 9, then BGP4MP_STATE_CHANGE Established -> Idle, from
    /// 203.0.113.1 (AS 64512) to 203.0.113.2 (AS 64513).
    static let craftedMRT: [UInt8] = {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func u32(_ value: Int) -> [UInt8] { u16(value >> 16 & 0xFFFF) + u16(value & 0xFFFF) }
        func record(_ subtype: Int, _ body: [UInt8], at time: Int) -> [UInt8] {
            u32(time) + u16(16) + u16(subtype) + u32(body.count) + body
        }
        let peers = u16(64512) + u16(64513) + u16(0) + u16(1) + [203, 0, 113, 1, 203, 0, 113, 2]
        let unknownType = [UInt8](repeating: 0xFF, count: 16) + u16(19) + [9]
        return record(1, peers + unknownType, at: 1_700_000_000) + record(0, peers + u16(6) + u16(1), at: 1_700_000_001)
    }()

    /// Every key of an object and of the objects nested in it (in values and arrays).
    static func allKeys(_ value: Any) -> Set<String> {
        switch value {
        case let object as [String: Any]:
            return object.reduce(into: Set(object.keys)) { $0.formUnion(allKeys($1.value)) }
        case let array as [Any]:
            return array.reduce(into: []) { $0.formUnion(allKeys($1)) }
        default:
            return []
        }
    }

    static func type(of value: Any) -> String {
        switch value {
        case is String: return "string"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": return "boolean"
            case "d", "f": return "number"
            default: return "integer"
            }
        default: return "null"
        }
    }

    /// A documented type admits a seen one: `integer` is a `number` too; `a or b` lists alternatives.
    static func admits(_ documented: String, _ seen: String) -> Bool {
        let allowed = documented.components(separatedBy: " or ").map { $0.trimmingCharacters(in: .whitespaces) }
        return allowed.contains(seen) || (seen == "integer" && allowed.contains("number"))
    }

    static let rfc3339Nanoseconds = #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$"#

    // MARK: the checks

    @Test func everyObjectHasTheCommonKeysAndIsDocumented() throws {
        let runs = try Self.allRuns()
        var document = Document(text: try String(contentsOfFile: Self.docPath, encoding: .utf8))
        let common = Set(document.commonKeys.map(\.name))
        #expect(common == ["event", "time", "host", "interface"], "the common keys' table: \(common)")
        #expect(document.schemaVersion == JSONEnvelope.schemaVersion, "docs/json.md names another schema version")

        var seen: [String: [String: [String: Set<String>]]] = [:]  // tool -> event -> key -> types
        for run in runs {
            let label = "\(run.tool) \(run.arguments.joined(separator: " "))"
            let first = try #require(run.objects.first, "\(label): no output")
            #expect(first["event"] as? String == "start" && first["tool"] as? String == run.tool, "\(label)")
            #expect(first["schema_version"] as? Int == JSONEnvelope.schemaVersion, "\(label)")
            for object in run.objects {
                guard let event = object["event"] as? String, let time = object["time"] as? String else {
                    Issue.record("\(label): no event or time in \(object)")
                    continue
                }
                #expect(
                    time.range(of: Self.rfc3339Nanoseconds, options: .regularExpression) != nil, "\(label): \(time)")
                #expect(object["host"] as? String == Self.node, "\(label): host in \(object)")
                // No key is data (a prefix, an interface name), at any depth, and none is called status.
                for key in Self.allKeys(object) {
                    #expect(key.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) != nil && key != "status",
                            "\(label): key \(key) in \(event)")
                }
                for (key, value) in object where !common.contains(key) {
                    seen[run.tool, default: [:]][event, default: [:]][key, default: []].insert(Self.type(of: value))
                }
                if seen[run.tool]?[event] == nil { seen[run.tool, default: [:]][event] = [:] }
            }
        }
        for tool in ["garpwatch", "bgpdecode", "addrinspect", "svcprobe"] { #expect(seen[tool] != nil, "\(tool) ran") }

        if ProcessInfo.processInfo.environment["VIPSCOPE_WRITE_JSON_DOC"] == "1" {
            Self.merge(seen, into: &document)
            try document.text.write(toFile: Self.docPath, atomically: true, encoding: .utf8)
        }

        for (tool, events) in seen.sorted(by: { $0.key < $1.key }) {
            let section = document.tools.first { $0.name == tool }
            #expect(section != nil, "docs/json.md has no section for \(tool)")
            for (event, keys) in events.sorted(by: { $0.key < $1.key }) {
                let documented = section?.events.first { $0.name == event }
                #expect(documented != nil, "docs/json.md: \(tool) has no event \(event)")
                for (key, types) in keys.sorted(by: { $0.key < $1.key }) {
                    let row = documented?.keys.first { $0.name == key }
                    #expect(row != nil, "docs/json.md: \(tool) \(event) lacks key \(key) (\(types.sorted()))")
                    if let row {
                        for type in types {
                            #expect(Self.admits(row.type, type),
                                    "\(tool) \(event) \(key): seen \(type), doc \(row.type)")
                        }
                    }
                }
            }
        }
        for tool in document.tools {
            for event in tool.events {
                for key in event.keys {
                    #expect(key.meaning != Self.undocumented && !key.meaning.isEmpty,
                            "docs/json.md: describe \(tool.name) \(event.name) \(key.name)")
                }
                if seen[tool.name]?[event.name] != nil { continue }
                let test = try #require(event.liveOnlyTest,
                    "docs/json.md: \(tool.name) \(event.name) was not seen and is not marked 'Live only'")
                #expect(!test.isEmpty, "\(tool.name) \(event.name): 'Live only' must name the test that covers it")
                #expect(FileManager.default.fileExists(
                    atPath: TestEnvironment.repository.appendingPathComponent(test).path),
                    "\(tool.name) \(event.name): \(test) does not exist")
            }
        }
    }

    /// Adds the tools, events and keys seen but missing, with the type seen and a meaning to fill in.
    static func merge(_ seen: [String: [String: [String: Set<String>]]], into document: inout Document) {
        let common = Set(document.commonKeys.map(\.name))
        for (tool, events) in seen.sorted(by: { $0.key < $1.key }) {
            if !document.tools.contains(where: { $0.name == tool }) {
                document.tools.append(Tool(name: tool, prose: [""]))
            }
            guard let toolIndex = document.tools.firstIndex(where: { $0.name == tool }) else { continue }
            for (event, keys) in events.sorted(by: { $0.key < $1.key }) {
                if !document.tools[toolIndex].events.contains(where: { $0.name == event }) {
                    document.tools[toolIndex].events.append(
                        Event(name: event, prose: ["", undocumented, ""], after: [""]))
                }
                guard let eventIndex = document.tools[toolIndex].events.firstIndex(where: { $0.name == event })
                else { continue }
                for (key, types) in keys.sorted(by: { $0.key < $1.key }) where !common.contains(key) {
                    let keys = document.tools[toolIndex].events[eventIndex].keys
                    if keys.contains(where: { $0.name == key }) { continue }
                    let type = types.sorted().joined(separator: " or ")
                    if document.tools[toolIndex].events[eventIndex].keys.isEmpty,
                        document.tools[toolIndex].events[eventIndex].after.isEmpty
                    {
                        // The table was empty: it now ends before a blank line, like the others.
                        document.tools[toolIndex].events[eventIndex].after = [""]
                        if document.tools[toolIndex].events[eventIndex].prose.last != "" {
                            document.tools[toolIndex].events[eventIndex].prose.append("")
                        }
                    }
                    document.tools[toolIndex].events[eventIndex].keys.append(
                        Key(name: key, type: type, meaning: undocumented))
                }
            }
        }
    }

    /// The document parses and renders back to itself (so regenerating it changes only what was missing).
    @Test func documentRoundTrips() throws {
        let text = try String(contentsOfFile: Self.docPath, encoding: .utf8)
        #expect(Document(text: text).text == text)
    }
}
