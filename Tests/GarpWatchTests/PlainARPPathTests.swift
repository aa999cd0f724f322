import Capture
import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// `Analyzer.processPlainARP` (garpwatch's fast path for whole, untagged Ethernet ARP frames) against the
/// general decode: every capture gives the same events, bindings and counters either way.
@Suite("Plain ARP fast path = general decode")
struct PlainARPPathTests {
    static let files: [String] = {
        let roots = [Support.captures, Support.repository.appendingPathComponent("Tests/Corpus/tcpdump")]
        var paths: [String] = []
        for root in roots {
            let names = (try? FileManager.default.subpathsOfDirectory(atPath: root.path)) ?? []
            paths += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
                .map { root.appendingPathComponent($0).path }
        }
        return paths.sorted()
    }()

    @Test("The bundled and corpus captures exist (so the comparison below cannot pass on nothing)")
    func capturesFound() {
        #expect(Self.files.count >= 40)
        #expect(Self.files.contains { $0.hasSuffix("garpwatch/split-brain.pcap") })
    }

    @Test("Same events, bindings and counters on every capture", arguments: files)
    func samePaths(_ path: String) throws {
        let (general, generalEvents) = try Support.analyze(path)
        var fast = Analyzer()
        var fastEvents: [Event] = []
        var plain = 0
        var packet = Packet()
        let source = try PacketSource.openFile(path)
        try source.forEach { record in
            if fast.processPlainARP(
                record.bytes, linkType: record.linkType, originalLength: record.originalLength, at: record.timestamp)
            {
                plain += 1
            } else {
                packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
                fast.process(lent: &packet, bytes: record.bytes, at: record.timestamp)
            }
            fastEvents += fast.takeEvents()
            return .continue
        }
        fast.finish()
        fastEvents += fast.takeEvents()
        #expect(fastEvents == generalEvents)
        #expect(fast.bindings == general.bindings)
        #expect(fast.counters == general.counters)
        if path.hasSuffix("garp-arping.pcap") { #expect(plain > 0, "arping's frames are plain ARP") }
    }
}
