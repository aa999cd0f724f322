import Glibc
import MetricsSink
import PacketCore
import Prometheus
import Synchronization
import Testing

/// The `--metrics-listen` responder over real loopback sockets: what each path answers, that a stalled client
/// holds it up for its read limit at most, and that a port in use is a sentence before anything runs.
@Suite("MetricsServer on loopback")
struct MetricsServerTests {
    @Test("Listen addresses: ADDR:PORT, [IPv6]:PORT, :PORT; nothing else", arguments: [
        ("127.0.0.1:9781", "127.0.0.1:9781"), ("[::1]:9781", "[::1]:9781"), (":9781", ":9781"),
        ("[fd99::1]:80", "[fd99::1]:80"), ("0.0.0.0:1", "0.0.0.0:1"),
    ])
    func listenAddresses(_ given: (text: String, description: String)) {
        #expect(MetricsListenAddress(given.text)?.description == given.description)
    }

    @Test("Bad listen addresses are refused", arguments: [
        "9781", "localhost:9781", "::1:9781", "[::1]9781", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:-1", "[127.0.0.1]:80", "1.2.3.4.5:80", "", ":", "127.0.0.1:80a", "127.0.0.1:000080",
    ])
    func badListenAddresses(_ text: String) {
        #expect(MetricsListenAddress(text) == nil, "\(text)")
    }

    @Test("Request heads: the line is read once the head is complete")
    func requestLines() {
        #expect(HTTPRequestLine(parsingHead: Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            == HTTPRequestLine(method: "GET", path: "/metrics"))
        #expect(HTTPRequestLine(parsingHead: Array("GET /metrics?x=1 HTTP/1.0\n\n".utf8))?.path == "/metrics")
        #expect(HTTPRequestLine(parsingHead: Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)) == nil)
        #expect(HTTPRequestLine(parsingHead: Array("get /metrics HTTP/1.1\r\n\r\n".utf8)) == nil)
        #expect(HTTPRequestLine(parsingHead: Array("GET metrics HTTP/1.1\r\n\r\n".utf8)) == nil)
        #expect(HTTPRequestLine(parsingHead: Array("\u{16}\u{3}\u{1}\r\n\r\n".utf8)) == nil)
    }

    final class Health: Sendable {
        let problem = Mutex<String?>(nil)
    }

    static func makeServer(health: Health = Health()) throws -> (MetricsServer, PrometheusCollectorRegistry) {
        let registry = PrometheusCollectorRegistry()
        registry.counter(MetricName("vipscope_test_requests_total", help: "A test counter."), [("node", "t")])
            .increment(by: Int64(42))
        let server = try MetricsServer(
            listen: MetricsListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: 0),
            exposition: { registry.exposition() }, health: { health.problem.withLock { $0 } })
        server.start()
        return (server, registry)
    }

    /// One request over a fresh connection; the whole answer (the server closes after it).
    static func exchange(_ port: UInt16, _ request: String) throws -> String {
        let descriptor = try connect(port)
        defer { close(descriptor) }
        _ = Array(request.utf8).withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += chunk[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    static func connect(_ port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(status == 0, "connect: \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    @Test("GET /metrics is the registry's exposition; HEAD the same head without the body")
    func metrics() throws {
        let (server, registry) = try Self.makeServer()
        defer { server.stop() }
        let answer = try Self.exchange(server.boundPort, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
        #expect(answer.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        let body = String(answer.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")
        #expect(body == String(decoding: registry.exposition(), as: UTF8.self))
        #expect(body.contains("vipscope_test_requests_total{node=\"t\"} 42"))
        #expect(answer.contains("Content-Length: \(body.utf8.count)\r\n"))
        let head = try Self.exchange(server.boundPort, "HEAD /metrics HTTP/1.1\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK") && head.hasSuffix("\r\n\r\n") && !head.contains("vipscope_test"))
    }

    @Test("/healthz: 200 ok while healthy, 503 with the reason when not; other paths 404, methods 405, junk 400")
    func otherAnswers() throws {
        let health = Health()
        let (server, _) = try Self.makeServer(health: health)
        defer { server.stop() }
        let port = server.boundPort
        let healthy = try Self.exchange(port, "GET /healthz HTTP/1.1\r\n\r\n")
        #expect(healthy.hasPrefix("HTTP/1.1 200 OK") && healthy.hasSuffix("\r\n\r\nok\n"), "\(healthy)")
        health.problem.withLock { $0 = "capture on eth0 failed" }
        let sick = try Self.exchange(port, "GET /healthz HTTP/1.1\r\n\r\n")
        #expect(sick.hasPrefix("HTTP/1.1 503 ") && sick.hasSuffix("capture on eth0 failed\n"), "\(sick)")
        #expect(try Self.exchange(port, "GET /nothing HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        let post = try Self.exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405 ") && post.contains("Allow: GET, HEAD\r\n"), "\(post)")
        #expect(try Self.exchange(port, "\u{16}\u{3}\u{1}\u{2}\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        // Larger than 8 KiB without the end of the head: refused, not buffered without end.
        let huge = "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000)
        #expect(try Self.exchange(port, huge).hasPrefix("HTTP/1.1 400 "))
        #expect(server.requestsAnswered == 6)
    }

    @Test("A client that connects and says nothing holds the responder up for about 2 s, not longer")
    func stalledClient() throws {
        let (server, _) = try Self.makeServer()
        defer { server.stop() }
        let stalled = try Self.connect(server.boundPort)
        defer { close(stalled) }
        usleep(100_000)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let answer = try Self.exchange(server.boundPort, "GET /healthz HTTP/1.1\r\n\r\n")
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let waited = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
        #expect(waited < 3.5, "waited \(waited) s behind a stalled client")
    }

    @Test("A port already in use is an error that says so, before anything is served")
    func portInUse() throws {
        let (server, _) = try Self.makeServer()
        defer { server.stop() }
        let address = MetricsListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: server.boundPort)
        #expect(throws: MetricsServerError.self) { _ = try MetricsServer(listen: address, exposition: { [] }) }
        do {
            _ = try MetricsServer(listen: address, exposition: { [] })
        } catch {
            #expect(error.message.contains("Address already in use") && error.message.contains("--metrics-listen"),
                "\(error.message)")
        }
    }
}
