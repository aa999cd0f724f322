import Capture
import Foundation
import PacketCore
import TestSupport
import Testing
import ToolSupport

/// Hostile values every tool must survive (issue 18): absurd packet timestamps in a pcapng file, and absurd
/// numbers on the command line. A trap shows as a status of 4 (SIGILL) or 5 (SIGTRAP) from a signal; the tools'
/// own statuses are 0, 1, 2, 10-13 and 64.
@Suite("Hostile values, every tool")
struct HostileInputTests {
    static let toolStatuses: Set<Int32> = [0, 1, 10, 11, 12, 13]

    /// A pcapng file holding `source`'s frames on one interface whose `if_tsresol` is 1 second (option value
    /// 0: 10^0), with the raw 64-bit timestamps `times` (repeated cyclically), written byte by byte here so that
    /// no library normalises them on the way.
    static func pcapngWithOneSecondResolution(from source: String, times: [UInt64]) throws -> URL {
        let reader = try PacketSource.openFile(source)
        var frames: [[UInt8]] = []
        try reader.forEach { record in
            frames.append(Array(record.bytes))
            return .continue
        }
        var file: [UInt8] = []
        func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
        func block(_ type: UInt32, _ body: [UInt8]) {
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            u32(type)
            u32(UInt32(12 + padded.count))
            file.append(contentsOf: padded)
            u32(UInt32(12 + padded.count))
        }
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        // Section header: byte-order magic, version 1.0, section length unknown.
        block(0x0A0D_0D0A, le(UInt32(0x1A2B_3C4D)) + le(UInt16(1)) + le(UInt16(0)) + le(Int64(-1)))
        // Interface description: the source's link type, no snap length, if_tsresol (9) = 0, end of options.
        block(1, le(UInt16(truncatingIfNeeded: reader.linkType.rawValue)) + le(UInt16(0)) + le(UInt32(0))
            + le(UInt16(9)) + le(UInt16(1)) + [0, 0, 0, 0] + le(UInt16(0)) + le(UInt16(0)))
        for (index, frame) in frames.enumerated() {
            let time = times[index % times.count]
            block(6, le(UInt32(0)) + le(UInt32(time >> 32)) + le(UInt32(time & 0xFFFF_FFFF))
                + le(UInt32(frame.count)) + le(UInt32(frame.count)) + frame)
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("vipscope-hostile-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).pcapng")
        try Data(file).write(to: url)
        return url
    }

    /// Timestamp patterns that trapped: 2^63 and up, the top of the range, and wild jumps back and forth.
    static let timePatterns: [(String, [UInt64])] = [
        ("from 2^63", (0..<64).map { (1 << 63) + UInt64($0) }),
        ("top of the range", (0..<64).map { UInt64.max - 63 + UInt64($0) }),
        ("jumps", [1_700_000_000, 1 << 63, 5, UInt64.max, 1_700_000_001, (1 << 63) - 1, 0, 1 << 62]),
    ]

    static let toolRuns: [(tool: String, capture: String, arguments: [String])] = [
        ("vipdump", "garp-arping.pcap", []),
        ("garpwatch", "failover-l2.pcap", []),
        ("garpwatch", "failover-l2.pcap", ["--json", "--expect", "198.51.100.20=02:76:73:03:00:03"]),
        ("bgpdecode", "bgp-bird-frr.pcap", []),
        ("bgpdecode", "bgp-bird-frr.pcap", ["--json"]),
        ("bgpdecode", "bgp-segmented.pcap", ["--table"]),
        ("svcprobe", "mariadb-greeting.pcap", []),
        ("svcprobe", "mariadb-error-1130.pcap", ["--json"]),
    ]

    @Test(arguments: 0..<toolRuns.count)
    func absurdPacketTimestampsNeverTrapATool(_ run: Int) throws {
        let (tool, capture, arguments) = Self.toolRuns[run]
        let binary = try #require(TestEnvironment.builtTool(tool), "\(tool) is not built (swift build)")
        for (name, times) in Self.timePatterns {
            let file = try Self.pcapngWithOneSecondResolution(
                from: TestEnvironment.captures.appendingPathComponent(capture).path, times: times)
            defer { try? FileManager.default.removeItem(at: file) }
            let output = try ChildProcess.run([binary, "-r", file.path] + arguments)
            #expect(Self.toolStatuses.contains(output.status),
                    "\(tool) \(arguments) on \(capture) with times \(name): status \(output.status)\n\(output.standardError)")
            #expect(!output.standardError.contains("runtime failure") && !output.standardError.contains("crashed"),
                    "\(tool) on times \(name): \(output.standardError)")
            #expect(!output.standardOutput.isEmpty, "\(tool) printed nothing for \(capture) with times \(name)")
            // Every RFC 3339 time printed has a four-digit year (saturated, never a negative or 12-digit year),
            // and a time past 2^63 seconds (libpcap hands it over wrapped, negative) is the latest time, the same
            // in every tool, never a date in 1969.
            #expect(!output.standardOutput.contains("-292277"), "\(tool): \(output.standardOutput.prefix(300))")
            if name != "jumps" {
                #expect(!output.standardOutput.contains("1969-12-31") && !output.standardOutput.contains("0000-01-01"),
                        "\(tool) on times \(name): \(output.standardOutput.prefix(300))")
                if arguments.isEmpty && tool != "svcprobe" {
                    #expect(output.standardOutput.contains("9999-12-31T23:59:59"), "\(tool) on times \(name)")
                }
            }
        }
    }

    /// (tool, arguments, words the one-line error must contain)
    static let usageCases: [(String, [String], [String])] = [
        ("vipdump", ["-i", "lo", "--duration", "1e300"], ["--duration", "315360000"]),
        ("vipdump", ["-i", "lo", "--duration", "-5"], ["--duration", "must be positive"]),
        ("vipdump", ["-r", "x.pcap", "--count", "-5"], ["--count", "must be positive"]),
        ("vipdump", ["-i", "lo", "--duration", "nan"], ["--duration"]),
        ("vipdump", [], ["-r FILE"]),
        ("garpwatch", ["-i", "lo", "--duration", "1e300"], ["--duration", "315360000"]),
        ("garpwatch", ["-i", "lo", "--duration", "-1"], ["--duration", "must be positive"]),
        ("garpwatch", ["-r", "x.pcap", "--count", "0"], ["--count", "must be positive"]),
        ("garpwatch", [], []),
        ("bgpdecode", ["-r", "x.pcap", "--bogus-option"], ["--bogus-option"]),
        ("bgpdecode", [], ["-r FILE"]),
        ("svcprobe", ["127.0.0.1:3306", "--bogus-option"], ["--bogus-option"]),
    ]

    @Test(arguments: 0..<usageCases.count)
    func aUsageErrorIsOneLinePlusTheHelpHint(_ index: Int) throws {
        let (tool, arguments, words) = Self.usageCases[index]
        let binary = try #require(TestEnvironment.builtTool(tool), "\(tool) is not built (swift build)")
        let output = try ChildProcess.run([binary] + arguments)
        #expect(output.status == ExitStatus.usage, "\(tool) \(arguments): \(output.status) \(output.standardError)")
        let lines = output.standardError.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }
        #expect(lines.count == 2, "\(tool) \(arguments) printed:\n\(output.standardError)")
        #expect(lines.first?.hasPrefix("\(tool): ") == true, "\(output.standardError)")
        #expect(lines.last == "See '\(tool) --help' for the options and examples.")
        for word in words { #expect(output.standardError.contains(word), "\(tool) \(arguments) lacks \(word)") }
        #expect(output.standardOutput.isEmpty)
    }

    /// A FIFO nobody writes to, or a writer that stalls: SIGINT and SIGTERM still end vipdump (exit 2).
    @Test(arguments: [(SIGINT, false), (SIGTERM, true)])
    func vipdumpOnAStalledFIFOStopsOnASignal(_ signal: Int32, _ withWriter: Bool) throws {
        let binary = try #require(TestEnvironment.builtTool("vipdump"), "vipdump is not built (swift build)")
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("vipscope-fifo-\(getpid())-\(signal)")
        try? FileManager.default.removeItem(at: fifo)
        try #require(mkfifo(fifo.path, 0o600) == 0)
        defer { try? FileManager.default.removeItem(at: fifo) }
        let dump = try RunningProcess(binary, ["-r", fifo.path])
        // With a writer: a whole capture, then the FIFO held open without another byte (a stalled tcpdump -w -).
        var feeder: RunningProcess?
        if withWriter {
            let capture = TestEnvironment.captures.appendingPathComponent("garp-arping.pcap").path
            feeder = try RunningProcess("/bin/sh", ["-c", "{ cat '\(capture)'; exec sleep 30; } > '\(fifo.path)'"])
        }
        Thread.sleep(forTimeInterval: 1)
        kill(dump.process.processIdentifier, signal)
        let started = Date()
        let output = dump.wait()
        if let feeder { kill(feeder.process.processIdentifier, SIGKILL); _ = feeder.wait() }
        #expect(output.status == ExitStatus.interrupted, "\(output.status): \(output.standardError)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(output.standardError.contains("interrupted"), "\(output.standardError)")
        if withWriter { #expect(output.lines.count >= 10, "the frames before the stall are printed") }
    }

    @Test func optionRangesNameTheRange() throws {
        #expect(throws: (any Error).self) { try OptionRange.seconds(1e300, option: "--wait") }
        #expect(throws: (any Error).self) { try OptionRange.seconds(-0.5, option: "--wait") }
        #expect(throws: (any Error).self) { try OptionRange.seconds(.infinity, option: "--wait") }
        #expect(throws: (any Error).self) { try OptionRange.seconds(0, option: "--wait") }
        try OptionRange.seconds(0, option: "--wait", allowZero: true)
        try OptionRange.seconds(OptionRange.maximumSeconds, option: "--wait")
        try OptionRange.seconds(nil, option: "--wait")
        #expect(throws: (any Error).self) { try OptionRange.integer(0, option: "--count", in: 1...10, unit: "frames") }
        try OptionRange.integer(10, option: "--count", in: 1...10, unit: "frames")
        do {
            try OptionRange.seconds(-3, option: "--wait")
            Issue.record("no error for -3")
        } catch {
            #expect("\(error)".contains("--wait must be positive"), "\(error)")
        }
        // The longest accepted duration still converts without a trap.
        #expect(OptionRange.duration(seconds: OptionRange.maximumSeconds) == .seconds(Int64(OptionRange.maximumSeconds)))
        #expect(OptionRange.duration(seconds: 1e300) > .seconds(0))
        #expect(Formatting.fixed(1e300, decimals: 3) == "1e+300")
        #expect(Formatting.fixed(-9.3e18, decimals: 0) == "-9.3e+18")
        #expect(Formatting.fixed(812.3456, decimals: 3) == "812.346")
    }
}
