/// One direction of a BGP session as a byte stream (from TCP reassembly, or a listener's socket): frames
/// messages, and resynchronises on the marker after a gap, at a mid-session start, or after garbage.
///
/// Framing is delegated to `StreamBuffer`, so a stream fed one byte at a time yields the same messages as
/// one fed whole. While unsynchronised the stream scans for a marker followed by a plausible length and
/// type; the bytes skipped are counted in `skippedBytes`, and each loss of synchronisation is reported to
/// the caller once through `onDesync`.
public struct BGPMessageStream: Sendable {
    /// 4096, or 65535 once both OPENs carry the extended message capability (RFC 8654).
    public var maximumLength: Int
    /// False at a mid-session start (until a marker is found) and after a gap or a framing error.
    public private(set) var isSynchronized: Bool
    /// Stream bytes thrown away while looking for a marker.
    public private(set) var skippedBytes: UInt64 = 0
    public private(set) var messages: UInt64 = 0
    private var buffer: StreamBuffer
    /// While unsynchronised: the last bytes seen, which may hold the start of a marker.
    private var carry: [UInt8] = []
    /// Stream offset of `carry[0]`.
    private var carryOffset: UInt64 = 0

    /// `synchronized: false` for a stream whose first byte is not known to start a message.
    public init(startOffset: UInt64 = 0, synchronized: Bool = true, maximumLength: Int = BGPMessageHeader.standardMaximumLength) {
        self.maximumLength = maximumLength
        self.isSynchronized = synchronized
        buffer = StreamBuffer(capacity: BGPMessageHeader.extendedMaximumLength, startOffset: startOffset, layer: .bgp)
        carryOffset = startOffset
    }

    /// Bytes held for an unfinished message.
    public var bufferedBytes: Int { isSynchronized ? buffer.count : carry.count }

    /// Stream offset of the next byte expected (where a gap reported now would start).
    public var nextOffset: UInt64 { isSynchronized ? buffer.endOffset : carryOffset &+ UInt64(carry.count) }

    /// The message begun but not finished, when the stream is in sync: its stream offset, the bytes of it
    /// received, and its length (nil while its 19-byte header is incomplete). For reporting a message
    /// the stream ended inside.
    public var unfinishedMessage: (offset: UInt64, received: Int, length: Int?)? {
        guard isSynchronized, buffer.count > 0 else { return nil }
        let length = buffer.withCursor { cursor in
            cursor.remaining >= BGPMessageHeader.size ? cursor.peekU16(ahead: 16).map(Int.init) : nil
        }
        return (buffer.startOffset, buffer.count, length)
    }

    /// Feed in-order bytes whose first byte is at stream offset `offset` (offsets let the stream notice
    /// bytes it never saw). Each complete message goes to `onMessage` as a cursor over exactly that message
    /// (stream offsets); `onDesync` gets the error that broke framing, once per loss of synchronisation.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, at offset: UInt64,
        onMessage: (inout Cursor) -> Void, onDesync: (ParseError) -> Void = { _ in }
    ) {
        let expected = isSynchronized ? buffer.endOffset : carryOffset &+ UInt64(carry.count)
        if offset != expected {
            if offset > expected { skip(missingBytes: offset - expected) } else { resynchronize(at: offset) }
        }
        var input = bytes
        var inputOffset = offset
        while !input.isEmpty {
            if isSynchronized {
                let maximum = maximumLength
                do throws(ParseError) {
                    try buffer.feed(input, framer: { BGPFraming.frame(&$0, maximumLength: maximum) }) { message in
                        messages &+= 1
                        onMessage(&message)
                    }
                    return
                } catch {
                    onDesync(error)
                    // Every byte from the failed message's start on is either still buffered or not yet
                    // accepted from `input`: rescan from the byte after that start.
                    let failedStart = buffer.startOffset
                    var pending: [UInt8] = []
                    buffer.withCursor { cursor in pending = cursor.readRest() }
                    let acceptedEnd = buffer.endOffset
                    var unaccepted = acceptedEnd > inputOffset ? Int(min(UInt64(input.count), acceptedEnd - inputOffset)) : 0
                    if pending.isEmpty {
                        unaccepted = min(input.count, unaccepted + 1)
                    } else {
                        pending.removeFirst()
                    }
                    input = input.slice(from: unaccepted)
                    isSynchronized = false
                    carry = pending
                    carryOffset = failedStart &+ 1
                    inputOffset = carryOffset &+ UInt64(carry.count)
                    skippedBytes &+= 1
                    // Fall through to the marker scan: `input` may be empty now, and the carried bytes
                    // must still be scanned (a `continue` here left them unscanned until more data came).
                }
            }
            // Unsynchronised: look for a marker in what was carried plus the new bytes.
            carry.append(contentsOf: input)
            input = input.slice(from: input.count)
            inputOffset = carryOffset &+ UInt64(carry.count)
            let found = carry.withUnsafeBytes { raw in
                BGPFraming.findMessageStart(in: raw, maximumLength: maximumLength)
            }
            if let found {
                skippedBytes &+= UInt64(found)
                let rest = Array(carry[found...])
                let restOffset = carryOffset &+ UInt64(found)
                carry = []
                isSynchronized = true
                buffer.reset(startOffset: restOffset)
                rest.withUnsafeBytes { raw in
                    feed(raw, at: restOffset, onMessage: onMessage, onDesync: onDesync)
                }
                return
            }
            // Keep only what could still begin a marker.
            let keep = min(carry.count, BGPMessageHeader.size - 1)
            skippedBytes &+= UInt64(carry.count - keep)
            carryOffset &+= UInt64(carry.count - keep)
            carry.removeFirst(carry.count - keep)
        }
    }

    /// The stream lost `missingBytes` bytes (`StreamEvent.gap`): drop any partial message and look for the
    /// next marker after the hole.
    public mutating func skip(missingBytes: UInt64) {
        let next = (isSynchronized ? buffer.endOffset : carryOffset &+ UInt64(carry.count)) &+ missingBytes
        resynchronize(at: next)
    }

    private mutating func resynchronize(at offset: UInt64) {
        if isSynchronized { skippedBytes &+= UInt64(buffer.count) } else { skippedBytes &+= UInt64(carry.count) }
        isSynchronized = false
        carry = []
        carryOffset = offset
        buffer.reset(startOffset: offset)
    }
}
