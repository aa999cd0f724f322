import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// tcpdump's own test captures (BGP, ARP, QinQ, ICMPv6, raw IP, fuzzer-found malformed inputs): every frame
/// goes through the core without a crash or hang, and what the files are known to contain is found.
@Suite("tcpdump corpus")
struct CorpusTests {
    static let corpusFiles = Paths.files(in: Paths.tcpdumpCorpus, extensions: ["pcap", "pcapng"])

    @Test func corpusIsPresent() {
        // The corpus is vendored in Tests/Corpus/tcpdump; a missing one is a broken checkout, not a pass.
        #expect(Self.corpusFiles.count >= 40, "expected tcpdump's captures in \(Paths.tcpdumpCorpus.path)")
    }

    @Test(arguments: corpusFiles.map(\.lastPathComponent))
    func everyFrameDecodesWithoutCrashing(fileName: String) throws {
        let url = Paths.tcpdumpCorpus.appendingPathComponent(fileName)
        var frames: [DecodedFrame] = []
        do {
            frames = try decodeFile(url)
        } catch let error as CaptureError {
            // Some fuzzer-made files are cut short; libpcap reports it, and the frames before it were read.
            #expect(error.kind == .truncatedFile || error.kind == .notACapture, "\(fileName): \(error)")
            return
        }
        for frame in frames {
            let summary = frame.packet.summary
            #expect(!summary.isEmpty)
            #expect(frame.packet.payload.upperBound <= frame.capturedLength)
            if let issue = frame.packet.issue { #expect(issue.offset <= frame.capturedLength, "\(fileName)#\(frame.number)") }
        }
    }

    /// Known contents, as tcpdump's expected output files state them.
    @Test func knownContentsAreDecoded() throws {
        // 802.1ad_QinQ.out: service tag 0x88a8 with VLAN ids, then customer tags.
        let qinq = try decodeFile(Paths.tcpdumpCorpus.appendingPathComponent("802.1ad_QinQ.pcap"))
        #expect(!qinq.isEmpty)
        #expect(qinq.allSatisfy { $0.packet.link.vlans.count == 2 && $0.packet.link.vlans.first?.tpid == .qinq })
        let out = try String(contentsOf: Paths.tcpdumpCorpus.appendingPathComponent("802.1ad_QinQ.out"), encoding: .utf8)
        let firstLine = try #require(out.split(separator: "\n").first)
        let outerID = try #require(qinq.first?.packet.link.vlans.first?.id)
        #expect(firstLine.contains("vlan \(outerID)"), "tcpdump says: \(firstLine)")
    }
}
