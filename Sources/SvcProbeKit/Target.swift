import EventLoop
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
            // A bare IPv6 literal: no port. `::1:3306` is itself a valid address (::0.1.51.6), but it reads
            // as "::1 port 3306": when the text without its last group is an address too, refuse to guess.
            if let colon = text.lastIndex(of: ":"), !text[text.index(after: colon)...].isEmpty,
                text[text.index(after: colon)...].allSatisfy({ $0.isASCII && $0.isNumber }),
                isIPv6Literal(String(text[..<colon])), isIPv6Literal(text)
            {
                let host = text[..<colon]
                let port = text[text.index(after: colon)...]
                throw TargetError(
                    text, "ambiguous: write [\(host)]:\(port) for port \(port) of \(host), or [\(text)] for the address itself")
            }
            host = Substring(text)
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

/// Whether `text` is an IPv6 address literal (inet_pton; no name lookup).
func isIPv6Literal(_ text: String) -> Bool {
    var address = in6_addr()
    return inet_pton(AF_INET6, text, &address) == 1
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

/// A resolved socket address (IPv4 or IPv6) with its port. The sockaddr bytes are EventLoop's `SocketEndpoint`
/// (the one place sockaddr structures are laid out); `ip` is the text svcprobe prints (inet_ntop's).
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public let endpoint: SocketEndpoint
    public var family: Int32 { endpoint.family }
    public let ip: String
    public var port: UInt16 { endpoint.port }

    init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        guard let endpoint = SocketEndpoint(address, length: length), let ip = endpoint.presentation else { return nil }
        self.endpoint = endpoint
        self.ip = ip
    }

    public var description: String { family == AF_INET6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R { endpoint.withSockaddr(body) }

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
    /// The duration in nanoseconds, or nil when the text is not a finite, non-negative duration that fits
    /// in an `Int64` of nanoseconds (so `1e300s` is nil, never an arithmetic trap).
    public static func nanoseconds(_ text: String) -> Int64? {
        guard case .success(let value) = parse(text) else { return nil }
        return value
    }

    /// Why a duration option was refused: the sentence names the option and the allowed range.
    public enum Problem: Error, Sendable, Hashable {
        case notADuration, negative, outOfRange
    }

    /// Parse `text` and check it lies in `range` (nanoseconds): the value, or a one-sentence usage error
    /// for `--option` that names the allowed range.
    public static func validated(
        _ text: String, option: String, range: ClosedRange<Int64>, example: String
    ) -> Result<Int64, DurationError> {
        let allowed = "from \(describe(range.lowerBound)) to \(describe(range.upperBound))"
        switch parse(text) {
        case .success(let value) where range.contains(value):
            return .success(value)
        case .success, .failure(.outOfRange):
            return .failure(DurationError("\(option) '\(text)' is out of range: give a duration \(allowed)."))
        case .failure(.negative):
            return .failure(DurationError("\(option) must be positive: give a duration \(allowed), such as \(example)."))
        case .failure(.notADuration):
            return .failure(DurationError(
                "\(option) '\(text)' is not a duration: write it like \(example) (ms, us, s or m), \(allowed)."))
        }
    }

    static func parse(_ text: String) -> Result<Int64, Problem> {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("s", 1e9), ("m", 60e9)]
        var number = Substring(text)
        var scale = 1e9
        for (suffix, unitScale) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = unitScale
            break
        }
        guard let value = Double(number), !value.isNaN else { return .failure(.notADuration) }
        if value < 0 || (value == 0 && value.sign == .minus) { return .failure(.negative) }
        let nanoseconds = value * scale
        // 2^63 is exactly representable: anything at or above it does not fit (infinity included).
        guard nanoseconds.isFinite, nanoseconds < 9_223_372_036_854_775_808.0 else { return .failure(.outOfRange) }
        return .success(Int64(nanoseconds))
    }

    /// `1ms`, `3600s`, `1.5s`: the shortest exact form for a range bound.
    public static func describe(_ nanoseconds: Int64) -> String {
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        if nanoseconds % 1_000 == 0 { return "\(nanoseconds / 1_000)us" }
        return "\(nanoseconds)ns"
    }
}

/// A refused duration option: one sentence for standard error.
public struct DurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Integer options (`--concurrency`, `--port`): parsed from text so that `-5` reads as a number (and is
/// refused as "must be positive") and `1e300` or `99999999999999999999` is out of range, never a trap.
public enum NumberText {
    public static func validated(_ text: String, option: String, range: ClosedRange<Int>) -> Result<Int, DurationError> {
        let allowed = "from \(range.lowerBound) to \(range.upperBound)"
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            if text.hasPrefix("-"), Double(text) != nil {
                return .failure(DurationError("\(option) must be positive: give a whole number \(allowed)."))
            }
            return .failure(DurationError("\(option) '\(text)' is not a whole number: give one \(allowed)."))
        }
        if text.hasPrefix("-"), digits.contains(where: { $0 != "0" }) {
            return .failure(DurationError("\(option) must be positive: give a whole number \(allowed)."))
        }
        guard let value = Int(digits), range.contains(value) else {
            return .failure(DurationError("\(option) '\(text)' is out of range: give a whole number \(allowed)."))
        }
        return .success(value)
    }
}

/// The monotonic clock in nanoseconds: every probe timing comes from it (never the wall clock).
/// EventLoop's clock, under the name svcprobe's code and tests use.
public enum Monotonic {
    @inline(__always)
    public static func now() -> Int64 { MonotonicClock.now() }
}
