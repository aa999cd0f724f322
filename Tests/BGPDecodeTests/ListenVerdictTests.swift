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
        #expect(verdict?["type"] as? String == "verify")
        #expect(verdict?["status"] as? Int == Int(BGPVerification.noSessionCode))
    }
}
