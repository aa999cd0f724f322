/// Who and when an event is about: the fields every event from one direction shares.
struct EventContext {
    let key: FlowKey
    let side: FlowSide
    let timestamp: Timestamp
}

/// One direction of a flow: the sender's byte stream, reassembled up to `nextOffset`, plus the
/// out-of-order pieces received beyond it.
///
/// Positions are kept as 64-bit stream offsets (0 = the first byte after the SYN, or the first byte seen
/// mid-connection); sequence numbers are converted at the edge with serial-number arithmetic, so the
/// buffer never has to reason about wrap-around.
///
/// Invariants (kept by every mutating method): `chunks` is sorted, non-overlapping, and every chunk starts
/// after `nextOffset`; `bufferedBytes` is the sum of the chunk sizes; when `finOffset` is set no chunk
/// extends past it.
struct FlowDirection: Sendable {
    enum Phase: UInt8, Sendable {
        /// No SYN, data or FIN seen from this side yet: the stream's origin is unknown.
        case unstarted
        case open
        /// Every byte up to the FIN has been delivered or declared lost.
        case finished
    }

    /// Bytes received ahead of a hole, copied out of their segment.
    struct Chunk: Sendable {
        var offset: UInt64
        var bytes: [UInt8]
        var end: UInt64 { offset + UInt64(bytes.count) }
    }

    private(set) var phase = Phase.unstarted
    /// The sequence number of stream offset 0.
    private(set) var baseSequence: UInt32 = 0
    /// The sequence number of the SYN, when one was seen (to tell a retransmitted SYN from a new connection).
    private(set) var synSequence: UInt32?
    /// Stream offset of the next byte to deliver: everything before it was delivered or declared lost.
    private(set) var nextOffset: UInt64 = 0
    /// Stream offset of the FIN (one past the last data byte), once seen.
    private(set) var finOffset: UInt64?
    private(set) var chunks = ChunkList()
    private(set) var bufferedBytes = 0

    var nextSequence: UInt32 { baseSequence &+ UInt32(truncatingIfNeeded: nextOffset) }

    // MARK: Starting

    /// Begin the stream after a SYN carrying `sequence` (the SYN itself takes one sequence number).
    mutating func start(synSequence sequence: UInt32) {
        guard phase == .unstarted else { return }
        synSequence = sequence
        start(at: sequence &+ 1)
    }

    /// Begin the stream at `sequence` (mid-connection: the first segment seen defines offset 0).
    mutating func start(at sequence: UInt32) {
        guard phase == .unstarted else { return }
        phase = .open
        baseSequence = sequence
    }

    // MARK: Data

    /// Take a segment's payload: deliver what is in order (straight from `payload`, no copy), buffer what
    /// is ahead of a hole (copied, at most `budget` held in all), drop what was already delivered.
    mutating func ingest(
        sequence: UInt32, payload: UnsafeRawBufferPointer, budget: Budget, limits: ReassemblyLimits,
        _ context: EventContext, _ stats: inout ReassemblyStatistics, _ handler: (StreamEvent) -> Void
    ) {
        guard phase != .unstarted, !payload.isEmpty else { return }
        guard payload.count <= Int(limits.maxSequenceJump) else {
            stats.outOfWindow += 1
            return
        }
        let relative = SequenceNumber.distance(from: nextSequence, to: sequence)
        var skip = 0
        var start = nextOffset
        if relative < 0 {
            // Starts before what we already delivered: a retransmission, perhaps carrying some new bytes.
            let behind = -relative
            guard behind < Int64(payload.count) else {
                stats.retransmissions += 1
                return
            }
            skip = Int(behind)
        } else {
            guard relative <= Int64(limits.maxSequenceJump) else {
                stats.outOfWindow += 1
                return
            }
            start = nextOffset + UInt64(relative)
        }
        var end = start + UInt64(payload.count - skip)
        if let finOffset, end > finOffset {
            // Nothing follows a FIN; bytes claiming to are not part of the stream.
            end = finOffset
            guard start < end else {
                stats.ignored += 1
                return
            }
        }
        let bytes = payload.slice(skip..<(skip + Int(end - start)))
        var duplicated = skip > 0
        if start == nextOffset {
            duplicated = deliverInOrder(bytes, at: start, context, &stats, handler) || duplicated
        } else {
            switch buffer(bytes, at: start, budget: budget, context, &stats, handler) {
            case .none:
                stats.retransmissions += 1
                duplicated = false
            case .some: duplicated = true
            case .all: break
            }
        }
        if duplicated { stats.overlaps += 1 }
        noteProgress()
    }

    /// Deliver `bytes` (whose first byte is at stream offset `start`, with `start <= nextOffset`) up to its
    /// end, interleaved with any buffered chunks it runs into; where a chunk and the segment overlap, the
    /// chunk arrived first and wins. Returns whether any of the segment's bytes were dropped as duplicates.
    private mutating func deliverInOrder(
        _ bytes: UnsafeRawBufferPointer, at start: UInt64,
        _ context: EventContext, _ stats: inout ReassemblyStatistics, _ handler: (StreamEvent) -> Void
    ) -> Bool {
        let end = start + UInt64(bytes.count)
        var duplicated = false
        while true {
            deliverContiguous(context, &stats, handler)
            guard nextOffset < end, nextOffset >= start else { break }
            var upTo = end
            if let first = chunks.first, first.offset < end {
                upTo = first.offset
                duplicated = true
            }
            let lower = Int(nextOffset - start)
            let upper = Int(upTo - start)
            handler(.data(context.key, context.side, bytes: bytes.slice(lower..<upper),
                streamOffset: nextOffset, timestamp: context.timestamp))
            stats.deliveredBytes &+= UInt64(upper - lower)
            nextOffset = upTo
        }
        return duplicated
    }

    /// Deliver every buffered chunk that now starts at (or, defensively, before) `nextOffset`.
    private mutating func deliverContiguous(
        _ context: EventContext, _ stats: inout ReassemblyStatistics, _ handler: (StreamEvent) -> Void
    ) {
        var delivered = 0
        var released = 0
        while delivered < chunks.count, chunks[delivered].offset <= nextOffset {
            let chunk = chunks[delivered]
            if chunk.end > nextOffset {
                let skip = Int(nextOffset - chunk.offset)
                chunk.bytes.withUnsafeBytes { raw in
                    handler(.data(context.key, context.side, bytes: raw.slice(from: skip),
                        streamOffset: nextOffset, timestamp: context.timestamp))
                }
                stats.deliveredBytes &+= chunk.end - nextOffset
                nextOffset = chunk.end
            }
            released += chunk.bytes.count
            delivered += 1
        }
        guard delivered > 0 else { return }
        chunks.removeFirst(delivered)
        bufferedBytes -= released
        stats.bufferedBytes -= released
        stats.bufferedSegments -= delivered
    }

    /// How much out-of-order data a direction may hold, in bytes and in pieces.
    struct Budget {
        var bytes: Int
        var pieces: Int
    }

    /// How much of a buffered segment was new.
    enum Novelty { case none, some, all }

    /// Buffer `bytes` (first byte at stream offset `start > nextOffset`), keeping only what no earlier
    /// copy covers. When that would exceed the budget, declare the first hole lost and deliver on until
    /// the segment fits or becomes deliverable itself.
    private mutating func buffer(
        _ bytes: UnsafeRawBufferPointer, at start: UInt64, budget: Budget,
        _ context: EventContext, _ stats: inout ReassemblyStatistics, _ handler: (StreamEvent) -> Void
    ) -> Novelty {
        let end = start + UInt64(bytes.count)
        while true {
            if end <= nextOffset { return .none }
            if start <= nextOffset {
                // Skipping holes made the segment deliverable; a chunk delivered first covered its front.
                let frontCovered = start < nextOffset
                let restCovered = deliverInOrder(bytes, at: start, context, &stats, handler)
                return frontCovered || restCovered ? .some : .all
            }
            let (newBytes, pieces) = uncovered(start, end)
            if newBytes == 0 { return .none }
            if bufferedBytes + newBytes <= budget.bytes, chunks.count + pieces <= budget.pieces {
                insert(bytes, at: start, &stats)
                return newBytes < bytes.count ? .some : .all
            }
            guard let first = chunks.first, first.offset < start else {
                // The segment is the lowest thing we hold: give up on the hole before it and deliver it.
                emitGap(to: start, context, &stats, handler)
                return deliverInOrder(bytes, at: start, context, &stats, handler) ? .some : .all
            }
            emitGap(to: first.offset, context, &stats, handler)
            deliverContiguous(context, &stats, handler)
        }
    }

    /// Bytes of `[start, end)` not covered by a chunk, and into how many pieces they fall.
    private func uncovered(_ start: UInt64, _ end: UInt64) -> (bytes: Int, pieces: Int) {
        var position = start
        var bytes = 0
        var pieces = 0
        var index = firstChunk(endingAfter: start)
        while index < chunks.count, chunks[index].offset < end {
            if chunks[index].offset > position {
                bytes += Int(chunks[index].offset - position)
                pieces += 1
            }
            position = max(position, chunks[index].end)
            index += 1
        }
        if position < end {
            bytes += Int(end - position)
            pieces += 1
        }
        return (bytes, pieces)
    }

    /// Copy the parts of `bytes` (first byte at `start`) that no chunk covers into new chunks.
    private mutating func insert(
        _ bytes: UnsafeRawBufferPointer, at start: UInt64, _ stats: inout ReassemblyStatistics
    ) {
        let end = start + UInt64(bytes.count)
        var position = start
        var index = firstChunk(endingAfter: start)
        var added = 0
        let piecesBefore = chunks.count
        func piece(_ lower: UInt64, _ upper: UInt64) -> Chunk {
            Chunk(offset: lower, bytes: Array(bytes[Int(lower - start)..<Int(upper - start)]))
        }
        while index < chunks.count, chunks[index].offset < end {
            if chunks[index].offset > position {
                chunks.insert(piece(position, chunks[index].offset), at: index)
                added += Int(chunks[index].bytes.count)
                index += 1
            }
            position = max(position, chunks[index].end)
            index += 1
        }
        if position < end {
            chunks.insert(piece(position, end), at: index)
            added += Int(end - position)
        }
        bufferedBytes += added
        stats.bufferedBytes += added
        stats.bufferedSegments += chunks.count - piecesBefore
        stats.peakBufferedBytes = max(stats.peakBufferedBytes, stats.bufferedBytes)
        stats.outOfOrder += 1
    }

    /// Index of the first chunk whose end is after `offset` (chunks are sorted, so ends are too).
    private func firstChunk(endingAfter offset: UInt64) -> Int {
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle].end <= offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Holes

    /// Declare the bytes from `nextOffset` up to `offset` lost.
    private mutating func emitGap(
        to offset: UInt64, _ context: EventContext, _ stats: inout ReassemblyStatistics,
        _ handler: (StreamEvent) -> Void
    ) {
        guard offset > nextOffset else { return }
        let missing = offset - nextOffset
        stats.gaps += 1
        stats.missingBytes &+= missing
        handler(.gap(context.key, context.side, missingBytes: missing, timestamp: context.timestamp))
        nextOffset = offset
    }

    /// Move `nextOffset` to `target`: deliver the chunks below it and declare the holes between them lost.
    private mutating func advance(
        to target: UInt64, _ context: EventContext, _ stats: inout ReassemblyStatistics,
        _ handler: (StreamEvent) -> Void
    ) {
        while nextOffset < target {
            if let first = chunks.first, first.offset < target {
                emitGap(to: first.offset, context, &stats, handler)
                deliverContiguous(context, &stats, handler)
            } else {
                emitGap(to: target, context, &stats, handler)
            }
        }
    }

    /// The peer acknowledged up to `acknowledgment`: whatever we have not seen below it was sent, received
    /// and will never be retransmitted, so the holes there are permanent.
    mutating func acknowledge(
        _ acknowledgment: UInt32, limits: ReassemblyLimits,
        _ context: EventContext, _ stats: inout ReassemblyStatistics, _ handler: (StreamEvent) -> Void
    ) {
        guard phase == .open else { return }
        let relative = SequenceNumber.distance(from: nextSequence, to: acknowledgment)
        guard relative > 0, relative <= Int64(limits.maxSequenceJump) else { return }
        var target = nextOffset + UInt64(relative)
        // The FIN takes a sequence number but is not a byte of the stream.
        if let finOffset { target = min(target, finOffset) }
        advance(to: target, context, &stats, handler)
        noteProgress()
    }

    /// Record this side's FIN at `sequence` (one past its last data byte).
    mutating func noteFin(
        at sequence: UInt32, limits: ReassemblyLimits, _ stats: inout ReassemblyStatistics
    ) {
        guard phase == .open, finOffset == nil else { return }
        let relative = SequenceNumber.distance(from: nextSequence, to: sequence)
        guard relative <= Int64(limits.maxSequenceJump) else {
            stats.outOfWindow += 1
            return
        }
        // A FIN before bytes we already delivered is nonsense; end the stream where it stands.
        let fin = nextOffset + UInt64(max(0, relative))
        finOffset = fin
        // Drop anything buffered beyond the FIN: no byte follows it.
        while let last = chunks.last, last.end > fin {
            if last.offset >= fin {
                chunks.removeLast()
                bufferedBytes -= last.bytes.count
                stats.bufferedBytes -= last.bytes.count
                stats.bufferedSegments -= 1
            } else {
                let keep = Int(fin - last.offset)
                let cut = last.bytes.count - keep
                chunks[chunks.count - 1].bytes.removeLast(cut)
                bufferedBytes -= cut
                stats.bufferedBytes -= cut
            }
        }
        noteProgress()
    }

    /// Everything up to the FIN is accounted for: the direction is done.
    private mutating func noteProgress() {
        if phase == .open, let finOffset, nextOffset >= finOffset { phase = .finished }
    }

    /// The flow is ending: declare every remaining hole lost and deliver everything buffered.
    mutating func flush(
        _ context: EventContext, _ stats: inout ReassemblyStatistics, _ handler: (StreamEvent) -> Void
    ) {
        while let first = chunks.first {
            emitGap(to: first.offset, context, &stats, handler)
            deliverContiguous(context, &stats, handler)
        }
        if let finOffset {
            emitGap(to: finOffset, context, &stats, handler)
            noteProgress()
        }
    }
}
