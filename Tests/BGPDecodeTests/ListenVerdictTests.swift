import BGPDecodeKit
import Foundation
import TestSupport
import Testing

/// Issue 16 item 9: `bgpdecode listen --expect-*` against a real BIRD 2 whose AS is not --peer-as: the
/// session never comes up (Bad Peer AS), so the verdict is 13 (no session), not 10 (missing), although
/// BIRD's OPEN reached the decoder. Namespaces are named vs-bgp-... (ListenLab's namespacePrefix).
@Suite("bgpdecode listen verdicts (issue 16)", .serialized)
struct ListenVerdictTests {
    @Test func aWrongPeerASIsNoSessionNotMissing() throws {
        let lab = try ListenLab(namespacePrefix: "vs-bgp-")
        defer { lab.tearDown() }
        let listenerNS = try lab.namespace("l")
        let birdNS = try lab.namespace("b")
        #expect(listenerNS.hasPrefix("vs-bgp-"))
        try lab.link(listenerNS, 0, ["\(ListenTests.listenerV4)/24"], birdNS, 0, ["\(ListenTests.birdV4)/24"])
        try lab.startBird("bird", in: birdNS, routerID: ListenTests.birdV4, ListenTests.birdConfig())
        let wrong = try ListenTests.listen(lab, listenerNS, name: "wrong",
            ["--peer", ListenTests.birdV4, "--peer-as", "65999", "--expect-prefix", "198.51.100.10/32", "--wait", "4",
                "--json"])
        #expect(lab.exitStatus(wrong, within: 12) == BGPVerification.noSessionCode,
            "\(lab.read("wrong.out")) \(lab.read("wrong.err"))")
        // The OPEN did arrive and was refused: this is the case that used to say 10.
        #expect(lab.read("wrong.err").contains("expected 65999"), "\(lab.read("wrong.err"))")
        let verdict = ListenTests.jsonLines(lab.read("wrong.out")).last
        #expect(verdict?["event"] as? String == "verdict")
        #expect(verdict?["exit_status"] as? Int == Int(BGPVerification.noSessionCode))
    }

    /// SIGTERM before the verdict: exit 2, and the JSON output ends with a summary carrying that status.
    @Test func anInterruptedVerificationSaysSo() throws {
        let port = 20000 + (getpid() &+ 4243) % 20000
        let process = try RunningProcess(try Tool.bgpdecode(), ["listen", "--local-as", "64512", "--router-id",
            "203.0.113.254", "--bind", "127.0.0.2:\(port)", "--peer", "127.0.0.1", "--peer-as", "65001",
            "--expect-prefix", "198.51.100.10/32", "--wait", "60", "--json"])
        usleep(500_000)
        #expect(process.process.isRunning)
        kill(process.process.processIdentifier, SIGTERM)
        let result = process.wait()
        #expect(result.status == 2, "\(result.standardError)")
        let summary = try #require(try JSONLines.events(result.standardOutput, tool: "bgpdecode").last)
        #expect(summary["event"] as? String == "summary")
        #expect(summary["exit_status"] as? Int == 2 && summary["interrupted"] as? Bool == true)
    }
}
