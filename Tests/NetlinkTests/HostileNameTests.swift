import Foundation
import TestSupport
import Testing

/// Interface names are any bytes but '/', ':', NUL and white space, chosen by whoever may create links (a
/// container runtime, a CNI plugin). A name holding a terminal escape must not reach the terminal raw
/// (issue 18, forged output).
@Suite("Hostile interface names", .serialized)
struct HostileNameTests {
    @Test func escapesInAnInterfaceNameAreShownEscaped() throws {
        let lab = try NamespaceLab(tag: "esc")
        defer { lab.tearDown() }
        let hostile = "e\u{1b}[7mX"
        let peer = "p\u{1b}]0;t\u{07}"
        try lab.ip("link", "add", hostile, "type", "veth", "peer", "name", peer)
        try lab.ip("addr", "add", "198.51.100.77/32", "dev", hostile)
        try lab.ip("link", "set", hostile, "up")
        for command in [["link"], ["addr"], ["route", "--table", "local"], ["has", "198.51.100.77"]] {
            let output = try Support.addrinspect(command + ["--netns", lab.name])
            #expect([0, 10, 11, 12].contains(output.status), "\(command): \(output.standardError)")
            #expect(!output.standardOutput.contains("\u{1b}") && !output.standardOutput.contains("\u{07}"),
                    "\(command) printed a raw escape: \(output.standardOutput.debugDescription)")
            #expect(output.standardOutput.contains("e\\x1b[7mX"), "\(command): \(output.standardOutput)")
            // JSON keeps the real name (its quoting escapes it): consumers get the bytes the kernel holds.
            let json = try Support.addrinspect(command + ["--netns", lab.name, "--json"])
            #expect(json.standardOutput.contains("e\\u001b[7mX"), "\(command) --json: \(json.standardOutput)")
        }
    }
}
