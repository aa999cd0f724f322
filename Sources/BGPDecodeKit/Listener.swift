import Glibc
import PacketCore

/// A listening socket could not be set up; `message` is one sentence that says what to do.
public struct BGPListenerError: Error, Sendable {
    public var message: String
}

/// `bgpdecode listen`: a passive, receive-only BGP speaker. It accepts connections from the configured
/// peers on one socket, runs each through `BGPPeerSession`, and feeds every message it receives (and the
/// OPEN and NOTIFICATIONs it sends) into a `BGPAnalyzer`, so the RIB, events and output are the capture
/// path's. One thread: `poll` over the listening socket and every connection, with the timers as timeout.
public final class BGPListener {
    public let configuration: BGPListenerConfiguration
    public let analyzer: BGPAnalyzer
    /// Plain-words log lines (the executable prefixes and prints them on standard error).
    public var log: (String) -> Void
    private var listenDescriptor: Int32 = -1
    private var connections: [Connection] = []

    /// Accepting failed for lack of file descriptors (logged once per episode: from the first EMFILE until
    /// the accept queue is empty), and until when the listening socket is not polled.
    private var outOfDescriptors = false
    private var acceptPausedUntil: Int64 = 0

    /// Connections we closed ourselves, after a NOTIFICATION: our side is shut (the peer reads the
    /// NOTIFICATION, then a FIN) and what the peer still sends is read and dropped until it closes or
    /// `lingerNanoseconds` pass. Closing at once with unread bytes makes the kernel answer with RST, which
    /// can reach the peer before the NOTIFICATION is read (the peer then logs "Connection reset by peer"
    /// instead of the Cease, and a peer still sending UPDATEs always has unread bytes).
    private var lingering: [(descriptor: Int32, until: Int64)] = []
    static let lingerNanoseconds: Int64 = 2_000_000_000
    /// At most this many lingering sockets (a burst of refused peers): beyond it the oldest is closed.
    static let maximumLingering = 256

    final class Connection {
        let descriptor: Int32
        var session: BGPPeerSession
        var stream = BGPMessageStream()
        /// Stream offset of the next byte received.
        var received: UInt64 = 0
        var isOpen = true
        var sessionKey: BGPSessionKey { BGPSessionKey(speaker: session.remote, peer: session.local) }

        init(descriptor: Int32, session: BGPPeerSession) {
            self.descriptor = descriptor
            self.session = session
        }
    }

    public init(configuration: BGPListenerConfiguration, analyzer: BGPAnalyzer, log: @escaping (String) -> Void) {
        self.configuration = configuration
        self.analyzer = analyzer
        self.log = log
    }

    deinit {
        for connection in connections { close(connection.descriptor) }
        for socket in lingering { close(socket.descriptor) }
        if listenDescriptor >= 0 { close(listenDescriptor) }
    }

    /// The peers with a session in the Established state.
    public var establishedPeers: [IPAddress] {
        connections.filter { $0.session.state == .established }.map(\.session.remote)
    }

    /// Every peer whose session reached Established at some point of the run. A verification counts only
    /// these as sessions: a peer refused with Bad Peer AS sent an OPEN (so the analyzer knows it) but never
    /// had a session, and must give "no session" (13), not "missing" (10).
    public private(set) var peersEverEstablished: Set<IPAddress> = []

    // MARK: Socket

    /// Open, configure (TCP-MD5 keys) and listen. An IPv6 socket accepts IPv4 peers too (as mapped
    /// addresses) unless an IPv4 bind address is given.
    public func start() throws(BGPListenerError) {
        let ipv4Only: Bool
        if case .v4 = configuration.bindAddress { ipv4Only = true } else { ipv4Only = false }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = socket(ipv4Only ? AF_INET : AF_INET6, type, 0)
        guard descriptor >= 0 else { throw BGPListenerError(message: "cannot open a TCP socket: \(Self.errnoText())") }
        listenDescriptor = descriptor
        var one: Int32 = 1
        var zero: Int32 = 0
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if !ipv4Only {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        for (peer, password) in configuration.md5Passwords.sorted(by: { $0.key < $1.key }) {
            try setMD5(peer: peer, password: password, ipv4Socket: ipv4Only)
        }
        let bound = Self.withSocketAddress(configuration.bindAddress, port: configuration.port, ipv4: ipv4Only) {
            bind(descriptor, $0, $1)
        }
        guard bound == 0 else {
            let where_ = configuration.bindAddress.map { "\($0)" } ?? "every address"
            throw BGPListenerError(message: "cannot listen on \(where_) port \(configuration.port): \(Self.errnoText())"
                + (errno == EADDRINUSE ? " (is a BGP daemon already running here? use --bind ADDR:PORT)" : "")
                + (errno == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""))
        }
        // Room for a burst of peers (a node's speakers all reconnecting at once): the kernel caps it at
        // net.core.somaxconn (4096 by default).
        guard listen(descriptor, 1024) == 0 else {
            throw BGPListenerError(message: "cannot listen: \(Self.errnoText())")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// RFC 2385 through Linux's TCP_MD5SIG on the listening socket: accepted connections inherit the key,
    /// and segments from that peer without the right signature are dropped by the kernel.
    private func setMD5(peer: IPAddress, password: String, ipv4Socket: Bool) throws(BGPListenerError) {
        let key = Array(password.utf8)
        guard !key.isEmpty, key.count <= Int(TCP_MD5SIG_MAXKEYLEN) else {
            throw BGPListenerError(message: "the MD5 password for \(peer) must be 1 to \(TCP_MD5SIG_MAXKEYLEN) bytes")
        }
        var signature = tcp_md5sig()
        signature.tcpm_keylen = UInt16(key.count)
        withUnsafeMutableBytes(of: &signature.tcpm_key) { raw in
            for (index, byte) in key.enumerated() { raw[index] = byte }
        }
        withUnsafeMutableBytes(of: &signature.tcpm_addr) { raw in
            _ = Self.withSocketAddress(peer, port: 0, ipv4: ipv4Socket) { address, length in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
                return 0
            }
        }
        let status = setsockopt(listenDescriptor, Int32(IPPROTO_TCP), TCP_MD5SIG, &signature,
            socklen_t(MemoryLayout<tcp_md5sig>.size))
        guard status == 0 else {
            throw BGPListenerError(message: "cannot set the MD5 password for \(peer): \(Self.errnoText())"
                + (ipv4Socket && Self.isV6(peer) ? " (an IPv4 --bind cannot take IPv6 peers)" : ""))
        }
    }

    /// Whether `address` is one of this host's (in this network namespace): a socket can be bound to it.
    /// `bgpdecode listen --metallb` listens on a BGPPeer's peerAddress only when it is.
    public static func isLocal(_ address: IPAddress) -> Bool {
        let ipv4 = !isV6(address)
        let descriptor = socket(ipv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return withSocketAddress(address, port: 0, ipv4: ipv4) { bind(descriptor, $0, $1) } == 0
    }

    /// Call `body` with a sockaddr for `address` (nil: any), IPv4-mapped on an IPv6 socket.
    private static func withSocketAddress(
        _ address: IPAddress?, port: UInt16, ipv4: Bool, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        if ipv4 {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            if case .v4(let v4) = address { socketAddress.sin_addr.s_addr = v4.rawValue.bigEndian }
            return withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        var socketAddress = sockaddr_in6()
        socketAddress.sin6_family = sa_family_t(AF_INET6)
        socketAddress.sin6_port = port.bigEndian
        var high: UInt64 = 0
        var low: UInt64 = 0
        switch address {
        case .v4(let v4): low = 0xFFFF_0000_0000 | UInt64(v4.rawValue)
        case .v6(let v6): (high, low) = (v6.high, v6.low)
        case nil: break
        }
        withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { raw in
            for index in 0..<8 {
                raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
                raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
            }
        }
        return withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }

    /// The address in a sockaddr_storage (IPv4-mapped IPv6 addresses as IPv4).
    static func address(_ storage: sockaddr_storage) -> IPAddress? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &storage) { raw in
                let value = raw.load(fromByteOffset: 4, as: UInt32.self)
                return .v4(IPv4Address(rawValue: UInt32(bigEndian: value)))
            }
        case AF_INET6:
            return withUnsafeBytes(of: &storage) { raw in
                var high: UInt64 = 0
                var low: UInt64 = 0
                for index in 0..<8 {
                    high = high << 8 | UInt64(raw[8 + index])
                    low = low << 8 | UInt64(raw[16 + index])
                }
                if high == 0, low >> 32 == 0xFFFF { return .v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: low))) }
                return .v6(IPv6Address(high: high, low: low))
            }
        default:
            return nil
        }
    }

    static func isV6(_ address: IPAddress) -> Bool { if case .v6 = address { true } else { false } }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Now, on the monotonic clock, in nanoseconds.
    static func monotonicNow() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Now, on the wall clock, for event timestamps.
    static func wallNow() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    // MARK: Loop

    /// Serve until `shouldStop` says so (checked at least every 100 ms and after every batch of input).
    public func run(shouldStop: () -> Bool) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !shouldStop() {
            let now = Self.monotonicNow()
            let nextTimer = min(connections.map(\.session.nextDeadline).min() ?? .max,
                lingering.map(\.until).min() ?? .max)
            let timeout = Int32(clamping: max(0, min(100, (nextTimer - now) / 1_000_000 + 1)))
            let listening = now >= acceptPausedUntil ? listenDescriptor : -1
            var descriptors = [pollfd(fd: listening, events: Int16(POLLIN), revents: 0)]
            descriptors += connections.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            descriptors += lingering.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0, errno != EINTR {
                log("poll failed: \(Self.errnoText())")
                return
            }
            // Lingering sockets first, while `lingering` is still the list that was polled.
            let lingerBase = 1 + connections.count
            let expiry = Self.monotonicNow()
            var index = 0
            lingering.removeAll { socket in
                defer { index += 1 }
                let done = descriptors[lingerBase + index].revents != 0
                    && Self.discardPending(socket.descriptor, &buffer)
                guard done || socket.until <= expiry else { return false }
                close(socket.descriptor)
                return true
            }
            let polled = connections
            for (index, connection) in polled.enumerated() where descriptors[index + 1].revents != 0 {
                readFrom(connection, &buffer)
            }
            if descriptors[0].revents & Int16(POLLIN) != 0 { acceptAll() }
            let later = Self.monotonicNow()
            for connection in connections {
                perform(connection.session.tick(now: later), connection)
                if connection.session.state == .closed, connection.isOpen {
                    endTransport(connection, reason: "closed by bgpdecode")
                }
            }
            connections.removeAll { $0.session.state == .closed }
        }
    }

    private func acceptAll() {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let descriptor = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listenDescriptor, $0, &length) }
            }
            guard descriptor >= 0 else {
                if errno == EMFILE || errno == ENFILE {
                    // Out of file descriptors: the pending connection stays queued and poll would report
                    // it again at once (a 100 % CPU spin). Say so once per episode and stop polling the
                    // listening socket for a second (`acceptPausedUntil`).
                    if !outOfDescriptors {
                        log("cannot accept a connection: \(Self.errnoText()) (raise the limit with ulimit -n, or "
                            + "use fewer peers); retrying every second")
                    }
                    outOfDescriptors = true
                    acceptPausedUntil = Self.monotonicNow() + 1_000_000_000
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    // The queue is empty: only now is an episode over. Not at the first accept that works:
                    // the connections that waited are more than the descriptors a burst of closes frees, so
                    // digging out of the queue runs out again, and that was logged as a new episode.
                    if outOfDescriptors {
                        log("accepting connections again: the ones that waited are accepted")
                        outOfDescriptors = false
                    }
                } else if errno != EINTR && errno != ECONNABORTED {
                    log("cannot accept a connection: \(Self.errnoText())")
                }
                return
            }
            var localStorage = sockaddr_storage()
            var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &localStorage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &localLength) }
            }
            guard let remote = Self.address(storage), let local = Self.address(localStorage) else {
                close(descriptor)
                continue
            }
            guard configuration.acceptAny || configuration.peers[remote] != nil else {
                // RFC 4486 section 4: Cease / Connection Rejected, then close.
                _ = Self.send(descriptor, BGPMessageBuilder.notification(code: 6, subcode: 5))
                linger(descriptor)
                log("refused a connection from \(remote): it is not a configured peer (add --peer \(remote) "
                    + "--peer-as N, or --accept-any); sent Cease/Connection Rejected (6/5)")
                continue
            }
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            // A peer that connects again has given up on its old connection: that session ends now and its
            // routes are withdrawn (we never announce graceful restart).
            for old in connections where old.session.remote == remote && old.session.state != .closed {
                log("\(remote) connected again: its previous session ends and its routes are withdrawn")
                endTransport(old, reason: "replaced by a new connection from the peer")
            }
            connections.removeAll { $0.session.state == .closed }
            let connection = Connection(
                descriptor: descriptor,
                session: BGPPeerSession(
                    remote: remote, local: local, configuration: configuration, now: Self.monotonicNow()))
            connections.append(connection)
            let open = connection.session.start()
            log("\(remote) connected to \(local); sent our OPEN (AS \(configuration.localAS), hold time "
                + "\(configuration.holdTime) s)")
            feedOwn(open, connection)
            if !Self.send(descriptor, open) { endTransport(connection, reason: "TCP send failed") }
        }
    }

    private func readFrom(_ connection: Connection, _ buffer: inout [UInt8]) {
        let count = buffer.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            endTransport(connection, reason: errno == ECONNRESET ? "TCP RST" : "TCP error: \(Self.errnoText())",
                peerIsGone: true)
            return
        }
        if count == 0 {
            log("\(connection.session.remote) closed the connection (TCP FIN)")
            endTransport(connection, reason: "TCP FIN", peerIsGone: true)
            return
        }
        buffer.withUnsafeBytes { raw in
            let bytes = raw.slice(0..<count)
            var messages: [[UInt8]] = []
            var desync: ParseError?
            connection.stream.feed(bytes, at: connection.received, onMessage: { message in
                messages.append(message.readRest())
            }, onDesync: { error in desync = desync ?? error })
            connection.received &+= UInt64(count)
            if let desync {
                // RFC 4271 section 6.1: a Message Header Error, and the connection closes (garbage before
                // the OPEN, a bad marker, a length out of range).
                let subcode: UInt8 = "\(desync.reason)".contains("length") ? 2 : 1
                perform([.send(BGPMessageBuilder.notification(code: 1, subcode: subcode)),
                    .log("\(connection.session.remote) sent bytes that are not a BGP message at stream byte "
                        + "\(desync.offset) (\(desync.reason)): sent "
                        + "\(BGPNotification.name(code: 1, subcode: subcode)) (1/\(subcode)) and closed the connection"),
                    .close], connection)
                return
            }
            for message in messages where connection.session.state != .closed {
                handle(message, connection)
            }
        }
    }

    private func handle(_ message: [UInt8], _ connection: Connection) {
        let timestamp = Self.wallNow()
        let key = connection.sessionKey
        let typeByte = message.count > 18 ? message[18] : 0
        let type = BGPMessageType(rawValue: typeByte)
        let context = connection.session.context
            ?? BGPMessageContext(asSize: nil, addPathFamilies: nil, source: .heuristic)
        let open = message.withUnsafeBytes { raw in
            analyzer.handleMessage(Cursor(raw, origin: Int(connection.received)), session: key, context: context,
                timestamp: timestamp)
        }
        if type == .open { analyzer.setContextSource(.open, session: key, timestamp: timestamp) }
        if type == .notification {
            let text = message.withUnsafeBytes { raw -> String in
                var cursor = Cursor(raw)
                guard (try? BGPMessageHeader(parsing: &cursor)) != nil,
                    let notification = try? BGPNotification(parsing: &cursor) else { return "a NOTIFICATION" }
                return notification.description
            }
            log("\(connection.session.remote) sent \(text) and closes the session; its routes are withdrawn")
        }
        let actions = connection.session.receive(type: type, open: open, now: Self.monotonicNow())
        if connection.session.state == .established { peersEverEstablished.insert(connection.session.remote) }
        if connection.session.extendedMessages {
            connection.stream.maximumLength = BGPMessageHeader.extendedMaximumLength
        }
        perform(actions, connection)
        if type == .update, let limit = configuration.maximumPrefixes, connection.session.state != .closed,
            let session = analyzer.sessions[key], session.routes.count > limit
        {
            // RFC 4486 section 4: Cease / Maximum Number of Prefixes Reached; the data is the AFI, SAFI and
            // the upper bound (RFC 4486 section 4).
            var data: [UInt8] = [0, 1, 1]
            let bound = UInt32(clamping: limit)
            data += [UInt8(bound >> 24), UInt8(bound >> 16 & 0xFF), UInt8(bound >> 8 & 0xFF), UInt8(bound & 0xFF)]
            connection.session.markClosed()
            perform([.send(BGPMessageBuilder.notification(code: 6, subcode: 1, data: data)),
                .log("\(connection.session.remote) announced more than --max-prefixes \(limit) routes: sent "
                    + "Cease/Maximum Number of Prefixes Reached (6/1) and closed the connection"),
                .close], connection)
        }
    }

    /// Do what the state machine asked: NOTIFICATIONs are also fed to the analyzer (they end the session
    /// there, withdrawing its routes, as in a capture).
    private func perform(_ actions: [BGPPeerAction], _ connection: Connection) {
        for action in actions {
            switch action {
            case .send(let bytes):
                if bytes.count > 18, bytes[18] == BGPMessageType.notification.rawValue { feedOwn(bytes, connection) }
                _ = Self.send(connection.descriptor, bytes)
            case .log(let text):
                log(text)
            case .close:
                endTransport(connection, reason: "closed by bgpdecode")
            }
        }
    }

    /// Feed a message we send into the analyzer, as the speaker of the reverse direction.
    private func feedOwn(_ bytes: [UInt8], _ connection: Connection) {
        let context = BGPMessageContext(asSize: 4, addPathFamilies: [], source: .open)
        let timestamp = Self.wallNow()
        bytes.withUnsafeBytes { raw in
            _ = analyzer.handleMessage(Cursor(raw), session: connection.sessionKey.reversed, context: context,
                timestamp: timestamp)
        }
        analyzer.setContextSource(.open, session: connection.sessionKey.reversed, timestamp: timestamp)
    }

    /// End a connection and its session. We close our side after reading what the peer still sends
    /// (`linger`) unless the peer is gone already (its FIN, a RST, a socket error).
    private func endTransport(_ connection: Connection, reason: String, peerIsGone: Bool = false) {
        if connection.isOpen {
            if peerIsGone { close(connection.descriptor) } else { linger(connection.descriptor) }
            connection.isOpen = false
        }
        connection.session.markClosed()
        let timestamp = Self.wallNow()
        analyzer.endSession(connection.sessionKey, reason: reason, timestamp: timestamp)
        analyzer.endSession(connection.sessionKey.reversed, reason: reason, timestamp: timestamp)
    }

    /// Shut our side of a connection we end (after our NOTIFICATION) and keep reading it for a while:
    /// see `lingering`.
    private func linger(_ descriptor: Int32) {
        Glibc.shutdown(descriptor, Int32(SHUT_WR))
        var scratch = [UInt8](repeating: 0, count: 4096)
        if Self.discardPending(descriptor, &scratch) {
            close(descriptor)
            return
        }
        if lingering.count >= Self.maximumLingering { close(lingering.removeFirst().descriptor) }
        lingering.append((descriptor, Self.monotonicNow() + Self.lingerNanoseconds))
    }

    /// Read and drop what a lingering socket holds (a bounded number of reads); true when the peer has
    /// closed or the socket failed, so it can be closed without a RST.
    static func discardPending(_ descriptor: Int32, _ scratch: inout [UInt8]) -> Bool {
        for _ in 0..<16 {
            let count = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { return true }
            if count < 0 { return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) }
        }
        return false
    }

    /// Send a whole message; false when the socket failed. Messages are small and the socket buffer is
    /// far larger than anything a receive-only speaker sends, so a short write means a broken connection.
    static func send(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        var attempts = 0
        while sent < bytes.count, attempts < 100 {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress.map { $0 + sent }, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN {
                    attempts += 1
                    usleep(1000)
                    continue
                }
                return false
            }
            sent += count
        }
        return sent == bytes.count
    }

    // MARK: Shutdown

    /// Send Cease / Administrative Shutdown (6/2, RFC 8203 text) to every peer and close every connection.
    /// The analyzer is told, as of a NOTIFICATION in a capture: a session is not shown up after the Cease,
    /// and its last table stays readable (`BGPSession.endedRoutes`).
    public func shutdown(communication: String) {
        let cease = BGPMessageBuilder.cease(subcode: 2, communication: communication)
        for connection in connections where connection.isOpen {
            _ = Self.send(connection.descriptor, cease)
            log("sent Cease/Administrative Shutdown (6/2) to \(connection.session.remote)")
            if connection.session.state == .established { feedOwn(cease, connection) }
            linger(connection.descriptor)
            connection.isOpen = false
            connection.session.markClosed()
        }
        connections = []
        // We are exiting: a last read of what each peer still sent, then close.
        var scratch = [UInt8](repeating: 0, count: 4096)
        for socket in lingering {
            _ = Self.discardPending(socket.descriptor, &scratch)
            close(socket.descriptor)
        }
        lingering = []
        if listenDescriptor >= 0 {
            close(listenDescriptor)
            listenDescriptor = -1
        }
    }
}
