/// One end of a TCP connection: an address and a port.
public struct FlowEndpoint: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `198.51.100.1:179`, or `[2001:db8::1]:179` for IPv6 (brackets keep the port readable).
    public var description: String {
        switch address {
        case .v4(let v4): "\(v4):\(port)"
        case .v6(let v6): "[\(v6)]:\(port)"
        }
    }

    public static func < (lhs: FlowEndpoint, rhs: FlowEndpoint) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}

/// A connection's identity, independent of which side sent a segment: the two endpoints in canonical order
/// (`low < high`), so `FlowKey(a, b) == FlowKey(b, a)`.
public struct FlowKey: Sendable, Hashable, CustomStringConvertible {
    public let low: FlowEndpoint
    public let high: FlowEndpoint

    public init(_ a: FlowEndpoint, _ b: FlowEndpoint) {
        if b < a {
            low = b
            high = a
        } else {
            low = a
            high = b
        }
    }

    /// Which side `source` is. A segment whose source equals its destination (a self-connected socket) is
    /// filed under `.low`.
    public func side(of source: FlowEndpoint) -> FlowSide {
        source == low ? .low : .high
    }

    public func endpoint(_ side: FlowSide) -> FlowEndpoint {
        switch side {
        case .low: low
        case .high: high
        }
    }

    /// `198.51.100.1:179 <> 203.0.113.5:40000`
    public var description: String { "\(low) <> \(high)" }
}

/// Which endpoint of a `FlowKey` sent the bytes (or did the thing) an event is about.
public enum FlowSide: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case low, high

    public var other: FlowSide {
        switch self {
        case .low: .high
        case .high: .low
        }
    }

    public var description: String {
        switch self {
        case .low: "low"
        case .high: "high"
        }
    }
}
