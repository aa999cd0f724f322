import BGPDecodeKit
import Foundation
import PacketCore
import TestSupport
import Testing

/// Every capture of ours (captures/ and its subfolders) and every clean BGP/ARP/ICMPv6 capture of tcpdump's
/// test suite, decoded by us and by tshark (run once per file, at test time): ARP addresses and opcode,
/// ICMPv6 type and code, NDP type, target, flags and link-layer options, BGP messages per direction (type,
/// prefixes, next hops, AS paths, communities, capabilities, NOTIFICATION codes), MySQL greeting and ERR
/// fields must agree.
///
/// Where they do not, it is a bug, or one of the documented cases below where tshark is the one that is
/// wrong; those are matched by their exact shape, listed with the reason, and only then forgiven.
@Suite("Differential decoding against tshark", .timeLimit(.minutes(5)))
struct TsharkDifferentialTests {
    static let captures: [String] = {
        var names = Paths.files(under: Paths.captures, extensions: ["pcap", "pcapng"]).map {
            "captures/" + $0.dropFirst("captures/".count)
        }
        let corpus = Paths.files(
            under: Paths.tcpdumpCorpus, relativeTo: Paths.tcpdumpCorpus, extensions: ["pcap", "pcapng"])
        for name in corpus {
            let lower = name.lowercased()
            let kind =
                lower.contains("bgp") || lower.hasPrefix("arp") || lower.contains("icmp6") || lower.contains("icmpv6")
            let broken = ["oobr", "-ub", "infinite-loop", "asan"].contains { lower.contains($0) }
            if kind, !broken { names.append("corpus/" + name) }
        }
        return names
    }()

    static func path(_ name: String) -> String {
        name.hasPrefix("corpus/")
            ? Paths.tcpdumpCorpus.appendingPathComponent(String(name.dropFirst(7))).path
            : Paths.repository.appendingPathComponent(name).path
    }

    @Test func tsharkIsInstalled() {
        if Tshark.executable == nil {
            // Locally a missing tshark skips the comparisons; CI must have it (scripts/setup installs it).
            #expect(!TestEnvironment.isCI, "tshark is missing under CI=true: scripts/setup installs it")
        }
        #expect(Self.captures.count >= 20, "captures/ and Tests/Corpus/tcpdump expected")
    }

    @Test(arguments: captures)
    func matchesTshark(name: String) throws {
        guard Tshark.executable != nil else {
            if TestEnvironment.isCI { Issue.record("tshark is missing under CI=true") }
            return
        }
        let path = Self.path(name)
        let ours = try decodeFile(path)
        let theirs = try Tshark.frames(path)
        var report = Differences(file: name)
        // Frames both decoders call broken (tshark's `_ws.malformed`, an issue of ours) also agree.
        for (index, layers) in theirs.enumerated() where index < ours.count {
            if layers["_ws.malformed"] != nil, ours[index].packet.issue != nil { report.agreed += 1 }
        }
        compareARP(ours, theirs, &report)
        compareNDP(ours, theirs, &report)
        compareBGP(ours, theirs, &report)
        compareMySQL(ours, theirs, &report)
        for difference in report.unexplained { Issue.record(Comment(rawValue: "\(name): \(difference)")) }
        #expect(
            report.agreed > 0 || !report.documented.isEmpty || !report.unexplained.isEmpty,
            "\(name): nothing compared (no ARP, ICMPv6, BGP or MySQL found by either decoder)")
        for (reason, count) in report.documented.sorted(by: { $0.key < $1.key }) {
            print("tshark differential: \(name): \(count) x documented: \(reason)")
        }
    }

    /// What disagreed: unexplained differences fail the test; documented ones are counted.
    struct Differences {
        var file: String
        var unexplained: [String] = []
        var documented: [String: Int] = [:]
        /// Frames or messages both decoders agreed on, so a file cannot pass by comparing nothing.
        var agreed = 0
        mutating func mismatch(_ text: String) { unexplained.append(text) }
    }

    // MARK: ARP

    func compareARP(_ ours: [DecodedFrame], _ theirs: [[String: Any]], _ report: inout Differences) {
        for (index, layers) in theirs.enumerated() {
            guard let arp = layers["arp"] as? [String: Any], index < ours.count else { continue }
            guard let our = ours[index].packet.arp else {
                // tshark decodes the ARP fields even when the hardware/protocol sizes are not Ethernet/IPv4
                // (arp-too-long-tha); the core refuses those. Checked: the sizes really are not 6/4.
                if Tshark.strings(arp["arp.hw.size"]) != ["6"] || Tshark.strings(arp["arp.proto.size"]) != ["4"] {
                    report.documented["ARP with non-Ethernet/IPv4 sizes, not decoded by the core", default: 0] += 1
                } else {
                    report.mismatch(
                        "frame \(index + 1): tshark decodes ARP, we do not (\(Self.issue(ours[index])))"
                    )
                }
                continue
            }
            let expected = [
                ("opcode", Tshark.strings(arp["arp.opcode"]).first, "\(our.operation.rawValue)"),
                ("sender MAC", Tshark.strings(arp["arp.src.hw_mac"]).first, "\(our.senderMAC)"),
                ("sender IP", Tshark.strings(arp["arp.src.proto_ipv4"]).first, "\(our.senderIP)"),
                ("target MAC", Tshark.strings(arp["arp.dst.hw_mac"]).first, "\(our.targetMAC)"),
                ("target IP", Tshark.strings(arp["arp.dst.proto_ipv4"]).first, "\(our.targetIP)"),
            ]
            let before = report.unexplained.count
            for (field, theirs, ours) in expected where theirs?.lowercased() != ours.lowercased() {
                report.mismatch("frame \(index + 1): ARP \(field): tshark \(theirs ?? "none"), ours \(ours)")
            }
            if report.unexplained.count == before { report.agreed += 1 }
        }
        let tsharkARP = theirs.filter { $0["arp"] != nil }.count
        let ourARP = ours.filter { $0.packet.arp != nil }.count
        if ourARP > tsharkARP { report.mismatch("we decode \(ourARP) ARP frames, tshark \(tsharkARP)") }
    }

    // MARK: ICMPv6 and NDP

    func compareNDP(_ ours: [DecodedFrame], _ theirs: [[String: Any]], _ report: inout Differences) {
        for (index, layers) in theirs.enumerated() where index < ours.count {
            // The last ICMPv6 layer: an ICMPv6 error quotes a packet that may itself be ICMPv6.
            guard let icmp = Tshark.list(layers["icmpv6"]).first as? [String: Any],
                let type = Tshark.strings(icmp["icmpv6.type"]).first.flatMap(UInt8.init)
            else { continue }
            // Every ICMPv6 message: type and code (node information, router renumbering, errors, ...).
            let code = Tshark.strings(icmp["icmpv6.code"]).first
            if let ours = ours[index].packet.icmpv6 {
                if "\(ours.type.rawValue)/\(ours.code)" == "\(type)/\(code ?? "")" {
                    report.agreed += 1
                } else {
                    report.mismatch(
                        "frame \(index + 1): ICMPv6 type/code: tshark \(type)/\(code ?? ""), "
                            + "ours \(ours.type.rawValue)/\(ours.code)"
                    )
                }
            } else {
                report.mismatch(
                    "frame \(index + 1): tshark decodes ICMPv6 \(type), we do not (\(Self.issue(ours[index])))"
                )
            }
            guard (133...137).contains(type) else { continue }
            guard let ndp = ours[index].packet.ndp else {
                report.mismatch(
                    "frame \(index + 1): tshark decodes NDP type \(type), we do not (\(Self.issue(ours[index])))"
                )
                continue
            }
            func check(_ field: String, _ theirs: String?, _ ours: String?) {
                if theirs?.lowercased() != ours?.lowercased() {
                    report.mismatch(
                        "frame \(index + 1): NDP \(field): tshark \(theirs ?? "none"), ours \(ours ?? "none")")
                }
            }
            let before = report.unexplained.count
            defer { if report.unexplained.count == before { report.agreed += 1 } }
            check("type", "\(type)", "\(ndp.type.rawValue)")
            let target =
                Tshark.strings(icmp["icmpv6.nd.ns.target_address"]).first
                ?? Tshark.strings(icmp["icmpv6.nd.na.target_address"]).first
                ?? Tshark.values("icmpv6.nd.rd.target_address", in: icmp).first
            check("target", target.map(Tshark.canonical), ndp.target.map { "\($0)" })
            if type == 136 {
                let flags = icmp["icmpv6.nd.na.flag_tree"] as? [String: Any] ?? icmp
                check("R flag", Tshark.values("icmpv6.nd.na.flag.r", in: flags).first, ndp.router ? "1" : "0")
                check("S flag", Tshark.values("icmpv6.nd.na.flag.s", in: flags).first, ndp.solicited ? "1" : "0")
                check("O flag", Tshark.values("icmpv6.nd.na.flag.o", in: flags).first, ndp.override ? "1" : "0")
            }
            if type == 134 {
                check("M flag", Tshark.values("icmpv6.nd.ra.flag.m", in: icmp).first, ndp.managed ? "1" : "0")
                check("O flag", Tshark.values("icmpv6.nd.ra.flag.o", in: icmp).first, ndp.otherConfig ? "1" : "0")
                check(
                    "router lifetime", Tshark.values("icmpv6.nd.ra.router_lifetime", in: icmp).first,
                    ndp.routerLifetime.map { "\($0)" })
            }
            check(
                "source link-layer option", Tshark.values("icmpv6.opt.src_linkaddr", in: icmp).first,
                ndp.sourceLinkLayer.map { "\($0)" })
            check(
                "target link-layer option", Tshark.values("icmpv6.opt.target_linkaddr", in: icmp).first,
                ndp.targetLinkLayer.map { "\($0)" })
            check("MTU option", Tshark.values("icmpv6.opt.mtu", in: icmp).first, ndp.mtu.map { "\($0)" })
        }
    }

    // MARK: MySQL

    func compareMySQL(_ ours: [DecodedFrame], _ theirs: [[String: Any]], _ report: inout Differences) {
        let greetings = theirs.flatMap { Tshark.objects(with: ["mysql.version", "mysql.thread_id"], in: $0["mysql"]) }
        let errors = theirs.flatMap { Tshark.values("mysql.error_code", in: $0["mysql"]) }
        guard !greetings.isEmpty || !errors.isEmpty else { return }
        let streams = TCPStreams.reassemble(ours, port: 3306)
        var ourGreetings: [MySQLGreeting] = []
        var ourErrors: [MySQLErrorPacket] = []
        for (key, sides) in streams {
            let serverSide: FlowSide = key.low.port == 3306 ? .low : .high
            guard let stream = sides[serverSide] else { continue }
            var buffer = StreamBuffer(capacity: 1 << 20, layer: .mysql)
            stream.withUnsafeBytes { raw in
                try? buffer.feed(raw, framer: { MySQLPacket.frame(&$0) }) { message in
                    var cursor = message
                    guard let packet = try? MySQLPacket(parsing: &cursor),
                        var payload = try? message.window(packet.payload)
                    else { return }
                    // Only what a server sends first (sequence 0) or answers a login with: greetings and ERRs.
                    if payload.peekU8() == 0xFF, let error = try? MySQLErrorPacket(parsing: &payload) {
                        ourErrors.append(error)
                    } else if packet.header.sequenceID == 0, let greeting = try? MySQLGreeting(parsing: &payload) {
                        ourGreetings.append(greeting)
                    }
                }
            }
        }
        let theirGreetings = greetings.map { object -> String in
            let caps =
                UInt64(Self.hex(Tshark.values("mysql.caps.server", in: object).first))
                | UInt64(Self.hex(Tshark.values("mysql.extcaps.server", in: object).first)) << 16
                | UInt64(Self.hex(Tshark.values("mariadb.extcaps.server", in: object).first)) << 32
            let version = Tshark.strings(object["mysql.version"]).first ?? ""
            let thread = Tshark.strings(object["mysql.thread_id"]).first ?? ""
            return "\(version) id \(thread) caps \(String(caps, radix: 16))"
        }.sorted()
        let ourGreetingText = ourGreetings.map {
            "\($0.serverVersion) id \($0.connectionID) caps \(String($0.capabilities.rawValue, radix: 16))"
        }.sorted()
        if theirGreetings == ourGreetingText { report.agreed += ourGreetings.count }
        if theirGreetings != ourGreetingText {
            report.mismatch("MySQL greetings: tshark \(theirGreetings), ours \(ourGreetingText)")
        }
        let ourErrorCodes = ourErrors.map { "\($0.code.rawValue)" }.sorted()
        if errors.sorted() == ourErrorCodes { report.agreed += ourErrors.count }
        if errors.sorted() != ourErrorCodes {
            report.mismatch("MySQL error codes: tshark \(errors.sorted()), ours \(ourErrorCodes)")
        }
    }

    static func issue(_ frame: DecodedFrame) -> String { frame.packet.issue.map { "\($0)" } ?? "no issue" }

    static func hex(_ text: String?) -> UInt32 {
        guard let text else { return 0 }
        return UInt32(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: text.hasPrefix("0x") ? 16 : 10)
            ?? 0
    }
}

/// Per-direction TCP payload bytes of a decoded capture, reassembled by the core.
enum TCPStreams {
    static func reassemble(_ frames: [DecodedFrame], port: UInt16) -> [FlowKey: [FlowSide: [UInt8]]] {
        var streams: [FlowKey: [FlowSide: [UInt8]]] = [:]
        feed(frames, port: port) { event in
            if case .data(let key, let side, let bytes, _, _) = event {
                streams[key, default: [:]][side, default: []].append(contentsOf: bytes)
            }
        }
        return streams
    }

    /// Every TCP segment to or from `port` through one reassembler, then its end: the events go to `handle`.
    static func feed(_ frames: [DecodedFrame], port: UInt16, _ handle: (StreamEvent) -> Void) {
        var reassembler = TCPReassembler()
        for frame in frames {
            guard let tcp = frame.packet.tcp, tcp.sourcePort == port || tcp.destinationPort == port,
                let source = frame.packet.sourceIP, let destination = frame.packet.destinationIP
            else { continue }
            frame.bytes.withUnsafeBytes { raw in
                reassembler.process(
                    TCPSegment(
                        source: FlowEndpoint(address: source, port: tcp.sourcePort),
                        destination: FlowEndpoint(address: destination, port: tcp.destinationPort),
                        sequence: tcp.sequence, acknowledgment: tcp.acknowledgment, flags: tcp.flags,
                        payload: UnsafeRawBufferPointer(rebasing: raw[frame.packet.payload.clamped(to: 0..<raw.count)]),
                        timestamp: frame.timestamp), handle)
            }
        }
        reassembler.finish(handle)
    }
}
