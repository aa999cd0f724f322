/// An ICMPv6 message (RFC 4443 section 2.1); Neighbor Discovery messages (RFC 4861 section 4) are decoded
/// into `ndp`.
///
/// ```
/// +---------------+---------------+-------------------------------+
/// |     Type      |     Code      |           Checksum            |
/// +---------------+---------------+-------------------------------+
/// |                         Message Body                          |
/// ```
public struct ICMPv6Message: Sendable, Hashable {
    public var type: ICMPv6Type
    public var code: UInt8
    public var checksum: UInt16
    /// Set for RS, RA, NS, NA and Redirect.
    public var ndp: NDPMessage?
    /// Absolute range of the message body (after the 4-byte header).
    public var body: Range<Int>

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .icmpv6
        guard cursor.remaining >= 4 else { throw cursor.error(.truncated, "ICMPv6 header needs 4 bytes") }
        type = ICMPv6Type(rawValue: try cursor.readU8())
        code = try cursor.readU8()
        checksum = try cursor.readU16()
        body = cursor.remainingRange
        ndp = nil
        switch type {
        case .routerSolicitation, .routerAdvertisement, .neighborSolicitation, .neighborAdvertisement, .redirect:
            ndp = try NDPMessage(parsing: &cursor, type: type)
        default:
            cursor.skipRest()
        }
    }
}

/// ICMPv6 message type (IANA "ICMPv6 Parameters"). Open: unknown values are kept.
public struct ICMPv6Type: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let destinationUnreachable = ICMPv6Type(rawValue: 1)
    public static let packetTooBig = ICMPv6Type(rawValue: 2)
    public static let timeExceeded = ICMPv6Type(rawValue: 3)
    public static let parameterProblem = ICMPv6Type(rawValue: 4)
    public static let echoRequest = ICMPv6Type(rawValue: 128)
    public static let echoReply = ICMPv6Type(rawValue: 129)
    public static let mldQuery = ICMPv6Type(rawValue: 130)
    public static let mldReport = ICMPv6Type(rawValue: 131)
    public static let mldDone = ICMPv6Type(rawValue: 132)
    public static let routerSolicitation = ICMPv6Type(rawValue: 133)
    public static let routerAdvertisement = ICMPv6Type(rawValue: 134)
    public static let neighborSolicitation = ICMPv6Type(rawValue: 135)
    public static let neighborAdvertisement = ICMPv6Type(rawValue: 136)
    public static let redirect = ICMPv6Type(rawValue: 137)
    public static let mldv2Report = ICMPv6Type(rawValue: 143)

    public var name: String? {
        switch self {
        case .destinationUnreachable: "destination unreachable"
        case .packetTooBig: "packet too big"
        case .timeExceeded: "time exceeded"
        case .parameterProblem: "parameter problem"
        case .echoRequest: "echo request"
        case .echoReply: "echo reply"
        case .mldQuery: "multicast listener query"
        case .mldReport: "multicast listener report"
        case .mldDone: "multicast listener done"
        case .routerSolicitation: "router solicitation"
        case .routerAdvertisement: "router advertisement"
        case .neighborSolicitation: "neighbor solicitation"
        case .neighborAdvertisement: "neighbor advertisement"
        case .redirect: "redirect"
        case .mldv2Report: "multicast listener report v2"
        default: nil
        }
    }

    public var description: String { name ?? "icmp6-type-\(rawValue)" }
}

/// A Neighbor Discovery message (RFC 4861 section 4) with the options operators care about decoded.
///
/// ```
/// NS/NA: | Type | Code | Checksum | R|S|O| Reserved (29) | Target Address (128) | Options ... |
/// RS:    | Type | Code | Checksum | Reserved (32) | Options ... |
/// RA:    | Type | Code | Checksum | Cur Hop Limit |M|O| Reserved | Router Lifetime |
///        | Reachable Time (32) | Retrans Timer (32) | Options ... |
/// Redirect: | Type | Code | Checksum | Reserved (32) | Target (128) | Destination (128) | Options ... |
/// option: | Type (1) | Length (1, in units of 8 octets, never 0) | value ... |
/// ```
public struct NDPMessage: Sendable, Hashable {
    public var type: ICMPv6Type
    /// Target address (NS, NA, Redirect).
    public var target: IPv6Address?
    /// NA flags (RFC 4861 section 4.4).
    public var router = false
    public var solicited = false
    public var override = false
    /// RA fields (RFC 4861 section 4.2).
    public var currentHopLimit: UInt8?
    public var managed = false
    public var otherConfig = false
    public var routerLifetime: UInt16?
    public var reachableTime: UInt32?
    public var retransTimer: UInt32?
    /// Redirect destination.
    public var redirectDestination: IPv6Address?
    /// Source link-layer address option (type 1), when it holds a 6-byte MAC.
    public var sourceLinkLayer: MACAddress?
    /// Target link-layer address option (type 2), when it holds a 6-byte MAC.
    public var targetLinkLayer: MACAddress?
    /// MTU option (type 5).
    public var mtu: UInt32?
    /// Number of Prefix Information options (type 3).
    public var prefixCount = 0
    /// Options of other types, counted; their bytes stay in `options` for anyone who wants them.
    public var otherOptionCount = 0
    /// Absolute range of all options.
    public var options: Range<Int>
    /// A broken or cut option: the fixed fields above are still valid, options before it were decoded.
    public var optionsError: ParseError?

    init(parsing cursor: inout Cursor, type: ICMPv6Type) throws(ParseError) {
        cursor.layer = .ndp
        self.type = type
        options = cursor.offset..<cursor.offset
        switch type {
        case .neighborSolicitation, .neighborAdvertisement:
            guard cursor.remaining >= 20 else { throw cursor.error(.truncated, "NS/NA needs 20 bytes") }
            let fixed = try cursor.readHeader(20)
            let flags = fixed.u32(0)
            router = flags & 0x8000_0000 != 0
            solicited = flags & 0x4000_0000 != 0
            override = flags & 0x2000_0000 != 0
            target = fixed.ipv6(4)
        case .routerSolicitation:
            try cursor.skip(4)
        case .routerAdvertisement:
            guard cursor.remaining >= 12 else { throw cursor.error(.truncated, "RA needs 12 bytes") }
            currentHopLimit = try cursor.readU8()
            let flags = try cursor.readU8()
            managed = flags & 0x80 != 0
            otherConfig = flags & 0x40 != 0
            routerLifetime = try cursor.readU16()
            reachableTime = try cursor.readU32()
            retransTimer = try cursor.readU32()
        case .redirect:
            guard cursor.remaining >= 36 else { throw cursor.error(.truncated, "redirect needs 36 bytes") }
            try cursor.skip(4)
            target = try cursor.readIPv6()
            redirectDestination = try cursor.readIPv6()
        default:
            break
        }
        options = cursor.remainingRange
        do {
            try parseOptions(&cursor)
        } catch {
            optionsError = error
            cursor.skipRest()
        }
    }

    private mutating func parseOptions(_ cursor: inout Cursor) throws(ParseError) {
        while !cursor.isEmpty {
            guard cursor.remaining >= 2 else { throw cursor.error(.truncated, "NDP option needs 2 bytes") }
            let optionType = try cursor.readU8()
            let units = Int(try cursor.readU8())
            // RFC 4861 section 4.6: a length of 0 is invalid and the packet must be discarded.
            guard units > 0 else { throw cursor.error(.malformed, "NDP option length is zero") }
            var value = try cursor.sub(units * 8 - 2)
            switch optionType {
            case 1 where units == 1:
                sourceLinkLayer = try value.readMAC()
            case 2 where units == 1:
                targetLinkLayer = try value.readMAC()
            case 3:
                prefixCount += 1
            case 5 where units == 1:
                try value.skip(2)
                mtu = try value.readU32()
            default:
                otherOptionCount += 1
            }
        }
    }
}
