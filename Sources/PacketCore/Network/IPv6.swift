/// An IPv6 header and its extension header chain (RFC 8200 sections 3 and 4).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-------+---------------+---------------------------------------+
/// |Version| Traffic Class |              Flow Label               |
/// +-------+---------------+-------+---------------+---------------+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-------------------------------+---------------+---------------+
/// |                  Source Address (128 bits)                    |
/// |               Destination Address (128 bits)                  |
/// +---------------------------------------------------------------+
/// extension headers: | Next Header | Hdr Ext Len (8-octet units, not counting the first 8) | ... |
/// fragment header:   | Next Header | reserved | Fragment Offset (13) | Res | M | Identification (32) |
/// ```
public struct IPv6Header: Sendable, Hashable {
    public var trafficClass: UInt8
    public var flowLabel: UInt32
    public var payloadLength: Int
    /// The Next Header field of the fixed header (the first extension header, or the upper layer).
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address
    /// The upper-layer protocol after the extension chain (ICMPv6, TCP, UDP, ...).
    public var upperProtocol: IPProtocol
    /// Number of extension headers walked.
    public var extensionCount: Int
    /// Absolute range of all extension headers.
    public var extensions: Range<Int>
    /// Set when a Fragment header was present.
    public var fragment: IPv6Fragment?

    /// Only the first fragment (or an unfragmented packet) carries the upper-layer header.
    public var isFirstFragment: Bool { fragment.map { $0.offset == 0 } ?? true }

    /// Most extension headers a packet may carry before we call it hostile. RFC 8200 suggests far fewer.
    public static let maximumExtensionHeaders = 16

    /// Decode the fixed header; the caller then limits the cursor to `payloadLength` and calls
    /// `parseExtensions(_:)`.
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .ipv6
        guard cursor.remaining >= 40 else { throw cursor.error(.truncated, "IPv6 header needs 40 bytes") }
        let fixed = try cursor.readHeader(40)
        let word = fixed.u32(0)
        guard word >> 28 == 6 else { throw ParseError(.malformed, at: fixed.origin, layer: .ipv6, "IP version is not 6") }
        trafficClass = UInt8(truncatingIfNeeded: word >> 20)
        flowLabel = word & 0xF_FFFF
        payloadLength = Int(fixed.u16(4))
        nextHeader = IPProtocol(rawValue: fixed.u8(6))
        hopLimit = fixed.u8(7)
        source = fixed.ipv6(8)
        destination = fixed.ipv6(24)
        upperProtocol = nextHeader
        extensionCount = 0
        extensions = cursor.offset..<cursor.offset
        fragment = nil
    }

    /// Walk the extension header chain from `cursor` (positioned after the fixed header, limited to the
    /// payload). On return `cursor` is at the upper-layer header and `upperProtocol` names it. A non-first
    /// fragment stops the walk (its payload is not a header).
    public mutating func parseExtensions(_ cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .ipv6Extension
        let start = cursor.offset
        defer { extensions = start..<cursor.offset }
        var next = nextHeader
        while Self.isExtension(next) {
            guard extensionCount < Self.maximumExtensionHeaders else {
                throw cursor.error(.malformed, "too many IPv6 extension headers")
            }
            guard cursor.remaining >= 8 else { throw cursor.error(.truncated, "IPv6 extension header needs 8 bytes") }
            let following = IPProtocol(rawValue: try cursor.readU8())
            let lengthField = Int(try cursor.readU8())
            if next == .fragment {
                let offsetAndFlags = try cursor.readU16()
                let identification = try cursor.readU32()
                fragment = IPv6Fragment(
                    offset: Int(offsetAndFlags >> 3) * 8, moreFragments: offsetAndFlags & 1 != 0,
                    identification: identification)
            } else {
                // AH counts 4-octet units minus 2; the others 8-octet units not counting the first 8.
                let length = next == .ah ? (lengthField + 2) * 4 : (lengthField + 1) * 8
                try cursor.skip(length - 2)
            }
            extensionCount += 1
            next = following
            upperProtocol = next
            if let fragment, fragment.offset != 0 { return }
        }
    }

    static func isExtension(_ proto: IPProtocol) -> Bool {
        switch proto {
        case .hopByHop, .routing, .fragment, .destinationOptions, .ah, .mobility: true
        default: false
        }
    }
}

/// The IPv6 Fragment header's values.
public struct IPv6Fragment: Sendable, Hashable {
    /// Offset in bytes.
    public var offset: Int
    public var moreFragments: Bool
    public var identification: UInt32
}
