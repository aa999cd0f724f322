import Capture
import PacketCore

/// `svcprobe -r FILE`: the MySQL handshakes found in a capture, through the core's TCP reassembly and the
/// same decoders as live probes. One finding per connection to `port`: the greeting or ERR packet, the
/// client's first packet (SSLRequest or the user name), the login verdict, and times from packet stamps.
public struct CaptureFinding: Sendable {
    public var client: FlowEndpoint
    public var server: FlowEndpoint
    /// Packet time of the client's SYN, when captured.
    public var synAt: Timestamp?
    public var synAckAt: Timestamp?
    /// Packet time of the segment that completed the server's first packet.
    public var greetingAt: Timestamp?
    public var greeting: MySQLGreeting?
    public var error: MySQLErrorPacket?
    public var clientHello: MySQLClientHello?
    public var verdict: MySQLServerReply?
    public var problem: ParseError?
    public var closeReason: CloseReason?
    /// Bytes seen from the client / the server (after the handshake).
    public var clientBytes = 0
    public var serverBytes = 0
    /// Dropped from the scanner's flow table to bound its memory (`CaptureScanner.maxFlows`) before the
    /// connection ended: what it shows is what came before.
    public var evicted = false
    /// Packet time of the latest segment read when the connection was reported (its `time` in JSON when no SYN
    /// or greeting was captured: a mid-stream start).
    public var reportedAt: Timestamp?

    /// The object's `time`: the SYN, else the greeting, else when it was reported.
    public var time: Timestamp? { synAt ?? greetingAt ?? reportedAt }

    public init(client: FlowEndpoint, server: FlowEndpoint) {
        self.client = client
        self.server = server
    }

    public var outcome: ProbeOutcome {
        if greeting != nil { return .greeting }
        if error != nil { return .error }
        if problem != nil { return .banner }
        if synAt != nil && synAckAt == nil && serverBytes == 0 {
            // The SYN got no SYN-ACK: a RST is a refusal, nothing at all a timeout (the live probe's words).
            return closeReason == .rst ? .refused : .timeout
        }
        switch closeReason {
        case .rst?: return .reset
        case .fin?: return .closed
        default: return .silent
        }
    }

    /// Whether MariaDB/MySQL counts this connection as a handshake error against `max_connect_errors`
    /// for the client's address: it was established, the server did not turn it away with an ERR packet,
    /// and it ended (FIN or RST) before the client sent its login packet; that is what `nc -z` and TCP
    /// health checks do, and what leads to ERR 1129. False once a login packet was sent (a failed login
    /// is counted apart); nil when the capture cannot tell (still open at its end, evicted, or the login
    /// ran inside TLS after an SSLRequest).
    public var countsAsConnectError: Bool? {
        let established = synAckAt != nil || serverBytes > 0 || clientBytes > 0
        guard established, error == nil else { return false }
        if let clientHello { return clientHello.isSSLRequest ? nil : false }
        switch closeReason {
        case .fin?, .rst?: return true
        default: return nil
        }
    }
}

/// What a `-r` file gave, beside its findings.
public struct CaptureScanSummary: Sendable {
    public var path: String
    public var frames = 0
    public var connections = 0
    public var greetings = 0
    public var errors = 0
    /// Connections that count as handshake errors (`CaptureFinding.countsAsConnectError == true`).
    public var countedAsConnectErrors = 0
    /// Connections dropped from the flow table to bound memory before they ended.
    public var evicted = 0
    /// Segments whose timestamp is earlier than an earlier segment's (the capture's clock went back):
    /// times that would come out negative are left out.
    public var backwardTimestamps = 0
    /// The file could not be read to its end (cut mid-record, or corrupt after some packets): the findings
    /// are what came before. `readError` says what happened.
    public var partial: Bool { readError != nil }
    public var readError: String?
    /// Time stamp of the last frame read: the summary's `time` (nil when no frame was read).
    public var lastPacketAt: Timestamp?

    public init(path: String) { self.path = path }
}

public struct CaptureScanner {
    public let port: UInt16
    /// Connections tracked at once; beyond it the oldest is reported as it stands (`evicted`). With the
    /// reassembler bounded to as many flows, a scan stays near 100 MB whatever the input (measured: 1M
    /// SYNs from distinct ports, debug build, max RSS 101 MB; it was about 2 KB per flow kept to the end).
    public let maxFlows: Int
    private var reassembler: TCPReassembler
    private var flows: [FlowKey: FlowState] = [:]
    /// Flow start order for eviction (oldest first); entries whose serial no longer matches are stale.
    private var order: [(key: FlowKey, serial: Int)] = []
    private var orderHead = 0
    private var nextSerial = 0
    private var ready: [CaptureFinding] = []
    public private(set) var summary: CaptureScanSummary
    private var latest: Timestamp?

    struct FlowState {
        var finding: CaptureFinding
        var serverSide: FlowSide
        var serial: Int
        var serverBuffer = StreamBuffer(capacity: 70_000, layer: .mysql)
        var clientBuffer = StreamBuffer(capacity: 70_000, layer: .mysql)
        var serverPackets = 0
        var clientPackets = 0
        /// The client SYN's sequence number: a SYN with the same one is a retransmission of this
        /// connection's, not a new connection (as the reassembler reads it).
        var synSequence: UInt32?
    }

    public init(port: UInt16 = 3306, maxFlows: Int = 32_768, path: String = "") {
        self.port = port
        self.maxFlows = max(1, maxFlows)
        reassembler = TCPReassembler(limits: ReassemblyLimits(maxFlows: max(1, maxFlows)))
        summary = CaptureScanSummary(path: path)
    }

    /// Read a whole capture file (BPF-filtered to the port); each connection's finding goes to `onFinding`
    /// when it ends (FIN/RST, evicted, or the end of the file). A file that cannot be opened or filtered
    /// throws `CaptureError`; one that breaks off after some packets still reports what came before and
    /// says so in the summary (`partial`).
    public static func scan(
        path: String, port: UInt16, extraFilter: String? = nil, maxFlows: Int = 32_768,
        onFinding: (CaptureFinding) -> Void
    ) throws(CaptureError) -> CaptureScanSummary {
        let source = try PacketSource.openFile(path)
        guard source.linkType.name != nil else {
            throw CaptureError(
                .notACapture,
                "cannot read \(path): its link type \(source.linkType.rawValue) is not one svcprobe decodes "
                    + "(Ethernet, Linux cooked SLL/SLL2, raw IP, NULL/LOOP); convert it with editcap or record again")
        }
        let base = "tcp port \(port)"
        try source.setFilter(extraFilter.map { "(\(base)) and (\($0))" } ?? base)
        var scanner = CaptureScanner(port: port, maxFlows: maxFlows, path: path)
        do {
            try source.forEach { record in
                scanner.summary.frames += 1
                scanner.summary.lastPacketAt = record.timestamp
                let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
                scanner.process(packet, bytes: record.bytes, timestamp: record.timestamp)
                for finding in scanner.takeReady() { onFinding(finding) }
                return .continue
            }
        } catch let error as CaptureError {
            scanner.summary.readError = error.message
        } catch {
            scanner.summary.readError = "cannot read \(path): \(error)"
        }
        for finding in scanner.finish() { onFinding(finding) }
        return scanner.summary
    }

    /// The old collecting form: every finding, in the order the connections ended.
    public static func scan(path: String, port: UInt16, extraFilter: String? = nil) throws -> [CaptureFinding] {
        var findings: [CaptureFinding] = []
        let summary = try scan(path: path, port: port, extraFilter: extraFilter) { findings.append($0) }
        if let readError = summary.readError { throw CaptureError(.truncatedFile, readError) }
        return findings
    }

    /// Connections tracked now (bounded by `maxFlows`).
    public var openFlows: Int { flows.count }

    /// Findings of connections that ended since the last call.
    public mutating func takeReady() -> [CaptureFinding] {
        guard !ready.isEmpty else { return [] }
        defer { ready.removeAll(keepingCapacity: true) }
        return ready
    }

    /// Feed one decoded frame (`bytes` are the frame's bytes, read only during the call).
    public mutating func process(_ packet: Packet, bytes: UnsafeRawBufferPointer, timestamp: Timestamp) {
        guard let tcp = packet.tcp, let source = packet.sourceIP, let destination = packet.destinationIP,
            tcp.sourcePort == port || tcp.destinationPort == port
        else { return }
        if let latest, timestamp < latest { summary.backwardTimestamps += 1 } else { latest = timestamp }
        let from = FlowEndpoint(address: source, port: tcp.sourcePort)
        let to = FlowEndpoint(address: destination, port: tcp.destinationPort)
        let key = FlowKey(from, to)
        if tcp.flags.contains(.syn) {
            let serverEnd = tcp.flags.contains(.ack) ? from : to
            let clientEnd = tcp.flags.contains(.ack) ? to : from
            // A client SYN on a flow that already had one starts the next connection, unless it is a
            // retransmission (same sequence number): an unanswered connect is one timeout, not one per try.
            let retransmitted = flows[key].map { $0.synSequence == tcp.sequence } ?? false
            if flows[key] == nil
                || (!tcp.flags.contains(.ack) && flows[key]?.finding.synAt != nil && !retransmitted)
            {
                startFlow(key, client: clientEnd, server: serverEnd)
            }
            if tcp.flags.contains(.ack) {
                if flows[key]?.finding.synAckAt == nil { flows[key]?.finding.synAckAt = timestamp }
            } else if flows[key]?.finding.synAt == nil {
                flows[key]?.finding.synAt = timestamp
                flows[key]?.synSequence = tcp.sequence
            }
        }
        let segment = TCPSegment(
            source: from, destination: to, sequence: tcp.sequence, acknowledgment: tcp.acknowledgment,
            flags: tcp.flags, payload: bytes.slice(packet.payload), timestamp: timestamp)
        // The handler mutates self: run the reassembler from a local (moved out and back, no copy).
        var running = reassembler
        reassembler = TCPReassembler(limits: running.limits)
        running.process(segment) { event in handle(event) }
        reassembler = running
    }

    /// End of input: report every connection still open, in the order they started.
    public mutating func finish() -> [CaptureFinding] {
        var running = reassembler
        reassembler = TCPReassembler(limits: running.limits)
        running.finish { event in handle(event) }
        reassembler = running
        while orderHead < order.count {
            let (key, serial) = order[orderHead]
            orderHead += 1
            if let state = flows[key], state.serial == serial { report(key) }
        }
        order.removeAll()
        orderHead = 0
        return takeReady()
    }

    private mutating func startFlow(_ key: FlowKey, client: FlowEndpoint, server: FlowEndpoint) {
        if flows[key] != nil { report(key) }
        if flows.count >= maxFlows { evictOldest() }
        let finding = CaptureFinding(client: client, server: server)
        flows[key] = FlowState(finding: finding, serverSide: key.side(of: server), serial: nextSerial)
        order.append((key, nextSerial))
        nextSerial += 1
        // Drop stale order entries once they outnumber the live ones.
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }

    private mutating func evictOldest() {
        while orderHead < order.count {
            let (key, serial) = order[orderHead]
            orderHead += 1
            guard flows[key]?.serial == serial else { continue }
            flows[key]?.finding.evicted = true
            summary.evicted += 1
            report(key)
            return
        }
    }

    /// The connection is over (or evicted): its finding goes out and its state is freed.
    private mutating func report(_ key: FlowKey) {
        guard let state = flows.removeValue(forKey: key) else { return }
        var finding = state.finding
        finding.reportedAt = latest
        summary.connections += 1
        if finding.greeting != nil { summary.greetings += 1 }
        if finding.error != nil { summary.errors += 1 }
        if finding.countsAsConnectError == true { summary.countedAsConnectErrors += 1 }
        ready.append(finding)
    }

    private mutating func handle(_ event: StreamEvent) {
        switch event {
        case .opened(let key, _, _):
            if flows[key] == nil {
                // Mid-connection start: the server is the side on `port`.
                let server = key.low.port == port ? key.low : key.high
                let client = key.low.port == port ? key.high : key.low
                startFlow(key, client: client, server: server)
            }
        case .data(let key, let side, let bytes, _, let timestamp):
            guard var state = flows[key] else { return }
            if side == state.serverSide {
                state.finding.serverBytes &+= bytes.count
                var buffer = state.serverBuffer
                try? buffer.feed(bytes, framer: { MySQLPacket.frame(&$0) }) { message in
                    Self.serverPacket(&state, message: &message, timestamp: timestamp)
                }
                if buffer.failure != nil, state.serverPackets == 0 { state.finding.problem = buffer.failure }
                state.serverBuffer = buffer
            } else {
                state.finding.clientBytes &+= bytes.count
                var buffer = state.clientBuffer
                try? buffer.feed(bytes, framer: { MySQLPacket.frame(&$0) }) { message in
                    Self.clientPacket(&state, message: &message)
                }
                state.clientBuffer = buffer
            }
            flows[key] = state
        case .gap(let key, let side, let missing, _):
            if side == flows[key]?.serverSide { flows[key]?.serverBuffer.skip(missingBytes: missing) }
            else { flows[key]?.clientBuffer.skip(missingBytes: missing) }
        case .closed(let key, let reason, _):
            // A reused flow was reported already, when its new SYN started the next connection.
            guard flows[key] != nil, reason != .reused else { return }
            flows[key]?.finding.closeReason = reason
            // The reassembler ends a flow it evicted or timed out too: report it now either way, so the
            // table holds only connections still open.
            if reason == .evicted {
                flows[key]?.finding.evicted = true
                summary.evicted += 1
            }
            report(key)
        }
    }

    /// The server's first packet is the greeting or an ERR; the next one after the client's login packet
    /// is the verdict. Later packets (query results) are not decoded.
    private static func serverPacket(_ state: inout FlowState, message: inout Cursor, timestamp: Timestamp) {
        state.serverPackets += 1
        guard state.serverPackets <= 3, let packet = try? MySQLPacket(parsing: &message),
            var payload = try? message.window(packet.payload)
        else { return }
        if state.serverPackets == 1 {
            state.finding.greetingAt = timestamp
            do {
                if payload.peekU8() == 0xFF {
                    state.finding.error = try MySQLErrorPacket(parsing: &payload)
                } else {
                    state.finding.greeting = try MySQLGreeting(parsing: &payload)
                }
            } catch {
                state.finding.problem = error
            }
        } else if state.finding.verdict == nil, state.finding.clientHello != nil {
            state.finding.verdict = try? MySQLServerReply(parsing: &payload)
        }
    }

    private static func clientPacket(_ state: inout FlowState, message: inout Cursor) {
        state.clientPackets += 1
        guard state.clientPackets == 1, let packet = try? MySQLPacket(parsing: &message),
            var payload = try? message.window(packet.payload)
        else { return }
        state.finding.clientHello = try? MySQLClientHello(parsing: &payload)
    }
}
