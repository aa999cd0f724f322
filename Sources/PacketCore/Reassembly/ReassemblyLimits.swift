/// Bounds on what `TCPReassembler` keeps, so hostile or huge captures cannot exhaust memory.
///
/// Out-of-order bytes are the only thing that grows with traffic; they are capped per direction and in
/// total. Every flow also costs a fixed record (a few hundred bytes), capped by `maxFlows`.
public struct ReassemblyLimits: Sendable, Hashable {
    /// Out-of-order bytes buffered per direction before the first hole is declared lost (`.gap`). 16 MiB
    /// holds a reordered session of 100,000 one-prefix UPDATEs (MetalLB, GoBGP: about 50 bytes each).
    public var perDirectionBytes: Int
    /// Separate out-of-order pieces buffered per direction (tiny segments cost more than their bytes: about
    /// 100 bytes each with their own allocation, so 2^17 pieces are about 13 MB beyond their payload).
    /// Was 4,096, which a reversed run of 100,000 segments overran (everything before the last 4,096 was
    /// declared lost); `ChunkList` keeps insertion cheap at either end however many pieces are held.
    public var perDirectionSegments: Int
    /// Out-of-order bytes buffered across all flows; beyond it the flow that has held buffered bytes the
    /// longest without activity is evicted.
    public var totalBytes: Int
    /// Separate out-of-order pieces buffered across all flows. Each piece costs a fixed overhead (about 80
    /// bytes) beyond its payload, so this bounds what a stream of one-byte segments can pin.
    public var totalSegments: Int
    /// Flows tracked at once (open ones and recently closed ones kept to absorb late segments); beyond it
    /// the least recently active flow is evicted.
    public var maxFlows: Int
    /// A flow with no segment for this long, in packet time, is closed with `.idleTimeout`.
    public var idleTimeoutNanoseconds: Int64
    /// Sequence numbers (and acknowledgments) further ahead than this are implausible and dropped. 2^30 is
    /// the largest window TCP window scaling allows (RFC 7323 section 2.3).
    public var maxSequenceJump: UInt32

    public init(
        perDirectionBytes: Int = 16 << 20,
        perDirectionSegments: Int = 1 << 17,
        totalBytes: Int = 256 << 20,
        totalSegments: Int = 1 << 20,
        maxFlows: Int = 100_000,
        idleTimeoutNanoseconds: Int64 = 300_000_000_000,
        maxSequenceJump: UInt32 = 1 << 30
    ) {
        // Nonsense limits are clamped rather than trusted, so no setting can make the reassembler trap.
        self.perDirectionBytes = max(0, perDirectionBytes)
        self.perDirectionSegments = max(1, perDirectionSegments)
        self.totalBytes = max(0, totalBytes)
        self.totalSegments = max(1, totalSegments)
        self.maxFlows = max(1, min(maxFlows, Int(Int32.max) - 1))
        self.idleTimeoutNanoseconds = max(0, idleTimeoutNanoseconds)
        self.maxSequenceJump = min(max(1, maxSequenceJump), (1 << 31) - 1)
    }
}

/// Counters describing what the reassembler has seen and done; cheap to read at any time.
public struct ReassemblyStatistics: Sendable, Hashable {
    /// Open flows now.
    public var flows = 0
    /// Closed flows still remembered (so a late ACK or retransmission does not open a phantom flow).
    public var closedFlowsRetained = 0
    /// Out-of-order bytes buffered now, across all flows.
    public var bufferedBytes = 0
    /// Out-of-order pieces buffered now, across all flows.
    public var bufferedSegments = 0
    /// The most out-of-order bytes ever buffered at once.
    public var peakBufferedBytes = 0
    public var segments = 0
    public var deliveredBytes: UInt64 = 0
    /// Holes declared lost (`.gap` events) and the bytes in them.
    public var gaps = 0
    public var missingBytes: UInt64 = 0
    /// Segments that partly overlapped bytes already delivered or buffered (the first copy won).
    public var overlaps = 0
    /// Segments that carried nothing new.
    public var retransmissions = 0
    /// Segments buffered out of order.
    public var outOfOrder = 0
    /// Segments whose sequence number was implausibly far ahead, or whose payload was absurdly large.
    public var outOfWindow = 0
    /// Segments for no flow worth tracking: RST for an unknown flow, late segments for a closed one.
    public var ignored = 0
    public var flowsOpened = 0
    public var flowsClosed = 0
    /// Open flows closed with `.evicted` to respect `maxFlows`, `totalBytes` or `totalSegments`.
    public var evictions = 0
    /// Open flows closed with `.idleTimeout`.
    public var timeouts = 0

    public init() {}
}
