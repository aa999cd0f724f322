import BGPDecodeKit
import Testing

/// An `--expect-file` written on Windows or pasted from a browser ends its lines with CR LF. Swift reads
/// "\r\n" as one Character, so splitting on "\n" alone saw the whole file as one bad line.
struct ExpectationLineEndingTests {
    @Test func crlfLinesAreLines() throws {
        let parsed = try BGPExpectation.parseFile("# vips\r\n198.51.100.10/32 203.0.113.1\r\n\r\n198.51.100.11/32\r\n").get()
        #expect(parsed.map(\.description) == ["198.51.100.10/32 via 203.0.113.1", "198.51.100.11/32"])
        // A bad line is still found, with its own number and only its own text.
        guard case .failure(let bad) = BGPExpectation.parseFile("198.51.100.10/32\r\nnot-a-prefix\r\n") else {
            Issue.record("a bad line must be reported")
            return
        }
        #expect(bad.number == 2)
        #expect(!bad.text.contains("198.51.100.10"))
    }
}
