import Foundation
import Netlink
import PacketCore
import TestSupport
import Testing

/// `addrinspect has IP` in the node lab: each verdict (and its documented exit status) follows from what the lab
/// set up, and the ARP sysctls it reports are the namespace's own, as `sysctl` inside it reads them.
@Suite(.serialized)
struct HasTests {
    static let cases: [(ip: String, verdict: String, status: Int32)] = [
        ("198.51.100.10", "local", 0),  // on kube-ipvs0
        ("203.0.113.5", "local", 0),  // secondary on v0
        ("198.51.100.33", "local", 0),  // AnyIP: local route 198.51.100.32/28, on no interface
        ("2001:db8::10", "local", 0),
        ("203.0.113.7", "neighbour-known", 11),  // permanent neighbour entry
        ("fd99::20", "neighbour-known", 11),
        ("203.0.113.77", "not-local", 10),  // on-link, no neighbour entry
        ("198.51.100.70", "not-local", 10),  // via 203.0.113.253
        ("198.51.100.200", "unknown", 12),  // blackhole 198.51.100.128/25
        ("2001:db8:9::1", "unknown", 12),  // no IPv6 default route
    ]

    @Test func verdictsAndExitStatuses() throws {
        let node = try NodeLab(tag: "h")
        defer { node.tearDown() }
        for item in Self.cases {
            let output = try Support.addrinspect(["has", item.ip, "--json", "--netns", node.name])
            let report = try #require(try JSONLines.objects(output.standardOutput).first, "\(item.ip): no output")
            #expect(report["verdict"] as? String == item.verdict, "\(item.ip)")
            #expect(output.status == item.status, "\(item.ip): exit \(output.status)")
            #expect((report["exit_code"] as? NSNumber)?.int32Value == item.status, "\(item.ip)")
        }
        // Where it is held, and the MAC held for a neighbour, as ip shows them.
        let vip = try JSONLines.objects(
            try Support.addrinspect(["has", "198.51.100.10", "--json", "--netns", node.name]).standardOutput)[0]
        let holders = try #require(vip["addresses"] as? [[String: Any]])
        #expect(holders.map { $0["dev"] as? String } == ["kube-ipvs0"])
        #expect((holders.first?["link_flags"] as? [String])?.contains("NOARP") == true)
        let neighbour = try JSONLines.objects(
            try Support.addrinspect(["has", "203.0.113.7", "--json", "--netns", node.name]).standardOutput)[0]
        let ipNeighbour = try node.lab.ipJSON("neigh", "show", "203.0.113.7")
        #expect((neighbour["neighbours"] as? [[String: Any]])?.first?["lladdr"] as? String
            == ipNeighbour.first?["lladdr"] as? String)
    }

    @Test func arpSysctlsAreTheNamespacesOwn() throws {
        let node = try NodeLab(tag: "s")
        defer { node.tearDown() }
        // Lax first (the namespace defaults): the IPVS reading must warn.
        let lax = try Support.addrinspect(["has", "198.51.100.10", "--netns", node.name])
        #expect(lax.status == 0)
        #expect(lax.standardOutput.contains("kube-ipvs0"))
        #expect(lax.standardOutput.contains("not strictARP on"))
        #expect(lax.standardOutput.contains("v0 (arp_ignore=0 arp_announce=0)"))

        try node.lab.sysctl("net.ipv4.conf.all.arp_ignore", "1")
        try node.lab.sysctl("net.ipv4.conf.all.arp_announce", "2")
        try node.lab.sysctl("net.ipv4.conf.v0.arp_ignore", "2")
        let strict = try Support.addrinspect(["has", "198.51.100.10", "--json", "--netns", node.name])
        let report = try #require(try JSONLines.objects(strict.standardOutput).first)
        let arp = try #require(report["arp"] as? [String: [String: Int]])
        #expect(arp["all"]?["arp_ignore"] == (try node.lab.sysctlValue("net.ipv4.conf.all.arp_ignore")))
        #expect(arp["all"]?["arp_announce"] == (try node.lab.sysctlValue("net.ipv4.conf.all.arp_announce")))
        #expect(arp["v0"]?["arp_ignore"] == (try node.lab.sysctlValue("net.ipv4.conf.v0.arp_ignore")))
        #expect(arp["v0"]?["arp_ignore"] == 2)
        let reading = (report["reading"] as? [String] ?? []).joined(separator: "\n")
        #expect(reading.contains("strictARP in effect"))
    }

    @Test func libraryEntersTheNamespaceWithoutMovingTheCaller() throws {
        let node = try NodeLab(tag: "t")
        defer { node.tearDown() }
        let namespace = try NetworkNamespace(named: node.name)
        let socket = try namespace.perform { () throws(NetlinkError) in try RouteSocket() }
        // The socket stays bound to the lab namespace after the helper thread is gone.
        #expect(try socket.links().contains { $0.name == "kube-ipvs0" && $0.kind == "ifb" && $0.isNoARP })
        // The calling thread itself never moved: its own namespace has no kube-ipvs0 of this lab's MAC.
        let labMAC = try socket.links().first { $0.name == "kube-ipvs0" }?.address
        #expect(try RouteSocket().links().allSatisfy { $0.address != labMAC || $0.name != "kube-ipvs0" })
    }

    @Test func missingNamespaceIsOneSentence() throws {
        let output = try Support.addrinspect(["addr", "--netns", "ai-no-such-namespace-\(getpid())"])
        #expect(output.status == 1)
        #expect(output.standardError.contains("no network namespace named"))
        #expect(output.standardError.split(separator: "\n").count == 1)
    }
}
