/// BGP4MP subtypes (RFC 6396 section 4.4; RFC 8050 section 3 ADD-PATH variants). Open.
public struct MRTBGP4MPSubtype: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var stateChange: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 0) }
    @inlinable public static var message: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 1) }
    @inlinable public static var messageAS4: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 4) }
    @inlinable public static var stateChangeAS4: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 5) }
    @inlinable public static var messageLocal: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 6) }
    @inlinable public static var messageAS4Local: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 7) }
    @inlinable public static var messageAddPath: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 8) }
    @inlinable public static var messageAS4AddPath: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 9) }
    @inlinable public static var messageLocalAddPath: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 10) }
    @inlinable public static var messageAS4LocalAddPath: MRTBGP4MPSubtype { MRTBGP4MPSubtype(rawValue: 11) }

    /// 4-byte AS numbers in the record header, and (RFC 6396 section 4.4.3) in the BGP message's AS_PATH.
    public var isAS4: Bool { [4, 5, 7, 9, 11].contains(rawValue) }
    public var isStateChange: Bool { rawValue == 0 || rawValue == 5 }
    /// The message was sent by the local (collecting) side rather than received from the peer.
    public var isLocal: Bool { [6, 7, 10, 11].contains(rawValue) }
    /// RFC 8050: NLRI carry path identifiers.
    public var isAddPath: Bool { (8...11).contains(rawValue) }

    public var description: String {
        let names: [UInt16: String] = [
            0: "STATE_CHANGE", 1: "MESSAGE", 4: "MESSAGE_AS4", 5: "STATE_CHANGE_AS4", 6: "MESSAGE_LOCAL",
            7: "MESSAGE_AS4_LOCAL", 8: "MESSAGE_ADDPATH", 9: "MESSAGE_AS4_ADDPATH", 10: "MESSAGE_LOCAL_ADDPATH",
            11: "MESSAGE_AS4_LOCAL_ADDPATH",
        ]
        return names[rawValue] ?? "BGP4MP_\(rawValue)"
    }
}

/// A BGP4MP / BGP4MP_ET record body (RFC 6396 sections 4.4.1-4.4.4).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |    Peer AS Number (2, or 4 in AS4)  |  Local AS Number (2 or 4) |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Interface Index        |        Address Family         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                Peer IP Address (4 or 16)                      |
/// |                Local IP Address (4 or 16)                     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | STATE_CHANGE: Old State (2) | New State (2)                   |
/// | MESSAGE: BGP Message... (with its marker)                     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct MRTBGP4MP: Sendable, Hashable {
    public var subtype: MRTBGP4MPSubtype
    public var peerAS: UInt32
    public var localAS: UInt32
    public var interfaceIndex: UInt16
    public var peerAddress: IPAddress
    public var localAddress: IPAddress
    /// STATE_CHANGE: the FSM states (1 Idle ... 6 Established).
    public var oldState: UInt16?
    public var newState: UInt16?
    /// MESSAGE: the whole BGP message (marker, header and body), absolute.
    public var message: Range<Int>?

    public init(parsing cursor: inout Cursor, subtype: MRTBGP4MPSubtype) throws(ParseError) {
        cursor.layer = .mrt
        self.subtype = subtype
        guard subtype.isStateChange || subtype.rawValue == 1 || (4...11).contains(subtype.rawValue) else {
            throw cursor.error(.unsupported, "BGP4MP subtype not decoded")
        }
        if subtype.isAS4 {
            peerAS = try cursor.readU32()
            localAS = try cursor.readU32()
        } else {
            peerAS = UInt32(try cursor.readU16())
            localAS = UInt32(try cursor.readU16())
        }
        interfaceIndex = try cursor.readU16()
        let family = try cursor.readU16()
        switch family {
        case 1:
            peerAddress = .v4(try cursor.readIPv4())
            localAddress = .v4(try cursor.readIPv4())
        case 2:
            peerAddress = .v6(try cursor.readIPv6())
            localAddress = .v6(try cursor.readIPv6())
        default:
            throw cursor.error(.malformed, "BGP4MP address family is neither IPv4 nor IPv6")
        }
        if subtype.isStateChange {
            oldState = try cursor.readU16()
            newState = try cursor.readU16()
            message = nil
        } else {
            oldState = nil
            newState = nil
            message = cursor.remainingRange
            cursor.skipRest()
        }
    }

    public static func stateName(_ state: UInt16) -> String {
        let names: [UInt16: String] = [
            1: "Idle", 2: "Connect", 3: "Active", 4: "OpenSent", 5: "OpenConfirm", 6: "Established",
        ]
        return names[state] ?? "state\(state)"
    }
}
