import CNetlink
import Glibc
import PacketCore

/// A connected rtnetlink socket (libnl `struct nl_sock`) for dumps: links, addresses, neighbours, routes. It
/// belongs to the network namespace of the thread that created it (see `NetworkNamespace.perform`) for its whole
/// life, so create it inside the namespace and use it from anywhere.
public final class RouteSocket {
    let handle: OpaquePointer

    public init() throws(NetlinkError) {
        handle = try Self.connect(while: "open an rtnetlink socket")
    }

    /// A new libnl socket connected to NETLINK_ROUTE (the caller closes and frees it); `purpose` completes
    /// the error message.
    static func connect(while purpose: String) throws(NetlinkError) -> OpaquePointer {
        guard let handle = nl_socket_alloc() else {
            throw NetlinkError("cannot allocate a netlink socket: out of memory.")
        }
        let result = nl_connect(handle, NETLINK_ROUTE)
        if result < 0 {
            nl_socket_free(handle)
            throw NetlinkError.libnl(result, while: purpose)
        }
        return handle
    }

    deinit {
        nl_close(handle)
        nl_socket_free(handle)
    }

    /// Every link (interface), in the kernel's order (by index).
    public func links() throws(NetlinkError) -> [Link] {
        try dump(.link).compactMap { if case .link(let link) = $0 { link } else { nil } }
    }

    /// Every IPv4 and IPv6 address on every link, decoded in Swift straight from the kernel's reply (the listing
    /// hot path: a node with tens of thousands of service IPs, see scripts/bench-addrinspect).
    public func addresses() throws(NetlinkError) -> DumpList<Address> {
        try rawDump(request: 22, headerLength: 8, of: "addresses") { type, payload throws(ParseError) in
            type == 20 ? try Address(parsing: &payload) : nil  // RTM_GETADDR -> RTM_NEWADDR
        }
    }

    /// The same addresses parsed by libnl (`nl_msg_parse`, one libnl object per message): the reference the Swift
    /// decoder is tested against, and what `Monitor` uses for notifications.
    public func libnlAddresses() throws(NetlinkError) -> [Address] {
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
        if kinds.contains(.address) { snapshot.addresses = Array(try addresses()) }
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

    /// Where `rawDump` receives. The kernel sizes dump datagrams from the reader's buffer but caps them (32 KiB
    /// today); 1 MiB leaves room, and since it is never zeroed only the pages the kernel writes are touched. A
    /// plain stored property, allocated on first use: a `lazy var` would be copied (1 MiB) on every mutable access.
    private var receiveBuffer: [UInt8] = []
    private var rawSequence: UInt32 = 1 << 31
    private static let receiveBufferSize = 1 << 20

    /// One rtnetlink dump read with plain send/recv on libnl's socket and decoded by `decode` (message type and a
    /// cursor over the payload; nil skips the message). No libnl object is made, so nothing is allocated per
    /// message. Interrupted dumps (NLM_F_DUMP_INTR) are repeated like `dump`'s.
    func rawDump<T>(
        request: UInt16, headerLength: Int, of what: String,
        decode: (UInt16, inout Cursor) throws(ParseError) -> T?
    ) throws(NetlinkError) -> DumpList<T> {
        var attempt = 0
        while true {
            attempt += 1
            if let objects = try rawDumpOnce(request: request, headerLength: headerLength, of: what, decode: decode) {
                return objects
            }
            if attempt >= Self.dumpAttempts {
                throw NetlinkError.libnl(-NLE_DUMP_INTR, while: "read the \(what)")
            }
            usleep(UInt32(min(attempt, 20)) * 5_000)
        }
    }

    /// nil when the kernel flagged the dump as interrupted.
    private func rawDumpOnce<T>(
        request: UInt16, headerLength: Int, of what: String,
        decode: (UInt16, inout Cursor) throws(ParseError) -> T?
    ) throws(NetlinkError) -> DumpList<T>? {
        let descriptor = nl_socket_get_fd(handle)
        // Our own numbers, not libnl's: libnl checks that replies come in the order of its own counter, so taking
        // one from it (nl_socket_use_seq) would fail its next dump. libnl starts at the time in seconds (below
        // 2^31 until 2038), so numbers from 2^31 up never meet its own.
        rawSequence &+= 1
        let sequence = rawSequence
        try sendDumpRequest(type: request, headerLength: headerLength, sequence: sequence, of: what)
        if receiveBuffer.isEmpty {
            receiveBuffer = [UInt8](unsafeUninitializedCapacity: Self.receiveBufferSize) { _, count in
                count = Self.receiveBufferSize
            }
        }
        var objects = DumpList<T>()
        var interrupted = false
        var finished = false
        var failure: Int32 = 0
        while !finished {
            // MSG_TRUNC makes recv return the datagram's real length, so a reply cut by the buffer is caught.
            let received = receiveBuffer.withUnsafeMutableBytes { bytes in
                recv(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_TRUNC))
            }
            if received < 0 {
                if errno == EINTR { continue }
                throw NetlinkError.system(errno, while: "read the \(what)")
            }
            if received > receiveBuffer.count {
                throw NetlinkError("cannot read the \(what): a \(received)-byte reply did not fit the receive buffer.")
            }
            do throws(ParseError) {
                try withCursor(over: receiveBuffer) { (buffer: inout Cursor) throws(ParseError) in
                    var datagram = try buffer.sub(received)
                    try NetlinkMessageHeader.forEachMessage(in: &datagram) { header, payload throws(ParseError) in
                        // A reply to an earlier, abandoned request is not ours.
                        guard header.sequence == sequence, !finished else { return }
                        if header.flags & NetlinkMessageHeader.dumpInterrupted != 0 { interrupted = true }
                        switch header.type {
                        case NetlinkMessageHeader.done:
                            finished = true
                            if payload.remaining >= 4 { failure = Int32(bitPattern: try payload.readU32LE()) }
                        case NetlinkMessageHeader.error:
                            failure = Int32(bitPattern: try payload.readU32LE())
                            if failure != 0 { finished = true }
                        case NetlinkMessageHeader.noop:
                            break
                        default:
                            if let object = try decode(header.type, &payload) { objects.append(object) }
                        }
                    }
                }
            } catch {
                throw NetlinkError("cannot read the \(what): the kernel's reply is malformed (\(error)).")
            }
            if failure < 0 { throw NetlinkError.system(-failure, while: "read the \(what)") }
        }
        return interrupted ? nil : objects
    }

    /// A dump request: nlmsghdr with NLM_F_REQUEST | NLM_F_DUMP, then the family header (`headerLength` bytes:
    /// ifaddrmsg, ifinfomsg, ...) all zero, which asks for every family and every interface.
    private func sendDumpRequest(type: UInt16, headerLength: Int, sequence: UInt32, of what: String)
        throws(NetlinkError)
    {
        let length = NetlinkMessageHeader.size + headerLength
        var request = [UInt8](repeating: 0, count: length)
        func put(_ value: UInt32, at offset: Int, bytes: Int) {
            for index in 0..<bytes { request[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        }
        put(UInt32(length), at: 0, bytes: 4)
        put(UInt32(type), at: 4, bytes: 2)
        put(UInt32(NLM_F_REQUEST | NLM_F_DUMP), at: 6, bytes: 2)
        put(sequence, at: 8, bytes: 4)
        let descriptor = nl_socket_get_fd(handle)
        while true {
            // No address: an unconnected netlink socket sends to the kernel (port 0).
            let sent = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            if sent == length { return }
            if sent < 0, errno == EINTR { continue }
            throw NetlinkError.system(sent < 0 ? errno : EIO, while: "ask the kernel for its \(what)")
        }
    }

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
