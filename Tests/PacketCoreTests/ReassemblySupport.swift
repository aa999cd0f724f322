@testable import PacketCore
import TestSupport

/// An event with its borrowed bytes copied out, so tests can compare whole runs.
enum RecordedEvent: Equatable, CustomStringConvertible {
    case opened(FlowKey, initiator: FlowSide?, sawHandshake: Bool)
    case data(FlowKey, FlowSide, [UInt8], offset: UInt64)
    case gap(FlowKey, FlowSide, UInt64)
    case closed(FlowKey, CloseReason)

    var description: String {
        switch self {
        case .opened(_, let initiator, let handshake): "opened(\(initiator.map(\.description) ?? "nil"), \(handshake))"
        case .data(_, let side, let bytes, let offset): "data(\(side), \(bytes.count)B @\(offset))"
        case .gap(_, let side, let missing): "gap(\(side), \(missing))"
        case .closed(_, let reason): "closed(\(reason))"
        }
    }
}

/// Collects events and checks, as they arrive, that each direction's offsets are continuous
/// (every `.data` starts where the previous data or gap ended).
struct EventRecorder {
    var events: [RecordedEvent] = []
    var offsetErrors: [String] = []
    var nextOffset: [FlowKey: [FlowSide: UInt64]] = [:]
    /// How many `.data` events pointed straight into the segment payload being processed.
    var zeroCopyDeliveries = 0
    var currentPayload: UnsafeRawBufferPointer?

    mutating func record(_ event: StreamEvent) {
        switch event {
        case .opened(let key, let initiator, let handshake):
            nextOffset[key] = [:]
            events.append(.opened(key, initiator: initiator, sawHandshake: handshake))
        case .data(let key, let side, let bytes, let offset, _):
            let expected = nextOffset[key]?[side] ?? 0
            if offset != expected { offsetErrors.append("\(side): data at \(offset), expected \(expected)") }
            if bytes.isEmpty { offsetErrors.append("\(side): empty data event") }
            nextOffset[key, default: [:]][side] = offset + UInt64(bytes.count)
            if let payload = currentPayload, let base = bytes.baseAddress, let start = payload.baseAddress,
                base >= start, base < start + payload.count
            {
                zeroCopyDeliveries += 1
            }
            events.append(.data(key, side, Array(bytes), offset: offset))
        case .gap(let key, let side, let missing, _):
            if missing == 0 { offsetErrors.append("\(side): empty gap") }
            nextOffset[key, default: [:]][side, default: 0] += missing
            events.append(.gap(key, side, missing))
        case .closed(let key, let reason, _):
            events.append(.closed(key, reason))
        }
    }

    /// The bytes delivered for one direction of one flow, in order, gaps shown as `nil` markers.
    func stream(_ key: FlowKey, _ side: FlowSide) -> [UInt8] {
        var bytes: [UInt8] = []
        for case .data(let k, let s, let chunk, _) in events where k == key && s == side { bytes += chunk }
        return bytes
    }

    func gaps(_ key: FlowKey, _ side: FlowSide) -> [UInt64] {
        events.compactMap { if case .gap(let k, let s, let missing) = $0, k == key, s == side { missing } else { nil } }
    }

    var closes: [CloseReason] {
        events.compactMap { if case .closed(_, let reason) = $0 { reason } else { nil } }
    }

    var openedCount: Int {
        events.count { if case .opened = $0 { true } else { false } }
    }
}

/// One segment of a scripted conversation between `Lab.client` and `Lab.server`.
struct Seg {
    var fromClient: Bool
    var sequence: UInt32
    var acknowledgment: UInt32? = nil
    var flags: TCPFlags = .ack
    var payload: [UInt8] = []
    var seconds: Int64 = 1_700_000_000
    var nanoseconds: Int32 = 0
}

enum Lab {
    static let client = FlowEndpoint(address: .v4(IPv4Address(203, 0, 113, 10)), port: 40_000)
    static let server = FlowEndpoint(address: .v4(IPv4Address(198, 51, 100, 1)), port: 179)
    static let key = FlowKey(client, server)
    static var clientSide: FlowSide { key.side(of: client) }
    static var serverSide: FlowSide { key.side(of: server) }

    /// `count` bytes of a recognisable pattern (position-dependent, so misplaced bytes show).
    static func pattern(_ count: Int, salt: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8 &+ Int(salt)) }
    }

    /// Hand a scripted segment to `body` as a `TCPSegment` whose payload is valid during the call.
    static func withSegment(
        _ segment: Seg, client: FlowEndpoint = Lab.client, server: FlowEndpoint = Lab.server,
        _ body: (TCPSegment) -> Void
    ) {
        var flags = segment.flags
        if segment.acknowledgment != nil { flags.insert(.ack) } else { flags.remove(.ack) }
        segment.payload.withUnsafeBytes { payload in
            body(TCPSegment(
                source: segment.fromClient ? client : server, destination: segment.fromClient ? server : client,
                sequence: segment.sequence, acknowledgment: segment.acknowledgment ?? 0, flags: flags,
                payload: payload, timestamp: Timestamp(seconds: segment.seconds, nanoseconds: segment.nanoseconds)))
        }
    }

    static func feed(
        _ segment: Seg, into reassembler: inout TCPReassembler, _ recorder: inout EventRecorder,
        client: FlowEndpoint = Lab.client, server: FlowEndpoint = Lab.server
    ) {
        withSegment(segment, client: client, server: server) { tcp in
            recorder.currentPayload = tcp.payload
            reassembler.process(tcp) { recorder.record($0) }
            recorder.currentPayload = nil
        }
    }

    /// Run a script through a fresh reassembler; `finish` ends the capture afterwards.
    static func run(_ segments: [Seg], limits: ReassemblyLimits = .init(), finish: Bool = true)
        -> (EventRecorder, TCPReassembler)
    {
        var reassembler = TCPReassembler(limits: limits)
        var recorder = EventRecorder()
        for segment in segments {
            feed(segment, into: &reassembler, &recorder)
            recorder.offsetErrors += reassembler.invariantViolations()
        }
        if finish { reassembler.finish { recorder.record($0) } }
        return (recorder, reassembler)
    }

    /// Cut `stream` (first byte at `isn + 1`) into client segments at the given split points.
    static func segments(of stream: [UInt8], isn: UInt32, splits: [Int]) -> [Seg] {
        let bounds = [0] + splits.filter { $0 > 0 && $0 < stream.count }.sorted() + [stream.count]
        var result: [Seg] = []
        for index in 0..<(bounds.count - 1) where bounds[index] < bounds[index + 1] {
            result.append(Seg(fromClient: true, sequence: isn &+ 1 &+ UInt32(bounds[index]), acknowledgment: 1001,
                payload: Array(stream[bounds[index]..<bounds[index + 1]])))
        }
        return result
    }

    /// The opening handshake: client SYN (ISN `isn`), server SYN-ACK (ISN `serverISN`), client ACK.
    static func handshake(isn: UInt32, serverISN: UInt32 = 1000) -> [Seg] {
        [
            Seg(fromClient: true, sequence: isn, flags: .syn),
            Seg(fromClient: false, sequence: serverISN, acknowledgment: isn &+ 1, flags: [.syn, .ack]),
            Seg(fromClient: true, sequence: isn &+ 1, acknowledgment: serverISN &+ 1),
        ]
    }
}

/// A length-prefixed framer for tests: a 2-byte big-endian body length, then the body. Bodies longer than
/// `maximumBody` are invalid (every length field has a cap).
func lengthPrefixedFramer(maximumBody: Int) -> (inout Cursor) -> FrameResult {
    { cursor in
        guard let length = cursor.peekU16() else { return .needMore }
        guard Int(length) <= maximumBody else {
            return .invalid(cursor.error(.malformed, "length above maximum"))
        }
        return cursor.remaining >= 2 + Int(length) ? .message(length: 2 + Int(length)) : .needMore
    }
}

/// `Array.withUnsafeBytes` with a typed error (the standard library's version rethrows `any Error`).
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ParseError) -> R) throws(ParseError) -> R {
    let result: Result<R, ParseError> = bytes.withUnsafeBytes { raw in
        do throws(ParseError) {
            return .success(try body(raw))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

/// Build a stream of length-prefixed messages with the given body sizes.
func lengthPrefixedStream(bodySizes: [Int]) -> [UInt8] {
    var stream: [UInt8] = []
    for (index, size) in bodySizes.enumerated() {
        stream += [UInt8(size >> 8), UInt8(size & 0xFF)]
        stream += Lab.pattern(size, salt: UInt8(truncatingIfNeeded: index))
    }
    return stream
}

/// A decoded test message: its stream offset and its bytes.
struct FramedMessage: Equatable {
    var offset: Int
    var bytes: [UInt8]
}
