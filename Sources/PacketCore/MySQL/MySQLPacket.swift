/// The MySQL/MariaDB client/server protocol's packet framing (MySQL internals, "MySQL Packets"; MariaDB
/// knowledge base, "0 - Packet"): every message, in both directions, is one or more packets.
///
/// ```
///  0        1        2        3        4
/// +--------+--------+--------+--------+------------------------------+
/// |   payload length (u24, LE)        |  seq   |  payload ...        |
/// +--------+--------+--------+--------+------------------------------+
/// ```
///
/// The sequence id starts at 0 with each command (and with the server's greeting) and counts up with every
/// packet of the exchange, whichever side sends it. A payload of exactly 0xFFFFFF bytes means the message
/// continues in the next packet; the handshake never needs that, so neither does anything here.
public struct MySQLPacketHeader: Sendable, Hashable {
    /// Length of the payload that follows the four header bytes.
    public var payloadLength: Int
    public var sequenceID: UInt8

    public static let size = 4
    /// The largest payload one packet can carry; a payload this long is continued in the next packet.
    public static let maximumPayload = 0xFF_FFFF

    public init(payloadLength: Int, sequenceID: UInt8) {
        self.payloadLength = payloadLength
        self.sequenceID = sequenceID
    }

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mysql
        payloadLength = Int(try cursor.readU24LE())
        sequenceID = try cursor.readU8()
    }

    /// The four header bytes for a payload of `payloadLength` bytes (clamped to the protocol's maximum).
    public var bytes: [UInt8] {
        let length = min(max(0, payloadLength), Self.maximumPayload)
        return [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), sequenceID]
    }
}

/// One MySQL packet: its header and the absolute range of its payload in the buffer it was read from.
public struct MySQLPacket: Sendable, Hashable {
    public var header: MySQLPacketHeader
    public var payload: Range<Int>

    /// Read one whole packet (header and payload); the cursor moves past it.
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        header = try MySQLPacketHeader(parsing: &cursor)
        guard cursor.remaining >= header.payloadLength else {
            throw cursor.error(.truncated, "MySQL payload shorter than its length field")
        }
        payload = try cursor.readRange(header.payloadLength)
    }

    /// The `StreamBuffer` framer for MySQL packets (house style, rule 6). `maximumPayload` caps what a
    /// caller is prepared to buffer: the handshake packets are a few hundred bytes, so a stream whose first
    /// length field announces megabytes is not MySQL (or not a greeting) and is reported invalid rather
    /// than buffered.
    public static func frame(_ cursor: inout Cursor, maximumPayload: Int = 65_536) -> FrameResult {
        guard cursor.remaining >= MySQLPacketHeader.size else { return .needMore }
        let start = cursor
        guard let header = try? MySQLPacketHeader(parsing: &cursor) else { return .needMore }
        guard header.payloadLength <= maximumPayload else {
            return .invalid(ParseError(.malformed, at: start.offset, layer: .mysql, "MySQL packet length over the framer's cap"))
        }
        let total = MySQLPacketHeader.size + header.payloadLength
        return start.remaining >= total ? .message(length: total) : .needMore
    }

    /// A packet's bytes: header plus `payload`.
    public static func encode(_ payload: [UInt8], sequenceID: UInt8) -> [UInt8] {
        MySQLPacketHeader(payloadLength: payload.count, sequenceID: sequenceID).bytes + payload
    }
}
