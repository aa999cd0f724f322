import CNetlink
import PacketCore

/// Reading libnl's `struct nl_addr` (an opaque pointer) into the core's value types. libnl owns the nl_addr;
/// these copy the bytes out and never keep the pointer.
enum LibnlValues {
    /// The address bytes of an nl_addr, or nil when there is none.
    static func bytes(_ address: OpaquePointer?) -> [UInt8]? {
        guard let address, let base = nl_addr_get_binary_addr(address) else { return nil }
        let length = Int(nl_addr_get_len(address))
        return [UInt8](UnsafeRawBufferPointer(start: base, count: length))
    }

    /// An IPv4 or IPv6 address; an empty address of a known family (libnl's form of `default`) is the
    /// unspecified address of that family.
    static func ipAddress(_ address: OpaquePointer?) -> IPAddress? {
        guard let address else { return nil }
        let length = Int(nl_addr_get_len(address))
        let family = nl_addr_get_family(address)
        guard let base = nl_addr_get_binary_addr(address) else { return nil }
        let raw = UnsafeRawBufferPointer(start: base, count: length)
        switch (family, length) {
        case (AF_INET, 4):
            return .v4(IPv4Address(raw[0], raw[1], raw[2], raw[3]))
        case (AF_INET6, 16):
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
            return .v6(IPv6Address(high: high, low: low))
        case (AF_INET, 0): return .v4(.any)
        case (AF_INET6, 0): return .v6(.unspecified)
        default: return nil
        }
    }

    /// A prefix from an nl_addr carrying a prefix length (route destinations).
    static func prefix(_ address: OpaquePointer?) -> IPPrefix? {
        guard let address, let ip = ipAddress(address) else { return nil }
        return IPPrefix(address: ip, length: Int(nl_addr_get_prefixlen(address)))
    }

    static func hardwareAddress(_ address: OpaquePointer?) -> HardwareAddress? {
        bytes(address).map(HardwareAddress.init)
    }

    static func string(_ text: UnsafeMutablePointer<CChar>?) -> String? {
        text.map { String(cString: $0) }
    }
}
