import BGPDecodeKit
import Foundation
import PacketCore
import TestSupport
import Testing

/// Issue 16 item 10, the guards of `bgpdecode listen` that had no test: a connection that never sends an
/// OPEN, running out of file descriptors while accepting, and the TCP-MD5 password read from a file.
@Suite("bgpdecode listen: silent peers, no file descriptors left, password files (issue 16 item 10)")
struct ListenLimitsTests {
    // MARK: A connection without an OPEN

    /// Connections that never complete an OPEN: silent (a port scan, a stuck speaker), and one that sends
    /// a header announcing a 60-byte OPEN and then nothing (a slow or hostile peer: bytes alone must not
    /// keep the connection open).
    static let withoutOpen: [(name: String, bytes: [UInt8])] = [
        ("sends nothing", []),
        ("sends an OPEN header and stops", [UInt8](repeating: 0xFF, count: 16) + [0, 60, 1]),
    ]

    /// The listener's default configuration (the one `bgpdecode listen` runs with), so the time measured is
    /// the default: RFC 4271 section 8.2.2 suggests 4 minutes for the OpenSent hold timer, which held a
    /// socket per silent connection for 240 s. The peer gets our OPEN at once, then Hold Timer Expired
    /// (RFC 4271 section 6.5: error code 4, no subcode) and a FIN about 15 s after it connected.
    @Test(arguments: 0..<2)
    func aConnectionWithoutAnOpenIsClosedAfterFifteenSeconds(index: Int) throws {
        let (name, bytes) = Self.withoutOpen[index]
        let running = try HostilePeerTests.Running()
        defer { running.finish() }
        let started = ContinuousClock.now
        let client = try running.connect()
        defer { close(client) }
        // Long enough to see the close if the timer were 15 s, far short of 240 s.
        var timeout = timeval(tv_sec: 25, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if !bytes.isEmpty { ListenerLoopbackTests.send(client, bytes) }
        let (received, closed) = ListenerLoopbackTests.drain(client)
        let elapsed = ContinuousClock.now - started
        #expect(ListenerLoopbackTests.types(received) == [1, 3], "\(name): message types \(received)")
        let notifications = Self.notificationCodes(received)
        #expect(notifications == [[4, 0]], "\(name): \(notifications)")
        #expect(closed, "\(name): the connection was not closed within 25 s")
        #expect(elapsed >= .seconds(14) && elapsed <= .seconds(18), "\(name): closed after \(elapsed)")
        let expected = "127.0.0.1 sent no OPEN within 15 s of connecting: sent Hold Timer Expired (4/0) and "
            + "closed the connection"
        #expect(running.log.filter { $0 == expected }.count == 1, "\(name): \(running.log)")
    }

    /// The (code, subcode) of each NOTIFICATION in `bytes` (RFC 4271 section 4.5).
    static func notificationCodes(_ bytes: [UInt8]) -> [[UInt8]] {
        var codes: [[UInt8]] = []
        var index = 0
        while index + 19 <= bytes.count {
            let length = Int(bytes[index + 16]) << 8 | Int(bytes[index + 17])
            guard length >= 19, index + length <= bytes.count else { break }
            if bytes[index + 18] == 3, length >= 21 { codes.append([bytes[index + 19], bytes[index + 20]]) }
            index += length
        }
        return codes
    }
}

/// Wait up to `seconds` for `condition`; whether it held.
private func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}
