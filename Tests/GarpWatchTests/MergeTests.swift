import Foundation
import GarpWatchKit
import PacketCore
import TestSupport
import Testing

/// Issue 15 item 3: several `-r` files are one capture merged by timestamp, and a `--state` from another
/// run is never taken for an outage (nor for a negative one).
@Suite struct MergeTests {
    typealias H = HardeningTests

    /// The failover split in two files: node1's announcements (0-2.2 s) and node2's takeover (10-14.4 s).
    static func halves() throws -> (early: String, late: String) {
        let frames = H.failoverFrames()
        let early = H.scratch("merge-early.pcap")
        let late = H.scratch("merge-late.pcap")
        try H.writeCapture(early, frames.filter { $0.0 < 5 })
        try H.writeCapture(late, frames.filter { $0.0 >= 5 })
        return (early, late)
    }

    @Test func orderOfReadOptionsDoesNotChangeTheEvents() throws {
        let (early, late) = try Self.halves()
        let binary = try Support.garpwatchBinary()
        let forward = try ChildProcess.run([binary, "-r", early, "-r", late])
        let backward = try ChildProcess.run([binary, "-r", late, "-r", early])
        #expect(forward.status == 0 && backward.status == 0, "\(forward.standardError)\(backward.standardError)")
        #expect(forward.standardOutput == backward.standardOutput)
        let takeover = try #require(backward.lines.first { $0.contains(" takeover ") })
        #expect(takeover.contains("gap 7800.000 ms"), "\(takeover)")
        #expect(!backward.standardOutput.contains("gap -"))
        let json = try ChildProcess.run([binary, "-r", late, "-r", early, "--json"])
        let event = try #require(try JSONLines.objects(json.standardOutput).first { $0["event"] as? String == "takeover" })
        #expect(event["gap"] as? String == "outage" && event["gap_ms"] as? Double == 7800)
    }

    @Test func mergeHeapGivesTimeOrderThenRank() {
        var heap = MergeHeap()
        let times = [5, 1, 4, 1, 3, 9, 2, 6]
        for (source, second) in times.enumerated() {
            heap.push(MergeHeap.Entry(time: Timestamp(seconds: Int64(second), nanoseconds: 0), rank: 7 - source,
                                      source: source))
        }
        var out: [MergeHeap.Entry] = []
        while let next = heap.pop() { out.append(next) }
        #expect(out.map(\.time.seconds) == [1, 1, 2, 3, 4, 5, 6, 9])
        // The two entries at 1 s: the lower rank (source 3, rank 4) first.
        #expect(out.prefix(2).map(\.source) == [3, 1])
        #expect(heap.count == 0)
    }

    @Test func stateNewerThanTheCaptureIsSaidSoNeverANegativeGap() throws {
        let (early, late) = try Self.halves()
        let state = H.scratch("merge-state-newer.json")
        try? FileManager.default.removeItem(atPath: state)
        let binary = try Support.garpwatchBinary()
        // The later capture first: the state ends with node2 owning the VIP at 14.4 s.
        let first = try ChildProcess.run([binary, "-r", late, "--state", state])
        #expect(first.status == 0, "\(first.standardError)")
        let copy = H.scratch("merge-state-newer-copy.json")
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: state, toPath: copy)
        let second = try ChildProcess.run([binary, "-r", early, "--state", state])
        #expect(second.status == 0, "\(second.standardError)")
        #expect(!second.standardOutput.contains("gap -"))
        let takeover = try #require(second.lines.first { $0.contains(" takeover ") })
        #expect(takeover.contains("state file newer than the capture"), "\(takeover)")
        #expect(second.standardError.contains("later than this capture's first frame"))
        let json = try ChildProcess.run([binary, "-r", early, "--state", copy, "--json"])
        let event = try #require(try JSONLines.objects(json.standardOutput).first { $0["event"] as? String == "takeover" })
        #expect(event["gap"] as? String == "state-newer" && event["gap_ms"] == nil)
    }

    @Test func gapAcrossRunsIsLabelledNotAnOutage() throws {
        let (early, late) = try Self.halves()
        let state = H.scratch("merge-state-across.json")
        try? FileManager.default.removeItem(atPath: state)
        let binary = try Support.garpwatchBinary()
        #expect(try ChildProcess.run([binary, "-r", early, "--state", state]).status == 0)
        let second = try ChildProcess.run([binary, "-r", late, "--state", state])
        #expect(second.status == 0, "\(second.standardError)")
        let takeover = try #require(second.lines.first { $0.contains(" takeover ") })
        #expect(takeover.contains("gap not measured") && takeover.contains("by an earlier run"), "\(takeover)")
        #expect(!takeover.contains(" gap 7800"))
    }
}
