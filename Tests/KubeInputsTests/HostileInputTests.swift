import Foundation
import KubeInputs
import MetalLBInputs
import TestSupport
import Testing

/// Inputs written to hurt: huge, deeply nested, self-expanding, not text, not a file.
@Suite("Hostile Kubernetes inputs")
struct HostileInputTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kubeinputs-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("A file over the size limit is refused before it is parsed")
    func tooLarge() throws {
        let path = try Self.temporaryFile(Array(repeating: UInt8(ascii: " "), count: 4097))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var limits = InputLimits.standard
        limits.maximumBytes = 4096
        expectInputError(file: path, containing: ["4097 bytes", "more than the 4096"]) { () throws(KubeInputError) in
            _ = try ServiceInventory.read(file: path, limits: limits)
        }
        // At the limit it is read (and then fails as JSON, which shows it got that far).
        limits.maximumBytes = 4097
        expectInputError(file: path, containing: ["not valid JSON"]) { () throws(KubeInputError) in
            _ = try ServiceInventory.read(file: path, limits: limits)
        }
    }

    @Test("Missing files, directories and non-UTF-8 YAML are one sentence each")
    func notAFile() throws {
        expectInputError(file: "/nonexistent/svc.json", containing: ["cannot be read", "No such file"]) {
            () throws(KubeInputError) in _ = try ServiceInventory.read(file: "/nonexistent/svc.json")
        }
        let directory = FileManager.default.temporaryDirectory.path
        expectInputError(file: directory, containing: ["is not a regular file"]) { () throws(KubeInputError) in
            _ = try NodeInventory.read(file: directory)
        }
        expectInputError(file: "latin1.yaml", containing: ["is not UTF-8"]) { () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse([0x6B, 0x3A, 0x20, 0xE9, 0x0A], file: "latin1.yaml")
        }
    }

    @Test("JSON nested deeper than the limit", arguments: [200, 100_000])
    func deepJSON(_ depth: Int) {
        let json = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        expectInputError(file: "deep.json", containing: ["nests lists and objects deeper than 128"]) {
            () throws(KubeInputError) in
            _ = try ServiceInventory.parse(Inputs.bytes(json), file: "deep.json")
        }
    }

    @Test("JSON depth: at the limit is read, brackets in strings do not count, and the decoder's own bound holds")
    func jsonDepthEdges() {
        // 129 lists: the innermost is at depth 128, the limit. Read, then refused for what it is.
        let atLimit = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        expectInputError(file: "edge.json", containing: ["is a list, expected a Kubernetes object"]) {
            () throws(KubeInputError) in _ = try ServiceInventory.parse(Inputs.bytes(atLimit), file: "edge.json")
        }
        let name = String(repeating: "[{", count: 1000) + #"\"["#
        let quoted = #"{"kind":"Service","metadata":{"name":"\#(name)"},"spec":{"type":"LoadBalancer"}}"#
        #expect((try? ServiceInventory.parse(Inputs.bytes(quoted), file: "q.json"))?.services.count == 1)
        // With our limit out of the way, 100,000 levels reach JSONDecoder, which refuses them (it stops at
        // 512) with an error instead of overflowing the stack.
        var limits = InputLimits.standard
        limits.maximumDepth = 1_000_000
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        expectInputError(file: "deep.json", containing: ["is not valid JSON"]) { () throws(KubeInputError) in
            _ = try ServiceInventory.parse(Inputs.bytes(deep), file: "deep.json", limits: limits)
        }
    }

    @Test("JSON with too many values, and a cut-off file, are one sentence each")
    func jsonValuesAndTruncation() {
        var limits = InputLimits.standard
        limits.maximumValues = 1000
        let wide = #"{"kind":"Service","x":["# + Array(repeating: "1", count: 2000).joined(separator: ",") + "]}"
        expectInputError(file: "wide.json", containing: ["more than 1000 values"]) { () throws(KubeInputError) in
            _ = try ServiceInventory.parse(Inputs.bytes(wide), file: "wide.json", limits: limits)
        }
        expectInputError(file: "cut.json", containing: ["not valid JSON", "ends with 3 lists or objects open"]) {
            () throws(KubeInputError) in
            _ = try NodeInventory.parse(Inputs.bytes(#"{"items":[{"kind":"Node""#), file: "cut.json")
        }
        expectInputError(file: "cut.json", containing: ["not valid JSON", "ends inside a string"]) {
            () throws(KubeInputError) in
            _ = try NodeInventory.parse(Inputs.bytes(#"{"items":[{"kind":"No"#), file: "cut.json")
        }
        expectInputError(file: "utf.json", containing: ["not valid JSON"]) { () throws(KubeInputError) in
            _ = try NodeInventory.parse(Inputs.bytes(#"{"items":[],"x":""#) + [0xFF, 0x22, 0x7D], file: "utf.json")
        }
    }

    @Test("A FIFO is refused as not a regular file, without waiting for a writer")
    func fifo() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kubeinputs-\(UUID().uuidString)").path
        guard mkfifo(path, 0o600) == 0 else {
            Issue.record("mkfifo \(path) failed")
            return
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectInputError(file: path, containing: ["is not a regular file"]) { () throws(KubeInputError) in
            _ = try ServiceInventory.read(file: path)
        }
    }

    /// Each shape of YAML nesting, far past the limit: flow lists, flow mappings, compact block sequences
    /// (`- - - x` on one line) and ever deeper indentation.
    static func deepYAML(_ shape: String) -> String {
        switch shape {
        case "flow lists": String(repeating: "[", count: 300_000)
        case "flow mappings": String(repeating: "{a: ", count: 100_000)
        case "compact sequences": String(repeating: "- ", count: 200_000) + "x"
        default: (0..<400).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " v"
        }
    }

    @Test(
        "YAML nested deeper than the limit is refused before Yams recurses",
        arguments: ["flow lists", "flow mappings", "compact sequences", "indentation"])
    func deepYAMLRefused(_ shape: String) {
        expectInputError(file: "deep.yaml", containing: ["nests deeper than 128 levels", "at line"]) {
            () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes(Self.deepYAML(shape)), file: "deep.yaml")
        }
    }

    @Test("Anchors, and so aliases and billion-laughs expansion, are refused")
    func billionLaughs() {
        var yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<30 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 9).joined(separator: ", "))]\n"
        }
        expectInputError(file: "laughs.yaml", containing: ["anchor", "line 1"]) { () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes(yaml), file: "laughs.yaml")
        }
        // An undefined alias is a YAML error from libyaml, not a crash.
        expectInputError(file: "alias.yaml", containing: ["not valid YAML"]) { () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes("a: *nothing\n"), file: "alias.yaml")
        }
    }

    @Test("Anchor-like and bracket-like text inside quotes, comments and block scalars is not refused")
    func lookalikes() throws {
        let yaml = """
            apiVersion: metallb.io/v1beta1   # [[[[ &comment
            kind: BGPPeer
            metadata:
              name: p
              annotations:
                note: |
                  {[[[[ &not-an-anchor *nor-an-alias
                    "unbalanced
                quoted: "&x [[[ {{{"
                single: 'it''s &y ['
            spec: {peerAddress: 203.0.113.9, peerASN: 65001, myASN: 65000, password: "&&[["}
            """
        let configuration = try MetalLBConfiguration.parse(Inputs.bytes(yaml), file: "ok.yaml")
        #expect(configuration.bgpPeers.first?.authentication == .password("&&[["))
    }

    @Test("Too many values, counted across documents")
    func tooManyValues() {
        var limits = InputLimits.standard
        limits.maximumValues = 1000
        let yaml = (0..<200).map { "- [\($0), \($0), \($0), \($0), \($0)]" }.joined(separator: "\n")
        expectInputError(file: "wide.yaml", containing: ["more than 1000 values"]) { () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes(yaml), file: "wide.yaml", limits: limits)
        }
    }

    @Test("Duplicate keys and non-string keys are errors, not silent choices")
    func keys() {
        expectInputError(file: "dup.yaml", containing: ["duplicate key"]) { () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes("kind: A\nkind: B\n"), file: "dup.yaml")
        }
        expectInputError(file: "key.yaml", containing: ["mapping key that is not a string"]) {
            () throws(KubeInputError) in
            _ = try MetalLBConfiguration.parse(Inputs.bytes("? [a, b]\n: c\n"), file: "key.yaml")
        }
    }
}
