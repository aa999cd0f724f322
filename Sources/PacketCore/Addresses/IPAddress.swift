/// An IPv4 address as a host-order UInt32 (first octet most significant).
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public static let any = IPv4Address(rawValue: 0)
    public static let broadcast = IPv4Address(rawValue: 0xFFFF_FFFF)

    public var isUnspecified: Bool { rawValue == 0 }
    public var isLoopback: Bool { rawValue >> 24 == 127 }
    public var isMulticast: Bool { rawValue >> 28 == 0xE }
    public var isLinkLocal: Bool { rawValue >> 16 == 0xA9FE }

    /// Strict dotted-quad: four decimal octets 0-255, no leading `+`, no empty parts, at most 3 digits each.
    public init?(_ text: some StringProtocol) {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var parts = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard digits < 3 else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard octet <= 255 else { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | octet
                parts += 1
                octet = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        rawValue = value << 8 | octet
    }

    public var description: String {
        "\(rawValue >> 24).\(rawValue >> 16 & 0xFF).\(rawValue >> 8 & 0xFF).\(rawValue & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv6 address as two host-order UInt64 halves.
public struct IPv6Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From eight 16-bit groups.
    public init(groups: [UInt16]) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in groups.prefix(8).enumerated() {
            if index < 4 { high |= UInt64(group) << (48 - 16 * UInt64(index)) } else {
                low |= UInt64(group) << (48 - 16 * UInt64(index - 4))
            }
        }
        self.init(high: high, low: low)
    }

    public static let unspecified = IPv6Address(high: 0, low: 0)
    public static let allNodes = IPv6Address(high: 0xFF02_0000_0000_0000, low: 1)

    public var isUnspecified: Bool { high == 0 && low == 0 }
    public var isLoopback: Bool { high == 0 && low == 1 }
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// fe80::/10
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// ::ffff:a.b.c.d
    public var ipv4Mapped: IPv4Address? {
        guard high == 0, low >> 32 == 0xFFFF else { return nil }
        return IPv4Address(rawValue: UInt32(truncatingIfNeeded: low))
    }
    /// The solicited-node multicast group ff02::1:ffXX:XXXX for this address (NS destination).
    public var solicitedNodeMulticast: IPv6Address {
        IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (low & 0xFF_FFFF))
    }

    public var groups: [UInt16] {
        (0..<8).map { index in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(index % 4)))
        }
    }

    /// Parse any RFC 4291 text form (`::`, embedded IPv4 tail, upper or lower case). Zone ids are rejected.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var index = 0
        if utf8.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawDoubleColon = true
            index = 2
            if index == utf8.count { self.init(high: 0, low: 0); return }
        } else if utf8.first == UInt8(ascii: ":") {
            return nil
        }
        while index < utf8.count {
            // One group: hex digits, or a dotted IPv4 tail.
            var end = index
            while end < utf8.count, utf8[end] != UInt8(ascii: ":") { end += 1 }
            let part = utf8[index..<end]
            if part.contains(UInt8(ascii: ".")) {
                guard end == utf8.count, let v4 = IPv4Address(String(decoding: part, as: UTF8.self)) else {
                    return nil
                }
                let groups = [UInt16(v4.rawValue >> 16), UInt16(v4.rawValue & 0xFFFF)]
                if sawDoubleColon { tail += groups } else { head += groups }
                index = end
                break
            }
            guard !part.isEmpty, part.count <= 4 else { return nil }
            var group: UInt16 = 0
            for byte in part {
                guard let nibble = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
                group = group << 4 | UInt16(nibble)
            }
            if sawDoubleColon { tail.append(group) } else { head.append(group) }
            index = end
            if index == utf8.count { break }
            // At a colon: single separator, or the one allowed "::".
            index += 1
            if index < utf8.count, utf8[index] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                index += 1
            } else if index == utf8.count {
                return nil  // trailing single colon
            }
        }
        let total = head.count + tail.count
        if sawDoubleColon {
            guard total <= 7 else { return nil }
            self.init(groups: head + Array(repeating: 0, count: 8 - total) + tail)
        } else {
            guard total == 8 else { return nil }
            self.init(groups: head)
        }
    }

    /// The zero groups `::` stands for in RFC 5952 text (section 4.2): the longest run of two or more, the
    /// first on a tie, as (first group, number of groups); nil when there is none. Every writer of IPv6
    /// text takes its `::` from here.
    @inlinable
    public static func compressedRun(high: UInt64, low: UInt64) -> (start: Int, length: Int)? {
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0...8 {
            if index < 8, (index < 4 ? high : low) >> UInt64(48 - 16 * (index & 3)) & 0xFFFF == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        return bestLength >= 2 ? (bestStart, bestLength) : nil
    }

    /// RFC 5952 canonical text: lower case, leading zeros dropped, the longest run (>= 2) of zero groups
    /// compressed to `::` (the first such run on a tie), IPv4-mapped addresses as `::ffff:a.b.c.d`.
    public var description: String {
        if let v4 = ipv4Mapped { return "::ffff:\(v4)" }
        let groups = self.groups
        let run = Self.compressedRun(high: high, low: low)
        var text = ""
        var index = 0
        while index < 8 {
            if let run, index == run.start {
                text += "::"
                index += run.length
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// Either address family.
public enum IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) { self = .v4(v4) } else if let v6 = IPv6Address(text) { self = .v6(v6) } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    public var bitWidth: Int {
        switch self {
        case .v4: 32
        case .v6: 128
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}

extension Cursor {
    @inlinable @inline(__always)
    public mutating func readIPv4() throws(ParseError) -> IPv4Address {
        IPv4Address(rawValue: try readU32())
    }

    @inlinable @inline(__always)
    public mutating func readIPv6() throws(ParseError) -> IPv6Address {
        try require(16)
        let high = try readU64()
        let low = try readU64()
        return IPv6Address(high: high, low: low)
    }
}
