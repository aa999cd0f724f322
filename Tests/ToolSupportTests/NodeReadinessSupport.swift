import Foundation
import Testing

/// Paths and child processes for the tests of scripts/install and scripts/runbook.
enum NodeReadiness {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let tools = ["garpwatch", "bgpdecode", "addrinspect", "svcprobe", "vipdump"]
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    static var isRoot: Bool { geteuid() == 0 }

    /// True when the test may go on: root here. Under CI a missing prerequisite is a failure, never a skip.
    static func requireRoot(_ what: String) -> Bool {
        if isRoot { return true }
        if isCI { Issue.record("\(what) needs root (setcap, network namespaces); CI runs as root") }
        return false
    }

    /// The directory holding the tools built beside this test bundle (swift build --build-tests builds them).
    static func builtToolsDirectory() throws -> String {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        var directory = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            if tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path) }) {
                return directory.path
            }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = repository.appendingPathComponent(".build/debug").path
        try #require(
            tools.allSatisfy { FileManager.default.isExecutableFile(atPath: fallback + "/" + $0) },
            "the tools are not built (swift build)")
        return fallback
    }

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Run `arguments` (through /usr/bin/env, so names are looked up on PATH) in the repository; both pipes are
    /// drained on their own threads so a chatty child never blocks.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = repository
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        let errors = DrainedPipe(errorPipe)
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errors.value(), as: UTF8.self))
    }
}

/// Reads a pipe to its end on a background thread. Only `value()` reads `data`, after the semaphore says the
/// reader thread is done with it, which is why the unchecked Sendable is sound.
final class DrainedPipe: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func value() -> Data {
        done.wait()
        return data
    }
}
