import Glibc

/// One thing to probe, as written on the command line: `HOST:PORT`, `[IPv6]:PORT`, or `HOST` alone (port
/// 3306). `HOST` is an IPv4 or IPv6 literal or a name resolved with getaddrinfo.
public struct ProbeTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public static let defaultPort: UInt16 = 3306

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// How the target is written back: IPv6 literals in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parse one argument; a port range (`HOST:41000-41009`) gives one target per port.
    public static func parse(_ text: String) throws(TargetError) -> [ProbeTarget] {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw TargetError(text, "an IPv6 address needs its closing ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw TargetError(text, "write [IPv6]:PORT") }
                portText = rest.dropFirst()
            }
        } else if text.filter({ $0 == ":" }).count > 1 {
            host = Substring(text)  // a bare IPv6 literal: no port
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        guard !host.isEmpty else { throw TargetError(text, "the host is missing") }
        guard let portText else { return [ProbeTarget(host: String(host), port: defaultPort)] }
        let bounds = portText.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let low = UInt16(bounds[0]), low > 0 else {
            throw TargetError(text, "the port must be a number from 1 to 65535 (or a range LOW-HIGH)")
        }
        let high = bounds.count == 2 ? UInt16(bounds[1]) : low
        guard let high, high >= low else { throw TargetError(text, "a port range is written LOW-HIGH with LOW <= HIGH") }
        return (low...high).map { ProbeTarget(host: String(host), port: $0) }
    }
}

/// Why a target argument was rejected: one sentence for standard error.
public struct TargetError: Error, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String
    init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }
    public var description: String { "'\(text)': \(reason)." }
}

/// A resolved socket address (IPv4 or IPv6) with its port.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The raw `sockaddr_in` or `sockaddr_in6` bytes.
    let storage: [UInt8]
    public let family: Int32
    public let ip: String
    public let port: UInt16

    init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        family = Int32(address.pointee.sa_family)
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch family {
        case AF_INET:
            let v4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            var raw = v4.sin_addr
            guard inet_ntop(AF_INET, &raw, &text, socklen_t(text.count)) != nil else { return nil }
            port = UInt16(bigEndian: v4.sin_port)
        case AF_INET6:
            let v6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            var raw = v6.sin6_addr
            guard inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil else { return nil }
            port = UInt16(bigEndian: v6.sin6_port)
        default:
            return nil
        }
        ip = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        storage = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: Int(length)))
    }

    public var description: String { family == AF_INET6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        storage.withUnsafeBytes { raw in
            // A copy into a sockaddr_storage gives the kernel a correctly aligned structure.
            var aligned = sockaddr_storage()
            withUnsafeMutableBytes(of: &aligned) { $0.copyMemory(from: raw) }
            return withUnsafePointer(to: &aligned) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(raw.count)) }
            }
        }
    }

    /// Resolve `target`: literals without a lookup, names with getaddrinfo (the first TCP address wins,
    /// in the order the resolver prefers). Returns a one-sentence reason on failure.
    public static func resolve(_ target: ProbeTarget) -> Result<SocketAddress, ResolutionError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        guard status == 0 else {
            let reason = String(cString: gai_strerror(status))
            return .failure(ResolutionError(message: "cannot resolve \(target.host): \(reason)"))
        }
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr, let resolved = SocketAddress(address, length: current.pointee.ai_addrlen) {
                return .success(resolved)
            }
            entry = current.pointee.ai_next
        }
        return .failure(ResolutionError(message: "no IPv4 or IPv6 address for \(target.host)"))
    }
}

public struct ResolutionError: Error, Sendable, Hashable {
    public let message: String
}

/// Durations written `200ms`, `2s`, `1.5s`, `1m`, or a bare number of seconds.
public enum DurationText {
    public static func nanoseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("s", 1e9), ("m", 60e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value.isFinite, value >= 0 else { return nil }
            return Int64(value * scale)
        }
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else { return nil }
        return Int64(seconds * 1e9)
    }
}

/// The monotonic clock in nanoseconds: every probe timing comes from it (never the wall clock).
public enum Monotonic {
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
