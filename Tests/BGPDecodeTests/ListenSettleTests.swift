import BGPDecodeKit
import Foundation
import TestSupport
import Testing

/// Issue 16 item 8 with a real speaker: GoBGP (without graceful restart, so it sends no End-of-RIB, like
/// MetalLB's native speaker) announces 198.51.100.60/32, then 198.51.100.61/32 four seconds later. A
/// verdict on `--expect-prefix .60` must wait for the speaker to settle and so see .61 (UNEXPECTED, 12);
/// it used to say OK right after .60. Namespaces are named vs-bg2-... (ListenLab's namespacePrefix).
@Suite("bgpdecode listen waits for the speaker to settle (issue 16 item 8)", .serialized)
struct ListenSettleTests {
    static let gobgpV4 = "203.0.113.1"
    static let gobgpAS = "65010"

    static func gobgpConfig() -> String {
        """
        [global.config]
          as = \(gobgpAS)
          router-id = "\(gobgpV4)"
          port = -1
        [[neighbors]]
          [neighbors.config]
            neighbor-address = "\(ListenTests.listenerV4)"
            peer-as = 64512
          [neighbors.timers.config]
            connect-retry = 1
          [neighbors.transport.config]
            local-address = "\(gobgpV4)"
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "ipv4-unicast"
        """
    }

    @Test func aSecondPrefixSecondsLaterIsSeenBeforeTheVerdict() throws {
        for tool in ["/usr/bin/gobgpd", "/usr/bin/gobgp"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing (scripts/setup)")
        }
        let lab = try ListenLab(namespacePrefix: "vs-bg2-")
        defer { lab.tearDown() }
        let listenerNS = try lab.namespace("l")
        let gobgpNS = try lab.namespace("g")
        #expect(listenerNS.hasPrefix("vs-bg2-"))
        try lab.link(listenerNS, 0, ["\(ListenTests.listenerV4)/24"], gobgpNS, 0, ["\(Self.gobgpV4)/24"])
        let listener = try ListenTests.listen(lab, listenerNS, name: "settle",
            ["--peer", Self.gobgpV4, "--peer-as", Self.gobgpAS, "--expect-prefix", "198.51.100.60/32",
                "--wait", "40", "--settle", "7", "--json"])
        try Self.gobgpConfig().write(toFile: lab.path("gobgpd.conf"), atomically: true, encoding: .utf8)
        try lab.start("gobgpd", in: gobgpNS, "/usr/bin/gobgpd",
            ["-f", lab.path("gobgpd.conf"), "-p", "--api-hosts", "127.0.0.1:50051", "--pprof-disable"])
        func gobgp(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try ListenLab.run("/usr/sbin/ip", ["netns", "exec", gobgpNS, "/usr/bin/gobgp"] + arguments)
        }
        var neighbor = ""
        let established = lab.waitFor(30) {
            neighbor = (try? gobgp(["neighbor", ListenTests.listenerV4]))?.output ?? ""
            return neighbor.lowercased().contains("state = established")
        }
        try #require(established, "\(neighbor) \(lab.read("gobgpd.out")) \(lab.read("settle.err"))")
        let first = try gobgp(["global", "rib", "add", "198.51.100.60/32"])
        try #require(first.status == 0, "\(first.output)")
        let announcedAt = Date()
        // The old verdict came as soon as .60 was there: the listener must still be running 3 s later.
        let exitedEarly = lab.waitFor(3.5) { !listener.isRunning }
        #expect(!exitedEarly, "verdict before the speaker finished: \(lab.read("settle.out"))")
        usleep(500_000)
        let second = try gobgp(["global", "rib", "add", "198.51.100.61/32"])
        try #require(second.status == 0, "\(second.output)")
        let status = lab.exitStatus(listener, within: 30)
        #expect(status == BGPVerification.unexpectedCode, "\(lab.read("settle.out")) \(lab.read("settle.err"))")
        let verdict = ListenTests.jsonLines(lab.read("settle.out")).first { $0["event"] as? String == "verdict" }
        #expect(verdict?["unexpected"] as? [String] == ["198.51.100.61/32"], "\(lab.read("settle.out"))")
        #expect(verdict?["matched"] as? [String] == ["198.51.100.60/32"])
        // The verdict waited for --settle after the last UPDATE, not for --wait.
        #expect(Date().timeIntervalSince(announcedAt) < 25)
    }
}
