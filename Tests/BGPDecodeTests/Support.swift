import BGPDecodeKit
import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

enum Paths {
    static let repository = TestEnvironment.repository
    static let captures = TestEnvironment.captures
    static let expected = captures.appendingPathComponent("expected")
    static let bgpCaptures = captures.appendingPathComponent("bgpdecode")
    static let tcpdumpCorpus = TestEnvironment.tcpdumpCorpus
}

/// The result of decoding a capture: the analyzer (tables) and every event in order.
struct Decoded {
    var analyzer: BGPAnalyzer
    var events: [BGPEvent]

    var announcements: [(BGPSessionKey, BGPRouteKey, BGPPath)] {
        events.compactMap { if case .announce(let origin, let key, let path, _) = $0 { (origin.session, key, path) } else { nil } }
    }

    var withdrawals: [(BGPSessionKey, BGPRouteKey, BGPWithdrawReason)] {
        events.compactMap { if case .withdraw(let origin, let key, let reason, _, _) = $0 { (origin.session, key, reason) } else { nil } }
    }

    var text: String { events.compactMap { BGPRender.text($0, keepalives: true) }.joined(separator: "\n") }
}

func decodeCapture(_ path: String, ports: Set<UInt16> = [179], asSize: Int? = nil, addPath: Bool? = nil) throws -> Decoded {
    var events: [BGPEvent] = []
    let analyzer = BGPAnalyzer { events.append($0) }
    let decoder = BGPCaptureDecoder(analyzer: analyzer, ports: ports, asSize: asSize, addPath: addPath)
    let source = try PacketSource.openFile(path)
    do {
        try decoder.read(source)
    } catch let error as CaptureError {
        // tcpdump's corpus holds cut files on purpose: what was read counts.
        if error.kind != .truncatedFile { throw error }
    }
    decoder.finish()
    analyzer.onEvent = nil
    return Decoded(analyzer: analyzer, events: events)
}

/// tshark's view of a recorded capture (captures/expected/NAME.json): the `bgp` objects of every frame,
/// with the frame's IP source.
func tsharkBGP(_ name: String) throws -> [(source: String, bgp: [String: Any])] {
    let data = try Data(contentsOf: Paths.expected.appendingPathComponent("\(name).json"))
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let frames = json?["frames"] as? [[String: Any]] ?? []
    return frames.compactMap { frame in
        guard let bgp = frame["bgp"] as? [String: Any] else { return nil }
        let ip = (frame["ip"] as? [String: Any]) ?? (frame["ipv6"] as? [String: Any]) ?? [:]
        return ((ip["src"] as? String) ?? "", bgp)
    }
}

func strings(_ value: Any?) -> [String] {
    (value as? [Any] ?? []).map { "\($0)" }
}
