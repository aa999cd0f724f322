import Glibc
import PacketCore

/// An IPv4 or IPv6 address with a port, as the kernel's `sockaddr_in` / `sockaddr_in6` bytes: built from an
/// `IPAddress` (to connect or bind) or from what `accept`, `getpeername` or `getaddrinfo` returned (to report who
/// it is). The one place that lays sockaddr structures out, so no tool writes that code again.
public struct SocketEndpoint: Sendable, Hashable {
    /// The raw `sockaddr_in` or `sockaddr_in6` bytes.
    public let storage: [UInt8]
    /// AF_INET or AF_INET6.
    public let family: Int32

    /// From a sockaddr the kernel or the resolver filled in; nil for any family but AF_INET and AF_INET6.
    public init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        let family = Int32(address.pointee.sa_family)
        switch family {
        case AF_INET: guard Int(length) >= MemoryLayout<sockaddr_in>.size else { return nil }
        case AF_INET6: guard Int(length) >= MemoryLayout<sockaddr_in6>.size else { return nil }
        default: return nil
        }
        self.family = family
        storage = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: Int(length)))
    }

    /// From an address and a port (network byte order is this type's business, not the caller's).
    public init(_ address: IPAddress, port: UInt16) {
        switch address {
        case .v4(let v4):
            var raw = sockaddr_in()
            raw.sin_family = sa_family_t(AF_INET)
            raw.sin_port = port.bigEndian
            raw.sin_addr = in_addr(s_addr: v4.rawValue.bigEndian)
            family = AF_INET
            storage = withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let v6):
            var raw = sockaddr_in6()
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &raw.sin6_addr) { bytes in
                for index in 0..<8 {
                    bytes[index] = UInt8(truncatingIfNeeded: v6.high >> (56 - 8 * UInt64(index)))
                    bytes[8 + index] = UInt8(truncatingIfNeeded: v6.low >> (56 - 8 * UInt64(index)))
                }
            }
            family = AF_INET6
            storage = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }

    /// The port, in host byte order.
    public var port: UInt16 {
        storage.withUnsafeBytes { raw in
            family == AF_INET6
                ? UInt16(bigEndian: raw.loadUnaligned(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.loadUnaligned(as: sockaddr_in.self).sin_port)
        }
    }

    /// The address as the core's value type.
    public var address: IPAddress {
        storage.withUnsafeBytes { raw in
            if family == AF_INET6 {
                var high: UInt64 = 0
                var low: UInt64 = 0
                let bytes = raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr
                withUnsafeBytes(of: bytes) { b in
                    for index in 0..<8 {
                        high = high << 8 | UInt64(b[index])
                        low = low << 8 | UInt64(b[8 + index])
                    }
                }
                return .v6(IPv6Address(high: high, low: low))
            }
            return .v4(IPv4Address(rawValue: UInt32(bigEndian: raw.loadUnaligned(as: sockaddr_in.self).sin_addr.s_addr)))
        }
    }

    /// The address as `inet_ntop` writes it (what svcprobe has always printed), or nil if it cannot.
    public var presentation: String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = storage.withUnsafeBytes { raw -> Bool in
            if family == AF_INET6 {
                var address = raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr
                return inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil
            }
            var address = raw.loadUnaligned(as: sockaddr_in.self).sin_addr
            return inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Hand the kernel a correctly aligned sockaddr (a copy into a `sockaddr_storage`) and its length, for
    /// connect, bind or sendto.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        storage.withUnsafeBytes { raw in
            var aligned = sockaddr_storage()
            withUnsafeMutableBytes(of: &aligned) { $0.copyMemory(from: raw) }
            return withUnsafePointer(to: &aligned) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(raw.count)) }
            }
        }
    }
}
