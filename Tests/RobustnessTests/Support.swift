import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// Where the inputs live, found from this file's path so the tests run from any working directory.
enum Paths {
    static let repository = TestEnvironment.repository
    static let captures = TestEnvironment.captures
    static let seeds = repository.appendingPathComponent("Fuzz/seeds")
    static let regressions = repository.appendingPathComponent("Tests/FuzzRegressions")
    static let tcpdumpCorpus = TestEnvironment.tcpdumpCorpus


    /// Regular files under `directory` (recursively), sorted, relative to `base`.
    static func files(under directory: URL, relativeTo base: URL = repository, extensions: Set<String>? = nil)
        -> [String]
    {
        guard
            let enumerator = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var names: [String] = []
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            if let extensions, !extensions.contains(url.pathExtension) { continue }
            if url.lastPathComponent.hasPrefix(".") || url.lastPathComponent == "README.md" { continue }
            names.append(String(url.path.dropFirst(base.path.count + 1)))
        }
        return names.sorted()
    }
}

/// Fuzz inputs: (target, path relative to the repository) for every committed seed and regression input.
enum FuzzInputs {
    static func all(_ target: String) -> [String] {
        Paths.files(under: Paths.seeds.appendingPathComponent(target))
            + Paths.files(under: Paths.regressions.appendingPathComponent(target))
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Paths.repository.appendingPathComponent(relative)))
    }
}

/// Every frame of a capture file, decoded; a file cut short on purpose (tcpdump's corpus has some) gives
/// the frames before the cut.
func decodeFile(_ path: String) throws -> [DecodedFrame] {
    try decodeCaptureFile(path, framesBeforeACut: true)
}
