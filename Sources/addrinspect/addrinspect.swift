import AddrInspectKit
import ArgumentParser
import EventLoop
import Glibc
import KubeInputs
import MetricsSink
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
        discussion: AddrInspectHelp.addrInspect,
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
        discussion: AddrInspectHelp.addressCommand)

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
        discussion: AddrInspectHelp.linkCommand)

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
        discussion: AddrInspectHelp.neighbourCommand)

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
        discussion: AddrInspectHelp.routeCommand)

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
        discussion: AddrInspectHelp.hasCommand)

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

extension WatchCommand {
    /// The metrics model (the expected IPs from --ip and --services) and where it goes; nil without metrics. A
    /// port in use or an unreadable --services file ends the run before the watch starts.
    func makeMetrics() throws -> (AddrMetrics?, MetricsPublisher?) {
        guard metrics.isRequested else { return (nil, nil) }
        var expected = ips.compactMap { IPAddress($0) }.map { AddrMetrics.Expected(ip: $0, service: "") }
        if let services {
            do {
                for service in try ServiceInventory.read(file: services).services {
                    for ip in service.expectedIPs where !expected.contains(where: { $0.ip == ip }) {
                        expected.append(AddrMetrics.Expected(ip: ip, service: service.qualifiedName))
                    }
                }
            } catch {
                StandardStreams.error("addrinspect: \(PrintableText.escaped(error.description))")
                throw ExitCode(ExitStatus.failure)
            }
        }
        let model = AddrMetrics(node: common.node.resolved, expected: expected)
        do {
            return (model, try MetricsPublisher(metrics, registry: model.registry))
        } catch {
            StandardStreams.error("addrinspect: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every change to addresses, links, neighbours or routes as it happens.",
        usage: """
            addrinspect watch [<kind> ...] [--duration <seconds>] [--count <changes>]
                     [--receive-buffer <bytes>] [--netns <name>] [--json]
                     [--node-name <name>] [--ip <ip> ...] [--services <file>]
                     [--metrics-listen <addr:port>] [--metrics-file <file>]
            """,
        discussion: AddrInspectHelp.watchCommand)

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

    @Option(name: .customLong("ip"), help: ArgumentHelp(
        "An expected service IP: the metrics say whether it is local (repeatable).", valueName: "ip"))
    var ips: [String] = []

    @Option(help: ArgumentHelp(
        "LoadBalancer Services (kubectl get svc -A -o json): each IP's locality in the metrics, with its Service.",
        valueName: "file"))
    var services: String?

    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        for kind in kinds where ObjectKind(rawValue: kind) == nil {
            throw ValidationError("'\(kind)' is not something to watch; use addr, link, neigh or route.")
        }
        try OptionRange.seconds(duration, option: "--duration", minimum: 0.001)
        try OptionRange.integer(count, option: "--count", in: 1...Int.max, unit: "changes")
        // The kernel caps SO_RCVBUFFORCE at INT_MAX / 2.
        try OptionRange.integer(receiveBuffer, option: "--receive-buffer", in: 1...(1 << 30), unit: "bytes")
        for ip in ips where IPAddress(ip) == nil { throw ValidationError("--ip '\(ip)' is not an IPv4 or IPv6 address.") }
        if (!ips.isEmpty || services != nil) && !metrics.isRequested {
            throw ValidationError("--ip and --services say what the metrics report: add --metrics-listen or --metrics-file.")
        }
    }

    func run() throws {
        let wanted = kinds.isEmpty ? Set(ObjectKind.allCases) : Set(kinds.compactMap(ObjectKind.init(rawValue:)))
        let receiveBuffer = self.receiveBuffer
        let monitor = try common.perform { () throws(NetlinkError) in
            try Monitor(kinds: wanted, receiveBufferSize: receiveBuffer)
        }
        let (model, publisher) = try makeMetrics()
        StopSignal.install()  // Ctrl-C or kill ends the watch cleanly
        publisher?.start()
        let publish: (Bool) -> Void = { force in
            if let failure = publisher?.publish(force: force, refresh: {}) {
                StandardStreams.error("addrinspect: \(PrintableText.escaped(failure))")
            }
        }
        defer { publish(true) }
        var output = ByteWriter()
        do throws(NetlinkError) {
            try WatchPipeline.run(
                monitor: monitor, watching: ObjectKind.allCases.filter(wanted.contains), sink: common.sink,
                deadline: Deadline(afterSeconds: duration), count: count, shouldStop: { StopSignal.isRaised },
                into: &output, metrics: model, afterBatch: { publish(false) })
        } catch {
            output.flush()
            StandardStreams.error("addrinspect: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}
