import EventLoop
import Glibc
import PacketCore
import Synchronization

/// `--metrics-listen` could not be set up; `message` is one sentence that says what to do.
public struct MetricsServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The small HTTP/1.1 responder behind `--metrics-listen`: `GET /metrics` (the Prometheus text exposition
/// format, version 0.0.4), `GET /healthz` (200 `ok`, or 503 and the reason), `GET /` (what is served here).
/// One connection at a time on its own thread, each closed after its answer (`Connection: close`), with
/// a 2 s limit to read the request and 5 s to send the answer, so a stalled or hostile client holds it up
/// for seconds at most and never touches the capture loop. Requests are at most 8 KiB; anything else is 400,
/// 404 or 405.
///
/// The tool's own thread updates the metrics (the registry takes its locks); this thread only reads them.
public final class MetricsServer: Sendable {
    public let listenAddress: MetricsListenAddress
    private let descriptor: Int32
    private let exposition: @Sendable () -> [UInt8]
    private let health: @Sendable () -> String?
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    /// Requests answered (any status), for tests and the closing log line.
    private let answered = Atomic<Int>(0)

    public static let requestLimit = 8192
    static let readTimeoutSeconds = 2
    static let writeTimeoutSeconds = 5

    /// Bind and listen now (so a port in use is an error before any capture starts); serve after `start()`.
    /// `exposition` returns the body of `/metrics`; `health` nil while healthy, else why not.
    public init(
        listen: MetricsListenAddress, exposition: @escaping @Sendable () -> [UInt8],
        health: @escaping @Sendable () -> String? = { nil }
    ) throws(MetricsServerError) {
        listenAddress = listen
        self.exposition = exposition
        self.health = health
        let ipv4 = if case .v4? = listen.address { true } else { false }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let socketDescriptor = socket(ipv4 ? AF_INET : AF_INET6, type, 0)
        guard socketDescriptor >= 0 else {
            throw MetricsServerError(message: "--metrics-listen \(listen): cannot open a TCP socket: \(Self.errnoText())")
        }
        var one: Int32 = 1
        var zero: Int32 = 0
        setsockopt(socketDescriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if !ipv4 {
            // `:PORT` and `[::]:PORT` take IPv4 clients too, as mapped addresses.
            setsockopt(socketDescriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        let endpoint = SocketEndpoint(listen.address ?? .v6(IPv6Address(high: 0, low: 0)), port: listen.port)
        let bound = endpoint.withSockaddr { bind(socketDescriptor, $0, $1) }
        guard bound == 0, Glibc.listen(socketDescriptor, 64) == 0 else {
            let reason = Self.errnoText()
            let hint =
                errno == EADDRINUSE ? " (another process serves that port: pick another with --metrics-listen ADDR:PORT)"
                : errno == EADDRNOTAVAIL ? " (that address is not one of this host's)"
                : errno == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""
            close(socketDescriptor)
            throw MetricsServerError(message: "--metrics-listen \(listen): cannot listen: \(reason)\(hint)")
        }
        _ = fcntl(socketDescriptor, F_SETFL, fcntl(socketDescriptor, F_GETFL) | O_NONBLOCK)
        descriptor = socketDescriptor
    }

    deinit { close(descriptor) }

    /// The port actually bound (the one asked for, or the kernel's choice for port 0 in tests).
    public var boundPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard status == 0 else { return listenAddress.port }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketEndpoint($0, length: length)?.port }
        } ?? listenAddress.port
    }

    public var requestsAnswered: Int { answered.load(ordering: .relaxed) }

    /// Serve on a thread of its own until `stop()` (or the process ends).
    public func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let server = Unmanaged<MetricsServer>.fromOpaque(raw).takeRetainedValue()
            server.serve()
            return nil
        }, context)
        if status == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<MetricsServer>.fromOpaque(context).release()
            finished.store(true, ordering: .releasing)
        }
    }

    /// Stop serving and wait (at most about 250 ms) for the thread to leave.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        for _ in 0..<50 where !finished.load(ordering: .acquiring) { usleep(10_000) }
    }

    private func serve() {
        defer { finished.store(true, ordering: .releasing) }
        var poll = PollSet()
        while !stopping.load(ordering: .acquiring) {
            poll.removeAll()
            poll.add(descriptor, events: Int16(POLLIN))
            guard case .success(let ready) = poll.wait(timeoutMilliseconds: 200), ready > 0 else { continue }
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 {
                    // EAGAIN: nothing more queued. EMFILE/ENFILE: out of descriptors; the next poll retries
                    // after its timeout rather than spin.
                    if errno == EMFILE || errno == ENFILE { usleep(100_000) }
                    break
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                answer(client)
                close(client)
                answered.add(1, ordering: .relaxed)
                if stopping.load(ordering: .acquiring) { break }
            }
        }
    }

    private func answer(_ client: Int32) {
        var readTimeout = timeval(tv_sec: Self.readTimeoutSeconds, tv_usec: 0)
        var writeTimeout = timeval(tv_sec: Self.writeTimeoutSeconds, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &readTimeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &writeTimeout, socklen_t(MemoryLayout<timeval>.size))
        guard let request = Self.readRequest(client) else {
            send(client, status: "400 Bad Request", body: Array("a request line and headers within 8 KiB, please\n".utf8))
            return
        }
        let reply = respond(to: request)
        send(client, status: reply.status, contentType: reply.contentType, extra: reply.extra,
            body: reply.body, headOnly: request.method == "HEAD")
    }

    /// What the server answers to `method path` (split out so tests can check the routing without sockets).
    public func respond(to request: HTTPRequestLine) -> (status: String, contentType: String, extra: String, body: [UInt8]) {
        let text = "text/plain; charset=utf-8"
        guard request.method == "GET" || request.method == "HEAD" else {
            return ("405 Method Not Allowed", text, "Allow: GET, HEAD\r\n", Array("only GET and HEAD are served here\n".utf8))
        }
        switch request.path {
        case "/metrics":
            return ("200 OK", "text/plain; version=0.0.4; charset=utf-8", "", exposition())
        case "/healthz":
            if let problem = health() { return ("503 Service Unavailable", text, "", Array("\(problem)\n".utf8)) }
            return ("200 OK", text, "", Array("ok\n".utf8))
        case "/":
            return ("200 OK", text, "", Array("vipscope metrics: GET /metrics (Prometheus text format), GET /healthz\n".utf8))
        default:
            return ("404 Not Found", text, "", Array("no such page: try /metrics or /healthz\n".utf8))
        }
    }

    /// The request line of what the client sent, once its headers are complete; nil when it is not HTTP, is
    /// larger than `requestLimit`, or does not arrive within the read timeout.
    static func readRequest(_ client: Int32) -> HTTPRequestLine? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while bytes.count < requestLimit {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            bytes += chunk[..<count]
            if let request = HTTPRequestLine(parsingHead: bytes) { return request }
        }
        return nil
    }

    private func send(
        _ client: Int32, status: String, contentType: String = "text/plain; charset=utf-8", extra: String = "",
        body: [UInt8], headOnly: Bool = false
    ) {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
            + "\(extra)Connection: close\r\n\r\n"
        var message = Array(head.utf8)
        if !headOnly { message += body }
        var sent = 0
        while sent < message.count {
            let count = message.withUnsafeBytes { raw in
                Glibc.send(client, raw.baseAddress.map { $0 + sent }, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            sent += count
        }
        // Our side is done: a FIN now, so the client reads the whole answer before the close.
        Glibc.shutdown(client, Int32(SHUT_WR))
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// `METHOD PATH HTTP/x.y` of a request whose head (up to the blank line) has arrived.
public struct HTTPRequestLine: Sendable, Equatable {
    public var method: String
    /// The path without its query string.
    public var path: String

    public init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    /// nil until `bytes` holds the whole head (`\r\n\r\n`, or `\n\n` from a lax client), or when its first line
    /// is not `METHOD SP TARGET SP HTTP/...`.
    public init?(parsingHead bytes: [UInt8]) {
        guard let end = Self.headEnd(bytes) else { return nil }
        let head = bytes[..<end]
        let firstLine = head.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let parts = firstLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].starts(with: Array("HTTP/".utf8)),
            let methodPart = parts.first, !methodPart.isEmpty, methodPart.count <= 16,
            methodPart.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }),
            parts[1].first == UInt8(ascii: "/")
        else { return nil }
        method = String(decoding: methodPart, as: UTF8.self)
        let target = parts[1].prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        path = String(decoding: target, as: UTF8.self)
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if bytes[index + 1] == UInt8(ascii: "\n") { return index }
                if bytes[index + 1] == UInt8(ascii: "\r"), index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "\n") {
                    return index
                }
            }
            index += 1
        }
        return nil
    }
}
