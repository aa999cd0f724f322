import GarpWatchKit
import PacketCore
import Testing

/// A `--node-map` text file with CR LF line ends (written on Windows, or `kubectl ... > nodes.txt` through
/// some terminals). Swift reads "\r\n" as one Character, so splitting on "\n" alone saw one bad line.
struct NodeMapLineEndingTests {
    @Test func crlfLinesAreLines() throws {
        let nodes = try NodeMap(
            parsing: "# lab\r\n02:76:73:03:00:02 node1\r\n\r\nnode2 02:76:73:03:00:03\r\n", source: "nodes.txt")
        #expect(nodes.name(of: try #require(MACAddress("02:76:73:03:00:02"))) == "node1")
        #expect(nodes.name(of: try #require(MACAddress("02:76:73:03:00:03"))) == "node2")
        #expect(throws: NodeMap.ParseError.self) {
            try NodeMap(parsing: "02:76:73:03:00:02 node1\r\nnot a pair here\r\n", source: "nodes.txt")
        }
        do {
            _ = try NodeMap(parsing: "02:76:73:03:00:02 node1\r\nnode2\r\n", source: "nodes.txt")
        } catch {
            #expect(error.description.contains("line 2"), "\(error.description)")
        }
    }
}
