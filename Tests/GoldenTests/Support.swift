import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// Where the recorded captures and the shared corpus live, found from this file's path so the tests run
/// from any working directory.
enum Paths {
    static let repository = TestEnvironment.repository
    static let captures = TestEnvironment.captures
    static let expected = captures.appendingPathComponent("expected")
    static let tcpdumpCorpus = TestEnvironment.tcpdumpCorpus


    static func files(in directory: URL, extensions: Set<String>) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }.filter { extensions.contains($0.pathExtension) }
    }
}

/// One decoded frame with its capture record's facts.
struct DecodedFrame {
    var number: Int
    var timestamp: Timestamp
    var capturedLength: Int
    var originalLength: Int
    var packet: Packet
    var bytes: [UInt8]
}

/// Read every frame of a capture file through Capture and decode it with the core.
func decodeFile(_ url: URL) throws -> [DecodedFrame] {
    let source = try PacketSource.openFile(url.path)
    var frames: [DecodedFrame] = []
    try source.forEach { record in
        let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
        frames.append(
            DecodedFrame(
                number: frames.count + 1, timestamp: record.timestamp, capturedLength: record.capturedLength,
                originalLength: record.originalLength, packet: packet, bytes: Array(record.bytes)))
        return .continue
    }
    return frames
}
