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
            let objects = try JSONLines.events(output.standardOutput, tool: "addrinspect")
            let report = try #require(objects.first, "\(item.ip): no output")
            #expect(objects.count == 1 && report["event"] as? String == "verdict", "\(item.ip)")
            #expect(report["verdict"] as? String == item.verdict, "\(item.ip)")
            #expect(output.status == item.status, "\(item.ip): exit \(output.status)")
            #expect((report["exit_status"] as? NSNumber)?.int32Value == item.status, "\(item.ip)")
        }
        // Where it is held, and the MAC held for a neighbour, as ip shows them.
        let vip = try #require(try JSONLines.events(
            try Support.addrinspect(["has", "198.51.100.10", "--json", "--netns", node.name]).standardOutput,
            tool: "addrinspect").first)
        let holders = try #require(vip["addresses"] as? [[String: Any]])
        #expect(holders.map { $0["dev"] as? String } == ["kube-ipvs0"])
        #expect((holders.first?["link_flags"] as? [String])?.contains("NOARP") == true)
        let neighbour = try #require(try JSONLines.events(
            try Support.addrinspect(["has", "203.0.113.7", "--json", "--netns", node.name]).standardOutput,
            tool: "addrinspect").first)
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
        let report = try #require(try JSONLines.events(strict.standardOutput, tool: "addrinspect").first)
        // A list by interface: interface names are data, never keys.
        let entries = try #require(report["arp"] as? [[String: Any]])
        #expect(entries.first?["dev"] as? String == "all")
        var arp: [String: [String: Int]] = [:]
        for entry in entries {
            guard let dev = entry["dev"] as? String else { continue }
            arp[dev] = entry.compactMapValues { $0 as? Int }
        }
        #expect(arp["all"]?["arp_ignore"] == (try node.lab.sysctlValue("net.ipv4.conf.all.arp_ignore")))
        #expect(arp["all"]?["arp_announce"] == (try node.lab.sysctlValue("net.ipv4.conf.all.arp_announce")))
        #expect(arp["v0"]?["arp_ignore"] == (try node.lab.sysctlValue("net.ipv4.conf.v0.arp_ignore")))
        #expect(arp["v0"]?["arp_ignore"] == 2)
        let reading = (report["reading"] as? [String] ?? []).joined(separator: "\n")
        #expect(reading.contains("strictARP in effect"))
    }

    /// The route `has` reports is the one the kernel picks through its policy rules, as `ip route get fibmatch`
    /// shows it: a rule to another table, a `throw` route falling back to main, a prohibit rule.
    @Test func routeFollowsPolicyRules() throws {
        let node = try NodeLab(tag: "p", prefix: "vs-sch-")
        defer { node.tearDown() }
        // Before any rule, 198.51.100.70 goes by main's /26 via 203.0.113.253.
        let before = try Self.has("198.51.100.70", node)
        #expect((before.json["route"] as? [String: Any])?["gateway"] as? String == "203.0.113.253")

        try node.lab.ip("rule", "add", "to", "198.51.100.0/24", "table", "100", "pref", "100")
        try node.lab.ip("route", "add", "throw", "198.51.100.96/27", "table", "100")
        try node.lab.ip("rule", "add", "to", "198.51.100.160/27", "prohibit", "pref", "90")
        try node.lab.ip("rule", "add", "to", "198.51.100.0/24", "fwmark", "7", "table", "main", "pref", "80")

        for ip in ["198.51.100.70", "198.51.100.100", "198.51.100.20"] {
            let ours = try Self.has(ip, node)
            let kernel = try #require(try node.lab.ipJSON("route", "get", "fibmatch", ip).first, "ip route get \(ip)")
            let route = try #require(ours.json["route"] as? [String: Any], "\(ip): no route in \(ours.json)")
            #expect(route["dst"] as? String == kernel["dst"] as? String, "\(ip): \(route) vs \(kernel)")
            #expect(route["table"] as? String == (kernel["table"] as? String ?? "main"), "\(ip)")
            #expect(route["gateway"] as? String == kernel["gateway"] as? String, "\(ip)")
            #expect(route["dev"] as? String == kernel["dev"] as? String, "\(ip)")
            #expect(ours.status == 10, "\(ip): not local, routed")
        }
        // The rule at 100 chose table 100's on-link /24 (not main's /26), and says so.
        let ruled = try Self.has("198.51.100.70", node)
        #expect((ruled.json["route"] as? [String: Any])?["rule"] as? Int == 100)
        #expect((ruled.json["reading"] as? [String] ?? []).contains { $0.contains("table 100, policy rule 100") })

        let prohibited = try Self.has("198.51.100.161", node)
        let kernel = try ChildProcess.run(["ip", "-n", node.name, "route", "get", "198.51.100.161"])
        #expect(kernel.status != 0, "ip route get fails for a prohibited destination: \(kernel.standardOutput)")
        #expect(prohibited.status == 12 && prohibited.json["route"] == nil)
        let rule = try #require(prohibited.json["rule"] as? [String: Any])
        #expect(rule["action"] as? String == "prohibit" && rule["priority"] as? Int == 90)
    }

    static func has(_ ip: String, _ node: NodeLab) throws -> (status: Int32, json: [String: Any]) {
        let output = try Support.addrinspect(["has", ip, "--json", "--netns", node.name])
        let objects = try JSONLines.events(output.standardOutput, tool: "addrinspect")
        return (output.status, try #require(objects.first, "has \(ip): \(output.standardError)"))
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
