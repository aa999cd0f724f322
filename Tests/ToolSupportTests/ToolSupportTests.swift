import PacketCore
import Testing
import ToolSupport

@Suite("ToolSupport")
struct ToolSupportTests {
    @Test func jsonLinesKeepKeyOrderAndEscape() throws {
        var line = JSONLine()
        line.add("event", "takeover")
        line.add("ip", IPv4Address("198.51.100.20"))
        line.add("gap_ms", 812.5)
        line.add("count", 3)
        line.add("ok", true)
        line.add("missing", nil as String?)
        line.add("text", "a \"quoted\"\\ line\n\u{1}")
        line.add("macs", list: [MACAddress.broadcast])
        line.add("nan", Double.nan)
        #expect(line.text == #"{"event":"takeover","ip":"198.51.100.20","gap_ms":812.5,"count":3,"ok":true,"text":"a \"quoted\"\\ line\n\u0001","macs":["ff:ff:ff:ff:ff:ff"],"nan":null}"#)
    }

    @Test(arguments: [
        (0.0, 3, "0.000"), (812.3456, 3, "812.346"), (-1.5, 1, "-1.5"), (0.0004, 3, "0.000"), (2.0, 0, "2"),
        (1_000_000.25, 2, "1000000.25"), (-0.0001, 2, "0.00"),
    ])
    func fixedFormatting(value: Double, decimals: Int, text: String) {
        #expect(Formatting.fixed(value, decimals: decimals) == text)
    }

    @Test func millisecondsFromNanoseconds() {
        #expect(Formatting.milliseconds(812_345_678) == "812.346")
        #expect(Formatting.milliseconds(0) == "0.000")
    }

    /// The common keys come first, in the documented order, and `interface` only where given.
    @Test func envelopeKeysComeFirstInOrder() {
        let envelope = JSONEnvelope(host: "node\"2")
        var line = envelope.object("takeover", time: Timestamp(seconds: 1, nanoseconds: 5), interface: "eth0")
        line.add("ip", "198.51.100.20")
        #expect(line.text == #"{"event":"takeover","time":"1970-01-01T00:00:01.000000005Z","host":"node\"2","#
            + #""interface":"eth0","ip":"198.51.100.20"}"#)
        let start = envelope.start(tool: "garpwatch", time: .zero)
        #expect(start.text == #"{"event":"start","time":"1970-01-01T00:00:00.000000000Z","host":"node\"2","#
            + #""tool":"garpwatch","version":"\#(VipscopeVersion.string)","#
            + #""schema_version":\#(JSONEnvelope.schemaVersion)}"#)
        var body = JSONLine()
        body.add("a", 1)
        var merged = envelope.object("x", time: .zero)
        merged.append(contentsOf: body)
        merged.append(contentsOf: JSONLine())
        #expect(merged.text.hasSuffix(#""host":"node\"2","a":1}"#))
    }

    /// --node-name, else NODE_NAME, else the host name; empty values do not count.
    @Test func nodeNameFallsBackToTheEnvironmentThenTheHostName() throws {
        #expect(NodeNameOptions.resolve(flag: "n1", environment: "n2") == "n1")
        #expect(NodeNameOptions.resolve(flag: nil, environment: "n2") == "n2")
        #expect(NodeNameOptions.resolve(flag: "", environment: "") == NodeNameOptions.hostname())
        let host = NodeNameOptions.hostname()
        #expect(!host.isEmpty && !host.contains("\0"))
        let parsed = try NodeNameOptions.parse(["--node-name", "worker-3"])
        #expect(parsed.resolved == "worker-3" && parsed.envelope.host == "worker-3")
        #expect(throws: (any Error).self) { try NodeNameOptions.parse(["--node-name", ""]) }
    }
}
