import CNetlink
import PacketCore

/// A neighbour (ARP or NDP) entry (RTM_NEWNEIGH): which link-layer address this host holds for an IP.
public struct Neighbour: Hashable, Sendable {
    public var interfaceIndex: Int32
    public var destination: IPAddress
    public var linkLayerAddress: HardwareAddress?
    public var state: NeighbourState
    public var flags: NeighbourFlags

    public init(interfaceIndex: Int32, destination: IPAddress, linkLayerAddress: HardwareAddress? = nil,
                state: NeighbourState, flags: NeighbourFlags = NeighbourFlags(rawValue: 0)) {
        self.interfaceIndex = interfaceIndex
        self.destination = destination
        self.linkLayerAddress = linkLayerAddress
        self.state = state
        self.flags = flags
    }

    /// Copy a libnl `struct rtnl_neigh` (borrowed). nil for bridge FDB entries and other non-IP neighbours.
    init?(libnl neighbour: OpaquePointer) {
        let family = rtnl_neigh_get_family(neighbour)
        guard family == AF_INET || family == AF_INET6,
            let destination = LibnlValues.ipAddress(rtnl_neigh_get_dst(neighbour))
        else { return nil }
        let state = rtnl_neigh_get_state(neighbour)
        self.init(
            interfaceIndex: Int32(rtnl_neigh_get_ifindex(neighbour)),
            destination: destination,
            linkLayerAddress: LibnlValues.hardwareAddress(rtnl_neigh_get_lladdr(neighbour)),
            state: NeighbourState(rawValue: state < 0 ? 0 : UInt16(truncatingIfNeeded: state)),
            flags: NeighbourFlags(rawValue: UInt8(truncatingIfNeeded: rtnl_neigh_get_flags(neighbour))))
    }

    public var family: AddressFamily { destination.family }

    public var key: NeighbourKey { NeighbourKey(interfaceIndex: interfaceIndex, destination: destination) }

    /// Whether the entry names a usable link-layer address (not INCOMPLETE, FAILED or empty).
    public var hasUsableAddress: Bool {
        guard let linkLayerAddress, !linkLayerAddress.bytes.isEmpty else { return false }
        return state.rawValue & NeighbourState.usable.rawValue != 0
    }
}

public struct NeighbourKey: Hashable, Sendable {
    public var interfaceIndex: Int32
    public var destination: IPAddress
}

/// Neighbour unreachability detection state (NUD_*, RFC 4861 section 7.3.2 plus Linux's own states).
public struct NeighbourState: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let incomplete = NeighbourState(rawValue: 0x01)
    public static let reachable = NeighbourState(rawValue: 0x02)
    public static let stale = NeighbourState(rawValue: 0x04)
    public static let delay = NeighbourState(rawValue: 0x08)
    public static let probe = NeighbourState(rawValue: 0x10)
    public static let failed = NeighbourState(rawValue: 0x20)
    public static let noARP = NeighbourState(rawValue: 0x40)
    public static let permanent = NeighbourState(rawValue: 0x80)
    /// States in which the kernel holds a link-layer address it would send to.
    static let usable = NeighbourState(rawValue: 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80)

    static let table: [(UInt16, String)] = [
        (0x01, "INCOMPLETE"), (0x02, "REACHABLE"), (0x04, "STALE"), (0x08, "DELAY"), (0x10, "PROBE"),
        (0x20, "FAILED"), (0x40, "NOARP"), (0x80, "PERMANENT"),
    ]

    /// As `ip neigh` names them; `NONE` for no state bit.
    public var names: [String] { rawValue == 0 ? ["NONE"] : flagNames(rawValue, Self.table) }
}

/// Neighbour flags (NTF_*).
public struct NeighbourFlags: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let router = NeighbourFlags(rawValue: 0x80)

    static let table: [(UInt8, String)] = [
        (0x01, "use"), (0x02, "self"), (0x04, "master"), (0x08, "proxy"), (0x10, "extern_learn"),
        (0x20, "offload"), (0x40, "sticky"), (0x80, "router"),
    ]

    public var names: [String] { flagNames(rawValue, Self.table) }
}
