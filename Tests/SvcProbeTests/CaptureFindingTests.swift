import Capture
import Foundation
import PacketCore
import TestSupport
import Testing
@testable import SvcProbeKit
import ToolSupport

/// Raw-IP TCP segments between 203.0.113.2 (client) and 203.0.113.1:3306, for `-r` corners a lab cannot
/// easily produce (a SYN nobody answers, `nc -z`, clocks going back, far-future stamps, a million flows).
enum Segments {
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xFFFF)) }

    static let syn: UInt16 = 0x002, ack: UInt16 = 0x010, fin: UInt16 = 0x001, rst: UInt16 = 0x004, psh: UInt16 = 0x008

    /// One IPv4 packet (link type RAW) carrying one TCP segment.
    static func packet(
        fromClient: Bool, clientPort: UInt16 = 40000, flags: UInt16, sequence: UInt32, acknowledgment: UInt32 = 0,
        payload: [UInt8] = [], client: UInt32 = 0xCB00_7102
    ) -> [UInt8] {
        let server: UInt32 = 0xCB00_7101
        let (sourcePort, destinationPort) = fromClient ? (clientPort, UInt16(3306)) : (UInt16(3306), clientPort)
        let tcp = be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgment)
            + be16(5 << 12 | flags) + be16(64240) + be16(0) + be16(0) + payload
        let (source, destination) = fromClient ? (client, server) : (server, client)
        return [0x45, 0] + be16(UInt16(20 + tcp.count)) + be16(1) + be16(0x4000) + [64, 6] + be16(0)
            + be32(source) + be32(destination) + tcp
    }

    static func mysql(_ sequence: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count >> 16), sequence] + payload
    }

    static func greeting(version: String = "10.11.19-MariaDB") -> [UInt8] {
        mysql(0, [10] + Array(version.utf8) + [0] + [7, 0, 0, 0] + Array("abcdefgh".utf8) + [0]
            + [0xFE, 0xF7, 8, 2, 0, 0xFF, 0x81, 21] + [UInt8](repeating: 0, count: 6) + [0x1D, 0, 0, 0]
            + Array("ijklmnopqrst".utf8) + [0] + Array("mysql_native_password".utf8) + [0])
    }

    /// A HandshakeResponse41 for user "svcprobe" (capabilities PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH).
    static let login: [UInt8] = mysql(1, be32le(0x0008_8200) + be32le(16_777_216) + [8] + [UInt8](repeating: 0, count: 23)
        + Array("svcprobe".utf8) + [0] + [0] + Array("mysql_native_password".utf8) + [0])

    static func be32le(_ value: UInt32) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)] }

    /// A whole connection: handshake, then `exchange` (true = from the client), then FINs.
    static func connection(
        clientPort: UInt16 = 40000, exchange: [(Bool, [UInt8])], clientClosesFirst: Bool = true
    ) -> [[UInt8]] {
        var clientSequence: UInt32 = 1000, serverSequence: UInt32 = 5000
        var packets = [packet(fromClient: true, clientPort: clientPort, flags: syn, sequence: clientSequence - 1)]
        packets.append(packet(fromClient: false, clientPort: clientPort, flags: syn | ack, sequence: serverSequence - 1,
            acknowledgment: clientSequence))
        packets.append(packet(fromClient: true, clientPort: clientPort, flags: ack, sequence: clientSequence,
            acknowledgment: serverSequence))
        for (fromClient, bytes) in exchange {
            if fromClient {
                packets.append(packet(fromClient: true, clientPort: clientPort, flags: psh | ack, sequence: clientSequence,
                    acknowledgment: serverSequence, payload: bytes))
                clientSequence &+= UInt32(bytes.count)
            } else {
                packets.append(packet(fromClient: false, clientPort: clientPort, flags: psh | ack, sequence: serverSequence,
                    acknowledgment: clientSequence, payload: bytes))
                serverSequence &+= UInt32(bytes.count)
            }
        }
        let order = clientClosesFirst ? [true, false] : [false, true]
        for fromClient in order {
            let sequence = fromClient ? clientSequence : serverSequence
            packets.append(packet(fromClient: fromClient, clientPort: clientPort, flags: fin | ack, sequence: sequence,
                acknowledgment: fromClient ? serverSequence : clientSequence))
            if fromClient { clientSequence &+= 1 } else { serverSequence &+= 1 }
        }
        packets.append(packet(fromClient: !order[1], clientPort: clientPort, flags: ack,
            sequence: order[1] ? serverSequence : clientSequence, acknowledgment: order[1] ? clientSequence : serverSequence))
        return packets
    }

    /// Feed packets to a scanner, one timestamp each (`times[i]` seconds, or 1 ms apart).
    static func scan(
        _ packets: [[UInt8]], times: [Timestamp]? = nil, maxFlows: Int = 32_768
    ) -> (findings: [CaptureFinding], summary: CaptureScanSummary, openFlows: Int) {
        var scanner = CaptureScanner(port: 3306, maxFlows: maxFlows)
        var findings: [CaptureFinding] = []
        var mostOpen = 0
        for (index, bytes) in packets.enumerated() {
            let timestamp = times?[index]
                ?? Timestamp(seconds: 1_700_000_000 + Int64(index / 1000), nanoseconds: Int32(index % 1000 * 1_000_000))
            bytes.withUnsafeBytes { raw in
                let packet = Packet.decode(raw, linkType: .raw, originalLength: raw.count)
                scanner.process(packet, bytes: raw, timestamp: timestamp)
            }
            findings += scanner.takeReady()
            mostOpen = max(mostOpen, scanner.openFlows)
        }
        findings += scanner.finish()
        return (findings, scanner.summary, mostOpen)
    }

    static func write(_ packets: [[UInt8]], to path: String, linkType: LinkType = .raw) throws {
        let writer = try PacketWriter(path: path, linkType: linkType)
        for (index, bytes) in packets.enumerated() {
            bytes.withUnsafeBytes {
                writer.write(timestamp: Timestamp(seconds: 1_700_000_000, nanoseconds: Int32(index * 1_000_000)), bytes: $0)
            }
        }
        try writer.close()
    }
}

@Suite("svcprobe -r: connection outcomes, max_connect_errors, bounds")
struct CaptureFindingTests {
    @Test func unansweredSynIsTimeoutAndRstIsRefused() {
        let syn = Segments.packet(fromClient: true, flags: Segments.syn, sequence: 999)
        let lone = Segments.scan([syn])
        #expect(lone.findings.map(\.outcome) == [.timeout])
        #expect(lone.findings.first?.countsAsConnectError == false, "never established: the server saw nothing")
        let reset = Segments.packet(fromClient: false, flags: Segments.rst | Segments.ack, sequence: 0, acknowledgment: 1000)
        #expect(Segments.scan([syn, reset]).findings.map(\.outcome) == [.refused])
    }

    /// A SYN nobody answers is retransmitted (1 s, 3 s, 7 s later, same sequence number): that is one
    /// connection that timed out, not one per retransmission. A SYN with another sequence number on the same
    /// ports is the next connection.
    @Test func retransmittedSynIsOneConnection() {
        let syn = Segments.packet(fromClient: true, flags: Segments.syn, sequence: 999)
        let retried = Segments.scan([syn, syn, syn, syn])
        #expect(retried.findings.map(\.outcome) == [.timeout])
        #expect(retried.summary.connections == 1)
        let next = Segments.packet(fromClient: true, flags: Segments.syn, sequence: 777_777)
        #expect(Segments.scan([syn, syn, next]).findings.map(\.outcome) == [.timeout, .timeout])
        // A retransmitted SYN before the SYN-ACK keeps the handshake together: one greeting.
        var packets = Segments.connection(exchange: [(false, Segments.greeting()), (true, Segments.login)])
        packets.insert(packets[0], at: 1)
        let answered = Segments.scan(packets)
        #expect(answered.findings.map(\.outcome) == [.greeting])
        #expect(answered.summary.connections == 1)
    }

    /// `nc -z` (connect, close) and a rude prober (greeting, close) count toward max_connect_errors; the
    /// polite login does not, nor does a server that turned the client away with ERR 1129 itself.
    @Test func closedBeforeLoginCountsTowardMaxConnectErrors() {
        let healthCheck = Segments.connection(clientPort: 40001, exchange: [(false, Segments.greeting())])
        let noGreeting = Segments.connection(clientPort: 40002, exchange: [])
        let polite = Segments.connection(clientPort: 40003, exchange: [
            (false, Segments.greeting()), (true, Segments.login),
            (false, Segments.mysql(2, [0xFF, 0x15, 0x04] + Array("#28000Access denied".utf8))),
        ])
        let blocked = Segments.connection(clientPort: 40004, exchange: [
            (false, Segments.mysql(0, [0xFF, 0x69, 0x04] + Array("Host is blocked".utf8))),
        ], clientClosesFirst: false)
        let scanned = Segments.scan(healthCheck + noGreeting + polite + blocked)
        let byPort = Dictionary(uniqueKeysWithValues: scanned.findings.map { ($0.client.port, $0) })
        #expect(byPort[40001]?.countsAsConnectError == true)
        #expect(byPort[40002]?.countsAsConnectError == true, "closed before the greeting even came")
        #expect(byPort[40002]?.outcome == .closed)
        #expect(byPort[40003]?.countsAsConnectError == false)
        #expect(byPort[40003]?.verdict.map { if case .error = $0 { true } else { false } } == true)
        #expect(byPort[40004]?.countsAsConnectError == false && byPort[40004]?.error?.code.rawValue == 1129)
        #expect(scanned.summary.countedAsConnectErrors == 2 && scanned.summary.connections == 4)
        let line = byPort[40001].map(ProbeRendering.text) ?? ""
        #expect(line.contains(" counts-toward-max_connect_errors"), "\(line)")
        let envelope = JSONEnvelope(host: "n1")
        #expect(byPort[40003].map { ProbeRendering.json($0, envelope: envelope) }?.text
            .contains("\"counts_as_connect_error\":false") == true)
    }

    /// A capture whose clock goes back gives no negative times; stamps at or past 2^62 s do not trap.
    @Test(arguments: [Int64(1) << 62, Int64.max - 1, Int64.min + 1, -5])
    func backwardsAndFarFutureTimestamps(_ farSeconds: Int64) {
        let packets = Segments.connection(exchange: [(false, Segments.greeting())])
        var times = (0..<packets.count).map { Timestamp(seconds: 1_700_000_000, nanoseconds: Int32($0 * 1_000_000)) }
        times[1] = Timestamp(seconds: 1_699_999_999, nanoseconds: 0)  // the SYN-ACK "before" the SYN
        let back = Segments.scan(packets, times: times)
        let finding = back.findings.first
        #expect(finding?.outcome == .greeting)
        #expect(ProbeRendering.since(finding?.synAckAt, finding?.synAt) == nil)
        #expect(!(ProbeRendering.text(finding!).contains("=-")), "no negative timing")
        #expect(back.summary.backwardTimestamps >= 1)

        var far = times
        for index in far.indices { far[index] = Timestamp(seconds: farSeconds, nanoseconds: Int32(index)) }
        far[0] = Timestamp(seconds: 0, nanoseconds: 0)
        let future = Segments.scan(packets, times: far)
        let text = future.findings.map(ProbeRendering.text).joined()
        let json = future.findings.map { ProbeRendering.json($0, envelope: JSONEnvelope(host: "n1")).text }.joined()
        #expect(text.contains("greeting") && json.contains("\"outcome\":\"greeting\""))
    }

    /// Flow state is bounded: many SYNs keep at most `maxFlows` connections open, the rest are reported
    /// (evicted) as they stand; each connection is reported exactly once.
    @Test func flowStateIsBounded() {
        let count = 5000
        let syns = (0..<count).map { index in
            Segments.packet(fromClient: true, clientPort: UInt16(10_000 + index % 50_000), flags: Segments.syn,
                sequence: 999, client: 0xCB00_7100 &+ UInt32(index / 50_000) &+ 2)
        }
        let scanned = Segments.scan(syns, maxFlows: 100)
        #expect(scanned.openFlows <= 100)
        #expect(scanned.findings.count == count && scanned.summary.connections == count)
        #expect(scanned.summary.evicted == count - 100)
        #expect(scanned.findings.prefix(count - 100).allSatisfy { $0.evicted })
        #expect(ProbeRendering.text(scanned.summary).contains(" evicted=\(count - 100)"))
    }

    /// Text from a capture (server version, error message, client user) cannot forge a line either.
    @Test func captureTextIsEscaped() {
        let packets = Segments.connection(exchange: [
            (false, Segments.greeting(version: "10.11.19\r\nforged \u{1B}[2J")),
        ])
        let line = Segments.scan(packets).findings.map(ProbeRendering.text).joined()
        #expect(!line.contains("\r") && !line.contains("\n") && !line.contains("\u{1B}"))
        #expect(line.contains("10.11.19\\r\\nforged \\x1b[2J"), "\(line)")
    }
}

@Suite("svcprobe -r: exit statuses and summaries", .serialized)
struct CaptureExitTests {
    static func scratch(_ name: String) -> String {
        NSTemporaryDirectory() + "vs-svc-\(getpid())-\(name)"
    }

    /// Cut 5 bytes short: the handshake before the cut is printed, the summary says partial, exit 1, and
    /// the JSON summary carries that status. An input never opened gets no summary.
    @Test func truncatedCaptureIsPartialAndExitOne() throws {
        let bin = try Support.svcprobe()
        let original = try Data(contentsOf: Support.captures.appendingPathComponent("mariadb-greeting.pcap"))
        let cut = Self.scratch("cut.pcap")
        try original.dropLast(5).write(to: URL(fileURLWithPath: cut))
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let text = try ChildProcess.run([bin, "-r", cut])
        #expect(text.status == 1)
        let lines = text.standardOutput.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].contains(" greeting mariadb 10.11.19-MariaDB-0+deb12u1 "), "\(lines)")
        #expect(lines.last?.hasPrefix("summary ") == true && lines.last?.hasSuffix(" partial") == true)
        #expect(text.standardError.hasPrefix("svcprobe: ") && text.standardError.contains("truncated"))
        let json = try JSONLines.events(
            try ChildProcess.run([bin, "-r", cut, "--json"]).standardOutput, tool: "svcprobe")
        #expect(json.first?["event"] as? String == "handshake")
        #expect(json.last?["partial"] as? Bool == true && json.last?["exit_status"] as? Int == 1)

        let whole = try JSONLines.events(try ChildProcess.run([
            bin, "-r", Support.captures.appendingPathComponent("mariadb-greeting.pcap").path, "--json",
            "--node-name", "node-a",
        ]).standardOutput, tool: "svcprobe")
        // Replays are stable: the summary's time is the last frame's, and every object names the node.
        let again = try JSONLines.events(try ChildProcess.run([
            bin, "-r", Support.captures.appendingPathComponent("mariadb-greeting.pcap").path, "--json",
            "--node-name", "node-a",
        ]).standardOutput, tool: "svcprobe")
        #expect(whole.map { $0["time"] as? String } == again.map { $0["time"] as? String })
        #expect(whole.allSatisfy { $0["host"] as? String == "node-a" })
        #expect(whole.contains { $0["server_status"] is Int } && !whole.contains { $0["status"] != nil })
        #expect(whole.last?["partial"] as? Bool == false && whole.last?["exit_status"] as? Int == 0)

        let missing = try ChildProcess.run([bin, "-r", "/nonexistent", "--json"])
        let missingObjects = try JSONLines.events(missing.standardOutput, tool: "svcprobe")
        #expect(missing.status == 1 && missingObjects.isEmpty, "no summary: \(missing.standardOutput)")
    }

    @Test func unknownLinkTypeIsNotABadFilter() throws {
        let path = Self.scratch("usr0.pcap")
        try Segments.write([Segments.packet(fromClient: true, flags: Segments.syn, sequence: 1)], to: path,
            linkType: LinkType(rawValue: 147))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try ChildProcess.run([try Support.svcprobe(), "-r", path])
        #expect(output.status == 1)
        #expect(output.standardError.contains("link type 147") && !output.standardError.contains("filter"),
            "\(output.standardError)")
    }

    @Test func portZeroAndNegativeNumbersAreUsageErrors() throws {
        let bin = try Support.svcprobe()
        let capture = Support.captures.appendingPathComponent("mariadb-greeting.pcap").path
        for (arguments, phrase) in [
            (["-r", capture, "--port", "0"], "from 1 to 65535"), (["-r", capture, "--port", "-1"], "must be positive"),
            (["h:1", "--timeout", "-5s"], "must be positive"), (["h:1", "--timeout", "9999999999s"], "from 1ms to 3600s"),
            (["h:1", "--watch", "--interval", "1e300s"], "from 1ms to 86400s"),
            (["h:1", "--concurrency", "-2"], "must be positive"), (["::1:3306"], "[::1]:3306"),
        ] {
            let output = try ChildProcess.run([bin] + arguments)
            #expect(output.status == 64, "\(arguments)")
            #expect(output.standardError.contains(phrase), "\(arguments): \(output.standardError)")
        }
    }
}
