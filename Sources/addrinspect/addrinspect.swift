import AddrInspectKit
import ArgumentParser
import EventLoop
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

    /// Where events are rendered: JSON Lines with `--json`, else text.
    var sink: any AddrInspectSink { json ? JSONLinesSink(envelope: node.envelope) : TextSink() }

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
        var output = ByteWriter()
        let format: Listing.Format
        if ipCompat {
            format = .ipCompat
        } else if common.json {
            let (envelope, time) = common.envelope()
            format = .json(envelope, time)
        } else {
            format = .text
        }
        Listing.addresses(
            links: links, addresses: addresses, dev: dev, family: wantedFamily, scope: wantedScope, format: format,
            into: &output)
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
        var output = ByteWriter()
        Listing.objects(links.lazy.map(NetlinkObject.link), links: links, sink: common.sink, time: common.envelope().1,
                        into: &output)
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
        var output = ByteWriter()
        let wanted = neighbours.lazy.filter { wantedIndex == nil || $0.interfaceIndex == wantedIndex }
        Listing.objects(wanted.map(NetlinkObject.neighbour), links: links, sink: common.sink, time: common.envelope().1,
                        into: &output)
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
        let wanted = routes.lazy.filter { route in
            (wantedFamily == nil || route.family == wantedFamily) && (wantedTable == nil || route.table == wantedTable)
        }
        var output = ByteWriter()
        if ipCompat {
            Listing.ipCompatRoutes(wanted, links: links, into: &output)
        } else {
            Listing.objects(wanted.map(NetlinkObject.route), links: links, sink: common.sink,
                            time: common.envelope().1, into: &output)
        }
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
        let (report, renderer) = try common.perform { () throws(NetlinkError) in try VerdictRendering.read(address) }
        var output = ByteWriter()
        let sink = common.sink
        let time = common.envelope().1
        if let start = sink.start(time: time) { output.line(start) }
        output.emit(.verdict(report), time: time, names: renderer, to: sink)
        output.flush()
        if report.verdict.exitCode != 0 { throw ExitCode(report.verdict.exitCode) }
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
        var output = ByteWriter()
        do throws(NetlinkError) {
            try WatchPipeline.run(
                monitor: monitor, watching: ObjectKind.allCases.filter(wanted.contains), sink: common.sink,
                deadline: Deadline(afterSeconds: duration), count: count, shouldStop: { StopSignal.isRaised },
                into: &output)
        } catch {
            output.flush()
            StandardStreams.error("addrinspect: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}
