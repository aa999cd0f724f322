import Foundation
import TestSupport
import Testing

/// `garpwatch --probe` live: a bridge in namespace `gp<pid>sw`, two nodes that both have the VIP configured
/// (so both kernels answer who-has for it, as two nodes holding a keepalived VIP at once do) and a prober node.
/// Root is required: under CI=true it fails, never skips.
@Suite(.serialized) struct ProbeLiveTests {
    let prefix = "gp\(getpid())"
    let vip = "198.51.100.91"
    let vip6 = "2001:db8:91::91"
    let mac1 = "02:67:70:31:00:01"
    let mac2 = "02:67:70:31:00:02"

    func setUp() throws {
        try #require(getuid() == 0, "live garpwatch --probe tests need root (network namespaces, sending)")
        let sw = "\(prefix)sw"
        try ChildProcess.mustRun(["ip", "netns", "add", sw])
        try ChildProcess.mustRun(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                             "forward_delay", "0"])
        try ChildProcess.mustRun(["ip", "-n", sw, "link", "set", "br0", "up"])
        for (index, mac) in [mac1, mac2, "02:67:70:31:00:09"].enumerated() {
            let node = "\(prefix)n\(index + 1)"
            try ChildProcess.mustRun(["ip", "netns", "add", node])
            try ChildProcess.mustRun(["ip", "-n", node, "link", "add", "eth0", "address", mac, "type", "veth",
                                 "peer", "name", "p\(index + 1)", "netns", sw])
            try ChildProcess.mustRun(["ip", "-n", node, "link", "set", "eth0", "up"])
            try ChildProcess.mustRun(["ip", "-n", sw, "link", "set", "p\(index + 1)", "master", "br0", "up"])
        }
        for node in 1...2 {
            try ChildProcess.mustRun(["ip", "-n", "\(prefix)n\(node)", "addr", "add", "\(vip)/32", "dev", "eth0"])
            try ChildProcess.mustRun(["ip", "-n", "\(prefix)n\(node)", "addr", "add", "\(vip6)/128", "dev", "eth0", "nodad"])
        }
        // The prober's link-local address (the NS source) must have passed duplicate address detection.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let output = try ChildProcess.run(["ip", "-n", "\(prefix)n3", "-6", "addr", "show", "dev", "eth0",
                                          "scope", "link"])
            if output.standardOutput.contains("fe80::") && !output.standardOutput.contains("tentative") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    func tearDown() {
        for name in ["sw", "n1", "n2", "n3"] { _ = try? ChildProcess.run(["ip", "netns", "del", "\(prefix)\(name)"]) }
    }

    func probe(_ arguments: [String]) throws -> (ProcessOutput, [[String: Any]]) {
        let output = try ChildProcess.run(["ip", "netns", "exec", "\(prefix)n3", try Support.garpwatchBinary(), "-i", "eth0",
                                      "--json"] + arguments)
        let objects = try output.lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        return (output, objects)
    }

    func responders(_ objects: [[String: Any]], _ ip: String) -> Set<String> {
        Set(objects.filter { $0["event"] as? String == "probe-responder" && $0["ip"] as? String == ip }
            .compactMap { $0["mac"] as? String })
    }

    @Test func probeFindsBothHoldersAndTheVerdictIsMoreThanOneOwner() throws {
        defer { tearDown() }
        tearDown()
        try setUp()
        let (both, objects) = try probe(["--probe", vip, "--probe", vip6, "--duration", "2.5",
                                         "--expect", "\(vip)=\(mac1)"])
        #expect(both.status == 11, "\(both.standardOutput)\(both.standardError)")
        #expect(responders(objects, vip) == [mac1, mac2])
        #expect(responders(objects, vip6) == [mac1, mac2])
        let totals = objects.first { $0["event"] as? String == "probe" && $0["ip"] as? String == vip }
        #expect((totals?["requests"] as? Int ?? 0) >= 2)
        // Issue 15 item 6: the summary's probes count our requests (IPv4 and IPv6), which are not captured back.
        let summary = objects.first { $0["event"] as? String == "summary" }
        let totals6 = objects.first { $0["event"] as? String == "probe" && $0["ip"] as? String == vip6 }
        let sent = (totals?["requests"] as? Int ?? 0) + (totals6?["requests"] as? Int ?? 0)
        #expect(summary?["own_probe_requests"] as? Int == sent, "\(String(describing: summary))")
        #expect(summary?["probes"] as? Int ?? 0 >= sent, "\(String(describing: summary))")
        // Every request was broadcast, so each holder answered each one (arping would have gone unicast).
        for object in objects where object["event"] as? String == "probe-responder" && object["ip"] as? String == vip {
            #expect(object["replies"] as? Int == totals?["requests"] as? Int)
        }

        // Node 2 lets the address go: only node 1 answers, from a sender address this time.
        try ChildProcess.mustRun(["ip", "-n", "\(prefix)n2", "addr", "del", "\(vip)/32", "dev", "eth0"])
        let (one, oneObjects) = try probe(["--probe", vip, "--probe-source", "198.51.100.9", "--duration", "1.5",
                                           "--expect", "\(vip)=\(mac1)"])
        #expect(one.status == 0, "\(one.standardOutput)\(one.standardError)")
        #expect(responders(oneObjects, vip) == [mac1])

        let (nobody, nobodyObjects) = try probe(["--probe", "198.51.100.92", "--duration", "1.2",
                                                 "--expect", "198.51.100.92=\(mac1)"])
        #expect(nobody.status == 12, "\(nobody.standardOutput)\(nobody.standardError)")
        #expect(responders(nobodyObjects, "198.51.100.92").isEmpty)
    }

    @Test func probeNeedsOneInterface() throws {
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", Support.capture("split-brain.pcap"),
                                      "--probe", vip])
        #expect(output.status == 64)
        #expect(output.standardError.contains("exactly one -i"))
    }
}
