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

    /// A cheap digest of the decode's results, so two runs can be compared. It reads scalars and enum
    /// tags only (binding an enum payload copies it), so the time measured is the decode's, not this
    /// consumer's. The decode itself cannot be optimised away: it writes `packet` through a
    /// non-inlined call.
    @inline(never)
    static func fold(_ packet: inout Packet) -> UInt64 {
        var value = UInt64(packet.payload.lowerBound) &* 31 &+ UInt64(packet.payload.count)
        value &+= UInt64(packet.link.vlans.count) &+ (packet.link.source?.rawValue ?? 0)
        switch packet.network {
        case .arp: value &+= 1 << 40
        case .ipv4: value &+= 2 << 40
        case .ipv6: value &+= 3 << 40
        default: break
        }
        switch packet.transport {
        case .tcp: value &+= 1 << 48
        case .udp: value &+= 2 << 48
        case .icmpv6: value &+= 3 << 48
        default: break
        }
        if packet.issue != nil { value &+= 1 << 56 }
        return value
    }

    static func fail(_ message: String) -> Never {
        var line = message + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
}
