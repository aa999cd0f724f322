// libFuzzer harness: bytes as one direction of a BGP session's TCP stream, through BGPMessageStream (the
// framer with marker resynchronisation) and every message decoded down to its prefixes.
//
// Input: [context 1][gap 1][stream bytes...]. The context byte picks what the session negotiated, as
// bgpdecode would know it from the OPENs (or not: nil means guessed per message):
//   bits 0-1 AS size (nil, 2, 4, nil)   bits 2-3 ADD-PATH (nil, off, on, nil)   bit 4 stream starts in sync
//   bit 5 extended messages (65535)     bits 6-7 chunk size for the drip-feed run (1, 3, 17, 301 bytes)
// The gap byte, when non-zero, drops that many bytes at offset gap * 7 in a third run (a TCP hole).
//
// Checked: no crash or overflow anywhere; the stream holds at most one message's worth of bytes; and the
// same bytes fed whole or in pieces give the same messages at the same offsets.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBGPStream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let selector = data[0]
    let gap = Int(data[1])
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let asSizes: [Int?] = [nil, 2, 4, nil]
    let addPaths: [Bool?] = [nil, false, true, nil]
    let context = FuzzBGPContext(asSize: asSizes[Int(selector & 3)], addPath: addPaths[Int(selector >> 2 & 3)])
    let synchronized = selector & 0x10 != 0
    let maximum = selector & 0x20 != 0 ? BGPMessageHeader.extendedMaximumLength : BGPMessageHeader.standardMaximumLength
    let chunk = [1, 3, 17, 301][Int(selector >> 6)]

    func run(pieces: [Range<Int>], decode: Bool) -> [Range<Int>] {
        var framer = BGPMessageStream(synchronized: synchronized, maximumLength: maximum)
        var messages: [Range<Int>] = []
        var checksum = 0
        var desyncs = 0
        for piece in pieces {
            let bytes = UnsafeRawBufferPointer(rebasing: stream[piece])
            framer.feed(
                bytes, at: UInt64(piece.lowerBound),
                onMessage: { message in
                    let length = message.remaining
                    precondition(length >= BGPMessageHeader.size && length <= maximum, "framed length out of range")
                    precondition(message.offset >= 0 && message.endOffset <= stream.count, "message outside the stream")
                    messages.append(message.offset..<message.endOffset)
                    if decode { checksum &+= decodeBGPMessage(message, context: context) }
                },
                onDesync: { error in
                    desyncs += 1
                    _ = error.description
                })
            precondition(framer.bufferedBytes <= maximum, "stream buffered more than one message")
        }
        precondition(framer.messages == UInt64(messages.count), "message count")
        precondition(framer.skippedBytes <= UInt64(stream.count), "skipped more bytes than were fed")
        if checksum == Int.min { print("unreachable") }
        return messages
    }

    let whole = run(pieces: [0..<stream.count], decode: true)
    var pieces: [Range<Int>] = []
    var start = 0
    while start < stream.count {
        pieces.append(start..<min(stream.count, start + chunk))
        start += chunk
    }
    let dripped = run(pieces: pieces, decode: false)
    precondition(whole == dripped, "drip-fed stream framed differently: \(whole) vs \(dripped)")
    // A hole in the stream: the pieces around it, with offsets telling the framer bytes went missing.
    if gap > 0, gap * 7 < stream.count {
        let holeStart = gap * 7
        let holeEnd = min(stream.count, holeStart + gap)
        _ = run(pieces: [0..<holeStart, holeEnd..<stream.count], decode: true)
    }
    return 0
}
