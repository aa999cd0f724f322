import CNetlink
import PacketCore

/// A network interface as rtnetlink describes it (RTM_NEWLINK): what `ip -d link` shows.
public struct Link: Hashable, Sendable {
    public var index: Int32
    public var name: String
    /// IFLA_INFO_KIND: `veth`, `bridge`, `dummy`, `ifb`, `vlan`, `bond`, ...; nil for plain devices (lo, a NIC).
    public var kind: String?
    public var flags: LinkFlags
    public var operationalState: OperationalState
    public var mtu: UInt32
    public var address: HardwareAddress?
    public var broadcast: HardwareAddress?
    public var hardwareType: HardwareType
    /// The bridge or bond this link is enslaved to (IFLA_MASTER).
    public var masterIndex: Int32?
    /// The parent or peer link (IFLA_LINK): a veth's peer, a VLAN's parent.
    public var linkIndex: Int32?
    public var queueingDiscipline: String?
    public var transmitQueueLength: UInt32
    public var group: UInt32

    public init(index: Int32, name: String, kind: String? = nil, flags: LinkFlags = LinkFlags(rawValue: 0),
                operationalState: OperationalState = .unknown, mtu: UInt32 = 1500, address: HardwareAddress? = nil,
                broadcast: HardwareAddress? = nil, hardwareType: HardwareType = .ether, masterIndex: Int32? = nil,
                linkIndex: Int32? = nil, queueingDiscipline: String? = nil, transmitQueueLength: UInt32 = 0,
                group: UInt32 = 0) {
        self.index = index
        self.name = name
        self.kind = kind
        self.flags = flags
        self.operationalState = operationalState
        self.mtu = mtu
        self.address = address
        self.broadcast = broadcast
        self.hardwareType = hardwareType
        self.masterIndex = masterIndex
        self.linkIndex = linkIndex
        self.queueingDiscipline = queueingDiscipline
        self.transmitQueueLength = transmitQueueLength
        self.group = group
    }

    /// Copy a libnl `struct rtnl_link` (borrowed; not kept).
    init(libnl link: OpaquePointer) {
        let master = rtnl_link_get_master(link)
        let parent = rtnl_link_get_link(link)
        self.init(
            index: rtnl_link_get_ifindex(link),
            name: LibnlValues.string(rtnl_link_get_name(link)) ?? "",
            kind: LibnlValues.string(rtnl_link_get_type(link)),
            flags: LinkFlags(rawValue: UInt32(rtnl_link_get_flags(link))),
            operationalState: OperationalState(rawValue: rtnl_link_get_operstate(link)),
            mtu: UInt32(rtnl_link_get_mtu(link)),
            address: LibnlValues.hardwareAddress(rtnl_link_get_addr(link)),
            broadcast: LibnlValues.hardwareAddress(rtnl_link_get_broadcast(link)),
            hardwareType: HardwareType(rawValue: UInt16(truncatingIfNeeded: rtnl_link_get_arptype(link))),
            masterIndex: master > 0 ? master : nil,
            linkIndex: parent > 0 ? parent : nil,
            queueingDiscipline: LibnlValues.string(rtnl_link_get_qdisc(link)),
            transmitQueueLength: UInt32(rtnl_link_get_txqlen(link)),
            group: rtnl_link_get_group(link))
    }

    /// Whether the link answers ARP at all: a `kube-ipvs0`-style holder of service IPs is NOARP.
    public var isNoARP: Bool { flags.contains(.noARP) }
}

/// Interface flags (IFF_*, from ifi_flags), named and ordered as `ip link` prints them.
public struct LinkFlags: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let up = LinkFlags(rawValue: 0x1)
    public static let running = LinkFlags(rawValue: 0x40)
    public static let noARP = LinkFlags(rawValue: 0x80)
    public static let lowerUp = LinkFlags(rawValue: 0x10000)

    public func contains(_ other: LinkFlags) -> Bool { rawValue & other.rawValue == other.rawValue }

    /// iproute2's order (ip/ipaddress.c print_link_flags). RUNNING is not printed; `NO-CARRIER` is shown
    /// instead when a link is UP but not RUNNING.
    static let table: [(UInt32, String)] = [
        (0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"), (0x80, "NOARP"),
        (0x200, "ALLMULTI"), (0x100, "PROMISC"), (0x400, "MASTER"), (0x800, "SLAVE"), (0x4, "DEBUG"),
        (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"), (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"),
        (0x10000, "LOWER_UP"), (0x20000, "DORMANT"), (0x40000, "ECHO"),
    ]

    public var names: [String] {
        let carrierLost = contains(.up) && !contains(.running)
        return (carrierLost ? ["NO-CARRIER"] : []) + flagNames(rawValue & ~LinkFlags.running.rawValue, Self.table)
    }

    public var description: String { names.joined(separator: ",") }
}

/// RFC 2863 operational state (IFLA_OPERSTATE).
public struct OperationalState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unknown = OperationalState(rawValue: 0)
    public static let down = OperationalState(rawValue: 2)
    public static let up = OperationalState(rawValue: 6)

    static let names = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]

    public var description: String { Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : String(rawValue) }
}

/// The link's hardware type (ARPHRD_*), `link_type` in `ip -j link`.
public struct HardwareType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ether = HardwareType(rawValue: 1)
    public static let loopback = HardwareType(rawValue: 772)
    public static let none = HardwareType(rawValue: 65534)

    static let names: [UInt16: String] = [
        0: "netrom", 1: "ether", 24: "ieee1394", 32: "infiniband", 768: "ipip", 769: "ip6tnl", 772: "loopback",
        776: "sit", 778: "gre", 823: "ip6gre", 65534: "none", 65535: "void",
    ]

    public var description: String { Self.names[rawValue] ?? "[\(rawValue)]" }
}
