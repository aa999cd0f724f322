import PacketCore

/// Everything this host's kernel says about one service IP, and the plain-words reading of it: is the IP local
/// here (and on which interface, of which kind), which MAC this host holds for it, how traffic to it leaves.
///
/// It is built from one `Snapshot` (links, addresses, neighbours, routes) plus the ARP sysctls, so it is pure and
/// can be tested without a kernel.
public struct ServiceIPReport: Sendable {
    /// The answer, and the exit status `addrinspect has` returns for it.
    public enum Verdict: String, Sendable {
        /// Assigned to an interface here, or delivered locally by a `local` route.
        case local
        /// Not local; no neighbour entry with a MAC for it, but a route sends it somewhere.
        case notLocal = "not-local"
        /// Not local, and this host holds a MAC for it (another host on a link answers ARP/NDP for it).
        case neighbourKnown = "neighbour-known"
        /// Not local, no usable neighbour entry, and no usable route (none, or blackhole/unreachable/prohibit).
        case unknown

        public var exitCode: Int32 {
            switch self {
            case .local: 0
            case .notLocal: 10
            case .neighbourKnown: 11
            case .unknown: 12
            }
        }
    }

    public struct Holder: Sendable {
        public var address: Address
        public var link: Link?
    }

    public struct NeighbourEntry: Sendable {
        public var neighbour: Neighbour
        public var link: Link?
    }

    public let ip: IPAddress
    public let holders: [Holder]
    /// `local` routes (any table) covering the IP: one per assigned address, or an AnyIP prefix.
    public let localRoutes: [Route]
    public let neighbours: [NeighbourEntry]
    /// For a non-local IP, the route the kernel would pick for traffic this host sends to it: policy rules in
    /// priority order (`ip rule`), in each table the longest prefix, then the lowest metric (`throw` goes on to
    /// the next rule), like `ip route get IP`.
    public let egress: Route?
    /// The policy rule that chose `egress`, or that drops the traffic (blackhole, unreachable, prohibit).
    public let egressRule: Rule?
    /// `net.ipv4.conf.all` and per-interface ARP settings, for IPv4 addresses.
    public let arpAll: ARPSettings?
    public let arpByInterface: [String: ARPSettings]
    public let verdict: Verdict
    public let reading: [String]

    /// `arp` holds `all` and each interface's ARP settings by name (missing ones are shown as unknown). `rules`
    /// are the policy rules; empty means the kernel's defaults (local, main, default).
    public init(ip: IPAddress, snapshot: Snapshot, arp: [String: ARPSettings], rules: [Rule] = []) {
        self.ip = ip
        let linksByIndex = Dictionary(snapshot.links.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        holders = snapshot.addresses.filter { $0.local == ip }
            .map { Holder(address: $0, link: linksByIndex[$0.interfaceIndex]) }
        localRoutes = snapshot.routes.filter { $0.type == .local && $0.destination.contains(ip) }
        neighbours = snapshot.neighbours.filter { $0.destination == ip }
            .map { NeighbourEntry(neighbour: $0, link: linksByIndex[$0.interfaceIndex]) }
        let isLocal = !holders.isEmpty || !localRoutes.isEmpty
        // Only asked when the IP is not local: the local table wins over whatever the other tables say.
        if isLocal {
            egress = nil
            egressRule = nil
        } else {
            (egress, egressRule) = Self.route(to: ip, routes: snapshot.routes, rules: rules)
        }
        arpAll = ip.family == .inet ? arp["all"] : nil
        arpByInterface = ip.family == .inet ? arp.filter { $0.key != "all" } : [:]

        let usableNeighbours = neighbours.filter { $0.neighbour.hasUsableAddress }
        let routable = egress.map { $0.type == .unicast || $0.type == .local } ?? false
        if isLocal {
            verdict = .local
        } else if !usableNeighbours.isEmpty {
            verdict = .neighbourKnown
        } else if routable {
            verdict = .notLocal
        } else {
            verdict = .unknown
        }
        reading = Self.read(
            ip: ip, holders: holders, localRoutes: localRoutes, neighbours: neighbours, egress: egress,
            egressRule: egressRule,
            links: snapshot.links, arpAll: arpAll, arpByInterface: arpByInterface, linksByIndex: linksByIndex)
    }

    /// The kernel's rules when none were read: `0: lookup local`, `32766: lookup main`, `32767: lookup default`.
    public static func defaultRules(family: AddressFamily) -> [Rule] {
        [Rule(family: family, priority: 0, table: .local), Rule(family: family, priority: 32766, table: .main),
         Rule(family: family, priority: 32767, table: .defaultTable)]
    }

    /// The route `ip route get IP` would show, and the rule that led to it: rules in priority order; a matching
    /// `lookup` rule's table gives its longest-prefix, lowest-metric route unless that is `throw` (or the table
    /// has none), when the next rule is tried; a blackhole/unreachable/prohibit rule ends the walk with no
    /// route. `goto` and `nop` go on to the next rule (a goto's target is at a later priority anyway).
    public static func route(to ip: IPAddress, routes: [Route], rules: [Rule]) -> (Route?, Rule?) {
        let ordered = rules.contains { $0.family == ip.family } ? rules : defaultRules(family: ip.family)
        for rule in ordered where rule.matchesLocalOutput(to: ip) {
            switch rule.action {
            case .toTable:
                let best = routes
                    .filter { $0.table == rule.table && $0.family == ip.family && $0.destination.contains(ip) }
                    .min { a, b in
                        a.destination.length != b.destination.length
                            ? a.destination.length > b.destination.length : a.priority < b.priority
                    }
                guard let best, best.type != .throwRoute else { continue }
                return (best, rule)
            case .blackhole, .unreachable, .prohibit:
                return (nil, rule)
            default:
                continue
            }
        }
        return (nil, nil)
    }

    // MARK: - The plain-words reading

    private static func read(
        ip: IPAddress, holders: [Holder], localRoutes: [Route], neighbours: [NeighbourEntry], egress: Route?,
        egressRule: Rule?,
        links: [Link], arpAll: ARPSettings?, arpByInterface: [String: ARPSettings], linksByIndex: [Int32: Link]
    ) -> [String] {
        var lines: [String] = []
        let isIPv4 = ip.family == .inet
        for holder in holders {
            let name = holder.link?.name ?? "interface \(holder.address.interfaceIndex)"
            let described = "\(name) (\(describe(holder.link)))"
            if let link = holder.link, link.isNoARP || link.kind == "dummy" {
                var line = "bound to \(described)"
                if link.name == "kube-ipvs0" || link.kind == "dummy" {
                    line += ": IPVS mode (kube-proxy puts every LoadBalancer IP on kube-ipvs0 on every node)"
                } else {
                    line += ": held on a device that never answers ARP itself"
                }
                if isIPv4 { line += "; check arp_ignore/arp_announce (strictARP)" }
                lines.append(line)
                if isIPv4 {
                    lines.append(arpReading(holder: link, links: links, all: arpAll, byInterface: arpByInterface))
                }
            } else {
                lines.append(
                    "assigned on \(described): this node answers \(isIPv4 ? "ARP" : "NDP") for it itself "
                        + "(keepalived/kube-vip style, or a node address)")
            }
            let flags = holder.address.flags
            if flags.contains(.dadFailed) {
                lines.append("duplicate address detection failed on \(name): another host on that link claims it")
            } else if flags.contains(.tentative) {
                lines.append("still tentative on \(name): duplicate address detection has not finished")
            }
            if flags.contains(.deprecated) {
                lines.append("deprecated on \(name) (preferred lifetime 0): not chosen as a source address")
            }
        }
        if holders.count > 1 { lines.append("assigned on \(holders.count) interfaces") }
        if holders.isEmpty, let route = localRoutes.first {
            let device = route.nexthops.first?.interfaceIndex.flatMap { linksByIndex[$0]?.name }
            lines.append(
                "delivered locally by a local route \(route.destination) in table \(route.table)"
                    + (device.map { " dev \($0)" } ?? "") + " (AnyIP) although no interface holds it")
        }
        let isLocal = !holders.isEmpty || !localRoutes.isEmpty
        for entry in neighbours {
            let neighbour = entry.neighbour
            let device = entry.link?.name ?? "interface \(neighbour.interfaceIndex)"
            let state = neighbour.state.names.joined(separator: ",")
            if neighbour.hasUsableAddress, let mac = neighbour.linkLayerAddress {
                lines.append(
                    "this host holds MAC \(mac) for it on \(device) (\(state))"
                        + (isLocal ? "" : ": another host on that link answers for it"))
            } else {
                lines.append("a neighbour entry on \(device) is \(state): nobody answered for it there")
            }
        }
        if !isLocal {
            if let route = egress {
                let device = route.nexthops.first?.interfaceIndex.flatMap { linksByIndex[$0]?.name }
                let gateway = route.nexthops.first?.gateway
                switch route.type {
                case .unicast:
                    var line = "not local: traffic to it leaves"
                    if let gateway { line += " via \(gateway)" }
                    if let device { line += " dev \(device)" }
                    line += " (route \(route.destination)" + (gateway == nil ? ", on-link" : "")
                    if route.table != .main { line += ", table \(route.table)" }
                    if let egressRule, egressRule.priority != 32766 || egressRule.table != .main {
                        line += ", policy rule \(egressRule.priority)"
                    }
                    lines.append(line + ")")
                default:
                    lines.append("not local: route \(route.destination) is \(route.type), traffic to it is dropped")
                }
            } else if let egressRule {
                lines.append(
                    "not local: policy rule \(egressRule.priority) is \(egressRule.action), traffic to it is dropped")
            } else if neighbours.allSatisfy({ !$0.neighbour.hasUsableAddress }) {
                lines.append("not local: no address, local route, neighbour entry or route covers it")
            }
        }
        return lines
    }

    /// `dummy, NOARP, UP` style summary of a link.
    static func describe(_ link: Link?) -> String {
        guard let link else { return "unknown link" }
        var parts = [link.kind ?? "device"]
        if link.isNoARP { parts.append("NOARP") }
        parts.append(link.flags.contains(.up) ? "UP" : "DOWN")
        return parts.joined(separator: ", ")
    }

    /// Whether ARP requests arriving on the node's other interfaces get answered for an address held on `holder`.
    static func arpReading(holder: Link, links: [Link], all: ARPSettings?, byInterface: [String: ARPSettings])
        -> String
    {
        guard let all else { return "arp_ignore/arp_announce could not be read" }
        let others = links.filter {
            $0.index != holder.index && !$0.isNoARP && $0.hardwareType != .loopback && $0.flags.contains(.up)
        }
        var lax: [String] = []
        for link in others {
            let effective = (byInterface[link.name] ?? all).effective(with: all)
            if !effective.isStrict {
                lax.append("\(link.name) (arp_ignore=\(effective.ignore) arp_announce=\(effective.announce))")
            }
        }
        if others.isEmpty {
            return "no other interface is up; net.ipv4.conf.all has arp_ignore=\(all.ignore) "
                + "arp_announce=\(all.announce)" + (all.isStrict ? " (strictARP)" : " (not strictARP)")
        }
        if lax.isEmpty {
            return "strictARP in effect (arp_ignore>=1, arp_announce>=2 on every other interface): only the node "
                + "that announces it answers ARP for it"
        }
        return "not strictARP on " + lax.joined(separator: ", ") + ": this node answers ARP for it there although "
            + "it is only on \(holder.name); with MetalLB layer 2 every node answers. Enable strictARP "
            + "(arp_ignore=1, arp_announce=2)"
    }
}
