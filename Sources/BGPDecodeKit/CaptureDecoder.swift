import Capture
import PacketCore

/// One TCP connection carrying BGP: a message stream per direction and the OPEN each side sent.
final class BGPConnection {
    let key: FlowKey
    var lowStream: BGPMessageStream
    var highStream: BGPMessageStream
    var lowOpen: BGPOpen?
    var highOpen: BGPOpen?
    /// Cached decoding context per sending side, recomputed when an OPEN arrives.
    var lowContext: BGPMessageContext?
    var highContext: BGPMessageContext?
    var noted: Set<FlowSide> = []
    var extendedMessagesNegotiated = false

    init(key: FlowKey, synchronized: Bool) {
        self.key = key
        lowStream = BGPMessageStream(synchronized: synchronized)
        highStream = BGPMessageStream(synchronized: synchronized)
    }

    func open(_ side: FlowSide) -> BGPOpen? { side == .low ? lowOpen : highOpen }
}

/// Turns captured frames into BGP messages for a `BGPAnalyzer`: decodes each frame with PacketCore, feeds
/// TCP segments on the BGP ports to `TCPReassembler`, frames each direction with `BGPMessageStream`
/// (resynchronising on the marker after gaps and at mid-session starts), and derives each direction's
/// decoding context from the connection's two OPENs, or labels it a heuristic when they were not captured.
public final class BGPCaptureDecoder {
    public let analyzer: BGPAnalyzer
    public let ports: Set<UInt16>
    public var asSizeOverride: Int?
    public var addPathOverride: Bool?
    private var reassembler = TCPReassembler()
    private var connections: [FlowKey: BGPConnection] = [:]
    private var packet = Packet()
    public private(set) var frames = 0
    public private(set) var bgpSegments = 0
    /// Connections to the BGP ports, to say why a capture holds no BGP message (`noMessageDiagnoses`).
    public private(set) var attempts = BGPConnectionAttempts()

    public init(analyzer: BGPAnalyzer, ports: Set<UInt16> = [179], asSize: Int? = nil, addPath: Bool? = nil) {
        self.analyzer = analyzer
        self.ports = ports
        asSizeOverride = asSize
        addPathOverride = addPath
    }

    public var reassemblyStatistics: ReassemblyStatistics { reassembler.statistics }

    /// Decode one captured frame.
    public func process(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int, timestamp: Timestamp) {
        frames += 1
        packet.decode(bytes, linkType: linkType, originalLength: originalLength)
        guard let tcp = packet.tcp, ports.contains(tcp.sourcePort) || ports.contains(tcp.destinationPort),
            let source = packet.sourceIP, let destination = packet.destinationIP
        else { return }
        bgpSegments += 1
        let payload = packet.payload
        let from = FlowEndpoint(address: source, port: tcp.sourcePort)
        let to = FlowEndpoint(address: destination, port: tcp.destinationPort)
        if !tcp.flags.isDisjoint(with: [.syn, .rst]) || (!payload.isEmpty && analyzer.messages == 0) {
            attempts.note(source: from, destination: to, flags: tcp.flags, signed: tcp.options.md5Signature != nil,
                payload: payload.count)
        }
        let segment = TCPSegment(
            source: from,
            destination: to,
            sequence: tcp.sequence, acknowledgment: tcp.acknowledgment, flags: tcp.flags,
            payload: bytes.slice(payload.clamped(to: 0..<bytes.count)), timestamp: timestamp)
        reassembler.process(segment) { self.handle($0) }
    }

    /// Read a whole capture file through libpcap.
    public func read(_ source: PacketSource, shouldStop: () -> Bool = { false }) throws {
        try source.forEach(until: nil, shouldStop: shouldStop) { record in
            process(record.bytes, linkType: record.linkType, originalLength: record.originalLength,
                timestamp: record.timestamp)
            return .continue
        }
    }

    /// The capture ended: deliver what reassembly still holds. Sessions still up stay up (their tables are
    /// what the speakers announced when the capture stopped).
    public func finish() {
        reassembler.finish { self.handle($0) }
    }

    private func handle(_ event: StreamEvent) {
        switch event {
        case .opened(let key, _, let sawHandshake):
            connections[key] = BGPConnection(key: key, synchronized: sawHandshake)
        case .data(let key, let side, let bytes, let offset, let timestamp):
            let connection = connection(key)
            let deliver: (inout Cursor) -> Void = { message in self.deliver(message, connection, side, timestamp) }
            let desync: (ParseError) -> Void = { error in
                self.analyzer.reportStreamError(session: self.sessionKey(key, side), error, timestamp: timestamp)
            }
            if side == .low {
                connection.lowStream.feed(bytes, at: offset, onMessage: deliver, onDesync: desync)
            } else {
                connection.highStream.feed(bytes, at: offset, onMessage: deliver, onDesync: desync)
            }
            if connection.extendedMessagesNegotiated {
                connection.lowStream.maximumLength = BGPMessageHeader.extendedMaximumLength
                connection.highStream.maximumLength = BGPMessageHeader.extendedMaximumLength
            }
        case .gap(let key, let side, let missing, let timestamp):
            let connection = connection(key)
            let start = side == .low ? connection.lowStream.nextOffset : connection.highStream.nextOffset
            analyzer.reportGap(session: sessionKey(key, side), lost: start..<(start &+ missing), timestamp: timestamp)
            if side == .low { connection.lowStream.skip(missingBytes: missing) } else {
                connection.highStream.skip(missingBytes: missing)
            }
        case .closed(let key, let reason, let timestamp):
            defer { connections[key] = nil }
            if let connection = connections[key] { reportUnfinished(connection, timestamp) }
            let text: String
            switch reason {
            case .fin: text = "TCP FIN"
            case .rst: text = "TCP RST"
            case .reused: text = "TCP connection replaced by a new SYN"
            case .evicted: text = "TCP flow evicted (reassembly limits)"
            case .idleTimeout, .endOfCapture: return
            }
            analyzer.endSession(sessionKey(key, .low), reason: text, timestamp: timestamp)
            analyzer.endSession(sessionKey(key, .high), reason: text, timestamp: timestamp)
        }
    }

    /// Why the connections that carried no BGP message carried none, one sentence each (empty when every
    /// connection carried BGP).
    public var noMessageDiagnoses: [String] {
        attempts.diagnoses { client, server in
            analyzer.sessions[BGPSessionKey(speaker: client, peer: server)].map { $0.messages > 0 } == true
                || analyzer.sessions[BGPSessionKey(speaker: server, peer: client)].map { $0.messages > 0 } == true
        }
    }

    /// A message each direction's stream ended inside, if any.
    private func reportUnfinished(_ connection: BGPConnection, _ timestamp: Timestamp) {
        for side in [FlowSide.low, .high] {
            let stream = side == .low ? connection.lowStream : connection.highStream
            guard let unfinished = stream.unfinishedMessage else { continue }
            analyzer.reportTruncatedMessage(session: sessionKey(connection.key, side), offset: unfinished.offset,
                received: unfinished.received, length: unfinished.length, timestamp: timestamp)
        }
    }

    private func connection(_ key: FlowKey) -> BGPConnection {
        if let connection = connections[key] { return connection }
        let connection = BGPConnection(key: key, synchronized: false)
        connections[key] = connection
        return connection
    }

    func sessionKey(_ key: FlowKey, _ side: FlowSide) -> BGPSessionKey {
        BGPSessionKey(speaker: key.endpoint(side).address, peer: key.endpoint(side.other).address)
    }

    private func deliver(_ message: Cursor, _ connection: BGPConnection, _ side: FlowSide, _ timestamp: Timestamp) {
        let session = sessionKey(connection.key, side)
        // Only UPDATEs depend on the context (AS number size, ADD-PATH): work it out, and say when it is
        // guessed, for them alone. (A NOTIFICATION needs none: a connection the listener rejected with 6/5
        // before any OPEN of its own drew a false "OPEN not captured" note.)
        let type = message.peekU8(ahead: 18)
        let context = type == BGPMessageType.update.rawValue
            ? context(connection, side, session, timestamp)
            : BGPMessageContext(asSize: nil, addPathFamilies: nil, source: .heuristic)
        if let open = analyzer.handleMessage(message, session: session, context: context, timestamp: timestamp) {
            if side == .low { connection.lowOpen = open } else { connection.highOpen = open }
            connection.lowContext = nil
            connection.highContext = nil
            connection.noted = []
            if let low = connection.lowOpen, let high = connection.highOpen {
                if low.supportsExtendedMessage, high.supportsExtendedMessage { connection.extendedMessagesNegotiated = true }
                // Both OPENs are known: each direction's context is the negotiated one from now on, also for
                // a capture cut before any UPDATE (whose session line said "context heuristic").
                for (sender, receiver, senderSide) in [(low, high, FlowSide.low), (high, low, FlowSide.high)] {
                    let source = BGPMessageContext.negotiated(sender: sender, receiver: receiver)
                        .overridden(asSize: asSizeOverride, addPath: addPathOverride).source
                    analyzer.setContextSource(source, session: sessionKey(connection.key, senderSide), timestamp: timestamp)
                }
            }
        }
    }

    private func context(
        _ connection: BGPConnection, _ side: FlowSide, _ session: BGPSessionKey, _ timestamp: Timestamp
    ) -> BGPMessageContext {
        if let cached = side == .low ? connection.lowContext : connection.highContext { return cached }
        var context = BGPMessageContext.negotiated(sender: connection.open(side), receiver: connection.open(side.other))
        let bothOpens = connection.open(side) != nil && connection.open(side.other) != nil
        context = context.overridden(asSize: asSizeOverride, addPath: addPathOverride)
        // Before the OPENs, messages are OPENs themselves (no context needed); say it once when UPDATEs
        // must be read without them.
        if !bothOpens, !connection.noted.contains(side) {
            connection.noted.insert(side)
            if context.source == .heuristic {
                analyzer.note(session: session,
                    "OPEN not captured: AS number size and ADD-PATH are guessed per message (heuristic)",
                    timestamp: timestamp)
            }
        }
        analyzer.setContextSource(context.source, session: session, timestamp: timestamp)
        if bothOpens {
            if side == .low { connection.lowContext = context } else { connection.highContext = context }
        }
        return context
    }
}
