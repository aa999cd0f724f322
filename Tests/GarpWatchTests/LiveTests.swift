import Foundation
import TestSupport
import Testing

/// garpwatch live on a bridge in network namespaces this test creates (gw<pid>*), with real `arping -U`
/// senders; one or two nodes announcing the same VIP. Root is required: under CI=true it fails, never skips.
@Suite(.serialized) struct LiveTests {
    let prefix = "gw\(getpid())"
    let vip = "198.51.100.80"
    let mac1 = "02:67:77:21:00:01"
    let mac2 = "02:67:77:21:00:02"

    func setUp() throws {
        try #require(getuid() == 0, "live garpwatch tests need root (network namespaces, capture)")
        let arping = try ChildProcess.run(["sh", "-c", "command -v arping"])
        try #require(arping.status == 0, "arping (iputils-arping) is not installed")
        let sw = "\(prefix)sw"
        try ChildProcess.mustRun(["ip", "netns", "add", sw])
        try ChildProcess.mustRun(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"])
        try ChildProcess.mustRun(["ip", "-n", sw, "link", "set", "br0", "up"])
        for (index, mac) in [mac1, mac2].enumerated() {
            let node = "\(prefix)n\(index + 1)"
            try ChildProcess.mustRun(["ip", "netns", "add", node])
            try ChildProcess.mustRun(["ip", "-n", node, "link", "add", "eth0", "address", mac, "type", "veth", "peer", "name",
                                 "p\(index + 1)", "netns", sw])
            try ChildProcess.mustRun(["ip", "-n", node, "addr", "add", "203.0.113.\(index + 1)/24", "dev", "eth0"])
            try ChildProcess.mustRun(["ip", "-n", node, "link", "set", "eth0", "up"])
            try ChildProcess.mustRun(["ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"])
            try ChildProcess.mustRun(["ip", "-n", sw, "link", "set", "p\(index + 1)", "master", "br0", "up"])
        }
    }

    func tearDown() {
        for name in ["sw", "n1", "n2"] { _ = try? ChildProcess.run(["ip", "netns", "del", "\(prefix)\(name)"]) }
    }

    /// Start garpwatch on the bridge for `seconds`, run `senders` meanwhile, return its exit status and output.
    func watch(seconds: Double, expect: String, senders: [[String]]) throws -> ProcessOutput {
        let ip = try #require(ChildProcess.which("ip"), "ip (iproute2) is not installed")
        let garpwatch = try RunningProcess(
            ip, ["netns", "exec", "\(prefix)sw", try Support.garpwatchBinary(), "-i", "br0", "--duration", String(seconds),
                 "--expect", expect])
        Thread.sleep(forTimeInterval: 0.8)  // garpwatch is listening
        for sender in senders { _ = try ChildProcess.run(sender) }
        return garpwatch.wait()
    }

    func arping(_ node: Int, _ mode: String) -> [String] {
        ["ip", "netns", "exec", "\(prefix)n\(node)", "arping", "-q", mode, "-c", "1", "-I", "eth0", vip]
    }

    @Test func oneOwnerIsExpectedAndTwoAreSplitBrain() throws {
        defer { tearDown() }
        tearDown()
        try setUp()
        let single = try watch(seconds: 2.5, expect: "\(vip)=\(mac1)", senders: [arping(1, "-U"), arping(1, "-A")])
        #expect(single.status == 0, "\(single.standardOutput)\(single.standardError)")
        #expect(single.standardOutput.contains("new-station \(vip) \(mac1)"))
        let wrong = try watch(seconds: 2, expect: "\(vip)=\(mac2)", senders: [arping(1, "-U")])
        #expect(wrong.status == 10, "\(wrong.standardOutput)\(wrong.standardError)")
        let both = try watch(seconds: 3, expect: "\(vip)=\(mac1)",
                             senders: [arping(1, "-U"), arping(2, "-U"), arping(1, "-U"), arping(2, "-U"), arping(1, "-A")])
        #expect(both.status == 11, "\(both.standardOutput)\(both.standardError)")
        #expect(both.standardOutput.contains("split-brain \(vip)"))
        let nobody = try watch(seconds: 1.5, expect: "198.51.100.81=\(mac1)", senders: [arping(1, "-U")])
        #expect(nobody.status == 12)
    }
}
