import BGPDecodeKit
import Foundation
import TestSupport
import Testing

/// Issue 19: `bgpdecode listen` is a real subcommand (so the manual page and the completions know its
/// options) while `bgpdecode -r FILE` still decodes with no subcommand word.
@Suite("bgpdecode subcommand shape (issue 19)")
struct SubcommandShapeTests {
    static let listenOptions = ["--local-as", "--router-id", "--bind", "--peer", "--peer-as", "--accept-any",
        "--md5-password", "--max-prefixes", "--hold-time", "--wait", "--settle"]

    @Test func listenHelpListsListenOptions() throws {
        let options = try BGPHelpTests.help(columns: 80, ["listen"]).drop { !$0.hasPrefix("OPTIONS:") }
        let text = options.joined(separator: "\n")
        for option in Self.listenOptions { #expect(text.contains("  \(option) "), "listen --help lacks \(option)") }
        // Decode's capture options are not listen's.
        #expect(!text.contains("--mrt") && !text.contains("--write"))
    }

    /// What scripts/install turns into completions: every shell's script knows listen and its options.
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsKnowListenOptions(shell: String) throws {
        let script = try Tool.run(["--generate-completion-script", shell])
        #expect(script.status == 0, "\(script.standardError)")
        for word in ["listen", "decode"] + Self.listenOptions.map({ String($0.dropFirst(2)) }) + ["mrt", "filter"] {
            #expect(script.standardOutput.contains(word), "\(shell) completion lacks \(word)")
        }
    }

    /// What generate-manual (scripts/install) reads: both subcommands, each with its own options.
    @Test func dumpHelpHasBothSubcommandsWithTheirOptions() throws {
        let dump = try Tool.run(["--experimental-dump-help"])
        #expect(dump.status == 0, "\(dump.standardError)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.standardOutput.utf8)) as? [String: Any])
        let command = try #require(root["command"] as? [String: Any])
        let subcommands = try #require(command["subcommands"] as? [[String: Any]])
        func names(_ name: String) -> Set<String> {
            let subcommand = subcommands.first { $0["commandName"] as? String == name }
            let arguments = subcommand?["arguments"] as? [[String: Any]] ?? []
            return Set(arguments.flatMap { ($0["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } })
        }
        #expect(Set(subcommands.compactMap { $0["commandName"] as? String }).isSuperset(of: ["decode", "listen"]))
        #expect(names("listen").isSuperset(of: Self.listenOptions.map { String($0.dropFirst(2)) }), "\(names("listen"))")
        #expect(names("decode").isSuperset(of: ["read", "interface", "mrt", "write", "filter", "count", "port"]))
        #expect(!names("listen").contains("mrt"))
    }

    @Test func decodeIsTheDefaultSubcommand() throws {
        let capture = Paths.captures.appendingPathComponent("bgp-bird-frr.pcap").path
        let bare = try Tool.run(["-r", capture, "--table"])
        let named = try Tool.run(["decode", "-r", capture, "--table"])
        #expect(bare.status == 0 && named.status == 0, "\(bare.standardError) \(named.standardError)")
        #expect(bare.standardOutput.contains("session 203.0.113.2 > 203.0.113.1"), "\(bare.standardOutput)")
        #expect(bare.standardOutput == named.standardOutput)
        // `bgpdecode --help` alone teaches decoding (its options), `bgpdecode help` lists the subcommands.
        let help = try BGPHelpTests.help(columns: 80).joined(separator: "\n")
        for option in ["-r, --read", "-w, --write", "-f, --filter", "--mrt", "<expression>"] {
            #expect(help.contains(option), "bgpdecode --help lacks \(option)")
        }
        let list = try ChildProcess.run([try Tool.bgpdecode(), "help"], environment: ["COLUMNS": "80"])
        #expect(list.standardOutput.contains("decode (default)") && list.standardOutput.contains("listen"))
        for line in list.lines { #expect(line.count <= 80, "bgpdecode help: \(line.count) columns: \(line)") }
    }

    /// generate-manual copies each discussion line into the page as it is: a line that starts with ' or . is
    /// a troff request there, and the line vanishes from the manual (it did: "'tcp and (EXPR)'...").
    @Test(arguments: [["--help"], ["help"], ["listen", "--help"]])
    func noDiscussionLineStartsLikeATroffRequest(arguments: [String]) throws {
        let result = try Tool.run(arguments)
        #expect(result.status == 0)
        for line in HelpText.discussion(result.standardOutput.components(separatedBy: "\n")) {
            #expect(!line.hasPrefix("'") && !line.hasPrefix("."), "\(arguments): \(line)")
        }
    }

    @Test func aListenUsageErrorPointsAtListenHelp() throws {
        let result = try Tool.run(["listen", "--local-as", "64512"])
        #expect(result.status == 64)
        #expect(result.standardError.contains("--router-id"), "\(result.standardError)")
        #expect(result.standardError.hasSuffix("See 'bgpdecode listen --help' for the options and examples.\n"))
    }
}

/// -r with a filter, -w and -c on the bundled captures; tshark and tcpdump count what we should have kept.
@Suite("bgpdecode -r with a filter, -w and -c (issue 19)")
struct ReadFilterTests {
    static let capture = Paths.captures.appendingPathComponent("bgp-bird-frr.pcap").path

    static var scratch: URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hb-bgp-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The "N messages" of every session line.
    static func messages(_ text: String) -> Int {
        text.split(separator: "\n").filter { $0.hasPrefix("session ") }.compactMap { line -> Int? in
            guard let range = line.range(of: #"; (\d+) messages"#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst(2).prefix { $0.isNumber })
        }.reduce(0, +)
    }

    /// BGP messages tshark decodes under a display filter.
    static func tsharkMessages(_ path: String, _ displayFilter: String) throws -> Int {
        let output = try ChildProcess.run(["tshark", "-n", "-r", path, "-Y", displayFilter, "-T", "fields", "-e", "bgp.type"])
        try #require(output.status == 0, "tshark: \(output.standardError)")
        return output.standardOutput.split(whereSeparator: { $0 == "\n" || $0 == "," }).count
    }

    /// Frames in a capture file, by tcpdump.
    static func tcpdumpFrames(_ path: String, _ filter: [String] = []) throws -> Int {
        let output = try ChildProcess.run(["tcpdump", "-n", "-r", path] + filter)
        try #require(output.status == 0, "tcpdump: \(output.standardError)")
        return output.lines.count
    }

    @Test(arguments: [("ip6", "ipv6 && bgp"), ("ip", "ip && bgp"), ("host 203.0.113.1", "ip.addr == 203.0.113.1 && bgp")])
    func aTrailingFilterKeepsWhatTsharkKeeps(filter: String, displayFilter: String) throws {
        try #require(ChildProcess.which("tshark") != nil, "tshark is missing (scripts/setup)")
        let all = try Tool.run(["-r", Self.capture])
        let filtered = try Tool.run(["-r", Self.capture] + filter.split(separator: " ").map(String.init))
        #expect(filtered.status == 0, "\(filtered.standardError)")
        let expected = try Self.tsharkMessages(Self.capture, displayFilter)
        #expect(expected > 0)
        #expect(Self.messages(filtered.standardOutput) == expected, "\(filtered.standardOutput)")
        #expect(Self.messages(filtered.standardOutput) < Self.messages(all.standardOutput))
        // -f says the same as the trailing words.
        let option = try Tool.run(["-r", Self.capture, "-f", filter])
        #expect(option.standardOutput == filtered.standardOutput)
    }

    @Test func writeKeepsTheFilteredFramesAndCountStops() throws {
        try #require(ChildProcess.which("tcpdump") != nil, "tcpdump is missing (scripts/setup)")
        let pcap = Self.scratch.appendingPathComponent("v6.pcap").path
        let result = try Tool.run(["-r", Self.capture, "-w", pcap, "ip6"])
        #expect(result.status == 0, "\(result.standardError)")
        // Exactly the frames tcpdump's 'tcp and (ip6)' keeps of the original.
        let expected = try Self.tcpdumpFrames(Self.capture, ["tcp and (ip6)"])
        #expect(expected > 0)
        #expect(try Self.tcpdumpFrames(pcap) == expected)
        // The kept file decodes to the same sessions as the filtered original.
        #expect(try Tool.run(["-r", pcap]).standardOutput == result.standardOutput)

        let pcapng = Self.scratch.appendingPathComponent("first.pcapng").path
        let first = try Tool.run(["-r", Self.capture, "-c", "12", "-w", pcapng])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardOutput.contains("note: stopped after -c 12 frames"), "\(first.standardOutput)")
        #expect(try Self.tcpdumpFrames(pcapng) == 12)
        let magic = try #require(FileHandle(forReadingAtPath: pcapng)).readData(ofLength: 4)
        #expect([UInt8](magic) == [0x0A, 0x0D, 0x0D, 0x0A], "not pcapng")
    }

    @Test(arguments: [
        (["not", "tcp"], "matches no BGP traffic"),
        (["udp", "port", "179"], "matches no BGP traffic"),
        (["port", "179", "and", "("], "syntax error"),
        (["-f", "port 99999"], "Bad capture filter"),
    ] as [([String], String)])
    func aBadFilterIsAUsageErrorInOneSentence(words: [String], message: String) throws {
        let result = try Tool.run(["-r", Self.capture] + words)
        #expect(result.status == 64, "\(words): \(result.standardError)")
        #expect(result.standardError.contains(message), "\(words): \(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.split(separator: "\n").count == 2, "\(result.standardError)")
    }

    @Test func aSecondFileWithoutDashRIsPointedOut() throws {
        let other = Paths.captures.appendingPathComponent("bgp-segmented.pcap").path
        let result = try Tool.run(["-r", Self.capture, other])
        #expect(result.status == 64)
        #expect(result.standardError.contains("give -r before each"), "\(result.standardError)")
    }
}

/// `bgpdecode -i` in a namespace while BIRD peers with `bgpdecode listen` over a veth pair: -c ends the
/// capture by itself, -w keeps exactly the frames the filter let through (counted by tshark), and a filter
/// that keeps no BGP of this lab captures nothing.
@Suite("bgpdecode -i with -w, -c and a filter (issue 19)", .serialized)
struct LiveHabitsTests {
    @Test func countWriteAndFilterOnALiveSession() throws {
        try #require(ChildProcess.which("tshark") != nil, "tshark is missing (scripts/setup)")
        let lab = try ListenLab(namespacePrefix: "hb-")
        defer { lab.tearDown() }
        let listenerNS = try lab.namespace("l")
        let birdNS = try lab.namespace("b")
        try lab.link(listenerNS, 0, ["\(ListenTests.listenerV4)/24"], birdNS, 0, ["\(ListenTests.birdV4)/24"])
        let tool = try BGPHelpTests.binary()
        let kept = lab.path("kept.pcapng")
        let none = lab.path("none.pcap")
        let counted = try lab.start("counted", in: listenerNS, tool,
            ["-i", "eth0", "-n", "-c", "10", "-w", kept, "--json", "port", "179", "and", "host", ListenTests.birdV4])
        let nothing = try lab.start("nothing", in: listenerNS, tool,
            ["-i", "eth0", "--duration", "8", "-w", none, "-f", "host 203.0.113.99"])
        #expect(lab.waitFor(5) { counted.isRunning && nothing.isRunning && lab.read("counted.err").isEmpty })
        usleep(500_000)  // libpcap attaches before the first SYN
        _ = try ListenTests.listen(lab, listenerNS, ["--peer", ListenTests.birdV4, "--peer-as", ListenTests.birdAS])
        try lab.startBird("bird", in: birdNS, routerID: ListenTests.birdV4, ListenTests.birdConfig())

        // -c 10: the capture ends by itself once ten frames went through the filter.
        #expect(lab.exitStatus(counted, within: 30) == 0, "\(lab.read("counted.err"))")
        let frames = try ChildProcess.run(["tshark", "-n", "-r", kept, "-T", "fields", "-e", "frame.number"])
        #expect(frames.lines.count == 10, "\(frames.standardOutput) \(frames.standardError)")
        let outside = try ChildProcess.run(["tshark", "-n", "-r", kept, "-Y",
            "!(tcp.port == 179 && ip.addr == \(ListenTests.birdV4))", "-T", "fields", "-e", "frame.number"])
        #expect(outside.lines.isEmpty, "frames the filter should have dropped: \(outside.standardOutput)")
        let magic = try #require(FileHandle(forReadingAtPath: kept)).readData(ofLength: 4)
        #expect([UInt8](magic) == [0x0A, 0x0D, 0x0D, 0x0A], "a .pcapng name writes pcapng")
        // What was decoded from those frames: BIRD's OPEN.
        let events = ListenTests.jsonLines(lab.read("counted.out"))
        #expect(events.contains { $0["event"] as? String == "open" && $0["speaker"] as? String == ListenTests.birdV4 },
            "\(lab.read("counted.out").prefix(800))")
        #expect(events.last?["event"] as? String == "summary")

        // The other capture's filter kept no frame of the session: an empty capture, nothing decoded.
        #expect(lab.exitStatus(nothing, within: 15) == 0, "\(lab.read("nothing.err"))")
        let empty = try ChildProcess.run(["tshark", "-n", "-r", none, "-T", "fields", "-e", "frame.number"])
        #expect(empty.status == 0 && empty.lines.isEmpty, "\(empty.standardOutput) \(empty.standardError)")
        #expect(!lab.read("nothing.out").contains("OPEN"), "\(lab.read("nothing.out"))")
    }
}

/// `bgpdecode listen --max-prefixes`: bounded by default (2,000,000 routes a session), 0 for no bound, and a
/// limit given is enforced by the executable (Cease 6/1 on loopback).
@Suite("bgpdecode listen --max-prefixes (issue 19)", .serialized)
struct ListenMaximumPrefixesTests {
    static func listener(_ extra: [String]) throws -> (RunningProcess, UInt16) {
        let port = UInt16(20000 + (getpid() &+ Int32.random(in: 0..<5000)) % 20000)
        let process = try RunningProcess(try Tool.bgpdecode(), ["listen", "--local-as", "64512", "--router-id",
            "203.0.113.254", "--bind", "127.0.0.3:\(port)", "--peer", "127.0.0.1", "--peer-as", "65001"] + extra)
        return (process, port)
    }

    /// Stop the listener (SIGINT, its clean stop) and collect what it printed.
    static func stopAndRead(_ process: RunningProcess) -> ProcessOutput {
        kill(process.process.processIdentifier, SIGINT)
        return process.wait()
    }

    @Test func theDefaultIsTwoMillionAndZeroIsNoLimit() throws {
        #expect(BGPListenerConfiguration.defaultMaximumPrefixes == 2_000_000)
        #expect(BGPListenerConfiguration(localAS: 64512, routerID: .any).maximumPrefixes == 2_000_000)
        let help = try BGPHelpTests.help(columns: 80, ["listen"]).joined(separator: "\n")
        #expect(help.contains("2000000") && help.contains("--max-prefixes 0"), "listen --help lacks the default")
        for (extra, said) in [([String](), "at most 2000000 routes per session"), (["--max-prefixes", "0"], "no route limit")] {
            let (process, _) = try Self.listener(extra)
            usleep(700_000)
            let output = Self.stopAndRead(process)
            #expect(output.standardError.contains(said), "\(extra): \(output.standardError)")
        }
    }

    @Test func aGivenLimitIsEnforcedByTheExecutable() throws {
        let (process, port) = try Self.listener(["--max-prefixes", "100"])
        defer { if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) } }
        usleep(1_000_000)  // it binds within milliseconds; a debug build under load, within a second
        let client = try HostilePeerTests.connect(port: port)
        defer { close(client) }
        HostilePeerTests.announceHostRoutes(client, count: 150)
        let received = HostilePeerTests.notifications(client)
        let output = Self.stopAndRead(process)
        #expect(received.codes == [[6, 1]], "\(received.codes) \(output.standardError)")
        #expect(output.standardError.contains("more than --max-prefixes 100 routes"), "\(output.standardError)")
    }
}
