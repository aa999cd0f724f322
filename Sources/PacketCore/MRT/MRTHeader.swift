/// MRT record type (RFC 6396 section 4; RFC 8050). Open.
public struct MRTType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var tableDump: MRTType { MRTType(rawValue: 12) }
    @inlinable public static var tableDumpV2: MRTType { MRTType(rawValue: 13) }
    @inlinable public static var bgp4mp: MRTType { MRTType(rawValue: 16) }
    @inlinable public static var bgp4mpET: MRTType { MRTType(rawValue: 17) }

    /// Types whose header carries a microsecond timestamp (RFC 6396 section 3: the `_ET` types).
    public var hasExtendedTimestamp: Bool { rawValue == 17 || rawValue == 33 || rawValue == 49 }

    public var description: String {
        switch rawValue {
        case 11: "OSPFv2"
        case 12: "TABLE_DUMP"
        case 13: "TABLE_DUMP_V2"
        case 16: "BGP4MP"
        case 17: "BGP4MP_ET"
        case 32: "ISIS"
        case 33: "ISIS_ET"
        case 48: "OSPFv3"
        case 49: "OSPFv3_ET"
        default: "MRT\(rawValue)"
        }
    }
}

/// The MRT common header (RFC 6396 section 2, section 3 for the extended timestamp).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Timestamp                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Type              |            Subtype            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                             Length                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      Microsecond Timestamp (_ET types only, counted in Length) |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Message... (variable)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct MRTHeader: Sendable, Hashable {
    public static let size = 12
    /// The longest record accepted: a TABLE_DUMP_V2 entry with many peers' attributes can be large, but
    /// nothing legitimate comes near this; it bounds what a corrupt length can make a reader buffer.
    public static let maximumLength = 16 << 20

    public var timestamp: Timestamp
    public var type: MRTType
    public var subtype: UInt16
    /// The record's bytes after the common header and the microsecond field.
    public var body: Range<Int>
    public var offset: Int

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mrt
        offset = cursor.offset
        let header = try cursor.readHeader(Self.size)
        type = MRTType(rawValue: header.u16(4))
        subtype = header.u16(6)
        var length = Int(header.u32(8))
        var microseconds: UInt32 = 0
        if type.hasExtendedTimestamp {
            guard length >= 4 else { throw ParseError(.malformed, at: offset + 8, layer: .mrt, "ET record shorter than its microseconds") }
            microseconds = try cursor.readU32()
            length -= 4
        }
        timestamp = Timestamp(seconds: Int64(header.u32(0)), nanoseconds: Int32(min(microseconds, 999_999)) * 1000)
        guard length <= cursor.remaining else {
            throw ParseError(.truncated, at: offset + 8, layer: .mrt, "MRT record longer than the bytes given")
        }
        body = cursor.offset..<(cursor.offset + length)
        try cursor.skip(length)
    }

    /// Frame one MRT record for `StreamBuffer` (house style, rule 6).
    public static func frame(_ cursor: inout Cursor) -> FrameResult {
        guard let length = cursor.peekU32(ahead: 8) else { return .needMore }
        guard length <= UInt32(maximumLength) else { return .invalid(cursor.error(.malformed, "MRT record length too large")) }
        let total = Int(length) + size
        return cursor.remaining >= total ? .message(length: total) : .needMore
    }
}
