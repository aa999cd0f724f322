import CNetlink
import Glibc
import PacketCore

/// One policy-routing rule (`ip rule`): which table a lookup goes to, in priority order. Only what deciding the
/// route of locally sent traffic to one IP needs (`addrinspect has`).
public struct Rule: Sendable, Hashable {
    /// FR_ACT_* (linux/fib_rules.h).
    public struct Action: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let toTable = Action(rawValue: 1)
        public static let goto = Action(rawValue: 2)
        public static let nop = Action(rawValue: 3)
        public static let blackhole = Action(rawValue: 6)
        public static let unreachable = Action(rawValue: 7)
        public static let prohibit = Action(rawValue: 8)

        public var description: String {
            switch rawValue {
            case 1: "lookup"
            case 2: "goto"
            case 3: "nop"
            case 6: "blackhole"
            case 7: "unreachable"
            case 8: "prohibit"
            default: String(rawValue)
            }
        }
    }

    public var family: AddressFamily
    public var priority: UInt32
    public var action: Action
    public var table: RouteTable
    /// nil: `from all` / `to all`.
    public var source: IPPrefix?
    public var destination: IPPrefix?
    public var inputInterface: String?
    public var outputInterface: String?
    public var mark: UInt32
    public var markMask: UInt32
    public var dsfield: UInt8
    /// An IP protocol, port range or l3mdev selector is set: traffic with no protocol or port (an `ip route get
    /// IP`) never matches it.
    public var hasTransportSelector: Bool

    public init(
        family: AddressFamily, priority: UInt32, action: Action = .toTable, table: RouteTable,
        source: IPPrefix? = nil, destination: IPPrefix? = nil, inputInterface: String? = nil,
        outputInterface: String? = nil, mark: UInt32 = 0, markMask: UInt32 = 0, dsfield: UInt8 = 0,
        hasTransportSelector: Bool = false
    ) {
        self.family = family
        self.priority = priority
        self.action = action
        self.table = table
        self.source = source
        self.destination = destination
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.mark = mark
        self.markMask = markMask
        self.dsfield = dsfield
        self.hasTransportSelector = hasTransportSelector
    }

    /// Whether the rule applies to a packet this host sends to `ip` with no source address chosen yet, no mark,
    /// no TOS, no protocol or port: the kernel's output lookup, whose input interface is `lo`.
    ///
    /// Not modelled: `not` (FIB_RULE_INVERT, which libnl-3 does not expose) and `suppress_prefixlength`.
    public func matchesLocalOutput(to ip: IPAddress) -> Bool {
        guard family == ip.family else { return false }
        if let destination, destination.length > 0, !destination.contains(ip) { return false }
        if let source, source.length > 0 { return false }
        if let inputInterface, inputInterface != "lo" { return false }
        if outputInterface != nil { return false }
        if mark & (markMask == 0 ? 0xFFFF_FFFF : markMask) != 0 { return false }
        if dsfield != 0 || hasTransportSelector { return false }
        return true
    }

    init?(libnl rule: OpaquePointer) {
        let family = AddressFamily(rawValue: UInt8(truncatingIfNeeded: rtnl_rule_get_family(rule)))
        guard family == .inet || family == .inet6 else { return nil }
        self.family = family
        priority = rtnl_rule_get_prio(rule)
        action = Action(rawValue: rtnl_rule_get_action(rule))
        table = RouteTable(rawValue: rtnl_rule_get_table(rule))
        source = LibnlValues.prefix(rtnl_rule_get_src(rule))
        destination = LibnlValues.prefix(rtnl_rule_get_dst(rule))
        inputInterface = LibnlValues.string(rtnl_rule_get_iif(rule))
        outputInterface = LibnlValues.string(rtnl_rule_get_oif(rule))
        mark = rtnl_rule_get_mark(rule)
        // libnl reports an unset mask as 0xFFFFFFFF together with an unset (0) mark; a mark of 0 matches
        // any packet's mark 0 either way.
        markMask = rtnl_rule_get_mask(rule)
        dsfield = rtnl_rule_get_dsfield(rule)
        var proto: UInt8 = 0
        var low: UInt16 = 0
        var high: UInt16 = 0
        let hasProtocol = rtnl_rule_get_ipproto(rule, &proto) == 0 && proto != 0
        let hasSourcePort = rtnl_rule_get_sport(rule, &low, &high) == 0 && (low != 0 || high != 0)
        low = 0
        high = 0
        let hasDestinationPort = rtnl_rule_get_dport(rule, &low, &high) == 0 && (low != 0 || high != 0)
        hasTransportSelector = hasProtocol || hasSourcePort || hasDestinationPort || rtnl_rule_get_l3mdev(rule) > 0
    }
}

extension RouteSocket {
    /// Every IPv4 and IPv6 policy rule, in priority order (`ip rule show` and `ip -6 rule show` together).
    public func rules() throws(NetlinkError) -> [Rule] {
        var cache: OpaquePointer?
        let result = rtnl_rule_alloc_cache(handle, AF_UNSPEC, &cache)
        if result < 0 { throw NetlinkError.libnl(result, while: "read the policy rules") }
        guard let cache else { return [] }
        defer { nl_cache_free(cache) }
        var rules: [Rule] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            if let rule = Rule(libnl: current) { rules.append(rule) }
            object = nl_cache_get_next(current)
        }
        // Stable: rules of one priority keep the kernel's order.
        return rules.enumerated().sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
            .map(\.element)
    }
}
