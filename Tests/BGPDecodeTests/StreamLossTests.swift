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

    @Test func aBudgetOverrunIsAGapEventCountedInTheSession() throws {
        // More reversed pieces than one direction may hold (2^17): the oldest hole is given up, and says so.
        let count = (1 << 17) + 2_000
        let capture = Self.session(updates: count) { $0.reversed() }
        let (analyzer, events, _) = Self.decode(capture)
        let gaps: [Range<UInt64>] = events.compactMap { if case .gap(_, let lost) = $0 { lost } else { nil } }
        try #require(gaps.count == 1, "\(gaps)")
        let announcements = events.filter { if case .announce = $0 { true } else { false } }.count
        let update = UInt64(SyntheticCapture.update(asn: 64512, last: 0).count)
        // What was given up is exactly the UPDATEs that were not decoded, and it is all accounted for.
        #expect(gaps[0].count == UInt64(count - announcements) * update)
        #expect(analyzer.lostBytes == UInt64(gaps[0].count))
        let session = try #require(analyzer.sessions[Self.speaker])
        #expect(session.gaps == 1 && session.lostBytes == UInt64(gaps[0].count))
        #expect(BGPRender.sessionHeader(session).contains("1 gap (\(gaps[0].count) bytes lost)"))
    }

    /// A capture that lost the segment announcing 198.51.0.1/32.
    static func droppedSegmentCapture() throws -> (path: String, lost: Range<UInt64>) {
        var dropped: [UInt8] = []
        var capture = Self.session(updates: 3) { segments in
            dropped = segments[1]
            return [segments[0], segments[2]]
        }
        capture.close()
        // Server stream: OPEN, KEEPALIVE, then the UPDATEs.
        let open = UInt64(SyntheticCapture.open(asn: 64512, identifier: IPv4Address(203, 0, 113, 2)).count)
        let update = UInt64(SyntheticCapture.update(asn: 64512, last: 0).count)
        let start = open + 19 + update
        #expect(dropped.count > 0)
        return (try capture.write("dropped-segment"), start..<(start + update))
    }

    @Test func aLostSegmentIsAGapWithItsRangeAndAVerifyCannotSayOK() throws {
        let (path, lost) = try Self.droppedSegmentCapture()
        let text = try Tool.run(["-r", path])
        #expect(text.status == 1, "\(text.standardError)")
        #expect(text.standardOutput.contains("GAP stream bytes \(lost.lowerBound)-\(lost.upperBound) lost (\(lost.count) bytes"),
            "\(text.standardOutput)")
        #expect(text.standardOutput.contains("1 gap (\(lost.count) bytes lost)"))
        let json = try Tool.run(["-r", path, "--json"])
        let gap = try #require(try JSONLines.events(json.standardOutput, tool: "bgpdecode")
            .first { $0["event"] as? String == "gap" })
        #expect(gap["start"] as? Int == Int(lost.lowerBound) && gap["end"] as? Int == Int(lost.upperBound))
        #expect(gap["speaker"] as? String == "203.0.113.2")
        // The prefixes that were captured are there, but the verdict cannot be OK: bytes were lost.
        let verify = try Tool.run(["-r", path, "--peer", "203.0.113.2", "--expect-prefix", "198.51.0.0/32",
            "--expect-prefix", "198.51.0.2/32"])
        #expect(verify.status == 1, "\(verify.standardOutput)")
        #expect(verify.standardOutput.contains("verify: INCOMPLETE \(lost.count) bytes of BGP streams were lost in 1 gap"),
            "\(verify.standardOutput)")
        #expect(verify.standardOutput.contains("verify: FAIL"))
    }

    /// Item 5: the stream ends (FIN, or the end of the capture) inside a message.
    @Test(arguments: [true, false])
    func aMessageCutByTheEndOfTheStreamIsReported(withFIN: Bool) throws {
        var capture = Self.session(updates: 1) { $0 }
        let update = SyntheticCapture.update(asn: 64512, last: 9)
        capture.send(fromClient: false, Array(update.prefix(30)))
        if withFIN { capture.close() }
        let (analyzer, events, _) = Self.decode(capture)
        let truncated = events.compactMap { event -> (Int, Int?, Int)? in
            if case .truncatedMessage(let origin, let received, let length) = event { (received, length, origin.offset) } else { nil }
        }
        try #require(truncated.count == 1, "\(events.map { BGPRender.text($0) ?? "" })")
        #expect(truncated[0].0 == 30 && truncated[0].1 == update.count)
        #expect(analyzer.truncatedMessages == 1)
        let line = try #require(events.compactMap { event -> String? in
            if case .truncatedMessage = event { BGPRender.text(event) } else { nil }
        }.first)
        #expect(line.contains("TRUNCATED message at stream byte \(truncated[0].2), 30 of \(update.count) bytes"), "\(line)")
        // A header cut short has no length yet.
        var short = Self.session(updates: 0) { $0 }
        short.send(fromClient: false, Array(update.prefix(10)))
        let (_, shortEvents, _) = Self.decode(short)
        #expect(shortEvents.contains { if case .truncatedMessage(_, 10, nil) = $0 { true } else { false } })
    }
}

/// Issue 16 item 6: a capture that holds no BGP message says why.
@Suite("bgpdecode explains captures without BGP (issue 16)")
struct NoMessageDiagnosisTests {
    static func notes(_ capture: SyntheticCapture, _ name: String) throws -> (ProcessOutput, [String]) {
        let path = try capture.write(name)
        let text = try Tool.run(["-r", path])
        let json = try Tool.run(["-r", path, "--json"])
        let summary = try #require(try JSONLines.events(json.standardOutput, tool: "bgpdecode").last)
        return (text, summary["notes"] as? [String] ?? [])
    }

    @Test func unansweredSignedSYNsMeanAPasswordProblem() throws {
        var capture = SyntheticCapture()
        for _ in 0..<3 { capture.syn(options: SyntheticCapture.md5Option) }
        let (text, notes) = try Self.notes(capture, "md5-unanswered")
        #expect(text.status == 0)
        #expect(text.standardOutput.contains("note: 203.0.113.1 > 203.0.113.2:179: TCP-MD5 signed SYNs unanswered (3): "
            + "password missing or wrong on the peer"), "\(text.standardOutput)")
        #expect(notes.count == 1)
    }

    @Test func aSYNAnsweredByRSTMeansNothingListens() throws {
        var capture = SyntheticCapture()
        capture.refused()
        capture.refused()
        let (text, _) = try Self.notes(capture, "refused")
        #expect(text.standardOutput.contains("SYN answered by RST (2): nothing listens on 179 at 203.0.113.2"),
            "\(text.standardOutput)")
        // A verification of that speaker fails with 13 (no session) and says why.
        let path = try capture.write("refused-verify")
        let verify = try Tool.run(["-r", path, "--peer", "203.0.113.2", "--expect-prefix", "198.51.100.10/32"])
        #expect(verify.status == 13)
        #expect(verify.standardOutput.contains("nothing listens on 179"))
    }

    @Test func aConnectionWithoutAnOPENSaysSo() throws {
        var capture = SyntheticCapture()
        capture.handshake()
        capture.close()
        let (text, _) = try Self.notes(capture, "no-open")
        #expect(text.standardOutput.contains("203.0.113.1 > 203.0.113.2:179: connection up but no OPEN"),
            "\(text.standardOutput)")
    }

    @Test func aCaptureWithBGPHasNoSuchNote() throws {
        var capture = StreamLossTests.session(updates: 2) { $0 }
        capture.close()
        let (text, notes) = try Self.notes(capture, "healthy")
        #expect(text.status == 0 && notes.isEmpty, "\(notes)")
        #expect(!text.standardOutput.contains("note:"))
    }
}

/// Issue 16 item 7: context notes and labels are true.
@Suite("bgpdecode context notes are true (issue 16)")
struct ContextNoteTests {
    static func notes(_ events: [BGPEvent]) -> [String] {
        events.compactMap { if case .contextNote(_, let text) = $0 { text } else { nil } }
    }

    @Test func aConnectionTheListenerRejectedHasNoOPENNotCapturedNote() throws {
        // What `bgpdecode listen` does to an address that is not a --peer: NOTIFICATION 6/5 before any OPEN.
        var capture = SyntheticCapture()
        capture.handshake()
        capture.send(fromClient: true, SyntheticCapture.open(asn: 64513, identifier: IPv4Address(203, 0, 113, 1)))
        capture.send(fromClient: false, BGPMessageBuilder.notification(code: 6, subcode: 5))
        capture.close()
        let (_, events, _) = StreamLossTests.decode(capture)
        #expect(events.contains { if case .notification = $0 { true } else { false } })
        #expect(Self.notes(events).isEmpty, "\(Self.notes(events))")
    }

    @Test func updatesWithoutTheOPENsStillSayTheContextIsGuessed() throws {
        var capture = SyntheticCapture()
        capture.send(fromClient: false, SyntheticCapture.update(asn: 64512, last: 7))
        let (analyzer, events, _) = StreamLossTests.decode(capture)
        #expect(Self.notes(events).contains { $0.hasPrefix("OPEN not captured") })
        #expect(analyzer.sessions[StreamLossTests.speaker]?.contextSource == .heuristic)
    }

    @Test func bothOPENsWithoutAnUPDATEAreContextOpen() throws {
        let capture = StreamLossTests.session(updates: 0) { $0 }
        let (analyzer, _, _) = StreamLossTests.decode(capture)
        #expect(analyzer.sessions.count == 2)
        for session in analyzer.sessions.values { #expect(session.contextSource == .open, "\(session.key)") }
    }

    @Test func aCutCaptureThatHoldsBothOPENsDecodesWithContextOpen() throws {
        // bgp-bird-frr.pcap cut after its four OPENs (two connections) and before any UPDATE.
        let original = try Data(contentsOf: Paths.captures.appendingPathComponent("bgp-bird-frr.pcap"))
        let path = InputRobustnessTests.scratch.appendingPathComponent("cut-after-opens.pcap")
        try original.prefix(2000).write(to: path)
        let result = try Tool.run(["-r", path.path])
        #expect(result.status == 1, "a cut capture is partial")
        let sessions = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("session ") }
        #expect(sessions.count == 4, "\(result.standardOutput)")
        for line in sessions { #expect(line.contains("context open"), "\(line)") }
        #expect(!result.standardOutput.contains("OPEN not captured"))
    }
}
