/// A one-line, tcpdump-like description of a decoded frame: stable and greppable, used by `vipdump` and
/// by tests. Cold path (it builds a String).
extension Packet {
    public var summary: String {
        var parts: [String] = []
        if let source = link.source {
            parts.append(link.destination.map { "\(source) > \($0)" } ?? "\(source)")
        }
        if let direction = link.cookedPacketType { parts.append(direction.description) }
        for tag in link.vlans {
            parts.append(tag.tpid == .vlan ? "vlan \(tag.id)" : "\(tag.tpid) vlan \(tag.id)")
        }
        parts.append(networkSummary)
        if isTruncated { parts.append("[snaplen cut \(capturedLength)/\(originalLength)]") }
        if let issue { parts.append("[\(issue)]") }
        return parts.joined(separator: ", ")
    }

    private var networkSummary: String {
        switch network {
        case .none:
            return "\(linkType)"
        case .arp(let arp):
            var text = "ARP \(arp.kind.rawValue)"
            switch arp.kind {
            case .request, .probe:
                text += " who-has \(arp.targetIP) tell \(arp.senderIP)"
            case .reply, .gratuitousReply:
                text += " \(arp.senderIP) is-at \(arp.senderMAC)"
            case .gratuitousRequest, .announcement:
                text += " \(arp.senderIP) is-at \(arp.senderMAC)"
            case .other:
                text += " \(arp.operation) \(arp.senderIP) \(arp.senderMAC) -> \(arp.targetIP) \(arp.targetMAC)"
            }
            if arp.kind != .other, arp.operation == .reply || !arp.targetMAC.isZero {
                text += " (target \(arp.targetMAC))"
            }
            for anomaly in arp.anomalies.names { text += " [\(anomaly)]" }
            return text
        case .ipv4(let header):
            var text = "IP \(header.source) > \(header.destination): "
            if header.isFragment {
                text += "frag id \(header.identification) off \(header.fragmentOffset)\(header.moreFragments ? "+" : "") "
            }
            if !header.options.isEmpty { text += "[\(header.options.count) bytes of options] " }
            return text + transportSummary(ttlOrHopLimit: header.ttl)
        case .ipv6(let header):
            var text = "IP6 \(header.source) > \(header.destination): "
            if header.extensionCount > 0 { text += "[\(header.extensionCount) ext] " }
            return text + transportSummary(ttlOrHopLimit: header.hopLimit)
        case .other(let type):
            return type.map { "ethertype \($0)" } ?? "llc/unknown"
        }
    }

    private func transportSummary(ttlOrHopLimit: UInt8) -> String {
        switch transport {
        case .none:
            return ""
        case .tcp(let tcp):
            var text = "TCP \(tcp.sourcePort) > \(tcp.destinationPort) [\(tcp.flags)] seq \(tcp.sequence)"
            if tcp.flags.contains(.ack) { text += " ack \(tcp.acknowledgment)" }
            text += " win \(tcp.window)"
            var options: [String] = []
            if let mss = tcp.options.maximumSegmentSize { options.append("mss \(mss)") }
            if let scale = tcp.options.windowScale { options.append("wscale \(scale)") }
            if tcp.options.sackPermitted { options.append("sackOK") }
            if tcp.options.sackBlockCount > 0 { options.append("sack \(tcp.options.sackBlockCount)") }
            if let value = tcp.options.timestampValue {
                options.append("TS val \(value) ecr \(tcp.options.timestampEcho ?? 0)")
            }
            if tcp.options.md5Signature != nil { options.append("md5") }
            if tcp.options.unknownCount > 0 { options.append("\(tcp.options.unknownCount) unknown") }
            if !options.isEmpty { text += " options [\(options.joined(separator: ","))]" }
            return text + " len \(payload.count)"
        case .udp(let udp):
            return "UDP \(udp.sourcePort) > \(udp.destinationPort) len \(payload.count)"
        case .icmpv4(let icmp):
            return "ICMP \(icmp.name) code \(icmp.code)"
        case .icmpv6(let icmp):
            guard let ndp = icmp.ndp else { return "ICMP6 \(icmp.type) code \(icmp.code)" }
            var text = "ICMP6 \(icmp.type)"
            if let target = ndp.target { text += " tgt \(target)" }
            if ndp.type == .neighborAdvertisement {
                let flags = (ndp.router ? "R" : "") + (ndp.solicited ? "S" : "") + (ndp.override ? "O" : "")
                text += " [\(flags.isEmpty ? "none" : flags)]"
            }
            if isDADProbe { text += " (DAD)" }
            if let mac = ndp.sourceLinkLayer { text += " sll \(mac)" }
            if let mac = ndp.targetLinkLayer { text += " tll \(mac)" }
            if let mtu = ndp.mtu { text += " mtu \(mtu)" }
            if ndp.prefixCount > 0 { text += " prefixes \(ndp.prefixCount)" }
            return text + " hlim \(ttlOrHopLimit)"
        case .fragment:
            return "fragment len \(payload.count)"
        case .other(let proto):
            return "\(proto) len \(payload.count)"
        }
    }
}
