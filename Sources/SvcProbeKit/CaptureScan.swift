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

    public var outcome: ProbeOutcome {
        if greeting != nil { return .greeting }
        if error != nil { return .error }
        if problem != nil { return .banner }
        return closeReason == .rst ? .reset : .silent
    }
}

public struct CaptureScanner {
    public let port: UInt16
    private var reassembler = TCPReassembler()
    private var flows: [FlowKey: FlowState] = [:]
    private var order: [FlowKey] = []
    private var finished: [CaptureFinding] = []

    struct FlowState {
        var finding: CaptureFinding
        var serverSide: FlowSide
        var serverBuffer = StreamBuffer(capacity: 70_000, layer: .mysql)
        var clientBuffer = StreamBuffer(capacity: 70_000, layer: .mysql)
        var serverPackets = 0
        var clientPackets = 0
    }

    public init(port: UInt16 = 3306) {
        self.port = port
    }

    /// Read a whole capture file (BPF-filtered to the port) and return one finding per connection.
    public static func scan(path: String, port: UInt16, extraFilter: String? = nil) throws -> [CaptureFinding] {
        let source = try PacketSource.openFile(path)
        let base = "tcp port \(port)"
        try source.setFilter(extraFilter.map { "(\(base)) and (\($0))" } ?? base)
        var scanner = CaptureScanner(port: port)
        _ = try source.forEach { record in
            let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
            scanner.process(packet, bytes: record.bytes, timestamp: record.timestamp)
            return .continue
        }
        return scanner.finish()
    }

    /// Feed one decoded frame (`bytes` are the frame's bytes, read only during the call).
    public mutating func process(_ packet: Packet, bytes: UnsafeRawBufferPointer, timestamp: Timestamp) {
        guard let tcp = packet.tcp, let source = packet.sourceIP, let destination = packet.destinationIP,
            tcp.sourcePort == port || tcp.destinationPort == port
        else { return }
        let from = FlowEndpoint(address: source, port: tcp.sourcePort)
        let to = FlowEndpoint(address: destination, port: tcp.destinationPort)
        let key = FlowKey(from, to)
        if tcp.flags.contains(.syn) {
            let serverEnd = tcp.flags.contains(.ack) ? from : to
            let clientEnd = tcp.flags.contains(.ack) ? to : from
            if flows[key] == nil || (!tcp.flags.contains(.ack) && flows[key]?.finding.synAt != nil) {
                startFlow(key, client: clientEnd, server: serverEnd)
            }
            if tcp.flags.contains(.ack) {
                if flows[key]?.finding.synAckAt == nil { flows[key]?.finding.synAckAt = timestamp }
            } else if flows[key]?.finding.synAt == nil {
                flows[key]?.finding.synAt = timestamp
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

    public mutating func finish() -> [CaptureFinding] {
        var running = reassembler
        reassembler = TCPReassembler(limits: running.limits)
        running.finish { event in handle(event) }
        reassembler = running
        for key in order { if let state = flows[key] { finished.append(state.finding) } }
        flows.removeAll()
        order.removeAll()
        return finished
    }

    private mutating func startFlow(_ key: FlowKey, client: FlowEndpoint, server: FlowEndpoint) {
        if let old = flows[key] { finished.append(old.finding) } else { order.append(key) }
        let finding = CaptureFinding(client: client, server: server)
        flows[key] = FlowState(finding: finding, serverSide: key.side(of: server))
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
                var buffer = state.serverBuffer
                try? buffer.feed(bytes, framer: { MySQLPacket.frame(&$0) }) { message in
                    Self.serverPacket(&state, message: &message, timestamp: timestamp)
                }
                if buffer.failure != nil, state.serverPackets == 0 { state.finding.problem = buffer.failure }
                state.serverBuffer = buffer
            } else {
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
            flows[key]?.finding.closeReason = reason
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
