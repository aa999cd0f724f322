/// One frame decoded through every layer the core knows: link -> ARP | IPv4/IPv6 -> TCP | UDP | ICMP(v6)/NDP.
///
/// Decoding never throws and never crashes: it goes as far as the bytes allow and records the first problem
/// in `issue` (with its layer and absolute offset). A frame cut by the capture's snaplen is decoded as far
/// as it goes and flagged `isTruncated`; a frame whose headers contradict its own length is `malformed`.
///
/// The value holds scalars and absolute byte ranges into the frame, never the bytes themselves, so it is
/// `Sendable` and decoding allocates nothing.
public struct Packet: Sendable {
    public var linkType: LinkType
    /// Bytes present in the capture.
    public var capturedLength: Int
    /// Bytes on the wire (from the capture record); equal to `capturedLength` unless snaplen cut the frame.
    public var originalLength: Int
    public var link: LinkHeader
    public var network: NetworkLayer
    public var transport: TransportLayer
    /// Absolute range of the application payload (after the TCP/UDP header; after the IP header for other
    /// protocols), limited to the IP length (link padding trimmed) and to the bytes captured.
    public var payload: Range<Int>
    /// The first problem met while decoding, if any. Layers before it are fully decoded.
    public var issue: ParseError?

    /// The capture's snaplen cut this frame.
    public var isTruncated: Bool { capturedLength < originalLength }

    /// Decode a frame of `linkType`. `originalLength` is the wire length from the capture record (defaults
    /// to the captured length); it tells snaplen truncation apart from malformation.
    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int? = nil) -> Packet {
        var packet = Packet()
        packet.decode(bytes, linkType: linkType, originalLength: originalLength)
        return packet
    }

    /// An empty packet, to be filled by `decode(_:linkType:originalLength:)`.
    public init() {
        linkType = .ethernet
        capturedLength = 0
        originalLength = 0
        link = LinkHeader()
        network = .none
        transport = .none
        payload = 0..<0
        issue = nil
    }

    /// Decode a frame into this value, replacing what it held. Hot loops keep one `Packet` and decode
    /// every frame into it, so the (large) value is never copied.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int? = nil) {
        var cursor = Cursor(bytes)
        self.linkType = linkType
        capturedLength = bytes.count
        self.originalLength = Swift.max(originalLength ?? bytes.count, bytes.count)
        payload = bytes.count..<bytes.count
        issue = nil
        link.reset()
        // `network` and `transport` are assigned exactly once on every path below, never reset first:
        // assigning a case of these large enums copies the whole value, and that showed in the profile.
        do {
            try link.parse(&cursor, linkType: linkType)
        } catch {
            issue = error
            network = .none
            clearTransport()
            return
        }
        payload = cursor.remainingRange
        switch link.etherType {
        case .arp?:
            decodeARP(&cursor)
            clearTransport()
        case .ipv4?:
            decodeIPv4(&cursor)
        case .ipv6?:
            decodeIPv6(&cursor)
        default:
            network = .other(link.etherType)
            clearTransport()
        }
    }

    /// `transport = .none`, skipped when it already is (the common ARP-after-ARP case costs a compare).
    @inline(__always)
    private mutating func clearTransport() {
        if case .none = transport { return }
        transport = .none
    }

    // MARK: Layers

    private mutating func decodeARP(_ cursor: inout Cursor) {
        do {
            var arp = try ARPPacket(parsing: &cursor)
            if let source = link.source, source != arp.senderMAC { arp.anomalies.insert(.ethernetSourceMismatch) }
            network = .arp(arp)
            payload = cursor.offset..<cursor.offset
        } catch {
            network = .other(.arp)
            note(error)
        }
    }

    private mutating func decodeIPv4(_ cursor: inout Cursor) {
        let header: IPv4Header
        do {
            header = try IPv4Header(parsing: &cursor)
        } catch {
            network = .other(.ipv4)
            clearTransport()
            note(error)
            return
        }
        network = .ipv4(header)
        var body = limit(&cursor, to: header.totalLength - header.headerLength, layer: .ipv4)
        payload = body.remainingRange
        guard header.isFirstFragment else {
            transport = .fragment
            return
        }
        decodeTransport(&body, protocolNumber: header.protocolNumber)
    }

    private mutating func decodeIPv6(_ cursor: inout Cursor) {
        var header: IPv6Header
        do {
            header = try IPv6Header(parsing: &cursor)
        } catch {
            network = .other(.ipv6)
            clearTransport()
            note(error)
            return
        }
        // A payload length of 0 with a hop-by-hop header is a jumbogram (RFC 2675): the rest of the frame.
        var body =
            header.payloadLength == 0 && header.nextHeader == .hopByHop
            ? cursor.rest(layer: .ipv6)
            : limit(&cursor, to: header.payloadLength, layer: .ipv6)
        do {
            try header.parseExtensions(&body)
        } catch {
            network = .ipv6(header)
            clearTransport()
            payload = body.remainingRange
            note(error)
            return
        }
        network = .ipv6(header)
        payload = body.remainingRange
        guard header.isFirstFragment else {
            transport = .fragment
            return
        }
        decodeTransport(&body, protocolNumber: header.upperProtocol)
    }

    private mutating func decodeTransport(_ cursor: inout Cursor, protocolNumber: IPProtocol) {
        do {
            switch protocolNumber {
            case .tcp:
                let tcp = try TCPHeader(parsing: &cursor)
                transport = .tcp(tcp)
                if let error = tcp.options.error { note(error) }
                payload = cursor.remainingRange
            case .udp:
                let udp = try UDPHeader(parsing: &cursor)
                transport = .udp(udp)
                var body = limit(&cursor, to: udp.length - 8, layer: .udp)
                payload = body.remainingRange
                body.skipRest()
            case .icmpv6:
                let icmp = try ICMPv6Message(parsing: &cursor)
                transport = .icmpv6(icmp)
                if let error = icmp.ndp?.optionsError { note(error) }
                payload = icmp.body
            case .icmp:
                let icmp = try ICMPv4Header(parsing: &cursor)
                transport = .icmpv4(icmp)
                payload = icmp.body
            default:
                transport = .other(protocolNumber)
                payload = cursor.remainingRange
            }
        } catch {
            transport = .other(protocolNumber)
            payload = cursor.remainingRange
            note(error)
        }
    }

    /// A window of `length` bytes for the next layer, trimming link padding. When fewer bytes are present
    /// the window holds what there is and the shortfall is noted: truncated if the capture cut the frame,
    /// malformed if the frame itself is shorter than its header claims.
    private mutating func limit(_ cursor: inout Cursor, to length: Int, layer: Layer) -> Cursor {
        let (window, short) = cursor.subUpTo(Swift.max(0, length), layer: layer)
        if short {
            note(
                isTruncated
                    ? ParseError(.truncated, at: window.endOffset, layer: layer, "payload cut by snaplen")
                    : ParseError(.malformed, at: window.endOffset, layer: layer, "length field exceeds frame"))
        }
        if length < 0 {
            note(ParseError(.malformed, at: window.offset, layer: layer, "length field below header size"))
        }
        return window
    }

    private mutating func note(_ error: ParseError) {
        if issue == nil { issue = error }
    }
}

/// What follows the link header.
public enum NetworkLayer: Sendable, Hashable {
    /// Nothing decodable (the link header itself failed).
    case none
    case arp(ARPPacket)
    case ipv4(IPv4Header)
    case ipv6(IPv6Header)
    /// A protocol we do not decode, or one whose header failed to decode (see `Packet.issue`).
    case other(EtherType?)
}

/// What follows the IP header.
public enum TransportLayer: Sendable, Hashable {
    case none
    case tcp(TCPHeader)
    case udp(UDPHeader)
    case icmpv4(ICMPv4Header)
    case icmpv6(ICMPv6Message)
    /// A non-first IP fragment: no transport header here.
    case fragment
    /// A protocol we do not decode, or one whose header failed to decode (see `Packet.issue`).
    case other(IPProtocol)
}

// MARK: Convenience accessors

extension Packet {
    public var arp: ARPPacket? {
        if case .arp(let arp) = network { return arp }
        return nil
    }

    public var ipv4: IPv4Header? {
        if case .ipv4(let header) = network { return header }
        return nil
    }

    public var ipv6: IPv6Header? {
        if case .ipv6(let header) = network { return header }
        return nil
    }

    public var tcp: TCPHeader? {
        if case .tcp(let header) = transport { return header }
        return nil
    }

    public var udp: UDPHeader? {
        if case .udp(let header) = transport { return header }
        return nil
    }

    public var icmpv6: ICMPv6Message? {
        if case .icmpv6(let message) = transport { return message }
        return nil
    }

    public var ndp: NDPMessage? { icmpv6?.ndp }

    public var sourceIP: IPAddress? {
        switch network {
        case .ipv4(let header): .v4(header.source)
        case .ipv6(let header): .v6(header.source)
        default: nil
        }
    }

    public var destinationIP: IPAddress? {
        switch network {
        case .ipv4(let header): .v4(header.destination)
        case .ipv6(let header): .v6(header.destination)
        default: nil
        }
    }

    /// A Duplicate Address Detection probe: an NS from the unspecified address (RFC 4862 section 5.4.2).
    public var isDADProbe: Bool {
        guard let ipv6, let ndp, ndp.type == .neighborSolicitation else { return false }
        return ipv6.source.isUnspecified
    }
}
