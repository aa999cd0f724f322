/// A CIDR prefix such as `198.51.100.0/24` or `2001:db8::/32`. The address is kept as given (host bits
/// included, like `ip addr` shows `198.51.100.7/24`); `network` is the masked form.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    /// nil when `length` exceeds the family's width or is negative.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitWidth else { return nil }
        self.address = address
        self.length = length
    }

    /// Parse `A/len`; a bare address is a host prefix (/32 or /128).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        if parts.count == 1 {
            self.init(address: address, length: address.bitWidth)
        } else {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCII), let length = Int(digits) else {
                return nil
            }
            self.init(address: address, length: length)
        }
    }

    /// The prefix with host bits cleared.
    public var network: IPAddress {
        switch address {
        case .v4(let v4): .v4(IPv4Address(rawValue: v4.rawValue & Self.mask32(length)))
        case .v6(let v6):
            .v6(IPv6Address(high: v6.high & Self.mask64(length), low: v6.low & Self.mask64(length - 64)))
        }
    }

    /// The last address covered (the broadcast address for IPv4).
    public var last: IPAddress {
        switch address {
        case .v4(let v4): .v4(IPv4Address(rawValue: v4.rawValue | ~Self.mask32(length)))
        case .v6(let v6):
            .v6(IPv6Address(high: v6.high | ~Self.mask64(length), low: v6.low | ~Self.mask64(length - 64)))
        }
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let net), .v4(let ip)):
            return net.rawValue & Self.mask32(length) == ip.rawValue & Self.mask32(length)
        case (.v6(let net), .v6(let ip)):
            return net.high & Self.mask64(length) == ip.high & Self.mask64(length)
                && net.low & Self.mask64(length - 64) == ip.low & Self.mask64(length - 64)
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(length)" }

    /// Mask with the top `bits` of 32 set (bits clamped to 0...32).
    static func mask32(_ bits: Int) -> UInt32 {
        bits <= 0 ? 0 : bits >= 32 ? .max : ~(UInt32.max >> UInt32(bits))
    }

    /// Mask with the top `bits` of 64 set (bits clamped to 0...64).
    static func mask64(_ bits: Int) -> UInt64 {
        bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits))
    }
}

/// An inclusive address range, as MetalLB pools are written: `198.51.100.200-198.51.100.250`, a CIDR
/// (`198.51.100.0/24`), or one address.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    public let first: IPAddress
    public let last: IPAddress

    /// nil when the ends are of different families or out of order.
    public init?(first: IPAddress, last: IPAddress) {
        guard first.bitWidth == last.bitWidth, first <= last else { return nil }
        self.first = first
        self.last = last
    }

    public init(_ prefix: IPPrefix) {
        first = prefix.network
        last = prefix.last
    }

    /// Parse `A-B` (spaces around the dash allowed), `A/len` or a bare address.
    public init?(_ text: some StringProtocol) {
        let trimmed = text.trimmingSpaces
        if let dash = trimmed.firstIndex(of: "-") {
            let left = trimmed[..<dash].trimmingSpaces
            let right = trimmed[trimmed.index(after: dash)...].trimmingSpaces
            guard let first = IPAddress(left), let last = IPAddress(right) else { return nil }
            self.init(first: first, last: last)
        } else if let prefix = IPPrefix(trimmed) {
            self.init(prefix)
        } else {
            return nil
        }
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.bitWidth == first.bitWidth && first <= address && address <= last
    }

    public var description: String { first == last ? "\(first)" : "\(first)-\(last)" }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let text = Substring(self)
        guard let start = text.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let end = text.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return text[text.endIndex...] }
        return text[start...end]
    }
}
