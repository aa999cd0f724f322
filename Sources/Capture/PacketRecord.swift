import PacketCore

/// One captured frame, valid only inside the `PacketSource.forEach` body that received it: `bytes` points into
/// libpcap's buffer, which the next packet overwrites. Copy the bytes out (e.g. `Array(record.bytes)`) to keep them.
public struct PacketRecord {
    public let timestamp: Timestamp
    /// Bytes present in `bytes` (at most the snapshot length).
    public let capturedLength: Int
    /// Length of the frame on the wire.
    public let originalLength: Int
    public let linkType: LinkType
    /// Borrowed from libpcap: do not let it escape the `forEach` body.
    public let bytes: UnsafeRawBufferPointer

    /// The snapshot length cut the frame short: decode what is there and flag it, it is not malformation.
    public var isTruncated: Bool { capturedLength < originalLength }
}

/// What a `forEach` body wants next.
public enum IterationControl: Sendable, Hashable {
    case `continue`
    case stop
}

/// Counters from `pcap_stats` for a live capture.
public struct CaptureStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Frames the kernel handed to the capture (after the filter), including those it then dropped.
    public var received: UInt64
    /// Frames dropped because the capture buffer was full: raise the buffer size or read faster.
    public var droppedByKernel: UInt64
    /// Frames the interface or its driver dropped (not reported by every driver).
    public var droppedByInterface: UInt64

    public init(received: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }

    public var description: String {
        "\(received) received, \(droppedByKernel) dropped by kernel, \(droppedByInterface) dropped by interface"
    }
}

/// How to open a live interface.
public struct LiveOptions: Sendable, Hashable {
    /// Bytes kept of each frame.
    public var snapshotLength: Int
    public var promiscuous: Bool
    /// Deliver each frame as soon as it arrives instead of batching them for throughput.
    public var immediate: Bool
    /// Kernel capture buffer size in bytes; frames arriving while it is full are counted as kernel drops.
    public var bufferSize: Int
    /// Ask for nanosecond timestamps; microsecond timestamps are used where the interface cannot give them.
    public var nanosecondTimestamps: Bool
    /// Without immediate mode, how long the kernel may hold a partly filled batch.
    public var batchTimeout: Duration

    public init(
        snapshotLength: Int = 262_144,
        promiscuous: Bool = false,
        immediate: Bool = true,
        bufferSize: Int = 8 << 20,
        nanosecondTimestamps: Bool = true,
        batchTimeout: Duration = .milliseconds(100)
    ) {
        self.snapshotLength = snapshotLength
        self.promiscuous = promiscuous
        self.immediate = immediate
        self.bufferSize = bufferSize
        self.nanosecondTimestamps = nanosecondTimestamps
        self.batchTimeout = batchTimeout
    }
}
