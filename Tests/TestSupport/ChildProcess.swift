import Foundation

/// What a child process printed and how it ended.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public init(status: Int32, standardOutput: String, standardError: String) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    public var lines: [String] { standardOutput.split(separator: "\n").map(String.init) }
}

/// A child process running while the test does something else; `wait()` collects what it printed.
public final class RunningProcess {
    public let process = Process()
    private let output: DrainedPipe
    private let errors: DrainedPipe

    /// Start `executable` (an absolute path) with both pipes drained on their own threads.
    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        output = DrainedPipe(outputPipe)
        errors = DrainedPipe(errorPipe)
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace` seconds; what it printed, and how long the
    /// graceful stop took (nil when it had to be killed).
    @discardableResult
    public func stop(grace: Double = 5) -> (output: ProcessOutput, seconds: Double?) {
        let start = Date()
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        while process.isRunning && Date().timeIntervalSince(start) < grace { usleep(20_000) }
        let graceful = !process.isRunning
        if !graceful { kill(process.processIdentifier, SIGKILL) }
        let output = wait()
        return (output, graceful ? Date().timeIntervalSince(start) : nil)
    }

    /// Wait for the exit; its status and everything it printed.
    public func wait() -> ProcessOutput {
        process.waitUntilExit()
        return ProcessOutput(
            status: process.terminationStatus, standardOutput: String(decoding: output.value(), as: UTF8.self),
            standardError: String(decoding: errors.value(), as: UTF8.self))
    }
}

/// A set-up command that must succeed did not; thrown, it fails the test with the command and its stderr.
public struct ProcessFailure: Error, CustomStringConvertible {
    public var description: String
}

/// Child processes for the tests: one runner, so every test target reads both pipes the same safe way.
public enum ChildProcess {
    /// Run `arguments` to completion through `/usr/bin/env`, so the program is looked up on PATH (an
    /// absolute path works too). `environment` replaces the inherited one when given; `directory` is the
    /// working directory (the test's when nil). Standard error is drained on another thread while standard
    /// output is read here, so a chatty child can never block on a full pipe.
    @discardableResult
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil
    ) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        let errors = DrainedPipe(errorPipe)
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessOutput(
            status: process.terminationStatus, standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errors.value(), as: UTF8.self))
    }

    /// Run a set-up command that must succeed (throws `ProcessFailure` otherwise).
    public static func mustRun(_ arguments: [String]) throws {
        let output = try run(arguments)
        guard output.status == 0 else {
            throw ProcessFailure(description: "`\(arguments.joined(separator: " "))` failed: \(output.standardError)")
        }
    }

    /// The full path of an installed program (PATH, then the sbin directories), or nil.
    public static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(program)") {
            return "\(directory)/\(program)"
        }
        return nil
    }
}

/// Reads a pipe to its end on a background thread. Only `value()` reads `data`, after the semaphore says
/// the reader is done with it, which is why the unchecked Sendable is sound.
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
