/// A BGP NOTIFICATION (RFC 4271 section 4.5), with the Cease shutdown communication (RFC 8203, up to 255
/// bytes since RFC 9003) and the Hard Reset wrapper (RFC 8538 section 3).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Error code    | Error subcode |   Data (variable)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// Shutdown communication data (Cease 2 or 4):  Length (1) | UTF-8 text (Length) | [trailing data]
/// Hard Reset data (Cease 9):  inner Error code (1) | inner Error subcode (1) | inner Data
/// ```
public struct BGPNotification: Sendable, Hashable, CustomStringConvertible {
    public var code: UInt8
    public var subcode: UInt8
    public var data: Range<Int>
    /// RFC 8203/9003 shutdown communication text (Cease / Administrative Shutdown or Reset).
    public var shutdownCommunication: String?
    /// RFC 8538: the NOTIFICATION a Hard Reset wraps (its code and subcode).
    public var hardResetCause: (code: UInt8, subcode: UInt8)? {
        guard let hardResetCode else { return nil }
        return (hardResetCode, hardResetSubcode)
    }
    var hardResetCode: UInt8?
    var hardResetSubcode: UInt8 = 0
    /// Set when the data does not have the shape its code promises (kept, not thrown: the code matters).
    public var dataProblem: String?

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .bgp
        code = try cursor.readU8()
        subcode = try cursor.readU8()
        data = cursor.remainingRange
        if code == 6, subcode == 2 || subcode == 4, !cursor.isEmpty {
            var text = cursor
            let length = Int(try text.readU8())
            if length <= text.remaining {
                shutdownCommunication = try text.readString(length)
            } else {
                dataProblem = "shutdown communication length overruns the message"
            }
        } else if code == 6, subcode == 9 {
            var inner = cursor
            if inner.remaining >= 2 {
                hardResetCode = try inner.readU8()
                hardResetSubcode = try inner.readU8()
            } else {
                dataProblem = "hard reset without the inner error code"
            }
        }
        cursor.skipRest()
    }

    /// Whether routes are kept (stale) under graceful restart with RFC 8538's N bit: every NOTIFICATION
    /// except Cease / Hard Reset.
    public var isHardReset: Bool { code == 6 && subcode == 9 }

    public static let codeNames: [UInt8: String] = [
        1: "Message Header Error", 2: "OPEN Message Error", 3: "UPDATE Message Error", 4: "Hold Timer Expired",
        5: "Finite State Machine Error", 6: "Cease", 7: "ROUTE-REFRESH Message Error", 8: "Send Hold Timer Expired",
    ]

    public static let subcodeNames: [UInt8: [UInt8: String]] = [
        1: [1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type"],
        2: [1: "Unsupported Version Number", 2: "Bad Peer AS", 3: "Bad BGP Identifier",
            4: "Unsupported Optional Parameter", 6: "Unacceptable Hold Time", 7: "Unsupported Capability",
            8: "Deprecated", 11: "Role Mismatch"],
        3: [1: "Malformed Attribute List", 2: "Unrecognized Well-known Attribute",
            3: "Missing Well-known Attribute", 4: "Attribute Flags Error", 5: "Attribute Length Error",
            6: "Invalid ORIGIN Attribute", 8: "Invalid NEXT_HOP Attribute", 9: "Optional Attribute Error",
            10: "Invalid Network Field", 11: "Malformed AS_PATH"],
        5: [1: "Receive Unexpected Message in OpenSent State", 2: "Receive Unexpected Message in OpenConfirm State",
            3: "Receive Unexpected Message in Established State"],
        6: [1: "Maximum Number of Prefixes Reached", 2: "Administrative Shutdown", 3: "Peer De-configured",
            4: "Administrative Reset", 5: "Connection Rejected", 6: "Other Configuration Change",
            7: "Connection Collision Resolution", 8: "Out of Resources", 9: "Hard Reset",
            10: "BFD Down"],
        7: [1: "Invalid Message Length"],
    ]

    public static func name(code: UInt8, subcode: UInt8) -> String {
        let major = codeNames[code] ?? "Error \(code)"
        guard let minor = subcodeNames[code]?[subcode] else { return subcode == 0 ? major : "\(major)/\(subcode)" }
        return "\(major)/\(minor)"
    }

    /// `Cease/Administrative Shutdown (6/2) "text"`, `Cease/Hard Reset (6/9) wrapping Hold Timer Expired (4/0)`.
    /// The shutdown communication is the peer's own text: escaped (`PrintableText`), so it cannot forge a
    /// line of its own or drive the terminal wherever this description is printed.
    public var description: String {
        var text = "\(Self.name(code: code, subcode: subcode)) (\(code)/\(subcode))"
        if let shutdownCommunication { text += " \"\(PrintableText.escaped(shutdownCommunication))\"" }
        if let cause = hardResetCause {
            text += " wrapping \(Self.name(code: cause.code, subcode: cause.subcode)) (\(cause.code)/\(cause.subcode))"
        }
        if let dataProblem { text += " [\(dataProblem)]" }
        return text
    }

    public static func == (lhs: BGPNotification, rhs: BGPNotification) -> Bool {
        lhs.code == rhs.code && lhs.subcode == rhs.subcode && lhs.data == rhs.data
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(subcode)
        hasher.combine(data)
    }
}

/// A ROUTE-REFRESH message (RFC 2918; RFC 7313 section 3.2 message subtypes).
///
/// ```
///  0       7      15      23      31
/// +-------+-------+-------+-------+
/// |      AFI      | Subtype | SAFI |     subtype: 0 normal request, 1 BoRR, 2 EoRR (RFC 7313)
/// +-------+-------+-------+-------+
/// ```
public struct BGPRouteRefresh: Sendable, Hashable, CustomStringConvertible {
    public var family: BGPAddressFamily
    public var subtype: UInt8

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .bgp
        let afi = try cursor.readU16()
        subtype = try cursor.readU8()
        family = BGPAddressFamily(afi: afi, safi: try cursor.readU8())
        // RFC 7313 section 5: other lengths are a ROUTE-REFRESH Message Error; ORF entries (RFC 5291) may follow.
        cursor.skipRest()
    }

    public var subtypeName: String {
        switch subtype {
        case 0: "request"
        case 1: "begin"
        case 2: "end"
        default: "subtype\(subtype)"
        }
    }

    public var description: String { "\(family) \(subtypeName)" }
}
