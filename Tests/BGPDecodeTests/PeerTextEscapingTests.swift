import BGPDecodeKit
import Foundation
import PacketCore
import Synchronization
import TestSupport
import Testing

/// Peer-supplied text (the FQDN capability's host and domain, the shutdown communication) goes through
/// `PrintableText.escaped` in every text line and log line: a peer must not forge a `session established`
/// line with CR/LF, nor drive the terminal with ESC. JSON keeps the raw text (its quoting is enough).
@Suite("bgpdecode escapes peer text (issue 18)", .serialized)
struct PeerTextEscapingTests {
    static let forged = "evil\r\nsession established\u{1b}[2J\u{1b}]0;title\u{07}"
    static let escapedForged = #"evil\r\nsession established\x1b[2J\x1b]0;title\x07"#

    /// A session whose speaker (203.0.113.2) sends an FQDN capability and a Cease carrying the forged text.
    static func forgedCapture() throws -> String {
        var capture = SyntheticCapture()
        capture.handshake()
        capture.send(fromClient: true, SyntheticCapture.open(asn: 64513, identifier: IPv4Address(203, 0, 113, 1)))
        capture.send(fromClient: false, SyntheticCapture.open(asn: 64512, identifier: IPv4Address(203, 0, 113, 2),
            host: forged, domain: "dom\u{1b}[31m\r\nain"))
        capture.send(fromClient: true, BGPMessageBuilder.keepalive())
        capture.send(fromClient: false, BGPMessageBuilder.keepalive())
        capture.send(fromClient: false, SyntheticCapture.update(asn: 64512, last: 10))
        capture.send(fromClient: false, BGPMessageBuilder.cease(subcode: 2, communication: forged))
        capture.close()
        return try capture.write("forged-text")
    }

    static func assertClean(_ text: String, _ what: String) {
        #expect(!text.utf8.contains(0x1B), "\(what) holds an ESC byte")
        #expect(!text.utf8.contains(0x0D), "\(what) holds a CR byte")
        #expect(!text.utf8.contains(0x07), "\(what) holds a BEL byte")
        for line in text.split(separator: "\n") {
            #expect(!line.hasPrefix("session established"), "\(what) has a forged line: \(line)")
        }
    }

    @Test func coreDescriptionsEscape() throws {
        let message = BGPMessageBuilder.cease(subcode: 2, communication: Self.forged)
        let notification = try message.withUnsafeBytes { raw throws(ParseError) in
            var cursor = Cursor(raw)
            _ = try BGPMessageHeader(parsing: &cursor)
            return try BGPNotification(parsing: &cursor)
        }
        #expect(notification.shutdownCommunication == Self.forged, "the value itself stays raw")
        #expect(notification.description.contains("\"\(Self.escapedForged)\""), "\(notification.description)")
    }

    @Test func textOutputOfACaptureEscapesFQDNAndShutdownText() throws {
        let path = try Self.forgedCapture()
        let text = try Tool.run(["-r", path])
        #expect(text.status == 0, "\(text.standardError)")
        Self.assertClean(text.standardOutput, "bgpdecode -r text")
        #expect(text.standardOutput.contains(Self.escapedForged), "\(text.standardOutput)")
        #expect(text.standardOutput.contains(#"dom\x1b[31m\r\nain"#), "\(text.standardOutput)")
        let table = try Tool.run(["-r", path, "--table"])
        Self.assertClean(table.standardOutput, "bgpdecode -r --table")
        #expect(table.standardOutput.contains(Self.escapedForged), "the session line's down reason")
        // JSON keeps the peer's text as it was sent (quoting makes it safe).
        let json = try Tool.run(["-r", path, "--json"])
        let notification = try #require(try JSONLines.events(json.standardOutput, tool: "bgpdecode")
            .first { $0["event"] as? String == "notification" })
        #expect(notification["shutdown_communication"] as? String == Self.forged)
    }

    /// The listener's log lines (stderr) and its events: a peer on loopback sends an OPEN with the forged
    /// FQDN and then a Cease whose shutdown communication forges a `session established` line.
    @Test func listenerLogLinesEscapeTheShutdownCommunication() throws {
        let port = UInt16(20000 + (getpid() &+ 7919) % 20000)
        let configuration = BGPListenerConfiguration(
            localAS: 64512, routerID: IPv4Address(203, 0, 113, 254), bindAddress: .v4(IPv4Address(127, 0, 0, 2)),
            port: port, peers: [.v4(IPv4Address(127, 0, 0, 1)): 65001], holdTime: 30)
        nonisolated(unsafe) var lines: [String] = []
        let analyzer = BGPAnalyzer { event in if let line = BGPRender.text(event) { lines.append(line) } }
        nonisolated(unsafe) var logs: [String] = []
        let listener = BGPListener(configuration: configuration, analyzer: analyzer) { logs.append($0) }
        try listener.start()
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
        nonisolated(unsafe) let running = listener
        let thread = Thread {
            running.run { stop.load(ordering: .relaxed) }
            done.store(true, ordering: .relaxed)
        }
        thread.start()
        defer {
            stop.store(true, ordering: .relaxed)
            while !done.load(ordering: .relaxed) { usleep(10_000) }
        }
        let client = try ListenerLoopbackTests.connect(port: port)
        defer { close(client) }
        ListenerLoopbackTests.send(client, SyntheticCapture.open(asn: 65001, identifier: IPv4Address(203, 0, 113, 1),
            host: Self.forged))
        ListenerLoopbackTests.send(client, BGPMessageBuilder.keepalive())
        usleep(300_000)
        ListenerLoopbackTests.send(client, BGPMessageBuilder.cease(subcode: 2, communication: Self.forged))
        _ = ListenerLoopbackTests.drain(client)
        usleep(200_000)
        stop.store(true, ordering: .relaxed)
        while !done.load(ordering: .relaxed) { usleep(10_000) }

        #expect(logs.filter { $0.contains(": session established") }.count == 1, "\(logs)")
        let cease = try #require(logs.first { $0.contains("sent Cease") }, "\(logs)")
        #expect(cease.contains(Self.escapedForged), "\(cease)")
        for log in logs { Self.assertClean(log, "log line"); #expect(!log.contains("\n")) }
        Self.assertClean(lines.joined(separator: "\n"), "listener event lines")
        #expect(lines.contains { $0.contains("fqdn \(Self.escapedForged)") }, "\(lines)")
    }
}
