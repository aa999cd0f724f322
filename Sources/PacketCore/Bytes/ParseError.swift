/// The one error type of the core.
///
/// Every decoder throws this and only this (typed throws), so a caller always learns *what* went wrong
/// (`kind`), *where* in the packet or stream (`offset`, absolute from the first byte handed to the core),
/// *in which protocol* (`layer`) and a short human `reason`. `reason` is a `StaticString` so building an
/// error never allocates on the hot path.
public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The bytes end before the structure does (snaplen cut, short read, truncated file).
        case truncated
        /// The bytes are there but contradict the protocol (a length shorter than its header, a bad version).
        case malformed
        /// A valid structure we do not decode (an unknown hardware type, an unsupported link type).
        case unsupported
    }

    public var kind: Kind
    /// Absolute byte offset of the problem, counted from the start of the buffer given to the core.
    public var offset: Int
    public var layer: Layer
    public var reason: StaticString

    public init(_ kind: Kind, at offset: Int, layer: Layer, _ reason: StaticString) {
        self.kind = kind
        self.offset = offset
        self.layer = layer
        self.reason = reason
    }

    public var description: String {
        "\(layer.name): \(kind.rawValue) at byte \(offset): \(reason)"
    }

    public static func == (lhs: ParseError, rhs: ParseError) -> Bool {
        lhs.kind == rhs.kind && lhs.offset == rhs.offset && lhs.layer == rhs.layer
            && lhs.reason.description == rhs.reason.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(offset)
        hasher.combine(layer)
    }
}

/// The protocol layer a parse error (or a decoded unit) belongs to.
public enum Layer: UInt8, Sendable, Hashable, CaseIterable {
    case link, vlan, arp, ipv4, ipv6, ipv6Extension, icmpv4, icmpv6, ndp, tcp, udp, stream, bgp, mrt, mysql

    public var name: String {
        switch self {
        case .link: "link"
        case .vlan: "vlan"
        case .arp: "arp"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .ipv6Extension: "ipv6-ext"
        case .icmpv4: "icmp"
        case .icmpv6: "icmpv6"
        case .ndp: "ndp"
        case .tcp: "tcp"
        case .udp: "udp"
        case .stream: "stream"
        case .bgp: "bgp"
        case .mrt: "mrt"
        case .mysql: "mysql"
        }
    }
}
