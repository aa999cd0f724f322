import GarpWatchKit
import PacketCore
import Testing

/// Pathological inputs against the documented caps: the memory each decoder holds stays under its cap
/// however long the abuse goes on, and what was dropped is reported (counters, desync callbacks, events).
@Suite("Resource bounds under hostile input", .timeLimit(.minutes(5)))
struct ResourceBoundsTests {
    // MARK: BGP stream

    static let marker = [UInt8](repeating: 0xFF, count: 16)

    /// A message header promising `length` bytes, then only `body` of them before the stream moves on.
    static func partialMessage(length: Int, body: Int) -> [UInt8] {
        marker + [UInt8(length >> 8), UInt8(length & 0xFF), 2] + [UInt8](repeating: 0, count: body)
    }

    @Test func endlessMarkerBytesStayWithinTheCarry() {
        // 16 MB of 0xFF: every 16 bytes look like a marker, no length ever fits. Synchronised, the framer
        // reads length 0xFFFF (too long for 4096), desynchronises once, and scans keeping at most 18 bytes.
        var stream = BGPMessageStream()
        var desyncs = 0
        let chunk = [UInt8](repeating: 0xFF, count: 4096)
        var offset: UInt64 = 0
        var peak = 0
        chunk.withUnsafeBytes { raw in
            for _ in 0..<4096 {
                stream.feed(
                    raw, at: offset, onMessage: { _ in Issue.record("no message can be framed") },
                    onDesync: { _ in desyncs += 1 })
                offset += UInt64(raw.count)
                peak = max(peak, stream.bufferedBytes)
            }
        }
        #expect(peak <= BGPMessageHeader.size - 1)
        #expect(desyncs == 1, "reported once per loss of synchronisation")
        #expect(stream.skippedBytes >= offset - UInt64(BGPMessageHeader.size), "every byte thrown away is counted")
        #expect(!stream.isSynchronized)
    }

    @Test(arguments: [BGPMessageHeader.standardMaximumLength, BGPMessageHeader.extendedMaximumLength])
    func endlessPartialMessagesCutByGaps(maximum: Int) {
        // Each message announces the maximum length and breaks off 100 bytes short; a TCP hole follows
        // (reassembly gave up on the rest). The stream never holds more than one message, drops each
        // partial message at the gap, counts the dropped bytes, and frames the next message after it.
        var stream = BGPMessageStream(maximumLength: maximum)
        let partial = Self.partialMessage(length: maximum, body: maximum - BGPMessageHeader.size - 100)
        var offset: UInt64 = 0
        var peak = 0
        var framed = 0
        partial.withUnsafeBytes { raw in
            for _ in 0..<(maximum == 4096 ? 2000 : 150) {
                // Fed in odd pieces, as segments would bring it.
                for start in stride(from: 0, to: raw.count, by: 1448) {
                    let piece = UnsafeRawBufferPointer(rebasing: raw[start..<min(raw.count, start + 1448)])
                    stream.feed(piece, at: offset, onMessage: { _ in framed += 1 })
                    offset += UInt64(piece.count)
                    peak = max(peak, stream.bufferedBytes)
                }
                stream.skip(missingBytes: 100)
                offset += 100
                #expect(stream.bufferedBytes == 0, "a gap drops the partial message")
            }
        }
        #expect(framed == 0)
        #expect(peak < maximum, "at most one message's bytes buffered")
        #expect(stream.skippedBytes >= UInt64(partial.count) * (maximum == 4096 ? 2000 : 150) - UInt64(maximum))
    }

    @Test func oversizedLengthIsReportedNotBuffered() {
        // Extended lengths without the capability negotiated: invalid at once, nothing buffered for it.
        var stream = BGPMessageStream()
        var errors: [ParseError] = []
        let header = Self.partialMessage(length: 60_000, body: 0)
        header.withUnsafeBytes { raw in
            stream.feed(raw, at: 0, onMessage: { _ in }, onDesync: { errors.append($0) })
        }
        #expect(errors.count == 1 && errors.first?.kind == .malformed)
        #expect(stream.bufferedBytes < BGPMessageHeader.size)
    }

    // MARK: TCP reassembly

    @Test func millionsOfHalfOpenFlows() {
        // Two million SYNs from distinct addresses and ports, never answered; every eighth flow also gets an
        // out-of-order segment (a hole in front of it) so flows pin buffered bytes too. Flows and bytes stay
        // under the limits, evictions say what was dropped, and every flow opened is accounted for.
        let limits = ReassemblyLimits(totalBytes: 1 << 20, maxFlows: 10_000)
        var reassembler = TCPReassembler(limits: limits)
        var opened = 0
        var closed = 0
        var peakFlows = 0
        let payload = [UInt8](repeating: 0x41, count: 200)
        let server = FlowEndpoint(address: .v4(IPv4Address(198, 51, 100, 10)), port: 179)
        let flows = 2_000_000
        payload.withUnsafeBytes { raw in
            for index in 0..<flows {
                let client = FlowEndpoint(
                    address: .v4(IPv4Address(rawValue: 0xCB00_7100 | UInt32(index >> 16 & 0xFF))),
                    port: UInt16(index & 0xFFFF))
                let time = Timestamp(seconds: Int64(index / 10_000), nanoseconds: 0)
                let handle: (StreamEvent) -> Void = { event in
                    switch event {
                    case .opened: opened += 1
                    case .closed: closed += 1
                    default: break
                    }
                }
                reassembler.process(
                    TCPSegment(
                        source: client, destination: server, sequence: 1000, acknowledgment: 0,
                        flags: .syn, payload: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: time), handle)
                if index % 8 == 0 {
                    reassembler.process(
                        TCPSegment(
                            source: client, destination: server, sequence: 5001, acknowledgment: 0,
                            flags: [.ack, .psh], payload: raw, timestamp: time), handle)
                }
                if index % 4096 == 0 {
                    let statistics = reassembler.statistics
                    peakFlows = max(peakFlows, statistics.flows + statistics.closedFlowsRetained)
                    #expect(statistics.bufferedBytes <= limits.totalBytes)
                }
            }
        }
        let statistics = reassembler.statistics
        #expect(peakFlows <= limits.maxFlows)
        #expect(statistics.flows + statistics.closedFlowsRetained <= limits.maxFlows)
        #expect(statistics.peakBufferedBytes <= limits.totalBytes)
        #expect(statistics.flowsOpened == flows)
        #expect(opened == flows)
        #expect(statistics.evictions >= flows - limits.maxFlows, "every flow pushed out is reported as evicted")
        #expect(closed == statistics.flowsClosed)
        #expect(statistics.segments == flows + flows / 8)
        #expect(statistics.outOfOrder == flows / 8, "every data segment arrived after a hole")
    }

    // MARK: garpwatch

    /// A gratuitous ARP reply for `ip` from `mac` (Ethernet II, 42 bytes).
    static func garp(ip: UInt32, mac: UInt64) -> [UInt8] {
        let macBytes = (0..<6).map { UInt8(truncatingIfNeeded: mac >> (40 - 8 * UInt64($0))) }
        let ipBytes = (0..<4).map { UInt8(truncatingIfNeeded: ip >> (24 - 8 * UInt32($0))) }
        return [UInt8](repeating: 0xFF, count: 6) + macBytes + [0x08, 0x06]
            + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02] + macBytes + ipBytes + [UInt8](repeating: 0xFF, count: 6)
            + ipBytes
    }

    /// The number of bindings garpwatch should be willing to hold (an operator's whole L2 segment of
    /// service IPs with room to spare); a flood beyond it must be dropped and reported.
    static let reasonableBindingCap = 65_536

    @Test func floodOfUniqueIPsAtGarpwatch() {
        var analyzer = Analyzer()
        let flood = 100_000
        var packet = Packet()
        for index in 0..<flood {
            // 198.18.0.0/15 (RFC 2544 benchmarking): 100 000 distinct addresses; the frames never leave memory.
            let frame = Self.garp(ip: 0xC612_0000 + UInt32(index), mac: 0x02_00_00_00_00_00 | UInt64(index))
            frame.withUnsafeBytes { packet.decode($0, linkType: .ethernet, originalLength: $0.count) }
            analyzer.process(packet, at: Timestamp(seconds: Int64(index / 1000), nanoseconds: 0))
            if index % 1000 == 0 { _ = analyzer.takeEvents() }
        }
        analyzer.finish()
        #expect(analyzer.counters.arp == flood, "every frame was looked at")
        // The table stops at its cap and says how many frames about new addresses it did not track.
        let cap = AnalyzerOptions().maxBindings
        #expect(cap <= Self.reasonableBindingCap)
        #expect(analyzer.bindings.count == cap)
        #expect(analyzer.counters.refusedNewAddresses == flood - cap)
    }
}
