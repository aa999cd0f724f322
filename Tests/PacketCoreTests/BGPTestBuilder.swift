@testable import PacketCore

/// Builds BGP messages and MRT records field by field, as the RFC diagrams draw them.
enum BGPBuild {
    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func message(type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [UInt8](repeating: 0xFF, count: 16) + be16(19 + body.count) + [type] + body
    }

    static func capability(_ code: UInt8, _ value: [UInt8]) -> [UInt8] { [code, UInt8(value.count)] + value }

    static func open(as asn: UInt32, hold: Int = 90, id: UInt32 = 0xCB00_7101, capabilities: [[UInt8]]) -> [UInt8] {
        let caps = capabilities.flatMap { $0 }
        let parameter: [UInt8] = caps.isEmpty ? [] : [2, UInt8(caps.count)] + caps
        let myAS = asn > 0xFFFF ? 23456 : Int(asn)
        return message(type: 1, [4] + be16(myAS) + be16(hold) + be32(id) + [UInt8(parameter.count)] + parameter)
    }

    static func attribute(_ type: UInt8, flags: UInt8 = 0x40, _ value: [UInt8]) -> [UInt8] {
        value.count > 255
            ? [flags | 0x10, type] + be16(value.count) + value
            : [flags, type, UInt8(value.count)] + value
    }

    static func prefix(_ text: String, pathID: UInt32? = nil) -> [UInt8] {
        guard let parsed = IPPrefix(text) else { return [] }
        var bytes: [UInt8] = []
        if let pathID { bytes += be32(pathID) }
        bytes.append(UInt8(parsed.length))
        let count = (parsed.length + 7) / 8
        switch parsed.address {
        case .v4(let v4): bytes += be32(v4.rawValue).prefix(count)
        case .v6(let v6): bytes += (v6.groups.flatMap { be16(Int($0)) }).prefix(count)
        }
        return bytes
    }

    static func asPath(_ numbers: [UInt32], size: Int = 4) -> [UInt8] {
        [2, UInt8(numbers.count)] + numbers.flatMap { size == 4 ? be32($0) : be16(Int($0)) }
    }

    static func update(withdrawn: [UInt8] = [], attributes: [UInt8] = [], nlri: [UInt8] = []) -> [UInt8] {
        message(type: 2, be16(withdrawn.count) + withdrawn + be16(attributes.count) + attributes + nlri)
    }

    /// A typical MetalLB-style announcement: ORIGIN igp, AS_PATH, NEXT_HOP, one or more prefixes.
    static func announce(_ prefixes: [String], path: [UInt32] = [64512], nextHop: UInt32 = 0xCB00_7102,
        extra: [UInt8] = [], pathIDs: [UInt32]? = nil) -> [UInt8]
    {
        let attributes = attribute(1, [0]) + attribute(2, asPath(path)) + attribute(3, be32(nextHop)) + extra
        let nlri = prefixes.enumerated().flatMap { prefix($0.element, pathID: pathIDs?[$0.offset]) }
        return update(attributes: attributes, nlri: nlri)
    }

    static func notification(code: UInt8, subcode: UInt8, data: [UInt8] = []) -> [UInt8] {
        message(type: 3, [code, subcode] + data)
    }

    static let keepalive = message(type: 4, [])

    // MARK: MRT

    static func mrt(type: Int, subtype: Int, seconds: UInt32 = 1_700_000_000, microseconds: UInt32? = nil,
        _ body: [UInt8]) -> [UInt8]
    {
        let extra = microseconds.map(be32) ?? []
        return be32(seconds) + be16(type) + be16(subtype) + be32(UInt32(body.count + extra.count)) + extra + body
    }

    /// BGP4MP(_ET) MESSAGE_AS4 (subtype 4) or MESSAGE_AS4_ADDPATH (9) from 203.0.113.2 to 203.0.113.1.
    static func bgp4mpAS4(_ message: [UInt8], subtype: Int = 4, peerAS: UInt32 = 64512, localAS: UInt32 = 4_200_000_001,
        extendedTime: Bool = true) -> [UInt8]
    {
        let body = be32(peerAS) + be32(localAS) + be16(0) + be16(1) + be32(0xCB00_7102) + be32(0xCB00_7101) + message
        return mrt(type: extendedTime ? 17 : 16, subtype: subtype, microseconds: extendedTime ? 250_000 : nil, body)
    }
}
