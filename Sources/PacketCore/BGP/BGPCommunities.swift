/// A COMMUNITIES value (RFC 1997), with the well-known names (IANA "BGP Well-known Communities").
public struct BGPCommunity: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ high: UInt16, _ low: UInt16) { rawValue = UInt32(high) << 16 | UInt32(low) }

    public static let gracefulShutdown = BGPCommunity(rawValue: 0xFFFF_0000)
    public static let acceptOwn = BGPCommunity(rawValue: 0xFFFF_0001)
    public static let llgrStale = BGPCommunity(rawValue: 0xFFFF_0006)
    public static let noLLGR = BGPCommunity(rawValue: 0xFFFF_0007)
    public static let blackhole = BGPCommunity(rawValue: 0xFFFF_029A)
    public static let noExport = BGPCommunity(rawValue: 0xFFFF_FF01)
    public static let noAdvertise = BGPCommunity(rawValue: 0xFFFF_FF02)
    public static let noExportSubconfed = BGPCommunity(rawValue: 0xFFFF_FF03)
    public static let noPeer = BGPCommunity(rawValue: 0xFFFF_FF04)

    static let names: [UInt32: String] = [
        0xFFFF_0000: "graceful-shutdown", 0xFFFF_0001: "accept-own", 0xFFFF_0006: "llgr-stale",
        0xFFFF_0007: "no-llgr", 0xFFFF_029A: "blackhole", 0xFFFF_FF01: "no-export", 0xFFFF_FF02: "no-advertise",
        0xFFFF_FF03: "no-export-subconfed", 0xFFFF_FF04: "no-peer",
    ]

    public var name: String? { Self.names[rawValue] }
    /// `65000:4200`, or the well-known name.
    public var description: String { name ?? "\(rawValue >> 16):\(rawValue & 0xFFFF)" }
    public static func < (lhs: BGPCommunity, rhs: BGPCommunity) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The whole COMMUNITIES attribute: a multiple of 4 bytes (RFC 7606 section 7.8: else treat-as-withdraw).
    public static func parseList(_ cursor: inout Cursor) throws(ParseError) -> [BGPCommunity] {
        guard cursor.remaining % 4 == 0 else { throw cursor.error(.malformed, "COMMUNITIES length is not a multiple of 4") }
        var list: [BGPCommunity] = []
        list.reserveCapacity(cursor.remaining / 4)
        while !cursor.isEmpty { list.append(BGPCommunity(rawValue: try cursor.readU32())) }
        return list
    }
}

/// A LARGE_COMMUNITY value (RFC 8092): global administrator, local data part 1, local data part 2.
public struct BGPLargeCommunity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var globalAdministrator: UInt32
    public var localData1: UInt32
    public var localData2: UInt32

    public init(_ global: UInt32, _ local1: UInt32, _ local2: UInt32) {
        globalAdministrator = global
        localData1 = local1
        localData2 = local2
    }

    public var description: String { "\(globalAdministrator):\(localData1):\(localData2)" }

    public static func < (lhs: BGPLargeCommunity, rhs: BGPLargeCommunity) -> Bool {
        (lhs.globalAdministrator, lhs.localData1, lhs.localData2) < (rhs.globalAdministrator, rhs.localData1, rhs.localData2)
    }

    /// RFC 8092 section 5 / RFC 7606: a length not a multiple of 12 is treat-as-withdraw.
    public static func parseList(_ cursor: inout Cursor) throws(ParseError) -> [BGPLargeCommunity] {
        guard cursor.remaining % 12 == 0 else {
            throw cursor.error(.malformed, "LARGE_COMMUNITY length is not a multiple of 12")
        }
        var list: [BGPLargeCommunity] = []
        while !cursor.isEmpty {
            list.append(BGPLargeCommunity(try cursor.readU32(), try cursor.readU32(), try cursor.readU32()))
        }
        return list
    }
}

/// An EXTENDED_COMMUNITIES value (RFC 4360; RFC 5668 4-octet AS; RFC 7153 registry; link bandwidth from
/// draft-ietf-idr-link-bandwidth).
///
/// ```
/// +-------------+-------------+---------------------------------------+
/// | Type (1)    | Sub-Type (1)| Value (6)                             |
/// +-------------+-------------+---------------------------------------+
/// ```
public struct BGPExtendedCommunity: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public var type: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 56) }
    public var subtype: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 48) }

    /// `rt 64512:100`, `ro 203.0.113.1:7`, `link-bandwidth 64512:1.25e+08`, or the raw hex.
    public var description: String {
        let value = rawValue & 0xFFFF_FFFF_FFFF
        let kind: String? = switch subtype {
        case 0x02: "rt"
        case 0x03: "ro"
        default: nil
        }
        switch type & 0x3F {  // the high bits are IANA-authority and non-transitive flags
        case 0x00 where kind != nil:  // two-octet AS specific
            return "\(kind ?? "") \(value >> 32):\(value & 0xFFFF_FFFF)"
        case 0x01 where kind != nil:  // IPv4 address specific
            return "\(kind ?? "") \(IPv4Address(rawValue: UInt32(truncatingIfNeeded: value >> 16))):\(value & 0xFFFF)"
        case 0x02 where kind != nil:  // four-octet AS specific
            return "\(kind ?? "") \(value >> 16):\(value & 0xFFFF)"
        case 0x00 where subtype == 0x04:  // link bandwidth: AS, IEEE float bytes per second
            let bandwidth = Float(bitPattern: UInt32(truncatingIfNeeded: value))
            return "link-bandwidth \(value >> 32):\(bandwidth)"
        case 0x03 where subtype == 0x0C:  // opaque: encapsulation (RFC 9012)
            return "encapsulation \(value & 0xFFFF)"
        case 0x06 where subtype == 0x00:  // EVPN MAC mobility
            return "mac-mobility \(value & 0xFFFF_FFFF)"
        default:
            var hex = String(rawValue, radix: 16)
            hex = String(repeating: "0", count: 16 - hex.count) + hex
            return "0x\(hex)"
        }
    }

    /// RFC 7606 section 7.14: a length not a multiple of 8 is treat-as-withdraw.
    public static func parseList(_ cursor: inout Cursor) throws(ParseError) -> [BGPExtendedCommunity] {
        guard cursor.remaining % 8 == 0 else {
            throw cursor.error(.malformed, "EXTENDED_COMMUNITIES length is not a multiple of 8")
        }
        var list: [BGPExtendedCommunity] = []
        while !cursor.isEmpty { list.append(BGPExtendedCommunity(rawValue: try cursor.readU64())) }
        return list
    }
}
