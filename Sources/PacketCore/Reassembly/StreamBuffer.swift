/// What a stream framer found at the front of the bytes it was shown (house style, rule 6).
public enum FrameResult: Sendable, Equatable {
    /// A complete message of `length` bytes starts at the cursor's starting position.
    case message(length: Int)
    /// Not enough bytes yet to tell; nothing is consumed and the framer will be asked again with more.
    case needMore
    /// These bytes cannot start a message: the stream is desynchronised.
    case invalid(ParseError)
}

/// A bounded accumulator between TCP reassembly and a message decoder (BGP, MySQL): it holds the partial
/// message at the end of one `.data` event until the next completes it.
///
/// `feed` runs a framer over the buffered bytes followed by the new ones and hands each complete message
/// to a handler as a `Cursor` whose offsets are stream offsets. Messages that sit wholly inside the new
/// bytes while nothing is buffered are framed in place, without copying; only a message's unfinished
/// tail is copied in. The same stream therefore yields the same messages however it is split: in one
/// piece, segment by segment, or one byte at a time.
///
/// `capacity` is the longest message accepted (the protocol's own maximum, e.g. 4096 or 65535 for BGP);
/// a longer one is reported as malformed, wherever the splits fall. After an error (`failure`), `feed`
/// keeps failing until a reset. After a `.gap`, call `skip(missingBytes:)` (or `reset(startOffset:)` with
/// the offset of the next `.data`): the partial message is dropped and framing restarts there.
public struct StreamBuffer: Sendable {
    public let capacity: Int
    /// The layer blamed by cursors and errors.
    public let layer: Layer
    private var storage: [UInt8] = []
    /// Index in `storage` of the first unconsumed byte.
    private var head = 0
    /// Stream offset of the first buffered byte (or of the next byte to arrive, when empty).
    public private(set) var startOffset: UInt64
    /// The error that desynchronised the stream, if any; cleared by `reset`.
    public private(set) var failure: ParseError?

    public init(capacity: Int, startOffset: UInt64 = 0, layer: Layer = .stream) {
        self.capacity = max(1, capacity)
        self.startOffset = startOffset
        self.layer = layer
    }

    /// Bytes buffered.
    public var count: Int { storage.count - head }
    public var isEmpty: Bool { count == 0 }
    /// Stream offset of the next byte expected.
    public var endOffset: UInt64 { startOffset &+ UInt64(count) }

    private var origin: Int { Int(clamping: startOffset) }

    // MARK: Raw access

    /// Append bytes, all or nothing: throws (and keeps nothing) if they would pass `capacity`.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(ParseError) {
        guard bytes.count <= capacity - count else { throw overflow() }
        storage.append(contentsOf: bytes)
    }

    /// Lend a cursor over the buffered bytes, with stream offsets (`origin` = `startOffset`).
    public func withCursor<R, E: Error>(_ body: (inout Cursor) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = storage.withUnsafeBytes { raw in
            var cursor = Cursor(raw.slice(from: head), origin: origin, layer: layer)
            do throws(E) {
                return .success(try body(&cursor))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Drop the first `count` buffered bytes (clamped to what is buffered).
    public mutating func consume(_ count: Int) {
        let dropped = max(0, min(count, self.count))
        head += dropped
        startOffset &+= UInt64(dropped)
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head > storage.count / 2 {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// Forget everything buffered and any failure; the next byte fed is at stream offset `startOffset`.
    public mutating func reset(startOffset: UInt64) {
        storage.removeAll(keepingCapacity: true)
        head = 0
        self.startOffset = startOffset
        failure = nil
    }

    /// Forget everything buffered and any failure; the stream continues at `endOffset` (no bytes lost).
    public mutating func reset() {
        reset(startOffset: endOffset)
    }

    /// Resynchronise after `.gap(missingBytes:)`: drop the partial message and continue past the hole.
    public mutating func skip(missingBytes: UInt64) {
        reset(startOffset: endOffset &+ missingBytes)
    }

    // MARK: Framing

    /// Add `bytes` to the stream and hand every message that is now complete to `onMessage`, in order.
    ///
    /// `framer` sees a cursor at the start of the next message over all bytes available and answers with a
    /// `FrameResult`; it may move its cursor freely (only its answer counts). `onMessage` gets a cursor over
    /// exactly one message, valid during the call. Throws the framer's `.invalid` error, or a malformed
    /// error when a message would be longer than `capacity`; both stick until `reset`.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer,
        framer: (inout Cursor) -> FrameResult,
        onMessage: (inout Cursor) -> Void
    ) throws(ParseError) {
        if let failure { throw failure }
        do throws(ParseError) {
            var position = 0
            while true {
                if count == 0 {
                    position = try frameInPlace(bytes, from: position, framer, onMessage)
                    let rest = bytes.count - position
                    guard rest <= capacity else { throw overflow() }
                    storage.append(contentsOf: bytes.slice(from: position))
                    return
                }
                // A partial message is buffered: top it up from the new bytes and try once more.
                let before = count
                let take = max(0, min(bytes.count - position, capacity - before))
                storage.append(contentsOf: bytes.slice(position..<(position + take)))
                position += take
                guard let length = try frameBuffered(framer, onMessage) else {
                    if position == bytes.count { return }
                    throw overflow()  // full, and still not a whole message
                }
                if length >= before {
                    // The message ended inside the bytes just copied in: give back the ones after it, so
                    // they take the zero-copy path.
                    position -= count - length
                    storage.removeAll(keepingCapacity: true)
                    head = 0
                    startOffset &+= UInt64(length)
                } else {
                    consume(length)
                }
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Hand every complete message already buffered (after `append`) to `onMessage`.
    public mutating func drain(
        framer: (inout Cursor) -> FrameResult,
        onMessage: (inout Cursor) -> Void
    ) throws(ParseError) {
        if let failure { throw failure }
        do throws(ParseError) {
            while count > 0, let length = try frameBuffered(framer, onMessage) {
                consume(length)
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Frame messages directly in `bytes` from `position`; returns where the unfinished tail begins.
    private mutating func frameInPlace(
        _ bytes: UnsafeRawBufferPointer, from start: Int,
        _ framer: (inout Cursor) -> FrameResult, _ onMessage: (inout Cursor) -> Void
    ) throws(ParseError) -> Int {
        var position = start
        while position < bytes.count {
            let window = bytes.slice(from: position)
            guard let length = try frame(Cursor(window, origin: origin, layer: layer), framer) else { break }
            var message = Cursor(window.slice(0..<length), origin: origin, layer: layer)
            onMessage(&message)
            position += length
            startOffset &+= UInt64(length)
        }
        return position
    }

    /// Frame one message at the front of the buffer and hand it over; returns its length, or nil when the
    /// framer needs more. Does not consume.
    private func frameBuffered(
        _ framer: (inout Cursor) -> FrameResult, _ onMessage: (inout Cursor) -> Void
    ) throws(ParseError) -> Int? {
        let result: Result<Int?, ParseError> = storage.withUnsafeBytes { raw in
            let window = raw.slice(from: head)
            do throws(ParseError) {
                guard let length = try frame(Cursor(window, origin: origin, layer: layer), framer) else {
                    return .success(nil)
                }
                var message = Cursor(window.slice(0..<length), origin: origin, layer: layer)
                onMessage(&message)
                return .success(length)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Ask the framer about the bytes in `window`; a message's length must be possible and within capacity.
    private func frame(_ window: Cursor, _ framer: (inout Cursor) -> FrameResult) throws(ParseError) -> Int? {
        var probe = window
        switch framer(&probe) {
        case .needMore:
            return nil
        case .message(let length):
            guard length > 0, length <= window.remaining else {
                throw ParseError(.malformed, at: origin, layer: layer, "framer reported an impossible length")
            }
            guard length <= capacity else { throw overflow() }
            return length
        case .invalid(let error):
            throw error
        }
    }

    private func overflow() -> ParseError {
        ParseError(.malformed, at: origin, layer: layer, "message longer than the stream buffer capacity")
    }
}
