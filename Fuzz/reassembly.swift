// libFuzzer harness: a sequence of TCP segments through the reassembler, with a length-prefixed framer
// consuming every direction, under small limits so eviction, gaps and budgets are all exercised.
// Input: records of [flags 1][seq 4][ack 4][side 1][length 1][payload length bytes].

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReassembly(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var reassembler = TCPReassembler(
        limits: ReassemblyLimits(perDirectionBytes: 4096, perDirectionSegments: 64, totalBytes: 16384,
            totalSegments: 256, maxFlows: 4, idleTimeoutNanoseconds: 1_000_000_000))
    var buffers: [FlowKey: StreamBuffer] = [:]
    let client = FlowEndpoint(address: .v4(IPv4Address(203, 0, 113, 1)), port: 40000)
    let server = FlowEndpoint(address: .v4(IPv4Address(203, 0, 113, 2)), port: 179)
    let framer: (inout Cursor) -> FrameResult = { cursor in
        guard let length = cursor.peekU16() else { return .needMore }
        guard length >= 2 else { return .invalid(cursor.error(.malformed, "length below 2")) }
        return cursor.remaining >= Int(length) ? .message(length: Int(length)) : .needMore
    }
    func handle(_ event: StreamEvent) {
        switch event {
        case .data(let key, _, let bytes, _, _):
            var buffer = buffers[key] ?? StreamBuffer(capacity: 1024)
            try? buffer.feed(bytes, framer: framer) { _ in }
            buffers[key] = buffer
        case .gap(let key, _, _, _), .closed(let key, _, _):
            buffers[key]?.reset()
        case .opened:
            break
        }
    }
    var offset = 0
    var time: Int64 = 0
    while offset + 11 <= size {
        let flags = TCPFlags(rawValue: UInt16(input[offset]) & 0x1F)
        let sequence = UInt32(input[offset + 1]) << 24 | UInt32(input[offset + 2]) << 16 | UInt32(input[offset + 3]) << 8
            | UInt32(input[offset + 4])
        let acknowledgment = UInt32(input[offset + 5]) << 24 | UInt32(input[offset + 6]) << 16
            | UInt32(input[offset + 7]) << 8 | UInt32(input[offset + 8])
        let fromClient = input[offset + 9] & 1 == 0
        let port = UInt16(input[offset + 9] >> 1 & 7)
        let length = min(Int(input[offset + 10]), size - offset - 11)
        let payload = UnsafeRawBufferPointer(rebasing: input[(offset + 11)..<(offset + 11 + length)])
        var source = fromClient ? client : server
        var destination = fromClient ? server : client
        if fromClient { source.port &+= port } else { destination.port &+= port }
        time += Int64(input[offset + 9]) * 50_000_000
        reassembler.process(
            TCPSegment(source: source, destination: destination, sequence: sequence, acknowledgment: acknowledgment,
                flags: flags, payload: payload, timestamp: Timestamp(seconds: time / 1_000_000_000, nanoseconds: 0)),
            handle)
        precondition(reassembler.statistics.bufferedBytes <= 16384, "total budget exceeded")
        precondition(reassembler.statistics.flows <= 4, "flow cap exceeded")
        offset += 11 + length
    }
    reassembler.finish(handle)
    return 0
}
