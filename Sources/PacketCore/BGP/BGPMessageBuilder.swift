/// Builds the few BGP messages a passive, receive-only speaker sends: its OPEN, KEEPALIVEs and
/// NOTIFICATIONs (RFC 4271 sections 4.1, 4.2, 4.4, 4.5). Each function returns one whole message, marker
/// first, ready for a socket; the parsers next to this file read them back (that is how they are tested).
public enum BGPMessageBuilder {
    /// The capabilities `bgpdecode listen` announces, as (code, value) pairs in the order sent.
    public struct Capability: Sendable, Hashable {
        public var code: BGPCapabilityCode
        public var value: [UInt8]

        public init(code: BGPCapabilityCode, value: [UInt8] = []) {
            self.code = code
            self.value = value
        }

        /// RFC 4760 section 8: AFI (2), reserved (1), SAFI (1).
        public static func multiprotocol(_ family: BGPAddressFamily) -> Capability {
            Capability(code: .multiprotocol,
                value: [UInt8(family.afi.rawValue >> 8), UInt8(truncatingIfNeeded: family.afi.rawValue), 0,
                    family.safi.rawValue])
        }

        /// RFC 6793 section 3: the speaker's AS in 4 bytes.
        public static func fourOctetAS(_ asn: UInt32) -> Capability {
            Capability(code: .fourOctetAS, value: bigEndian(asn))
        }

        /// RFC 7911 section 4: per family, mode 1 = receive, 2 = send, 3 = both.
        public static func addPath(_ entries: [(family: BGPAddressFamily, mode: UInt8)]) -> Capability {
            var value: [UInt8] = []
            for entry in entries {
                value += [UInt8(entry.family.afi.rawValue >> 8), UInt8(truncatingIfNeeded: entry.family.afi.rawValue),
                    entry.family.safi.rawValue, entry.mode]
            }
            return Capability(code: .addPath, value: value)
        }

        public static let routeRefresh = Capability(code: .routeRefresh)
        /// RFC 8654 section 3.
        public static let extendedMessage = Capability(code: .extendedMessage)
    }

    /// An OPEN (RFC 4271 section 4.2). My AS is AS_TRANS when `asn` needs 4 bytes (RFC 6793 section 4.1);
    /// every capability goes into one Capabilities parameter (type 2, RFC 5492 section 4), which must fit
    /// the 1-byte Optional Parameters Length (255 bytes is plenty for the handful a listener sends).
    public static func open(
        asn: UInt32, holdTime: UInt16, identifier: IPv4Address, capabilities: [Capability], version: UInt8 = 4
    ) -> [UInt8] {
        var parameter: [UInt8] = []
        for capability in capabilities {
            parameter.append(capability.code.rawValue)
            parameter.append(UInt8(truncatingIfNeeded: capability.value.count))
            parameter += capability.value
        }
        var body: [UInt8] = [version]
        let myAS = asn > UInt32(UInt16.max) ? BGPOpen.asTrans : UInt16(asn)
        body += bigEndian(myAS)
        body += bigEndian(holdTime)
        body += bigEndian(identifier.rawValue)
        if parameter.isEmpty {
            body.append(0)
        } else {
            body.append(UInt8(truncatingIfNeeded: parameter.count + 2))
            body += [2, UInt8(truncatingIfNeeded: parameter.count)]
            body += parameter
        }
        return message(.open, body)
    }

    /// A KEEPALIVE: the header alone (RFC 4271 section 4.4).
    public static func keepalive() -> [UInt8] { message(.keepalive, []) }

    /// A NOTIFICATION (RFC 4271 section 4.5) with raw data.
    public static func notification(code: UInt8, subcode: UInt8, data: [UInt8] = []) -> [UInt8] {
        message(.notification, [code, subcode] + data)
    }

    /// Cease with a shutdown communication (RFC 8203 / RFC 9003): length byte, then UTF-8 text cut to 255
    /// bytes on a character boundary.
    public static func cease(subcode: UInt8, communication: String) -> [UInt8] {
        var text: [UInt8] = []
        for character in communication {
            let bytes = Array(String(character).utf8)
            if text.count + bytes.count > 255 { break }
            text += bytes
        }
        return notification(code: 6, subcode: subcode, data: [UInt8(text.count)] + text)
    }

    /// Marker, length, type, body.
    static func message(_ type: BGPMessageType, _ body: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xFF, count: 16)
        bytes += bigEndian(UInt16(truncatingIfNeeded: BGPMessageHeader.size + body.count))
        bytes.append(type.rawValue)
        return bytes + body
    }

    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)] }
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value)]
    }
}
