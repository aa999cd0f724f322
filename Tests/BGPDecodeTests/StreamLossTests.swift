import BGPDecodeKit
import Foundation
import PacketCore
import TestSupport
import Testing

/// Issue 16: bytes lost by reassembly are reported (a `gap` event, the session line, exit 1), a real
/// reordered session decodes whole, and a message the stream ends inside is reported as truncated.
@Suite("bgpdecode stream losses (issue 16)", .serialized)
struct StreamLossTests {
    /// Feed a synthetic capture's frames to a fresh decoder; the analyzer and every event.
    static func decode(_ capture: SyntheticCapture, finish: Bool = true) -> (BGPAnalyzer, [BGPEvent], BGPCaptureDecoder) {
        var events: [BGPEvent] = []
        let analyzer = BGPAnalyzer { events.append($0) }
        let decoder = BGPCaptureDecoder(analyzer: analyzer)
        for frame in capture.frames {
            frame.bytes.withUnsafeBytes {
                decoder.process($0, linkType: .ethernet, originalLength: $0.count, timestamp: frame.time)
            }
        }
        if finish { decoder.finish() }
        analyzer.onEvent = nil
        return (analyzer, events, decoder)
    }

    static let speaker = BGPSessionKey(speaker: .v4(IPv4Address(203, 0, 113, 2)), peer: .v4(IPv4Address(203, 0, 113, 1)))

    /// Both OPENs and KEEPALIVEs, then `updates` UPDATEs from the speaker (one prefix each, 198.51.x.y/32
    /// numbered from 0), each in its own segment, delivered in the order `order` gives.
    static func session(updates: Int, order: ([[UInt8]]) -> [[UInt8]]) -> SyntheticCapture {
        var capture = SyntheticCapture()
        capture.handshake()
        capture.send(fromClient: true, SyntheticCapture.open(asn: 64513, identifier: IPv4Address(203, 0, 113, 1)))
        capture.send(fromClient: false, SyntheticCapture.open(asn: 64512, identifier: IPv4Address(203, 0, 113, 2)))
        capture.send(fromClient: true, BGPMessageBuilder.keepalive())
        capture.send(fromClient: false, BGPMessageBuilder.keepalive())
        var segments: [[UInt8]] = []
        for index in 0..<updates {
            var update = SyntheticCapture.update(asn: 64512, last: UInt8(index & 0xFF))
            // 198.51.(index >> 8).(index & 0xFF)/32: one distinct prefix per UPDATE (65536 of them at most).
            update[update.count - 2] = UInt8(truncatingIfNeeded: index >> 8)
            segments.append(capture.dataSegment(fromClient: false, update))
        }
        for segment in order(segments) { capture.add(segment) }
        return capture
    }

    static func updates(_ count: Int) -> Int { min(count, 65_536) }

    @Test func hundredThousandReversedSegmentsDecodeWhole() throws {
        // 100,000 segments: the prefixes repeat past 65,536, so count announcements, not distinct routes.
        let capture = Self.session(updates: 100_000) { $0.reversed() }
        let started = ContinuousClock.now
        let (analyzer, events, decoder) = Self.decode(capture)
        let elapsed = ContinuousClock.now - started
        let announcements = events.filter { if case .announce = $0 { true } else { false } }.count
        let gaps = events.filter { if case .gap = $0 { true } else { false } }.count
        #expect(gaps == 0, "\(decoder.reassemblyStatistics)")
        #expect(announcements == 100_000)
        #expect(analyzer.sessions[Self.speaker]?.updates == 100_000)
        #expect(analyzer.lostBytes == 0)
        #expect(decoder.reassemblyStatistics.peakBufferedBytes < 64 << 20)
        #expect(elapsed < .seconds(30), "reordered reassembly took \(elapsed)")
    }
}
