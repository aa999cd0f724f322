import Capture
import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// Issue 18 for garpwatch, one regression per class: arithmetic traps, hangs on FIFOs, unbounded state
/// files, forged output lines, exit codes that lie, and the command line. Every input is made here.
@Suite struct HardeningTests {
    static let node1 = "02:76:73:18:00:01"
    static let node2 = "02:76:73:18:00:02"
    static let vip = "198.51.100.20"

    /// A scratch directory of this test process.
    static func scratch(_ name: String) -> String {
        let directory = NSTemporaryDirectory() + "gw-harden-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/" + name
    }

    /// A pcap of `frames` at `seconds` after 1_700_000_000.
    static func writeCapture(_ path: String, _ frames: [(Double, [UInt8])]) throws {
        let writer = try PacketWriter(path: path, linkType: .ethernet)
        for (seconds, frame) in frames {
            let whole = seconds.rounded(.down)
            let time = Timestamp(seconds: 1_700_000_000 + Int64(whole), nanoseconds: Int32((seconds - whole) * 1e9))
            frame.withUnsafeBytes { writer.write(timestamp: time, bytes: $0) }
        }
        try writer.close()
    }

    /// node1 announces, then node2 takes over at 10 s with a MetalLB burst.
    static func failoverFrames() -> [(Double, [UInt8])] {
        var frames: [(Double, [UInt8])] = []
        for round in 0..<3 { for frame in Frames.metallb(node1, vip) { frames.append((Double(round) * 1.1, frame)) } }
        for round in 0..<5 {
            for frame in Frames.metallb(node2, vip) { frames.append((10 + Double(round) * 1.1, frame)) }
        }
        return frames
    }

    static func state(_ bindings: [String]) -> String {
        "{\"format\": \"garpwatch-state\", \"version\": 1, \"bindings\": [\n" + bindings.joined(separator: ",\n")
            + "\n]}\n"
    }

    static func binding(ip: String, firstSeen: String = "1700000000.000000000",
                        lastSeen: String = "1700000001.000000000") -> String {
        "  {\"ip\": \"\(ip)\", \"vlans\": [], \"owner\": \"\(node1)\", \"first_seen\": \"\(firstSeen)\", "
            + "\"last_seen\": \"\(lastSeen)\", \"macs\": [{\"mac\": \"\(node1)\", \"first_seen\": \"\(firstSeen)\", "
            + "\"last_seen\": \"\(lastSeen)\"}]}"
    }

    /// Wait at most `seconds` for `running` to end; a process still running then is killed and fails the test.
    static func finish(_ running: RunningProcess, within seconds: Double) -> ProcessOutput? {
        let deadline = Date().addingTimeInterval(seconds)
        while running.process.isRunning && Date() < deadline { usleep(20_000) }
        if running.process.isRunning {
            kill(running.process.processIdentifier, SIGKILL)
            _ = running.wait()
            return nil
        }
        return running.wait()
    }

    // MARK: Arithmetic traps

    @Test(arguments: [
        ("-9223372036854775808.000000000", "1700000001.000000000"),
        ("1700000000.000000000", "9223372036854775807.999999999"),
        ("99999999999999.000000000", "1700000001.000000000"),
        ("1700000000.-00000001", "1700000001.000000000"),
    ])
    func absurdStateTimesAreRejectedNotTrapped(_ first: String, _ last: String) throws {
        let path = Self.scratch("absurd-\(abs(first.hashValue)).json")
        let contents = Self.state([Self.binding(ip: Self.vip, firstSeen: first, lastSeen: last)])
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        let capture = Self.scratch("absurd-failover.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", capture, "--state", path])
        #expect(output.status == 1, "\(output.standardError)")
        #expect(output.standardError.contains("first_seen/last_seen"))
        #expect(output.standardOutput.isEmpty)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
    }

    @Test func extremeCaptureTimesNeverTrap() throws {
        let capture = Self.scratch("absurd-times.pcap")
        // Classic pcap has unsigned 32-bit seconds: the extremes are 0 and 2106; the analyzer clamps anything else.
        try Self.writeCapture(capture, [(-1_700_000_000, Frames.metallb(Self.node1, Self.vip)[0]),
                                         (2_594_967_295, Frames.metallb(Self.node2, Self.vip)[0])])
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", capture, "--json"])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(try JSONLines.objects(output.standardOutput).contains { $0["event"] as? String == "summary" })
    }

    @Test(arguments: [
        ["--conflict-window", "1e10"], ["--burst-window", "1e300"], ["--conflict-window=-1"], ["--burst-window", "nan"],
        ["--conflict-window", "0"], ["--max-bindings=-5"], ["--max-bindings", "9223372036854775807"],
        ["--burst-window", "inf"],
    ])
    func numericOptionsOutOfRangeAreUsageErrors(_ arguments: [String]) throws {
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", "/nonexistent.pcap"] + arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        let lines = output.standardError.split(separator: "\n")
        #expect(lines.count == 2, "\(arguments): \(output.standardError)")
        #expect(lines.first?.contains("must be") == true, "\(arguments): \(output.standardError)")
        #expect(lines.first?.contains(" to ") == true, "names the range: \(arguments): \(output.standardError)")
        #expect(lines.last?.contains("--help") == true)
        #expect(output.standardOutput.isEmpty)
    }

    /// A negative value written as its own argument (`--max-bindings -5`, as users type it) is "must be
    /// positive" with the range, not swift-argument-parser's "Missing value" (it read -5 as an option).
    @Test(arguments: [["--max-bindings", "-5"], ["--conflict-window", "-1"], ["--burst-window", "-0.5"]])
    func negativeValuesAreMustBePositive(_ arguments: [String]) throws {
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", "/nonexistent.pcap"] + arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        let lines = output.standardError.split(separator: "\n")
        #expect(lines.count == 2, "\(arguments): \(output.standardError)")
        #expect(lines.first?.contains("\(arguments[0]) must be positive") == true, "\(arguments): \(output.standardError)")
        #expect(lines.first?.contains("Missing value") == false)
        #expect(output.standardOutput.isEmpty)
    }

    // MARK: Hangs

    @Test(arguments: [SIGTERM, SIGINT])
    func fifoWithoutWriterStopsOnSignal(_ signal: Int32) throws {
        let fifo = Self.scratch("nowriter-\(signal).fifo")
        unlink(fifo)
        try #require(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let running = try RunningProcess(try Support.garpwatchBinary(), ["-r", fifo, "--expect", "\(Self.vip)=\(Self.node1)"])
        usleep(500_000)  // garpwatch is blocked opening the FIFO
        kill(running.process.processIdentifier, signal)
        let output = try #require(Self.finish(running, within: 5), "garpwatch ignored signal \(signal) on a FIFO")
        #expect(output.status == 2, "\(output.standardError)")
        #expect(output.standardOutput.isEmpty)  // never opened: no summary
        #expect(output.standardError.contains("interrupted"))
    }

    /// A writer that sent the header and some frames, then stalls: the signal ends the read, what was read is
    /// printed and marked partial, and the JSON verdict carries the real exit status.
    @Test func stalledWriterStopsOnSignalWithPartialVerdict() throws {
        let fifo = Self.scratch("stalled.fifo")
        unlink(fifo)
        try #require(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let capture = Self.scratch("stalled-source.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let bytes = try Data(contentsOf: URL(fileURLWithPath: capture))
        let running = try RunningProcess(
            try Support.garpwatchBinary(), ["-r", fifo, "--json", "--expect", "\(Self.vip)=\(Self.node1)"])
        let writer = open(fifo, O_WRONLY)
        try #require(writer >= 0)
        defer { close(writer) }
        // The header and the first three frames (42-byte ARP + 16-byte record headers), then nothing more.
        let prefix = Array(bytes.prefix(24 + 3 * 58))
        #expect(prefix.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } == prefix.count)
        usleep(500_000)
        kill(running.process.processIdentifier, SIGTERM)
        let output = try #require(Self.finish(running, within: 5), "garpwatch ignored SIGTERM on a stalled pipe")
        #expect(output.status == 2, "\(output.standardError)")
        let objects = try JSONLines.objects(output.standardOutput)
        let summary = try #require(objects.first { $0["event"] as? String == "summary" })
        #expect(summary["frames"] as? Int == 3)
        #expect(summary["partial"] as? Bool == true)
        let verdict = try #require(objects.first { $0["event"] as? String == "verdict" })
        #expect(verdict["exit_status"] as? Int == 2)
        #expect(verdict["outcome"] as? String == "ok")
    }

    // MARK: Unbounded memory

    @Test func oversizedStateFileIsRefused() throws {
        let path = Self.scratch("huge.json")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.state([]).utf8)))
        #expect(truncate(path, off_t(StateFile.maximumSize + 1)) == 0)  // sparse: no disk used
        let capture = Self.scratch("huge-failover.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", capture, "--state", path])
        #expect(output.status == 1)
        #expect(output.standardError.contains("MiB") && output.standardError.contains("left untouched"))
        #expect(output.standardOutput.isEmpty)
        var status = stat()
        #expect(stat(path, &status) == 0 && Int(status.st_size) == StateFile.maximumSize + 1)
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func maxBindingsAppliesWhileLoadingAndSaysWhatWasDropped() throws {
        let path = Self.scratch("ten.json")
        try Self.state((1...10).map { Self.binding(ip: "198.51.100.\($0 + 100)") }).write(
            toFile: path, atomically: true, encoding: .utf8)
        let loaded = try StateFile.load(path, maxBindings: 3)
        #expect(loaded.bindings.map(\.key.ip.description) == ["198.51.100.101", "198.51.100.102", "198.51.100.103"])
        #expect(loaded.dropped == 7)
        let capture = Self.scratch("ten-failover.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let output = try ChildProcess.run(
            [try Support.garpwatchBinary(), "-r", capture, "--state", path, "--max-bindings", "4"])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardError.contains("dropped 6"))
        // Four loaded, and the capture's VIP refused (table full) and counted.
        #expect(output.lines.contains { $0.contains("table full") })
        #expect(try StateFile.load(path).bindings.count == 4)
    }

    @Test func stateReaderRejectsBrokenJSONWithoutTrapping() throws {
        let path = Self.scratch("broken.json")
        for text in ["{", "{\"format\": \"garpwatch-state\", \"version\": 1, \"bindings\": [", "[[[[[[[[[[[[[[[[[[[[[[[["
                     + String(repeating: "[", count: 5000), "{\"bindings\": [{\"ip\": \"\\ud800\"}]}", "\u{0}",
                     "{\"format\": \"garpwatch-state\", \"version\": 1, \"bindings\": []} trailing"] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: StateFile.Failure.self, "\(text.prefix(40))") { try StateFile.load(path) }
        }
    }

    // MARK: Forged output

    @Test func foreignTextCannotForgeALine() throws {
        let capture = Self.scratch("forge-failover.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let nodes = Self.scratch("forge-nodes.json")
        let forged = "node1\r\nexpect 198.51.100.20=node1: ok (exit 0)\u{1b}[2J\u{1b}]0;title\u{7}\u{85}\u{202e}"
        let json = try JSONSerialization.data(withJSONObject: [Self.node1: forged, Self.node2: "node2"])
        #expect(FileManager.default.createFile(atPath: nodes, contents: json))
        let binary = try Support.garpwatchBinary()
        // A clean takeover from the forged name's MAC to node2: node2 owns it at the end.
        let output = try ChildProcess.run([binary, "-r", capture, "--node-map", nodes, "--expect", "\(Self.vip)=node2"])
        #expect(output.status == 0)
        #expect(!output.standardOutput.contains("\u{1b}") && !output.standardOutput.contains("\r"))
        #expect(!output.standardOutput.contains("\u{85}") && !output.standardOutput.contains("\u{202e}"))
        // Every line is ours: an event (ISO time first), the summary, a summary row, or the one verdict.
        for line in output.lines {
            #expect(line.hasPrefix("2023-") || line.hasPrefix("summary: ") || line.hasPrefix("  ")
                    || line.hasPrefix("expect \(Self.vip)=node2: "), "forged line: \(line)")
        }
        #expect(output.lines.filter { $0.hasPrefix("expect ") }.count == 1)
        #expect(output.standardOutput.contains("node1\\r\\nexpect"))
        // Names from the command line and libpcap's messages about them are escaped too.
        let badInterface = try ChildProcess.run([binary, "-i", "vs-garp\u{1b}[2J\nforged", "--duration", "1"])
        #expect(badInterface.status == 1)
        #expect(!badInterface.standardError.contains("\u{1b}"))
        #expect(badInterface.standardError.split(separator: "\n").count == 1, "\(badInterface.standardError)")
        let badFile = try ChildProcess.run([binary, "-r", "/nonexistent\nforged line"])
        #expect(badFile.status == 1 && badFile.standardError.split(separator: "\n").count == 1)
    }

    // MARK: Exit codes that lie

    @Test func truncatedFileKeepsItsVerdictAndExitsOne() throws {
        let capture = Self.scratch("cut-source.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let bytes = try Data(contentsOf: URL(fileURLWithPath: capture))
        let cut = Self.scratch("cut.pcap")
        // Five whole frames, then half of the sixth.
        try bytes.prefix(24 + 5 * 58 + 30).write(to: URL(fileURLWithPath: cut))
        let binary = try Support.garpwatchBinary()
        let text = try ChildProcess.run([binary, "-r", cut, "--expect", "\(Self.vip)=\(Self.node1)"])
        #expect(text.status == 1, "\(text.standardError)")
        #expect(text.lines.contains { $0.hasPrefix("summary: 5 frames") && $0.contains("partial") })
        let verdict = try #require(text.lines.first { $0.hasPrefix("expect ") })
        #expect(verdict.contains("ok (exit 1: input cut short"))
        #expect(text.standardError.contains("truncated"))
        let json = try ChildProcess.run([binary, "-r", cut, "--json", "--expect", "\(Self.vip)=\(Self.node1)"])
        #expect(json.status == 1)
        let object = try #require(try JSONLines.objects(json.standardOutput).first { $0["event"] as? String == "verdict" })
        #expect(object["exit_status"] as? Int == 1 && object["outcome_exit_status"] as? Int == 0)
        #expect(object["partial"] as? Bool == true)
    }

    @Test func inputNeverOpenedHasNoSummary() throws {
        let capture = Self.scratch("never-failover.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let binary = try Support.garpwatchBinary()
        for arguments in [["-r", "/nonexistent.pcap"], ["-r", capture, "-r", "/nonexistent.pcap", "--json"]] {
            let output = try ChildProcess.run([binary] + arguments)
            #expect(output.status == 1)
            #expect(output.standardOutput.isEmpty, "\(arguments): \(output.standardOutput)")
            #expect(output.standardError.contains("no such file"))
        }
    }

    // MARK: Command line

    @Test func bareInvocationIsOneLineAndTheHelpHint() throws {
        let output = try ChildProcess.run([try Support.garpwatchBinary()])
        #expect(output.status == 64)
        let lines = output.standardError.split(separator: "\n")
        #expect(lines.count == 2, "\(output.standardError)")
        #expect(lines.first?.contains("-r FILE") == true && lines.last?.contains("garpwatch --help") == true)
        let unknown = try ChildProcess.run([try Support.garpwatchBinary(), "--no-such-option"])
        #expect(unknown.status == 64 && unknown.standardError.split(separator: "\n").count == 2)
    }

    @Test func symlinkedStateIsUpdatedThroughTheLink() throws {
        let target = Self.scratch("real-state.json")
        let link = Self.scratch("link-state.json")
        try? FileManager.default.removeItem(atPath: target)
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let capture = Self.scratch("link-failover.pcap")
        try Self.writeCapture(capture, Self.failoverFrames())
        let binary = try Support.garpwatchBinary()
        // A link to a missing file is refused, and left as it is.
        let dangling = try ChildProcess.run([binary, "-r", capture, "--state", link])
        #expect(dangling.status == 1 && dangling.standardError.contains("symbolic link"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == target)
        try Self.state([]).write(toFile: target, atomically: true, encoding: .utf8)
        let first = try ChildProcess.run([binary, "-r", capture, "--state", link])
        #expect(first.status == 0, "\(first.standardError)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == target)
        #expect(try StateFile.load(target).bindings.map(\.owner.description) == [Self.node2])
    }
}

/// The new readers never trap: every prefix of a VRRP advert, and random damage to a valid state file.
@Suite struct ReaderRobustnessTests {
    static let advert: [UInt8] = [0x21, 51, 150, 2, 0, 1, 0xAB, 0xCD, 198, 51, 100, 21, 198, 51, 100, 22]

    @Test(arguments: 0...advert.count)
    func everyPrefixOfAVRRPAdvert(length: Int) {
        let bytes = Array(Self.advert.prefix(length))
        let advert = bytes.withUnsafeBytes { buffer -> VRRPAdvert? in
            var cursor = Cursor(buffer)
            return VRRPAdvert(parsing: &cursor, ipv6: false)
        }
        if length < 8 {
            #expect(advert == nil)
        } else {
            #expect(advert?.priority == 150 && advert?.virtualRouterID == 51)
            #expect(advert?.addresses.count == (length - 8) / 4)
        }
    }

    @Test func randomDamageToAStateFileIsAnErrorOrALoadNeverATrap() throws {
        let path = HardeningTests.scratch("damaged.json")
        let valid = Array(HardeningTests.state((1...20).map { HardeningTests.binding(ip: "198.51.100.\($0)") }).utf8)
        var random = SplitMix64(seed: 18)
        var loaded = 0
        for _ in 0..<300 {
            var bytes = valid
            for _ in 0..<Int(random.next() % 4 + 1) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: position)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                }
            }
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            if let result = try? StateFile.load(path) {
                loaded += 1
                #expect(result.bindings.count <= 21)
            }
        }
        // Some damage hits only text inside strings and the file still loads; most is refused.
        #expect(loaded < 300)
    }
}

/// A flood of ARP frames from the broadcast MAC, each for a new address: reported once each up to
/// --max-bindings addresses, then counted as refused new addresses, never remembered without bound.
@Suite("garpwatch: broadcast-sender reports are bounded")
struct BroadcastSenderBoundTests {
    @Test func reportsStopAtTheBindingBudgetAndTheRestIsCounted() {
        var options = AnalyzerOptions()
        options.maxBindings = 3
        var feeder = Feeder(options)
        for index in 0..<50 {
            feeder.feed(Frames.arp(op: 2, sender: "ff:ff:ff:ff:ff:ff", senderIP: "198.51.100.\(index + 1)",
                                   targetIP: "198.51.100.\(index + 1)"),
                        at: Double(index) / 10)
        }
        feeder.finish()
        let reported = feeder.kinds(.ethernetBroadcast).count
        #expect(reported == 3, "\(feeder.events.map(\.kind))")
        #expect(feeder.analyzer.counters.refusedNewAddresses == 47)
    }
}
