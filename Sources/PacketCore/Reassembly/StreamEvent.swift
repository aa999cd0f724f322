/// What the reassembler tells a stream consumer. Events arrive in stream order per direction.
///
/// `bytes` in `.data` is borrowed for the duration of the handler call only (it may point into the
/// segment being processed): copy what must outlive the call, or feed it to a `StreamBuffer`.
public enum StreamEvent {
    /// The first segment of a flow. `initiator` is the side that sent the opening SYN, when one was seen
    /// (a SYN-ACK names the other side); nil for a flow first seen mid-connection. `sawHandshake` is true
    /// when the flow's first segment carried SYN.
    case opened(FlowKey, initiator: FlowSide?, sawHandshake: Bool)
    /// In-order bytes sent by `FlowSide`. `streamOffset` is the position of `bytes[0]` in that direction's
    /// stream, counted from the first byte after the SYN (or from the first segment seen, mid-connection);
    /// bytes reported lost by `.gap` are counted, so offsets stay true stream positions. `timestamp` is that
    /// of the segment that made the bytes deliverable (for buffered bytes, the one that filled the hole).
    case data(FlowKey, FlowSide, bytes: UnsafeRawBufferPointer, streamOffset: UInt64, timestamp: Timestamp)
    /// `missingBytes` bytes of the stream were never captured and never will be (the peer acknowledged
    /// them, the buffer limit forced delivery on, or the flow ended). The stream continues after them, so
    /// a message decoder must resynchronise.
    case gap(FlowKey, FlowSide, missingBytes: UInt64, timestamp: Timestamp)
    /// The flow is over; no further events carry this key until a new connection reuses it.
    case closed(FlowKey, reason: CloseReason, timestamp: Timestamp)

    public var key: FlowKey {
        switch self {
        case .opened(let key, _, _), .data(let key, _, _, _, _), .gap(let key, _, _, _), .closed(let key, _, _): key
        }
    }
}

/// Why a flow's events ended.
public enum CloseReason: String, Sendable, Hashable, CaseIterable {
    /// Both sides sent FIN.
    case fin
    /// Either side sent RST.
    case rst
    /// No segment for `ReassemblyLimits.idleTimeoutNanoseconds` of packet time.
    case idleTimeout
    /// Dropped to stay within `maxFlows` or `totalBytes`.
    case evicted
    /// A new SYN reused the flow's addresses and ports before the old connection was seen to end.
    case reused
    /// `TCPReassembler.finish` was called: the capture ended.
    case endOfCapture
}
