import ArgumentParser
import Glibc
import Netlink
import PacketCore
import ToolSupport

/// `addrinspect`: what addresses, links, neighbours and routes a node (or a named network namespace) has for a
/// service IP, read through libnl-3, and how they change.
@main
struct AddrInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addrinspect",
        abstract: "Show the addresses, links, neighbours and routes this node has for a service IP; watch them change.",
        discussion: """
            Reads the kernel's own tables through rtnetlink (libnl-3), in this host's
            network namespace or, with --netns NAME (-n NAME, before or after the
            command, as 'ip -n NAME addr' takes it), in the namespace 'ip netns add NAME'
            created. Text output is one line per object; --json prints JSON Lines (one
            object per line, field names as 'ip -j' uses them, after the common keys
            event, time, host and interface: docs/json.md); --ip-compat (addr, route)
            prints exactly what 'ip -j' prints.

            Examples:
              addrinspect has 198.51.100.10
                  Is this LoadBalancer IP local here? (see the exit status)
              addrinspect addr --dev kube-ipvs0 --family 4
                  The IPs kube-proxy's IPVS mode put on kube-ipvs0.
              addrinspect neigh --json
                  Which MAC this node holds for each IP.
              addrinspect route --table local
                  Local routes: what the kernel delivers here.
              addrinspect watch addr neigh --duration 60
                  What changes during a failover.
              addrinspect -n lab1 link
                  The links of the namespace lab1 (or: addrinspect link --netns lab1).

            Exit status:
              0   ok (for 'has': the IP is local)
              1   failure (no such namespace, no permission)
              64  usage error
              'has' also returns 10, 11 and 12: see 'addrinspect has --help'.
            """,
        version: VipscopeVersion.string,
        subcommands: [AddressCommand.self, LinkCommand.self, NeighbourCommand.self, RouteCommand.self,
                      HasCommand.self, WatchCommand.self])

    /// `addrinspect -n NAME addr`, in the order `ip -n NAME addr` takes it; after the subcommand works too.
    @Option(name: [.customLong("netns"), .customShort("n")], help: ArgumentHelp(
        "Work in the named network namespace (/run/netns/NAME, as 'ip netns add' makes it).", valueName: "name"))
    var namespace: String?

    /// A usage error is one line plus the `--help` hint, in every subcommand (ToolSupport.CommandRunner).
    static func main() { CommandRunner.main(Self.self) }

    /// No subcommand: a usage error (64) with one sentence and where to look, not the whole help on stdout.
    func run() throws {
        throw ValidationError("name what to show: addr, link, neigh, route, has IP or watch.")
    }
}

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(name: [.customLong("netns"), .customShort("n")], help: ArgumentHelp(
        "Work in the named network namespace (/run/netns/NAME, as 'ip netns add' makes it).", valueName: "name"))
    var namespace: String?

    @Flag(help: "Print JSON Lines: a start object, then one object per line, with stable field names (docs/json.md).")
    var json = false

    @OptionGroup var node: NodeNameOptions

    /// The common keys of every object, and the time of this reading of the kernel's tables (a live read: the
    /// wall clock).
    func envelope() -> (JSONEnvelope, Timestamp) { (node.envelope, WallClock.now()) }

    /// The `start` object `--json` output begins with.
    func start(_ envelope: JSONEnvelope, time: Timestamp, into output: inout OutputBuffer) {
        if json { output.line(envelope.start(tool: "addrinspect", time: time).text) }
    }

    /// The root command's `--netns`. swift-argument-parser matches a parent's options anywhere on the line, so
    /// the root takes `-n NAME` before or after the subcommand (the last one named wins); the option above keeps
    /// `--netns` in each subcommand's help and usage.
    @ParentCommand var root: AddrInspect

    /// The namespace to work in, wherever on the command line it was named.
    var chosenNamespace: String? { namespace ?? root.namespace }

    /// Run `body` in the chosen namespace, turning a Netlink failure into one sentence on stderr and exit 1.
    func perform<T>(_ body: () throws(NetlinkError) -> T) throws -> T {
        do {
            let scope = try NamespaceScope(name: chosenNamespace)
            return try scope.perform(body)
        } catch {
            StandardStreams.error("addrinspect: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}

/// `--family 4|6` (also `inet`/`inet6`).
func parseFamily(_ text: String?) throws -> AddressFamily? {
    switch text {
    case nil: return nil
    case "4", "inet", "ipv4": return .inet
    case "6", "inet6", "ipv6": return .inet6
    case let other?: throw ValidationError("--family must be 4 or 6, not '\(other)'.")
    }
}

struct AddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addr",
        abstract: "List the IP addresses on each interface, with scope, flags and lifetimes.",
        usage: """
            addrinspect addr [--dev <dev>] [--family <4|6>] [--scope <scope>]
                     [--netns <name>] [--json] [--node-name <name>] [--ip-compat]
            """,
        discussion: """
            One line per address, grouped by interface in index order. Flags are named
            as 'ip addr' names them (secondary, temporary, nodad, optimistic, dadfailed,
            home, deprecated, tentative, permanent, mngtmpaddr, noprefixroute, autojoin,
            stable-privacy); unknown bits are shown as hex. Lifetimes are seconds;
            4294967295 (text: forever) means no expiry.

            JSON fields (event addr, then docs/json.md's common keys): ifindex, dev,
            family (inet|inet6), local, prefixlen, peer, broadcast, scope, label,
            flags (list), valid_lft, preferred_lft. --ip-compat prints instead what
            'ip -j addr' prints: one JSON array of links with nested addr_info
            (family, local, address, prefixlen, broadcast, scope, flags as true
            keys, dynamic, label, valid_life_time, preferred_life_time).

            Examples:
              addrinspect addr
              addrinspect addr --dev kube-ipvs0 --family 4 --json
              addrinspect addr --scope global --netns lab1

            Exit status: 0 ok, 1 failure (no such namespace or interface, no
            permission), 64 usage error.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Only addresses on this interface.", valueName: "dev"))
    var dev: String?

    @Option(help: ArgumentHelp("Only IPv4 (4) or IPv6 (6) addresses.", valueName: "4|6"))
    var family: String?

    @Option(help: ArgumentHelp("Only addresses of this scope: global, site, link, host or a number.",
                               valueName: "scope"))
    var scope: String?

    @Flag(name: .customLong("ip-compat"), help: "Print what 'ip -j addr' prints (one array, nested addr_info).")
    var ipCompat = false

    func validate() throws {
        _ = try parseFamily(family)
        if let scope, Scope(name: scope) == nil {
            throw ValidationError("--scope must be global, site, link, host, nowhere or a number 0-255.")
        }
    }

    func run() throws {
        let wantedFamily = try parseFamily(family)
        let wantedScope = scope.flatMap { Scope(name: $0) }
        let (links, addresses) = try common.perform { () throws(NetlinkError) in
            let socket = try RouteSocket()
            return (try socket.links(), try socket.addresses())
        }
        if let dev, !links.contains(where: { $0.name == dev }) {
            StandardStreams.error(
                "addrinspect: there is no interface named '\(dev)'; list them with 'addrinspect link'.")
            throw ExitCode(ExitStatus.failure)
        }
        // Group by interface in link order, as 'ip addr' does, keeping the kernel's order within an interface: a
        // stable counting sort of indexes, so the (possibly huge) list itself is never copied.
        var slots: [Int32: Int] = [:]
        for (slot, link) in links.enumerated() where dev == nil || link.name == dev { slots[link.index] = slot }
        var slotOfAddress = [Int32](repeating: -1, count: addresses.count)
        var starts = [Int](repeating: 0, count: links.count + 1)
        for (position, address) in addresses.enumerated() {
            if let wantedFamily, address.family != wantedFamily { continue }
            if let wantedScope, address.scope != wantedScope { continue }
            guard let slot = slots[address.interfaceIndex] else { continue }
            slotOfAddress[position] = Int32(slot)
            starts[slot + 1] += 1
        }
        for slot in links.indices { starts[slot + 1] += starts[slot] }
        var order = [Int32](repeating: 0, count: starts[links.count])
        var next = starts
        for (position, slot) in slotOfAddress.enumerated() where slot >= 0 {
            order[next[Int(slot)]] = Int32(position)
            next[Int(slot)] += 1
        }

        var output = OutputBuffer()
        if ipCompat {
            // ip lists every link (all of them, or --dev's) and, with a filter, only the links with a match.
            let renderer = Renderer(links: links)
            var items: [JSONValue] = []
            let filtered = wantedFamily != nil || wantedScope != nil
            for (slot, link) in links.enumerated() where dev == nil || link.name == dev {
                if filtered && starts[slot] == starts[slot + 1] { continue }
                let infos = order[starts[slot]..<starts[slot + 1]].map { renderer.ipAddressInfo(addresses[Int($0)]) }
                var item = renderer.ipLink(link)
                item.add("addr_info", JSONValue(infos.map { JSONValue($0) }))
                items.append(JSONValue(item))
            }
            output.line(JSONValue(items).encoded)
        } else if common.json {
            let (envelope, time) = common.envelope()
            common.start(envelope, time: time, into: &output)
            var writer = AddressJSONWriter(prefix: envelope.object("addr", time: time).text)
            for (slot, link) in links.enumerated() where starts[slot] < starts[slot + 1] {
                var name = ByteOutput(descriptor: -1)
                name.appendJSONString(link.name)
                for position in order[starts[slot]..<starts[slot + 1]] {
                    writer.write(addresses[Int(position)], dev: name.bytes, into: &output.bytes)
                }
            }
        } else {
            let renderer = Renderer(links: links)
            for position in order { output.line(renderer.text(addresses[Int(position)])) }
        }
        output.flush()
    }
}

struct LinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "List the interfaces with kind, flags, state, MAC, MTU and master.",
        discussion: """
            Kind is the kernel's IFLA_INFO_KIND (dummy, veth, bridge, vlan, bond, ifb,
            ...; absent for plain devices such as lo or a NIC). A kube-proxy IPVS node
            shows kube-ipvs0 as a dummy with NOARP. Flags are named and ordered as
            'ip link' prints them (NO-CARRIER when UP without carrier).

            JSON fields (event link, interface = ifname, then docs/json.md's common
            keys): ifindex, ifname, kind, flags (list), mtu, qdisc, operstate,
            txqlen, link_type, address, broadcast, master, master_ifindex, link,
            link_ifindex (a veth's peer or a VLAN's parent).

            Examples:
              addrinspect link
              addrinspect link --json --netns lab1

            Exit status: 0 ok, 1 failure (no such namespace, no permission), 64 usage
            error.
            """)

    @OptionGroup var common: CommonOptions

    func run() throws {
        let links = try common.perform { () throws(NetlinkError) in try RouteSocket().links() }
        let renderer = Renderer(links: links)
        var output = OutputBuffer()
        let (envelope, time) = common.envelope()
        common.start(envelope, time: time, into: &output)
        for link in links {
            output.line(
                common.json ? renderer.line(.link(link), envelope: envelope, time: time).text : renderer.text(link))
        }
        output.flush()
    }
}

struct NeighbourCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neigh",
        abstract: "List the ARP and NDP neighbour entries: which MAC this node holds for each IP.",
        usage: """
            addrinspect neigh [--dev <dev>] [--netns <name>] [--json]
                     [--node-name <name>]
            """,
        discussion: """
            Every IPv4 and IPv6 entry in every state (INCOMPLETE, REACHABLE, STALE,
            DELAY, PROBE, FAILED, NOARP, PERMANENT), like 'ip neigh show nud all'.
            Bridge forwarding entries are not shown.

            JSON fields (event neigh, interface = dev, then docs/json.md's common
            keys): ifindex, dev, family, dst, lladdr, state (list), flags (list:
            router, proxy, ...).

            Examples:
              addrinspect neigh
              addrinspect neigh --dev eth0 --json

            Exit status: 0 ok, 1 failure (no such namespace or interface, no
            permission), 64 usage error.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Only entries on this interface.", valueName: "dev"))
    var dev: String?

    func run() throws {
        let (links, neighbours) = try common.perform { () throws(NetlinkError) in
            let socket = try RouteSocket()
            return (try socket.links(), try socket.neighbours())
        }
        let wantedIndex = dev.flatMap { name in links.first { $0.name == name }?.index }
        if let dev, wantedIndex == nil {
            StandardStreams.error(
                "addrinspect: there is no interface named '\(dev)'; list them with 'addrinspect link'.")
            throw ExitCode(ExitStatus.failure)
        }
        let renderer = Renderer(links: links)
        var output = OutputBuffer()
        let (envelope, time) = common.envelope()
        common.start(envelope, time: time, into: &output)
        for neighbour in neighbours where wantedIndex == nil || neighbour.interfaceIndex == wantedIndex {
            output.line(
                common.json
                    ? renderer.line(.neighbour(neighbour), envelope: envelope, time: time).text
                    : renderer.text(neighbour))
        }
        output.flush()
    }
}

struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "List the routes of every table, including the local table the kernel delivers from.",
        usage: """
            addrinspect route [--table <table>] [--family <4|6>] [--netns <name>]
                     [--json] [--node-name <name>] [--ip-compat]
            """,
        discussion: """
            Every IPv4 and IPv6 route in every table (like 'ip route show table all'),
            with its type: unicast, local (delivered to this host: one per assigned
            address, or an AnyIP prefix), broadcast, multicast, blackhole, unreachable,
            prohibit, throw. 'dst' is written as 'ip -j route' writes it: 'default',
            a host route without /32 or /128, else a prefix; metric 0 is left out.

            JSON fields (event route, interface = dev when there is one next hop,
            then docs/json.md's common keys): family, table (main, local, default or
            a number), type, dst, src, tos, protocol, scope, metric, prefsrc,
            gateway, dev, ifindex, nexthops (list, for multipath), flags (list).
            --ip-compat prints instead one JSON array with the keys and defaults of
            'ip -j route show table all' (main table, unicast, boot protocol and
            global scope left out; no pref or expires, which libnl does not give).

            Examples:
              addrinspect route
              addrinspect route --table local --family 4
              addrinspect route --table main --json

            Exit status: 0 ok, 1 failure (no such namespace, no permission), 64 usage
            error.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("Only routes of this table: main, local, default or a number.", valueName: "table"))
    var table: String?

    @Option(help: ArgumentHelp("Only IPv4 (4) or IPv6 (6) routes.", valueName: "4|6"))
    var family: String?

    @Flag(name: .customLong("ip-compat"), help: "Print what 'ip -j route show table all' prints (one array).")
    var ipCompat = false

    func validate() throws {
        _ = try parseFamily(family)
        if let table, RouteTable(name: table) == nil {
            throw ValidationError("--table must be main, local, default or a table number.")
        }
    }

    func run() throws {
        let wantedFamily = try parseFamily(family)
        let wantedTable = table.flatMap { RouteTable(name: $0) }
        let (links, routes) = try common.perform { () throws(NetlinkError) in
            let socket = try RouteSocket()
            return (try socket.links(), try socket.routes())
        }
        let renderer = Renderer(links: links)
        var output = OutputBuffer()
        let (envelope, time) = common.envelope()
        if !ipCompat { common.start(envelope, time: time, into: &output) }
        var compat: [JSONValue] = []
        for route in routes {
            if let wantedFamily, route.family != wantedFamily { continue }
            if let wantedTable, route.table != wantedTable { continue }
            if ipCompat {
                compat.append(JSONValue(renderer.ipRoute(route)))
            } else {
                output.line(
                    common.json
                        ? renderer.line(.route(route), envelope: envelope, time: time).text : renderer.text(route))
            }
        }
        if ipCompat { output.line(JSONValue(compat).encoded) }
        output.flush()
    }
}

struct HasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "has",
        abstract: "Say whether a service IP is local here, on which interface, and which MAC this node holds for it.",
        discussion: """
            Looks the IP up in every table at once: interfaces it is assigned to (with
            their kind and flags), local routes covering it, neighbour entries for it
            (MAC and state), the main-table route traffic to it would take, and for IPv4
            the ARP sysctls (arp_ignore, arp_announce) of 'all' and every interface,
            then says in plain words what that means. For example, an IP on kube-ipvs0
            (dummy, NOARP) is kube-proxy's IPVS mode: without strictARP (arp_ignore=1,
            arp_announce=2) every node answers ARP for it, which breaks MetalLB's
            layer-2 mode.

            Exit status (the verdict):
              0   local: assigned to an interface here, or delivered locally by a
                  local route
              10  not local: no neighbour entry with a MAC for it, but a route sends it
                  somewhere
              11  neighbour known: not local, and this node holds a MAC for it
                  (another host answers for it)
              12  unknown: not local, no usable neighbour entry, no usable route
                  (none, or blackhole/unreachable)
              1   failure (no such namespace, no permission)
              64  usage error

            The route is the one 'ip route get IP' shows: policy rules (ip rule) in
            priority order, then the longest prefix and lowest metric of the rule's
            table ('not' rules and suppress_prefixlength are not modelled).

            JSON (a start object, then one object with event verdict and
            docs/json.md's common keys): ip, verdict (local|not-local|
            neighbour-known|unknown), exit_status, addresses (list of {dev, ifindex,
            kind, link_flags, prefixlen, flags}), local_routes (list of {dst, table,
            dev}), neighbours (list of {dev, lladdr, state}), route ({dst, type,
            table, gateway, dev, rule}), rule ({priority, action, table}: the
            policy rule that dropped it), arp (list of {dev, arp_ignore,
            arp_announce}, dev 'all' first), reading (list of sentences).

            Examples:
              addrinspect has 198.51.100.10 && echo "this node holds the VIP"
              addrinspect has 2001:db8::10 --json --netns lab1
            """)

    @OptionGroup var common: CommonOptions

    @Argument(help: ArgumentHelp("The service IP (IPv4 or IPv6).", valueName: "ip"))
    var ip: String

    func validate() throws {
        if IPAddress(ip) == nil { throw ValidationError("'\(ip)' is not an IPv4 or IPv6 address.") }
    }

    func run() throws {
        guard let address = IPAddress(ip) else { throw ExitCode(ExitStatus.usage) }
        let (snapshot, arp, rules) = try common.perform { () throws(NetlinkError) in
            let socket = try RouteSocket()
            let snapshot = try socket.snapshot(of: Set(ObjectKind.allCases))
            let rules = try socket.rules()
            // Sysctls belong to the namespace too, so they are read on the same thread as the socket was opened.
            var arp: [String: ARPSettings] = [:]
            if address.family == .inet {
                for name in ["all"] + snapshot.links.map(\.name) { arp[name] = ARPSettings.read(interface: name) }
            }
            return (snapshot, arp, rules)
        }
        let report = ServiceIPReport(ip: address, snapshot: snapshot, arp: arp, rules: rules)
        let renderer = Renderer(links: snapshot.links)
        if common.json {
            let (envelope, time) = common.envelope()
            var output = OutputBuffer()
            common.start(envelope, time: time, into: &output)
            var line = envelope.object("verdict", time: time)
            line.append(contentsOf: Self.json(report, renderer: renderer))
            output.line(line.text)
            output.flush()
        } else {
            var text = "\(report.ip): \(report.verdict.rawValue)\n"
            // The reading quotes interface names, which may hold any byte: escaped for the terminal.
            for line in report.reading { text += "  " + PrintableText.escaped(line) + "\n" }
            StandardStreams.output(text)
        }
        if report.verdict.exitCode != 0 { throw ExitCode(report.verdict.exitCode) }
    }

    static func json(_ report: ServiceIPReport, renderer: Renderer) -> JSONLine {
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

    static func json(_ settings: ARPSettings, dev: String) -> JSONLine {
        var item = JSONLine()
        item.add("dev", dev)
        item.add("arp_ignore", settings.ignore)
        item.add("arp_announce", settings.announce)
        return item
    }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every change to addresses, links, neighbours or routes as it happens.",
        usage: """
            addrinspect watch [<kind> ...] [--duration <seconds>] [--count <changes>]
                     [--receive-buffer <bytes>] [--netns <name>] [--json]
                     [--node-name <name>]
            """,
        discussion: """
            Reads the current state first (not printed), then one line per change with
            its time: added, removed, or changed (text shows each changed field as
            'old -> new'; JSON carries the whole old and new objects). The first line
            is a 'ready' event: changes made after it are reported.

            When the kernel drops notifications because they came faster than they were
            read (ENOBUFS), a line says so ('overflow'), the full state is read again,
            every difference found is reported (marked resync), and a 'resynced' line
            ends the catch-up: the stream never silently diverges. Note that the kernel
            sends no notification for IPv4 routes it flushes when a link goes down.

            JSON fields (after a start object; docs/json.md's common keys event,
            time, host, interface): event (ready|added|removed|changed|overflow|
            resynced), object (addr|link|neigh|route), resync (true on catch-up
            changes), old, new (objects with the fields of the matching list command),
            objects (ready, resynced: objects of the watched kinds), changes
            (resynced).

            Examples:
              addrinspect watch
                  Everything, until Ctrl-C.
              addrinspect watch addr neigh --duration 60 --json
                  Addresses and neighbours for a minute, as JSON Lines.
              addrinspect watch link --count 1
                  Wait for the next link change.

            Exit status: 0 ok (ended by --duration, --count or Ctrl-C), 1 failure (no
            such namespace, no permission), 64 usage error.
            """)

    @OptionGroup var common: CommonOptions

    @Argument(help: ArgumentHelp("What to watch: addr, link, neigh, route (default: all four).", valueName: "kind"))
    var kinds: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Stop after this many seconds (up to 10 years).", valueName: "seconds"))
    var duration: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many changes.", valueName: "changes"))
    var count: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Socket receive buffer in bytes (default 32 MiB). A tiny one forces the overflow-and-resync path.",
        valueName: "bytes"))
    var receiveBuffer: Int?

    func validate() throws {
        for kind in kinds where ObjectKind(rawValue: kind) == nil {
            throw ValidationError("'\(kind)' is not something to watch; use addr, link, neigh or route.")
        }
        try OptionRange.seconds(duration, option: "--duration", minimum: 0.001)
        try OptionRange.integer(count, option: "--count", in: 1...Int.max, unit: "changes")
        // The kernel caps SO_RCVBUFFORCE at INT_MAX / 2.
        try OptionRange.integer(receiveBuffer, option: "--receive-buffer", in: 1...(1 << 30), unit: "bytes")
    }

    func run() throws {
        let wanted = kinds.isEmpty ? Set(ObjectKind.allCases) : Set(kinds.compactMap(ObjectKind.init(rawValue:)))
        let receiveBuffer = self.receiveBuffer
        let monitor = try common.perform { () throws(NetlinkError) in
            try Monitor(kinds: wanted, receiveBufferSize: receiveBuffer)
        }
        StopSignal.install()  // Ctrl-C or kill ends the watch cleanly
        let deadline = duration.map { ContinuousClock.now + OptionRange.duration(seconds: $0) }
        var output = OutputBuffer()
        var reported = 0
        let envelope = common.node.envelope
        do {
            let objects = try monitor.start()
            let readyAt = Monitor.now()
            common.start(envelope, time: readyAt, into: &output)
            var ready = envelope.object("ready", time: readyAt)
            ready.add("objects", objects)
            ready.add("watching", list: ObjectKind.allCases.filter(wanted.contains).map(\.rawValue))
            output.line(common.json ? ready.text : "\(Monitor.now().iso8601) ready: watching "
                + ObjectKind.allCases.filter(wanted.contains).map(\.rawValue).joined(separator: " ")
                + " (\(objects) objects)")
            output.flush()
            while !StopSignal.isRaised {
                var timeout: Int32 = 250
                if let deadline {
                    let left = ContinuousClock.now.duration(to: deadline)
                    if left <= .zero { break }
                    let milliseconds = left.components.seconds * 1000
                        + left.components.attoseconds / 1_000_000_000_000_000
                    timeout = Int32(clamping: min(250, max(1, milliseconds)))
                }
                for event in try monitor.poll(timeoutMilliseconds: timeout) {
                    output.line(render(event, monitor: monitor, envelope: envelope))
                    if case .change = event { reported += 1 }
                    if let count, reported >= count { break }
                }
                output.flush()
                if let count, reported >= count { break }
            }
        } catch {
            output.flush()
            StandardStreams.error("addrinspect: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
        output.flush()
    }

    private func render(_ event: MonitorEvent, monitor: Monitor, envelope: JSONEnvelope) -> String {
        let renderer = Renderer(links: monitor.state.links.values)
        var line: JSONLine
        switch event {
        case .change(let change, let time):
            // A removed link is no longer in the state: name it from its own old value.
            var renderer = renderer
            if case .link(let link)? = change.old, renderer.names[link.index] == nil {
                renderer.names[link.index] = link.name
            }
            if !common.json {
                var text = "\(time.iso8601) \(change.action.rawValue) \(change.kind.rawValue) "
                switch (change.old, change.new) {
                case (let old?, let new?):
                    text += renderer.headline(new) + ": "
                        + renderer.fields(new).differences(from: renderer.fields(old)).joined(separator: ", ")
                case (_, let object?), (let object?, nil):
                    text += renderer.text(object)
                case (nil, nil): break
                }
                return text + (change.fromResync ? " (resync)" : "")
            }
            line = envelope.object(
                change.action.rawValue, time: time, interface: (change.new ?? change.old).flatMap(renderer.interface))
            line.add("object", change.kind.rawValue)
            if change.fromResync { line.add("resync", true) }
            line.add("old", change.old.map { renderer.fields($0).json })
            line.add("new", change.new.map { renderer.fields($0).json })
        case .overflow(let time):
            if !common.json {
                return "\(time.iso8601) overflow: the kernel dropped notifications (ENOBUFS); "
                    + "reading the full state again"
            }
            line = envelope.object("overflow", time: time)
        case .resynced(let changes, let objects, let time):
            if !common.json { return "\(time.iso8601) resynced: \(changes) differences, \(objects) objects" }
            line = envelope.object("resynced", time: time)
            line.add("changes", changes)
            line.add("objects", objects)
        }
        return line.text
    }
}
