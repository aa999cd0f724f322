import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// A network namespace joined to the root namespace by a veth pair: the root-side end has no address (nothing
/// there speaks), the namespace end has 203.0.113.1/24. Removed by `tearDown`, which also runs when set-up fails.
struct VethLab {
    let namespace: String
    let rootSide: String
    let namespaceSide: String
    static let namespaceAddress = "203.0.113.1"

    init(tag: String) throws {
        let pid = getpid()
        namespace = "vscap-\(pid)\(tag)"
        rootSide = "vscap\(pid)\(tag)a"
        namespaceSide = "vscap\(pid)\(tag)b"
        tearDown()  // leftovers of an earlier run with the same pid
        do {
            try ChildProcess.mustRun(["ip", "netns", "add", namespace])
            try ChildProcess.mustRun(["ip", "link", "add", rootSide, "type", "veth", "peer", "name", namespaceSide])
            try ChildProcess.mustRun(["ip", "link", "set", namespaceSide, "netns", namespace])
            try ChildProcess.mustRun(["ip", "-n", namespace, "link", "set", "lo", "up"])
            try ChildProcess.mustRun([
                "ip", "-n", namespace, "addr", "add", "\(Self.namespaceAddress)/24", "dev", namespaceSide,
            ])
            try ChildProcess.mustRun(["ip", "-n", namespace, "link", "set", namespaceSide, "up"])
            // No IPv6 on the root side: nothing of ours should appear on the wire but what a test sends.
            try ChildProcess.run(["sysctl", "-q", "-w", "net.ipv6.conf.\(rootSide).disable_ipv6=1"])
            try ChildProcess.mustRun(["ip", "link", "set", rootSide, "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    func tearDown() {
        _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
        _ = try? ChildProcess.run(["ip", "link", "del", rootSide])
    }

    var namespaceSideMAC: [UInt8] {
        get throws {
            let output = try ChildProcess.run([
                "ip", "netns", "exec", namespace, "cat", "/sys/class/net/\(namespaceSide)/address",
            ])
            let octets = output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
            let mac = octets.compactMap { UInt8($0, radix: 16) }
            try #require(mac.count == 6, "cannot read the MAC of \(namespaceSide): \(output.standardError)")
            return mac
        }
    }
}

func realtimeNow() -> Timestamp {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int32(now.tv_nsec))
}

@Suite("Live capture on a veth pair in a network namespace (root only)", .serialized)
struct LiveTests {
    @Test("Three gratuitous ARPs sent with arping in the namespace are captured on the root side")
    func gratuitousARP() throws {
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: live capture needs CAP_NET_RAW and netns")
        try #require(ChildProcess.which("arping") != nil, "install iputils-arping")
        let lab = try VethLab(tag: "")
        defer { lab.tearDown() }
        let senderMAC = try lab.namespaceSideMAC

        let source = try PacketSource.openLive(lab.rootSide, options: LiveOptions(snapshotLength: 65535))
        try source.setFilter("arp")
        #expect(source.isLive)
        #expect(source.linkType == .ethernet)
        #expect(source.snapshotLength == 65535)
        #expect(source.warnings.isEmpty)

        let started = realtimeNow()
        let arping = Process()
        arping.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        arping.arguments = [
            "ip", "netns", "exec", lab.namespace, "arping", "-q", "-c", "3", "-U", "-I", lab.namespaceSide,
            VethLab.namespaceAddress,
        ]
        arping.standardOutput = FileHandle.nullDevice
        arping.standardError = FileHandle.nullDevice
        try arping.run()
        defer { if arping.isRunning { arping.terminate() } }

        var frames: [[UInt8]] = []
        var timestamps: [Timestamp] = []
        let delivered = try source.forEach(until: .now + .seconds(15)) { record in
            frames.append(Array(record.bytes))
            timestamps.append(record.timestamp)
            #expect(!record.isTruncated)
            #expect(record.linkType == .ethernet)
            return frames.count == 3 ? .stop : .continue
        }
        arping.waitUntilExit()
        let finished = realtimeNow()
        #expect(arping.terminationStatus == 0)

        try #require(delivered == 3, "captured \(delivered) ARP frames instead of 3 within 15 s")
        let address: [UInt8] = [203, 0, 113, 1]
        for frame in frames {
            try #require(frame.count == 42, "veth frames are unpadded: an ARP frame is 42 bytes")
            #expect(Array(frame[0..<6]) == Frames.broadcast)
            #expect(Array(frame[6..<12]) == senderMAC)
            #expect(Array(frame[12..<14]) == [0x08, 0x06])
            #expect(Array(frame[20..<22]) == [0x00, 0x01], "arping -U sends requests")
            #expect(Array(frame[22..<28]) == senderMAC)
            #expect(Array(frame[28..<32]) == address, "sender protocol address")
            #expect(Array(frame[38..<42]) == address, "target protocol address: gratuitous")
        }
        // Real times, in order, about a second apart (arping's interval).
        #expect(timestamps == timestamps.sorted())
        #expect(timestamps.allSatisfy { $0.nanoseconds(since: started) > -1_000_000_000 })
        #expect(timestamps.allSatisfy { $0.nanoseconds(since: finished) < 1_000_000_000 })
        #expect(timestamps[2].seconds(since: timestamps[0]) > 1.5)

        // arping is done: nothing more arrives, and the deadline ends the wait on time.
        let clock = ContinuousClock()
        var late = 0
        let waited = try clock.measure {
            late = try source.forEach(until: .now + .milliseconds(700)) { _ in .continue }
        }
        #expect(late == 0)
        #expect(waited >= .milliseconds(650) && waited < .seconds(3))

        let statistics = try #require(source.statistics())
        #expect(statistics.received >= 3)
        #expect(statistics.droppedByKernel == 0)
    }

    @Test("shouldStop ends a capture on a quiet interface within the poll interval")
    func shouldStopOnQuietInterface() throws {
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: live capture needs CAP_NET_RAW and netns")
        let lab = try VethLab(tag: "q")
        defer { lab.tearDown() }
        let source = try PacketSource.openLive(lab.rootSide, options: LiveOptions())
        try source.setFilter("udp port 9")

        let clock = ContinuousClock()
        let stopAt = clock.now + .milliseconds(300)
        var checks = 0
        var delivered = -1
        let elapsed = try clock.measure {
            delivered = try source.forEach(until: .now + .seconds(20), shouldStop: {
                checks += 1
                return clock.now >= stopAt
            }) { _ in .continue }
        }
        #expect(delivered == 0)
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(2))
        #expect(checks >= 3, "shouldStop is consulted at least every 100 ms")
        #expect(source.statistics() == CaptureStatistics(received: 0, droppedByKernel: 0, droppedByInterface: 0))
    }

    @Test("Opening an interface that is down is interfaceDown")
    func interfaceDown() throws {
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: live capture needs CAP_NET_RAW and netns")
        let lab = try VethLab(tag: "d")
        defer { lab.tearDown() }
        try ChildProcess.mustRun(["ip", "link", "set", lab.rootSide, "down"])
        let error = #expect(throws: CaptureError.self) {
            try PacketSource.openLive(lab.rootSide, options: LiveOptions())
        }
        #expect(error?.kind == .interfaceDown)
        #expect(
            error?.message == "cannot capture on \(lab.rootSide): the interface is down "
                + "(bring it up with `ip link set \(lab.rootSide) up`)")
    }

    /// Runs twice: as the parent (root) it re-runs itself in a child without privileges (`setpriv` to nobody, no
    /// capabilities); as that child it opens `lo` and reports the error on standard output.
    @Test("Without CAP_NET_RAW a live capture is permissionDenied with setcap advice",
          .enabled(if: ChildProcess.which("setpriv") != nil || TestEnvironment.isCI))
    func permissionDenied() throws {
        let marker = "VSCAP-PERMISSION-PROBE"
        if ProcessInfo.processInfo.environment[marker] != nil {
            do {
                _ = try PacketSource.openLive("lo", options: LiveOptions())
                print("\(marker) opened")
            } catch {
                print("\(marker) kind=\(error.kind) message=\(error.message)")
            }
            return
        }
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: dropping privileges needs them first")
        try #require(ChildProcess.which("setpriv") != nil, "install util-linux (setpriv)")
        let testBinary = try #require(CommandLine.arguments.first)
        let output = try ChildProcess.run(
            [
                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--", testBinary, "--testing-library", "swift-testing",
                "--filter", "LiveTests/permissionDenied",
            ],
            environment: [marker: "1", "PATH": "/usr/bin:/bin", "HOME": "/tmp"])
        let report = output.standardOutput.split(separator: "\n").first { $0.hasPrefix(marker) }
        let line = try #require(report, "the child printed no result: \(output.standardOutput) \(output.standardError)")
        #expect(line.hasPrefix("\(marker) kind=permissionDenied message="))
        #expect(line.contains(
            "message=capturing on lo needs CAP_NET_RAW: run as root or `sudo setcap cap_net_raw+ep /"))
    }
}
