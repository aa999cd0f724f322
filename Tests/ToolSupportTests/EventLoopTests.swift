import EventLoop
import Glibc
import PacketCore
import Testing

/// EventLoop's pieces on real descriptors: a pipe polled with deadlines, and sockaddr bytes built from the core's
/// addresses read back the way the kernel and inet_ntop read them.
@Suite("EventLoop")
struct EventLoopTests {
    @Test("poll timeouts round up, never wait past the deadline, clamp far deadlines")
    func pollTimeouts() {
        #expect(MonotonicClock.pollTimeout(until: 1_000, now: 2_000) == 0)
        #expect(MonotonicClock.pollTimeout(until: 3_000_000, now: 1_000_000) == 2)
        #expect(MonotonicClock.pollTimeout(until: 3_000_001, now: 1_000_000) == 3)
        #expect(MonotonicClock.pollTimeout(until: .max, now: 0) == Int32.max)
        #expect(Deadline.never.pollTimeout(cap: 250) == 250)
        #expect(Deadline(at: 10_000_000).pollTimeout(cap: 250, now: 9_999_999) == 1)
        #expect(Deadline(at: 10).hasPassed(now: 10))
        #expect(!Deadline.never.hasPassed(now: .max - 1))
        #expect(Deadline(afterSeconds: 1.5, now: 100).at == 1_500_000_100)
        #expect(Deadline(afterSeconds: nil) == .never)
    }

    @Test("a pipe: times out at the deadline, then reports readable")
    func pipeReadiness() {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        var set = PollSet()
        set.add(ends[0], events: Int16(POLLIN))
        let start = MonotonicClock.now()
        #expect(set.wait(until: start + 20_000_000) == .success(0))
        #expect(MonotonicClock.now() - start >= 20_000_000)
        var byte: UInt8 = 1
        #expect(write(ends[1], &byte, 1) == 1)
        set.removeAll()
        set.add(ends[0], events: Int16(POLLIN))
        #expect(set.wait(timeoutMilliseconds: 1000) == .success(1))
        #expect(set.events(at: 0) & Int16(POLLIN) != 0)
    }

    @Test("sockaddr from an IPAddress and back", arguments: ["203.0.113.7", "::", "2001:db8::1", "::ffff:198.51.100.1",
                                                             "fd99:1:2:3:4:5:6:7"])
    func socketEndpoints(text: String) throws {
        let address = try #require(IPAddress(text))
        let endpoint = SocketEndpoint(address, port: 179)
        #expect(endpoint.address == address)
        #expect(endpoint.port == 179)
        #expect(endpoint.presentation == address.description)
        let copy = endpoint.withSockaddr { SocketEndpoint($0, length: $1) }
        #expect(copy == endpoint)
    }
}
