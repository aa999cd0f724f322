import TestSupport
import Testing
@testable import PacketCore

@Suite("Stream buffer and framing")
struct ReassemblyStreamBufferTests {
    static let bodySizes = [0, 1, 5, 17, 2, 0, 40, 3, 60, 9]
    static let stream = lengthPrefixedStream(bodySizes: bodySizes)
    static func framer(_ cursor: inout Cursor) -> FrameResult {
        lengthPrefixedFramer(maximumBody: 100)(&cursor)
    }

    /// The messages the stream holds, computed independently of `StreamBuffer`.
    static let expected: [FramedMessage] = {
        var messages: [FramedMessage] = []
        var offset = 0
        for size in bodySizes {
            messages.append(FramedMessage(offset: offset, bytes: Array(stream[offset..<(offset + 2 + size)])))
            offset += 2 + size
        }
        return messages
    }()

    /// Feed `stream` cut at `splits` into a fresh buffer; returns the messages and the first error.
    static func frame(
        _ stream: [UInt8], splits: [Int], capacity: Int = 102,
        framer: (inout Cursor) -> FrameResult = ReassemblyStreamBufferTests.framer
    ) -> (messages: [FramedMessage], error: ParseError?, buffer: StreamBuffer) {
        var buffer = StreamBuffer(capacity: capacity)
        var messages: [FramedMessage] = []
        let bounds = [0] + splits.filter { $0 > 0 && $0 < stream.count }.sorted() + [stream.count]
        for index in 0..<(bounds.count - 1) {
            let piece = Array(stream[bounds[index]..<bounds[index + 1]])
            do throws(ParseError) {
                try withBytes(piece) { raw throws(ParseError) in
                    try buffer.feed(raw, framer: framer) { message in
                        messages.append(FramedMessage(offset: message.offset, bytes: message.readRest()))
                    }
                }
            } catch {
                return (messages, error, buffer)
            }
        }
        return (messages, nil, buffer)
    }

    @Test func wholeStreamYieldsEveryMessage() {
        let result = Self.frame(Self.stream, splits: [])
        #expect(result.messages == Self.expected)
        #expect(result.error == nil)
        #expect(result.buffer.isEmpty)
        #expect(result.buffer.endOffset == UInt64(Self.stream.count))
    }

    @Test func oneByteAtATimeYieldsTheSameMessages() {
        let result = Self.frame(Self.stream, splits: Array(1..<Self.stream.count))
        #expect(result.messages == Self.expected)
        #expect(result.error == nil)
    }

    @Test(arguments: 0...stream.count)
    func everySingleSplitYieldsTheSameMessages(split: Int) {
        #expect(Self.frame(Self.stream, splits: [split]).messages == Self.expected)
    }

    @Test(arguments: 1...40)
    func seededMultiSplitsYieldTheSameMessages(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let count = Int.random(in: 1...30, using: &random)
        let splits = (0..<count).map { _ in Int.random(in: 1..<Self.stream.count, using: &random) }
        #expect(Self.frame(Self.stream, splits: splits).messages == Self.expected)
    }

    @Test(arguments: 0...stream.count)
    func everyPrefixYieldsTheCompleteMessagesAndKeepsTheRest(prefix: Int) {
        let result = Self.frame(Array(Self.stream[..<prefix]), splits: [])
        let complete = Self.expected.filter { $0.offset + $0.bytes.count <= prefix }
        #expect(result.messages == complete)
        #expect(result.error == nil)
        let consumed = complete.last.map { $0.offset + $0.bytes.count } ?? 0
        #expect(result.buffer.count == prefix - consumed)
        #expect(result.buffer.startOffset == UInt64(consumed))
    }

    @Test func completeMessagesInTheIncomingBytesAreNotCopied() {
        var buffer = StreamBuffer(capacity: 102)
        var pointers: [UnsafeRawPointer?] = []
        let stream = Self.stream
        stream.withUnsafeBytes { raw in
            // All but the last byte: every message but the last is framed in place.
            try? buffer.feed(UnsafeRawBufferPointer(rebasing: raw[..<(raw.count - 1)]), framer: Self.framer) {
                message in pointers.append(message.withUnsafeRemainingBytes { $0.baseAddress })
            }
            let inside = pointers.allSatisfy { pointer in
                guard let pointer, let base = raw.baseAddress else { return false }
                return pointer >= base && pointer < base + raw.count
            }
            #expect(inside)
        }
        #expect(pointers.count == Self.bodySizes.count - 1)
        #expect(buffer.count == 2 + Self.bodySizes[Self.bodySizes.count - 1] - 1)
    }

    @Test func aMessageLongerThanTheCapacityFailsAtTheSameOffsetHoweverFed() {
        // Capacity 30 admits bodies of up to 28 bytes; the 40-byte body (at index 6) cannot fit.
        let whole = Self.frame(Self.stream, splits: [], capacity: 30)
        let dripped = Self.frame(Self.stream, splits: Array(1..<Self.stream.count), capacity: 30)
        let expectedOffset = Self.expected[6].offset
        #expect(whole.error?.offset == expectedOffset)
        #expect(whole.error?.kind == .malformed)
        #expect(whole.error?.layer == .stream)
        #expect(dripped.error == whole.error)
        #expect(whole.messages == Array(Self.expected.prefix(6)))
        #expect(dripped.messages == whole.messages)
    }

    @Test func framerErrorsStickUntilReset() throws {
        var stream = lengthPrefixedStream(bodySizes: [3])
        stream += [0xFF, 0xFF]  // a length far above the framer's cap
        stream += lengthPrefixedStream(bodySizes: [4])
        let whole = Self.frame(stream, splits: [])
        let dripped = Self.frame(stream, splits: Array(1..<stream.count))
        #expect(whole.messages.count == 1)
        #expect(whole.error == ParseError(.malformed, at: 5, layer: .stream, "length above maximum"))
        #expect(dripped.messages == whole.messages)
        #expect(dripped.error == whole.error)

        var buffer = whole.buffer
        #expect(buffer.failure != nil)
        let more = lengthPrefixedStream(bodySizes: [1])
        #expect(throws: ParseError.self) {
            try withBytes(more) { raw throws(ParseError) in try buffer.feed(raw, framer: Self.framer) { _ in } }
        }
        var continued = buffer
        continued.reset()
        #expect(continued.failure == nil)
        #expect(continued.startOffset == 5)
        buffer.reset(startOffset: 100)
        var offsets: [Int] = []
        try withBytes(more) { raw throws(ParseError) in
            try buffer.feed(raw, framer: Self.framer) { offsets.append($0.offset) }
        }
        #expect(offsets == [100])
    }

    @Test func skipAfterAGapResumesAtTheRightOffset() throws {
        var buffer = StreamBuffer(capacity: 50)
        let first = lengthPrefixedStream(bodySizes: [4])
        var offsets: [Int] = []
        try withBytes(first + [0, 9, 1]) { raw throws(ParseError) in
            try buffer.feed(raw, framer: Self.framer) { offsets.append($0.offset) }
        }
        #expect(buffer.count == 3)
        buffer.skip(missingBytes: 8)  // the rest of that message was lost
        #expect(buffer.isEmpty)
        #expect(buffer.startOffset == 6 + 3 + 8)
        try withBytes(lengthPrefixedStream(bodySizes: [2])) { raw throws(ParseError) in
            try buffer.feed(raw, framer: Self.framer) { offsets.append($0.offset) }
        }
        #expect(offsets == [0, 17])
    }

    @Test func manualAppendCursorConsumeAndDrain() throws {
        var buffer = StreamBuffer(capacity: 8, startOffset: 1000)
        try withBytes([UInt8]([1, 2, 3, 4, 5])) { raw throws(ParseError) in try buffer.append(raw) }
        let firstTwo = try buffer.withCursor { cursor throws(ParseError) in
            #expect(cursor.offset == 1000)
            return try cursor.readU16()
        }
        #expect(firstTwo == 0x0102)
        // All or nothing: 4 more bytes would pass the capacity of 8.
        #expect(throws: ParseError.self) {
            try withBytes([UInt8]([6, 7, 8, 9])) { raw throws(ParseError) in try buffer.append(raw) }
        }
        #expect(buffer.count == 5)
        buffer.consume(2)
        #expect(buffer.startOffset == 1002)
        buffer.consume(99)
        #expect(buffer.isEmpty && buffer.startOffset == 1005)

        // Two framed messages appended by hand, then drained.
        let messages = lengthPrefixedStream(bodySizes: [1, 2])
        try withBytes(messages) { raw throws(ParseError) in try buffer.append(raw) }
        var seen: [FramedMessage] = []
        try buffer.drain(framer: Self.framer) { seen.append(FramedMessage(offset: $0.offset, bytes: $0.readRest())) }
        #expect(seen.map(\.offset) == [1005, 1008])
        #expect(seen.map(\.bytes) == [Array(messages[0..<3]), Array(messages[3...])])
        #expect(buffer.isEmpty)
    }

    @Test func impossibleFramerLengthsAreErrorsNotHangs() {
        for length in [0, -1, 1000] {
            let result = Self.frame([1, 2, 3], splits: []) { _ in .message(length: length) }
            #expect(result.error?.kind == .malformed)
            #expect(result.messages.isEmpty)
        }
    }

    // MARK: End to end: reassembler -> stream buffer -> framer

    /// Run `segments` through a reassembler and frame the client's stream, resynchronising on gaps.
    static func framedThroughReassembly(_ segments: [Seg]) -> [FramedMessage] {
        var reassembler = TCPReassembler()
        var buffer = StreamBuffer(capacity: 102)
        var messages: [FramedMessage] = []
        let client = Lab.clientSide
        for segment in Lab.handshake(isn: 0xFFFF_FFF0) + segments {
            Lab.withSegment(segment) { tcp in
                reassembler.process(tcp) { event in
                    switch event {
                    case .data(_, client, let bytes, let offset, _):
                        if offset != buffer.endOffset { buffer.reset(startOffset: offset) }
                        try? buffer.feed(bytes, framer: Self.framer) {
                            messages.append(FramedMessage(offset: $0.offset, bytes: $0.readRest()))
                        }
                    case .gap(_, client, let missing, _):
                        buffer.skip(missingBytes: missing)
                    default:
                        break
                    }
                }
            }
        }
        return messages
    }

    @Test(arguments: [1, 2, 3, 5, 13, 64, 1000])
    func framingThroughReassemblyIsIndependentOfSegmentation(segmentSize: Int) {
        let splits = Array(stride(from: segmentSize, to: Self.stream.count, by: segmentSize))
        let pieces = Lab.segments(of: Self.stream, isn: 0xFFFF_FFF0, splits: splits)
        #expect(Self.framedThroughReassembly(pieces) == Self.expected)
        // Reversed order: everything is buffered until the first segment arrives.
        #expect(Self.framedThroughReassembly(pieces.reversed()) == Self.expected)
    }

    @Test func aLostMessageIsSkippedAndFramingResumesAfterTheGap() {
        // Lose exactly the bytes of message 3, then let the peer acknowledge past them.
        let lostStart = Self.expected[3].offset
        let lostEnd = lostStart + Self.expected[3].bytes.count
        let isn: UInt32 = 0xFFFF_FFF0
        var pieces = Lab.segments(of: Self.stream, isn: isn, splits: [lostStart, lostEnd])
        pieces.remove(at: 1)
        pieces.append(Seg(fromClient: false, sequence: 1001, acknowledgment: isn &+ 1 &+ UInt32(Self.stream.count)))
        var expected = Self.expected
        expected.remove(at: 3)
        #expect(Self.framedThroughReassembly(pieces) == expected)
    }
}
