import CPcap
import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// Each failure is one sentence with the right kind, never a crash.
@Suite("Capture errors")
struct ErrorTests {
    @Test("A missing file is noSuchFile")
    func missingFile() throws {
        let path = "/tmp/vscap-definitely-missing-\(getpid()).pcap"
        let error = #expect(throws: CaptureError.self) { try PacketSource.openFile(path) }
        #expect(error?.kind == .noSuchFile)
        #expect(error?.message == "cannot read \(path): no such file (check the path)")
    }

    @Test("A text file is notACapture")
    func textFile() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let path = directory + "/notes.txt"
        try Support.write(Array("this is not a capture, just some notes\n".utf8), to: path)
        let error = #expect(throws: CaptureError.self) { try PacketSource.openFile(path) }
        #expect(error?.kind == .notACapture)
        #expect(
            error?.message == "cannot read \(path): it is not a pcap or pcapng capture (libpcap: unknown file format)")
    }

    @Test("An empty file is notACapture and says it is empty")
    func emptyFile() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let path = directory + "/empty.pcap"
        try Support.write([], to: path)
        let error = #expect(throws: CaptureError.self) { try PacketSource.openFile(path) }
        #expect(error?.kind == .notACapture)
        #expect(error?.message.contains("is empty") == true)
    }

    @Test("A directory is an io error, not a crash")
    func directory() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let error = #expect(throws: CaptureError.self) { try PacketSource.openFile(directory) }
        #expect(error?.kind == .io)
        #expect(error?.message == "cannot read \(directory): it is a directory, not a capture file")
    }

    @Test("A pcap cut inside its file header is truncatedFile at open", arguments: [2, 10, 23])
    func truncatedFileHeader(length: Int) throws {
        try Support.withSampleFile(named: "cut.pcap") { path in
            try #require(truncate(path, off_t(length)) == 0)
            let error = #expect(throws: CaptureError.self) { try PacketSource.openFile(path) }
            #expect(error?.kind == .truncatedFile)
            let expected = "cannot read \(path): the capture file is cut short inside its header"
            #expect(error?.message.hasPrefix(expected) == true)
        }
    }

    /// Cut points: inside the 4th record's header, and inside the 4th record's data.
    @Test("A pcap cut inside a record delivers the records before the cut, then truncatedFile", arguments: [7, 16 + 5])
    func truncatedRecord(intoFourthRecord: Int) throws {
        let sample = SampleCapture()
        try Support.withSampleFile(sample, named: "cut.pcap") { path in
            try #require(truncate(path, off_t(sample.offset(afterRecords: 3) + intoFourthRecord)) == 0)

            let source = try PacketSource.openFile(path)
            var timestamps: [Timestamp] = []
            let error = #expect(throws: CaptureError.self) {
                try source.forEach { record in
                    timestamps.append(record.timestamp)
                    return .continue
                }
            }
            #expect(timestamps == sample.frames.prefix(3).map(\.timestamp))
            #expect(error?.kind == .truncatedFile)
            #expect(error?.message.hasPrefix("\(path) is truncated after 3 packets (truncated dump file;") == true)
        }
    }

    /// With a filter, libpcap hands over only the matching packets: the count says "matching the filter",
    /// not "truncated after 0 packets" for a file whose 3 packets before the cut were all read.
    @Test func truncatedFilteredFileCountsMatchingPackets() throws {
        let sample = SampleCapture()
        try Support.withSampleFile(sample, named: "cut-filtered.pcap") { path in
            try #require(truncate(path, off_t(sample.offset(afterRecords: 3) + 7)) == 0)
            let source = try PacketSource.openFile(path)
            try source.setFilter("tcp port 3306")
            var delivered = 0
            let error = #expect(throws: CaptureError.self) {
                try source.forEach { _ in
                    delivered += 1
                    return .continue
                }
            }
            #expect(delivered == 0)
            #expect(error?.kind == .truncatedFile)
            #expect(error?.message.hasPrefix("\(path) is truncated after 0 packets matching the filter (") == true,
                "\(error?.message ?? "")")
        }
    }

    @Test("A pcapng cut inside a block delivers the blocks before the cut, then truncatedFile")
    func truncatedPcapng() throws {
        let directory = try Support.makeScratchDirectory()
        defer { Support.removeScratch(directory) }
        let sample = SampleCapture()
        let bytes = PcapngBuilder.file(frames: sample.frames)
        let path = directory + "/cut.pcapng"
        try Support.write(Array(bytes.dropLast(10)), to: path)

        let source = try PacketSource.openFile(path)
        var count = 0
        let error = #expect(throws: CaptureError.self) {
            try source.forEach { _ in
                count += 1
                return .continue
            }
        }
        #expect(count == sample.frames.count - 1)
        #expect(error?.kind == .truncatedFile)
        #expect(error?.message.contains("is truncated after \(sample.frames.count - 1) packets") == true)
    }

    @Test("A bad BPF filter is badFilter naming the expression and libpcap's complaint", arguments: [
        ("tcp port", "syntax error"),
        ("ether host 1:2:3", "bogus ethernet address"),
        ("port 99999999", "illegal port number 99999999 > 65535"),
    ])
    func badFilter(expression: String, complaint: String) throws {
        try Support.withSampleFile { path in
            let source = try PacketSource.openFile(path)
            let error = #expect(throws: CaptureError.self) { try source.setFilter(expression) }
            #expect(error?.kind == .badFilter)
            #expect(error?.message.hasPrefix("bad capture filter \"\(expression)\": ") == true)
            #expect(error?.message.contains(complaint) == true, "\(error?.message ?? "")")
            // The source still works, unfiltered.
            #expect(try source.forEach { _ in .continue } == SampleCapture().frames.count)
        }
    }

    @Test("Writing into a missing directory is noSuchFile")
    func writerMissingDirectory() throws {
        let path = "/tmp/vscap-missing-dir-\(getpid())/out.pcap"
        let error = #expect(throws: CaptureError.self) {
            try PacketWriter(path: path, linkType: .ethernet, snapshotLength: 262_144, nanosecond: true)
        }
        #expect(error?.kind == .noSuchFile)
        #expect(error?.message == "cannot write \(path): its directory does not exist")
    }

    @Test("pcap_activate statuses map to kinds and one-sentence advice")
    func activationMapping() {
        let noDevice = CaptureError.activating("eth9", status: PCAP_ERROR_NO_SUCH_DEVICE, libpcapMessage: "x")
        #expect(noDevice.kind == .noSuchInterface)
        #expect(noDevice.message == "cannot capture on eth9: no such interface (list interfaces with `ip link`)")

        let denied = CaptureError.activating(
            "eth0", status: PCAP_ERROR_PERM_DENIED, libpcapMessage: "socket: Operation not permitted")
        #expect(denied.kind == .permissionDenied)
        #expect(denied.message.hasPrefix(
            "capturing on eth0 needs CAP_NET_RAW: run as root or `sudo setcap cap_net_raw+ep /"))

        let promiscuous = CaptureError.activating("eth0", status: PCAP_ERROR_PROMISC_PERM_DENIED, libpcapMessage: "")
        #expect(promiscuous.kind == .permissionDenied)

        let down = CaptureError.activating("eth0", status: PCAP_ERROR_IFACE_NOT_UP, libpcapMessage: "")
        #expect(down.kind == .interfaceDown)
        #expect(
            down.message == "cannot capture on eth0: the interface is down (bring it up with `ip link set eth0 up`)")

        let generic = CaptureError.activating("eth0", status: PCAP_ERROR, libpcapMessage: "something odd")
        #expect(generic.kind == .other)
        #expect(generic.message == "cannot capture on eth0: something odd")
        #expect("\(generic)" == generic.message)
    }

    @Test("A missing interface is noSuchInterface (needs root: without it libpcap reports the permission first)")
    func missingInterface() throws {
        try #require(TestEnvironment.isRoot, "run the Capture tests as root: live capture needs CAP_NET_RAW")
        let error = #expect(throws: CaptureError.self) {
            try PacketSource.openLive("vs-nonexistent0", options: LiveOptions())
        }
        #expect(error?.kind == .noSuchInterface)
        #expect(
            error?.message == "cannot capture on vs-nonexistent0: no such interface (list interfaces with `ip link`)")
    }
}
