import Foundation
import TestSupport
import Testing

/// Lints from a real sender on the wire (scapy, as an announcer with these bugs sends them): a gratuitous ARP
/// reply alone (no request just before it, as MetalLB sends one) whose target MAC is the broadcast address, which
/// Linux ignores; and an unsolicited Neighbor Advertisement without the target link-layer address option, which
/// updates no neighbour cache. iputils `arping -A` gets it right (its replies carry the sender's MAC as target),
/// so it is no lint. garpwatch, live on the other node, must say so in `lint` objects (docs/json.md).
/// Namespaces `vs-garp-<pid>-ln-*`, created and deleted here. Root is required: under CI=true it fails.
@Suite(.serialized) struct LintLabTests {
    let prefix = "vs-garp-\(getpid())-ln"
    let vip = "198.51.100.83"
    let vip6 = "2001:db8:83::1"
    let macs = ["02:67:77:83:00:01", "02:67:77:83:00:02"]

    func tearDown() {
        for name in ["sw", "n1", "n2"] { _ = try? ChildProcess.run(["ip", "netns", "del", "\(prefix)-\(name)"]) }
    }

    @Test func arpingRepliesAloneAreLintedInJSON() throws {
        defer { tearDown() }
        tearDown()
        try #require(getuid() == 0, "the lint lab needs root (network namespaces, capture)")
        try #require(ChildProcess.which("arping") != nil, "arping (iputils-arping) is not installed")
        try #require(try ChildProcess.run(["python3", "-c", "import scapy.all"]).status == 0, "python3-scapy is not installed")
        try BridgeLab.build(prefix: prefix, macs: macs) { node, index in
            try ChildProcess.mustRun(["ip", "-n", node, "addr", "add", "203.0.113.\(index + 1)/24", "dev", "eth0"])
            if index == 0 { try ChildProcess.mustRun(["ip", "-n", node, "addr", "add", "\(vip)/32", "dev", "eth0"]) }
        }
        let ip = try #require(ChildProcess.which("ip"))
        let garpwatch = try RunningProcess(ip, ["netns", "exec", "\(prefix)-n2", try Support.garpwatchBinary(), "-i",
            "eth0", "--duration", "15", "--ip", vip, "--ip", vip6, "--json"])
        Thread.sleep(forTimeInterval: 0.8)
        // 15 s: importing scapy alone has taken over 3 s on a loaded machine; garpwatch must outlast it.
        let arping = try ChildProcess.run(["ip", "netns", "exec", "\(prefix)-n1", "arping", "-A", "-c", "1", "-I", "eth0", vip])
        #expect(arping.status == 0, "\(arping.standardError)")
        let script = """
            from scapy.all import ARP, Ether, IPv6, ICMPv6ND_NA, sendp
            sendp(Ether(src="\(macs[0])", dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc="\(macs[0])", psrc="\(vip)",
                  hwdst="ff:ff:ff:ff:ff:ff", pdst="\(vip)"), iface="eth0", verbose=False)
            sendp(Ether(src="\(macs[0])", dst="33:33:00:00:00:01") / IPv6(src="fe80::67:77ff:fe83:1", dst="ff02::1",
                  hlim=255) / ICMPv6ND_NA(tgt="\(vip6)", R=0, S=0, O=1), iface="eth0", verbose=False)
            """
        let scapy = try ChildProcess.run(["ip", "netns", "exec", "\(prefix)-n1", "python3", "-c", script])
        #expect(scapy.status == 0, "\(scapy.standardError)")
        let output = garpwatch.wait()
        #expect(output.status == 0, "\(output.standardError)")
        let objects = try JSONLines.objects(output.standardOutput)
        let lints = objects.filter { $0["event"] as? String == "lint" }
        let arp = try #require(lints.first { $0["ip"] as? String == vip }, "\(output.standardOutput)")
        #expect(arp["lint"] as? String == "garp-reply-foreign-target" && arp["frame"] as? String == "gratuitous-reply",
            "\(arp)")
        #expect(arp["mac"] as? String == macs[0] && (arp["reason"] as? String)?.isEmpty == false)
        #expect(arp["interface"] as? String == "eth0" && arp["time"] is String && arp["host"] is String)
        let na = try #require(lints.first { $0["ip"] as? String == vip6 }, "\(output.standardOutput)")
        #expect(na["lint"] as? String == "na-without-target-lladdr" && na["frame"] as? String == "unsolicited-na", "\(na)")
        #expect(lints.count == 2, "arping -A is no lint, each lint once: \(lints)")
        #expect(!objects.contains { $0["event"] as? String == "metallb-style" }, "no request came before the reply")
    }
}
