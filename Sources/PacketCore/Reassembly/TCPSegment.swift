/// What the reassembler needs from one decoded TCP segment.
///
/// `payload` is borrowed: it must stay valid for the duration of the `TCPReassembler.process` call only.
/// In-order bytes are handed to the consumer straight from it; out-of-order bytes are copied.
public struct TCPSegment {
    public var source: FlowEndpoint
    public var destination: FlowEndpoint
    public var sequence: UInt32
    /// Meaningful only when `flags` contains `.ack`.
    public var acknowledgment: UInt32
    public var flags: TCPFlags
    public var payload: UnsafeRawBufferPointer
    public var timestamp: Timestamp

    public init(
        source: FlowEndpoint, destination: FlowEndpoint, sequence: UInt32, acknowledgment: UInt32 = 0,
        flags: TCPFlags, payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        timestamp: Timestamp
    ) {
        self.source = source
        self.destination = destination
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.payload = payload
        self.timestamp = timestamp
    }
}

/// Serial-number arithmetic on TCP sequence numbers (RFC 1982 style, modulo 2^32; RFC 9293 section 3.4).
enum SequenceNumber {
    /// The signed distance from `base` to `value`, in `-2^31 ..< 2^31`: positive when `value` is after `base`.
    @inline(__always)
    static func distance(from base: UInt32, to value: UInt32) -> Int64 {
        Int64(Int32(bitPattern: value &- base))
    }
}
