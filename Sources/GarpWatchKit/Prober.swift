import PacketCore

/// `--probe`: broadcast who-has requests for an address and every distinct MAC that answers them.
///
/// Unlike `arping`, which switches to unicast once it has an answer (so a second node holding the address
/// is never asked again), every request here goes to the broadcast address (IPv4) or to the address's
/// solicited-node group (IPv6), so every holder answers every time.
public struct Prober: Sendable {
    /// One MAC that answered for a probed address.
    public struct Responder: Sendable, Hashable {
        public var mac: MACAddress
        public var firstReply: Timestamp
        public var lastReply: Timestamp
        public var replies: Int
    }

    /// The probed addresses, in command-line order.
    public let targets: [IPAddress]
    /// Requests sent per address.
    public private(set) var requests: [Int]
    /// Responders per address (same order as `targets`), in order of their first reply.
    public private(set) var responders: [[Responder]]

    public init(targets: [IPAddress]) {
        self.targets = targets
        requests = Array(repeating: 0, count: targets.count)
        responders = Array(repeating: [], count: targets.count)
    }

    public mutating func countRequest(for index: Int) { requests[index] += 1 }

    /// The responders for `ip`, or nil when it was not probed.
    public func responders(for ip: IPAddress) -> [Responder]? {
        targets.firstIndex(of: ip).map { responders[$0] }
    }

    /// Account for one captured frame: an ARP reply whose sender is a probed address, or a Neighbor
    /// Advertisement whose target is one.
    public mutating func observe(_ packet: borrowing Packet, at time: Timestamp) {
        let ip: IPAddress
        let mac: MACAddress?
        if case .arp(let arp) = packet.network {
            guard arp.operation == .reply else { return }
            ip = .v4(arp.senderIP)
            mac = arp.senderMAC
        } else if case .icmpv6(let message) = packet.transport, let ndp = message.ndp,
            ndp.type == .neighborAdvertisement, let target = ndp.target
        {
            ip = .v6(target)
            let linkSource = packet.link.source
            mac = ndp.targetLinkLayer ?? linkSource
        } else {
            return
        }
        guard let mac, let index = targets.firstIndex(of: ip) else { return }
        if let known = responders[index].firstIndex(where: { $0.mac == mac }) {
            responders[index][known].replies += 1
            if time > responders[index][known].lastReply { responders[index][known].lastReply = time }
        } else {
            responders[index].append(Responder(mac: mac, firstReply: time, lastReply: time, replies: 1))
        }
    }

    // MARK: Request frames

    /// The Ethernet frame that asks who has `target`.
    ///
    /// IPv4 (RFC 826; RFC 5227 section 2.1.1 for the probe form): a broadcast ARP request. With no
    /// `sourceIP` the sender address is 0.0.0.0, an ARP probe: it claims nothing and pollutes no neighbour
    /// cache, and Linux answers it (for duplicate address detection) as long as the address is configured.
    ///
    /// IPv6 (RFC 4861 section 7.2.2): a Neighbor Solicitation to the target's solicited-node multicast group
    /// `ff02::1:ffXX:XXXX`, hop limit 255, with a source link-layer address option. With no `sourceIP` the
    /// source is `::` and the option is left out (RFC 4861 section 4.3 forbids it there); holders then
    /// answer to all-nodes, which the capture sees just the same.
    public static func request(for target: IPAddress, sourceMAC: MACAddress, sourceIP: IPAddress?) -> [UInt8] {
        let mac = octets(sourceMAC)
        switch target {
        case .v4(let address):
            var sender: [UInt8] = [0, 0, 0, 0]
            if case .v4(let source)? = sourceIP { sender = octets(source) }
            //  0                   1                   2                   3
            // | hardware type = 1 (Ethernet)  | protocol type = 0x0800 (IPv4) |
            // | hlen = 6      | plen = 4      | operation = 1 (request)       |
            // | sender MAC (6) | sender IP (4) | target MAC (6, zero) | target IP (4) |
            return [UInt8](repeating: 0xFF, count: 6) + mac + [0x08, 0x06]
                + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01] + mac + sender + [0, 0, 0, 0, 0, 0] + octets(address)
        case .v6(let address):
            var source = [UInt8](repeating: 0, count: 16)
            if case .v6(let given)? = sourceIP { source = octets(given) }
            let withOption = source.contains { $0 != 0 }
            let targetBytes = octets(address)
            let group: [UInt8] = [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF] + targetBytes[13..<16]
            // ICMPv6 NS: | type = 135 | code = 0 | checksum | reserved (4) | target (16) | options |
            var message: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + targetBytes
            if withOption { message += [1, 1] + mac }  // source link-layer address, length in units of 8 bytes
            let checksum = icmpv6Checksum(source: source, destination: group, message: message)
            message[2] = UInt8(checksum >> 8)
            message[3] = UInt8(checksum & 0xFF)
            let length = UInt16(message.count)
            // IPv6: version 6, traffic class 0, flow 0 | payload length | next header 58 | hop limit 255
            let header: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 58, 255] + source + group
            return [0x33, 0x33] + group[12..<16] + mac + [0x86, 0xDD] + header + message
        }
    }

    /// RFC 4443 section 2.3: one's complement sum over the RFC 8200 section 8.1 pseudo-header and the message.
    static func icmpv6Checksum(source: [UInt8], destination: [UInt8], message: [UInt8]) -> UInt16 {
        let length = UInt32(message.count)
        let pseudo = source + destination
            + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + [0, 0, 0, 58]
        let bytes = pseudo + message + (message.count % 2 == 1 ? [0] : [])
        var sum: UInt32 = 0
        for index in stride(from: 0, to: bytes.count, by: 2) {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func octets(_ mac: MACAddress) -> [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: mac.rawValue >> (40 - 8 * UInt64($0))) }
    }

    private static func octets(_ address: IPv4Address) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: address.rawValue >> UInt32($0)) }
    }

    private static func octets(_ address: IPv6Address) -> [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? address.high : address.low
            return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
        }
    }
}
