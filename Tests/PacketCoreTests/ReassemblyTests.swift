import TestSupport
import Testing
@testable import PacketCore

@Suite("TCP reassembly")
struct ReassemblyTests {
    let key = Lab.key
    let client = Lab.clientSide
    let server = Lab.serverSide

    // MARK: Identity and arithmetic

    @Test func flowKeyIsCanonicalAndPrintable() throws {
        let a = FlowEndpoint(address: .v4(IPv4Address(198, 51, 100, 1)), port: 179)
        let b = FlowEndpoint(address: .v4(IPv4Address(203, 0, 113, 10)), port: 40_000)
        #expect(FlowKey(a, b) == FlowKey(b, a))
        #expect(FlowKey(b, a).low == a)
        #expect(FlowKey(a, b).side(of: b) == .high)
        #expect(a.description == "198.51.100.1:179")
        let v6 = FlowEndpoint(address: .v6(try #require(IPv6Address("2001:db8::1"))), port: 179)
        #expect(v6.description == "[2001:db8::1]:179")
        #expect(FlowKey(b, a).description == "198.51.100.1:179 <> 203.0.113.10:40000")
        // Same address, different ports: the port decides the order.
        let c = FlowEndpoint(address: a.address, port: 80)
        #expect(FlowKey(a, c).low == c)
    }

    @Test(arguments: [
        (UInt32(0), UInt32(1), Int64(1)), (0xFFFF_FFFF, 0, 1), (0, 0xFFFF_FFFF, -1), (0xFFFF_FFF0, 0x10, 0x20),
        (5, 5, 0), (0, 0x7FFF_FFFF, 0x7FFF_FFFF), (0, 0x8000_0000, -0x8000_0000),
    ])
    func sequenceDistanceWrapsModulo2To32(base: UInt32, value: UInt32, expected: Int64) {
        #expect(SequenceNumber.distance(from: base, to: value) == expected)
    }

    // MARK: In order

    @Test func inOrderHandshakeDataIsDeliveredZeroCopy() {
        let stream = Lab.pattern(300)
        let script = Lab.handshake(isn: 100) + Lab.segments(of: stream, isn: 100, splits: [100, 200])
        let (recorder, reassembler) = Lab.run(script)
        #expect(recorder.events.first == .opened(key, initiator: client, sawHandshake: true))
        #expect(recorder.stream(key, client) == stream)
        #expect(recorder.events.dropFirst().prefix(3) == [
            .data(key, client, Array(stream[0..<100]), offset: 0),
            .data(key, client, Array(stream[100..<200]), offset: 100),
            .data(key, client, Array(stream[200..<300]), offset: 200),
        ])
        #expect(recorder.zeroCopyDeliveries == 3)
        #expect(recorder.closes == [.endOfCapture])
        #expect(recorder.offsetErrors.isEmpty)
        #expect(reassembler.statistics.deliveredBytes == 300)
        #expect(reassembler.statistics.gaps == 0)
    }

    @Test func synAckSeenFirstNamesTheOtherSideAsInitiator() {
        let script = [Seg(fromClient: false, sequence: 1000, acknowledgment: 101, flags: [.syn, .ack])]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.events.first == .opened(key, initiator: client, sawHandshake: true))
    }

    @Test func synPayloadFollowsTheSynSequenceNumber() {
        // TCP Fast Open: data on the SYN starts one past the SYN's sequence number.
        let script = [
            Seg(fromClient: true, sequence: 0xFFFF_FFFF, flags: .syn, payload: Array("abc".utf8)),
            Seg(fromClient: true, sequence: 3, acknowledgment: 1001, payload: Array("def".utf8)),
        ]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.stream(key, client) == Array("abcdef".utf8))
        #expect(recorder.gaps(key, client).isEmpty)
    }

    // MARK: Reordering

    /// The `index`-th permutation of `0..<count` (factorial number system), so each argument is one order.
    static func permutation(_ index: Int, of count: Int) -> [Int] {
        var pool = Array(0..<count)
        var rest = index
        var result: [Int] = []
        for position in stride(from: count, to: 0, by: -1) {
            let factorial = (1..<position).reduce(1, *)
            result.append(pool.remove(at: rest / factorial))
            rest %= factorial
        }
        return result
    }

    @Test(arguments: 0..<120)
    func everyOrderOfFiveSegmentsYieldsTheStream(order: Int) {
        let stream = Lab.pattern(50)
        let pieces = Lab.segments(of: stream, isn: 7, splits: [3, 11, 24, 40])
        let script = Lab.handshake(isn: 7) + Self.permutation(order, of: 5).map { pieces[$0] }
        let (recorder, reassembler) = Lab.run(script, finish: false)
        #expect(recorder.stream(key, client) == stream)
        #expect(recorder.gaps(key, client).isEmpty)
        #expect(recorder.offsetErrors.isEmpty)
        #expect(reassembler.statistics.bufferedBytes == 0)
    }

    @Test(arguments: 1...60)
    func seededShufflesWithDuplicatesAndOverlapsYieldTheStream(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let stream = Lab.pattern(3000, salt: UInt8(seed))
        let isn = UInt32.random(in: 0...UInt32.max, using: &random)
        var splits: [Int] = []
        for _ in 0..<40 { splits.append(Int.random(in: 1..<stream.count, using: &random)) }
        var pieces = Lab.segments(of: stream, isn: isn, splits: splits)
        // Retransmissions and re-segmented overlaps, cut from the same bytes.
        for _ in 0..<20 {
            let lower = Int.random(in: 0..<stream.count, using: &random)
            let upper = min(stream.count, lower + Int.random(in: 1...400, using: &random))
            pieces += Lab.segments(of: Array(stream[lower..<upper]), isn: isn &+ UInt32(lower), splits: [])
        }
        pieces.shuffle(using: &random)
        let (recorder, reassembler) = Lab.run(Lab.handshake(isn: isn) + pieces, finish: false)
        #expect(recorder.stream(key, client) == stream)
        #expect(recorder.gaps(key, client).isEmpty)
        #expect(recorder.offsetErrors.isEmpty)
        #expect(reassembler.statistics.bufferedBytes == 0)
        #expect(reassembler.statistics.retransmissions + reassembler.statistics.overlaps > 0)
    }

    // MARK: Retransmissions and overlaps

    @Test func retransmissionsOfDeliveredBytesAreDropped() {
        let stream = Lab.pattern(30)
        let pieces = Lab.segments(of: stream, isn: 100, splits: [10, 20])
        let script = Lab.handshake(isn: 100) + [pieces[0], pieces[0], pieces[1], pieces[0], pieces[1], pieces[2]]
        let (recorder, reassembler) = Lab.run(script)
        #expect(recorder.stream(key, client) == stream)
        #expect(reassembler.statistics.retransmissions == 3)
    }

    @Test func partialOverlapWithDeliveredBytesKeepsTheFirstCopy() {
        let first = [UInt8](repeating: 0xAA, count: 10)
        let second = [UInt8](repeating: 0xBB, count: 10)
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: first),  // bytes 0..<10
            Seg(fromClient: true, sequence: 106, acknowledgment: 1001, payload: second),  // bytes 5..<15
        ]
        let (recorder, reassembler) = Lab.run(script)
        #expect(recorder.stream(key, client) == first + [UInt8](repeating: 0xBB, count: 5))
        #expect(reassembler.statistics.overlaps == 1)
        #expect(recorder.offsetErrors.isEmpty)
    }

    @Test func overlapWithBufferedBytesKeepsTheFirstCopy() {
        let x = [UInt8](repeating: 0x11, count: 10)
        let z = [UInt8](repeating: 0x33, count: 10)
        let y = [UInt8](repeating: 0x22, count: 40)
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 111, acknowledgment: 1001, payload: x),  // buffered 10..<20
            Seg(fromClient: true, sequence: 116, acknowledgment: 1001, payload: z),  // buffered, only 20..<25 new
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: y),  // fills 0..<40 around them
        ]
        let (recorder, reassembler) = Lab.run(script)
        let expected = [UInt8](repeating: 0x22, count: 10) + x + [UInt8](repeating: 0x33, count: 5)
            + [UInt8](repeating: 0x22, count: 15)
        #expect(recorder.stream(key, client) == expected)
        #expect(recorder.offsetErrors.isEmpty)
        // The hole-filling segment is delivered from its own buffer around the buffered copies.
        #expect(recorder.zeroCopyDeliveries == 2)
        #expect(reassembler.statistics.overlaps == 2)
    }

    @Test func segmentWhollyInsideBufferedBytesIsARetransmission() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 111, acknowledgment: 1001, payload: Lab.pattern(20)),
            Seg(fromClient: true, sequence: 115, acknowledgment: 1001, payload: [9, 9, 9]),
        ]
        let (_, reassembler) = Lab.run(script, finish: false)
        #expect(reassembler.statistics.retransmissions == 1)
        #expect(reassembler.statistics.bufferedBytes == 20)
    }

    // MARK: Wrap-around and mid-connection

    @Test(arguments: [UInt32(0xFFFF_FFF0), 0xFFFF_FFFF, 0xFFFF_FFFE, 0x7FFF_FFF0])
    func sequenceWrapAroundIsSeamless(isn: UInt32) {
        let stream = Lab.pattern(100)
        let pieces = Lab.segments(of: stream, isn: isn, splits: Array(stride(from: 10, to: 100, by: 10)))
        let script = Lab.handshake(isn: isn) + pieces.reversed()
        let (recorder, _) = Lab.run(script)
        #expect(recorder.stream(key, client) == stream)
        #expect(recorder.gaps(key, client).isEmpty)
        #expect(recorder.offsetErrors.isEmpty)
    }

    @Test func midConnectionStartsAtTheFirstSegmentSeen() {
        let script = [
            Seg(fromClient: true, sequence: 5000, acknowledgment: 9000, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 4990, acknowledgment: 9000, payload: Lab.pattern(10, salt: 1)),
            Seg(fromClient: true, sequence: 5010, acknowledgment: 9000, payload: Lab.pattern(10, salt: 2)),
            Seg(fromClient: false, sequence: 9000, acknowledgment: 5020, payload: Lab.pattern(4, salt: 3)),
        ]
        let (recorder, reassembler) = Lab.run(script)
        #expect(recorder.events.first == .opened(key, initiator: nil, sawHandshake: false))
        #expect(recorder.stream(key, client) == Lab.pattern(10) + Lab.pattern(10, salt: 2))
        #expect(recorder.stream(key, server) == Lab.pattern(4, salt: 3))
        #expect(recorder.events.contains(.data(key, client, Lab.pattern(10, salt: 2), offset: 10)))
        #expect(reassembler.statistics.retransmissions == 1)
        #expect(recorder.gaps(key, client).isEmpty)
    }

    @Test func bareKeepAliveDoesNotStartAStream() {
        // A keep-alive probe carries the next sequence number minus one and no data; starting there would
        // invent a one-byte hole once the peer acknowledges the real data.
        let script = [
            Seg(fromClient: true, sequence: 4999, acknowledgment: 9000),
            Seg(fromClient: true, sequence: 5000, acknowledgment: 9000, payload: Lab.pattern(10)),
            Seg(fromClient: false, sequence: 9000, acknowledgment: 5010),
        ]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.stream(key, client) == Lab.pattern(10))
        #expect(recorder.gaps(key, client).isEmpty)
    }

    // MARK: Gaps

    @Test func ackPastAHoleReportsTheGapAndDeliversWhatFollows() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 121, acknowledgment: 1001, payload: Lab.pattern(10, salt: 2)),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 131),
        ]
        let (recorder, reassembler) = Lab.run(script, finish: false)
        #expect(Array(recorder.events.suffix(2)) == [
            .gap(key, client, 10), .data(key, client, Lab.pattern(10, salt: 2), offset: 20),
        ])
        #expect(reassembler.statistics.gaps == 1)
        #expect(reassembler.statistics.missingBytes == 10)
        #expect(reassembler.statistics.bufferedBytes == 0)
    }

    @Test func ackPastEverythingCapturedReportsTheGapAndTheStreamResumes() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 141),
            Seg(fromClient: true, sequence: 141, acknowledgment: 1001, payload: Lab.pattern(5, salt: 1)),
        ]
        let (recorder, _) = Lab.run(script, finish: false)
        #expect(recorder.gaps(key, client) == [30])
        #expect(recorder.events.last == .data(key, client, Lab.pattern(5, salt: 1), offset: 40))
        #expect(recorder.offsetErrors.isEmpty)
    }

    @Test func finishReportsHolesAndFlushesBufferedBytes() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 121, acknowledgment: 1001, payload: Lab.pattern(10, salt: 2)),
            Seg(fromClient: true, sequence: 141, acknowledgment: 1001, payload: Lab.pattern(10, salt: 4)),
        ]
        let (recorder, reassembler) = Lab.run(script)
        #expect(Array(recorder.events.suffix(5)) == [
            .gap(key, client, 10), .data(key, client, Lab.pattern(10, salt: 2), offset: 20),
            .gap(key, client, 10), .data(key, client, Lab.pattern(10, salt: 4), offset: 40),
            .closed(key, .endOfCapture),
        ])
        #expect(reassembler.statistics.flows == 0)
        #expect(reassembler.statistics.bufferedBytes == 0)
    }

    // MARK: Closing

    @Test func rstClosesTheFlowAndLateSegmentsAreIgnored() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 121, acknowledgment: 1001, payload: Lab.pattern(10, salt: 2)),
            Seg(fromClient: false, sequence: 1001, flags: .rst),
            Seg(fromClient: true, sequence: 131, acknowledgment: 1001, payload: Lab.pattern(10, salt: 3)),
            Seg(fromClient: false, sequence: 1001, flags: .rst),
        ]
        let (recorder, reassembler) = Lab.run(script)
        #expect(Array(recorder.events.suffix(3)) == [
            .gap(key, client, 10), .data(key, client, Lab.pattern(10, salt: 2), offset: 20), .closed(key, .rst),
        ])
        #expect(recorder.openedCount == 1)
        #expect(reassembler.statistics.ignored == 2)
    }

    @Test func connectionRefusedIsOpenedThenReset() {
        let script = [
            Seg(fromClient: true, sequence: 100, flags: .syn),
            Seg(fromClient: false, sequence: 0, acknowledgment: 101, flags: .rst),
        ]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.events == [.opened(key, initiator: client, sawHandshake: true), .closed(key, .rst)])
    }

    @Test func rstForAnUnknownFlowIsIgnored() {
        let (recorder, reassembler) = Lab.run([Seg(fromClient: false, sequence: 5, flags: .rst)])
        #expect(recorder.events.isEmpty)
        #expect(reassembler.statistics.ignored == 1)
    }

    @Test func finFromBothSidesClosesOnceAndTheLastAckOpensNothing() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, flags: .fin, payload: Array("hello".utf8)),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 107, flags: .fin, payload: Array("world".utf8)),
            Seg(fromClient: true, sequence: 107, acknowledgment: 1007),
        ]
        let (recorder, reassembler) = Lab.run(script)
        #expect(recorder.events == [
            .opened(key, initiator: client, sawHandshake: true),
            .data(key, client, Array("hello".utf8), offset: 0),
            .data(key, server, Array("world".utf8), offset: 0),
            .closed(key, .fin),
        ])
        #expect(reassembler.statistics.gaps == 0)
    }

    @Test func finThatOvertakesDataWaitsForIt() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 121, acknowledgment: 1001, flags: .fin),
            Seg(fromClient: true, sequence: 111, acknowledgment: 1001, payload: Lab.pattern(10, salt: 1)),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 122, flags: .fin),
        ]
        let (recorder, _) = Lab.run(script, finish: false)
        #expect(recorder.stream(key, client) == Lab.pattern(10) + Lab.pattern(10, salt: 1))
        #expect(recorder.gaps(key, client).isEmpty)
        #expect(recorder.closes == [.fin])
    }

    @Test func finWithAHoleIsReportedAsAGapWhenTheFlowCloses() {
        // The server's FIN does not acknowledge the client's bytes, so only the close settles the hole.
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 121, acknowledgment: 1001, flags: .fin, payload: Lab.pattern(5, salt: 1)),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 111, flags: .fin),
        ]
        let (recorder, _) = Lab.run(script, finish: false)
        #expect(Array(recorder.events.suffix(3)) == [
            .gap(key, client, 10), .data(key, client, Lab.pattern(5, salt: 1), offset: 20), .closed(key, .fin),
        ])
    }

    @Test func bytesAfterTheFinAreNotPartOfTheStream() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, flags: .fin, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 106, acknowledgment: 1001, payload: Lab.pattern(20, salt: 1)),
        ]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.stream(key, client) == Lab.pattern(10))
    }

    // MARK: Port reuse

    @Test func newSynOnAnOpenFlowClosesItAndStartsAFreshOne() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, payload: Lab.pattern(10)),
            Seg(fromClient: true, sequence: 100, flags: .syn),  // retransmitted SYN: same connection
            Seg(fromClient: true, sequence: 777_000, flags: .syn),
            Seg(fromClient: false, sequence: 5000, acknowledgment: 777_001, flags: [.syn, .ack]),
            Seg(fromClient: true, sequence: 777_001, acknowledgment: 5001, payload: Lab.pattern(3, salt: 9)),
        ]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.closes == [.reused, .endOfCapture])
        #expect(recorder.openedCount == 2)
        #expect(recorder.events.suffix(3) == [
            .opened(key, initiator: client, sawHandshake: true),
            .data(key, client, Lab.pattern(3, salt: 9), offset: 0),
            .closed(key, .endOfCapture),
        ])
    }

    @Test func newSynAfterACleanCloseStartsANewFlow() {
        let script = Lab.handshake(isn: 100) + [
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, flags: .fin),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 102, flags: .fin),
            Seg(fromClient: true, sequence: 102, acknowledgment: 1002),
            Seg(fromClient: true, sequence: 90_000, flags: .syn),
        ]
        let (recorder, reassembler) = Lab.run(script, finish: false)
        #expect(recorder.closes == [.fin])
        #expect(recorder.openedCount == 2)
        #expect(reassembler.statistics.flows == 1)
        #expect(reassembler.statistics.closedFlowsRetained == 0)
    }

    // MARK: Limits

    @Test func perDirectionBufferCapForcesAGapAndStaysBounded() {
        let limits = ReassemblyLimits(perDirectionBytes: 100)
        var reassembler = TCPReassembler(limits: limits)
        var recorder = EventRecorder()
        let stream = Lab.pattern(400)
        var script = Lab.handshake(isn: 100) + Lab.segments(of: Array(stream[0..<10]), isn: 100, splits: [])
        // Bytes 10..<20 are never captured; 20..<400 arrive in 50-byte segments.
        script += Lab.segments(of: Array(stream[20...]), isn: 120, splits: Array(stride(from: 50, to: 380, by: 50)))
        var peak = 0
        for segment in script {
            Lab.feed(segment, into: &reassembler, &recorder)
            peak = max(peak, reassembler.statistics.bufferedBytes)
        }
        #expect(peak <= 100)
        #expect(peak > 0)
        #expect(recorder.gaps(key, client) == [10])
        #expect(recorder.stream(key, client) == Array(stream[0..<10]) + Array(stream[20...]))
        #expect(recorder.offsetErrors.isEmpty)
    }

    @Test func perDirectionSegmentCapForcesAGap() {
        let limits = ReassemblyLimits(perDirectionSegments: 3)
        var script = Lab.handshake(isn: 100)
        // Every other 5-byte piece is missing: each arrival after the third opens one more hole.
        for index in stride(from: 1, to: 12, by: 2) {
            script.append(Seg(fromClient: true, sequence: 101 + UInt32(index * 5), acknowledgment: 1001,
                payload: Lab.pattern(5, salt: UInt8(index))))
        }
        var reassembler = TCPReassembler(limits: limits)
        var recorder = EventRecorder()
        for segment in script {
            Lab.feed(segment, into: &reassembler, &recorder)
            #expect(reassembler.statistics.bufferedBytes <= 15)
        }
        #expect(recorder.gaps(key, client).count == 3)
        reassembler.finish { recorder.record($0) }
        #expect(recorder.gaps(key, client).count == 6)
        #expect(recorder.stream(key, client).count == 30)
        #expect(recorder.offsetErrors.isEmpty)
    }

    @Test func maxFlowsEvictsTheLeastRecentlyActiveFlow() {
        var reassembler = TCPReassembler(limits: ReassemblyLimits(maxFlows: 3))
        var recorder = EventRecorder()
        var keys: [FlowKey] = []
        for port in UInt16(40_000)..<40_004 {
            let endpoint = FlowEndpoint(address: Lab.client.address, port: port)
            keys.append(FlowKey(endpoint, Lab.server))
            Lab.feed(Seg(fromClient: true, sequence: 1, flags: .syn), into: &reassembler, &recorder, client: endpoint)
            if port == 40_002 {
                // Touch the first flow again so the second becomes the least recently active.
                let first = FlowEndpoint(address: Lab.client.address, port: 40_000)
                Lab.feed(Seg(fromClient: true, sequence: 2, acknowledgment: 1, payload: [1]), into: &reassembler,
                    &recorder, client: first)
            }
        }
        #expect(recorder.events.contains(.closed(keys[1], .evicted)))
        #expect(recorder.closes == [.evicted])
        #expect(reassembler.statistics.flows == 3)
        #expect(reassembler.statistics.evictions == 1)
    }

    @Test func aMillionHalfOpenFlowsStayWithinMaxFlows() {
        let maxFlows = 1000
        var reassembler = TCPReassembler(limits: ReassemblyLimits(maxFlows: maxFlows))
        var evicted = 0
        var opened = 0
        var peak = 0
        for index in 0..<1_000_000 {
            let address = IPv4Address(rawValue: 0xCB00_7100 | UInt32(index >> 16))  // 203.0.113.x
            let source = FlowEndpoint(address: .v4(address), port: UInt16(truncatingIfNeeded: index))
            let segment = TCPSegment(source: source, destination: Lab.server, sequence: UInt32(index), flags: .syn,
                timestamp: Timestamp(seconds: 1_700_000_000 + Int64(index / 10_000), nanoseconds: 0))
            reassembler.process(segment) { event in
                switch event {
                case .opened: opened += 1
                case .closed(_, .evicted, _): evicted += 1
                default: break
                }
            }
            if index % 1000 == 0 {
                let stats = reassembler.statistics
                peak = max(peak, stats.flows + stats.closedFlowsRetained)
            }
        }
        let stats = reassembler.statistics
        #expect(peak <= maxFlows)
        #expect(stats.flows <= maxFlows)
        #expect(opened == 1_000_000)
        #expect(evicted == 1_000_000 - maxFlows)
        #expect(stats.evictions == evicted)
    }

    @Test func totalBufferCapEvictsTheOldestBufferingFlow() {
        var reassembler = TCPReassembler(limits: ReassemblyLimits(perDirectionBytes: 800, totalBytes: 1000))
        var recorder = EventRecorder()
        let first = FlowEndpoint(address: Lab.client.address, port: 40_000)
        let second = FlowEndpoint(address: Lab.client.address, port: 40_001)
        for endpoint in [first, second] {
            for segment in Lab.handshake(isn: 100) {
                Lab.feed(segment, into: &reassembler, &recorder, client: endpoint)
            }
            // 600 bytes behind a 10-byte hole.
            Lab.feed(Seg(fromClient: true, sequence: 111, acknowledgment: 1001, payload: Lab.pattern(600)),
                into: &reassembler, &recorder, client: endpoint)
            #expect(reassembler.statistics.bufferedBytes <= 1000)
        }
        let firstKey = FlowKey(first, Lab.server)
        #expect(Array(recorder.events.suffix(3)) == [
            .gap(firstKey, firstKey.side(of: first), 10),
            .data(firstKey, firstKey.side(of: first), Lab.pattern(600), offset: 10),
            .closed(firstKey, .evicted),
        ])
        #expect(reassembler.statistics.bufferedBytes == 600)
        #expect(reassembler.statistics.flows == 1)
    }

    @Test func totalPieceCapEvictsTheOldestBufferingFlow() {
        // One-byte pieces cost far more than their byte: the piece count is capped across flows too.
        var reassembler = TCPReassembler(limits: ReassemblyLimits(totalSegments: 4))
        var recorder = EventRecorder()
        let first = FlowEndpoint(address: Lab.client.address, port: 40_000)
        let second = FlowEndpoint(address: Lab.client.address, port: 40_001)
        for (endpoint, pieces) in [(first, 3), (second, 3)] {
            for segment in Lab.handshake(isn: 100) {
                Lab.feed(segment, into: &reassembler, &recorder, client: endpoint)
            }
            for piece in 0..<pieces {
                Lab.feed(Seg(fromClient: true, sequence: 102 + 2 * UInt32(piece), acknowledgment: 1001, payload: [7]),
                    into: &reassembler, &recorder, client: endpoint)
                #expect(reassembler.statistics.bufferedSegments <= 4)
            }
        }
        #expect(recorder.events.contains(.closed(FlowKey(first, Lab.server), .evicted)))
        #expect(recorder.closes == [.evicted])
        #expect(reassembler.statistics.bufferedSegments == 3)
        #expect(reassembler.statistics.bufferedBytes == 3)
    }

    @Test func idleFlowsAgeOutByPacketTimeOnly() {
        let t0: Int64 = 1_700_000_000
        var reassembler = TCPReassembler()
        var recorder = EventRecorder()
        let other = FlowEndpoint(address: Lab.client.address, port: 50_000)
        let otherKey = FlowKey(other, Lab.server)
        Lab.feed(Seg(fromClient: true, sequence: 1, acknowledgment: 1, payload: [1], seconds: t0),
            into: &reassembler, &recorder)
        for offset: Int64 in [100, 200, 300] {
            Lab.feed(Seg(fromClient: true, sequence: 1, acknowledgment: 1, payload: [1], seconds: t0 + offset),
                into: &reassembler, &recorder, client: other)
        }
        #expect(recorder.closes.isEmpty)  // exactly 300 s idle is not yet too long
        Lab.feed(Seg(fromClient: true, sequence: 2, acknowledgment: 1, payload: [2], seconds: t0 + 300,
            nanoseconds: 1), into: &reassembler, &recorder, client: other)
        // The stale flow is closed first, then the segment that revealed the time is processed.
        #expect(Array(recorder.events.suffix(2)) == [
            .closed(key, .idleTimeout), .data(otherKey, otherKey.side(of: other), [2], offset: 1),
        ])
        #expect(reassembler.statistics.timeouts == 1)
        // A timestamp from the past neither rewinds the clock nor revives anything.
        Lab.feed(Seg(fromClient: true, sequence: 3, acknowledgment: 1, payload: [3], seconds: t0),
            into: &reassembler, &recorder, client: other)
        #expect(reassembler.latestTimestamp == Timestamp(seconds: t0 + 300, nanoseconds: 1))
        reassembler.expire(before: Timestamp(seconds: t0 + 300, nanoseconds: 0)) { recorder.record($0) }
        #expect(recorder.closes == [.idleTimeout])
        reassembler.expire(before: Timestamp(seconds: t0 + 301, nanoseconds: 0)) { recorder.record($0) }
        #expect(recorder.events.last == .closed(otherKey, .idleTimeout))
        #expect(reassembler.statistics.flows == 0)
        #expect(recorder.stream(otherKey, otherKey.side(of: other)) == [1, 2, 3])
    }

    // MARK: Hostile input

    @Test func absurdSegmentsNeverCrashOrGrowMemory() {
        var reassembler = TCPReassembler(limits: ReassemblyLimits(perDirectionBytes: 1000, totalBytes: 1500))
        var recorder = EventRecorder()
        let huge = [UInt8](repeating: 0x5A, count: 200_000)
        let script = Lab.handshake(isn: 100) + [
            // Exactly at the largest plausible jump, then beyond it.
            Seg(fromClient: true, sequence: 101 &+ (1 << 30), acknowledgment: 1001, payload: [1, 2, 3]),
            Seg(fromClient: true, sequence: 101 &+ (1 << 30) &+ 5, acknowledgment: 1001, payload: [1]),
            Seg(fromClient: true, sequence: 101 &+ 0x7000_0000, acknowledgment: 1001, payload: [1]),
            Seg(fromClient: true, sequence: 101 &+ 0x8000_0000, acknowledgment: 1001, payload: [1]),
            Seg(fromClient: true, sequence: 5000, acknowledgment: 1001, payload: huge),
            Seg(fromClient: false, sequence: 1001, acknowledgment: 101 &+ 0x7FFF_FFFF),
            Seg(fromClient: true, sequence: 0, acknowledgment: 0, flags: [.syn, .fin, .rst, .ack], payload: [1]),
            Seg(fromClient: true, sequence: 101, acknowledgment: 1001, flags: [.fin, .psh, .urg]),
        ]
        for segment in script {
            Lab.feed(segment, into: &reassembler, &recorder)
            #expect(reassembler.statistics.bufferedBytes <= 1500)
        }
        reassembler.finish { recorder.record($0) }
        #expect(recorder.offsetErrors.isEmpty)
        #expect(reassembler.statistics.outOfWindow >= 2)
        #expect(reassembler.statistics.bufferedBytes == 0)
    }

    @Test(arguments: 1...8)
    func seededGarbageKeepsEveryInvariant(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed) &* 0x1234_5678)
        let limits = ReassemblyLimits(perDirectionBytes: 4096, perDirectionSegments: 16, totalBytes: 16_384,
            totalSegments: 40, maxFlows: 8, idleTimeoutNanoseconds: 5_000_000_000)
        var reassembler = TCPReassembler(limits: limits)
        let pool = Lab.pattern(70_000)
        let endpoints = (0..<6).map { FlowEndpoint(address: .v4(IPv4Address(203, 0, 113, UInt8($0))), port: 179) }
        var bases = [UInt32](repeating: 0, count: 6)
        for index in bases.indices { bases[index] = UInt32.random(in: 0...UInt32.max, using: &random) }
        var next: [FlowKey: [FlowSide: UInt64]] = [:]
        var offsetErrors = 0
        var seconds: Int64 = 1_700_000_000
        for _ in 0..<20_000 {
            let from = Int.random(in: 0..<6, using: &random)
            var to = Int.random(in: 0..<6, using: &random)
            if to == from && Bool.random(using: &random) { to = (to + 1) % 6 }
            let near = bases[from] &+ UInt32.random(in: 0...20_000, using: &random)
            let wild = Int.random(in: 0..<10, using: &random) == 0
            let sequence = wild ? UInt32.random(in: 0...UInt32.max, using: &random) : near
            let acknowledgment = bases[to] &+ UInt32.random(in: 0...30_000, using: &random)
            var flags: TCPFlags = .ack
            if Int.random(in: 0..<40, using: &random) == 0 { flags.insert(.syn) }
            if Int.random(in: 0..<60, using: &random) == 0 { flags.insert(.fin) }
            if Int.random(in: 0..<200, using: &random) == 0 { flags.insert(.rst) }
            if Int.random(in: 0..<5, using: &random) == 0 { flags.remove(.ack) }
            let length = Int.random(in: 0..<50, using: &random) == 0
                ? Int.random(in: 0...pool.count, using: &random) : Int.random(in: 0...1500, using: &random)
            seconds += Int64.random(in: -2...2, using: &random)
            pool.withUnsafeBytes { raw in
                let segment = TCPSegment(source: endpoints[from], destination: endpoints[to], sequence: sequence,
                    acknowledgment: acknowledgment, flags: flags,
                    payload: UnsafeRawBufferPointer(rebasing: raw[0..<length]),
                    timestamp: Timestamp(seconds: seconds, nanoseconds: 0))
                reassembler.process(segment) { event in
                    switch event {
                    case .opened(let key, _, _):
                        if next[key] != nil { offsetErrors += 1 }  // reopened without being closed
                        next[key] = [:]
                    case .data(let key, let side, let bytes, let offset, _):
                        if offset != next[key]?[side] ?? 0 || bytes.isEmpty { offsetErrors += 1 }
                        next[key, default: [:]][side] = offset + UInt64(bytes.count)
                    case .gap(let key, let side, let missing, _):
                        if missing == 0 { offsetErrors += 1 }
                        next[key, default: [:]][side, default: 0] += missing
                    case .closed(let key, _, _): next[key] = nil
                    }
                }
            }
            let stats = reassembler.statistics
            #expect(stats.bufferedBytes >= 0 && stats.bufferedBytes <= limits.totalBytes)
            #expect(stats.bufferedSegments >= 0 && stats.bufferedSegments <= limits.totalSegments)
            #expect(stats.flows + stats.closedFlowsRetained <= limits.maxFlows)
            if stats.bufferedBytes > limits.totalBytes { break }
            if reassembler.statistics.segments % 97 == 0 {
                let problems = reassembler.invariantViolations()
                #expect(problems.isEmpty)
                if !problems.isEmpty { break }
            }
        }
        #expect(reassembler.invariantViolations().isEmpty)
        reassembler.finish { event in
            if case .closed(let key, _, _) = event { next[key] = nil }
        }
        #expect(offsetErrors == 0)
        #expect(next.isEmpty)
        #expect(reassembler.statistics.flows == 0)
        #expect(reassembler.statistics.bufferedBytes == 0)
        #expect(reassembler.statistics.bufferedSegments == 0)
    }

    @Test func zeroLengthSegmentsOpenAFlowButCarryNoData() {
        let script = [
            Seg(fromClient: true, sequence: 10, acknowledgment: 20),
            Seg(fromClient: false, sequence: 20, acknowledgment: 10),
        ]
        let (recorder, _) = Lab.run(script)
        #expect(recorder.events == [.opened(key, initiator: nil, sawHandshake: false), .closed(key, .endOfCapture)])
    }

    // MARK: Same bytes, any segmentation

    static let dripStream = Lab.pattern(1500, salt: 3)

    @Test(arguments: [1, 2, 3, 7, 64, 536, 1460, 1500])
    func segmentationNeverChangesTheDeliveredBytes(segmentSize: Int) {
        let splits = Array(stride(from: segmentSize, to: Self.dripStream.count, by: segmentSize))
        let pieces = Lab.segments(of: Self.dripStream, isn: 0xFFFF_FF00, splits: splits)
        let (recorder, _) = Lab.run(Lab.handshake(isn: 0xFFFF_FF00) + pieces)
        #expect(recorder.stream(key, client) == Self.dripStream)
        #expect(recorder.offsetErrors.isEmpty)
    }

    @Test(arguments: 0...60)
    func everySplitPointInEitherOrderYieldsTheStream(split: Int) {
        let stream = Lab.pattern(60)
        let pieces = Lab.segments(of: stream, isn: 42, splits: [split])
        for order in [pieces, pieces.reversed()] {
            let (recorder, _) = Lab.run(Lab.handshake(isn: 42) + order)
            #expect(recorder.stream(key, client) == stream)
            #expect(recorder.gaps(key, client).isEmpty)
        }
    }
}
