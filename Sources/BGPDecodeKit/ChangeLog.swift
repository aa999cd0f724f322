/// Batch mode's log of route changes not yet applied to a `BGPRouteTable`, kept in buckets that follow
/// key order: a bucket is the entry's family and eight bits of its address (the top eight at first), so
/// every key of one bucket sorts before every key of the next (families in order, then buckets 0 to 255).
/// Within a bucket the entries stay in arrival order.
///
/// Why buckets: applying the log sorts it. One stable sort of a million 40-byte changes walked 44 MiB of
/// memory some twenty times and needed a 22 MiB buffer (a sixth of a full table's run time, and the peak
/// of its memory); a bucket holds a few thousand changes, which sort inside the cache, one after another,
/// with a buffer the size of one bucket. A bucket too large for that (addresses that share their top bits,
/// like a MetalLB pool's /32s) is split again, on the first byte in which its addresses differ, before it
/// is sorted. Why chunks: the log grows without copying what it holds (an array that doubled copied and
/// page-faulted 88 MiB on the way to 44), and a bucket split or drained frees its chunks as it goes.
struct ChangeLog {
    typealias Entry = BGPRouteTable.Entry

    /// Entries per chunk (40 KiB).
    static let chunkCapacity = 1024
    /// Room a bucket's first chunk starts with (it grows by doubling up to `chunkCapacity`): many sessions of
    /// a few routes each touch many buckets, and a full chunk for each would be 40 KiB per bucket touched.
    static let firstChunkCapacity = 16
    static let bucketsPerFamily = 256
    /// A bucket with more entries than this is split (while its addresses differ in `high`) instead of
    /// being sorted whole: 640 KiB, which sorts inside the L2 cache.
    static let sortLimit = 1 << 14

    /// Which eight bits of `Entry.high` choose the bucket.
    private let shift: UInt64
    /// The families seen (`Entry.meta >> 40`), in order of first sight; family `i` owns buckets
    /// `i * bucketsPerFamily ..< (i + 1) * bucketsPerFamily`.
    private var families: [UInt64] = []
    /// Per bucket, the chunk being filled (one level of arrays on the hot path: a bucket's array of chunks
    /// cost another cache miss per change).
    private var open: [[Entry]] = []
    /// Chunks that filled up, in the order they did, and their buckets.
    private var full: [[Entry]] = []
    private var fullBuckets: [Int32] = []
    private(set) var count = 0
    private var lastFamily: UInt64 = .max
    private var lastBase = 0

    var isEmpty: Bool { count == 0 }

    init() { shift = 56 }

    private init(shift: UInt64) { self.shift = shift }

    @inline(__always)
    mutating func append(_ entry: Entry) {
        let family = entry.meta >> 40
        if family != lastFamily { select(family) }
        let bucket = lastBase &+ Int(truncatingIfNeeded: entry.high >> shift & 0xFF)
        if open[bucket].capacity == 0 { open[bucket].reserveCapacity(Self.firstChunkCapacity) }
        open[bucket].append(entry)
        count += 1
        if open[bucket].count == Self.chunkCapacity { retire(bucket) }
    }

    /// Move a bucket's filled chunk to `full`; the bucket, busy, gets a whole chunk at once.
    private mutating func retire(_ bucket: Int) {
        var chunk: [Entry] = []
        chunk.reserveCapacity(Self.chunkCapacity)
        swap(&chunk, &open[bucket])
        full.append(chunk)
        fullBuckets.append(Int32(bucket))
    }

    private mutating func select(_ family: UInt64) {
        lastFamily = family
        if let index = families.firstIndex(of: family) {
            lastBase = index * Self.bucketsPerFamily
            return
        }
        lastBase = families.count * Self.bucketsPerFamily
        families.append(family)
        open.append(contentsOf: repeatElement([], count: Self.bucketsPerFamily))
    }

    /// Empty the log bucket by bucket in key order: `body` gets each non-empty bucket's entries in arrival
    /// order, in `scratch` (reused between buckets). A bucket's chunks are freed as they are copied, so
    /// the log shrinks while its caller builds what replaces it.
    mutating func drain(_ body: (inout [Entry]) -> Void) {
        // Each bucket's full chunks, in the order they filled (a counting sort of the chunk list).
        var starts = [Int](repeating: 0, count: open.count + 1)
        for bucket in fullBuckets { starts[Int(bucket) + 1] += 1 }
        for bucket in open.indices { starts[bucket + 1] += starts[bucket] }
        var next = starts
        var order = [Int](repeating: 0, count: full.count)
        for (chunk, bucket) in fullBuckets.enumerated() {
            order[next[Int(bucket)]] = chunk
            next[Int(bucket)] += 1
        }
        var scratch: [Entry] = []
        for family in families.indices.sorted(by: { families[$0] < families[$1] }) {
            let base = family * Self.bucketsPerFamily
            for bucket in base..<base + Self.bucketsPerFamily {
                let chunks = starts[bucket]..<starts[bucket + 1]
                let count = chunks.count * Self.chunkCapacity + open[bucket].count
                if count > Self.sortLimit, let shift = splitShift(chunks.map { order[$0] }, open[bucket]) {
                    var split = ChangeLog(shift: shift)
                    for position in chunks {
                        for entry in full[order[position]] { split.append(entry) }
                        full[order[position]] = []
                    }
                    for entry in open[bucket] { split.append(entry) }
                    open[bucket] = []
                    split.drain(body)
                    continue
                }
                scratch.removeAll(keepingCapacity: true)
                for position in chunks {
                    scratch.append(contentsOf: full[order[position]])
                    full[order[position]] = []
                }
                scratch.append(contentsOf: open[bucket])
                open[bucket] = []
                if !scratch.isEmpty { body(&scratch) }
            }
        }
        self = ChangeLog(shift: shift)
    }

    /// Where to split a crowded bucket: the byte of `high` that holds the highest bit in which its entries
    /// differ, so the split makes at least two buckets (splitting on the next byte blindly copied a bucket
    /// of /128s in one /64 eight times over for nothing). Nil when every entry has the same `high`: nothing
    /// to split on, the bucket is sorted whole. (Byte-aligned rather than starting at that bit: the peak of
    /// a million shuffled /32s was 8 MB lower.)
    private func splitShift(_ fullChunks: [Int], _ openChunk: [Entry]) -> UInt64? {
        guard let first = fullChunks.first.flatMap({ full[$0].first }) ?? openChunk.first else { return nil }
        var differing: UInt64 = 0
        for chunk in fullChunks {
            for entry in full[chunk] { differing |= entry.high ^ first.high }
        }
        for entry in openChunk { differing |= entry.high ^ first.high }
        guard differing != 0 else { return nil }
        let highestBit = 63 - differing.leadingZeroBitCount
        return UInt64(highestBit / 8 * 8)
    }
}
