import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// `PacketSource.inject`: a frame sent on a live interface really goes out, proved by the kernel at the other end
/// of a veth pair answering it (namespace `gp<pid>inj`, no address on the root side).
@Suite("Sending frames with pcap_inject (root only)", .serialized)
struct InjectTests {
    @Test("An ARP probe injected on the root side is answered by the namespace's kernel")
    func injectedProbeIsAnswered() throws {
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: sending needs CAP_NET_RAW and netns")
        let pid = getpid()
        let namespace = "gp\(pid)inj"
        let rootSide = "gp\(pid)ia"
        let namespaceSide = "gp\(pid)ib"
        func tearDown() {
            _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
            _ = try? ChildProcess.run(["ip", "link", "del", rootSide])
        }
        tearDown()
        defer { tearDown() }
        try ChildProcess.mustRun(["ip", "netns", "add", namespace])
        try ChildProcess.mustRun(["ip", "link", "add", rootSide, "type", "veth", "peer", "name", namespaceSide])
        try ChildProcess.mustRun(["ip", "link", "set", namespaceSide, "netns", namespace])
        try ChildProcess.mustRun(["ip", "-n", namespace, "addr", "add", "203.0.113.1/24", "dev", namespaceSide])
        try ChildProcess.mustRun(["ip", "-n", namespace, "link", "set", namespaceSide, "up"])
        try ChildProcess.run(["sysctl", "-q", "-w", "net.ipv6.conf.\(rootSide).disable_ipv6=1"])
        try ChildProcess.mustRun(["ip", "link", "set", rootSide, "up"])
        let ourText = try String(contentsOfFile: "/sys/class/net/\(rootSide)/address", encoding: .utf8)
        let ourMAC = try #require(MACAddress(ourText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let theirText = try ChildProcess.run([
            "ip", "netns", "exec", namespace, "cat", "/sys/class/net/\(namespaceSide)/address",
        ])
        let theirMAC = try #require(
            MACAddress(theirText.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))

        let source = try PacketSource.openLive(rootSide, options: LiveOptions())
        try source.setFilter("arp")
        // RFC 5227 ARP probe: who-has 203.0.113.1, sender IP 0.0.0.0, broadcast.
        let mac = withUnsafeBytes(of: ourMAC.rawValue.bigEndian) { Array($0[2..<8]) }
        let request: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + mac + [0x08, 0x06]
            + [0x00, 0x01, 0x08, 0x00, 6, 4, 0, 1] + mac + [0, 0, 0, 0] + [0, 0, 0, 0, 0, 0] + [203, 0, 113, 1]
        try request.withUnsafeBytes { bytes in try source.inject(bytes) }

        var reply: ARPPacket?
        try source.forEach(until: .now + .seconds(5)) { record in
            guard let arp = Packet.decode(record.bytes, linkType: record.linkType).arp, arp.operation == .reply else {
                return .continue
            }
            reply = arp
            return .stop
        }
        let answer = try #require(reply, "no ARP reply within 5 s: the injected probe did not reach the namespace")
        #expect(answer.senderMAC == theirMAC)
        #expect(answer.senderIP == IPv4Address("203.0.113.1"))
        #expect(answer.targetMAC == ourMAC, "Linux answers a probe to the prober's MAC")
    }

    @Test("Injecting into a capture file is an error that says to use an interface")
    func injectIntoFileFails() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let path = directory + "/empty.pcap"
        // A pcap file header (nanosecond magic, Ethernet) and no packets.
        let header: [UInt8] = [0x4D, 0x3C, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]
        try Data(header).write(to: URL(fileURLWithPath: path))
        let source = try PacketSource.openFile(path)
        let error = #expect(throws: CaptureError.self) {
            try [UInt8](repeating: 0, count: 42).withUnsafeBytes { bytes in try source.inject(bytes) }
        }
        #expect(error?.kind == .other)
        #expect(error?.message.contains("use -i") == true)
    }
}
