import CNetlink
import PacketCore

/// An IP address assigned to an interface (RTM_NEWADDR): what `ip addr` shows.
public struct Address: Hashable, Sendable {
    public var interfaceIndex: Int32
    public var local: IPAddress
    public var prefixLength: Int
    /// The other end of a point-to-point address (IFA_ADDRESS when it differs from IFA_LOCAL).
    public var peer: IPAddress?
    public var broadcast: IPAddress?
    public var scope: Scope
    /// IPv4 label (`eth0:1` style aliases); nil for IPv6.
    public var label: String?
    public var flags: AddressFlags
    /// Seconds; `AddressLifetime.forever` (0xFFFFFFFF) means no expiry.
    public var validLifetime: UInt32
    public var preferredLifetime: UInt32

    public init(interfaceIndex: Int32, local: IPAddress, prefixLength: Int, peer: IPAddress? = nil,
                broadcast: IPAddress? = nil, scope: Scope = .global, label: String? = nil,
                flags: AddressFlags = AddressFlags(rawValue: 0), validLifetime: UInt32 = AddressLifetime.forever,
                preferredLifetime: UInt32 = AddressLifetime.forever) {
        self.interfaceIndex = interfaceIndex
        self.local = local
        self.prefixLength = prefixLength
        self.peer = peer
        self.broadcast = broadcast
        self.scope = scope
        self.label = label
        self.flags = flags
        self.validLifetime = validLifetime
        self.preferredLifetime = preferredLifetime
    }

    /// Copy a libnl `struct rtnl_addr` (borrowed). nil for an address of a family we do not show.
    init?(libnl address: OpaquePointer) {
        guard let local = LibnlValues.ipAddress(rtnl_addr_get_local(address)) else { return nil }
        // libnl reports IFA_ADDRESS as the peer only for point-to-point addresses; the prefix length comes from
        // the message itself (nl_addr2str would drop it for full-length prefixes).
        let peer = LibnlValues.ipAddress(rtnl_addr_get_peer(address))
        self.init(
            interfaceIndex: Int32(rtnl_addr_get_ifindex(address)),
            local: local,
            prefixLength: Int(rtnl_addr_get_prefixlen(address)),
            peer: peer == local ? nil : peer,
            broadcast: LibnlValues.ipAddress(rtnl_addr_get_broadcast(address)),
            scope: Scope(rawValue: UInt8(truncatingIfNeeded: rtnl_addr_get_scope(address))),
            label: LibnlValues.string(rtnl_addr_get_label(address)).flatMap { $0.isEmpty ? nil : $0 },
            flags: AddressFlags(rawValue: UInt32(rtnl_addr_get_flags(address))),
            validLifetime: rtnl_addr_get_valid_lifetime(address),
            preferredLifetime: rtnl_addr_get_preferred_lifetime(address))
    }

    public var family: AddressFamily { local.family }

    /// What identifies the address to the kernel: an add with the same key replaces it, a delete removes it.
    public var key: AddressKey { AddressKey(interfaceIndex: interfaceIndex, local: local, prefixLength: prefixLength) }
}

public struct AddressKey: Hashable, Sendable {
    public var interfaceIndex: Int32
    public var local: IPAddress
    public var prefixLength: Int
}

public enum AddressLifetime {
    /// INFINITY_LIFE_TIME: the address never expires (`forever` in `ip addr`).
    public static let forever: UInt32 = 0xFFFF_FFFF

    public static func text(_ seconds: UInt32) -> String { seconds == forever ? "forever" : "\(seconds)sec" }
}

/// Address flags (IFA_F_*, the 32-bit IFA_FLAGS attribute), with the names `ip addr` uses.
public struct AddressFlags: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// IPv4 calls bit 0 `secondary`; IPv6 uses the same bit for `temporary` (RFC 4941 privacy addresses).
    public static let secondary = AddressFlags(rawValue: 0x01)
    public static let noDAD = AddressFlags(rawValue: 0x02)
    public static let optimistic = AddressFlags(rawValue: 0x04)
    public static let dadFailed = AddressFlags(rawValue: 0x08)
    public static let deprecated = AddressFlags(rawValue: 0x20)
    public static let tentative = AddressFlags(rawValue: 0x40)
    public static let permanent = AddressFlags(rawValue: 0x80)
    public static let noPrefixRoute = AddressFlags(rawValue: 0x200)

    public func contains(_ other: AddressFlags) -> Bool { rawValue & other.rawValue == other.rawValue }

    /// From linux/if_addr.h; names as iproute2's ifa_flag_names.
    static func table(for family: AddressFamily) -> [(UInt32, String)] {
        [
            (0x01, family == .inet6 ? "temporary" : "secondary"), (0x02, "nodad"), (0x04, "optimistic"),
            (0x08, "dadfailed"), (0x10, "home"), (0x20, "deprecated"), (0x40, "tentative"), (0x80, "permanent"),
            (0x100, "mngtmpaddr"), (0x200, "noprefixroute"), (0x400, "autojoin"), (0x800, "stable-privacy"),
        ]
    }

    /// Every set bit by name; unknown bits as one hex value (`0x10000`).
    public func names(family: AddressFamily) -> [String] { flagNames(rawValue, Self.table(for: family)) }
}
