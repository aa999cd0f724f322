import Capture
import Foundation
import PacketCore
import TestSupport
import Testing
import ToolSupport

/// Writes a small capture with PacketWriter: ARP and IPv4 frames with distinct nanosecond timestamps.
struct SampleCapture {
    struct Frame {
        var timestamp: Timestamp
        var bytes: [UInt8]
        var originalLength: Int
    }

    let frames: [Frame]

    init() {
        var frames: [Frame] = []
        for index in 0..<6 {
            let timestamp = Timestamp(seconds: 1_700_000_000 + Int64(index), nanoseconds: 123_456_789 + Int32(index))
            if index.isMultiple(of: 2) {
                frames.append(
                    Frame(timestamp: timestamp, bytes: Frames.gratuitousARP(host: UInt8(index), macSuffix: 7),
                          originalLength: 42))
            } else {
                // The third UDP frame claims a longer wire length: a snaplen-truncated frame.
                let bytes = Frames.ipv4UDP(length: 60 + index * 10, seed: UInt8(index))
                frames.append(
                    Frame(timestamp: timestamp, bytes: bytes, originalLength: bytes.count + (index == 5 ? 1000 : 0)))
            }
        }
        self.frames = frames
    }

    var arpCount: Int { frames.filter { $0.bytes[12] == 0x08 && $0.bytes[13] == 0x06 }.count }

    func write(to path: String, nanosecond: Bool = true) throws {
        let writer = try PacketWriter(path: path, linkType: .ethernet, snapshotLength: 65535, nanosecond: nanosecond)
        for frame in frames {
            frame.bytes.withUnsafeBytes {
                writer.write(timestamp: frame.timestamp, bytes: $0, originalLength: frame.originalLength)
            }
        }
        try writer.close()
    }

    /// Byte offset just past record `count` of a pcap written by `write(to:)`.
    func offset(afterRecords count: Int) -> Int {
        24 + frames.prefix(count).reduce(0) { $0 + 16 + $1.bytes.count }
    }
}

struct ReadRecord: Equatable {
    var timestamp: Timestamp
    var bytes: [UInt8]
    var capturedLength: Int
    var originalLength: Int
    var isTruncated: Bool
    var linkType: LinkType
}

func readAll(_ source: PacketSource) throws -> [ReadRecord] {
    var records: [ReadRecord] = []
    try source.forEach { record in
        records.append(
            ReadRecord(
                timestamp: record.timestamp, bytes: Array(record.bytes), capturedLength: record.capturedLength,
                originalLength: record.originalLength, isTruncated: record.isTruncated, linkType: record.linkType))
        return .continue
    }
    return records
}

@Suite("Reading and writing capture files")
struct FileTests {
    @Test("PacketWriter's nanosecond pcap reads back frame for frame, timestamps to the nanosecond")
    func nanosecondRoundTrip() throws {
        let sample = SampleCapture()
        try Support.withSampleFile(sample) { path in

            // The nanosecond pcap magic, as written on this little-endian machine.
            #expect(try Array(Support.bytes(ofFile: path).prefix(4)) == [0x4d, 0x3c, 0xb2, 0xa1])

            let source = try PacketSource.openFile(path)
            #expect(source.linkType == .ethernet)
            #expect(source.snapshotLength == 65535)
            #expect(source.hasNanosecondTimestamps)
            #expect(!source.isLive)
            #expect(source.statistics() == nil)
            let records = try readAll(source)
            try #require(records.count == sample.frames.count)
            for (record, frame) in zip(records, sample.frames) {
                #expect(record.timestamp == frame.timestamp)
                #expect(record.bytes == frame.bytes)
                #expect(record.capturedLength == frame.bytes.count)
                #expect(record.originalLength == frame.originalLength)
                #expect(record.isTruncated == (frame.originalLength > frame.bytes.count))
                #expect(record.linkType == .ethernet)
            }
            #expect(records.filter(\.isTruncated).count == 1)
        }
    }

    @Test("A microsecond pcap keeps microseconds and is still read with nanosecond precision")
    func microsecondPcap() throws {
        let sample = SampleCapture()
        try Support.withSampleFile(sample, named: "micro.pcap", nanosecond: false) { path in
            #expect(try Array(Support.bytes(ofFile: path).prefix(4)) == [0xd4, 0xc3, 0xb2, 0xa1])

            let records = try readAll(try PacketSource.openFile(path))
            #expect(records.map(\.timestamp) == sample.frames.map {
                Timestamp(seconds: $0.timestamp.seconds, nanoseconds: $0.timestamp.nanoseconds / 1000 * 1000)
            })
        }
    }

    @Test("A pcapng with nanosecond resolution (if_tsresol 9) reads with exact timestamps")
    func pcapngNanoseconds() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let sample = SampleCapture()
        let path = directory + "/sample.pcapng"
        try Support.write(PcapngBuilder.file(frames: sample.frames), to: path)

        let source = try PacketSource.openFile(path)
        #expect(source.linkType == .ethernet)
        let records = try readAll(source)
        #expect(records.map(\.timestamp) == sample.frames.map(\.timestamp))
        #expect(records.map(\.bytes) == sample.frames.map(\.bytes))
        #expect(records.map(\.originalLength) == sample.frames.map(\.originalLength))
        #expect(try Support.independentFrameCount(path) == sample.frames.count)
    }

    @Test(
        "Corpus captures yield as many frames as tshark counts, first timestamp included",
        .enabled(if: Support.hasIndependentDecoder || TestEnvironment.isCI),
        arguments: [
            "802.1ad_QinQ.pcap", "LINKTYPE_RAW_ipv4.pcap", "icmpv6-ns-nonce.pcap", "bgp-4byte-asn.pcap",
            "bgp-orf.pcapng", "bgp-extended-msg.pcapng", "icmpv6-length-zero.pcapng",
        ])
    func corpusCounts(file: String) throws {
        try #require(Support.hasIndependentDecoder, "neither tshark nor tcpdump is installed")
        let path = "\(Support.corpus)/\(file)"
        let records = try readAll(try PacketSource.openFile(path))
        #expect(records.count == (try Support.independentFrameCount(path)))
        #expect(records.count > 0)
        if ChildProcess.which("tshark") != nil {
            let output = try ChildProcess.run([
                "tshark", "-n", "-r", path, "-c", "1", "-T", "fields", "-e", "frame.time_epoch",
            ])
            let expected = output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(records.first.map { "\($0.timestamp)" } == expected)
        }
    }

    @Test("The QinQ corpus file is Ethernet and its frames carry the 802.1ad tag")
    func qinqLinkType() throws {
        let source = try PacketSource.openFile("\(Support.corpus)/802.1ad_QinQ.pcap")
        #expect(source.linkType == .ethernet)
        let records = try readAll(source)
        #expect(records.allSatisfy { $0.bytes.count >= 14 && $0.linkType == .ethernet })
        #expect(records.contains { $0.bytes[12] == 0x88 && $0.bytes[13] == 0xa8 })
    }

    @Test("A BPF filter keeps only matching frames")
    func filter() throws {
        let sample = SampleCapture()
        try Support.withSampleFile(sample) { path in

            let source = try PacketSource.openFile(path)
            try source.setFilter("arp")
            let records = try readAll(source)
            #expect(records.count == sample.arpCount)
            #expect(records.allSatisfy { $0.bytes[12] == 0x08 && $0.bytes[13] == 0x06 })
        }
    }

    @Test("Returning .stop ends the iteration; the next forEach resumes after the last frame delivered")
    func stopAndResume() throws {
        let sample = SampleCapture()
        try Support.withSampleFile(sample) { path in

            let source = try PacketSource.openFile(path)
            var first: [Timestamp] = []
            let delivered = try source.forEach { record in
                first.append(record.timestamp)
                return first.count == 2 ? .stop : .continue
            }
            #expect(delivered == 2)
            let rest = try readAll(source)
            #expect(first + rest.map(\.timestamp) == sample.frames.map(\.timestamp))
        }
    }

    @Test("shouldStop and a past deadline end the iteration before any frame")
    func shouldStopAndDeadline() throws {
        try Support.withSampleFile { path in

            let source = try PacketSource.openFile(path)
            #expect(try source.forEach(shouldStop: { true }) { _ in .continue } == 0)
            #expect(try source.forEach(until: .now - .seconds(1)) { _ in .continue } == 0)
            #expect(try source.forEach { _ in .continue } == SampleCapture().frames.count)
        }
    }

    @Test("An error thrown by the body ends the iteration and comes out unchanged")
    func bodyErrorPropagates() throws {
        struct Marker: Error, Equatable {}
        try Support.withSampleFile { path in

            let source = try PacketSource.openFile(path)
            var seen = 0
            #expect(throws: Marker()) {
                try source.forEach { _ in
                    seen += 1
                    if seen == 3 { throw Marker() }
                    return .continue
                }
            }
            #expect(seen == 3)
        }
    }

    @Test("Frames longer than the writer's snapshot length are cut and flagged as truncated")
    func writerSnapshotLength() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let path = directory + "/short.pcap"
        let frame = Frames.ipv4UDP(length: 200, seed: 3)
        let writer = try PacketWriter(path: path, linkType: .ethernet, snapshotLength: 64)
        frame.withUnsafeBytes { writer.write(timestamp: .zero, bytes: $0) }
        try writer.close()

        let records = try readAll(try PacketSource.openFile(path))
        try #require(records.count == 1)
        #expect(records[0].bytes == Array(frame.prefix(64)))
        #expect(records[0].originalLength == 200)
        #expect(records[0].isTruncated)
    }

    @Test("Copying a capture record by record through write(_:) reproduces it")
    func copyThroughWriter() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let source = try PacketSource.openFile("\(Support.corpus)/802.1ad_QinQ.pcap")
        let copyPath = directory + "/copy.pcap"
        let writer = try PacketWriter(
            path: copyPath, linkType: source.linkType, snapshotLength: source.snapshotLength, nanosecond: true)
        try source.forEach { record in
            writer.write(record)
            return .continue
        }
        try writer.close()
        let original = try readAll(try PacketSource.openFile("\(Support.corpus)/802.1ad_QinQ.pcap"))
        #expect(try readAll(try PacketSource.openFile(copyPath)) == original)
    }
}

/// A minimal little-endian pcapng: section header, one Ethernet interface with nanosecond resolution,
/// one enhanced packet block per frame.
enum PcapngBuilder {
    static func file(frames: [SampleCapture.Frame]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes += block(type: 0x0A0D_0D0A, body: le32(0x1A2B_3C4D) + le16(1) + le16(0) + le64(UInt64.max))
        // if_tsresol (option 9) = 9: timestamps count nanoseconds.
        let options = le16(9) + le16(1) + [9, 0, 0, 0] + le16(0) + le16(0)
        bytes += block(type: 1, body: le16(1) + le16(0) + le32(0) + options)
        for frame in frames {
            let nanoseconds = UInt64(frame.timestamp.totalNanoseconds)
            var body = le32(0) + le32(UInt32(nanoseconds >> 32)) + le32(UInt32(nanoseconds & 0xffff_ffff))
            body += le32(UInt32(frame.bytes.count)) + le32(UInt32(frame.originalLength)) + frame.bytes
            body += [UInt8](repeating: 0, count: (4 - frame.bytes.count % 4) % 4)
            bytes += block(type: 6, body: body)
        }
        return bytes
    }

    static func block(type: UInt32, body: [UInt8]) -> [UInt8] {
        let length = UInt32(12 + body.count)
        return le32(type) + le32(length) + body + le32(length)
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
}

@Suite("Stopping on a signal", .serialized)
struct StopSignalTests {
    @Test("StopSignal.install unblocks the signals it handles in the calling thread")
    func installUnblocks() {
        // As a parent that starts a tool with the signal blocked would leave it.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR2)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        #expect(sigismember(&mask, SIGUSR2) == 1)

        StopSignal.install([SIGUSR2])
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        #expect(sigismember(&mask, SIGUSR2) == 0)
        signal(SIGUSR2, SIG_DFL)
    }

    @Test("After StopSignal.install, the signal sets the flag that ends forEach")
    func signalStopsIteration() throws {
        try Support.withSampleFile { path in

            // SIGUSR1 rather than SIGINT, so the test runner's own Ctrl-C handling is left alone.
            StopSignal.install([SIGUSR1])
            #expect(!StopSignal.isRaised)
            let source = try PacketSource.openFile(path)
            #expect(try source.forEach(shouldStop: { StopSignal.isRaised }) { _ in .stop } == 1)
            // To the process, not this thread: the test runner's threads may block signals, so another thread
            // may take it.
            kill(getpid(), SIGUSR1)
            let giveUp = ContinuousClock.now + .seconds(2)
            while !StopSignal.isRaised && ContinuousClock.now < giveUp { usleep(1000) }
            #expect(StopSignal.isRaised)
            #expect(try source.forEach(shouldStop: { StopSignal.isRaised }) { _ in .continue } == 0)
        }
    }
}
