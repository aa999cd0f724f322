import PacketCore

/// The VLAN ids a frame carried, outermost first, packed into one word so a binding key stays a small
/// value type (hashing it allocates nothing). Up to four ids of 12 bits each; the top byte holds the count.
public struct VLANPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public static let untagged = VLANPath(rawValue: 0)

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(ids: some Sequence<UInt16>) {
        var value: UInt64 = 0
        var count: UInt64 = 0
        for id in ids where count < 4 {
            value |= UInt64(id & 0x0FFF) << (12 * count)
            count += 1
        }
        rawValue = value | count << 56
    }

    @inline(__always)
    public init(_ stack: VLANStack) {
        if stack.isEmpty {
            self.init(rawValue: 0)
        } else {
            self.init(ids: stack.lazy.map(\.id))
        }
    }

    public var count: Int { Int(rawValue >> 56) }
    public var ids: [UInt16] { (0..<count).map { UInt16(truncatingIfNeeded: rawValue >> (12 * UInt64($0))) & 0x0FFF } }

    /// `vlan 200.100` (outer first), or empty for untagged frames.
    public var description: String {
        count == 0 ? "" : "vlan " + ids.map(String.init).joined(separator: ".")
    }

    public static func < (lhs: VLANPath, rhs: VLANPath) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What a binding is about: one IP address on one VLAN path. The same IP on two VLANs is two stations,
/// not a conflict.
public struct BindingKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var vlans: VLANPath
    public var ip: IPAddress

    public init(vlans: VLANPath = .untagged, ip: IPAddress) {
        self.vlans = vlans
        self.ip = ip
    }

    /// `198.51.100.20` or `198.51.100.20 vlan 100`.
    public var description: String { vlans.count == 0 ? "\(ip)" : "\(ip) \(vlans)" }

    public static func < (lhs: BindingKey, rhs: BindingKey) -> Bool {
        lhs.ip != rhs.ip ? lhs.ip < rhs.ip : lhs.vlans < rhs.vlans
    }
}
