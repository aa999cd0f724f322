import CNetlink
import PacketCore

/// A route (RTM_NEWROUTE) from any table: what `ip route show table all` shows.
public struct Route: Hashable, Sendable {
    public var family: AddressFamily
    public var table: RouteTable
    public var type: RouteType
    /// `0.0.0.0/0` or `::/0` for a default route.
    public var destination: IPPrefix
    public var source: IPPrefix?
    public var tos: UInt8
    public var routingProtocol: RouteProtocol
    public var scope: Scope
    /// The metric (RTA_PRIORITY); 0 when the kernel sent none.
    public var priority: UInt32
    public var preferredSource: IPAddress?
    public var nexthops: [Nexthop]
    /// RTM_F_* and RTNH_F_* bits of the route itself.
    public var flags: UInt32

    public init(family: AddressFamily, table: RouteTable = .main, type: RouteType = .unicast, destination: IPPrefix,
                source: IPPrefix? = nil, tos: UInt8 = 0, routingProtocol: RouteProtocol = .kernel,
                scope: Scope = .global, priority: UInt32 = 0, preferredSource: IPAddress? = nil,
                nexthops: [Nexthop] = [], flags: UInt32 = 0) {
        self.family = family
        self.table = table
        self.type = type
        self.destination = destination
        self.source = source
        self.tos = tos
        self.routingProtocol = routingProtocol
        self.scope = scope
        self.priority = priority
        self.preferredSource = preferredSource
        self.nexthops = nexthops
        self.flags = flags
    }

    /// Copy a libnl `struct rtnl_route` (borrowed). nil for families other than IPv4/IPv6.
    init?(libnl route: OpaquePointer) {
        let family = AddressFamily(rawValue: rtnl_route_get_family(route))
        guard family == .inet || family == .inet6 else { return nil }
        guard let destination = LibnlValues.prefix(rtnl_route_get_dst(route))
            ?? IPPrefix(address: family == .inet ? .v4(.any) : .v6(.unspecified), length: 0)
        else { return nil }
        var nexthops: [Nexthop] = []
        let count = rtnl_route_get_nnexthops(route)
        if count > 0 {
            nexthops.reserveCapacity(Int(count))
            for index in 0..<count {
                guard let nexthop = rtnl_route_nexthop_n(route, index) else { continue }
                let interfaceIndex = rtnl_route_nh_get_ifindex(nexthop)
                nexthops.append(Nexthop(
                    interfaceIndex: interfaceIndex > 0 ? Int32(interfaceIndex) : nil,
                    gateway: LibnlValues.ipAddress(rtnl_route_nh_get_gateway(nexthop)),
                    weight: rtnl_route_nh_get_weight(nexthop),
                    flags: UInt32(rtnl_route_nh_get_flags(nexthop))))
            }
        }
        let source = LibnlValues.prefix(rtnl_route_get_src(route))
        self.init(
            family: family,
            table: RouteTable(rawValue: rtnl_route_get_table(route)),
            type: RouteType(rawValue: rtnl_route_get_type(route)),
            destination: destination,
            source: source.flatMap { $0.length == 0 ? nil : $0 },
            tos: rtnl_route_get_tos(route),
            routingProtocol: RouteProtocol(rawValue: rtnl_route_get_protocol(route)),
            scope: Scope(rawValue: rtnl_route_get_scope(route)),
            priority: rtnl_route_get_priority(route),
            preferredSource: LibnlValues.ipAddress(rtnl_route_get_pref_src(route)),
            nexthops: nexthops,
            flags: rtnl_route_get_flags(route))
    }

    /// What identifies a route to the kernel: table, prefix, TOS and metric; IPv6 also keeps one route per
    /// device for the same prefix and metric (every link has its own fe80::/64), so its device is part of the key.
    public var key: RouteKey {
        RouteKey(
            table: table, destination: destination, source: source, tos: tos, priority: priority,
            interfaceIndex: family == .inet6 ? nexthops.first?.interfaceIndex : nil)
    }

    /// The route's flags and its nexthops' flags by name (`onlink`, `linkdown`, ...), as `ip route` merges them.
    public var flagNames: [String] {
        Netlink.flagNames(nexthops.reduce(flags & 0xFF) { $0 | $1.flags }, Nexthop.flagTable)
    }
}

public struct RouteKey: Hashable, Sendable {
    public var table: RouteTable
    public var destination: IPPrefix
    public var source: IPPrefix?
    public var tos: UInt8
    public var priority: UInt32
    public var interfaceIndex: Int32?
}

/// One next hop of a route (the only one for most routes).
public struct Nexthop: Hashable, Sendable {
    public var interfaceIndex: Int32?
    public var gateway: IPAddress?
    public var weight: UInt8
    public var flags: UInt32

    public init(interfaceIndex: Int32?, gateway: IPAddress? = nil, weight: UInt8 = 0, flags: UInt32 = 0) {
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
        self.weight = weight
        self.flags = flags
    }

    /// RTNH_F_* (linux/rtnetlink.h).
    static let flagTable: [(UInt32, String)] = [
        (0x01, "dead"), (0x02, "pervasive"), (0x04, "onlink"), (0x08, "offload"), (0x10, "linkdown"),
        (0x20, "unresolved"), (0x40, "trap"),
    ]
}

/// A routing table id: 255 local, 254 main, 253 default, or any other number.
public struct RouteTable: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let main = RouteTable(rawValue: 254)
    public static let local = RouteTable(rawValue: 255)
    public static let defaultTable = RouteTable(rawValue: 253)

    public var description: String {
        switch rawValue {
        case 255: "local"
        case 254: "main"
        case 253: "default"
        case 0: "unspec"
        default: String(rawValue)
        }
    }

    /// `main`, `local`, `default` or a number.
    public init?(name: String) {
        switch name {
        case "local": self = .local
        case "main": self = .main
        case "default": self = .defaultTable
        default:
            guard let number = UInt32(name) else { return nil }
            self.init(rawValue: number)
        }
    }
}

/// The route type (RTN_*): what the kernel does with a packet matching the route.
public struct RouteType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unicast = RouteType(rawValue: 1)
    /// Deliver locally: the host owns the destination (an assigned address, or an AnyIP prefix).
    public static let local = RouteType(rawValue: 2)
    public static let broadcast = RouteType(rawValue: 3)
    public static let blackhole = RouteType(rawValue: 6)
    public static let unreachable = RouteType(rawValue: 7)
    public static let prohibit = RouteType(rawValue: 8)
    /// Policy routing: stop looking in this table, go on to the next rule.
    public static let throwRoute = RouteType(rawValue: 9)

    static let names = [
        "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit",
        "throw", "nat", "xresolve",
    ]

    public var description: String { Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : String(rawValue) }
}

/// Who installed the route (RTPROT_*), with the names of iproute2's rt_protos.
public struct RouteProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let kernel = RouteProtocol(rawValue: 2)
    public static let boot = RouteProtocol(rawValue: 3)
    public static let `static` = RouteProtocol(rawValue: 4)

    static let names: [UInt8: String] = [
        0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra", 10: "mrt",
        11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 17: "mrouted",
        18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 192: "eigrp",
    ]

    public var description: String { Self.names[rawValue] ?? String(rawValue) }
}
