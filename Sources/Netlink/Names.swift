import PacketCore

/// Open number types for the rtnetlink fields addrinspect shows, each with the name `ip` uses for it. An
/// unknown value never fails: it is kept and shown as its number, so a newer kernel's value still prints.

/// A socket address family (AF_*), as rtnetlink messages carry it.
public struct AddressFamily: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unspecified = AddressFamily(rawValue: 0)
    public static let inet = AddressFamily(rawValue: 2)
    public static let bridge = AddressFamily(rawValue: 7)
    public static let inet6 = AddressFamily(rawValue: 10)

    public var description: String {
        switch self {
        case .inet: "inet"
        case .inet6: "inet6"
        case .bridge: "bridge"
        case .unspecified: "unspec"
        default: String(rawValue)
        }
    }
}

extension IPAddress {
    /// AF_INET or AF_INET6.
    public var family: AddressFamily {
        switch self {
        case .v4: .inet
        case .v6: .inet6
        }
    }
}

/// An address or route scope (RT_SCOPE_*): how far the address is meaningful.
public struct Scope: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let global = Scope(rawValue: 0)  // RT_SCOPE_UNIVERSE
    public static let site = Scope(rawValue: 200)
    public static let link = Scope(rawValue: 253)
    public static let host = Scope(rawValue: 254)
    public static let nowhere = Scope(rawValue: 255)

    static let names: [(Scope, String)] = [
        (.global, "global"), (.site, "site"), (.link, "link"), (.host, "host"), (.nowhere, "nowhere"),
    ]

    public var description: String { Self.names.first { $0.0 == self }?.1 ?? String(rawValue) }

    /// `global`, `link`, ... or a number.
    public init?(name: String) {
        if let known = Self.names.first(where: { $0.1 == name }) { self = known.0; return }
        guard let number = UInt8(name) else { return nil }
        self.init(rawValue: number)
    }
}

/// Names for the set bits of a flag word, in a fixed order, with any unknown bits appended as one hex value.
func flagNames<Word: FixedWidthInteger>(_ word: Word, _ table: [(Word, String)]) -> [String] {
    var names: [String] = []
    var rest = word
    for (bit, name) in table where word & bit != 0 {
        names.append(name)
        rest &= ~bit
    }
    if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
    return names
}

/// A link-layer address of any length (6 bytes for Ethernet, 0 for none, 16 for InfiniBand, ...), shown as
/// colon-separated lowercase hex like `ip` does.
public struct HardwareAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String {
        var text = ""
        text.reserveCapacity(bytes.count * 3)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { text += ":" }
            if byte < 16 { text += "0" }
            text += String(byte, radix: 16)
        }
        return text
    }
}
