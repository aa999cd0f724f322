import Foundation
import PacketCore
import TestSupport
import Testing

/// TCP reassembly on real sessions: the BGP and MariaDB captures, reassembled per direction and framed,
/// give the messages tshark found at recording time, whether the stream is fed segment by segment or one
/// byte at a time.
@Suite("Reassembled streams from recorded captures")
struct StreamTests {
    /// The bytes of every direction of every TCP flow on `port`, in order, with the gaps reported.
    struct Streams {
        var bytes: [FlowKey: [FlowSide: [UInt8]]] = [:]
        var gaps = 0
        var closeReasons: [CloseReason] = []
        var statistics = ReassemblyStatistics()
    }

    static func reassemble(_ fileName: String, port: UInt16) throws -> Streams {
        var reassembler = TCPReassembler()
        var streams = Streams()
        func handle(_ event: StreamEvent) {
            switch event {
            case .data(let key, let side, let bytes, _, _):
                streams.bytes[key, default: [:]][side, default: []].append(contentsOf: bytes)
            case .gap:
                streams.gaps += 1
            case .closed(_, let reason, _):
                streams.closeReasons.append(reason)
            case .opened:
                break
            }
        }
        for frame in try decodeFile(Paths.captures.appendingPathComponent(fileName)) {
            guard let tcp = frame.packet.tcp, let source = frame.packet.sourceIP,
                let destination = frame.packet.destinationIP,
                tcp.sourcePort == port || tcp.destinationPort == port
            else { continue }
            frame.bytes.withUnsafeBytes { raw in
                let segment = TCPSegment(
                    source: FlowEndpoint(address: source, port: tcp.sourcePort),
                    destination: FlowEndpoint(address: destination, port: tcp.destinationPort),
                    sequence: tcp.sequence, acknowledgment: tcp.acknowledgment, flags: tcp.flags,
                    payload: UnsafeRawBufferPointer(rebasing: raw[frame.packet.payload]), timestamp: frame.timestamp)
                reassembler.process(segment, handle)
            }
        }
        reassembler.finish(handle)
        streams.statistics = reassembler.statistics
        return streams
    }

    /// RFC 4271 section 4.1: 16 bytes of 0xFF, a 2-byte length (19 ... 4096), a 1-byte type.
    static func bgpFramer(_ cursor: inout Cursor) -> FrameResult {
        guard cursor.remaining >= 19, let length = cursor.peekU16(ahead: 16) else { return .needMore }
        guard cursor.hasPrefix(repeatElement(UInt8(0xFF), count: 16)) else {
            return .invalid(cursor.error(.malformed, "BGP marker missing"))
        }
        guard length >= 19, length <= 4096 else { return .invalid(cursor.error(.malformed, "BGP length out of range")) }
        return cursor.remaining >= Int(length) ? .message(length: Int(length)) : .needMore
    }

    /// Frames `stream` into BGP message types, feeding it in pieces of `chunk` bytes.
    static func bgpTypes(_ stream: [UInt8], chunk: Int) throws -> [UInt8] {
        var buffer = StreamBuffer(capacity: 65_536, layer: .bgp)
        var types: [UInt8] = []
        var start = 0
        while start < stream.count {
            let end = min(stream.count, start + chunk)
            try stream[start..<end].withUnsafeBytes { (piece: UnsafeRawBufferPointer) throws in
                try buffer.feed(piece, framer: bgpFramer) { message in
                    if let type = message.peekU8(ahead: 18) { types.append(type) }
                }
            }
            start = end
        }
        #expect(buffer.isEmpty, "a partial BGP message was left over")
        return types
    }

    static func tsharkBGPTypes(_ name: String) throws -> [Int] {
        let data = try Data(contentsOf: Paths.expected.appendingPathComponent("\(name).json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let frames = json?["frames"] as? [[String: Any]] ?? []
        return frames.flatMap { ($0["bgp"] as? [String: Any])?["types"] as? [Int] ?? [] }
    }

    @Test(arguments: ["bgp-bird-frr", "bgp-segmented"])
    func bgpMessagesMatchTshark(name: String) throws {
        let streams = try Self.reassemble("\(name).pcap", port: 179)
        #expect(streams.gaps == 0)
        #expect(!streams.bytes.isEmpty)
        var ours: [Int] = []
        for (_, sides) in streams.bytes {
            for (_, stream) in sides {
                let whole = try Self.bgpTypes(stream, chunk: stream.count)
                // The drip-feed property on a real stream: one byte at a time and odd chunks give the same.
                #expect(try Self.bgpTypes(stream, chunk: 1) == whole)
                #expect(try Self.bgpTypes(stream, chunk: 7) == whole)
                ours += whole.map(Int.init)
            }
        }
        let theirs = try Self.tsharkBGPTypes(name)
        #expect(ours.count >= 6, "OPENs, KEEPALIVEs, UPDATEs and a NOTIFICATION expected")
        // Compare per type: the order across directions differs between the two views, the counts must not.
        for type in 1...5 {
            #expect(ours.filter { $0 == type }.count == theirs.filter { $0 == type }.count, "BGP type \(type)")
        }
        #expect(ours.contains(1) && ours.contains(2) && ours.contains(4))
    }

    @Test func segmentedSessionReallySpansSegments() throws {
        // The capture was made with a small MTU so UPDATEs cross segment boundaries: the test above only
        // proves reassembly if some message is longer than one segment's payload.
        let frames = try decodeFile(Paths.captures.appendingPathComponent("bgp-segmented.pcap"))
        let largestSegment = frames.compactMap { $0.packet.tcp == nil ? nil : $0.packet.payload.count }.max() ?? 0
        let streams = try Self.reassemble("bgp-segmented.pcap", port: 179)
        var largestMessage = 0
        for (_, sides) in streams.bytes {
            for (_, stream) in sides {
                var buffer = StreamBuffer(capacity: 65_536, layer: .bgp)
                try stream.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
                    try buffer.feed(raw, framer: Self.bgpFramer) { largestMessage = max(largestMessage, $0.remaining) }
                }
            }
        }
        #expect(largestMessage > largestSegment, "largest message \(largestMessage), largest segment \(largestSegment)")
    }

    /// MySQL packets: 3-byte little-endian length, 1-byte sequence id, payload.
    static func firstServerPacket(_ fileName: String) throws -> [UInt8] {
        let streams = try reassemble(fileName, port: 3306)
        let (key, sides) = try #require(streams.bytes.first)
        let serverSide = key.low.port == 3306 ? FlowSide.low : .high
        let stream = try #require(sides[serverSide])
        return try withCursor(over: stream) { (cursor: inout Cursor) throws(ParseError) -> [UInt8] in
            let length = Int(try cursor.readU24LE())
            _ = try cursor.readU8()
            return try cursor.readBytes(length)
        }
    }

    static func tsharkMySQL(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Paths.expected.appendingPathComponent("\(name).json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let frames = json?["frames"] as? [[String: Any]] ?? []
        return frames.compactMap { $0["mysql"] as? [String: Any] }.reduce(into: [:]) { merged, next in
            merged.merge(next) { first, _ in first }
        }
    }

    @Test func mariadbGreetingMatchesTshark() throws {
        let payload = try Self.firstServerPacket("mariadb-greeting.pcap")
        let oracle = try Self.tsharkMySQL("mariadb-greeting")
        try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
            #expect(try cursor.readU8() == 10)  // HandshakeV10
            let version = try cursor.readNulTerminatedString()
            #expect(version == oracle["version"] as? String)
            #expect(version.contains("MariaDB"))
            #expect(Int(try cursor.readU32LE()) == oracle["thread_id"] as? Int)
        }
    }

    @Test func mariadbError1130MatchesTshark() throws {
        let payload = try Self.firstServerPacket("mariadb-error-1130.pcap")
        let oracle = try Self.tsharkMySQL("mariadb-error-1130")
        try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
            #expect(try cursor.readU8() == 0xFF)  // ERR packet
            let code = Int(try cursor.readU16LE())
            #expect(code == 1130)
            #expect(code == oracle["error_code"] as? Int)
            let message = cursor.readRest()
            #expect(String(decoding: message, as: UTF8.self) == oracle["error_message"] as? String)
        }
    }
}
