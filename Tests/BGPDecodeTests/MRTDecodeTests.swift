import BGPDecodeKit
import Capture
import Foundation
import PacketCore
import Testing

/// MRT input: the recorded sessions' messages written as RFC 6396 BGP4MP_ET MESSAGE_AS4 records (the way
/// a collector would have logged them) give the same tables and announcements as the capture itself, in
/// whatever pieces the bytes arrive.
@Suite("MRT decoding")
struct MRTDecodeTests {
    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func address(_ ip: IPAddress) -> [UInt8] {
        switch ip {
        case .v4(let v4): be32(v4.rawValue)
        case .v6(let v6): v6.groups.flatMap { be16(Int($0)) }
        }
    }

    /// Every BGP message of a capture as an MRT BGP4MP_ET MESSAGE_AS4 record (peer = sender).
    static func mrtFromCapture(_ path: String) throws -> [UInt8] {
        var reassembler = TCPReassembler()
        var streams: [FlowKey: [FlowSide: BGPMessageStream]] = [:]
        var out: [UInt8] = []
        func handle(_ event: StreamEvent) {
            guard case .data(let key, let side, let bytes, let offset, let timestamp) = event else { return }
            var stream = streams[key]?[side] ?? BGPMessageStream(startOffset: offset)
            stream.feed(bytes, at: offset, onMessage: { message in
                let bgp = message.withUnsafeRemainingBytes { Array($0) }
                let sender = key.endpoint(side).address
                let receiver = key.endpoint(side.other).address
                let afi = sender.bitWidth == 32 ? 1 : 2
                let body = be32(64512) + be32(4_200_000_001) + be16(0) + be16(afi) + address(sender) + address(receiver) + bgp
                out += be32(UInt32(timestamp.seconds)) + be16(17) + be16(4) + be32(UInt32(body.count + 4))
                    + be32(UInt32(timestamp.nanoseconds / 1000)) + body
            })
            streams[key, default: [:]][side] = stream
        }
        let source = try PacketSource.openFile(path)
        try source.forEach { record in
            let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
            guard let tcp = packet.tcp, tcp.sourcePort == 179 || tcp.destinationPort == 179,
                let from = packet.sourceIP, let to = packet.destinationIP else { return .continue }
            reassembler.process(TCPSegment(
                source: FlowEndpoint(address: from, port: tcp.sourcePort), destination: FlowEndpoint(address: to, port: tcp.destinationPort),
                sequence: tcp.sequence, acknowledgment: tcp.acknowledgment, flags: tcp.flags,
                payload: UnsafeRawBufferPointer(rebasing: record.bytes[packet.payload]), timestamp: record.timestamp), handle)
            return .continue
        }
        reassembler.finish(handle)
        return out
    }

    static func summary(_ analyzer: BGPAnalyzer) -> [String] {
        analyzer.sortedSessions.flatMap { session in
            ["\(session.key) up=\(session.isUp) eor=\(session.endOfRIB.sorted())"]
                + session.routes.sorted { $0.key < $1.key }.map { "\(session.key) \($0.key) \(analyzer.path($0.value.pathID).summary)" }
                + session.flaps.sorted { $0.key < $1.key }.map { "\(session.key) flap \($0.key)=\($0.value)" }
        }
    }

    @Test(arguments: ["bgp-bird-frr", "bgp-segmented"], [1, 100, 1 << 20])
    func mrtMatchesTheCapture(name: String, chunk: Int) throws {
        let path = Paths.captures.appendingPathComponent("\(name).pcap").path
        let fromCapture = try decodeCapture(path)
        let mrt = try Self.mrtFromCapture(path)
        var events: [BGPEvent] = []
        let analyzer = BGPAnalyzer { events.append($0) }
        let decoder = BGPMRTDecoder(analyzer: analyzer)
        var start = 0
        while start < mrt.count {
            let end = min(mrt.count, start + chunk)
            mrt[start..<end].withUnsafeBytes { decoder.feed($0) }
            start = end
        }
        #expect(decoder.failure == nil && decoder.leftoverBytes == 0 && decoder.skippedRecords == 0)
        #expect(Self.summary(analyzer) == Self.summary(fromCapture.analyzer))
        let ours = events.compactMap { if case .announce(_, let key, let path, _) = $0 { "\(key) \(path.summary)" } else { nil } }
        let theirs = fromCapture.announcements.map { "\($0.1) \($0.2.summary)" }
        #expect(ours == theirs)
        #expect(!ours.isEmpty)
        // Without events (`--mrt --table`) repeated plain UPDATEs take the analyzer's fast path: same tables.
        let quiet = BGPAnalyzer()
        mrt.withUnsafeBytes { BGPMRTDecoder(analyzer: quiet).feed($0) }
        #expect(Self.summary(quiet) == Self.summary(analyzer))
        #expect(BGPRender.tableText(quiet) == BGPRender.tableText(analyzer))
    }

    @Test func truncatedMRTIsReported() throws {
        let mrt = try Self.mrtFromCapture(Paths.captures.appendingPathComponent("bgp-bird-frr.pcap").path)
        let analyzer = BGPAnalyzer()
        let decoder = BGPMRTDecoder(analyzer: analyzer)
        mrt.dropLast(5).withUnsafeBytes { decoder.feed($0) }
        #expect(decoder.leftoverBytes > 0)
        #expect(decoder.failure == nil)
    }
}
