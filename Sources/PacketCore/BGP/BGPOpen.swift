/// A BGP OPEN message (RFC 4271 section 4.2; RFC 9072 extended optional parameters length).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+
/// |    Version    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     My Autonomous System      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Hold Time           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         BGP Identifier                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Opt Parm Len  |   (RFC 9072: 255, then Non-Ext OP Type = 255 and a 2-byte length)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Optional Parameters (Parm. Type, Parm. Length, Parm. Value) ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// OPENs are rare (two per session), so capabilities are decoded eagerly into arrays.
public struct BGPOpen: Sendable, Hashable {
    public var version: UInt8
    /// The 2-byte My AS field: AS_TRANS (23456) when the real AS needs 4 bytes.
    public var myAS: UInt16
    public var holdTime: UInt16
    public var identifier: IPv4Address
    /// True when the optional parameters used RFC 9072's extended (2-byte) lengths.
    public var extendedParameterLength: Bool
    public var capabilities: [BGPCapability]
    /// Optional parameters other than capabilities (type 2), kept raw.
    public var otherParameters: [BGPRawParameter]

    public static let asTrans: UInt16 = 23456

    /// Parse an OPEN body (the cursor just past the 19-byte header, covering exactly the body).
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .bgp
        let fixed = try cursor.readHeader(10)
        version = fixed.u8(0)
        myAS = fixed.u16(1)
        holdTime = fixed.u16(3)
        identifier = fixed.ipv4(5)
        var parametersLength = Int(fixed.u8(9))
        extendedParameterLength = false
        // RFC 9072 section 2: a length of 255 followed by type 255 announces 2-byte lengths.
        if parametersLength == 255, cursor.peekU8() == 255 {
            try cursor.skip(1)
            parametersLength = Int(try cursor.readU16())
            extendedParameterLength = true
        }
        var parameters = try cursor.sub(parametersLength)
        capabilities = []
        otherParameters = []
        while !parameters.isEmpty {
            let type = try parameters.readU8()
            let length = extendedParameterLength ? Int(try parameters.readU16()) : Int(try parameters.readU8())
            var value = try parameters.sub(length)
            if type == 2 {
                // RFC 5492 section 4: one parameter may hold several capabilities.
                while !value.isEmpty {
                    capabilities.append(try BGPCapability(parsing: &value))
                }
            } else {
                otherParameters.append(BGPRawParameter(type: type, value: value.remainingRange))
            }
        }
        if !cursor.isEmpty {
            throw cursor.error(.malformed, "bytes after the OPEN optional parameters")
        }
    }

    /// The speaker's AS: the 4-octet AS capability when present (RFC 6793 section 3), else My AS.
    public var autonomousSystem: UInt32 {
        for capability in capabilities {
            if case .fourOctetAS(let asn) = capability.value { return asn }
        }
        return UInt32(myAS)
    }

    public var supportsFourOctetAS: Bool { capabilities.contains { $0.code == .fourOctetAS } }
    public var supportsExtendedMessage: Bool { capabilities.contains { $0.code == .extendedMessage } }

    /// The families this speaker can send (2) and/or receive (1) path identifiers for (RFC 7911 section 4).
    public func addPathModes() -> [BGPAddressFamily: UInt8] {
        var modes: [BGPAddressFamily: UInt8] = [:]
        for capability in capabilities {
            if case .addPath(let entries) = capability.value {
                for entry in entries { modes[entry.family] = entry.mode }
            }
        }
        return modes
    }

    /// The graceful restart capability, if any (RFC 4724 section 3).
    public var gracefulRestart: BGPGracefulRestart? {
        for capability in capabilities {
            if case .gracefulRestart(let restart) = capability.value { return restart }
        }
        return nil
    }

    public var multiprotocolFamilies: [BGPAddressFamily] {
        capabilities.compactMap { if case .multiprotocol(let family) = $0.value { family } else { nil } }
    }
}

/// An optional parameter of an OPEN that is not a capability (RFC 4271 section 4.2; authentication, type 1,
/// is deprecated).
public struct BGPRawParameter: Sendable, Hashable {
    public var type: UInt8
    public var value: Range<Int>
}
