import CNetlink
import EventLoop
import Glibc
import PacketCore

/// What `Monitor.poll` hands back, in the order the kernel sent it.
public enum MonitorEvent: Sendable {
    /// A kernel notification that changed the tracked state (or a resync difference).
    case change(Change, time: Timestamp)
    /// The kernel dropped notifications because the socket's receive buffer was full (ENOBUFS). A resync follows.
    case overflow(time: Timestamp)
    /// The full state was re-read after an overflow; `changes` differences were reported as `.change` events
    /// with `fromResync` set, and `objects` is how many objects of the watched kinds exist now.
    case resynced(changes: Int, objects: Int, time: Timestamp)
}

/// Watches rtnetlink: a socket subscribed to the multicast groups of the kinds asked for, parsed by libnl
/// (`nl_msg_parse`), turned into added/removed/changed by a `ChangeTracker` seeded with a full dump.
///
/// Notifications are read with plain `recv` on libnl's socket so ENOBUFS is seen as itself (libnl would fold it
/// into NLE_NOMEM); the bytes go back to libnl for parsing. After ENOBUFS the state is re-read through a second
/// socket (dumps never overflow: the kernel fills them as they are read) and only the differences are reported.
public final class Monitor {
    /// The kinds reported. Links are always tracked too, so interface names stay known.
    public let kinds: Set<ObjectKind>
    private let events: OpaquePointer
    private let query: RouteSocket
    private var tracker: ChangeTracker
    private var buffer: [UInt8]
    /// The one descriptor `poll` waits on, through EventLoop like every other live loop.
    private var waiting = PollSet()
    private let sink = ParseSink()
    /// The receive buffer the kernel granted, in bytes (the kernel doubles what is asked and caps it).
    public let receiveBufferSize: Int

    /// Open the sockets; call inside `NamespaceScope.perform` so they belong to the right namespace.
    /// `receiveBufferSize` nil asks for 32 MiB, enough for a burst of tens of thousands of changes.
    public init(kinds: Set<ObjectKind>, receiveBufferSize: Int? = nil) throws(NetlinkError) {
        self.kinds = kinds
        query = try RouteSocket()
        let events = try RouteSocket.connect(while: "open an rtnetlink socket for notifications")
        self.events = events
        tracker = ChangeTracker(kinds: kinds.union([.link]))
        buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let descriptor = nl_socket_get_fd(events)
        var size = Int32(clamping: receiveBufferSize ?? 32 * 1024 * 1024)
        // SO_RCVBUFFORCE (root) passes net.core.rmem_max; SO_RCVBUF is the fallback, silently capped.
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var granted: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &granted, &length)
        self.receiveBufferSize = Int(granted)
        for group in Self.groups(for: kinds.union([.link])) {
            let result = nl_socket_add_membership(events, group)
            if result < 0 { throw NetlinkError.libnl(result, while: "subscribe to rtnetlink notifications") }
        }
    }

    deinit {
        nl_close(events)
        nl_socket_free(events)
    }

    /// Read the current state as the baseline (not reported). Subscribed before the dump, so nothing that
    /// changes meanwhile is lost. Returns how many objects of the watched kinds exist.
    @discardableResult
    public func start() throws(NetlinkError) -> Int {
        _ = tracker.resync(with: try query.snapshot(of: tracker.kinds))
        return tracker.count(of: kinds)
    }

    /// The tracked state (what a consumer of every event so far would believe).
    public var state: ChangeTracker { tracker }

    /// The interface's name as last seen (links are always tracked).
    public func linkName(_ index: Int32) -> String? { tracker.links[index]?.name }

    /// Wait up to `timeoutMilliseconds` (-1: forever) for notifications and return what they changed, at most
    /// about `limit` datagrams' worth so a caller can check its deadline and stop signal between batches. An
    /// empty array means the wait timed out or was interrupted by a signal.
    public func poll(timeoutMilliseconds: Int32, limit: Int = 256) throws(NetlinkError) -> [MonitorEvent] {
        let descriptor = nl_socket_get_fd(events)
        waiting.removeAll()
        waiting.add(descriptor, events: Int16(POLLIN))
        switch waiting.wait(timeoutMilliseconds: timeoutMilliseconds) {
        case .failure(let error): throw NetlinkError.system(error.errno, while: "wait for rtnetlink notifications")
        case .success(0): return []  // timed out, or a signal: the caller checks its deadline and StopSignal
        case .success: break
        }
        var output: [MonitorEvent] = []
        for _ in 0..<limit {
            let received = buffer.withUnsafeMutableBytes { bytes in
                recv(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT))
            }
            let time = Self.now()
            if received < 0 {
                let number = errno
                if number == EAGAIN || number == EWOULDBLOCK || number == EINTR { break }
                if number == ENOBUFS {
                    output.append(.overflow(time: time))
                    let changes = tracker.resync(with: try query.snapshot(of: tracker.kinds))
                        .filter { kinds.contains($0.kind) }
                    let after = Self.now()
                    output += changes.map { .change($0, time: after) }
                    output.append(.resynced(changes: changes.count, objects: tracker.count(of: kinds), time: after))
                    continue
                }
                throw NetlinkError.system(number, while: "read rtnetlink notifications")
            }
            if received == 0 { break }
            for (object, isRemoval) in parse(count: received) {
                if let change = tracker.apply(object, isRemoval: isRemoval), kinds.contains(change.kind) {
                    output.append(.change(change, time: time))
                }
            }
        }
        return output
    }

    /// Split the datagram into netlink messages and let libnl parse each into its object.
    private func parse(count: Int) -> [(NetlinkObject, Bool)] {
        sink.objects.removeAll(keepingCapacity: true)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        buffer.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var remaining = Int32(count)
            var header: UnsafeMutablePointer<nlmsghdr>? = base.assumingMemoryBound(to: nlmsghdr.self)
            while let current = header, nlmsg_ok(current, remaining) != 0 {
                let type = Int32(current.pointee.nlmsg_type)
                if let kind = Self.messageKind(type), let message = nlmsg_convert(current) {
                    nlmsg_set_proto(message, NETLINK_ROUTE)
                    sink.kind = kind
                    sink.isRemoval = type % 4 == 1  // RTM_DEL* is RTM_NEW* + 1 in every rtnetlink family
                    _ = nl_msg_parse(message, ParseSink.objectCallback, context)
                    nlmsg_free(message)
                }
                header = nlmsg_next(current, &remaining)
            }
        }
        return sink.objects
    }

    static func messageKind(_ type: Int32) -> ObjectKind? {
        switch type {
        case 16, 17: .link  // RTM_NEWLINK, RTM_DELLINK
        case 20, 21: .address  // RTM_NEWADDR, RTM_DELADDR
        case 24, 25: .route  // RTM_NEWROUTE, RTM_DELROUTE
        case 28, 29: .neighbour  // RTM_NEWNEIGH, RTM_DELNEIGH
        default: nil
        }
    }

    static func groups(for kinds: Set<ObjectKind>) -> [Int32] {
        var groups: [Int32] = []
        if kinds.contains(.link) { groups.append(Int32(RTNLGRP_LINK.rawValue)) }
        if kinds.contains(.address) {
            groups += [Int32(RTNLGRP_IPV4_IFADDR.rawValue), Int32(RTNLGRP_IPV6_IFADDR.rawValue)]
        }
        if kinds.contains(.neighbour) { groups.append(Int32(RTNLGRP_NEIGH.rawValue)) }
        if kinds.contains(.route) { groups += [Int32(RTNLGRP_IPV4_ROUTE.rawValue), Int32(RTNLGRP_IPV6_ROUTE.rawValue)] }
        return groups
    }

    /// The wall-clock time events are stamped with (UTC).
    public static func now() -> Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int32(now.tv_nsec))
    }
}
