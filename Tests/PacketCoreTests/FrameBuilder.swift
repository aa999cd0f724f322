@testable import PacketCore

/// Builds frames byte by byte for tests, field by field as the RFC diagrams draw them. Recorded captures
/// are the golden tests (see GoldenTests); these exercise corners a lab cannot easily produce.
enum FrameBuilder {
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func mac(_ text: String) -> [UInt8] { MACAddress(text).map(\.octets) ?? [] }
    static func ip4(_ text: String) -> [UInt8] { IPv4Address(text).map { be32($0.rawValue) } ?? [] }
    static func ip6(_ text: String) -> [UInt8] {
        IPv6Address(text).map { $0.groups.flatMap(be16) } ?? []
    }

    static func ethernet(
        source: String = "02:00:00:00:00:01", destination: String = "ff:ff:ff:ff:ff:ff",
        tags: [(tpid: UInt16, id: UInt16)] = [], type: UInt16, payload: [UInt8], padTo60: Bool = false
    ) -> [UInt8] {
        var frame = mac(destination) + mac(source)
        for tag in tags { frame += be16(tag.tpid) + be16(tag.id) }
        frame += be16(type) + payload
        if padTo60, frame.count < 60 { frame += [UInt8](repeating: 0, count: 60 - frame.count) }
        return frame
    }

    static func arp(
        operation: UInt16, senderMAC: String, senderIP: String, targetMAC: String, targetIP: String
    ) -> [UInt8] {
        be16(1) + be16(0x0800) + [6, 4] + be16(operation) + mac(senderMAC) + ip4(senderIP) + mac(targetMAC)
            + ip4(targetIP)
    }

    static func ipv4(
        source: String = "203.0.113.1", destination: String = "203.0.113.2", protocolNumber: UInt8,
        payload: [UInt8], options: [UInt8] = [], flagsAndOffset: UInt16 = 0x4000, ttl: UInt8 = 64,
        totalLengthOverride: Int? = nil
    ) -> [UInt8] {
        let headerLength = 20 + options.count
        let total = totalLengthOverride ?? (headerLength + payload.count)
        return [0x40 | UInt8(headerLength / 4), 0] + be16(UInt16(truncatingIfNeeded: total)) + be16(0x1234)
            + be16(flagsAndOffset) + [ttl, protocolNumber] + be16(0) + ip4(source) + ip4(destination) + options
            + payload
    }

    static func ipv6(
        source: String = "fd99::1", destination: String = "fd99::2", nextHeader: UInt8, payload: [UInt8],
        hopLimit: UInt8 = 64, payloadLengthOverride: Int? = nil
    ) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(UInt16(truncatingIfNeeded: payloadLengthOverride ?? payload.count)) + [nextHeader, hopLimit]
            + ip6(source) + ip6(destination) + payload
    }

    static func tcp(
        sourcePort: UInt16 = 40000, destinationPort: UInt16 = 179, sequence: UInt32 = 1000,
        acknowledgment: UInt32 = 0, flags: UInt16 = 0x002, options: [UInt8] = [], payload: [UInt8] = []
    ) -> [UInt8] {
        var padded = options
        while padded.count % 4 != 0 { padded.append(0) }
        let dataOffset = UInt16((20 + padded.count) / 4)
        return be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgment)
            + be16(dataOffset << 12 | flags) + be16(64240) + be16(0) + be16(0) + padded + payload
    }

    static func udp(sourcePort: UInt16 = 5000, destinationPort: UInt16 = 53, payload: [UInt8]) -> [UInt8] {
        be16(sourcePort) + be16(destinationPort) + be16(UInt16(8 + payload.count)) + be16(0) + payload
    }

    /// A MetalLB-style unsolicited NA: S=0 O=1 with a target link-layer address option.
    static func neighborAdvertisement(
        target: String, flags: UInt32 = 0x2000_0000, targetLinkLayer: String? = "02:00:00:00:00:01"
    ) -> [UInt8] {
        var message: [UInt8] = [136, 0, 0, 0] + be32(flags) + ip6(target)
        if let targetLinkLayer { message += [2, 1] + mac(targetLinkLayer) }
        return message
    }

    static func neighborSolicitation(target: String, sourceLinkLayer: String?) -> [UInt8] {
        var message: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + ip6(target)
        if let sourceLinkLayer { message += [1, 1] + mac(sourceLinkLayer) }
        return message
    }

    static func decode(_ frame: [UInt8], linkType: LinkType = .ethernet, originalLength: Int? = nil) -> Packet {
        frame.withUnsafeBytes { Packet.decode($0, linkType: linkType, originalLength: originalLength) }
    }
}
