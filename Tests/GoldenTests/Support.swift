import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// Where the recorded captures and tcpdump's corpus live, found from this file's path so the tests run
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

/// Every frame of a capture file, decoded (a file cut short throws).
func decodeFile(_ url: URL) throws -> [DecodedFrame] {
    try decodeCaptureFile(url.path)
}
