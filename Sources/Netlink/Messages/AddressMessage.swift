import PacketCore

extension Address {
    /// Decode the payload of an RTM_NEWADDR or RTM_DELADDR message (linux/if_addr.h; RFC 3549 section 2.3.3.2):
    /// `struct ifaddrmsg`, then attributes. nil for an address of another family than IPv4 or IPv6, or one without
    /// an address, the same objects the libnl path (`Address(libnl:)`) skips.
    ///
    ///      0                   1                   2                   3
    ///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    ///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ///     |    Family     | Prefix length |  Flags (low 8)|     Scope     |
    ///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ///     |                    Interface index (host order)               |
    ///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ///     | attributes: IFA_ADDRESS 1, IFA_LOCAL 2, IFA_LABEL 3, IFA_BROADCAST 4, IFA_CACHEINFO 6, IFA_FLAGS 8  |
    ///
    /// Which attribute is the local address follows libnl (and the kernel's comment in if_addr.h): IPv4 sends
    /// IFA_LOCAL and IFA_ADDRESS, the latter being the peer when they differ; IPv6 sends only IFA_ADDRESS, which is
    /// then the local address. IFA_FLAGS (32 bits) supersedes the 8-bit ifa_flags, which cannot hold
    /// noprefixroute and later flags. IFA_CACHEINFO is `struct ifa_cacheinfo { prefered, valid, cstamp, tstamp }`.
    /// This path allocates nothing: addresses are scalars and an IPv4 label fits a small string.
    public init?(parsing cursor: inout Cursor) throws(ParseError) {
        let family = AddressFamily(rawValue: try cursor.readU8())
        let prefixLength = Int(try cursor.readU8())
        var flags = UInt32(try cursor.readU8())
        let scope = Scope(rawValue: try cursor.readU8())
        let interfaceIndex = Int32(bitPattern: try cursor.readU32LE())

        var local: IPAddress?
        var address: IPAddress?
        var broadcast: IPAddress?
        var hasAddressAttribute = false
        var label: String?
        var valid = AddressLifetime.forever
        var preferred = AddressLifetime.forever
        while var attribute = try RouteAttribute.next(&cursor) {
            switch attribute.type {
            case 1:  // IFA_ADDRESS
                hasAddressAttribute = true
                address = Self.ip(family, &attribute.value)
            case 2:  // IFA_LOCAL
                local = Self.ip(family, &attribute.value)
                if local == nil { return nil }
            case 3:  // IFA_LABEL: NUL-terminated, at most IFNAMSIZ - 1 characters (libnl's nla_strlcpy)
                label = Self.label(&attribute.value)
            case 4:  // IFA_BROADCAST
                broadcast = Self.ip(family, &attribute.value)
            case 6:  // IFA_CACHEINFO: libnl ignores one shorter than the struct (its policy's minlen)
                if attribute.value.remaining >= 16 {
                    preferred = try attribute.value.readU32LE()
                    valid = try attribute.value.readU32LE()
                }
            case 8:  // IFA_FLAGS
                if attribute.value.remaining >= 4 { flags = try attribute.value.readU32LE() }
            default:
                continue
            }
        }
        guard family == .inet || family == .inet6 else { return nil }
        var peer: IPAddress?
        if hasAddressAttribute {
            if local == nil || local == address { local = address } else { peer = address }
        }
        guard let local else { return nil }
        self.init(
            interfaceIndex: interfaceIndex, local: local, prefixLength: prefixLength, peer: peer,
            broadcast: broadcast, scope: scope, label: label, flags: AddressFlags(rawValue: flags),
            validLifetime: valid, preferredLifetime: preferred)
    }

    /// An address attribute's value: 4 bytes for IPv4, 16 for IPv6, in network order. nil for any other length
    /// (libnl's path cannot turn those into an address either).
    private static func ip(_ family: AddressFamily, _ value: inout Cursor) -> IPAddress? {
        switch (family, value.remaining) {
        case (.inet, 4):
            guard let raw = try? value.readU32() else { return nil }
            return .v4(IPv4Address(rawValue: raw))
        case (.inet6, 16):
            guard let high = try? value.readU64(), let low = try? value.readU64() else { return nil }
            return .v6(IPv6Address(high: high, low: low))
        default:
            return nil
        }
    }

    private static func label(_ value: inout Cursor) -> String? {
        var length = 0
        while length < 15, let byte = value.peekU8(ahead: length), byte != 0 { length += 1 }
        guard length > 0, let text = try? value.readString(length) else { return nil }
        return text
    }
}
