import Foundation
import TestSupport
import Testing

/// Paths and child processes for the tests of scripts/install and scripts/runbook.
enum NodeReadiness {
    static let repository = TestEnvironment.repository
    static let tools = ["garpwatch", "bgpdecode", "addrinspect", "svcprobe", "vipdump"]

    /// True when the test may go on: root here. Under CI a missing prerequisite is a failure, never a skip.
    static func requireRoot(_ what: String) -> Bool {
        if TestEnvironment.isRoot { return true }
        if TestEnvironment.isCI { Issue.record("\(what) needs root (setcap, network namespaces); CI runs as root") }
        return false
    }

    /// The directory holding the tools built beside this test bundle (swift build --build-tests builds them).
    static func builtToolsDirectory() throws -> String {
        let paths = tools.map { TestEnvironment.builtTool($0) }
        let first = try #require(paths.first ?? nil, "the tools are not built (swift build)")
        let directory = URL(fileURLWithPath: first).deletingLastPathComponent().path
        try #require(
            paths.allSatisfy { $0.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } == directory },
            "the tools are not all built in \(directory) (swift build)")
        return directory
    }

    /// Run `arguments` (through /usr/bin/env, so names are looked up on PATH) in the repository, with
    /// `environment` added to this process's.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessOutput {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return try ChildProcess.run(arguments, environment: merged, directory: repository)
    }
}
