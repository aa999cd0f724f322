import BGPDecodeKit
import Foundation
import PacketCore
import Testing

/// CI's share of the fuzzing (no fuzzing in CI): every committed seed (Fuzz/seeds/TARGET) and every crash
/// or hang the fuzzers ever found (Tests/FuzzRegressions/TARGET) goes through the same decoders the
/// harnesses drive, read the same way (the first bytes select the context), and now also through the
/// tools' own analyzers, which the harnesses cannot link. Each must finish without a crash, hold no more
/// than one message's worth of bytes, and frame the same messages whether fed whole or in pieces.
@Suite("Fuzz corpus replay", .timeLimit(.minutes(5)))
struct ReplayTests {
    @Test func corporaAreThere() {
        for target in ["bgp-stream", "mrt", "mysql"] {
            #expect(FuzzInputs.all(target).count >= 5, "seeds for \(target): run scripts/fuzz --seeds \(target)")
        }
    }

    // MARK: BGP stream

    /// Frame `stream` with BGPMessageStream in the given pieces; returns each message's range and decodes it
    /// with the core and with bgpdecode's analyzer when `decode` is set.
    static func frameBGP(
        _ stream: [UInt8], pieces: [Range<Int>], synchronized: Bool, maximum: Int, context: BGPMessageContext?
    ) -> (messages: [Range<Int>], desyncs: Int, peakBuffered: Int) {
        var framer = BGPMessageStream(synchronized: synchronized, maximumLength: maximum)
        let analyzer = BGPAnalyzer { event in _ = BGPRender.text(event, keepalives: true) }
        // As bgpdecode --table runs: no events, table changes batched. Must end with the same tables.
        let batched = BGPAnalyzer()
        batched.batchesTableChanges = true
        let session = BGPSessionKey(speaker: .v4(IPv4Address(203, 0, 113, 1)), peer: .v4(IPv4Address(203, 0, 113, 2)))
        var messages: [Range<Int>] = []
        var desyncs = 0
        var peak = 0
        stream.withUnsafeBytes { raw in
            for piece in pieces {
                framer.feed(
                    UnsafeRawBufferPointer(rebasing: raw[piece]), at: UInt64(piece.lowerBound),
                    onMessage: { message in
                        messages.append(message.offset..<message.endOffset)
                        if let context {
                            CoreDecode.bgpMessage(
                                message, asSize: context.asSize, addPath: context.addPath(.ipv4Unicast))
                            analyzer.handleMessage(
                                message, session: session, context: context,
                                timestamp: Timestamp(seconds: 0, nanoseconds: 0))
                            batched.handleMessage(
                                message, session: session, context: context,
                                timestamp: Timestamp(seconds: 0, nanoseconds: 0))
                        }
                    }, onDesync: { _ in desyncs += 1 })
                peak = max(peak, framer.bufferedBytes)
            }
        }
        #expect(BGPRender.tableText(batched) == BGPRender.tableText(analyzer), "batched table differs")
        return (messages, desyncs, peak)
    }

    @Test(arguments: FuzzInputs.all("bgp-stream"))
    func bgpStream(path: String) throws {
        let input = try FuzzInputs.bytes(path)
        guard input.count >= 2 else { return }
        // The harness's selector bytes (Fuzz/bgp-stream.swift).
        let selector = input[0]
        let gap = Int(input[1])
        let stream = Array(input[2...])
        let asSize = [nil, 2, 4, nil][Int(selector & 3)]
        let addPath: Bool? = [nil, false, true, nil][Int(selector >> 2 & 3)]
        let context = BGPMessageContext(
            asSize: asSize, addPathFamilies: addPath.map { _ in [] },
            addPathEverywhere: addPath == true, source: addPath == nil ? .heuristic : .override)
        let synchronized = selector & 0x10 != 0
        let maximum =
            selector & 0x20 != 0 ? BGPMessageHeader.extendedMaximumLength : BGPMessageHeader.standardMaximumLength
        let chunk = [1, 3, 17, 301][Int(selector >> 6)]
        let whole = Self.frameBGP(
            stream, pieces: [0..<stream.count], synchronized: synchronized, maximum: maximum,
            context: context)
        let pieces = stride(from: 0, to: stream.count, by: chunk).map { $0..<min(stream.count, $0 + chunk) }
        let dripped = Self.frameBGP(stream, pieces: pieces, synchronized: synchronized, maximum: maximum, context: nil)
        for run in [whole, dripped] {
            #expect(run.peakBuffered <= maximum)
            for message in run.messages {
                #expect(message.count >= BGPMessageHeader.size && message.count <= maximum)
            }
        }
        #expect(whole.messages == dripped.messages, "fed whole and in \(chunk)-byte pieces")
        if gap > 0, gap * 7 < stream.count {
            let hole = (gap * 7)..<min(stream.count, gap * 8)
            let holed = Self.frameBGP(
                stream, pieces: [0..<hole.lowerBound, hole.upperBound..<stream.count],
                synchronized: synchronized, maximum: maximum, context: context)
            #expect(holed.peakBuffered <= maximum)
            #expect(holed.messages.allSatisfy { !$0.overlaps(hole) }, "a message built across a hole")
        }
    }

    // MARK: MRT

    /// Read `file` through bgpdecode's MRT reader in pieces of `chunk` bytes.
    static func readMRT(_ file: [UInt8], chunk: Int) -> (records: Int, failed: Bool, leftover: Int, messages: Int) {
        let analyzer = BGPAnalyzer { event in _ = BGPRender.text(event, keepalives: true) }
        let reader = BGPMRTDecoder(analyzer: analyzer)
        // As bgpdecode --mrt --table runs: no events, table changes batched. Must end with the same tables.
        let batched = BGPAnalyzer()
        batched.batchesTableChanges = true
        let batchedReader = BGPMRTDecoder(analyzer: batched)
        file.withUnsafeBytes { raw in
            for start in stride(from: 0, to: file.count, by: chunk) {
                reader.feed(UnsafeRawBufferPointer(rebasing: raw[start..<min(file.count, start + chunk)]))
                batchedReader.feed(UnsafeRawBufferPointer(rebasing: raw[start..<min(file.count, start + chunk)]))
            }
        }
        #expect(BGPRender.tableText(batched) == BGPRender.tableText(analyzer), "batched table differs")
        return (reader.records, reader.failure != nil, reader.leftoverBytes, analyzer.messages)
    }

    @Test(arguments: FuzzInputs.all("mrt"))
    func mrt(path: String) throws {
        let input = try FuzzInputs.bytes(path)
        guard !input.isEmpty else { return }
        let file = Array(input[1...])
        let whole = Self.readMRT(file, chunk: max(1, file.count))
        let dripped = Self.readMRT(file, chunk: Int(input[0]) + 1)
        #expect(
            whole.records == dripped.records && whole.failed == dripped.failed && whole.messages == dripped.messages)
        #expect(whole.leftover <= file.count && whole.leftover < MRTHeader.maximumLength + MRTHeader.size)
        // The core's own decoders on every record, as the harness does.
        var buffer = StreamBuffer(capacity: MRTHeader.maximumLength, layer: .mrt)
        var records = 0
        file.withUnsafeBytes { raw in
            try? buffer.feed(raw, framer: MRTHeader.frame) { record in
                records += 1
                CoreDecode.mrtRecord(record)
            }
        }
        #expect(records == whole.records)
    }

    // MARK: MySQL

    static func frameMySQL(_ stream: [UInt8], chunk: Int, cap: Int, decode: Bool) -> (
        packets: [Range<Int>], failed: Bool
    ) {
        var buffer = StreamBuffer(capacity: MySQLPacketHeader.size + cap, layer: .mysql)
        var packets: [Range<Int>] = []
        var failed = false
        stream.withUnsafeBytes { raw in
            for start in stride(from: 0, to: stream.count, by: chunk) where !failed {
                do throws(ParseError) {
                    try buffer.feed(
                        UnsafeRawBufferPointer(rebasing: raw[start..<min(stream.count, start + chunk)]),
                        framer: { MySQLPacket.frame(&$0, maximumPayload: cap) }
                    ) { message in
                        packets.append(message.offset..<message.endOffset)
                        var cursor = message
                        if decode, let packet = try? MySQLPacket(parsing: &cursor),
                            let payload = try? message.window(packet.payload)
                        {
                            CoreDecode.mysqlPayload(payload)
                        }
                    }
                } catch {
                    failed = true
                }
            }
        }
        return (packets, failed)
    }

    @Test(arguments: FuzzInputs.all("mysql"))
    func mysql(path: String) throws {
        let input = try FuzzInputs.bytes(path)
        guard !input.isEmpty else { return }
        let mode = input[0]
        let stream = Array(input[1...])
        let cap = mode & 0x40 != 0 ? 65_536 : MySQLPacketHeader.maximumPayload
        let whole = Self.frameMySQL(stream, chunk: max(1, stream.count), cap: cap, decode: true)
        let dripped = Self.frameMySQL(stream, chunk: Int(mode & 0x3F) + 1, cap: cap, decode: false)
        #expect(whole.packets == dripped.packets && whole.failed == dripped.failed)
        #expect(whole.packets.allSatisfy { $0.count <= MySQLPacketHeader.size + cap })
        stream.withUnsafeBytes { CoreDecode.mysqlPayload(Cursor($0, layer: .mysql)) }
    }
}

/// The core's decoders applied to everything, values touched (as Fuzz/common/DecodeAll.swift does).
enum CoreDecode {
    static func bgpMessage(_ message: Cursor, asSize: Int?, addPath: Bool?, abbreviated: BGPAddressFamily? = nil) {
        var cursor = message
        guard let header = try? BGPMessageHeader(parsing: &cursor) else { return }
        switch header.type {
        case .open:
            if let open = try? BGPOpen(parsing: &cursor) { _ = open.capabilities.map(\.description) }
        case .update:
            let body = cursor
            guard let update = try? BGPUpdate(parsing: &cursor) else { return }
            _ = update.endOfRIB(in: body)
            if let window = try? body.window(update.attributes) {
                let attributes = BGPAttributes(parsing: window, asSize: asSize, abbreviatedMPReachFamily: abbreviated)
                _ = attributes.effectiveASPath?.description
                _ =
                    attributes.communities.map(\.description) + attributes.largeCommunities.map(\.description)
                    + attributes.extendedCommunities.map(\.description) + attributes.problems.map(\.description)
                if let reach = attributes.mpReach { walk(reach.nlri, body, reach.family, addPath) }
                if let unreach = attributes.mpUnreach { walk(unreach.withdrawn, body, unreach.family, addPath) }
            }
            walk(update.withdrawn, body, .ipv4Unicast, addPath)
            walk(update.nlri, body, .ipv4Unicast, addPath)
        case .notification:
            _ = (try? BGPNotification(parsing: &cursor))?.description
        case .routeRefresh:
            _ = (try? BGPRouteRefresh(parsing: &cursor))?.description
        default:
            break
        }
    }

    static func walk(_ range: Range<Int>, _ buffer: Cursor, _ family: BGPAddressFamily, _ addPath: Bool?) {
        guard let window = try? buffer.window(range) else { return }
        let withPathIDs = addPath ?? BGPNLRIIterator.parsesCleanly(window, family: family, addPath: true)
        var iterator = BGPNLRIIterator(window, family: family, addPath: withPathIDs)
        var count = 0
        while let entry = try? iterator.next() {
            count += 1
            precondition(count <= range.count)
            _ = entry.description
        }
    }

    static func mrtRecord(_ record: Cursor) {
        var cursor = record
        guard let header = try? MRTHeader(parsing: &cursor), var body = try? record.window(header.body) else { return }
        switch header.type {
        case .bgp4mp, .bgp4mpET:
            let subtype = MRTBGP4MPSubtype(rawValue: header.subtype)
            if let entry = try? MRTBGP4MP(parsing: &body, subtype: subtype), let range = entry.message,
                let message = try? record.window(range)
            {
                bgpMessage(message, asSize: subtype.isAS4 ? 4 : 2, addPath: subtype.isAddPath)
            }
        case .tableDumpV2:
            let subtype = MRTTableDumpV2Subtype(rawValue: header.subtype)
            if subtype == .peerIndexTable {
                _ = try? MRTPeerIndexTable(parsing: &body)
                return
            }
            guard let rib = try? MRTRIBRecord(parsing: &body, subtype: subtype) else { return }
            for entry in rib.entries {
                if let window = try? record.window(entry.attributes) {
                    _ = BGPAttributes(parsing: window, asSize: 4, abbreviatedMPReachFamily: rib.family).effectiveASPath
                }
            }
        default:
            break
        }
    }

    static func mysqlPayload(_ payload: Cursor) {
        var cursor = payload
        if let greeting = try? MySQLGreeting(parsing: &cursor) { _ = (greeting.version, greeting.capabilities.names()) }
        cursor = payload
        if let error = try? MySQLErrorPacket(parsing: &cursor) { _ = (error.code.symbol, error.message) }
        cursor = payload
        _ = try? MySQLServerReply(parsing: &cursor)
        cursor = payload
        _ = try? MySQLClientHello(parsing: &cursor)
    }
}
