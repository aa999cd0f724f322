/// BGP message type (RFC 4271 section 4.1, RFC 2918). Open: unknown types are kept.
public struct BGPMessageType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    @inlinable public static var open: BGPMessageType { BGPMessageType(rawValue: 1) }
    @inlinable public static var update: BGPMessageType { BGPMessageType(rawValue: 2) }
    @inlinable public static var notification: BGPMessageType { BGPMessageType(rawValue: 3) }
    @inlinable public static var keepalive: BGPMessageType { BGPMessageType(rawValue: 4) }
    @inlinable public static var routeRefresh: BGPMessageType { BGPMessageType(rawValue: 5) }

    public var description: String {
        switch rawValue {
        case 1: "OPEN"
        case 2: "UPDATE"
        case 3: "NOTIFICATION"
        case 4: "KEEPALIVE"
        case 5: "ROUTE-REFRESH"
        default: "TYPE\(rawValue)"
        }
    }
}

/// The fixed header in front of every BGP message (RFC 4271 section 4.1; RFC 8654 extended messages).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                                                               +
/// |                           Marker (16 x 0xFF)                  |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct BGPMessageHeader: Sendable, Hashable {
    public static let size = 19
    /// RFC 4271: 4096; RFC 8654 raises it to 65535 once both OPENs carry the extended message capability.
    public static let standardMaximumLength = 4096
    public static let extendedMaximumLength = 65535

    /// The whole message's length, header included.
    public var length: Int
    public var type: BGPMessageType
    /// Absolute offset of the first marker byte.
    public var offset: Int
    /// The bytes after the header.
    public var body: Range<Int>

    /// Parse the header and leave `cursor` on the body (the cursor must cover the whole message, as the
    /// framer delivers it). Throws malformed for a bad marker or a length outside 19...65535 or beyond the
    /// bytes given.
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .bgp
        offset = cursor.offset
        let header = try cursor.readHeader(Self.size)
        guard header.u64(0) == .max, header.u64(8) == .max else {
            throw ParseError(.malformed, at: offset, layer: .bgp, "BGP marker is not 16 bytes of 0xFF")
        }
        length = Int(header.u16(16))
        type = BGPMessageType(rawValue: header.u8(18))
        guard length >= Self.size else {
            throw ParseError(.malformed, at: offset + 16, layer: .bgp, "BGP length shorter than the header")
        }
        guard length - Self.size <= cursor.remaining else {
            throw ParseError(.truncated, at: offset + 16, layer: .bgp, "BGP message longer than the bytes given")
        }
        body = cursor.offset..<(cursor.offset + length - Self.size)
    }
}

/// Framing of a BGP byte stream (RFC 4271 section 4.1): the three-valued answer `StreamBuffer` wants, and
/// the marker search used to find the next message after a gap or when a capture starts mid-session.
public enum BGPFraming {
    /// Frame the message at the cursor: `maximumLength` is 4096, or 65535 once extended messages are
    /// negotiated (RFC 8654 section 3).
    @inlinable
    public static func frame(_ cursor: inout Cursor, maximumLength: Int) -> FrameResult {
        // The usual case, a whole header present: one length check, then fixed-offset loads (this runs once
        // per message, a million times for a MetalLB table).
        var probe = cursor
        if let header = try? probe.readHeader(19) {
            guard header.u64(0) == .max, header.u64(8) == .max else {
                return .invalid(cursor.error(.malformed, "BGP marker missing"))
            }
            let length = Int(header.u16(16))
            guard length >= 19, length <= maximumLength else {
                return .invalid(cursor.error(.malformed, "BGP length out of range"))
            }
            return cursor.remaining >= length ? .message(length: length) : .needMore
        }
        guard cursor.remaining >= BGPMessageHeader.size, let length = cursor.peekU16(ahead: 16) else {
            // Reject a bad marker as soon as its first bytes show it, not only once 19 bytes are in.
            var index = 0
            while let byte = cursor.peekU8(ahead: index), index < 16 {
                if byte != 0xFF { return .invalid(cursor.error(.malformed, "BGP marker missing")) }
                index += 1
            }
            return .needMore
        }
        guard let first = cursor.peekU64(), let second = cursor.peekU64(ahead: 8), first == .max, second == .max else {
            return .invalid(cursor.error(.malformed, "BGP marker missing"))
        }
        guard length >= 19, Int(length) <= maximumLength else {
            return .invalid(cursor.error(.malformed, "BGP length out of range"))
        }
        return cursor.remaining >= Int(length) ? .message(length: Int(length)) : .needMore
    }

    /// The index in `bytes` of the first plausible message start at or after `start`: 16 bytes of 0xFF
    /// (the last 16 of a longer run), then a length within `19...maximumLength` and a known type 1...5.
    /// Returns nil when none is found; the caller keeps the last 18 bytes, which may begin a marker.
    public static func findMessageStart(
        in bytes: UnsafeRawBufferPointer, from start: Int = 0, maximumLength: Int
    ) -> Int? {
        var run = 0
        var index = max(0, start)
        while index < bytes.count {
            if bytes[index] == 0xFF {
                run += 1
                index += 1
                continue
            }
            if run >= 16, index + 2 < bytes.count {
                let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                let type = bytes[index + 2]
                if length >= 19, length <= maximumLength, (1...5).contains(type) { return index - 16 }
            } else if run >= 16 {
                return nil  // a marker whose length and type have not arrived yet
            }
            run = 0
            index += 1
        }
        return nil
    }
}

extension Cursor {
    /// The big-endian UInt64 `ahead` bytes past the current position, or nil past the end.
    @inlinable
    public func peekU64(ahead: Int = 0) -> UInt64? {
        guard let high = peekU32(ahead: ahead), let low = peekU32(ahead: ahead + 4) else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }
}
