import BGPDecodeKit
import Foundation
import PacketCore
import TestSupport
import Testing

/// One BGP message reduced to the fields both decoders must agree on. Prefix lists are sorted (tshark's
/// JSON objects do not keep wire order across keys); AS paths keep their order.
struct BGPMessageFacts: Hashable, Sendable, CustomStringConvertible {
    var type = ""
    var capabilities = ""
    var withdrawn = ""
    var nlri = ""
    var nextHop = ""
    var asPath = ""
    var communities = ""
    var largeCommunities = ""
    var notification = ""
    /// The AS number size the AS_PATH was read with (2 or 4; 0 without AS_PATH): not compared, it explains.
    var asSize = 0
    /// The message length: not compared, it explains tshark's 4096-byte limit.
    var length = 0
    /// Facts about the bytes that explain a documented difference (not compared): "rfc9072" for an OPEN
    /// with extended optional parameter lengths.
    var notes: Set<String> = []

    var description: String {
        var parts = ["type \(type)"]
        for (name, value) in [
            ("caps", capabilities), ("withdrawn", withdrawn), ("nlri", nlri), ("next-hop", nextHop),
            ("as-path", asPath), ("communities", communities), ("large", largeCommunities),
            ("notification", notification),
        ]
        where !value.isEmpty {
            parts.append("\(name) \(value)")
        }
        return "{" + parts.joined(separator: "; ") + "}"
    }

    /// The compared fields, with one of them left out.
    func without(_ field: PartialKeyPath<BGPMessageFacts>) -> BGPMessageFacts {
        var copy = compared
        switch field {
        case \BGPMessageFacts.asPath: copy.asPath = ""
        case \BGPMessageFacts.capabilities: copy.capabilities = ""
        default: break
        }
        return copy
    }

    var compared: BGPMessageFacts {
        var copy = self
        copy.asSize = 0
        copy.length = 0
        copy.notes = []
        return copy
    }
}

extension TsharkDifferentialTests {
    /// A case where tshark is known to decode differently and is wrong, recognised by its exact shape.
    struct KnownTsharkError: Sendable {
        var reason: String
        /// Ours and tshark's facts that disagree only in the way this error explains.
        var explains: @Sendable (_ ours: BGPMessageFacts, _ theirs: BGPMessageFacts) -> Bool
    }

    static let knownTsharkErrors: [KnownTsharkError] = [
        KnownTsharkError(
            reason: """
                tshark guesses 2- vs 4-byte AS numbers per message from the AS_PATH bytes (packet-bgp.c \
                heuristic); we use what both OPENs negotiated (RFC 6793 section 4), so a 4-byte ASN can show \
                in tshark as two 2-byte ones or the reverse
                """,
            explains: { ours, theirs in
                ours.asSize != theirs.asSize && ours.without(\.asPath) == theirs.without(\.asPath)
            }),
        KnownTsharkError(
            reason: """
                tshark rejects BGP messages longer than 4096 bytes even when both OPENs carry the extended \
                message capability (RFC 8654); we accept up to 65535 once it is negotiated
                """,
            explains: { ours, theirs in ours.length > 4096 && theirs.type.isEmpty }),
        KnownTsharkError(
            reason: """
                tshark 4.0 does not implement RFC 9072 (an OPEN whose Opt Parm Len is 255 followed by \
                parameter type 255 and 2-byte lengths): it finds no capabilities where we (and tcpdump's \
                bgp-extended-optional-parameters-length.out) find them all
                """,
            explains: { ours, theirs in
                ours.notes.contains("rfc9072") && ours.without(\.capabilities) == theirs.without(\.capabilities)
            }),
    ]

    // MARK: Ours

    /// Every BGP message of the capture, per sending endpoint, decoded with the core's parsers in the
    /// context bgpdecode uses (the two OPENs, or the labelled heuristic without them).
    static func ourBGP(_ frames: [DecodedFrame]) -> [String: [BGPMessageFacts]] {
        final class Connection {
            var streams: [FlowSide: BGPMessageStream] = [:]
            var opens: [FlowSide: BGPOpen] = [:]
        }
        var connections: [FlowKey: Connection] = [:]
        var result: [String: [BGPMessageFacts]] = [:]
        TCPStreams.feed(frames, port: 179) { event in
            switch event {
            case .opened(let key, _, let sawHandshake):
                let connection = Connection()
                connection.streams = [
                    .low: BGPMessageStream(synchronized: sawHandshake),
                    .high: BGPMessageStream(synchronized: sawHandshake),
                ]
                connections[key] = connection
            case .data(let key, let side, let bytes, let offset, _):
                let connection = connections[key] ?? Connection()
                connections[key] = connection
                var stream = connection.streams[side] ?? BGPMessageStream(synchronized: false)
                let sender = "\(key.endpoint(side).address)"
                stream.feed(
                    bytes, at: offset,
                    onMessage: { message in
                        let context = BGPMessageContext.negotiated(
                            sender: connection.opens[side], receiver: connection.opens[side.other])
                        let (facts, open) = Self.facts(message, context: context)
                        if let open { connection.opens[side] = open }
                        result[sender, default: []].append(facts)
                    })
                if let low = connection.opens[.low], let high = connection.opens[.high],
                    low.supportsExtendedMessage, high.supportsExtendedMessage
                {
                    stream.maximumLength = BGPMessageHeader.extendedMaximumLength
                }
                connection.streams[side] = stream
            case .gap(let key, let side, let missing, _):
                connections[key]?.streams[side]?.skip(missingBytes: missing)
            case .closed(let key, _, _):
                connections[key] = nil
            }
        }
        return result
    }

    static func facts(_ message: Cursor, context: BGPMessageContext) -> (BGPMessageFacts, BGPOpen?) {
        var facts = BGPMessageFacts()
        var cursor = message
        guard let header = try? BGPMessageHeader(parsing: &cursor) else { return (facts, nil) }
        facts.type = "\(header.type.rawValue)"
        facts.length = header.length
        switch header.type {
        case .open:
            guard let open = try? BGPOpen(parsing: &cursor) else { return (facts, nil) }
            facts.capabilities =
                open.capabilities.map { "\($0.code.rawValue)" }.sorted().joined(separator: ",")
                + " as \(open.autonomousSystem)"
            if open.extendedParameterLength { facts.notes.insert("rfc9072") }
            return (facts, open)
        case .update:
            let body = cursor
            guard let update = try? BGPUpdate(parsing: &cursor), let window = try? body.window(update.attributes) else {
                return (facts, nil)
            }
            let attributes = BGPAttributes(parsing: window, asSize: context.asSize)
            var withdrawn = prefixes(update.withdrawn, body, .ipv4Unicast, context)
            var nlri = prefixes(update.nlri, body, .ipv4Unicast, context)
            var hops: [String] = attributes.nextHop.map { ["\($0)"] } ?? []
            // Every MP_REACH/MP_UNREACH copy: a repeated one makes the UPDATE malformed (RFC 7606 section 3 (g),
            // recorded in `attributes.problems`), and bgpdecode still shows its routes, as treat-as-withdraw.
            var iterator = BGPAttributeIterator(window)
            while let attribute = try? iterator.next() {
                guard var value = try? body.window(attribute.value) else { continue }
                if attribute.type == .mpReachNLRI, let reach = try? BGPMPReach(parsing: &value) {
                    nlri += prefixes(reach.nlri, body, reach.family, context)
                    if let address = reach.nextHop.address { hops.append("\(address)") }
                    if let linkLocal = reach.nextHop.linkLocal { hops.append("\(linkLocal)") }
                } else if attribute.type == .mpUnreachNLRI, let unreach = try? BGPMPUnreach(parsing: &value) {
                    withdrawn += prefixes(unreach.withdrawn, body, unreach.family, context)
                }
            }
            facts.withdrawn = withdrawn.sorted().joined(separator: " ")
            facts.nlri = nlri.sorted().joined(separator: " ")
            facts.nextHop = hops.sorted().joined(separator: " ")
            if let path = attributes.asPath {
                facts.asPath = path.flattened.map(String.init).joined(separator: " ")
                facts.asSize = attributes.asSize
            }
            facts.communities = attributes.communities.map { "\($0.rawValue >> 16):\($0.rawValue & 0xFFFF)" }.sorted()
                .joined(separator: " ")
            facts.largeCommunities = attributes.largeCommunities.map(\.description).sorted().joined(separator: " ")
        case .notification:
            if let notification = try? BGPNotification(parsing: &cursor) {
                facts.notification = "\(notification.code)/\(notification.subcode)"
            }
        default:
            break
        }
        return (facts, nil)
    }

    static func prefixes(_ range: Range<Int>, _ body: Cursor, _ family: BGPAddressFamily, _ context: BGPMessageContext)
        -> [String]
    {
        guard let window = try? body.window(range) else { return [] }
        let addPath =
            context.addPath(family)
            ?? (BGPNLRIIterator.parsesCleanly(window, family: family, addPath: true)
                && !BGPNLRIIterator.parsesCleanly(window, family: family, addPath: false))
        var iterator = BGPNLRIIterator(window, family: family, addPath: addPath)
        var list: [String] = []
        while let entry = try? iterator.next() { list.append("\(entry.prefix)") }
        return list
    }

    // MARK: tshark's

    static let withdrawnKeys = [
        "bgp.withdrawn_prefix", "bgp.mp_unreach_nlri_ipv4_prefix", "bgp.mp_unreach_nlri_ipv6_prefix",
    ]
    static let nlriKeys = ["bgp.nlri_prefix", "bgp.mp_reach_nlri_ipv4_prefix", "bgp.mp_reach_nlri_ipv6_prefix"]

    static func theirBGP(_ frames: [[String: Any]]) -> [String: [BGPMessageFacts]] {
        var result: [String: [BGPMessageFacts]] = [:]
        for layers in frames {
            guard layers["bgp"] != nil else { continue }
            let ip =
                (layers["ip"] as? [String: Any]).flatMap { Tshark.strings($0["ip.src"]).first }
                ?? (layers["ipv6"] as? [String: Any]).flatMap { Tshark.strings($0["ipv6.src"]).first } ?? "?"
            for case let message as [String: Any] in Tshark.list(layers["bgp"]) {
                result[Tshark.canonical(ip), default: []].append(facts(message))
            }
        }
        return result
    }

    static func prefixes(_ keys: [String], in message: [String: Any]) -> [String] {
        var list: [String] = []
        for key in keys {
            for object in Tshark.objects(with: [key, "bgp.prefix_length"], in: message) {
                let addresses = Tshark.strings(object[key])
                // For labeled and VPN families tshark's prefix length counts the label stack (24 bits a
                // label) and the route distinguisher (64 bits) too, as the wire's length byte does: take
                // them off to compare the prefix itself.
                let labels = Tshark.strings(object["bgp.label_stack"]).first.map { $0.split(separator: ",").count } ?? 0
                let distinguisher = object["bgp.rd"] == nil ? 0 : 64
                let lengths = Tshark.strings(object["bgp.prefix_length"]).map {
                    (Int($0) ?? 0) - 24 * labels - distinguisher
                }
                for (address, length) in zip(addresses, lengths) {
                    list.append("\(Tshark.canonical(address))/\(length)")
                }
            }
        }
        return list
    }

    static func facts(_ message: [String: Any]) -> BGPMessageFacts {
        var facts = BGPMessageFacts()
        facts.type = Tshark.strings(message["bgp.type"]).first ?? ""
        facts.length = Int(Tshark.strings(message["bgp.length"]).first ?? "") ?? 0
        switch facts.type {
        case "1":
            let codes = Tshark.values("bgp.cap.type", in: message).sorted()
            let myAS = Tshark.strings(message["bgp.open.myas"]).first ?? ""
            facts.capabilities =
                codes.joined(separator: ",") + " as \(Tshark.values("bgp.cap.4as", in: message).first ?? myAS)"
        case "2":
            facts.withdrawn = prefixes(withdrawnKeys, in: message).sorted().joined(separator: " ")
            facts.nlri = prefixes(nlriKeys, in: message).sorted().joined(separator: " ")
            let hops =
                Tshark.values("bgp.update.path_attribute.next_hop", in: message)
                + Tshark.values("bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4", in: message)
                + Tshark.values("bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6", in: message)
                + Tshark.values("bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local", in: message)
            facts.nextHop = hops.map(Tshark.canonical).sorted().joined(separator: " ")
            // AS_PATH (type 2) only, segments in order; AS4_PATH is another attribute.
            let attributes = Tshark.list(
                (message["bgp.update.path_attributes"] as? [String: Any])?["bgp.update.path_attribute"])
            for case let attribute as [String: Any] in attributes
            where Tshark.strings(attribute["bgp.update.path_attribute.type_code"]).first == "2" {
                var numbers: [String] = []
                for case let segment as [String: Any] in Tshark.list(
                    attribute["bgp.update.path_attribute.as_path_segment"])
                {
                    if let two = segment["bgp.update.path_attribute.as_path_segment.as2"] {
                        numbers += Tshark.strings(two)
                        facts.asSize = 2
                    }
                    if let four = segment["bgp.update.path_attribute.as_path_segment.as4"] {
                        numbers += Tshark.strings(four)
                        facts.asSize = 4
                    }
                }
                facts.asPath = numbers.joined(separator: " ")
            }
            facts.communities = Tshark.objects(
                with: ["bgp.update.path_attribute.community_as", "bgp.update.path_attribute.community_value"],
                in: message
            ).map { object -> String in
                let high = Tshark.strings(object["bgp.update.path_attribute.community_as"]).first ?? ""
                let low = Tshark.strings(object["bgp.update.path_attribute.community_value"]).first ?? ""
                return "\(high):\(low)"
            }.sorted().joined(separator: " ")
            facts.largeCommunities = Tshark.objects(
                with: ["bgp.large_communities.ga", "bgp.large_communities.ldp1", "bgp.large_communities.ldp2"],
                in: message
            ).map {
                [$0["bgp.large_communities.ga"], $0["bgp.large_communities.ldp1"], $0["bgp.large_communities.ldp2"]]
                    .map { Tshark.strings($0).first ?? "" }.joined(separator: ":")
            }.sorted().joined(separator: " ")
        case "3":
            let major = Tshark.values("bgp.notify.major_error", in: message).first ?? ""
            let minor = message.first { $0.key.hasPrefix("bgp.notify.minor_error") }.map {
                Tshark.strings($0.value).first ?? ""
            }
            facts.notification = "\(major)/\(minor ?? "0")"
        default:
            break
        }
        return facts
    }

    // MARK: Comparison

    func compareBGP(_ ours: [DecodedFrame], _ theirs: [[String: Any]], _ report: inout Differences) {
        // Frames whose link type the core does not decode (PPP, Juniper, ... in tcpdump's corpus) are
        // reported as unsupported by the core (vipdump shows that): out of scope, not compared.
        var theirs = theirs
        for (index, frame) in ours.enumerated() where index < theirs.count && theirs[index]["bgp"] != nil {
            if let issue = frame.packet.issue, issue.kind == .unsupported, frame.packet.tcp == nil {
                report.documented[
                    "BGP over a link type the core does not decode (\(frame.linkType)): reported unsupported",
                    default: 0] += 1
                theirs[index]["bgp"] = nil
            }
        }
        let tsharkMessages = Self.theirBGP(theirs)
        let ourMessages = Self.ourBGP(ours)
        guard !tsharkMessages.isEmpty || !ourMessages.isEmpty else { return }
        for sender in Set(tsharkMessages.keys).union(ourMessages.keys).sorted() {
            var onlyOurs = ourMessages[sender] ?? []
            var onlyTheirs = tsharkMessages[sender] ?? []
            // Remove the messages both decoded identically (a multiset difference).
            var counts: [BGPMessageFacts: Int] = [:]
            for facts in onlyTheirs { counts[facts.compared, default: 0] += 1 }
            onlyOurs.removeAll { facts in
                guard let count = counts[facts.compared], count > 0 else { return false }
                counts[facts.compared] = count - 1
                return true
            }
            report.agreed += (ourMessages[sender]?.count ?? 0) - onlyOurs.count
            var remaining: [BGPMessageFacts: Int] = counts.filter { $0.value > 0 }
            onlyTheirs.removeAll { facts in
                guard let count = remaining[facts.compared], count > 0 else { return true }
                remaining[facts.compared] = count - 1
                return false
            }
            // Explain what is left by the documented tshark errors, pairing one of ours with one of theirs.
            var unexplainedOurs: [BGPMessageFacts] = []
            for facts in onlyOurs {
                if let index = onlyTheirs.firstIndex(where: { theirs in
                    Self.knownTsharkErrors.contains { $0.explains(facts, theirs) }
                }) {
                    let reason = Self.knownTsharkErrors.first { $0.explains(facts, onlyTheirs[index]) }?.reason ?? ""
                    report.documented[reason, default: 0] += 1
                    onlyTheirs.remove(at: index)
                } else if let error = Self.knownTsharkErrors.first(where: { $0.explains(facts, BGPMessageFacts()) }) {
                    report.documented[error.reason, default: 0] += 1
                } else {
                    unexplainedOurs.append(facts)
                }
            }
            for facts in unexplainedOurs { report.mismatch("BGP from \(sender): only ours \(facts)") }
            for facts in onlyTheirs { report.mismatch("BGP from \(sender): only tshark's \(facts)") }
        }
    }
}
