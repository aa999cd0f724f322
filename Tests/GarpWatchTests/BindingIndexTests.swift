@testable import GarpWatchKit
import PacketCore
import Testing

/// The binding index compares 32-bit fingerprints before it reads a binding: every key must still be found,
/// and no absent key found, however the keys crowd (one subnet, many VLANs, IPv6 differing in one word).
@Suite struct BindingIndexTests {
    func keys() -> [BindingKey] {
        var keys: [BindingKey] = []
        for vlan in UInt16(0)..<8 {
            let path = vlan == 0 ? VLANPath.untagged : VLANPath(ids: [vlan])
            for host in UInt32(0)..<6_000 {
                keys.append(BindingKey(vlans: path, ip: .v4(IPv4Address(rawValue: 0xC633_6400 &+ host))))
            }
        }
        for host in UInt64(0)..<6_000 {
            keys.append(BindingKey(ip: .v6(IPv6Address(high: 0xFD99_0000_0000_0001, low: host))))
            keys.append(BindingKey(ip: .v6(IPv6Address(high: 0xFD98_0000_0000_0000 | host, low: 1))))
        }
        return keys
    }

    @Test func everyKeyIsFoundAndNoAbsentOne() {
        let all = keys()
        let stored = Array(all.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let absent = Array(all.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        var bindings: [Binding] = []
        var index = BindingIndex()
        let time = Timestamp(seconds: 1, nanoseconds: 0)
        for key in stored {
            bindings.append(Binding(key: key, mac: MACAddress(rawValue: 2), time: time, gratuitous: false))
            index.insert(key, at: bindings.count - 1, in: bindings)
        }
        var misplaced = 0
        for (position, key) in stored.enumerated() where index.find(key, in: bindings) != position { misplaced += 1 }
        #expect(misplaced == 0)
        #expect(absent.filter { index.find($0, in: bindings) != nil }.count == 0)
        #expect(index.count == stored.count)
    }
}
