import BGPDecodeKit
import Foundation
import TestSupport
import Testing

/// `bgpdecode listen` peering with a real BIRD 2 in another network namespace (203.0.113.0/24 and
/// fd99:5::/64 on a veth pair). What BIRD holds and says (`birdc show route export`, `show protocols all`)
/// is the oracle; the attributes asserted are the ones BIRD's configuration sets.
@Suite("bgpdecode listen with BIRD", .serialized)
struct ListenTests {
    static let listenerV4 = "203.0.113.254"
    static let birdV4 = "203.0.113.1"
    static let birdAS = "4200000001"

    /// Two namespaces: L (the listener) and B (BIRD).
    static func lab() throws -> (ListenLab, String, String) {
        let lab = try ListenLab()
        let listener = try lab.namespace("l")
        let bird = try lab.namespace("b")
        try lab.link(listener, 0, ["\(listenerV4)/24", "fd99:5::254/64"], bird, 0, ["\(birdV4)/24", "fd99:5::1/64"])
        return (lab, listener, bird)
    }

    /// BIRD exporting two IPv4 and one IPv6 host route with a community and a large community, quick to
    /// reconnect (the defaults wait a minute after an error).
    static func birdConfig(peerAS: String = "64512", holdTime: Int = 9, extra: String = "") -> String {
        """
        protocol static s4 { ipv4; route 198.51.100.10/32 blackhole; route 198.51.100.11/32 blackhole; }
        protocol static s6 { ipv6; route 2001:db8:51::10/128 blackhole; }
        filter mark { bgp_community.add((65000,100)); bgp_large_community.add((4200000001,1,2)); accept; }
        protocol bgp lis {
            local \(birdV4) as \(birdAS); neighbor \(listenerV4) as \(peerAS);
            hold time \(holdTime); keepalive time \(max(1, holdTime / 3));
            connect delay time 1; connect retry time 1; error wait time 1, 2; \(extra)
            ipv4 { import none; export filter mark; };
            ipv6 { import none; export filter mark; next hop address fd99:5::1; };
        }
        """
    }

    static func listen(_ lab: ListenLab, _ namespace: String, name: String = "listen", _ arguments: [String]) throws
        -> Process
    {
        try lab.start(name, in: namespace, try BGPHelpTests.binary(),
            ["listen", "--local-as", "64512", "--router-id", listenerV4] + arguments)
    }

    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    static func announced(_ events: [[String: Any]]) -> Set<String> {
        var table: Set<String> = []
        for event in events where event["speaker"] as? String == birdV4 {
            guard let prefix = event["prefix"] as? String else { continue }
            if event["event"] as? String == "announce" { table.insert(prefix) }
            if event["event"] as? String == "withdraw" { table.remove(prefix) }
        }
        return table
    }

    /// The prefixes BIRD exports to the listener, by BIRD's own account.
    static func birdExports(_ lab: ListenLab) throws -> Set<String> {
        let output = try lab.birdc("bird", "show route export lis").output
        return Set(output.split(separator: "\n").compactMap { line in
            let first = line.split(separator: " ").first.map(String.init) ?? ""
            return first.contains("/") ? first : nil
        })
    }

    @Test func routesWithdrawalReconnectAndShutdown() throws {
        let (lab, listenerNS, birdNS) = try Self.lab()
        defer { lab.tearDown() }
        let listener = try Self.listen(lab, listenerNS, ["--peer", Self.birdV4, "--peer-as", Self.birdAS, "--json"])
        try lab.startBird("bird", in: birdNS, routerID: Self.birdV4, Self.birdConfig())
        let all: Set<String> = ["198.51.100.10/32", "198.51.100.11/32", "2001:db8:51::10/128"]
        let received = lab.waitFor(15) { Self.announced(Self.jsonLines(lab.read("listen.out"))) == all }
        #expect(received,
            "announced: \(Self.announced(Self.jsonLines(lab.read("listen.out")))); \(lab.read("listen.err"))")
        #expect(try Self.birdExports(lab) == all)
        let events = Self.jsonLines(lab.read("listen.out"))
        #expect(events.first?["event"] as? String == "start" && events.first?["tool"] as? String == "bgpdecode")
        for event in events where event["event"] as? String == "announce" {
            #expect(strings(event["communities"]) == ["65000:100"])
            #expect(strings(event["large_communities"]) == ["4200000001:1:2"])
            #expect(event["as_path"] as? String == Self.birdAS)
        }
        let birdOpen = events.first { $0["event"] as? String == "open" && $0["speaker"] as? String == Self.birdV4 }
        #expect(birdOpen?["as"] as? Int == 4_200_000_001)

        // A withdrawal: BIRD stops exporting the IPv4 statics.
        try lab.birdc("bird", "disable s4")
        let withdrawn = lab.waitFor(10) {
            Self.announced(Self.jsonLines(lab.read("listen.out"))) == ["2001:db8:51::10/128"]
        }
        #expect(withdrawn)
        #expect(try Self.birdExports(lab) == ["2001:db8:51::10/128"])
        try lab.birdc("bird", "enable s4")
        #expect(lab.waitFor(10) { Self.announced(Self.jsonLines(lab.read("listen.out"))) == all })

        // A reconnect: the old session's routes are withdrawn, the new session announces them again.
        let opensBefore = Self.jsonLines(lab.read("listen.out")).filter { $0["event"] as? String == "open" }.count
        try lab.birdc("bird", "restart lis")
        let reconnected = lab.waitFor(15) {
            let events = Self.jsonLines(lab.read("listen.out"))
            return events.filter { $0["event"] as? String == "open" }.count >= opensBefore + 2
                && Self.announced(events) == all
        }
        #expect(reconnected, "\(lab.read("listen.err"))")
        let down = Self.jsonLines(lab.read("listen.out")).filter {
            $0["event"] as? String == "session_down" && $0["speaker"] as? String == Self.birdV4
        }
        #expect(down.contains { $0["withdrawn"] as? Int == 3 })

        // SIGINT: Cease/Administrative Shutdown to BIRD, then the final table.
        kill(listener.processIdentifier, SIGINT)
        #expect(lab.exitStatus(listener, within: 5) == 0)
        let protocols = try lab.birdc("bird", "show protocols all lis").output
        #expect(protocols.contains("bgpdecode listen stopped"), "\(protocols)")
        let table = Self.jsonLines(lab.read("listen.out")).filter { $0["event"] as? String == "route" }
        #expect(Set(table.compactMap { $0["prefix"] as? String }) == all)
    }

    @Test func wrongPeerASGetsBadPeerAS() throws {
        let (lab, listenerNS, birdNS) = try Self.lab()
        defer { lab.tearDown() }
        let listener = try Self.listen(lab, listenerNS, ["--peer", Self.birdV4, "--peer-as", "65999", "--json"])
        try lab.startBird("bird", in: birdNS, routerID: Self.birdV4, Self.birdConfig())
        let logged = lab.waitFor(10) {
            lab.read("listen.err").contains(
                "\(Self.birdV4) says AS \(Self.birdAS), expected 65999: check the BGPPeer's myASN/peerASN")
        }
        #expect(logged, "\(lab.read("listen.err"))")
        // BIRD's own account of the NOTIFICATION it received.
        let birdSaw = try lab.waitFor(5) {
            try lab.birdc("bird", "show protocols all lis").output.contains("Bad peer AS")
        }
        #expect(birdSaw, "\((try? lab.birdc("bird", "show protocols all lis").output) ?? "")")
        let sent = Self.jsonLines(lab.read("listen.out")).first { $0["event"] as? String == "notification" }
        #expect(sent?["speaker"] as? String == Self.listenerV4)
        #expect(sent?["code"] as? Int == 2 && sent?["subcode"] as? Int == 2)
        kill(listener.processIdentifier, SIGTERM)
        #expect(lab.exitStatus(listener, within: 5) == 0)
    }

    @Test func holdTimerExpiresWhenThePeerStops() throws {
        let (lab, listenerNS, birdNS) = try Self.lab()
        defer { lab.tearDown() }
        let listener = try Self.listen(lab, listenerNS,
            ["--peer", Self.birdV4, "--peer-as", Self.birdAS, "--hold-time", "3", "--json"])
        let bird = try lab.startBird("bird", in: birdNS, routerID: Self.birdV4, Self.birdConfig(holdTime: 9))
        let established = lab.waitFor(10) { lab.read("listen.err").contains("session established (hold time 3 s)") }
        #expect(established, "\(lab.read("listen.err"))")
        // The routes first, so the expiry has something to withdraw.
        #expect(lab.waitFor(10) { Self.announced(Self.jsonLines(lab.read("listen.out"))).count == 3 })
        kill(bird.processIdentifier, SIGSTOP)
        defer { kill(bird.processIdentifier, SIGCONT) }
        let expired = lab.waitFor(6) { lab.read("listen.err").contains("sent Hold Timer Expired (4/0)") }
        #expect(expired, "\(lab.read("listen.err"))")
        let events = Self.jsonLines(lab.read("listen.out"))
        #expect(events.contains { $0["event"] as? String == "notification" && $0["code"] as? Int == 4 })
        #expect(events.contains {
            $0["event"] as? String == "session_down" && $0["speaker"] as? String == Self.birdV4
                && $0["withdrawn"] as? Int == 3
        })
        kill(listener.processIdentifier, SIGINT)
        #expect(lab.exitStatus(listener, within: 5) == 0)
    }

    @Test func expectPrefixExitCodes() throws {
        let (lab, listenerNS, birdNS) = try Self.lab()
        defer { lab.tearDown() }
        try lab.startBird("bird", in: birdNS, routerID: Self.birdV4, Self.birdConfig())
        let peer = ["--peer", Self.birdV4, "--peer-as", Self.birdAS]
        let started = Date()
        let met = try Self.listen(lab, listenerNS, name: "met",
            peer + ["--expect-prefix", "198.51.100.10/32", "--expect-prefix", "198.51.100.11/32 203.0.113.1",
                "--expect-prefix", "2001:db8:51::10/128 fd99:5::1", "--wait", "20"])
        #expect(lab.exitStatus(met, within: 25) == 0, "\(lab.read("met.out")) \(lab.read("met.err"))")
        #expect(Date().timeIntervalSince(started) < 15, "the verdict did not come as soon as the prefixes did")
        #expect(lab.read("met.out").contains("OK"))
        let missing = try Self.listen(lab, listenerNS, name: "missing",
            peer + ["--expect-prefix", "198.51.100.10/32", "--expect-prefix", "198.51.100.99/32", "--wait", "5"])
        #expect(lab.exitStatus(missing, within: 12) == BGPVerification.missingCode,
            "\(lab.read("missing.out")) \(lab.read("missing.err"))")
        #expect(lab.read("missing.out").contains("MISSING 198.51.100.99/32"), "\(lab.read("missing.out"))")
    }

    @Test func md5RightAndWrongPassword() throws {
        let (lab, listenerNS, birdNS) = try Self.lab()
        defer { lab.tearDown() }
        try lab.startBird("bird", in: birdNS, routerID: Self.birdV4, Self.birdConfig(extra: "password \"s3cret\";"))
        let peer = ["--peer", Self.birdV4, "--peer-as", Self.birdAS, "--expect-prefix", "198.51.100.10/32",
            "--expect-prefix", "198.51.100.11/32", "--expect-prefix", "2001:db8:51::10/128"]
        let right = try Self.listen(lab, listenerNS, name: "right",
            peer + ["--md5-password", "\(Self.birdV4)=s3cret", "--wait", "15"])
        #expect(lab.exitStatus(right, within: 20) == 0, "\(lab.read("right.out")) \(lab.read("right.err"))")
        // With the wrong key the kernel drops BIRD's SYNs: no session at all by the deadline.
        let wrong = try Self.listen(lab, listenerNS, name: "wrong",
            peer + ["--md5-password", "\(Self.birdV4)=wrong", "--wait", "4"])
        #expect(lab.exitStatus(wrong, within: 10) == BGPVerification.noSessionCode,
            "\(lab.read("wrong.out")) \(lab.read("wrong.err"))")
        #expect(!lab.read("wrong.err").contains("connected"))
        #expect(try !lab.birdc("bird", "show protocols lis").output.contains("Established"))
    }

    @Test func unknownPeerIsRejected() throws {
        let (lab, listenerNS, birdNS) = try Self.lab()
        defer { lab.tearDown() }
        let listener = try Self.listen(lab, listenerNS, ["--peer", "203.0.113.7", "--peer-as", Self.birdAS])
        try lab.startBird("bird", in: birdNS, routerID: Self.birdV4, Self.birdConfig())
        let refused = lab.waitFor(10) { lab.read("listen.err").contains("refused a connection from \(Self.birdV4)") }
        #expect(refused, "\(lab.read("listen.err"))")
        let birdSaw = try lab.waitFor(5) {
            try lab.birdc("bird", "show protocols all lis").output.contains("Connection rejected")
        }
        #expect(birdSaw, "\((try? lab.birdc("bird", "show protocols all lis").output) ?? "")")
        kill(listener.processIdentifier, SIGINT)
        #expect(lab.exitStatus(listener, within: 5) == 0)
    }
}

/// `bgpdecode listen --help`: fits 80 columns and teaches (errors, exit statuses, examples).
@Suite("bgpdecode listen --help")
struct ListenHelpTests {
    static func help(columns: Int) throws -> [String] {
        try BGPHelpTests.help(columns: columns, ["listen"])
    }

    @Test func fitsEightyColumnsAndTeaches() throws {
        let lines = try Self.help(columns: 80)
        for line in lines { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
        #expect(HelpText.discussion(lines) == HelpText.discussion(try Self.help(columns: 200)))
        let text = lines.joined(separator: "\n")
        for code in ["0", "1", "2", "64", "\(BGPVerification.missingCode)", "\(BGPVerification.wrongNextHopCode)",
            "\(BGPVerification.unexpectedCode)", "\(BGPVerification.noSessionCode)"]
        {
            #expect(text.contains("\n  \(code) "), "exit status \(code) is not explained")
        }
        for needle in ["Examples:", "--md5-password", "Bad Peer AS", "Hold Timer Expired", "myASN", "--wait",
            "Administrative Shutdown", "--accept-any"]
        {
            #expect(text.contains(needle), "listen --help lacks \(needle)")
        }
    }
}
