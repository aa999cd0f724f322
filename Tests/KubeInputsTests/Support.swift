import Foundation
import KubeInputs
import MetalLBInputs
import PacketCore
import TestSupport
import Testing

enum Inputs {
    static let directory = TestEnvironment.repository.appendingPathComponent("Tests/KubeInputsTests/Inputs")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static let oracle = TestEnvironment.repository.appendingPathComponent("Tests/KubeInputsTests/oracle.py").path

    /// The oracle's lines for `file`; under CI a missing python3 or PyYAML fails the test, elsewhere it skips.
    static func oracleLines(_ mode: String, _ file: String) throws -> [String]? {
        let probe = try? ChildProcess.run(["python3", "-c", "import yaml"])
        guard probe?.status == 0 else {
            if TestEnvironment.isCI {
                Issue.record("python3 with PyYAML (Debian's python3-yaml) is needed for the oracle: run scripts/setup.")
            }
            return nil
        }
        let output = try ChildProcess.run(["python3", oracle, mode, file])
        #expect(output.status == 0, "oracle failed: \(output.standardError)")
        return output.lines
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
}

/// The same canonical lines the oracle prints, from what KubeInputs decoded.
enum Canonical {
    static func join(_ addresses: [IPAddress]) -> String { addresses.map(\.description).joined(separator: ",") }

    static func lines(_ inventory: ServiceInventory) -> [String] {
        inventory.services.map { service in
            let ports = service.ports.map { "\($0.transport)/\($0.port)" }.joined(separator: ",")
            return "svc \(service.qualifiedName) assigned=\(join(service.assigned)) "
                + "declared=\(join(service.declared)) ports=\(ports) policy=\(service.externalTrafficPolicy) "
                + "annotations=\(service.metallbAnnotations.keys.sorted().joined(separator: ","))"
        }
    }

    static func lines(_ inventory: NodeInventory) -> [String] {
        inventory.nodes.map { "node \($0.name) \(join($0.internalIPs))" }
    }

    static func lines(_ configuration: MetalLBConfiguration) -> [String] {
        var lines: [String] = []
        for pool in configuration.pools {
            let ranges = pool.addresses.map { "\($0.range.first)-\($0.range.last)" }.joined(separator: ",")
            lines.append(
                "pool \(pool.object) \(ranges) autoAssign=\(python(pool.autoAssign)) "
                    + "avoidBuggyIPs=\(python(pool.avoidBuggyIPs))")
        }
        for l2 in configuration.l2Advertisements {
            lines.append(
                "l2 \(l2.object) pools=\(l2.ipAddressPools.joined(separator: ",")) "
                    + "interfaces=\(l2.interfaces.joined(separator: ",")) selectors=\(l2.nodeSelectors.count)")
        }
        for peer in configuration.bgpPeers {
            let auth: String
            switch peer.authentication {
            case .none: auth = "none"
            case .password: auth = "password"
            case .secret(let name): auth = "secret:\(name)"
            }
            lines.append(
                "peer \(peer.object) \(peer.peerAddress) peerASN=\(peer.peerASN) myASN=\(peer.myASN) "
                    + "port=\(peer.peerPort) hold=\(peer.holdTimeSeconds.map(String.init) ?? "-") auth=\(auth) "
                    + "multihop=\(python(peer.ebgpMultiHop))")
        }
        for advertisement in configuration.bgpAdvertisements {
            lines.append(
                "bgpadv \(advertisement.object) pools=\(advertisement.ipAddressPools.joined(separator: ",")) "
                    + "length=\(advertisement.aggregationLength)/\(advertisement.aggregationLengthV6) "
                    + "localPref=\(advertisement.localPref.map(String.init) ?? "-") "
                    + "communities=\(advertisement.communities.joined(separator: ",")) "
                    + "peers=\(advertisement.peers.joined(separator: ","))")
        }
        for community in configuration.communities {
            lines.append(
                "community \(community.object) "
                    + community.aliases.map { "\($0.name)=\($0.value)" }.joined(separator: ","))
        }
        lines.append("skipped \(configuration.skippedDocuments)")
        return lines
    }

    static func python(_ flag: Bool) -> String { flag ? "True" : "False" }
}

/// Expects `body` to throw a KubeInputError naming `file` in one sentence that contains every one of `words`.
func expectInputError(
    file: String, containing words: [String], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(KubeInputError) -> Void
) {
    do {
        try body()
        Issue.record("expected an error mentioning \(words)", sourceLocation: sourceLocation)
    } catch {
        let message = error.description
        #expect(message.hasPrefix("\(file): "), "\(message)", sourceLocation: sourceLocation)
        #expect(!message.contains("\n"), "not one line: \(message)", sourceLocation: sourceLocation)
        #expect(message.hasSuffix("."), "not a sentence: \(message)", sourceLocation: sourceLocation)
        for word in words {
            #expect(message.contains(word), "'\(word)' missing from: \(message)", sourceLocation: sourceLocation)
        }
    }
}
