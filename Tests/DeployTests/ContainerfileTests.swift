import Foundation
import TestSupport
import Testing

/// No container engine runs here, so the Containerfile is checked as text: its stages, base images, the
/// packages and flags the design requires, and that every path it copies exists.
@Suite("deploy/Containerfile")
struct ContainerfileTests {
    static func instructions() throws -> [(instruction: String, arguments: String)] {
        // Join continuation lines, drop comments.
        var logical: [String] = []
        var current = ""
        for line in try Deploy.text("Containerfile").split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current.isEmpty && (trimmed.hasPrefix("#") || trimmed.isEmpty) { continue }
            if trimmed.hasSuffix("\\") {
                current += trimmed.dropLast() + " "
            } else {
                logical.append(current + trimmed)
                current = ""
            }
        }
        return logical.map { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            return (parts[0].uppercased(), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    @Test("Two stages: a Swift 6 build on bookworm, then debian:12-slim with the runtime libraries")
    func stages() throws {
        let lines = try Self.instructions()
        let froms = lines.filter { $0.instruction == "FROM" }.map(\.arguments)
        #expect(froms.count == 2)
        #expect(froms.first?.contains("swift:6") == true && froms.first?.hasSuffix(" AS build") == true)
        #expect(froms.last == "docker.io/library/debian:12-slim")
        let runs = lines.filter { $0.instruction == "RUN" }.map(\.arguments)
        #expect(runs.contains { $0.contains("swift build -c release --static-swift-stdlib") })
        let runtimeInstall = try #require(runs.last { $0.contains("apt-get install") })
        for package in ["libpcap0.8", "libnl-3-200", "libnl-route-3-200", "libssl3"] {
            #expect(runtimeInstall.contains(" \(package)"), "\(package)")
        }
        let user = lines.last { $0.instruction == "USER" }?.arguments ?? "root"
        #expect(!user.hasPrefix("0") && !user.hasPrefix("root"))
    }

    @Test("Every COPY source exists in the repository, and the runtime copies every tool the build produced")
    func copies() throws {
        let lines = try Self.instructions()
        let executables = ["garpwatch", "bgpdecode", "addrinspect", "svcprobe", "vipdump"]
        var stageCopies: [String] = []
        for (instruction, arguments) in lines where instruction == "COPY" {
            let words = arguments.split(separator: " ").map(String.init)
            if words.first == "--from=build" {
                stageCopies = Array(words.dropFirst().dropLast())
                continue
            }
            for source in words.dropLast() {
                let path = TestEnvironment.repository.appendingPathComponent(source).path
                #expect(FileManager.default.fileExists(atPath: path), "COPY \(source): not in the repository")
            }
        }
        #expect(stageCopies.sorted() == executables.map { "/out/\($0)" }.sorted())
        let build = lines.filter { $0.instruction == "RUN" }.map(\.arguments).first { $0.contains("swift build") } ?? ""
        for tool in executables {
            #expect(build.contains("/\(tool)"), "the build stage does not copy \(tool) to /out")
        }
        // Every executable product of the package, except the benchmark helper, is in the image.
        let manifest = try String(
            contentsOf: TestEnvironment.repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        let products = AlertTests.matches(#"\.executable\(name: "([a-z]+)""#, in: manifest).map { $0[1] }
        #expect(Set(products) == Set(executables))
    }
}
