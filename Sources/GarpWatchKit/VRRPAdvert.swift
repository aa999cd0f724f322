import PacketCore

/// A VRRP advertisement (IP protocol 112): which router (MAC) is master for which addresses, or, with
/// priority 0, that it is giving them up. keepalived sends version 2 by default, version 3 when asked.
///
/// RFC 3768 section 5.1 (version 2) and RFC 5798 section 5.1 (version 3):
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Auth Type   |   Adver Int   |          Checksum             |  v2
/// |(rsvd) |     Max Adver Int     |          Checksum             |  v3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       IPvX Address(es)  (4 or 16 bytes each)  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Only what garpwatch needs is kept: the priority and up to `maximumAddresses` addresses (a count that
/// claims more than the bytes hold keeps the addresses that are there; an unknown version or type is nil).
public struct VRRPAdvert: Sendable, Hashable {
    public var version: UInt8
    public var virtualRouterID: UInt8
    /// 0: the master is leaving (RFC 5798 section 6.4.3); 255: it owns the addresses.
    public var priority: UInt8
    public var addresses: [IPAddress]

    public static let maximumAddresses = 16

    /// Parse the advert in `cursor` (the IP payload); `ipv6`: the addresses are 16 bytes (VRRP over IPv6).
    public init?(parsing cursor: inout Cursor, ipv6: Bool) {
        guard let versionAndType = try? cursor.readU8(), let id = try? cursor.readU8(),
            let priority = try? cursor.readU8(), let count = try? cursor.readU8(),
            (try? cursor.readU32()) != nil
        else { return nil }
        let version = versionAndType >> 4
        guard version == 2 || version == 3, versionAndType & 0x0F == 1 else { return nil }
        self.version = version
        virtualRouterID = id
        self.priority = priority
        var addresses: [IPAddress] = []
        for _ in 0..<min(Int(count), Self.maximumAddresses) {
            if ipv6 {
                guard cursor.remaining >= 16, let high = try? cursor.readU64(), let low = try? cursor.readU64() else {
                    break
                }
                addresses.append(.v6(IPv6Address(high: high, low: low)))
            } else {
                guard let raw = try? cursor.readU32() else { break }
                addresses.append(.v4(IPv4Address(rawValue: raw)))
            }
        }
        self.addresses = addresses
    }
}
