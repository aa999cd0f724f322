import Capture
import Foundation
import PacketCore
import TestSupport
import Testing

/// Hand-built TCP conversations on port 179 written as an Ethernet pcap: the client is
/// 203.0.113.1:40001, the BGP speaker 203.0.113.2:179. Sequence numbers are tracked per direction, so
/// segments can be given in order, reordered or dropped, and any TCP option (TCP-MD5) can be added.
struct SyntheticCapture {
    struct Frame {
        var bytes: [UInt8]
        var time: Timestamp
    }

    static let client = "203.0.113.1"
    static let server = "203.0.113.2"
    static let clientPort: UInt16 = 40001

    var frames: [Frame] = []
    var clientSequence: UInt32 = 1_000
    var serverSequence: UInt32 = 5_000_000
    var clock: Int64 = 1_700_000_000

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
    static func ip4(_ text: String) -> [UInt8] { IPv4Address(text).map { be32($0.rawValue) } ?? [] }

    /// One IPv4 + TCP segment, RFC 791 / RFC 9293 headers (checksums left 0: decoders do not check them).
    static func segment(
        fromClient: Bool, sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags, options: [UInt8] = [],
        payload: [UInt8] = []
    ) -> [UInt8] {
        var padded = options
        while padded.count % 4 != 0 { padded.append(1) }  // NOP padding
        let dataOffset = UInt16((20 + padded.count) / 4)
        let (sourcePort, destinationPort) = fromClient ? (clientPort, UInt16(179)) : (UInt16(179), clientPort)
        let tcp = be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgment)
            + be16(dataOffset << 12 | flags.rawValue) + be16(64240) + be16(0) + be16(0) + padded + payload
        let (source, destination) = fromClient ? (client, server) : (server, client)
        let macs: [UInt8] = fromClient ? [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] : [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]
        return macs + [0x08, 0x00] + [0x45, 0] + be16(UInt16(truncatingIfNeeded: 20 + tcp.count)) + be16(0x1234) + be16(0x4000)
            + [64, 6] + be16(0) + ip4(source) + ip4(destination) + tcp
    }

    /// TCP-MD5 signature option (RFC 2385): kind 19, length 18, 16 digest bytes.
    static let md5Option: [UInt8] = [19, 18] + [UInt8](repeating: 0xAB, count: 16)

    mutating func add(_ bytes: [UInt8]) {
        clock += 1
        frames.append(Frame(bytes: bytes, time: Timestamp(seconds: clock, nanoseconds: 0)))
    }

    mutating func syn(options: [UInt8] = []) {
        add(Self.segment(fromClient: true, sequence: clientSequence, acknowledgment: 0, flags: .syn, options: options))
    }

    /// SYN, SYN-ACK, ACK.
    mutating func handshake() {
        syn()
        add(Self.segment(fromClient: false, sequence: serverSequence, acknowledgment: clientSequence &+ 1,
            flags: [.syn, .ack]))
        clientSequence &+= 1
        serverSequence &+= 1
        add(Self.segment(fromClient: true, sequence: clientSequence, acknowledgment: serverSequence, flags: .ack))
    }

    /// The server answers the client's SYN with RST-ACK (nothing listens on 179).
    mutating func refused() {
        syn()
        add(Self.segment(fromClient: false, sequence: 0, acknowledgment: clientSequence &+ 1, flags: [.rst, .ack]))
    }

    /// `payload` from one side in one segment, returned (not added) so a caller can reorder or drop it.
    mutating func dataSegment(fromClient: Bool, _ payload: [UInt8]) -> [UInt8] {
        let bytes = Self.segment(fromClient: fromClient, sequence: fromClient ? clientSequence : serverSequence,
            acknowledgment: fromClient ? serverSequence : clientSequence, flags: [.psh, .ack], payload: payload)
        if fromClient {
            clientSequence &+= UInt32(payload.count)
        } else {
            serverSequence &+= UInt32(payload.count)
        }
        return bytes
    }

    mutating func send(fromClient: Bool, _ payload: [UInt8]) {
        add(dataSegment(fromClient: fromClient, payload))
    }

    /// FIN from both sides.
    mutating func close() {
        add(Self.segment(fromClient: true, sequence: clientSequence, acknowledgment: serverSequence, flags: [.fin, .ack]))
        clientSequence &+= 1
        add(Self.segment(fromClient: false, sequence: serverSequence, acknowledgment: clientSequence, flags: [.fin, .ack]))
        serverSequence &+= 1
    }

    /// Write the frames as a pcap file in a fresh scratch directory; returns its path.
    func write(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vs-bgp-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(name).pcap").path
        let writer = try PacketWriter(path: path, linkType: .ethernet)
        for frame in frames {
            frame.bytes.withUnsafeBytes { writer.write(timestamp: frame.time, bytes: $0) }
        }
        try writer.close()
        return path
    }

    /// An OPEN from AS `asn` with 4-octet AS and, when given, an FQDN capability (RFC 8516 draft, code 73:
    /// host length, host, domain length, domain).
    static func open(asn: UInt32, identifier: IPv4Address, host: String? = nil, domain: String = "") -> [UInt8] {
        var capabilities: [BGPMessageBuilder.Capability] = [.multiprotocol(.ipv4Unicast), .fourOctetAS(asn)]
        if let host {
            let hostBytes = Array(host.utf8)
            let domainBytes = Array(domain.utf8)
            capabilities.append(BGPMessageBuilder.Capability(code: .fqdn,
                value: [UInt8(hostBytes.count)] + hostBytes + [UInt8(domainBytes.count)] + domainBytes))
        }
        return BGPMessageBuilder.open(asn: asn, holdTime: 90, identifier: identifier, capabilities: capabilities)
    }

    /// An UPDATE announcing 198.51.100.`last`/32 via 203.0.113.2 from AS `asn` (4-byte AS path).
    static func update(asn: UInt32, last: UInt8) -> [UInt8] {
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1] + be32(asn) + [0x40, 3, 4, 203, 0, 113, 2]
        let body: [UInt8] = [0, 0] + be16(UInt16(attributes.count)) + attributes + [32, 198, 51, 100, last]
        return [UInt8](repeating: 0xFF, count: 16) + be16(UInt16(19 + body.count)) + [2] + body
    }
}

/// The bgpdecode executable built beside the tests.
enum Tool {
    static func bgpdecode() throws -> String {
        try #require(TestEnvironment.builtTool("bgpdecode"), "build the bgpdecode executable first (swift build --build-tests)")
    }

    static func run(_ arguments: [String]) throws -> ProcessOutput {
        try ChildProcess.run([try bgpdecode()] + arguments)
    }
}
