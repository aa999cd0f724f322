import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// The garpwatch executable: help, output forms, exit statuses on recorded captures, bad input.
@Suite struct CommandLineTests {
    @Test func helpTeachesExitCodesAndExamples() throws {
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "--help"])
        #expect(output.status == 0)
        for needle in ["exit 10", "exit 11", "exit 12", "exit 1 ", "exit 2", "--expect", "--node-map", "--state",
                       "garpwatch -r captures/failover-l2.pcap", "split-brain", "takeover", "--conflict-window"] {
            #expect(output.standardOutput.contains(needle), "help lacks \(needle)")
        }
    }

    @Test func verificationExitStatuses() throws {
        let binary = try Support.garpwatchBinary()
        let nodes = NSTemporaryDirectory() + "gw-nodes-\(getpid()).txt"
        try "02:76:73:03:00:02 node1\n02:76:73:03:00:03 node2\n02:67:77:12:00:01 sb1\n".write(
            toFile: nodes, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: nodes) }
        let garp = Support.capture("../garp-arping.pcap")
        let failover = Support.capture("../failover-l2.pcap")
        let cases: [([String], Int32)] = [
            (["-r", garp, "--expect", "198.51.100.10=02:76:73:01:00:01"], 0),
            (["-r", failover, "--expect", "198.51.100.20=node2", "--node-map", nodes, "--ip", "198.51.100.20"], 10),
            (["-r", Support.capture("split-brain.pcap"), "--expect", "198.51.100.50=sb1", "--node-map", nodes], 11),
            (["-r", garp, "--expect", "198.51.100.99=02:76:73:01:00:01"], 12),
            (["-r", garp, "--expect", "198.51.100.10=02:76:73:01:00:01", "--expect", "198.51.100.99=02:76:73:01:00:01"], 12),
        ]
        for (arguments, status) in cases {
            let output = try ChildProcess.run([binary] + arguments)
            #expect(output.status == status, "\(arguments): \(output.standardError)")
            #expect(output.lines.contains { $0.hasPrefix("expect ") })
        }
    }

    @Test func jsonLinesCarryTheTakeover() throws {
        let output = try ChildProcess.run([try Support.garpwatchBinary(), "-r", Support.capture("../failover-l2.pcap"), "--json"])
        #expect(output.status == 0)
        var takeover: [String: Any]?
        for line in output.lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["event"] is String)
            if object["event"] as? String == "takeover" { takeover = object }
        }
        let event = try #require(takeover)
        #expect(event["old_mac"] as? String == "02:76:73:03:00:02")
        #expect(event["mac"] as? String == "02:76:73:03:00:03")
        let burst = try #require(event["burst"] as? [String: Any])
        #expect(burst["frames"] as? Int == 10)
        #expect(output.lines.last?.contains("\"event\":\"summary\"") == true)
    }

    /// The common keys (docs/json.md): a start object first, `host` from --node-name, no `interface` for a
    /// file, and the binding, summary and verdict objects at the last frame's time, so a replay prints the same.
    @Test func jsonObjectsCarryHostAndReplayableTimes() throws {
        let arguments = [try Support.garpwatchBinary(), "-r", Support.capture("../failover-l2.pcap"), "--json",
                         "--node-name", "node-7", "--expect", "198.51.100.20=02:76:73:03:00:03"]
        let first = try JSONLines.events(try ChildProcess.run(arguments).standardOutput, tool: "garpwatch")
        let second = try JSONLines.events(try ChildProcess.run(arguments).standardOutput, tool: "garpwatch")
        func times(_ objects: [[String: Any]]) -> [String] { objects.map { "\($0["event"] ?? "")@\($0["time"] ?? "")" } }
        #expect(times(first) == times(second))
        #expect(first.allSatisfy { $0["host"] as? String == "node-7" && $0["interface"] == nil })
        let lastFrame = try #require(try decodeCaptureFile(Support.capture("../failover-l2.pcap")).last).timestamp.iso8601
        for event in ["binding", "summary", "verdict"] {
            let object = try #require(first.first { $0["event"] as? String == event }, "no \(event)")
            #expect(object["time"] as? String == lastFrame, "\(event): \(object)")
        }
    }

    @Test func badInputIsOneSentenceAndStatusOne() throws {
        let binary = try Support.garpwatchBinary()
        let missing = try ChildProcess.run([binary, "-r", "/nonexistent/x.pcap"])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("no such file"))
        #expect(missing.standardError.split(separator: "\n").count == 1)
        let filter = try ChildProcess.run([binary, "-r", Support.capture("../garp-arping.pcap"), "--filter", "arp and and"])
        #expect(filter.status == 1 && filter.standardError.contains("bad capture filter"))
        let state = NSTemporaryDirectory() + "gw-cli-state-\(getpid()).json"
        try "not json at all".write(toFile: state, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let corrupt = try ChildProcess.run([binary, "-r", Support.capture("../garp-arping.pcap"), "--state", state])
        #expect(corrupt.status == 1 && corrupt.standardError.contains("left untouched"))
        #expect(try String(contentsOfFile: state, encoding: .utf8) == "not json at all")
        let usage = try ChildProcess.run([binary, "-r", Support.capture("../garp-arping.pcap"), "--expect", "nonsense"])
        #expect(usage.status == 64)
    }

    @Test func stateFileCarriesBindingsToTheNextRun() throws {
        let binary = try Support.garpwatchBinary()
        let state = NSTemporaryDirectory() + "gw-cli-state2-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let first = try ChildProcess.run([binary, "-r", Support.capture("../failover-l2.pcap"), "--state", state])
        #expect(first.status == 0 && first.lines.contains { $0.contains("new-station 198.51.100.20") })
        let second = try ChildProcess.run([binary, "-r", Support.capture("../failover-l2.pcap"), "--state", state])
        #expect(second.status == 0)
        #expect(!second.lines.contains { $0.contains("new-station") })
        // The file ended with node2 owning the VIP, so node1's first frame is a move back.
        #expect(second.lines.contains { $0.contains("flip-flop 198.51.100.20 02:76:73:03:00:02") })
    }
}
