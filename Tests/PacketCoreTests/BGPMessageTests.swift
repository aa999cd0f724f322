import Testing
@testable import PacketCore

/// BGP messages built field by field (RFC 4271, 4760, 5492, 6793, 7911, 8203, 8538, 7313, 9072): every
/// field decodes to what was encoded, and every prefix of every message is handled without a crash.
@Suite("BGP messages")
struct BGPMessageTests {
    typealias B = BGPBuild

    static func decodeBody<T>(_ bytes: [UInt8], _ body: (inout Cursor) throws(ParseError) -> T) throws -> T {
        try withCursor(over: bytes) { (cursor: inout Cursor) throws(ParseError) -> T in
            _ = try BGPMessageHeader(parsing: &cursor)
            return try body(&cursor)
        }
    }

    static let frrOpen = B.open(as: 4_200_000_001, hold: 9, capabilities: [
        B.capability(1, [0, 1, 0, 1]), B.capability(1, [0, 2, 0, 1]), B.capability(2, []),
        B.capability(65, B.be32(4_200_000_001)), B.capability(69, [0, 1, 1, 3, 0, 2, 1, 1]),
        B.capability(64, [0x40, 0x78, 0, 1, 1, 0x80]), B.capability(6, []),
        B.capability(73, [5] + Array("node1".utf8) + [0]), B.capability(9, [3]),
        B.capability(71, [0, 1, 1, 0, 0, 0x0E, 0x10]), B.capability(5, [0, 1, 0, 1, 0, 2]),
        B.capability(200, [1, 2, 3]),
    ])

    @Test func openWithCapabilities() throws {
        let open = try Self.decodeBody(Self.frrOpen) { (cursor: inout Cursor) throws(ParseError) in try BGPOpen(parsing: &cursor) }
        #expect(open.version == 4)
        #expect(open.myAS == 23456)  // AS_TRANS, RFC 6793 section 4.2.2
        #expect(open.autonomousSystem == 4_200_000_001)
        #expect(open.holdTime == 9)
        #expect(open.identifier == IPv4Address(203, 0, 113, 1))
        #expect(open.multiprotocolFamilies == [.ipv4Unicast, .ipv6Unicast])
        #expect(open.supportsFourOctetAS && open.supportsExtendedMessage)
        #expect(open.addPathModes() == [.ipv4Unicast: 3, .ipv6Unicast: 1])
        let restart = try #require(open.gracefulRestart)
        #expect(restart.notificationSupport && !restart.restarting && restart.restartTime == 120)
        #expect(restart.families == [.init(family: .ipv4Unicast, forwardingPreserved: true)])
        #expect(open.capabilities.contains { $0.value == .fqdn(hostName: "node1", domainName: "") })
        #expect(open.capabilities.contains { $0.value == .role(3) })
        #expect(open.capabilities.contains { if case .longLivedGracefulRestart(let e) = $0.value { e.first?.staleTime == 3600 } else { false } })
        #expect(open.capabilities.contains { if case .extendedNextHop(let e) = $0.value { e.first?.nextHopAFI == .ipv6 } else { false } })
        let unknown = try #require(open.capabilities.last)
        #expect(unknown.code.rawValue == 200 && unknown.value == .raw && unknown.range.count == 3)
    }

    @Test func openWithExtendedParameterLength() throws {
        // RFC 9072 section 2: Opt Parm Len 255, Non-Ext OP Type 255, 2-byte Extended Opt. Parm. Length, and
        // 2-byte parameter lengths.
        let caps = B.capability(65, B.be32(65_001)) + B.capability(2, [])
        let parameters: [UInt8] = [2] + B.be16(caps.count) + caps
        let body: [UInt8] = [4] + B.be16(65_001) + B.be16(90) + B.be32(1) + [255, 255] + B.be16(parameters.count) + parameters
        let open = try Self.decodeBody(B.message(type: 1, body)) { (cursor: inout Cursor) throws(ParseError) in
            try BGPOpen(parsing: &cursor)
        }
        #expect(open.extendedParameterLength)
        #expect(open.autonomousSystem == 65_001)
        #expect(open.capabilities.map(\.code) == [.fourOctetAS, .routeRefresh])
    }

    static let richUpdate = B.update(
        withdrawn: B.prefix("198.51.100.12/32") + B.prefix("10.0.0.0/8"),
        attributes: B.attribute(1, [2]) + B.attribute(2, [1, 2] + B.be32(65001) + B.be32(65002) + B.asPath([64512, 4_200_000_001]))
            + B.attribute(3, B.be32(0xCB00_7102)) + B.attribute(4, flags: 0x80, B.be32(10)) + B.attribute(5, B.be32(200))
            + B.attribute(6, []) + B.attribute(7, flags: 0xC0, B.be32(64512) + B.be32(0xCB00_7102))
            + B.attribute(8, flags: 0xC0, B.be32(0xFDE8_1068) + B.be32(0xFFFF_FF01) + B.be32(0xFFFF_0000))
            + B.attribute(9, flags: 0x80, B.be32(0x0A00_0001)) + B.attribute(10, flags: 0x80, B.be32(1) + B.be32(2))
            + B.attribute(16, flags: 0xC0, [0, 2] + B.be16(64512) + B.be32(100) + [0x40, 4] + B.be16(64512) + B.be32(0x4CEE_6B28))
            + B.attribute(26, flags: 0x80, [1, 0, 11, 0, 0, 0, 0, 0, 0, 0, 7])
            + B.attribute(32, flags: 0xC0, B.be32(4_200_000_001) + B.be32(100) + B.be32(1))
            + B.attribute(35, flags: 0xC0, B.be32(64512)) + B.attribute(99, flags: 0xC0, [1, 2]),
        nlri: B.prefix("198.51.100.10/32") + B.prefix("198.51.100.0/25") + B.prefix("0.0.0.0/0"))

    @Test func updateAttributesAndPrefixes() throws {
        try withCursor(over: Self.richUpdate) { (cursor: inout Cursor) throws(ParseError) in
            let message = cursor
            _ = try BGPMessageHeader(parsing: &cursor)
            let update = try BGPUpdate(parsing: &cursor)
            #expect(update.endOfRIB(in: message) == nil)
            var withdrawn = BGPNLRIIterator(try message.window(update.withdrawn), family: .ipv4Unicast, addPath: false)
            #expect(try withdrawn.next()?.prefix.description == "198.51.100.12/32")
            #expect(try withdrawn.next()?.prefix.description == "10.0.0.0/8")
            #expect(try withdrawn.next() == nil)
            var nlri = BGPNLRIIterator(try message.window(update.nlri), family: .ipv4Unicast, addPath: false)
            var announced: [String] = []
            while let entry = try nlri.next() { announced.append(entry.prefix.description) }
            #expect(announced == ["198.51.100.10/32", "198.51.100.0/25", "0.0.0.0/0"])
            let attributes = BGPAttributes(parsing: try message.window(update.attributes), asSize: 4)
            #expect(attributes.problems.isEmpty)
            #expect(attributes.origin == .incomplete)
            #expect(attributes.asPath?.description == "{65001,65002} 64512 4200000001")
            #expect(attributes.asPath?.length == 3)
            #expect(attributes.asPath?.originAS == 4_200_000_001)
            #expect(attributes.nextHop == IPv4Address(203, 0, 113, 2))
            #expect(attributes.multiExitDisc == 10 && attributes.localPref == 200 && attributes.atomicAggregate)
            #expect(attributes.aggregator == BGPAggregator(autonomousSystem: 64512, address: IPv4Address(203, 0, 113, 2)))
            #expect(attributes.communities.map(\.description) == ["65000:4200", "no-export", "graceful-shutdown"])
            #expect(attributes.originatorID == IPv4Address(10, 0, 0, 1))
            #expect(attributes.clusterList == [IPv4Address(rawValue: 1), IPv4Address(rawValue: 2)])
            #expect(attributes.extendedCommunities.map(\.description) == ["rt 64512:100", "link-bandwidth 64512:1.25e+08"])
            #expect(attributes.aigp == 7)
            #expect(attributes.largeCommunities.map(\.description) == ["4200000001:100:1"])
            #expect(attributes.onlyToCustomer == 64512)
            #expect(attributes.all.last?.type.rawValue == 99 && attributes.all.last?.flags == [.optional, .transitive])
        }
    }

    @Test func twoByteSessionMergesAS4Path() throws {
        // RFC 6793 section 4.2.3: a 2-byte speaker's AS_PATH holds AS_TRANS; AS4_PATH has the real numbers.
        let attributes = B.attribute(1, [0]) + B.attribute(2, B.asPath([64512, 23456], size: 2))
            + B.attribute(3, B.be32(1)) + B.attribute(17, flags: 0xC0, B.asPath([4_200_000_001]))
            + B.attribute(7, flags: 0xC0, B.be16(23456) + B.be32(5)) + B.attribute(18, flags: 0xC0, B.be32(4_200_000_001) + B.be32(5))
        try withCursor(over: attributes) { (cursor: inout Cursor) throws(ParseError) in
            let decoded = BGPAttributes(parsing: cursor, asSize: 2)
            #expect(decoded.asPath?.description == "64512 23456")
            #expect(decoded.effectiveASPath?.description == "64512 4200000001")
            #expect(decoded.effectiveAggregator?.autonomousSystem == 4_200_000_001)
            // Without the OPENs the AS size is guessed, and says so.
            let guessed = BGPAttributes(parsing: cursor, asSize: nil)
            #expect(guessed.asSizeGuessed && guessed.asSize == 2)
        }
    }

    @Test func malformedAttributesFollowRFC7606() throws {
        // COMMUNITIES of 5 bytes: treat-as-withdraw; ATOMIC_AGGREGATE with a value: attribute discard;
        // a repeated MED: discard the copy; an MP_REACH_NLRI cut short: session reset.
        let attributes = B.attribute(1, [0]) + B.attribute(8, flags: 0xC0, [1, 2, 3, 4, 5]) + B.attribute(6, [1])
            + B.attribute(4, flags: 0x80, B.be32(1)) + B.attribute(4, flags: 0x80, B.be32(2)) + B.attribute(14, flags: 0x80, [0, 2])
        try withCursor(over: attributes) { (cursor: inout Cursor) throws(ParseError) in
            let decoded = BGPAttributes(parsing: cursor, asSize: 4)
            #expect(decoded.problems.map(\.outcome) == [.treatAsWithdraw, .attributeDiscard, .attributeDiscard, .sessionReset])
            #expect(decoded.problems.map(\.type) == [.communities, .atomicAggregate, .multiExitDisc, .mpReachNLRI])
            #expect(decoded.multiExitDisc == 1)
            #expect(decoded.worstOutcome == .sessionReset)
        }
        // An attribute whose length overruns the field: the rest cannot be trusted.
        try withCursor(over: B.attribute(1, [0]) + [0x40, 2, 200, 2]) { (cursor: inout Cursor) throws(ParseError) in
            let decoded = BGPAttributes(parsing: cursor, asSize: 4)
            #expect(decoded.origin == .igp)
            #expect(decoded.problems.first?.type == nil && decoded.worstOutcome == .treatAsWithdraw)
            #expect(decoded.problems.first?.offset == 4)
        }
    }

    @Test func multiprotocolIPv6WithLinkLocalAndAddPath() throws {
        let nextHop = BGPBuild.prefix("fd99:4::1/128").dropFirst() + BGPBuild.prefix("fe80::1/128").dropFirst()
        let reach: [UInt8] = [0, 2, 1, 32] + nextHop + [0] + B.prefix("2001:db8:51::100/128", pathID: 7)
        let unreach: [UInt8] = [0, 2, 1] + B.prefix("2001:db8:51::/48", pathID: 9)
        let message = B.update(attributes: B.attribute(1, [0]) + B.attribute(2, B.asPath([1]))
            + B.attribute(14, flags: 0x80, reach) + B.attribute(15, flags: 0x80, unreach))
        try withCursor(over: message) { (cursor: inout Cursor) throws in
            let whole = cursor
            _ = try BGPMessageHeader(parsing: &cursor)
            let update = try BGPUpdate(parsing: &cursor)
            let attributes = BGPAttributes(parsing: try whole.window(update.attributes), asSize: 4)
            let mpReach = try #require(attributes.mpReach)
            #expect(mpReach.family == .ipv6Unicast)
            #expect(mpReach.nextHop.description == "fd99:4::1 fe80::1")
            var iterator = BGPNLRIIterator(try whole.window(mpReach.nlri), family: .ipv6Unicast, addPath: true)
            let entry = try #require(try iterator.next())
            #expect(entry.pathID == 7 && entry.prefix.description == "2001:db8:51::100/128")
            let mpUnreach = try #require(attributes.mpUnreach)
            var withdrawn = BGPNLRIIterator(try whole.window(mpUnreach.withdrawn), family: .ipv6Unicast, addPath: true)
            #expect(try withdrawn.next() == BGPNLRI(pathID: 9, prefix: BGPPrefix(IPPrefix("2001:db8:51::/48")!)))
            // The ADD-PATH heuristic: these bytes only parse with path identifiers.
            #expect(!BGPNLRIIterator.parsesCleanly(try whole.window(mpReach.nlri), family: .ipv6Unicast, addPath: false))
            #expect(BGPNLRIIterator.parsesCleanly(try whole.window(mpReach.nlri), family: .ipv6Unicast, addPath: true))
        }
    }

    @Test func endOfRIBForEveryFamily() throws {
        let families: [BGPAddressFamily] = [.ipv4Unicast, .ipv6Unicast, .ipv4Multicast, BGPAddressFamily(afi: 25, safi: 70),
            BGPAddressFamily(afi: 1, safi: 128)]
        for family in families {
            let message = family == .ipv4Unicast ? B.update()
                : B.update(attributes: B.attribute(15, flags: 0x80, B.be16(Int(family.afi.rawValue)) + [family.safi.rawValue]))
            try withCursor(over: message) { (cursor: inout Cursor) throws(ParseError) in
                let whole = cursor
                _ = try BGPMessageHeader(parsing: &cursor)
                #expect(try BGPUpdate(parsing: &cursor).endOfRIB(in: whole) == family)
            }
        }
    }

    @Test func notificationShutdownAndHardReset() throws {
        let text = Array("maintenance: node drained".utf8)
        let shutdown = try Self.decodeBody(B.notification(code: 6, subcode: 2, data: [UInt8(text.count)] + text)) {
            (cursor: inout Cursor) throws(ParseError) in try BGPNotification(parsing: &cursor)
        }
        #expect(shutdown.shutdownCommunication == "maintenance: node drained")
        #expect(shutdown.description == "Cease/Administrative Shutdown (6/2) \"maintenance: node drained\"")
        // RFC 9003: up to 255 bytes.
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 255)
        let reset = try Self.decodeBody(B.notification(code: 6, subcode: 4, data: [255] + long)) {
            (cursor: inout Cursor) throws(ParseError) in try BGPNotification(parsing: &cursor)
        }
        #expect(reset.shutdownCommunication?.count == 255)
        let hard = try Self.decodeBody(B.notification(code: 6, subcode: 9, data: [4, 0])) {
            (cursor: inout Cursor) throws(ParseError) in try BGPNotification(parsing: &cursor)
        }
        #expect(hard.isHardReset && hard.hardResetCause?.code == 4)
        #expect(hard.description.contains("wrapping Hold Timer Expired (4/0)"))
        let bad = try Self.decodeBody(B.notification(code: 6, subcode: 2, data: [40, 65])) {
            (cursor: inout Cursor) throws(ParseError) in try BGPNotification(parsing: &cursor)
        }
        #expect(bad.shutdownCommunication == nil && bad.dataProblem != nil)
    }

    @Test func routeRefreshSubtypes() throws {
        for (subtype, name) in [(0, "request"), (1, "begin"), (2, "end")] {
            let refresh = try Self.decodeBody(B.message(type: 5, [0, 2, UInt8(subtype), 1])) {
                (cursor: inout Cursor) throws(ParseError) in try BGPRouteRefresh(parsing: &cursor)
            }
            #expect(refresh.family == .ipv6Unicast && refresh.subtypeName == name)
        }
    }

    @Test func headerRejectsBadMarkerAndLength() throws {
        var bad = B.keepalive
        bad[3] = 0
        #expect(throws: ParseError.self) { try withCursor(over: bad) { (c: inout Cursor) throws(ParseError) in _ = try BGPMessageHeader(parsing: &c) } }
        var short = B.keepalive
        short[17] = 18
        #expect(throws: ParseError.self) { try withCursor(over: short) { (c: inout Cursor) throws(ParseError) in _ = try BGPMessageHeader(parsing: &c) } }
    }

    // MARK: Truncation sweep

    static let messages: [(String, [UInt8])] = [
        ("open", frrOpen), ("update", richUpdate), ("keepalive", B.keepalive),
        ("notification", B.notification(code: 6, subcode: 2, data: [3] + Array("bye".utf8))),
        ("route-refresh", B.message(type: 5, [0, 1, 1, 1])),
    ]

    /// Decode a message fully (header, body, attributes, every NLRI); returns whether it decoded cleanly.
    static func decodeEverything(_ bytes: [UInt8]) -> ParseError? {
        do throws(ParseError) {
            try withCursor(over: bytes) { (cursor: inout Cursor) throws(ParseError) in
                let whole = cursor
                let header = try BGPMessageHeader(parsing: &cursor)
                switch header.type {
                case .open: _ = try BGPOpen(parsing: &cursor)
                case .notification: _ = try BGPNotification(parsing: &cursor)
                case .routeRefresh: _ = try BGPRouteRefresh(parsing: &cursor)
                case .update:
                    let update = try BGPUpdate(parsing: &cursor)
                    _ = BGPAttributes(parsing: try whole.window(update.attributes), asSize: 4)
                    var nlri = BGPNLRIIterator(try whole.window(update.nlri), family: .ipv4Unicast, addPath: false)
                    while try nlri.next() != nil {}
                default: break
                }
            }
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: messages.indices)
    func everyPrefixIsHandled(index: Int) {
        let (name, bytes) = Self.messages[index]
        #expect(Self.decodeEverything(bytes) == nil, "\(name) decodes in full")
        for length in 0..<bytes.count {
            // Cut message: the header's length now exceeds the bytes, so decoding must report truncation.
            let error = Self.decodeEverything(Array(bytes.prefix(length)))
            #expect(error?.kind == .truncated, "\(name)[..<\(length)]")
            #expect((error?.offset ?? 0) <= length)
            // Cut body with a consistent length field: decoding must fail or succeed, never trap.
            if length >= 19 {
                var consistent = Array(bytes.prefix(length))
                consistent[16] = UInt8(length >> 8)
                consistent[17] = UInt8(length & 0xFF)
                _ = Self.decodeEverything(consistent)
            }
        }
    }
}
