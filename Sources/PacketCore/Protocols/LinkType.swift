/// A libpcap LINKTYPE/DLT value. Open: an unknown value is kept and shown raw, never an error by itself.
/// Values: https://www.tcpdump.org/linktypes.html
public struct LinkType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IP, DLT_RAW as defined on most BSDs and Linux.
    public static let rawAlt12 = LinkType(rawValue: 12)
    /// Raw IP, DLT_RAW on OpenBSD.
    public static let rawAlt14 = LinkType(rawValue: 14)
    /// Raw IP, LINKTYPE_RAW.
    public static let raw = LinkType(rawValue: 101)
    /// OpenBSD loopback: 4-byte address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    /// Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    /// Linux cooked capture v2 (`tcpdump -i any` with libpcap >= 1.10).
    public static let linuxSLL2 = LinkType(rawValue: 276)

    public var name: String? {
        switch self {
        case .null: "NULL"
        case .ethernet: "EN10MB"
        case .rawAlt12, .rawAlt14, .raw: "RAW"
        case .loop: "LOOP"
        case .linuxSLL: "LINUX_SLL"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        case .linuxSLL2: "LINUX_SLL2"
        default: nil
        }
    }

    public var description: String { name ?? "linktype-\(rawValue)" }
}

/// An Ethernet type (or the protocol field of a Linux cooked header).
public struct EtherType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let ipv6 = EtherType(rawValue: 0x86DD)
    public static let qinq = EtherType(rawValue: 0x88A8)
    /// Pre-standard QinQ outer tag used by some switches.
    public static let qinqLegacy = EtherType(rawValue: 0x9100)
    public static let lldp = EtherType(rawValue: 0x88CC)

    /// The tag protocol identifiers that introduce a VLAN tag.
    public var isVLANTag: Bool { self == .vlan || self == .qinq || self == .qinqLegacy }

    public var name: String? {
        switch self {
        case .ipv4: "IPv4"
        case .arp: "ARP"
        case .vlan: "802.1Q"
        case .ipv6: "IPv6"
        case .qinq: "802.1ad"
        case .qinqLegacy: "QinQ-9100"
        case .lldp: "LLDP"
        default: nil
        }
    }

    public var description: String {
        name ?? "0x" + String(rawValue, radix: 16).padding(toLength: 4)
    }
}

/// An IP protocol number (IPv4 protocol, IPv6 next header).
public struct IPProtocol: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let hopByHop = IPProtocol(rawValue: 0)
    public static let icmp = IPProtocol(rawValue: 1)
    public static let igmp = IPProtocol(rawValue: 2)
    public static let ipip = IPProtocol(rawValue: 4)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let ipv6 = IPProtocol(rawValue: 41)
    public static let routing = IPProtocol(rawValue: 43)
    public static let fragment = IPProtocol(rawValue: 44)
    public static let gre = IPProtocol(rawValue: 47)
    public static let esp = IPProtocol(rawValue: 50)
    public static let ah = IPProtocol(rawValue: 51)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let noNextHeader = IPProtocol(rawValue: 59)
    public static let destinationOptions = IPProtocol(rawValue: 60)
    public static let sctp = IPProtocol(rawValue: 132)
    public static let mobility = IPProtocol(rawValue: 135)

    public var name: String? {
        switch self {
        case .hopByHop: "hop-by-hop"
        case .icmp: "ICMP"
        case .igmp: "IGMP"
        case .ipip: "IPIP"
        case .tcp: "TCP"
        case .udp: "UDP"
        case .ipv6: "IPv6"
        case .routing: "routing"
        case .fragment: "fragment"
        case .gre: "GRE"
        case .esp: "ESP"
        case .ah: "AH"
        case .icmpv6: "ICMPv6"
        case .noNextHeader: "no-next-header"
        case .destinationOptions: "dest-options"
        case .sctp: "SCTP"
        case .mobility: "mobility"
        default: nil
        }
    }

    public var description: String { name ?? "proto-\(rawValue)" }
}

extension String {
    /// Left-pad with zeros (used for hex display).
    func padding(toLength length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
