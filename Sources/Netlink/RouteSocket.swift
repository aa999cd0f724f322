import CNetlink
import Glibc

/// A connected rtnetlink socket (libnl `struct nl_sock`) for dumps: links, addresses, neighbours, routes. It
/// belongs to the network namespace of the thread that created it (see `NetworkNamespace.perform`) for its whole
/// life, so create it inside the namespace and use it from anywhere.
public final class RouteSocket {
    let handle: OpaquePointer

    public init() throws(NetlinkError) {
        guard let handle = nl_socket_alloc() else {
            throw NetlinkError("cannot allocate a netlink socket: out of memory.")
        }
        let result = nl_connect(handle, NETLINK_ROUTE)
        if result < 0 {
            nl_socket_free(handle)
            throw NetlinkError.libnl(result, while: "open an rtnetlink socket")
        }
        self.handle = handle
    }

    deinit {
        nl_close(handle)
        nl_socket_free(handle)
    }

    /// Every link (interface), in the kernel's order (by index).
    public func links() throws(NetlinkError) -> [Link] {
        try dump(.link).compactMap { if case .link(let link) = $0 { link } else { nil } }
    }

    /// Every IPv4 and IPv6 address on every link.
    public func addresses() throws(NetlinkError) -> [Address] {
        try dump(.address).compactMap { if case .address(let address) = $0 { address } else { nil } }
    }

    /// Every IPv4 (ARP) and IPv6 (NDP) neighbour entry, whatever its state.
    public func neighbours() throws(NetlinkError) -> [Neighbour] {
        try dump(.neighbour).compactMap { if case .neighbour(let neighbour) = $0 { neighbour } else { nil } }
    }

    /// Every IPv4 and IPv6 route in every table (main, local, and any other).
    public func routes() throws(NetlinkError) -> [Route] {
        try dump(.route).compactMap { if case .route(let route) = $0 { route } else { nil } }
    }

    /// The kinds asked for, read one after the other (not atomic: the kernel has no multi-table snapshot).
    public func snapshot(of kinds: Set<ObjectKind>) throws(NetlinkError) -> Snapshot {
        var snapshot = Snapshot()
        if kinds.contains(.link) { snapshot.links = try links() }
        if kinds.contains(.address) { snapshot.addresses = try addresses() }
        if kinds.contains(.neighbour) { snapshot.neighbours = try neighbours() }
        if kinds.contains(.route) { snapshot.routes = try routes() }
        return snapshot
    }

    /// One rtnetlink dump, each message parsed by libnl (`nl_msg_parse`) and copied into a Swift value.
    ///
    /// Why not libnl's caches: a cache keeps one object per libnl identity, and libnl's route identity has no
    /// output device, so the per-link IPv6 routes (fe80::/64, ff00::/8 on every link) collapse into one.
    ///
    /// A table that changes while it is dumped makes the kernel flag the dump as interrupted (NLE_DUMP_INTR): the
    /// dump is then repeated, since its objects may be inconsistent, until one completes cleanly.
    private func dump(_ kind: ObjectKind) throws(NetlinkError) -> [NetlinkObject] {
        var attempt = 0
        while true {
            attempt += 1
            do throws(NetlinkError) {
                return try dumpOnce(kind)
            } catch where error.code == NLE_DUMP_INTR && attempt < Self.dumpAttempts {
                usleep(UInt32(min(attempt, 20)) * 5_000)
            }
        }
    }

    /// Enough for a table that keeps changing for a few seconds (a burst of thousands of changes).
    static let dumpAttempts = 200

    private func dumpOnce(_ kind: ObjectKind) throws(NetlinkError) -> [NetlinkObject] {
        let request: Int32
        switch kind {
        case .link: request = 18  // RTM_GETLINK
        case .address: request = 22  // RTM_GETADDR
        case .route: request = 26  // RTM_GETROUTE
        case .neighbour: request = 30  // RTM_GETNEIGH
        }
        let sink = ParseSink()
        sink.kind = kind
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let installed = nl_socket_modify_cb(handle, NL_CB_VALID, NL_CB_CUSTOM, { message, context in
            if let message, let context { _ = nl_msg_parse(message, ParseSink.objectCallback, context) }
            return Int32(NL_OK.rawValue)
        }, context)
        if installed < 0 { throw NetlinkError.libnl(installed, while: "prepare to read the \(kind.plural)") }
        let sent = nl_rtgen_request(handle, request, AF_UNSPEC, NLM_F_DUMP)
        if sent < 0 { throw NetlinkError.libnl(sent, while: "ask the kernel for its \(kind.plural)") }
        let received = withExtendedLifetime(sink) { nl_recvmsgs_default(handle) }
        if received < 0 { throw NetlinkError.libnl(received, while: "read the \(kind.plural)") }
        return sink.objects.map(\.0)
    }
}

/// The four kinds of rtnetlink objects addrinspect reads and watches.
public enum ObjectKind: String, CaseIterable, Sendable, Hashable {
    case address = "addr"
    case link
    case neighbour = "neigh"
    case route

    var plural: String {
        switch self {
        case .address: "addresses"
        case .link: "links"
        case .neighbour: "neighbours"
        case .route: "routes"
        }
    }
}

/// One read of the kinds asked for.
public struct Snapshot: Sendable {
    public var links: [Link] = []
    public var addresses: [Address] = []
    public var neighbours: [Neighbour] = []
    public var routes: [Route] = []

    public init(links: [Link] = [], addresses: [Address] = [], neighbours: [Neighbour] = [], routes: [Route] = []) {
        self.links = links
        self.addresses = addresses
        self.neighbours = neighbours
        self.routes = routes
    }

    /// Interface names by index, for showing `dev`.
    public var linkNames: [Int32: String] {
        Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}
