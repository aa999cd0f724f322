import BGPDecodeKit
import Foundation
import Testing

/// `bgpdecode -i eth0` in BIRD's namespace while BIRD 2 and FRR's bgpd peer over a veth pair. The oracle is
/// BIRD's own view: what it exports to FRR (`show route export frr`) and what it imported from FRR
/// (`show route protocol frr`).
@Suite("bgpdecode -i on a veth while BIRD and FRR peer", .serialized)
struct LiveCaptureTests {
    @Test func announcementsOfBothSpeakersAppear() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/lib/frr/bgpd"),
            "FRR is missing (scripts/setup)")
        let lab = try ListenLab()
        defer { lab.tearDown() }
        let birdNS = try lab.namespace("b")
        let frrNS = try lab.namespace("f")
        try lab.link(birdNS, 0, ["203.0.113.1/24", "fd99:5::1/64"], frrNS, 0, ["203.0.113.2/24", "fd99:5::2/64"])
        let capture = try lab.start("live", in: birdNS, try BGPHelpTests.binary(), ["-i", "eth0", "--json"])
        // libpcap needs a moment to attach before the first SYN.
        #expect(lab.waitFor(5) { lab.read("live.err").isEmpty && capture.isRunning })
        usleep(500_000)

        try lab.startBird("bird", in: birdNS, routerID: "203.0.113.1", """
            protocol static s4 { ipv4; route 198.51.100.10/32 blackhole; route 198.51.100.11/32 blackhole; }
            protocol static s6 { ipv6; route 2001:db8:51::10/128 blackhole; }
            filter mark { bgp_community.add((65000,100)); bgp_large_community.add((4200000001,1,2)); accept; }
            protocol bgp frr {
                local 203.0.113.1 as 4200000001; neighbor 203.0.113.2 as 64520;
                hold time 9; keepalive time 3; connect delay time 1; connect retry time 1; error wait time 1, 2;
                ipv4 { import all; export filter mark; };
                ipv6 { import all; export filter mark; next hop address fd99:5::1; };
            }
            """)
        let frrConfig = """
            frr defaults traditional
            hostname bl-frr
            !
            route-map OUT permit 10
             set community 64520:7
             set large-community 64520:1:7
             set ipv6 next-hop global fd99:5::2
            !
            route-map NONE deny 10
            !
            router bgp 64520
             bgp router-id 203.0.113.2
             no bgp ebgp-requires-policy
             no bgp network import-check
             no bgp default ipv4-unicast
             neighbor 203.0.113.1 remote-as 4200000001
             neighbor 203.0.113.1 timers 3 9
             neighbor 203.0.113.1 timers connect 1
             address-family ipv4 unicast
              network 198.51.100.20/32
              neighbor 203.0.113.1 activate
              neighbor 203.0.113.1 route-map OUT out
              neighbor 203.0.113.1 route-map NONE in
             exit-address-family
             address-family ipv6 unicast
              network 2001:db8:51::20/128
              neighbor 203.0.113.1 activate
              neighbor 203.0.113.1 route-map OUT out
              neighbor 203.0.113.1 route-map NONE in
             exit-address-family
            !
            """
        // FRR takes nothing from BIRD (route-map NONE in): it would otherwise send BIRD's routes back.
        try frrConfig.write(toFile: lab.path("frr.conf"), atomically: true, encoding: .utf8)
        try lab.start("bgpd", in: frrNS, "/usr/lib/frr/bgpd", ["-Z", "-n", "-S", "-f", lab.path("frr.conf"),
            "-i", lab.path("bgpd.pid"), "--vty_socket", lab.directory.path, "--log", "file:\(lab.path("bgpd.log"))"])

        let fromBird: Set<String> = ["198.51.100.10/32", "198.51.100.11/32", "2001:db8:51::10/128"]
        let fromFRR: Set<String> = ["198.51.100.20/32", "2001:db8:51::20/128"]
        func announced(_ speaker: String) -> Set<String> {
            var table: Set<String> = []
            for event in ListenTests.jsonLines(lab.read("live.out")) where event["speaker"] as? String == speaker {
                guard let prefix = event["prefix"] as? String else { continue }
                if event["event"] as? String == "announce" { table.insert(prefix) }
                if event["event"] as? String == "withdraw" { table.remove(prefix) }
            }
            return table
        }
        let seen = lab.waitFor(20) { announced("203.0.113.1") == fromBird && announced("203.0.113.2") == fromFRR }
        #expect(seen, "BIRD: \(announced("203.0.113.1")), FRR: \(announced("203.0.113.2")); \(lab.read("live.err"))")

        // BIRD's own account of both directions.
        func prefixes(_ output: String) -> Set<String> {
            Set(output.split(separator: "\n").compactMap { line in
                let first = line.split(separator: " ").first.map(String.init) ?? ""
                return first.contains("/") ? first : nil
            })
        }
        #expect(prefixes(try lab.birdc("bird", "show route export frr").output) == fromBird)
        #expect(lab.waitFor(5) {
            prefixes((try? lab.birdc("bird", "show route protocol frr").output) ?? "") == fromFRR
        })
        let frrRoutes = ListenTests.jsonLines(lab.read("live.out")).filter {
            $0["event"] as? String == "announce" && $0["speaker"] as? String == "203.0.113.2"
        }
        for route in frrRoutes {
            // A live capture's objects name the interface they were captured on.
            #expect(route["interface"] as? String == "eth0")
            #expect(strings(route["communities"]) == ["64520:7"])
            #expect(strings(route["large_communities"]) == ["64520:1:7"])
        }

        kill(capture.processIdentifier, SIGINT)
        #expect(lab.exitStatus(capture, within: 5) == 0)
        // The closing summary: one "session" object per direction.
        let sessions = ListenTests.jsonLines(lab.read("live.out")).filter { $0["event"] as? String == "session" }
        #expect(sessions.count == 2, "\(lab.read("live.out").suffix(600))")
    }
}
