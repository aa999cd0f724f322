import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// `-w FILE` (CaptureRecorder): what a live tool saw is kept, in pcap or pcapng, and read back identically by
/// libpcap and by tshark (an independent reader).
@Suite("Writing captures (-w)", .serialized)
struct RecorderTests {
    /// Frames with nanosecond times, some cut by a snapshot length, of two link types.
    static func sampleRecords() -> [(Timestamp, [UInt8], Int, LinkType)] {
        (0..<20).map { index in
            let frame = Frames.gratuitousARP(host: UInt8(index + 1), macSuffix: UInt8(index))
            let time = Timestamp(seconds: 1_700_000_000 + Int64(index), nanoseconds: Int32(index * 1_234_567 + 89))
            return (time, frame, frame.count + (index % 3 == 0 ? 18 : 0), .ethernet)
        }
    }

    static func writeSample(to path: String, interfaces: [(name: String, linkType: LinkType)]) throws {
        let recorder = try CaptureRecorder(path: path, interfaces: interfaces)
        for (index, (time, frame, original, linkType)) in sampleRecords().enumerated() {
            _ = linkType
            frame.withUnsafeBytes { bytes in
                recorder.write(timestamp: time, bytes: bytes, originalLength: original, interface: index % interfaces.count)
            }
        }
        try recorder.close()
    }

    @Test(arguments: ["sample.pcap", "sample.pcapng"])
    func writtenFramesReadBackWithTheirTimesAndLengths(_ name: String) throws {
        let scratch = try Support.makeScratchDirectory()
        defer { Support.removeScratch(scratch) }
        let path = scratch + "/" + name
        let interfaces: [(name: String, linkType: LinkType)] =
            name.hasSuffix(".pcapng") ? [("veth-a", .ethernet), ("veth-b", .ethernet)] : [("veth-a", .ethernet)]
        try Self.writeSample(to: path, interfaces: interfaces)
        var read: [(Timestamp, [UInt8], Int)] = []
        try PacketSource.openFile(path).forEach { record in
            read.append((record.timestamp, Array(record.bytes), record.originalLength))
            return .continue
        }
        let expected = Self.sampleRecords()
        try #require(read.count == expected.count)
        for (got, want) in zip(read, expected) {
            #expect(got.0 == want.0)
            #expect(got.1 == want.1)
            #expect(got.2 == want.2)
        }
        // tshark, an independent reader: the same frames, nanosecond times, and the pcapng interface names.
        try #require(ChildProcess.which("tshark") != nil || !TestEnvironment.isCI, "install tshark")
        guard ChildProcess.which("tshark") != nil else { return }
        let fields = try ChildProcess.run([
            "tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e",
            "frame.interface_name",
        ])
        #expect(fields.status == 0, "\(fields.standardError)")
        let rows = fields.lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        try #require(rows.count == expected.count, "tshark read \(rows.count) frames")
        for (index, (row, want)) in zip(rows, expected).enumerated() {
            #expect(row[0] == "\(want.0.seconds).\(want.0.description.split(separator: ".")[1])")
            #expect(Int(row[1]) == want.2)
            if name.hasSuffix(".pcapng") { #expect(row[2] == interfaces[index % 2].name) }
        }
    }

    @Test func aPcapFileRefusesTwoLinkTypes() throws {
        let scratch = try Support.makeScratchDirectory()
        defer { Support.removeScratch(scratch) }
        #expect(throws: CaptureError.self) {
            _ = try CaptureRecorder(path: scratch + "/two.pcap", interfaces: [("a", .ethernet), ("b", .linuxSLL2)])
        }
        #expect(throws: CaptureError.self) {
            _ = try CaptureRecorder(path: scratch + "/missing/dir/x.pcapng", interfaces: [("a", .ethernet)])
        }
        _ = try CaptureRecorder(path: scratch + "/two.pcapng", interfaces: [("a", .ethernet), ("b", .linuxSLL2)])
    }

    @Test("vipdump -i IFACE -w FILE keeps exactly the frames it printed (arping in a namespace)")
    func vipdumpWritesWhatItSaw() throws {
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: live capture needs CAP_NET_RAW and netns")
        try #require(ChildProcess.which("arping") != nil, "install iputils-arping")
        let vipdump = try #require(TestEnvironment.builtTool("vipdump"), "vipdump is not built (swift build)")
        let lab = try VethLab(tag: "w")
        defer { lab.tearDown() }
        let scratch = try Support.makeScratchDirectory()
        defer { Support.removeScratch(scratch) }
        for name in ["live.pcapng", "live.pcap"] {
            let path = scratch + "/" + name
            let dump = try RunningProcess(vipdump, ["-i", lab.rootSide, "-c", "3", "--duration", "20", "-w", path, "arp"])
            Thread.sleep(forTimeInterval: 0.5)
            try ChildProcess.mustRun([
                "ip", "netns", "exec", lab.namespace, "arping", "-q", "-c", "3", "-U", "-I", lab.namespaceSide,
                VethLab.namespaceAddress,
            ])
            let output = dump.wait()
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.lines.count == 3, "\(output.standardOutput)")
            let replay = try ChildProcess.run([vipdump, "-r", path])
            #expect(replay.status == 0)
            // The same frames, times and decodes: only the frame's line of the file is the same as the live one.
            #expect(replay.lines == output.lines, "\(name): \(replay.standardOutput) vs \(output.standardOutput)")
            if name.hasSuffix(".pcapng"), ChildProcess.which("tshark") != nil {
                let names = try ChildProcess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.interface_name"])
                #expect(Set(names.lines) == [lab.rootSide])
            }
        }
    }
}
