import Foundation
import TestSupport
import Testing

/// Helpers shared by the Capture tests: scratch files, child processes, frames.
enum Support {
    static let corpus = TestEnvironment.tcpdumpCorpus.path

    /// A fresh directory for one test's files, removed by the caller with `removeScratch`.
    static func makeScratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "vscap-test-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeScratch(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `sample` written (nanosecond or microsecond pcap) as `name` in a scratch directory, which is removed
    /// when `body` returns; `body` gets the file's path.
    static func withSampleFile(
        _ sample: SampleCapture = SampleCapture(), named name: String = "sample.pcap", nanosecond: Bool = true,
        _ body: (String) throws -> Void
    ) throws {
        let directory = try makeScratchDirectory()
        defer { removeScratch(directory) }
        let path = directory + "/" + name
        try sample.write(to: path, nanosecond: nanosecond)
        try body(path)
    }

    /// Frames in `path` according to tshark (or tcpdump when tshark is missing).
    static func independentFrameCount(_ path: String) throws -> Int {
        if ChildProcess.which("tshark") != nil {
            let output = try ChildProcess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number"])
            try #require(output.status == 0, "tshark failed on \(path): \(output.standardError)")
            return output.standardOutput.split(separator: "\n").count
        }
        let output = try ChildProcess.run(["tcpdump", "-n", "-r", path])
        try #require(output.status == 0, "tcpdump failed on \(path): \(output.standardError)")
        return output.standardOutput.split(separator: "\n").count
    }

    static var hasIndependentDecoder: Bool {
        ChildProcess.which("tshark") != nil || ChildProcess.which("tcpdump") != nil
    }

    static func bytes(ofFile path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Hand-made Ethernet frames.
enum Frames {
    static let broadcast: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    /// A gratuitous ARP request for 198.51.100.`host`, 42 bytes.
    static func gratuitousARP(host: UInt8, macSuffix: UInt8) -> [UInt8] {
        let mac: [UInt8] = [0x02, 0x42, 0xac, 0x10, 0x00, macSuffix]
        let ip: [UInt8] = [198, 51, 100, host]
        return broadcast + mac + [0x08, 0x06] + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01] + mac + ip
            + [0, 0, 0, 0, 0, 0] + ip
    }

    /// An IPv4 UDP frame of `length` bytes (contents beyond the headers are a counting pattern).
    static func ipv4UDP(length: Int, seed: UInt8) -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]
        let ipLength = length - 14
        frame += [0x45, 0, UInt8(ipLength >> 8), UInt8(ipLength & 0xff), 0, 0, 0x40, 0, 64, 17, 0, 0]
        frame += [203, 0, 113, 1, 203, 0, 113, 2]
        let udpLength = ipLength - 20
        frame += [0x30, 0x39, 0x00, 0x09, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        while frame.count < length { frame.append(UInt8(truncatingIfNeeded: frame.count) &+ seed) }
        return frame
    }
}
