import Foundation
import PacketCore
import TestSupport
import Testing
@testable import SvcProbeKit
import ToolSupport

@Suite("svcprobe: targets, verdicts, watch timeline")
struct ProbeUnitTests {
    @Test func targetForms() throws {
        #expect(try ProbeTarget.parse("198.51.100.20:3306") == [ProbeTarget(host: "198.51.100.20", port: 3306)])
        #expect(try ProbeTarget.parse("198.51.100.20") == [ProbeTarget(host: "198.51.100.20", port: 3306)])
        #expect(try ProbeTarget.parse("[2001:db8::20]:3307") == [ProbeTarget(host: "2001:db8::20", port: 3307)])
        #expect(try ProbeTarget.parse("2001:db8::20") == [ProbeTarget(host: "2001:db8::20", port: 3306)])
        #expect(try ProbeTarget.parse("db.example:33060").first?.host == "db.example")
        #expect(try ProbeTarget.parse("127.0.0.1:41000-41009").count == 10)
        #expect(ProbeTarget(host: "2001:db8::20", port: 1).description == "[2001:db8::20]:1")
        for bad in ["", ":3306", "[2001:db8::1", "[::1]x", "h:0", "h:70000", "h:9-3", "h:abc"] {
            #expect(throws: TargetError.self, "\(bad)") { try ProbeTarget.parse(bad) }
        }
    }

    /// `::1:3306` is a valid address (::0.1.51.6) that reads as "::1 port 3306": refused, pointing at the
    /// bracket form; a bare address whose head is not an address itself is still taken as written.
    @Test func ambiguousBareIPv6IsRefused() throws {
        for ambiguous in ["::1:3306", "fd99::1:3306", "2001:db8::20:80"] {
            do {
                _ = try ProbeTarget.parse(ambiguous)
                Issue.record("\(ambiguous) was accepted")
            } catch {
                let head = ambiguous[..<(ambiguous.lastIndex(of: ":") ?? ambiguous.endIndex)]
                #expect(error.reason.contains("[\(head)]:"), "\(error)")
            }
        }
        #expect(try ProbeTarget.parse("[::1:3306]") == [ProbeTarget(host: "::1:3306", port: 3306)])
        #expect(try ProbeTarget.parse("[::1]:3306") == [ProbeTarget(host: "::1", port: 3306)])
        #expect(try ProbeTarget.parse("2001:db8:0:0:0:0:0:20") == [ProbeTarget(host: "2001:db8:0:0:0:0:0:20", port: 3306)])
        #expect(try ProbeTarget.parse("fd99::1") == [ProbeTarget(host: "fd99::1", port: 3306)])
    }

    @Test(arguments: ["9999999999s", "1e300s", "1e300", "inf", "9223372037s", "-5s", "-0", "nan", "5h", ""])
    func absurdDurationsAreRefusedNotTrapped(_ text: String) {
        let result = DurationText.validated(text, option: "--timeout", range: 1_000_000...3_600_000_000_000, example: "3s")
        guard case .failure(let error) = result else {
            Issue.record("\(text) accepted")
            return
        }
        #expect(error.description.hasPrefix("--timeout "))
        #expect(error.description.contains("from 1ms to 3600s"), "names the range: \(error)")
        if text.hasPrefix("-") { #expect(error.description.contains("must be positive")) }
    }

    @Test func integerOptions() {
        #expect(NumberText.validated("256", option: "--concurrency", range: 1...65_536) == .success(256))
        for bad in ["0", "65537", "-3", "1e300", "99999999999999999999999", "x"] {
            guard case .failure(let error) = NumberText.validated(bad, option: "--concurrency", range: 1...65_536) else {
                Issue.record("\(bad) accepted")
                continue
            }
            #expect(error.description.contains("from 1 to 65536"))
            #expect(error.description.contains("must be positive") == bad.hasPrefix("-"), "\(bad): \(error)")
        }
    }

    @Test func durations() {
        #expect(DurationText.nanoseconds("200ms") == 200_000_000)
        #expect(DurationText.nanoseconds("1.5s") == 1_500_000_000)
        #expect(DurationText.nanoseconds("2") == 2_000_000_000)
        #expect(DurationText.nanoseconds("1m") == 60_000_000_000)
        #expect(DurationText.nanoseconds("fast") == nil && DurationText.nanoseconds("-1s") == nil)
    }

    static func result(_ outcome: ProbeOutcome, version: String? = nil, at: Int64 = 0, error: UInt16? = nil) -> ProbeResult {
        var result = ProbeResult(target: ProbeTarget(host: "198.51.100.20", port: 3306), outcome: outcome)
        result.startedAt = at
        if let version {
            let payload: [UInt8] = [10] + Array(version.utf8) + [0, 1, 0, 0, 0] + [UInt8](repeating: 0x41, count: 8) + [0, 0, 2]
            result.greeting = try? withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
                try MySQLGreeting(parsing: &cursor)
            }
        }
        if let error {
            let payload: [UInt8] = [0xFF, UInt8(error & 0xFF), UInt8(error >> 8)] + Array("no".utf8)
            result.error = try? withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
                try MySQLErrorPacket(parsing: &cursor)
            }
        }
        return result
    }

    @Test func verdicts() throws {
        let up = Self.result(.greeting, version: "10.11.19-MariaDB")
        let regex = try Regex(#"^10\.11\."#)
        #expect(ProbeVerdict.status([up], expectUp: true, expectVersion: regex) == 0)
        #expect(ProbeVerdict.status([up], expectUp: false, expectVersion: try Regex("^11\\.")) == 12)
        #expect(ProbeVerdict.status([up, Self.result(.refused)], expectUp: true, expectVersion: nil) == 10)
        #expect(ProbeVerdict.status([up, Self.result(.error, error: 1129)], expectUp: true, expectVersion: nil) == 11)
        #expect(ProbeVerdict.status([Self.result(.error), Self.result(.timeout)], expectUp: true, expectVersion: nil) == 10)
        #expect(ProbeVerdict.status([Self.result(.refused)], expectUp: false, expectVersion: nil) == 0)
    }

    @Test func watchTimelineReportsOutagesAndFailovers() {
        var timeline = WatchTimeline()
        let second: Int64 = 1_000_000_000
        var events: [WatchTimeline.Event] = []
        let sequence: [ProbeResult] = [
            Self.result(.greeting, version: "10.11.19-MariaDB", at: 0),
            Self.result(.greeting, version: "10.11.19-MariaDB", at: 1 * second),
            Self.result(.refused, at: 2 * second),
            Self.result(.timeout, at: 3 * second),
            Self.result(.error, at: 4 * second, error: 1040),
            Self.result(.greeting, version: "10.11.20-MariaDB", at: 5 * second),
            Self.result(.greeting, version: "10.11.20-MariaDB", at: 6 * second),
            Self.result(.greeting, version: "10.11.19-MariaDB", at: 7 * second),
            Self.result(.refused, at: 8 * second),
        ]
        for result in sequence { if let event = timeline.record(result) { events.append(event) } }
        // Every change is an event: refused -> timeout -> ERR 1040 while down are two `changed` events.
        #expect(events.map(\.change) == [.initial, .down, .changed, .changed, .up, .changed, .down])
        #expect(events[1].duration == 2 * second, "up from 0 s to the failure at 2 s")
        #expect(events[2].state == "timeout" && events[2].reason == "was refused")
        #expect(events[3].state == "error 1040 ER_CON_COUNT_ERROR" && !events[3].isUp)
        #expect(events[4].duration == 3 * second && events[4].failedProbes == 3)
        #expect(events[4].state == "greeting 10.11.20-MariaDB")
        let summary = timeline.summaries(now: 10 * second)
        #expect(summary.count == 1)
        // The outage still open at the end counts: 2 outages, the open one 2 s long.
        #expect(summary[0].probes == 9 && summary[0].failedProbes == 4 && summary[0].outages == 2)
        #expect(summary[0].longestOutage == 3 * second && summary[0].downAtEnd && !summary[0].downAtStart)
        #expect(summary[0].totalOutage == 3 * second + 2 * second)
    }

    /// A target down for the whole watch is one outage as long as the watch, not `outages=0`.
    @Test func downTheWholeWatchIsAnOutage() {
        var timeline = WatchTimeline()
        let ms: Int64 = 1_000_000
        var events: [WatchTimeline.Event] = []
        for round in 0..<10 {
            if let event = timeline.record(Self.result(.error, at: Int64(round) * 200 * ms, error: 1129)) { events.append(event) }
        }
        #expect(events.map(\.change) == [.initial])
        let summary = timeline.summaries(now: 2000 * ms)[0]
        #expect(summary.outages == 1 && summary.downAtStart && summary.downAtEnd)
        #expect(summary.totalOutage == 2000 * ms && summary.longestOutage == 2000 * ms)
        #expect(ProbeRendering.text(summary).contains("outages=1 longest=2000.000ms total-down=2000.000ms"))
        let json = ProbeRendering.json(summary, exitStatus: 10, envelope: JSONEnvelope(host: "n1"), time: .zero).text
        #expect(json.contains("\"exit_status\":10") && json.contains("\"outages\":1"), "\(json)")
    }

    /// ERR 1129 after greetings is a `down`; 1040 after 1129 a `changed` with the server's text; connection
    /// ids going back (another backend) a `changed` while up.
    @Test func blockedAndBackendChangesAreEvents() {
        var timeline = WatchTimeline()
        var greeting7 = Self.result(.greeting, version: "10.11.19-MariaDB", at: 0)
        greeting7.greeting?.connectionID = 90
        var greeting8 = Self.result(.greeting, version: "10.11.19-MariaDB", at: 1)
        greeting8.greeting?.connectionID = 7
        let blocked = Self.result(.error, at: 2, error: 1129)
        let full = Self.result(.error, at: 3, error: 1040)
        let events = [greeting7, greeting8, blocked, full].compactMap { timeline.record($0) }
        #expect(events.map(\.change) == [.initial, .changed, .down, .changed])
        #expect(events[1].reason?.contains("from 90 to 7") == true)
        #expect(events[2].state == "error 1129 ER_HOST_IS_BLOCKED")
        let line = ProbeRendering.text(events[3], result: full)
        #expect(line.hasPrefix("changed 198.51.100.20:3306 error 1040 ER_CON_COUNT_ERROR (was error 1129"), "\(line)")
        #expect(line.hasSuffix("\"no\""), "the server's text: \(line)")
    }

    @Test func bannerIsPrintable() {
        #expect(printableBanner(Array("SSH-2.0-x\r\n".utf8)) == "SSH-2.0-x\\r\\n")
        #expect(printableBanner([0x00, 0xFF, 0x5C]) == "\\x00\\xff\\\\")
        #expect(printableBanner([UInt8](repeating: 0x41, count: 500)).count == 200)
    }
}

/// The recorded MariaDB captures through the capture mode (core reassembly + MySQL decoders) against the
/// values tshark decoded at recording time (captures/expected/*.json).
@Suite("svcprobe -r: recorded captures against tshark")
struct CaptureScanTests {
    static func tshark(_ name: String) throws -> [String: Any] {
        let url = Support.captures.appendingPathComponent("expected/\(name).json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let frames = json?["frames"] as? [[String: Any]] ?? []
        return frames.compactMap { $0["mysql"] as? [String: Any] }.reduce(into: [:]) { merged, next in
            merged.merge(next) { first, _ in first }
        }
    }

    @Test func greetingCaptureMatchesTshark() throws {
        let findings = try CaptureScanner.scan(
            path: Support.captures.appendingPathComponent("mariadb-greeting.pcap").path, port: 3306)
        let oracle = try Self.tshark("mariadb-greeting")
        try #require(findings.count == 1)
        let greeting = try #require(findings[0].greeting)
        #expect(greeting.serverVersion == oracle["version"] as? String)
        #expect(Int(greeting.connectionID) == oracle["thread_id"] as? Int)
        #expect(Int(greeting.capabilities.classic & 0xFFFF) == oracle["caps_server"] as? Int)
        #expect(Int(greeting.capabilities.classic >> 16) == oracle["extcaps_server"] as? Int)
        #expect(Int(greeting.capabilities.mariaDBExtended) == oracle["mariadb_extcaps_server"] as? Int)
        #expect(Int(greeting.protocolVersion) == oracle["protocol"] as? Int)
        #expect(greeting.flavour == .mariaDB && greeting.hasVersionPrefixHack)
        #expect(greeting.version == "10.11.19-MariaDB-0+deb12u1")
        #expect(findings[0].clientHello?.user == oracle["user"] as? String)
        #expect(findings[0].verdict == .ok, "the recording's login succeeded (tshark response_code 0)")
        #expect(findings[0].synAt != nil && findings[0].greetingAt != nil)
    }

    @Test func error1130CaptureMatchesTshark() throws {
        let findings = try CaptureScanner.scan(
            path: Support.captures.appendingPathComponent("mariadb-error-1130.pcap").path, port: 3306)
        let oracle = try Self.tshark("mariadb-error-1130")
        try #require(findings.count == 1)
        let error = try #require(findings[0].error)
        #expect(Int(error.code.rawValue) == oracle["error_code"] as? Int)
        #expect(error.message == oracle["error_message"] as? String)
        #expect(error.sqlState == nil && findings[0].greeting == nil && findings[0].outcome == .error)
    }

    @Test func otherPortsFindNothing() throws {
        let findings = try CaptureScanner.scan(
            path: Support.captures.appendingPathComponent("mariadb-greeting.pcap").path, port: 3307)
        #expect(findings.isEmpty)
    }
}

@Suite("svcprobe command line")
struct CommandLineTests {
    @Test func helpTeachesWhatIsSentAndTheExitCodes() throws {
        let help = try ChildProcess.run([try Support.svcprobe(), "--help"])
        #expect(help.status == 0)
        let text = help.standardOutput.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        for phrase in ["HandshakeResponse41", "EMPTY password", "COM_QUIT", "max_connect_errors", "ERR 1129",
            "--close-after-greeting", "10 a target did not answer", "11 a target answered with an ERR packet",
            "12 a greeting's version did not match", "Examples:"] {
            #expect(text.contains(phrase), "--help should mention \(phrase)")
        }
    }

    @Test func usageErrorsAreOneSentence() throws {
        let bin = try Support.svcprobe()
        for arguments in [[String](), ["h:99999"], ["h:1", "-r", "x.pcap"], ["h:1", "--timeout", "soon"],
            ["h:1", "--expect-version", "("], ["h:1", "--duration", "5s"]] {
            let output = try ChildProcess.run([bin] + arguments)
            #expect(output.status == 64, "\(arguments)")
            #expect(output.standardError.hasPrefix("svcprobe: "), "\(arguments): \(output.standardError)")
            #expect(output.standardError.hasSuffix("See 'svcprobe --help' for the options and examples.\n"))
        }
        let missing = try ChildProcess.run([bin, "-r", "/nonexistent.pcap"])
        #expect(missing.status == 1 && missing.standardError.hasPrefix("svcprobe: "))
    }
}
