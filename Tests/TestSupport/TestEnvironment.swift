import Foundation

/// Where the tests run and what they may assume. Under CI a missing prerequisite is a failure, never a skip.
public enum TestEnvironment {
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    public static var isRoot: Bool { geteuid() == 0 }

    /// The repository, found from this file's path so the tests run from any working directory.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    public static let captures = repository.appendingPathComponent("captures")
    /// tcpdump's own test captures, vendored with their licence (see Tests/Corpus/tcpdump/README.md).
    public static let tcpdumpCorpus = repository.appendingPathComponent("Tests/Corpus/tcpdump")

    /// The path of a tool built beside this test bundle (`swift build --build-tests` puts every product in
    /// one directory), or in .build/debug; nil when it is not built.
    public static func builtTool(_ name: String) -> String? {
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0])
        var candidates: [String] = []
        var directory = bundle.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent(name).path)
            candidates.append(directory.appendingPathComponent("debug/\(name)").path)
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(repository.appendingPathComponent(".build/debug/\(name)").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
