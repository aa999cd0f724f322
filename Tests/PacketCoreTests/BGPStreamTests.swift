import Testing
@testable import PacketCore

/// The BGP stream framer: same messages whatever the splits, resynchronisation on the marker after a gap,
/// at a mid-session start and after garbage.
@Suite("BGP message stream")
struct BGPStreamTests {
    typealias B = BGPBuild

    static let stream: [UInt8] = BGPMessageTests.frrOpen + B.keepalive
        + B.announce(["198.51.100.10/32", "198.51.100.11/32"]) + B.update() + B.keepalive
        + B.notification(code: 6, subcode: 2, data: [3] + Array("bye".utf8))

    /// Types and stream offsets of the messages framed from `bytes` fed in pieces of `chunk`.
    static func frame(_ bytes: [UInt8], chunk: Int, synchronized: Bool = true, startOffset: UInt64 = 0)
        -> (messages: [(UInt8, Int)], desyncs: Int, skipped: UInt64)
    {
        var stream = BGPMessageStream(startOffset: startOffset, synchronized: synchronized)
        var messages: [(UInt8, Int)] = []
        var desyncs = 0
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            bytes[start..<end].withUnsafeBytes { piece in
                stream.feed(piece, at: startOffset + UInt64(start), onMessage: { message in
                    messages.append((message.peekU8(ahead: 18) ?? 0, message.offset))
                }, onDesync: { _ in desyncs += 1 })
            }
            start = end
        }
        return (messages, desyncs, stream.skippedBytes)
    }

    @Test(arguments: [1, 2, 7, 19, 64, 4096])
    func dripFeedGivesTheSameMessages(chunk: Int) {
        let whole = Self.frame(Self.stream, chunk: Self.stream.count)
        #expect(whole.messages.map(\.0) == [1, 4, 2, 2, 4, 3])
        let pieces = Self.frame(Self.stream, chunk: chunk)
        #expect(pieces.messages.map(\.0) == whole.messages.map(\.0))
        #expect(pieces.messages.map(\.1) == whole.messages.map(\.1))
        #expect(pieces.desyncs == 0)
    }

    @Test(arguments: [1, 5, 1000])
    func midSessionStartResynchronises(chunk: Int) {
        // Start 30 bytes into the stream (inside the OPEN): the first message found is the KEEPALIVE.
        let cut = Array(Self.stream.dropFirst(30))
        let result = Self.frame(cut, chunk: chunk, synchronized: false, startOffset: 30)
        #expect(result.messages.map(\.0) == [4, 2, 2, 4, 3])
        #expect(result.messages.first?.1 == BGPMessageTests.frrOpen.count)
        #expect(result.skipped == UInt64(BGPMessageTests.frrOpen.count - 30))
    }

    @Test(arguments: [1, 3, 1000])
    func garbageIsSkippedAndReported(chunk: Int) {
        let garbage: [UInt8] = [1, 2, 3, 0xFF, 0xFF, 9]
        let bytes = B.keepalive + garbage + B.announce(["198.51.100.1/32"]) + B.keepalive
        let result = Self.frame(bytes, chunk: chunk)
        #expect(result.messages.map(\.0) == [4, 2, 4])
        #expect(result.desyncs == 1)
    }

    @Test func gapDropsThePartialMessage() {
        var stream = BGPMessageStream()
        var types: [UInt8] = []
        let update = B.announce(["198.51.100.1/32"])
        let bytes = B.keepalive + update + B.keepalive
        // Deliver the KEEPALIVE and half the UPDATE, lose 10 bytes, then the rest.
        let lost = 19 + 20
        bytes[..<(19 + 20)].withUnsafeBytes { stream.feed($0, at: 0, onMessage: { types.append($0.peekU8(ahead: 18) ?? 0) }) }
        stream.skip(missingBytes: 10)
        bytes[(lost + 10)...].withUnsafeBytes {
            stream.feed($0, at: UInt64(lost + 10), onMessage: { types.append($0.peekU8(ahead: 18) ?? 0) })
        }
        #expect(types == [4, 4])
    }

    @Test func extendedMessagesNeedNegotiation() {
        let big = B.update(attributes: B.attribute(1, [0]) + B.attribute(99, flags: 0xC0, [UInt8](repeating: 7, count: 5000)))
        #expect(big.count > 4096)
        var strict = BGPMessageStream()
        var lengths: [Int] = []
        var errors = 0
        big.withUnsafeBytes { strict.feed($0, at: 0, onMessage: { lengths.append($0.remaining) }, onDesync: { _ in errors += 1 }) }
        #expect(lengths.isEmpty && errors == 1)
        var extended = BGPMessageStream(maximumLength: BGPMessageHeader.extendedMaximumLength)
        big.withUnsafeBytes { extended.feed($0, at: 0, onMessage: { lengths.append($0.remaining) }) }
        #expect(lengths == [big.count])
    }
}
