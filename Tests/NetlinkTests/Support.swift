import Foundation
import TestSupport
import Testing

/// Child processes, the built `addrinspect`, and JSON helpers for the Netlink tests.
enum Support {

    /// The `addrinspect` built next to this test bundle (swift build puts every product in one directory).
    static var addrinspect: String {
        get throws {
            try #require(TestEnvironment.builtTool("addrinspect"), "addrinspect is not built; run `swift build` first")
        }
    }

    /// Run addrinspect with `arguments`.
    static func addrinspect(_ arguments: [String]) throws -> ProcessOutput {
        try ChildProcess.run([try addrinspect] + arguments)
    }

    /// One JSON array of objects (what `ip -j` prints).
    static func jsonArray(_ text: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [[String: Any]], "not a JSON array of objects")
    }
}

/// A network namespace of the test's own (`<prefix><pid><tag>`), deleted by `tearDown` (which set-up failures run
/// too).
struct NamespaceLab {
    let name: String

    init(tag: String, prefix: String = "an") throws {
        try self.init(name: "\(prefix)\(getpid())\(tag)")
    }

    /// A namespace with exactly this name (made unique by the caller), replacing any left from an earlier run.
    init(name: String) throws {
        try #require(TestEnvironment.isRoot, "the Netlink integration tests need root (network namespaces)")
        self.name = name
        tearDown()
        do {
            try ChildProcess.mustRun(["ip", "netns", "add", name])
            try ChildProcess.mustRun(["ip", "-n", name, "link", "set", "lo", "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    /// `ip -n NAME args...`, which must succeed.
    func ip(_ arguments: String...) throws {
        try ChildProcess.mustRun(["ip", "-n", name] + arguments)
    }

    /// `ip -j -n NAME args...` parsed.
    func ipJSON(_ arguments: String...) throws -> [[String: Any]] {
        let output = try ChildProcess.run(["ip", "-j", "-n", name] + arguments)
        try #require(output.status == 0, "ip -j \(arguments.joined(separator: " ")) failed: \(output.standardError)")
        return try Support.jsonArray(output.standardOutput)
    }

    func sysctl(_ key: String, _ value: String) throws {
        try ChildProcess.mustRun(["ip", "netns", "exec", name, "sysctl", "-q", "-w", "\(key)=\(value)"])
    }

    func sysctlValue(_ key: String) throws -> Int? {
        let output = try ChildProcess.run(["ip", "netns", "exec", name, "sysctl", "-n", key])
        return Int(output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func tearDown() {
        _ = try? ChildProcess.run(["ip", "netns", "del", name])
    }
}
