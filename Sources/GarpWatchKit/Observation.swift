import PacketCore

/// What a frame says about IP-to-MAC bindings: who claims which address, how, and what is wrong with
/// the frame. Extracted from a decoded `Packet` without allocating, for every frame.
public struct Observation: Sendable, Hashable {
    /// How the claim was made.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case arpRequest = "arp-request"
        case arpReply = "arp-reply"
        case gratuitousRequest = "gratuitous-request"
        case gratuitousReply = "gratuitous-reply"
        case arpAnnouncement = "arp-announcement"
        case arpProbe = "arp-probe"
        /// Unsolicited Neighbor Advertisement (S=0): the IPv6 failover signal MetalLB and keepalived send.
        case unsolicitedNA = "unsolicited-na"
        case solicitedNA = "solicited-na"
        case neighborSolicitation = "ns"
        /// Duplicate Address Detection NS (source ::): a probe, claims nothing.
        case dadProbe = "dad-ns"
        /// An IPv4/IPv6 frame with a followed address (`--ip`, `--net`, `--expect`) as source: a capture that
        /// starts after the last announcement still shows who answers for the address (issue 15 item 5).
        case ipSource = "ip-source"
        /// A VRRP advertisement (priority above 0) listing the address, from the master's MAC.
        case vrrpAdvert = "vrrp-advert"

        /// Announcements: frames whose only purpose is to (re)bind the address on every listener.
        public var isGratuitous: Bool {
            switch self {
            case .gratuitousRequest, .gratuitousReply, .arpAnnouncement, .unsolicitedNA: true
            default: false
            }
        }
    }

    /// Announcement-frame problems that commonly break clients.
    public struct Lint: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Gratuitous ARP reply whose target MAC is not the sender's MAC: Linux's `arp_accept` logic does not
        /// treat it as gratuitous, so neighbours that have no entry yet ignore it.
        public static let gratuitousReplyForeignTarget = Lint(rawValue: 1 << 0)
        /// Unsolicited NA without the target link-layer address option: receivers cannot update the MAC.
        public static let naWithoutTargetLinkLayer = Lint(rawValue: 1 << 1)
        /// NDP with hop limit other than 255: receivers must drop it (RFC 4861 section 7.1.2).
        public static let ndpHopLimitNot255 = Lint(rawValue: 1 << 2)

        public static let all: [(Lint, String, String)] = [
            (.gratuitousReplyForeignTarget, "garp-reply-foreign-target",
             "gratuitous ARP reply with a target MAC other than the sender's (Linux does not take it as gratuitous)"),
            (.naWithoutTargetLinkLayer, "na-without-target-lladdr",
             "unsolicited NA without the target link-layer address option (receivers cannot learn the MAC)"),
            (.ndpHopLimitNot255, "ndp-hop-limit",
             "NDP hop limit is not 255 (receivers drop it, RFC 4861 section 7.1.2)"),
        ]

        public var names: [String] { Self.all.filter { contains($0.0) }.map(\.1) }
    }

    public var kind: Kind
    /// The address the frame binds (ARP sender IP, NA target, NS source); for probes, the probed address.
    public var key: BindingKey
    /// The MAC the frame binds the address to; nil for probes (they claim nothing).
    public var mac: MACAddress?
    /// For ARP: the target protocol address (what arpwatch and tshark call the target).
    public var targetIP: IPAddress?
    public var anomalies: ARPAnomalies
    public var lint: Lint
    public var hopLimit: UInt8?
    /// ARP: the target MAC is ff:ff:ff:ff:ff:ff (MetalLB's gratuitous request and reply both carry it).
    public var broadcastTarget = false

    /// A claim made by a frame that is neither ARP nor NDP (`ipSource`, `vrrpAdvert`).
    init(claim kind: Kind, key: BindingKey, mac: MACAddress) {
        self.kind = kind
        self.key = key
        self.mac = mac
        targetIP = nil
        anomalies = []
        lint = []
        hopLimit = nil
    }

    /// Counted as ARP or NDP in the summary (the other claims are not ARP/NDP frames).
    var isNeighborProtocol: Bool { kind != .ipSource && kind != .vrrpAdvert }

    /// The binding facts of one decoded frame, or nil when it is neither ARP nor NS/NA.
    @inline(__always)
    public static func of(_ packet: Packet) -> Observation? {
        switch packet.network {
        case .arp(let arp):
            return Observation(arp: arp, vlans: VLANPath(packet.link.vlans))
        case .ipv6(let header):
            guard case .icmpv6(let message) = packet.transport, let ndp = message.ndp else { return nil }
            return Observation(ndp: ndp, header: header, link: packet.link)
        default:
            return nil
        }
    }

    init(arp: ARPPacket, vlans: VLANPath) {
        switch arp.kind {
        case .request: kind = .arpRequest
        case .reply, .other: kind = .arpReply
        case .gratuitousRequest: kind = .gratuitousRequest
        case .gratuitousReply: kind = .gratuitousReply
        case .announcement: kind = .arpAnnouncement
        case .probe: kind = .arpProbe
        }
        if kind == .arpProbe {
            key = BindingKey(vlans: vlans, ip: .v4(arp.targetIP))
            mac = nil
        } else {
            key = BindingKey(vlans: vlans, ip: .v4(arp.senderIP))
            mac = arp.senderMAC
        }
        targetIP = .v4(arp.targetIP)
        anomalies = arp.anomalies
        lint = arp.isGratuitousReplyWithForeignTarget ? .gratuitousReplyForeignTarget : []
        hopLimit = nil
        broadcastTarget = arp.targetMAC.isBroadcast
    }

    init?(ndp: NDPMessage, header: IPv6Header, link: LinkHeader) {
        let vlans = VLANPath(link.vlans)
        anomalies = []
        targetIP = ndp.target.map { .v6($0) }
        hopLimit = header.hopLimit
        lint = header.hopLimit == 255 ? [] : .ndpHopLimitNot255
        switch ndp.type {
        case .neighborAdvertisement:
            guard let target = ndp.target else { return nil }
            kind = ndp.solicited ? .solicitedNA : .unsolicitedNA
            key = BindingKey(vlans: vlans, ip: .v6(target))
            mac = ndp.targetLinkLayer ?? link.source
            if ndp.targetLinkLayer == nil && !ndp.solicited { lint.insert(.naWithoutTargetLinkLayer) }
        case .neighborSolicitation:
            if header.source.isUnspecified {
                guard let target = ndp.target else { return nil }
                kind = .dadProbe
                key = BindingKey(vlans: vlans, ip: .v6(target))
                mac = nil
            } else {
                kind = .neighborSolicitation
                key = BindingKey(vlans: vlans, ip: .v6(header.source))
                mac = ndp.sourceLinkLayer ?? link.source
            }
        default:
            return nil
        }
    }
}
