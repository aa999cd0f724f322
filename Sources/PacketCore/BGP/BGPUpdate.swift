/// A BGP UPDATE message (RFC 4271 section 4.3), kept as three ranges into the message: the path
/// attributes and the prefixes are decoded only when asked (`BGPAttributeIterator`, `BGPAttributes`,
/// `BGPNLRIIterator`), so splitting a message allocates nothing.
///
/// ```
/// +-----------------------------------------------------+
/// |   Withdrawn Routes Length (2 octets)                |
/// +-----------------------------------------------------+
/// |   Withdrawn Routes (variable)                       |
/// +-----------------------------------------------------+
/// |   Total Path Attribute Length (2 octets)            |
/// +-----------------------------------------------------+
/// |   Path Attributes (variable)                        |
/// +-----------------------------------------------------+
/// |   Network Layer Reachability Information (variable) |
/// +-----------------------------------------------------+
/// ```
public struct BGPUpdate: Sendable, Hashable {
    public var withdrawn: Range<Int>
    public var attributes: Range<Int>
    public var nlri: Range<Int>

    /// Parse an UPDATE body (the cursor just past the header, covering exactly the body). The two length
    /// fields must fit the message (RFC 7606 section 4: otherwise the session is reset).
    @inlinable
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .bgp
        let withdrawnLength = Int(try cursor.readU16())
        guard withdrawnLength + 2 <= cursor.remaining else {
            throw cursor.error(.malformed, "withdrawn routes length overruns the UPDATE")
        }
        withdrawn = try cursor.readRange(withdrawnLength)
        let attributesLength = Int(try cursor.readU16())
        guard attributesLength <= cursor.remaining else {
            throw cursor.error(.malformed, "path attribute length overruns the UPDATE")
        }
        attributes = try cursor.readRange(attributesLength)
        nlri = cursor.remainingRange
        cursor.skipRest()
    }

    /// The family this UPDATE marks End-of-RIB for (RFC 4724 section 2), or nil: an UPDATE with nothing in
    /// it is IPv4 unicast's; one whose only attribute is an empty MP_UNREACH_NLRI is that family's.
    /// `message` is any cursor over the same buffer.
    public func endOfRIB(in message: Cursor) -> BGPAddressFamily? {
        guard withdrawn.isEmpty, nlri.isEmpty else { return nil }
        if attributes.isEmpty { return .ipv4Unicast }
        guard let window = try? message.window(attributes) else { return nil }
        var iterator = BGPAttributeIterator(window)
        guard let first = try? iterator.next(), first.type == .mpUnreachNLRI, first.value.count == 3,
            (try? iterator.next()) == nil,
            var value = try? message.window(first.value), let unreach = try? BGPMPUnreach(parsing: &value)
        else { return nil }
        return unreach.family
    }
}

/// ORIGIN (RFC 4271 section 5.1.1). Open.
public struct BGPOrigin: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let igp = BGPOrigin(rawValue: 0)
    public static let egp = BGPOrigin(rawValue: 1)
    public static let incomplete = BGPOrigin(rawValue: 2)

    public var description: String {
        switch rawValue {
        case 0: "igp"
        case 1: "egp"
        case 2: "incomplete"
        default: "origin\(rawValue)"
        }
    }
}
