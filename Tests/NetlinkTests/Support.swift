import Foundation
import Testing

/// Child processes, the built `addrinspect`, and JSON helpers for the Netlink tests.
enum Support {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    static var isRoot: Bool { getuid() == 0 }

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Run a program to completion (looked up in PATH through `env`).
    @discardableResult
    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        // Read stderr on another thread while stdout is drained here, so neither pipe can fill and block.
        let errorData = ErrorCollector(errorPipe.fileHandleForReading)
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errorData.wait(), as: UTF8.self))
    }

    /// Run a set-up command that must succeed.
    static func mustRun(_ arguments: [String]) throws {
        let output = try run(arguments)
        try #require(output.status == 0, "`\(arguments.joined(separator: " "))` failed: \(output.standardError)")
    }

    /// The `addrinspect` built next to this test bundle (swift build puts every product in one directory).
    static var addrinspect: String {
        get throws {
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("addrinspect").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
            try #require(Bool(false), "addrinspect is not built next to the test bundle; run `swift build` first")
            return ""
        }
    }

    /// Run addrinspect with `arguments`.
    static func addrinspect(_ arguments: [String]) throws -> Output {
        try run([try addrinspect] + arguments)
    }

    /// JSON Lines into objects.
    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// One JSON array of objects (what `ip -j` prints).
    static func jsonArray(_ text: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [[String: Any]], "not a JSON array of objects")
    }
}

/// Collects a pipe's bytes on a background thread.
final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// A network namespace of the test's own (`an<pid><tag>`), deleted by `tearDown` (which set-up failures run too).
struct NamespaceLab {
    let name: String

    init(tag: String) throws {
        try #require(Support.isRoot, "the Netlink integration tests need root (network namespaces)")
        name = "an\(getpid())\(tag)"
        tearDown()
        do {
            try Support.mustRun(["ip", "netns", "add", name])
            try Support.mustRun(["ip", "-n", name, "link", "set", "lo", "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    /// `ip -n NAME args...`, which must succeed.
    func ip(_ arguments: String...) throws {
        try Support.mustRun(["ip", "-n", name] + arguments)
    }

    /// `ip -j -n NAME args...` parsed.
    func ipJSON(_ arguments: String...) throws -> [[String: Any]] {
        let output = try Support.run(["ip", "-j", "-n", name] + arguments)
        try #require(output.status == 0, "ip -j \(arguments.joined(separator: " ")) failed: \(output.standardError)")
        return try Support.jsonArray(output.standardOutput)
    }

    func sysctl(_ key: String, _ value: String) throws {
        try Support.mustRun(["ip", "netns", "exec", name, "sysctl", "-q", "-w", "\(key)=\(value)"])
    }

    func sysctlValue(_ key: String) throws -> Int? {
        let output = try Support.run(["ip", "netns", "exec", name, "sysctl", "-n", key])
        return Int(output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func tearDown() {
        _ = try? Support.run(["ip", "netns", "del", name])
    }
}
