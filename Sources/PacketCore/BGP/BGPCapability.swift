/// Capability code (RFC 5492; IANA "Capability Codes"). Open: unknown codes are kept raw.
public struct BGPCapabilityCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let multiprotocol = BGPCapabilityCode(rawValue: 1)
    public static let routeRefresh = BGPCapabilityCode(rawValue: 2)
    public static let outboundRouteFiltering = BGPCapabilityCode(rawValue: 3)
    public static let extendedNextHop = BGPCapabilityCode(rawValue: 5)
    public static let extendedMessage = BGPCapabilityCode(rawValue: 6)
    public static let bgpRole = BGPCapabilityCode(rawValue: 9)
    public static let gracefulRestart = BGPCapabilityCode(rawValue: 64)
    public static let fourOctetAS = BGPCapabilityCode(rawValue: 65)
    public static let addPath = BGPCapabilityCode(rawValue: 69)
    public static let enhancedRouteRefresh = BGPCapabilityCode(rawValue: 70)
    public static let longLivedGracefulRestart = BGPCapabilityCode(rawValue: 71)
    public static let fqdn = BGPCapabilityCode(rawValue: 73)
    public static let ciscoRouteRefresh = BGPCapabilityCode(rawValue: 128)

    static let names: [UInt8: String] = [
        1: "multiprotocol", 2: "route-refresh", 3: "orf", 5: "extended-next-hop", 6: "extended-message",
        7: "bgpsec", 8: "multiple-labels", 9: "role", 64: "graceful-restart", 65: "4-octet-as", 67: "dynamic",
        69: "add-path", 70: "enhanced-route-refresh", 71: "long-lived-graceful-restart", 73: "fqdn",
        128: "route-refresh-cisco",
    ]

    public var description: String { Self.names[rawValue] ?? "capability-\(rawValue)" }
}

/// One capability of an OPEN (RFC 5492 section 4).
///
/// ```
/// +------------------------------+
/// | Capability Code (1 octet)    |
/// +------------------------------+
/// | Capability Length (1 octet)  |
/// +------------------------------+
/// | Capability Value (variable)  |
/// +------------------------------+
/// ```
public struct BGPCapability: Sendable, Hashable, CustomStringConvertible {
    public var code: BGPCapabilityCode
    public var value: Value
    /// The value bytes, absolute.
    public var range: Range<Int>

    public enum Value: Sendable, Hashable {
        /// RFC 4760 section 8: AFI (2), reserved (1), SAFI (1).
        case multiprotocol(BGPAddressFamily)
        case routeRefresh
        case enhancedRouteRefresh
        case extendedMessage
        /// RFC 8950 section 3: (NLRI AFI, NLRI SAFI, next-hop AFI) triples.
        case extendedNextHop([ExtendedNextHop])
        case gracefulRestart(BGPGracefulRestart)
        case fourOctetAS(UInt32)
        /// RFC 7911 section 4: per family, 1 = receive, 2 = send, 3 = both.
        case addPath([AddPathEntry])
        /// RFC 9494: per family, a 24-bit stale time.
        case longLivedGracefulRestart([LongLivedEntry])
        /// draft-walton-bgp-hostname-capability: host name and domain name.
        case fqdn(hostName: String, domainName: String)
        /// RFC 9234: 0 provider, 1 route server, 2 route server client, 3 customer, 4 peer.
        case role(UInt8)
        /// Anything else, or a known capability whose value did not parse: kept raw (see `range`).
        case raw
    }

    public struct ExtendedNextHop: Sendable, Hashable {
        public var family: BGPAddressFamily
        public var nextHopAFI: BGPAFI
    }

    public struct AddPathEntry: Sendable, Hashable {
        public var family: BGPAddressFamily
        public var mode: UInt8
        public var canReceive: Bool { mode & 1 != 0 }
        public var canSend: Bool { mode & 2 != 0 }
    }

    public struct LongLivedEntry: Sendable, Hashable {
        public var family: BGPAddressFamily
        public var flags: UInt8
        public var staleTime: UInt32
    }

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        code = BGPCapabilityCode(rawValue: try cursor.readU8())
        let length = Int(try cursor.readU8())
        var body = try cursor.sub(length)
        range = body.remainingRange
        do throws(ParseError) {
            value = try Self.decodeValue(code, &body)
        } catch {
            // A capability we cannot read is shown raw; the rest of the OPEN still decodes.
            value = .raw
        }
    }

    static func decodeValue(_ code: BGPCapabilityCode, _ body: inout Cursor) throws(ParseError) -> Value {
        switch code.rawValue {
        case 1:
            guard body.remaining == 4 else { throw body.error(.malformed, "multiprotocol capability is 4 bytes") }
            let afi = try body.readU16()
            try body.skip(1)
            return .multiprotocol(BGPAddressFamily(afi: afi, safi: try body.readU8()))
        case 2, 128:
            return .routeRefresh
        case 70:
            return .enhancedRouteRefresh
        case 6:
            return .extendedMessage
        case 5:
            var entries: [ExtendedNextHop] = []
            while !body.isEmpty {
                let afi = try body.readU16()
                let safi = try body.readU16()
                let nextHop = try body.readU16()
                entries.append(ExtendedNextHop(
                    family: BGPAddressFamily(afi: afi, safi: UInt8(truncatingIfNeeded: safi)),
                    nextHopAFI: BGPAFI(rawValue: nextHop)))
            }
            return .extendedNextHop(entries)
        case 64:
            return .gracefulRestart(try BGPGracefulRestart(parsing: &body))
        case 65:
            guard body.remaining == 4 else { throw body.error(.malformed, "4-octet AS capability is 4 bytes") }
            return .fourOctetAS(try body.readU32())
        case 69:
            var entries: [AddPathEntry] = []
            while !body.isEmpty {
                let afi = try body.readU16()
                let safi = try body.readU8()
                entries.append(AddPathEntry(family: BGPAddressFamily(afi: afi, safi: safi), mode: try body.readU8()))
            }
            return .addPath(entries)
        case 71:
            var entries: [LongLivedEntry] = []
            while !body.isEmpty {
                let afi = try body.readU16()
                let safi = try body.readU8()
                let flags = try body.readU8()
                entries.append(LongLivedEntry(
                    family: BGPAddressFamily(afi: afi, safi: safi), flags: flags, staleTime: try body.readU24()))
            }
            return .longLivedGracefulRestart(entries)
        case 73:
            let hostLength = Int(try body.readU8())
            let host = try body.readString(hostLength)
            let domainLength = Int(try body.readU8())
            return .fqdn(hostName: host, domainName: try body.readString(domainLength))
        case 9:
            guard body.remaining == 1 else { throw body.error(.malformed, "role capability is 1 byte") }
            return .role(try body.readU8())
        default:
            return .raw
        }
    }

    public static let roleNames: [UInt8: String] = [
        0: "provider", 1: "route-server", 2: "route-server-client", 3: "customer", 4: "peer",
    ]

    /// `4-octet-as 4200000001`, `multiprotocol ipv6-unicast`, `add-path ipv4-unicast send/receive`.
    public var description: String {
        switch value {
        case .multiprotocol(let family): return "\(code) \(family)"
        case .routeRefresh, .enhancedRouteRefresh, .extendedMessage: return code.description
        case .extendedNextHop(let entries):
            return "\(code) " + entries.map { "\($0.family)/nh-\($0.nextHopAFI)" }.joined(separator: ",")
        case .gracefulRestart(let restart): return "\(code) \(restart)"
        case .fourOctetAS(let asn): return "\(code) \(asn)"
        case .addPath(let entries):
            let modes = [1: "receive", 2: "send", 3: "send/receive"]
            return "\(code) "
                + entries.map { "\($0.family) \(modes[Int($0.mode)] ?? "mode\($0.mode)")" }.joined(separator: ",")
        case .longLivedGracefulRestart(let entries):
            if entries.isEmpty { return code.description }
            return "\(code) " + entries.map { "\($0.family) stale \($0.staleTime)s" }.joined(separator: ",")
        case .fqdn(let host, let domain):
            // The peer's own text: escaped, so it cannot forge a line or drive the terminal (PrintableText).
            let host = PrintableText.escaped(host)
            return domain.isEmpty ? "\(code) \(host)" : "\(code) \(host).\(PrintableText.escaped(domain))"
        case .role(let role): return "\(code) \(Self.roleNames[role] ?? "\(role)")"
        case .raw: return "\(code) (\(range.count) bytes)"
        }
    }
}

/// The graceful restart capability (RFC 4724 section 3; RFC 8538 adds the N bit).
///
/// ```
/// +--------------------------------------------------+
/// | Restart Flags (4 bits) | Restart Time (12 bits)  |
/// +--------------------------------------------------+
/// | AFI (16) | SAFI (8) | Flags for Address Family (8)|  repeated
/// +--------------------------------------------------+
/// ```
public struct BGPGracefulRestart: Sendable, Hashable, CustomStringConvertible {
    /// R: the speaker has restarted.
    public var restarting: Bool
    /// N (RFC 8538): graceful restart also applies to NOTIFICATION messages other than Hard Reset.
    public var notificationSupport: Bool
    public var restartTime: UInt16
    public var families: [Family]

    public struct Family: Sendable, Hashable {
        public var family: BGPAddressFamily
        /// F: forwarding state preserved.
        public var forwardingPreserved: Bool
    }

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        let header = try cursor.readU16()
        restarting = header & 0x8000 != 0
        notificationSupport = header & 0x4000 != 0
        restartTime = header & 0x0FFF
        families = []
        while !cursor.isEmpty {
            let afi = try cursor.readU16()
            let safi = try cursor.readU8()
            let flags = try cursor.readU8()
            families.append(Family(family: BGPAddressFamily(afi: afi, safi: safi), forwardingPreserved: flags & 0x80 != 0))
        }
    }

    public func covers(_ family: BGPAddressFamily) -> Bool { families.contains { $0.family == family } }

    public var description: String {
        var text = "time \(restartTime)s"
        if restarting { text += " restarting" }
        if notificationSupport { text += " notification" }
        if !families.isEmpty { text += " " + families.map(\.family.description).joined(separator: ",") }
        return text
    }
}
