import BGPDecodeKit
import Foundation
import PacketCore
import Testing

/// Every BGP capture of tcpdump's test suite (Tests/Corpus/tcpdump) decodes without a crash or a hang,
/// and for the clean ones (not the deliberately broken *oobr*, *-ub*, *infinite-loop*, *asan* files) the
/// prefixes, AS numbers, communities, capability codes and NOTIFICATION codes that tcpdump's own decode
/// (the .out file) shows are found in ours.
@Suite("tcpdump BGP corpus", .timeLimit(.minutes(5)))
struct CorpusTests {
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.tcpdumpCorpus.path)) ?? []
        return names.filter { ($0.contains("bgp") || $0.contains("BGP")) && ($0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng")) }
            .sorted()
    }()

    static func isClean(_ name: String) -> Bool {
        !["oobr", "-ub", "infinite-loop", "asan", "invalid", "malformed", "infloop"].contains { name.contains($0) }
    }

    @Test func corpusIsThere() {
        #expect(Self.files.count >= 25, "expected tcpdump's BGP captures in \(Paths.tcpdumpCorpus.path)")
    }

    @Test(arguments: files)
    func decodesWithoutCrash(name: String) throws {
        let path = Paths.tcpdumpCorpus.appendingPathComponent(name).path
        let decoded = try decodeCapture(path)
        // Also with forced contexts, which exercise the other AS size and ADD-PATH readings.
        _ = try decodeCapture(path, asSize: 2, addPath: true)
        _ = try decodeCapture(path, asSize: 4, addPath: false)
        _ = decoded.text
        _ = BGPRender.tableText(decoded.analyzer)
    }

    /// What tcpdump's text shows that we must show too.
    struct Facts {
        var prefixes: Set<String> = []
        var asNumbers: Set<String> = []
        var communities: Set<String> = []
        var capabilityCodes: Set<String> = []
        var notifications: Set<String> = []
    }

    static func facts(fromTcpdump text: String) -> Facts {
        var facts = Facts()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.append("")
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // A route listing line: just a prefix, maybe with a path id.
            if let match = trimmed.firstMatch(of: /^([0-9a-f:.]+\/[0-9]+)(\s+Path Id: [0-9]+)?$/) {
                facts.prefixes.insert(String(match.1))
            }
            // Top-level AS_PATH only (ATTR_SET's nested attributes are not decoded by bgpdecode).
            if let match = line.firstMatch(of: /^\t  AS Path \(2\), length: [0-9]+, Flags \[[A-Z]*\]: (.*)$/) {
                for token in match.1.split(whereSeparator: { " {}[](),".contains($0) }) {
                    let parts = token.split(separator: ".").compactMap { UInt32($0) }
                    let number = parts.count == 2 ? parts[0] << 16 | parts[1] : parts.first
                    if let number, number != 23456 { facts.asNumbers.insert(String(number)) }
                }
            }
            if let match = line.firstMatch(of: /\tCommunity \(8\), length: [0-9]+, Flags \[[A-Z]*\]: (.*)$/) {
                for token in match.1.split(separator: ",") where token.contains(":") {
                    facts.communities.insert(token.trimmingCharacters(in: .whitespaces))
                }
            }
            if line.contains("Large Community (32)"), index + 1 < lines.count, !line.contains("invalid") {
                for token in lines[index + 1].split(separator: ",") where token.contains(":") {
                    facts.communities.insert(token.trimmingCharacters(in: .whitespaces))
                }
            }
            if let match = line.firstMatch(of: /^\t      [^:]+ \(([0-9]+)\), length: [0-9]+$/) {
                facts.capabilityCodes.insert(String(match.1))
            }
            if let match = line.firstMatch(of: /Notification Message \(3\), length: [0-9]+, [^(]+\(([0-9]+)\),? subcode [^(]+\(([0-9]+)\)/) {
                facts.notifications.insert("(\(match.1)/\(match.2))")
            }
        }
        return facts
    }

    /// Crafted files whose frames reuse one TCP sequence number with different bytes: reassembly keeps the
    /// first copy, as the receiving TCP would, so the later copies' contents are not decoded.
    static let sameSequence: [String: Set<String>] = ["bgp-shutdown-communication.pcapng": ["(6/4)"]]

    static var cleanWithOutput: [String] {
        files.filter { name in
            let base = (name as NSString).deletingPathExtension
            return isClean(name) && FileManager.default.fileExists(
                atPath: Paths.tcpdumpCorpus.appendingPathComponent(base + ".out").path)
        }
    }

    @Test(arguments: cleanWithOutput)
    func tcpdumpFactsAreFound(name: String) throws {
        let base = (name as NSString).deletingPathExtension
        let out = try String(contentsOf: Paths.tcpdumpCorpus.appendingPathComponent(base + ".out"), encoding: .utf8)
        let facts = Self.facts(fromTcpdump: out)
        let decoded = try decodeCapture(Paths.tcpdumpCorpus.appendingPathComponent(name).path)
        var ours = decoded.text
        // Routes of malformed UPDATEs are reported as treat-as-withdraw, which names them too; the table
        // adds the attributes of every route still announced.
        ours += "\n" + BGPRender.tableText(decoded.analyzer)
        var capabilityCodes: Set<String> = []
        for event in decoded.events {
            if case .open(_, let open) = event { capabilityCodes.formUnion(open.capabilities.map { String($0.code.rawValue) }) }
        }
        for prefix in facts.prefixes { #expect(ours.contains(prefix + " ") || ours.hasSuffix(prefix), "\(name): prefix \(prefix)") }
        for asn in facts.asNumbers { #expect(ours.contains(asn), "\(name): AS \(asn)") }
        for community in facts.communities { #expect(ours.contains(community), "\(name): community \(community)") }
        #expect(facts.capabilityCodes.isSubset(of: capabilityCodes), "\(name): capabilities \(facts.capabilityCodes)")
        for notification in facts.notifications where !(Self.sameSequence[name]?.contains(notification) ?? false) {
            #expect(ours.contains(notification), "\(name): NOTIFICATION \(notification)")
        }
    }
}
