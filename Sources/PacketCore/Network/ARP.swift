/// An ARP packet for IPv4 over Ethernet (RFC 826), classified the way an operator reads it
/// (RFC 5227 for probes and announcements, RFC 5944 section 4.6 for gratuitous ARP).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-------------------------------+-------------------------------+
/// |    hardware type (1 = Ether)  |   protocol type (0x0800)      |
/// +---------------+---------------+-------------------------------+
/// |  hw len (6)   | proto len (4) |   operation (1 req, 2 reply)  |
/// +---------------+---------------+-------------------------------+
/// |  sender hardware address (6) | sender protocol address (4)   |
/// |  target hardware address (6) | target protocol address (4)   |
/// +---------------------------------------------------------------+
/// ```
public struct ARPPacket: Sendable, Hashable {
    public var hardwareType: UInt16
    public var protocolType: EtherType
    public var operation: ARPOperation
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address
    public var kind: ARPKind
    /// The facts arpwatch reports about a frame's consistency (filled in with the link header's help).
    public var anomalies: ARPAnomalies

    /// Decode an Ethernet/IPv4 ARP packet. Other hardware/protocol combinations throw `.unsupported`
    /// (they are kept as such by the packet decoder).
    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .arp
        guard cursor.remaining >= 8 else { throw cursor.error(.truncated, "ARP header needs 8 bytes") }
        let fixed = try cursor.readHeader(8)
        hardwareType = fixed.u16(0)
        protocolType = EtherType(rawValue: fixed.u16(2))
        operation = ARPOperation(rawValue: fixed.u16(6))
        guard fixed.u8(4) == 6, fixed.u8(5) == 4, protocolType == .ipv4 else {
            throw ParseError(.unsupported, at: fixed.origin + 2, layer: .arp, "ARP for other than Ethernet/IPv4 addresses")
        }
        guard cursor.remaining >= 20 else { throw cursor.error(.truncated, "ARP addresses need 20 bytes") }
        let addresses = try cursor.readHeader(20)
        senderMAC = addresses.mac(0)
        senderIP = addresses.ipv4(6)
        targetMAC = addresses.mac(10)
        targetIP = addresses.ipv4(16)
        kind = ARPKind.classify(
            operation: operation, senderIP: senderIP, targetIP: targetIP, targetMAC: targetMAC)
        anomalies = []
        if senderMAC.isBroadcast { anomalies.insert(.broadcastSenderMAC) }
        if senderMAC.isZero { anomalies.insert(.zeroSenderMAC) }
        if senderMAC.isMulticast && !senderMAC.isBroadcast { anomalies.insert(.multicastSenderMAC) }
    }

    /// A gratuitous frame of any kind: the sender announces its own binding (spa == tpa).
    public var isGratuitous: Bool {
        kind == .gratuitousRequest || kind == .gratuitousReply || kind == .announcement
    }

    /// Gratuitous reply whose target MAC is not the sender's own MAC: Linux does not refresh its
    /// neighbour table from such a reply (it is not "gratuitous" for `arp_accept`).
    public var isGratuitousReplyWithForeignTarget: Bool {
        kind == .gratuitousReply && targetMAC != senderMAC
    }
}

/// ARP operation code (RFC 826, RFC 5494 registry). Open: unknown values are kept.
public struct ARPOperation: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let request = ARPOperation(rawValue: 1)
    public static let reply = ARPOperation(rawValue: 2)
    public static let reverseRequest = ARPOperation(rawValue: 3)
    public static let reverseReply = ARPOperation(rawValue: 4)
    public static let inverseRequest = ARPOperation(rawValue: 8)
    public static let inverseReply = ARPOperation(rawValue: 9)
    public static let nak = ARPOperation(rawValue: 10)

    public var description: String {
        switch self {
        case .request: "request"
        case .reply: "reply"
        case .reverseRequest: "reverse-request"
        case .reverseReply: "reverse-reply"
        case .inverseRequest: "inverse-request"
        case .inverseReply: "inverse-reply"
        case .nak: "nak"
        default: "op-\(rawValue)"
        }
    }
}

/// What an ARP packet means to an operator.
public enum ARPKind: String, Sendable, Hashable, CaseIterable {
    /// Who-has: an ordinary request for another host's address.
    case request
    /// Is-at: an ordinary answer to a request.
    case reply
    /// A request whose sender and target IP are equal (spa == tpa): an unsolicited binding update, as
    /// `arping -U`, keepalived and MetalLB send it (target MAC usually broadcast).
    case gratuitousRequest = "gratuitous-request"
    /// A reply whose sender and target IP are equal: `arping -A` and MetalLB's second frame.
    case gratuitousReply = "gratuitous-reply"
    /// RFC 5227 ARP Probe: a request with sender IP 0.0.0.0 (address conflict detection, `arping -D`).
    case probe
    /// RFC 5227 ARP Announcement: a request with spa == tpa and an all-zero target MAC.
    case announcement
    /// Any other operation (RARP, InARP, ...).
    case other

    static func classify(
        operation: ARPOperation, senderIP: IPv4Address, targetIP: IPv4Address, targetMAC: MACAddress
    ) -> ARPKind {
        switch operation {
        case .request:
            if senderIP.isUnspecified { return .probe }
            if senderIP == targetIP { return targetMAC.isZero ? .announcement : .gratuitousRequest }
            return .request
        case .reply:
            return senderIP == targetIP ? .gratuitousReply : .reply
        default:
            return .other
        }
    }
}

/// Consistency facts about an ARP frame that arpwatch reports.
public struct ARPAnomalies: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The Ethernet source address differs from the ARP sender hardware address ("ethernet mismatch").
    public static let ethernetSourceMismatch = ARPAnomalies(rawValue: 1 << 0)
    /// The sender hardware address is ff:ff:ff:ff:ff:ff ("ethernet broadcast").
    public static let broadcastSenderMAC = ARPAnomalies(rawValue: 1 << 1)
    /// The sender hardware address is 00:00:00:00:00:00.
    public static let zeroSenderMAC = ARPAnomalies(rawValue: 1 << 2)
    /// The sender hardware address has the group bit set (never valid for a station).
    public static let multicastSenderMAC = ARPAnomalies(rawValue: 1 << 3)

    public var names: [String] {
        var names: [String] = []
        if contains(.ethernetSourceMismatch) { names.append("ethernet-mismatch") }
        if contains(.broadcastSenderMAC) { names.append("broadcast-sender-mac") }
        if contains(.zeroSenderMAC) { names.append("zero-sender-mac") }
        if contains(.multicastSenderMAC) { names.append("multicast-sender-mac") }
        return names
    }
}
