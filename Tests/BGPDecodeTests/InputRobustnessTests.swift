import BGPDecodeKit
import Foundation
import PacketCore
import Synchronization
import TestSupport
import Testing
import ToolSupport

/// Issue 18 regressions for bgpdecode, each from an input made here: numeric options that trapped,
/// MRT inputs that were read for ever after a framing error, an expect file that grew without bound,
/// peer text that forged output lines, and exit statuses that said 0 for inputs not read completely.
@Suite("bgpdecode input robustness (issue 18)", .serialized)
struct InputRobustnessTests {
    static let listenBase = ["listen", "--local-as", "64512", "--router-id", "203.0.113.254", "--peer", "203.0.113.1",
        "--peer-as", "64513"]

    static var scratch: URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vs-bgp-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    // MARK: Numeric options

    @Test(arguments: [
        // -i, --duration and -c are the shared capture options (CaptureOptions) since issue 19: their range.
        (["-i", "lo", "--duration", "1e300"], "--duration must be from 0.001 to 315360000 seconds"),
        (["-i", "lo", "--duration", "9999999999"], "to 315360000 seconds"),
        (["-i", "lo", "--duration", "-5"], "--duration must be positive"),
        (["-i", "lo", "--duration", "nan"], "--duration must be a number of seconds"),
        (["-i", "lo", "--count", "1e300"], "--count must be a whole number between 1 and 9223372036854775807"),
        (["-i", "lo", "--count", "-1"], "--count must be positive"),
        (["-i", "lo", "-c", "99999999999999999999"], "--count must be a whole number between 1 and"),
        (["--mrt", "x.mrt", "-c", "5"], "-c and -w apply to captures (-r, -i), not to MRT files"),
        (["-r", "a.pcap", "-r", "b.pcap", "-w", "out.pcap"], "keeps the frames of one file"),
        (["--mrt", "x.mrt", "udp"], "A filter applies to captures (-r, -i), not to MRT files"),
        (listenBase + ["--max-prefixes", "-1"], "--max-prefixes must be positive"),
        (listenBase + ["--max-prefixes", "1e300"], "between 0 (no limit) and 100000000"),
        (["-r", "x.pcap", "--port", "70000"], "--port must be a whole number between 1 and 65535"),
        (["-r", "x.pcap", "--port", "-179"], "--port must be positive"),
        (["-r", "x.pcap", "--asn-size", "1e300"], "--asn-size must be 2 or 4"),
        (listenBase + ["--expect-prefix", "198.51.100.10/32", "--wait", "1e300"], "--wait must be more than 0"),
        (listenBase + ["--expect-prefix", "198.51.100.10/32", "--wait", "-1"], "--wait must be positive"),
        (listenBase + ["--hold-time", "99999"], "--hold-time must be a whole number of seconds, 0 or 3 to 65535"),
        (listenBase + ["--hold-time", "-90"], "--hold-time must be positive"),
        (listenBase + ["--bind", "127.0.0.2:99999"], "PORT between 1 and 65535"),
        (listenBase + ["--bind", "127.0.0.2:-1"], "PORT between 1 and 65535"),
        (["listen", "--local-as", "1e300", "--router-id", "203.0.113.254", "--accept-any"],
            "--local-as must be a whole number between 1 and 4294967295"),
        (["listen", "--local-as", "64512", "--router-id", "203.0.113.254", "--peer", "203.0.113.1", "--peer-as",
            "-64513"], "--peer-as must be positive"),
    ] as [([String], String)])
    func absurdNumbersAreUsageErrorsNamingTheRange(arguments: [String], message: String) throws {
        let result = try Tool.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.standardError)")
        #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        #expect(!result.standardError.contains("Missing value"))
    }

    @Test func rangeChecksAcceptTheBounds() throws {
        #expect(try NumericOption.integer("65535", option: "--port", range: UInt16(1)...65535).get() == 65535)
        #expect(try NumericOption.integer("4294967295", option: "--peer-as", range: UInt32(1)...UInt32.max).get()
            == UInt32.max)
        #expect(try NumericOption.seconds("2592000", option: "--wait").get() == 2_592_000)
        #expect(try NumericOption.seconds("0.5", option: "--wait").get() == 0.5)
        #expect(NumericOption.duration(2_592_000) == .seconds(2_592_000))
        if case .success = NumericOption.seconds("0", option: "--wait") { Issue.record("0 s accepted") }
        if case .success = NumericOption.integer("0", option: "--port", range: UInt16(1)...65535) {
            Issue.record("port 0 accepted")
        }
    }

    // MARK: MRT framing

    @Test func endlessGarbageOnStandardInputStopsAtByteZero() throws {
        let tool = try Tool.bgpdecode()
        // `yes` writes for ever: before, bgpdecode kept reading it after the framing error at byte 0.
        let result = try ChildProcess.run(["timeout", "20", "sh", "-c", "yes | '\(tool)' --mrt -"])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("MRT framing failed at byte 0"), "\(result.standardError)")
        #expect(result.standardOutput.contains("PARTIAL:"))
    }

    @Test func urandomStopsAtTheFirstFramingError() throws {
        let result = try ChildProcess.run(["timeout", "20", try Tool.bgpdecode(), "--mrt", "/dev/urandom", "--json"])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("MRT framing failed at byte"), "\(result.standardError)")
        let summary = try #require(try JSONLines.events(result.standardOutput, tool: "bgpdecode").last)
        #expect(summary["event"] as? String == "summary")
        #expect(summary["exit_status"] as? Int == 1)
        #expect(summary["complete"] as? Bool == false)
    }

    /// /dev/zero frames as an endless run of empty records of type 0 (review of issue 18: it was read for ever).
    @Test func anEndlessRunOfRecordsOfNoTypeWeReadStops() throws {
        let result = try ChildProcess.run(["timeout", "20", try Tool.bgpdecode(), "--mrt", "/dev/zero"])
        #expect(result.status == 1, "\(result.status): \(result.standardError)")
        #expect(result.standardError.contains("none of the first 1024 records"), "\(result.standardError)")
        // A file of 1,100 KEEPALIVE records is read to its end: only records we cannot read give up.
        let path = Self.scratch.appendingPathComponent("keepalives.mrt")
        let one = Array(Self.mrtWithUnsupportedTypes().prefix(12 + 20 + 19))
        try Data((0..<1100).flatMap { _ in one }).write(to: path)
        let keepalives = try Tool.run(["--mrt", path.path, "--keepalives"])
        #expect(keepalives.status == 0, "\(keepalives.standardError)")
    }

    /// One BGP4MP_MESSAGE_AS4 record holding a KEEPALIVE, a TABLE_DUMP (v1) record and an OSPFv2 record.
    static func mrtWithUnsupportedTypes() -> [UInt8] {
        typealias S = SyntheticCapture
        let keepalive = BGPMessageBuilder.keepalive()
        let bgp4mp = S.be32(64513) + S.be32(64512) + S.be16(0) + S.be16(1) + S.ip4("203.0.113.1")
            + S.ip4("203.0.113.2") + keepalive
        var file = S.be32(1_700_000_000) + S.be16(16) + S.be16(4) + S.be32(UInt32(bgp4mp.count)) + bgp4mp
        let tableDump = [UInt8](repeating: 0, count: 22)
        file += S.be32(1_700_000_001) + S.be16(12) + S.be16(1) + S.be32(UInt32(tableDump.count)) + tableDump
        file += S.be32(1_700_000_002) + S.be16(11) + S.be16(0) + S.be32(4) + [1, 2, 3, 4]
        return file
    }

    @Test func unsupportedMRTTypesAreCountedInTheSummary() throws {
        let path = Self.scratch.appendingPathComponent("unsupported.mrt")
        try Data(Self.mrtWithUnsupportedTypes()).write(to: path)
        let result = try Tool.run(["--mrt", path.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains(
            "note: MRT: 3 records, 2 skipped (1 OSPFv2 not supported, 1 TABLE_DUMP not supported)"),
            "\(result.standardOutput)")
        let json = try Tool.run(["--mrt", path.path, "--json"])
        let summary = try #require(try JSONLines.events(json.standardOutput, tool: "bgpdecode").last)
        #expect(summary["exit_status"] as? Int == 0)
        #expect((summary["notes"] as? [String])?.first?.contains("1 TABLE_DUMP not supported") == true)
    }

    @Test func mrtCutInsideARecordExitsOne() throws {
        let bytes = Self.mrtWithUnsupportedTypes()
        let path = Self.scratch.appendingPathComponent("cut.mrt")
        try Data(bytes.dropLast(2)).write(to: path)
        let result = try Tool.run(["--mrt", path.path])
        #expect(result.status == 1)
        #expect(result.standardError.contains("the file ends inside a record (14 bytes after 2 records)"),
            "\(result.standardError)")
    }

    // MARK: Stalled inputs and signals

    /// A FIFO nobody writes to (--mrt) and a FIFO holding a pcap header and then nothing (-r): SIGTERM and
    /// SIGINT stop the read (exit 2, the summary printed), instead of waiting for ever.
    @Test(arguments: [(["--mrt"], SIGTERM, false), (["-r"], SIGINT, true), (["--mrt"], SIGINT, true)])
    func aStalledFIFOStopsOnASignal(option: [String], signal: Int32, holdAWriter: Bool) throws {
        let fifo = Self.scratch.appendingPathComponent("stalled-\(option[0].count)-\(signal).fifo").path
        unlink(fifo)
        try #require(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        var writer: Int32 = -1
        if holdAWriter {
            writer = open(fifo, O_RDWR)  // read-write: never blocks, and keeps the FIFO open with no data
            try #require(writer >= 0)
            // A pcap global header (microsecond, link type 101), then nothing more.
            let header: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0] + [UInt8](repeating: 0, count: 8)
                + [0, 0, 4, 0, 101, 0, 0, 0]
            if option == ["-r"] { _ = header.withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) } }
        }
        defer { if writer >= 0 { close(writer) } }
        let process = try RunningProcess(try Tool.bgpdecode(), option + [fifo])
        usleep(700_000)
        #expect(process.process.isRunning, "bgpdecode ended before the signal")
        kill(process.process.processIdentifier, signal)
        let started = ContinuousClock.now
        while process.process.isRunning, ContinuousClock.now - started < .seconds(5) { usleep(20_000) }
        if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) }
        let result = process.wait()
        #expect(result.status == 2, "\(option) signal \(signal): \(result.standardError)")
        #expect(result.standardOutput.contains("PARTIAL: interrupted before the end of the input"))
    }

    // MARK: Expect file

    @Test func anEndlessExpectFileIsRefused() throws {
        let result = try ChildProcess.run(["timeout", "20", try Tool.bgpdecode(),
            "-r", Paths.captures.appendingPathComponent("bgp-bird-frr.pcap").path, "--expect-file", "/dev/zero"])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("the expect file /dev/zero is larger than 32 MiB"), "\(result.standardError)")
    }

    @Test func aLongLineInTheExpectFileIsRefused() throws {
        let path = Self.scratch.appendingPathComponent("long-line.txt")
        try ("198.51.100.10/32\n" + String(repeating: "x", count: 5000) + "\n").write(to: path, atomically: true, encoding: .utf8)
        switch ExpectationFile.load(path: path.path) {
        case .success: Issue.record("a 5000-byte line was accepted")
        case .failure(let error): #expect(error.message.contains("line 2 is longer than 1024 bytes"), "\(error.message)")
        }
        let good = Self.scratch.appendingPathComponent("good.txt")
        try "198.51.100.10/32 203.0.113.2 # vip\n\n".write(to: good, atomically: true, encoding: .utf8)
        let loaded = try ExpectationFile.load(path: good.path).get()
        #expect(loaded.map(\.description) == ["198.51.100.10/32 via 203.0.113.2"])
    }

    // MARK: Exit statuses of cut captures

    @Test func aCaptureCutInsideAPacketIsPartialAndExitsOne() throws {
        let original = try Data(contentsOf: Paths.captures.appendingPathComponent("bgp-bird-frr.pcap"))
        let path = Self.scratch.appendingPathComponent("cut-packet.pcap")
        try original.prefix(original.count - 50).write(to: path)
        let text = try Tool.run(["-r", path.path])
        #expect(text.status == 1)
        #expect(text.standardOutput.contains("session "), "what was decoded before the cut is printed")
        #expect(text.standardOutput.contains("PARTIAL: "), "\(text.standardOutput)")
        let json = try Tool.run(["-r", path.path, "--json"])
        #expect(json.status == 1)
        let summary = try #require(try JSONLines.events(json.standardOutput, tool: "bgpdecode").last)
        #expect(summary["event"] as? String == "summary" && summary["exit_status"] as? Int == 1)
        let verify = try Tool.run(["-r", path.path, "--expect-prefix", "198.51.100.10/32", "--json"])
        #expect(verify.status == 1)
        let verdict = try #require(try JSONLines.events(verify.standardOutput, tool: "bgpdecode").last)
        #expect(verdict["event"] as? String == "verdict" && verdict["exit_status"] as? Int == 1)
        #expect(verdict["complete"] as? Bool == false)
    }

    @Test(arguments: [10, 30])
    func aCaptureCutInsideAHeaderExitsOne(length: Int) throws {
        let original = try Data(contentsOf: Paths.captures.appendingPathComponent("bgp-bird-frr.pcap"))
        let path = Self.scratch.appendingPathComponent("cut-\(length).pcap")
        try original.prefix(length).write(to: path)
        let result = try Tool.run(["-r", path.path])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("truncated") || result.standardError.contains("cut short"))
        if length < 24 {
            #expect(result.standardOutput.isEmpty, "no summary for an input never opened")
        }
    }

    @Test func aCompleteCaptureStillExitsZeroWithAStatusInItsSummary() throws {
        let path = Paths.captures.appendingPathComponent("bgp-bird-frr.pcap").path
        let json = try Tool.run(["-r", path, "--json"])
        #expect(json.status == 0)
        let summary = try #require(try JSONLines.events(json.standardOutput, tool: "bgpdecode").last)
        #expect(summary["event"] as? String == "summary" && summary["exit_status"] as? Int == 0)
        #expect(summary["complete"] as? Bool == true)
        let text = try Tool.run(["-r", path])
        #expect(text.status == 0 && !text.standardOutput.contains("PARTIAL"))
    }
}
