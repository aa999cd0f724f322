import Capture
import Glibc
import PacketCore

/// `corebench MODE FILE [REPEAT]`: the measurement half of scripts/bench-core.
///
/// - `floor`: a bare libpcap read loop (pcap_next_ex through Capture), touching one byte per frame so the
///   loop is not optimised away: what reading the capture alone costs.
/// - `decode`: the same loop plus PacketCore's full decode of every layer of every frame.
///
/// Prints one line: `MODE frames=N seconds=S rate=R checksum=C`. The checksum folds decoded values into a
/// number so the decode cannot be optimised away and two runs can be compared.
@main
struct CoreBench {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, arguments[1] == "floor" || arguments[1] == "decode" else {
            fail("usage: corebench floor|decode FILE [REPEAT]")
        }
        let mode = arguments[1]
        let path = arguments[2]
        let repeats = arguments.count > 3 ? max(1, Int(arguments[3]) ?? 1) : 1
        var frames = 0
        var checksum: UInt64 = 0
        let clock = ContinuousClock()
        let start = clock.now
        do {
            for _ in 0..<repeats {
                let source = try PacketSource.openFile(path)
                if mode == "floor" {
                    try source.forEach { record in
                        frames += 1
                        checksum &+= UInt64(record.bytes.first ?? 0) &+ UInt64(record.capturedLength)
                        return .continue
                    }
                } else {
                    var packet = Packet()
                    try source.forEach { record in
                        frames += 1
                        packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
                        checksum &+= fold(&packet)
                        return .continue
                    }
                }
            }
        } catch {
            fail("corebench: \(error)")
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("\(mode) frames=\(frames) seconds=\(seconds) rate=\(Int(Double(frames) / max(seconds, 1e-9))) checksum=\(checksum)")
    }

    /// A cheap digest of what the decode found at every layer.
    @inline(never)
    static func fold(_ packet: inout Packet) -> UInt64 {
        var value = UInt64(packet.payload.count) &+ UInt64(packet.link.vlans.count)
        switch packet.network {
        case .arp(let arp): value &+= arp.senderMAC.rawValue &+ UInt64(arp.senderIP.rawValue)
        case .ipv4(let header): value &+= UInt64(header.source.rawValue)
        case .ipv6(let header): value &+= header.source.low
        default: break
        }
        switch packet.transport {
        case .tcp(let tcp): value &+= UInt64(tcp.sequence) &+ UInt64(tcp.options.maximumSegmentSize ?? 0)
        case .udp(let udp): value &+= UInt64(udp.destinationPort)
        case .icmpv6(let icmp): value &+= icmp.ndp?.targetLinkLayer?.rawValue ?? 0
        default: break
        }
        if packet.issue != nil { value &+= 1 }
        return value
    }

    static func fail(_ message: String) -> Never {
        var line = message + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
}
