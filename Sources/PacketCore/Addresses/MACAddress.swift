/// An IEEE 802 48-bit MAC address, stored in the low 48 bits of a UInt64 (no allocation, cheap to hash).
public struct MACAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address in the low 48 bits, first octet most significant.
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xFFFF_FFFF_FFFF
    }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.rawValue = UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24 | UInt64(b3) << 16
            | UInt64(b4) << 8 | UInt64(b5)
    }

    public static let zero = MACAddress(rawValue: 0)
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    public var octets: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64($0))) } }
    public var isBroadcast: Bool { self == .broadcast }
    public var isZero: Bool { rawValue == 0 }
    /// Group (multicast or broadcast) bit: the least significant bit of the first octet.
    public var isMulticast: Bool { rawValue & (1 << 40) != 0 }
    /// Locally administered bit (set on veth and most virtual NICs).
    public var isLocallyAdministered: Bool { rawValue & (2 << 40) != 0 }

    /// Parse `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` or `aabb.ccdd.eeff`; nil if it is not a MAC address.
    public init?(_ text: some StringProtocol) {
        var value: UInt64 = 0
        var digits = 0
        var groupDigits = 0
        var separator: Character?
        var groups = 0
        for character in text {
            if let nibble = character.hexDigitValue {
                guard digits < 12 else { return nil }
                value = value << 4 | UInt64(nibble)
                digits += 1
                groupDigits += 1
            } else if character == ":" || character == "-" || character == "." {
                if separator == nil { separator = character }
                guard separator == character, groupDigits > 0 else { return nil }
                groups += 1
                groupDigits = 0
            } else {
                return nil
            }
        }
        guard digits == 12, groupDigits > 0 else { return nil }
        switch separator {
        case nil: guard groups == 0 else { return nil }
        case ".": guard groups == 2 else { return nil }
        default: guard groups == 5 else { return nil }
        }
        self.rawValue = value
    }

    /// Lower-case, colon-separated, two digits per octet: `02:42:ac:11:00:02`.
    public var description: String {
        var text = ""
        text.reserveCapacity(17)
        for index in 0..<6 {
            let octet = UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64(index)))
            if index > 0 { text.append(":") }
            text.append(hexDigit(octet >> 4))
            text.append(hexDigit(octet & 0xF))
        }
        return text
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.rawValue < rhs.rawValue }
}

@inline(__always)
func hexDigit(_ nibble: UInt8) -> Character {
    Character(Unicode.Scalar(nibble < 10 ? 0x30 + nibble : 0x57 + nibble))
}

extension Cursor {
    /// Read a 6-octet MAC address.
    @inlinable @inline(__always)
    public mutating func readMAC() throws(ParseError) -> MACAddress {
        try require(6)
        let high = try readU16()
        let low = try readU32()
        return MACAddress(rawValue: UInt64(high) << 32 | UInt64(low))
    }
}
