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
}
