import Foundation
import Testing

/// Helpers shared by the Capture tests: scratch files, child processes, frames.
enum Support {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    static var isRoot: Bool { getuid() == 0 }
    static let corpus = "/work/shared/corpus/tcpdump"

    /// A fresh directory for one test's files, removed by the caller with `removeScratch`.
    static func makeScratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "vscap-test-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeScratch(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The full path of an installed program, or nil.
    static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(program)") {
            return "\(directory)/\(program)"
        }
        return nil
    }

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Run a program to completion (through `env`, so it is looked up in PATH).
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        let error = errorPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: error, as: UTF8.self))
    }

    /// Run a set-up command that must succeed.
    static func mustRun(_ arguments: [String]) throws {
        let output = try run(arguments)
        try #require(
            output.status == 0, "`\(arguments.joined(separator: " "))` failed: \(output.standardError)")
    }

    /// Frames in `path` according to tshark (or tcpdump when tshark is missing).
    static func independentFrameCount(_ path: String) throws -> Int {
        if which("tshark") != nil {
            let output = try run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number"])
            try #require(output.status == 0, "tshark failed on \(path): \(output.standardError)")
            return output.standardOutput.split(separator: "\n").count
        }
        let output = try run(["tcpdump", "-n", "-r", path])
        try #require(output.status == 0, "tcpdump failed on \(path): \(output.standardError)")
        return output.standardOutput.split(separator: "\n").count
    }

    static var hasIndependentDecoder: Bool { which("tshark") != nil || which("tcpdump") != nil }

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
