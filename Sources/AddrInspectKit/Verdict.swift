import Netlink
import PacketCore
import ToolSupport

/// `has IP`: everything the kernel knows about one service IP, read in one go, and its JSON fields.
public enum VerdictRendering {
    /// Read the tables, rules and (IPv4) ARP sysctls `ServiceIPReport` needs; call inside the namespace's scope.
    public static func read(_ address: IPAddress) throws(NetlinkError) -> (ServiceIPReport, Renderer) {
        let socket = try RouteSocket()
        let snapshot = try socket.snapshot(of: Set(ObjectKind.allCases))
        let rules = try socket.rules()
        // Sysctls belong to the namespace too, so they are read on the same thread as the socket was opened.
        var arp: [String: ARPSettings] = [:]
        if address.family == .inet {
            for name in ["all"] + snapshot.links.map(\.name) { arp[name] = ARPSettings.read(interface: name) }
        }
        return (ServiceIPReport(ip: address, snapshot: snapshot, arp: arp, rules: rules), Renderer(links: snapshot.links))
    }

    public static func json(_ report: ServiceIPReport, renderer: Renderer) -> JSONLine {
        var line = JSONLine()
        line.add("ip", report.ip.description)
        line.add("verdict", report.verdict.rawValue)
        line.add("exit_status", report.verdict.exitCode)
        line.add("addresses", JSONValue(report.holders.map { holder in
            var item = JSONLine()
            item.add("dev", holder.link?.name)
            item.add("ifindex", holder.address.interfaceIndex)
            item.add("kind", holder.link?.kind)
            item.add("link_flags", list: holder.link?.flags.names ?? [])
            item.add("prefixlen", holder.address.prefixLength)
            item.add("flags", list: holder.address.flags.names(family: holder.address.family))
            return JSONValue(item)
        }))
        line.add("local_routes", JSONValue(report.localRoutes.map { route in
            var item = JSONLine()
            item.add("dst", route.destination.description)
            item.add("table", route.table.description)
            item.add("dev", renderer.name(route.nexthops.first?.interfaceIndex))
            return JSONValue(item)
        }))
        line.add("neighbours", JSONValue(report.neighbours.map { entry in
            var item = JSONLine()
            item.add("dev", entry.link?.name)
            item.add("lladdr", entry.neighbour.linkLayerAddress?.description)
            item.add("state", list: entry.neighbour.state.names)
            return JSONValue(item)
        }))
        if let route = report.egress {
            var item = JSONLine()
            item.add("dst", route.destination.description)
            item.add("type", route.type.description)
            item.add("table", route.table.description)
            item.add("gateway", route.nexthops.first?.gateway?.description)
            item.add("dev", renderer.name(route.nexthops.first?.interfaceIndex))
            item.add("rule", report.egressRule?.priority)
            line.add("route", item)
        } else if let rule = report.egressRule {
            var item = JSONLine()
            item.add("priority", rule.priority)
            item.add("action", rule.action.description)
            item.add("table", rule.table.description)
            line.add("rule", item)
        }
        if let all = report.arpAll {
            // By interface as a list, never keyed by name: keys are the schema, names are data.
            var entries = [JSONValue(Self.json(all, dev: "all"))]
            for (name, settings) in report.arpByInterface.sorted(by: { $0.key < $1.key }) {
                entries.append(JSONValue(Self.json(settings, dev: name)))
            }
            line.add("arp", JSONValue(entries))
        }
        line.add("reading", list: report.reading)
        return line
    }

    public static func json(_ settings: ARPSettings, dev: String) -> JSONLine {
        var item = JSONLine()
        item.add("dev", dev)
        item.add("arp_ignore", settings.ignore)
        item.add("arp_announce", settings.announce)
        return item
    }
}
