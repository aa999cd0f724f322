import Foundation
import TestSupport
import Testing

/// `addrinspect watch` as a child process against changes the test makes with `ip`: reported in order, within a
/// bounded time, and a burst of 10,000 address changes either all reported or an explicit overflow plus resync
/// that ends in the same state `ip` shows.
@Suite(.serialized)
struct WatchTests {
    /// A running `addrinspect watch --json`, its standard output going to a file the test polls.
    final class Watcher {
        let process = Process()
        let path: String

        init(_ arguments: [String]) throws {
            path = NSTemporaryDirectory() + "ai-watch-\(getpid())-\(UUID().uuidString).jsonl"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            process.executableURL = URL(fileURLWithPath: try Support.addrinspect)
            process.arguments = ["watch", "--json"] + arguments
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            process.standardError = FileHandle.standardError
            try process.run()
        }

        private var parsed: [[String: Any]] = []
        private var consumed = 0

        /// Every complete line so far (new lines are parsed once: a burst is tens of thousands of lines).
        func events() throws -> [[String: Any]] {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            guard data.count > consumed, let end = data.lastIndex(of: UInt8(ascii: "\n")), end >= consumed else {
                return parsed
            }
            parsed += try JSONLines.objects(String(decoding: data[consumed...end], as: UTF8.self))
            consumed = end + 1
            return parsed
        }

        /// Poll until `done` holds or `seconds` pass; returns the events at that point.
        func wait(seconds: Double, until done: ([[String: Any]]) -> Bool) throws -> [[String: Any]] {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let now = try events()
                if done(now) { return now }
                usleep(50_000)
            }
            return try events()
        }

        func stop() -> Int32 {
            if process.isRunning { process.interrupt() }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: path)
            return process.terminationStatus
        }
    }

    static func summary(_ event: [String: Any]) -> String {
        let object = (event["new"] ?? event["old"]) as? [String: Any] ?? [:]
        let what = object["local"] ?? object["dst"] ?? object["ifname"] ?? "-"
        return "\(event["event"] ?? "-") \(event["object"] ?? "-") \(what)"
    }

    @Test func reportsChangesInOrderWithinBoundedTime() throws {
        let lab = try NamespaceLab(tag: "w")
        defer { lab.tearDown() }
        try lab.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
        try lab.ip("link", "set", "v0", "up")
        try lab.ip("link", "set", "v1", "up")
        // Removing a link's last IPv4 address flushes its ARP entries: keep one, so only the test removes them.
        try lab.ip("addr", "add", "203.0.113.1/24", "dev", "v0")
        let watcher = try Watcher(["--netns", lab.name, "--duration", "30"])
        defer { _ = watcher.stop() }
        let ready = try watcher.wait(seconds: 10) { $0.contains { $0["event"] as? String == "ready" } }
        try #require(
            ready.first?["event"] as? String == "start" && ready.dropFirst().first?["event"] as? String == "ready",
            "watch never became ready")

        let started = Date()
        try lab.ip("addr", "add", "198.51.100.40/32", "dev", "v0")
        try lab.ip("neigh", "add", "203.0.113.30", "lladdr", "02:00:00:00:00:30", "dev", "v0", "nud", "permanent")
        try lab.ip("-6", "addr", "add", "2001:db8::40/128", "dev", "v0", "nodad")
        try lab.ip("addr", "del", "198.51.100.40/32", "dev", "v0")
        try lab.ip("neigh", "del", "203.0.113.30", "dev", "v0")
        try lab.ip("link", "set", "v0", "mtu", "1400")
        let expected = [
            "added addr 198.51.100.40", "added neigh 203.0.113.30", "added addr 2001:db8::40",
            "removed addr 198.51.100.40", "removed neigh 203.0.113.30", "changed link v0",
        ]
        let interesting = Set(expected)
        let events = try watcher.wait(seconds: 5) { events in
            events.map(Self.summary).filter(interesting.contains).count >= expected.count
        }
        #expect(events.map(Self.summary).filter(interesting.contains) == expected)
        #expect(Date().timeIntervalSince(started) < 5)
        // The MTU change carries both values.
        let mtu = events.first { Self.summary($0) == "changed link v0" }
        #expect((mtu?["old"] as? [String: Any])?["mtu"] as? Int == 1500)
        #expect((mtu?["new"] as? [String: Any])?["mtu"] as? Int == 1400)
        #expect(watcher.stop() == 0)
    }

    /// Apply added/removed events to a set of addresses, as a consumer of the stream would.
    static func replay(_ events: [[String: Any]]) -> Set<String> {
        var state = Set<String>()
        for event in events where event["object"] as? String == "addr" {
            let object = (event["new"] ?? event["old"]) as? [String: Any] ?? [:]
            let key = "\(object["local"] ?? "-")/\(object["prefixlen"] ?? "-")"
            switch event["event"] as? String {
            case "added": state.insert(key)
            case "removed": state.remove(key)
            default: break
            }
        }
        return state
    }

    static func burst(lab: NamespaceLab, receiveBuffer: Int?) throws -> (events: [[String: Any]], truth: Set<String>) {
        try lab.ip("link", "add", "kube-ipvs0", "type", "ifb")
        try lab.ip("link", "set", "kube-ipvs0", "arp", "off", "up")
        let batch = NSTemporaryDirectory() + "ai-batch-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: batch) }
        let commands = (0..<10_000).map { index in
            "addr add fd99:1::\(String(index / 256, radix: 16)):\(String(index % 256, radix: 16))/128 "
                + "dev kube-ipvs0 nodad noprefixroute"
        }
        try (commands.joined(separator: "\n") + "\n").write(toFile: batch, atomically: true, encoding: .utf8)

        var arguments = ["addr", "--netns", lab.name, "--duration", "90"]
        if let receiveBuffer { arguments += ["--receive-buffer", String(receiveBuffer)] }
        let watcher = try Watcher(arguments)
        defer { _ = watcher.stop() }
        let ready = try watcher.wait(seconds: 10) { $0.contains { $0["event"] as? String == "ready" } }
        try #require(
            ready.first?["event"] as? String == "start" && ready.dropFirst().first?["event"] as? String == "ready",
            "watch never became ready")
        let before = Self.currentAddresses(lab: lab)
        try ChildProcess.mustRun(["ip", "-n", lab.name, "-batch", batch])
        let truth = Self.currentAddresses(lab: lab)
        #expect(truth.count == before.count + 10_000)
        let added = truth.subtracting(before)
        // Settled: every address of the burst known to the stream, and no resync still pending.
        let events = try watcher.wait(seconds: 60) { events in
            let overflowed = events.contains { $0["event"] as? String == "overflow" }
            let lastOverflow = events.lastIndex { $0["event"] as? String == "overflow" } ?? -1
            let lastResync = events.lastIndex { $0["event"] as? String == "resynced" } ?? -1
            if overflowed && lastResync < lastOverflow { return false }
            return added.isSubset(of: Self.replay(events))
        }
        return (events, truth)
    }

    static func currentAddresses(lab: NamespaceLab) -> Set<String> {
        let links = (try? lab.ipJSON("addr", "show")) ?? []
        return Set(links.flatMap { link in
            (link["addr_info"] as? [[String: Any]] ?? []).map { "\($0["local"] ?? "-")/\($0["prefixlen"] ?? "-")" }
        })
    }

    @Test func burstOfTenThousandIsAllReportedOrOverflowsAndResyncs() throws {
        let lab = try NamespaceLab(tag: "b")
        defer { lab.tearDown() }
        let (events, truth) = try Self.burst(lab: lab, receiveBuffer: nil)
        let replayed = Self.replay(events)
        let overflowed = events.contains { $0["event"] as? String == "overflow" }
        let burstAdds = events.filter { $0["event"] as? String == "added" && $0["resync"] == nil }.count
        if overflowed {
            #expect(events.contains { $0["event"] as? String == "resynced" })
        } else {
            #expect(burstAdds >= 10_000, "no overflow reported, yet only \(burstAdds) additions")
        }
        #expect(truth.subtracting(replayed).filter { $0.hasPrefix("fd99:1::") }.isEmpty)
    }

    @Test func tinyReceiveBufferForcesOverflowThenResyncToIPsState() throws {
        let lab = try NamespaceLab(tag: "o")
        defer { lab.tearDown() }
        let (events, truth) = try Self.burst(lab: lab, receiveBuffer: 4096)
        let kinds = events.compactMap { $0["event"] as? String }
        let firstOverflow = try #require(kinds.firstIndex(of: "overflow"), "a 4 KiB buffer never overflowed")
        let resynced = try #require(kinds.lastIndex(of: "resynced"), "no resync after the overflow")
        #expect(firstOverflow < resynced)
        #expect(events.contains { $0["resync"] as? Bool == true })
        // The stream's final view is ip's view of the burst.
        let burst = truth.filter { $0.hasPrefix("fd99:1::") }
        #expect(Self.replay(events).filter { $0.hasPrefix("fd99:1::") } == burst)
        #expect(burst.count == 10_000)
    }
}
