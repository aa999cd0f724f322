import Foundation
import Testing
import ToolSupport

/// scripts/install into a throw-away PREFIX: files in place, exactly the intended file capabilities (read back
/// with getcap, the kernel's own view), one version everywhere, and an unprivileged user who can capture with
/// the capability and is told the exact fix without it. Reuses the release build in .build-install (the
/// first run builds it once, about two minutes on two cores; later runs take seconds).
@Suite("scripts/install", .serialized)
struct InstallTests {
    /// What scripts/install must grant, from each tool's needs (see scripts/install --help): raw sockets for
    /// live capture and probing, binding port 179 for bgpdecode's listener, nothing for rtnetlink reads or TCP.
    static let intendedCapabilities: [String: Set<String>] = [
        "garpwatch": ["cap_net_raw"],
        "bgpdecode": ["cap_net_raw", "cap_net_bind_service"],
        "vipdump": ["cap_net_raw"],
        "addrinspect": [],
        "svcprobe": [],
    ]

    /// An unprivileged user as a node's operator is: uid/gid nobody, no groups, no inherited capabilities. The
    /// bounding set stays full, as for any login: dropping it would forbid the file capabilities under test.
    static let asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]

    @Test func installsToolsWithLeastPrivilegeManualsAndCompletions() throws {
        guard NodeReadiness.requireRoot("scripts/install") else { return }
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("vipscope-install-\(getpid())")
        try? FileManager.default.removeItem(at: prefix)
        try FileManager.default.createDirectory(at: prefix, withIntermediateDirectories: true)
        // nobody must be able to reach PREFIX/bin.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: prefix.path)
        defer { try? FileManager.default.removeItem(at: prefix) }
        let scratch = ProcessInfo.processInfo.environment["VIPSCOPE_INSTALL_SCRATCH"]
            ?? NodeReadiness.repository.appendingPathComponent(".build-install").path

        // Twice: the second run must succeed over the first and leave the same result (idempotent).
        for round in 1...2 {
            let install = try NodeReadiness.run(["scripts/install", "--scratch-path", scratch, prefix.path])
            try #require(install.status == 0, "scripts/install (run \(round)) failed: \(install.standardError)")
        }

        let p = prefix.path
        for tool in NodeReadiness.tools {
            let files = [
                "\(p)/bin/\(tool)", "\(p)/share/man/man1/\(tool).1", "\(p)/share/bash-completion/completions/\(tool)",
                "\(p)/share/zsh/site-functions/_\(tool)", "\(p)/share/fish/vendor_completions.d/\(tool).fish",
            ]
            for file in files { #expect(FileManager.default.fileExists(atPath: file), "\(file) is missing") }

            // The manual comes from the parser: it names the tool, its --version flag and its privileges.
            let manual = (try? String(contentsOfFile: files[1], encoding: .utf8)) ?? ""
            #expect(manual.contains(".Dt \(tool.uppercased()) 1"), "\(tool).1 is not a section-1 page for \(tool)")
            #expect(manual.contains("Fl -version"), "\(tool).1 does not document --version")
            #expect(manual.contains(".Sh PRIVILEGES"), "\(tool).1 has no PRIVILEGES section")
            #expect(!manual.contains("\n\n"), "\(tool).1 has empty lines (mdoc warns about each)")
            // EXIT STATUS lists the tool's own codes (from `TOOL --exit-codes`), not the "exits 0 on success,
            // and >0 if an error occurs" boilerplate; every code is explained in --help too.
            let codes = try NodeReadiness.run([files[0], "--exit-codes"])
            let statuses = codes.standardOutput.split(separator: "\n").compactMap { $0.split(separator: "\t").first }
            #expect(codes.status == 0 && statuses.count >= 3, "\(tool) --exit-codes: \(codes.standardOutput)")
            let exitSection = manual.components(separatedBy: ".Sh EXIT STATUS").dropFirst().first ?? ""
            #expect(!exitSection.isEmpty && !exitSection.contains(".Ex -std"), "\(tool).1: boilerplate EXIT STATUS")
            let help = try NodeReadiness.run([files[0], "--help"]).standardOutput
            for status in statuses {
                #expect(exitSection.contains(".It \(status)\n"), "\(tool).1 EXIT STATUS lacks \(status)")
                #expect(help.range(of: "(^|[^0-9])\(status)( |\\)|,|:)", options: .regularExpression) != nil,
                        "\(tool) --help does not explain exit status \(status)")
            }
            // Completions are what each shell loads by name.
            let bash = (try? String(contentsOfFile: files[2], encoding: .utf8)) ?? ""
            let zsh = (try? String(contentsOfFile: files[3], encoding: .utf8)) ?? ""
            let fish = (try? String(contentsOfFile: files[4], encoding: .utf8)) ?? ""
            #expect(bash.contains("complete ") && bash.contains(tool), "bash completion for \(tool)")
            #expect(zsh.hasPrefix("#compdef \(tool)"), "zsh completion for \(tool)")
            #expect(fish.contains("complete -c '\(tool)'"), "fish completion for \(tool)")

            // getcap is the kernel's view of the file capabilities (security.capability xattr).
            let getcap = try NodeReadiness.run(["getcap", files[0]])
            try #require(getcap.status == 0, "getcap failed: \(getcap.standardError)")
            let granted = Self.capabilities(fromGetcap: getcap.standardOutput)
            #expect(granted == Self.intendedCapabilities[tool], "\(tool) has \(getcap.standardOutput)")
            if !granted.isEmpty {
                #expect(getcap.standardOutput.contains("=ep"), "\(tool): capabilities must be effective+permitted")
            }

            let version = try NodeReadiness.run([files[0], "--version"])
            #expect(version.status == 0 && version.standardOutput == VipscopeVersion.string + "\n",
                    "\(tool) --version printed '\(version.standardOutput)' \(version.standardError)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(p)/share/doc/vipscope/runbook.md"))

        // An unprivileged user captures live with the installed garpwatch...
        let live = try NodeReadiness.run(Self.asNobody + ["\(p)/bin/garpwatch", "-i", "lo", "--duration", "1"])
        #expect(live.status == 0, "garpwatch -i lo as nobody exited \(live.status): \(live.standardError)")
        #expect(!live.standardError.contains("CAP_NET_RAW"), "garpwatch as nobody: \(live.standardError)")
        // ...and a copy without the capability (cp drops it) says which capability and the setcap line.
        let bare = "\(p)/bare-garpwatch"
        try #require(FileManager.default.createFile(
            atPath: bare, contents: FileManager.default.contents(atPath: "\(p)/bin/garpwatch"),
            attributes: [.posixPermissions: 0o755]))
        let refused = try NodeReadiness.run(Self.asNobody + [bare, "-i", "lo", "--duration", "1"])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("needs CAP_NET_RAW")
                    && refused.standardError.contains("`sudo setcap cap_net_raw+ep \(bare)`"),
                "garpwatch without the capability said: \(refused.standardError)")

        let uninstall = try NodeReadiness.run(["scripts/install", "--uninstall", p])
        #expect(uninstall.status == 0, "scripts/install --uninstall: \(uninstall.standardError)")
        for tool in NodeReadiness.tools {
            #expect(!FileManager.default.fileExists(atPath: "\(p)/bin/\(tool)"), "--uninstall left \(tool)")
            #expect(!FileManager.default.fileExists(atPath: "\(p)/share/man/man1/\(tool).1"))
        }
    }

    /// addrinspect is installed without CAP_SYS_ADMIN, so --netns as an ordinary user must fail with one sentence
    /// naming the capability and the exact sudo line, while reading its own namespace needs nothing.
    @Test func addrinspectNamesTheCapabilityForNetns() throws {
        guard NodeReadiness.requireRoot("addrinspect --netns as nobody") else { return }
        let tools = try NodeReadiness.builtToolsDirectory()
        // nobody cannot read the build directory (mode 0700 under /root); use a world-readable copy.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vipscope-netns-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("addrinspect").path
        try #require(FileManager.default.createFile(
            atPath: binary, contents: FileManager.default.contents(atPath: tools + "/addrinspect"),
            attributes: [.posixPermissions: 0o755]))
        let namespace = "inst\(getpid())"
        let add = try NodeReadiness.run(["ip", "netns", "add", namespace])
        try #require(add.status == 0, "ip netns add: \(add.standardError)")
        defer { _ = try? NodeReadiness.run(["ip", "netns", "del", namespace]) }

        let denied = try NodeReadiness.run(Self.asNobody + [binary, "link", "--netns", namespace])
        #expect(denied.status == 1)
        #expect(denied.standardError.contains("CAP_SYS_ADMIN")
                    && denied.standardError.contains("`sudo \(binary) link --netns \(namespace)`"),
                "addrinspect --netns as nobody said: \(denied.standardError)")
        #expect(denied.standardError.split(separator: "\n").count == 1, "the error must be one line")

        let own = try NodeReadiness.run(Self.asNobody + [binary, "link"])
        #expect(own.status == 0 && own.standardOutput.contains(": lo "),
                "addrinspect link as nobody: \(own.standardError)")
    }

    /// "PATH cap_a,cap_b=ep" -> ["cap_a", "cap_b"]; no output (no capabilities) -> [].
    static func capabilities(fromGetcap output: String) -> Set<String> {
        guard let granted = output.split(separator: " ").dropFirst().first else { return [] }
        let names = granted.split(separator: "=").first ?? ""
        return Set(names.split(separator: ",").map { String($0) })
    }
}
