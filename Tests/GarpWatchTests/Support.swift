import Capture
import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// Paths, child processes and hand-built frames for the garpwatch tests.
enum Support {
    static let repository = TestEnvironment.repository
    static let captures = TestEnvironment.captures
    static let garpwatchCaptures = captures.appendingPathComponent("garpwatch")

    static func capture(_ name: String) -> String {
        name.hasPrefix("../")
            ? captures.appendingPathComponent(String(name.dropFirst(3))).path
            : garpwatchCaptures.appendingPathComponent(name).path
    }

    /// The garpwatch executable built beside this test bundle.
    static func garpwatchBinary() throws -> String {
        try #require(TestEnvironment.builtTool("garpwatch"), "garpwatch is not built (swift build)")
    }

    /// tshark's values for `fields` on every frame matching `filter` (one array per frame).
    static func tshark(_ path: String, filter: String, fields: [String]) throws -> [[String]] {
        let output = try ChildProcess.run(
            ["tshark", "-n", "-r", path, "-Y", filter, "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
                + fields.flatMap { ["-e", $0] })
        try #require(output.status == 0, "tshark failed on \(path): \(output.standardError)")
        return output.lines.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// A `seconds.nanoseconds` epoch time as tshark prints `frame.time_epoch`.
    static func timestamp(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let seconds = Int64(parts[0]) else { return nil }
        let digits = String(parts[1].prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)
        return Int32(digits).map { Timestamp(seconds: seconds, nanoseconds: $0) }
    }

    /// Run a capture file through the analyzer as garpwatch does; all events in order.
    static func analyze(_ path: String, options: AnalyzerOptions = AnalyzerOptions()) throws -> (Analyzer, [Event]) {
        var analyzer = Analyzer(options: options)
        var events: [Event] = []
        let source = try PacketSource.openFile(path)
        var packet = Packet()
        try source.forEach { record in
            packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
            analyzer.process(packet, bytes: record.bytes, at: record.timestamp)
            events += analyzer.takeEvents()
            return .continue
        }
        analyzer.finish()
        events += analyzer.takeEvents()
        return (analyzer, events)
    }
}

/// Frames built field by field (RFC 826 ARP, RFC 4861 NS/NA), for the corners a lab cannot produce on demand.
enum Frames {
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func mac(_ text: String) -> [UInt8] { MACAddress(text).map(\.octets) ?? [] }
    static func ip4(_ text: String) -> [UInt8] {
        IPv4Address(text).map { v in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v.rawValue >> $0) } } ?? []
    }
    static func ip6(_ text: String) -> [UInt8] { IPv6Address(text).map { $0.groups.flatMap(be16) } ?? [] }

    static func ethernet(source: String, destination: String = "ff:ff:ff:ff:ff:ff", vlans: [UInt16] = [],
                         type: UInt16, payload: [UInt8]) -> [UInt8] {
        var frame = mac(destination) + mac(source)
        for id in vlans { frame += be16(0x8100) + be16(id) }
        return frame + be16(type) + payload
    }

    /// An ARP frame; `ethernetSource` defaults to the sender MAC.
    static func arp(op: UInt16, sender: String, senderIP: String, target: String = "ff:ff:ff:ff:ff:ff",
                    targetIP: String, ethernetSource: String? = nil, vlans: [UInt16] = []) -> [UInt8] {
        let body = be16(1) + be16(0x0800) + [6, 4] + be16(op) + mac(sender) + ip4(senderIP) + mac(target) + ip4(targetIP)
        return ethernet(source: ethernetSource ?? sender, vlans: vlans, type: 0x0806, payload: body)
    }

    /// MetalLB's pair: gratuitous request and reply, both broadcast with target MAC ff:ff:ff:ff:ff:ff.
    static func metallb(_ mac: String, _ vip: String) -> [[UInt8]] {
        [arp(op: 1, sender: mac, senderIP: vip, targetIP: vip), arp(op: 2, sender: mac, senderIP: vip, targetIP: vip)]
    }

    static func neighborAdvertisement(mac source: String, target: String, solicited: Bool = false,
                                      targetLinkLayer: Bool = true, hopLimit: UInt8 = 255) -> [UInt8] {
        var icmp: [UInt8] = [136, 0, 0, 0, solicited ? 0x60 : 0x20, 0, 0, 0] + ip6(target)
        if targetLinkLayer { icmp += [2, 1] + mac(source) }
        let header: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(icmp.count)) + [58, hopLimit] + ip6("fe80::1") + ip6("ff02::1")
        return ethernet(source: source, destination: "33:33:00:00:00:01", type: 0x86DD, payload: header + icmp)
    }

    static func decode(_ frame: [UInt8]) -> Packet {
        frame.withUnsafeBytes { Packet.decode($0, linkType: .ethernet) }
    }
}

/// Feeds hand-built frames at given times (seconds) to an analyzer.
struct Feeder {
    var analyzer: Analyzer
    var events: [Event] = []

    init(_ options: AnalyzerOptions = AnalyzerOptions()) { analyzer = Analyzer(options: options) }

    mutating func feed(_ frame: [UInt8], at seconds: Double) {
        let time = Timestamp(seconds: 1_700_000_000 + Int64(seconds), nanoseconds: Int32((seconds - seconds.rounded(.down)) * 1e9 + 0.5))
        frame.withUnsafeBytes { analyzer.process(Frames.decode(frame), bytes: $0, at: time) }
        events += analyzer.takeEvents()
    }

    mutating func finish() {
        analyzer.finish()
        events += analyzer.takeEvents()
    }

    func kinds(_ kind: Event.Kind) -> [Event] { events.filter { $0.kind == kind } }
}

/// The layer-2 lab the garpwatch labs share: namespace `PREFIX-sw` holds bridge `br0`; each MAC gets a node
/// namespace `PREFIX-nK` whose `eth0` (that MAC, IPv6 off) is port `pK` of the bridge. `configure(node, index)`
/// runs before `eth0` comes up (addresses, sysctls). The caller deletes the namespaces (`PREFIX-sw`, `-nK`).
enum BridgeLab {
    static func build(prefix: String, macs: [String], configure: (String, Int) throws -> Void = { _, _ in }) throws {
        let sw = "\(prefix)-sw"
        try ChildProcess.mustRun(["ip", "netns", "add", sw])
        try ChildProcess.mustRun(["ip", "-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                                  "forward_delay", "0"])
        try ChildProcess.mustRun(["ip", "-n", sw, "link", "set", "br0", "up"])
        for (index, mac) in macs.enumerated() {
            let node = "\(prefix)-n\(index + 1)"
            try ChildProcess.mustRun(["ip", "netns", "add", node])
            try ChildProcess.mustRun(["ip", "-n", node, "link", "add", "eth0", "address", mac, "type", "veth",
                                      "peer", "name", "p\(index + 1)", "netns", sw])
            try ChildProcess.mustRun(["ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            try configure(node, index)
            try ChildProcess.mustRun(["ip", "-n", node, "link", "set", "eth0", "up"])
            try ChildProcess.mustRun(["ip", "-n", sw, "link", "set", "p\(index + 1)", "master", "br0", "up"])
        }
    }
}

/// A real keepalived VRRP node of a `BridgeLab` (namespace `PREFIX-nN`, interface eth0).
enum KeepalivedNode {
    /// keepalived for node `number`, in the foreground so its PID is ours to signal; its configuration and PID
    /// files in `directory`.
    static func start(prefix: String, directory: String, number: Int, vip: String, priority: Int, routerID: Int = 51)
        throws -> RunningProcess
    {
        let config = "\(directory)/k\(number).conf"
        try """
            global_defs {
                router_id vs-garp-k\(number)
            }
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id \(routerID)
                advert_int 1
                priority \(priority)
                virtual_ipaddress {
                    \(vip)/32 dev eth0
                }
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let ip = try #require(ChildProcess.which("ip"))
        return try RunningProcess(
            ip, ["netns", "exec", "\(prefix)-n\(number)", "keepalived", "-n", "-l", "-D", "-P", "-f", config,
                 "-p", "\(directory)/k\(number).pid", "-r", "\(directory)/k\(number)-vrrp.pid"])
    }

    /// Whether node `number`'s eth0 holds `vip` now.
    static func holds(_ vip: String, prefix: String, number: Int) -> Bool {
        (try? ChildProcess.run(["ip", "-n", "\(prefix)-n\(number)", "-4", "addr", "show", "dev", "eth0"]))?
            .standardOutput.contains(vip) ?? false
    }
}

/// A client that pings: ICMP echo requests to `target` from a raw socket, `count` of them `interval` seconds
/// apart (the owner's echo replies are its IP traffic; Linux does not rate-limit them).
enum Pinger {
    static func script(_ target: String, count: Int, interval: Double) -> String {
        """
        import socket, struct, time
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        for seq in range(\(count)):
            total = 8 * 256 + 0x5647 + seq
            total = (total >> 16) + (total & 0xffff)
            checksum = ~(total + (total >> 16)) & 0xffff
            s.sendto(struct.pack('!BBHHH', 8, 0, checksum, 0x5647, seq), ('\(target)', 0))
            time.sleep(\(interval))
        """
    }
}
