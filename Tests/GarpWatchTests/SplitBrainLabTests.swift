import Foundation
import TestSupport
import Testing

/// Issue 15 item 1 in a lab: two namespaces both hold 198.51.100.30 (both kernels answer who-has for it) and a
/// client runs iputils `arping -c 3`: both answer the first, broadcast, request, then arping goes unicast to
/// the first replier. garpwatch, live on the client, must call it a split-brain (exit 11), not a takeover.
/// Namespaces `vs-garp-<pid>-*`, created and deleted here. Root is required: under CI=true it fails, never skips.
@Suite(.serialized) struct SplitBrainLabTests {
    let prefix = "vs-garp-\(getpid())"
    let vip = "198.51.100.30"
    let macs = ["02:67:77:30:00:01", "02:67:77:30:00:02", "02:67:77:30:00:09"]

    func setUp() throws {
        try #require(getuid() == 0, "the split-brain lab needs root (network namespaces, capture)")
        try #require(ChildProcess.which("arping") != nil, "arping (iputils-arping) is not installed")
        try BridgeLab.build(prefix: prefix, macs: macs)
        for node in 1...2 {
            try ChildProcess.mustRun(["ip", "-n", "\(prefix)-n\(node)", "addr", "add", "\(vip)/32", "dev", "eth0"])
        }
        let client = "\(prefix)-n3"
        try ChildProcess.mustRun(["ip", "-n", client, "addr", "add", "203.0.113.100/24", "dev", "eth0"])
        try ChildProcess.mustRun(["ip", "-n", client, "route", "add", "198.51.100.0/24", "dev", "eth0"])
    }

    func tearDown() {
        for name in ["sw", "n1", "n2", "n3"] { _ = try? ChildProcess.run(["ip", "netns", "del", "\(prefix)-\(name)"]) }
    }

    @Test func twoOwnersAnsweringArpingAreSplitBrain() throws {
        defer { tearDown() }
        tearDown()
        try setUp()
        let ip = try #require(ChildProcess.which("ip"), "ip (iproute2) is not installed")
        let garpwatch = try RunningProcess(
            // On the client, which sees both unicast replies (a bridge port without promiscuous mode does not).
            ip, ["netns", "exec", "\(prefix)-n3", try Support.garpwatchBinary(), "-i", "eth0", "--duration", "4.5",
                 "--ip", vip, "--expect", "\(vip)=\(macs[0])"])
        Thread.sleep(forTimeInterval: 0.8)  // garpwatch is listening
        let arping = try ChildProcess.run(["ip", "netns", "exec", "\(prefix)-n3", "arping", "-c", "3", "-I", "eth0", vip])
        let output = garpwatch.wait()
        // iputils arping saw both owners answer its first request (the shape the issue describes).
        #expect(arping.standardOutput.contains(macs[0].uppercased()) && arping.standardOutput.contains(macs[1].uppercased()),
                "\(arping.standardOutput)")
        #expect(output.status == 11, "\(arping.standardOutput)\(arping.standardError)\(output.standardOutput)\(output.standardError)")
        let split = try #require(output.lines.first { $0.contains(" split-brain \(vip) ") }, "\(output.standardOutput)")
        #expect(split.contains(macs[0]) && split.contains(macs[1]))
        #expect(split.contains("each answered one broadcast who-has from 203.0.113.100"), "\(split)")
        #expect(!output.lines.contains { $0.contains(" takeover ") }, "\(output.standardOutput)")
        #expect(!output.lines.contains { $0.contains("split-brain-resolved") })
        #expect(output.lines.contains { $0.hasPrefix("expect \(vip)=\(macs[0]): multiple-owners (exit 11)") })
    }
}
