import BGPDecodeKit
import Glibc
import PacketCore
import TestSupport
import Testing

/// Session state on hand-built messages: graceful restart (RFC 4724, RFC 8538), End-of-RIB, flaps,
/// ADD-PATH from the OPENs (RFC 7911), and the heuristic label.
@Suite("Sessions and RIB")
struct SessionTests {
    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func message(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [UInt8](repeating: 0xFF, count: 16) + be16(19 + body.count) + [type] + body
    }
    /// OPEN with 4-octet AS, graceful restart (N bit optional) for IPv4 unicast, ADD-PATH mode optional.
    static func open(asn: UInt8, gracefulRestart: Bool, notificationBit: Bool = false, addPath: UInt8? = nil) -> [UInt8] {
        var caps: [UInt8] = [1, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xFD, asn]
        if gracefulRestart { caps += [64, 6, notificationBit ? 0x40 : 0, 120, 0, 1, 1, 0x80] }
        if let addPath { caps += [69, 4, 0, 1, 1, addPath] }
        return message(1, [4, 0xFD, asn, 0, 90, 203, 0, 113, asn] + [UInt8(caps.count + 2), 2, UInt8(caps.count)] + caps)
    }
    static func announce(_ last: UInt8, pathID: UInt32? = nil) -> [UInt8] {
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 1, 0x40, 3, 4, 203, 0, 113, 1]
        let id: [UInt8] = pathID.map { [0, 0, 0, UInt8($0)] } ?? []
        return message(2, [0, 0] + be16(attributes.count) + attributes + id + [32, 198, 51, 100, last])
    }
    static let endOfRIB = message(2, [0, 0, 0, 0])
    static let speaker = BGPSessionKey(speaker: .v4(IPv4Address(203, 0, 113, 1)), peer: .v4(IPv4Address(203, 0, 113, 2)))

    /// Feed messages through an analyzer with the context the two OPENs negotiate.
    final class Harness {
        var events: [BGPEvent] = []
        lazy var analyzer = BGPAnalyzer { [unowned self] in self.events.append($0) }
        var opens: [BGPSessionKey: BGPOpen] = [:]
        var time = 0

        func send(_ bytes: [UInt8], from key: BGPSessionKey) {
            time += 1
            let context = BGPMessageContext.negotiated(sender: opens[key], receiver: opens[key.reversed])
            bytes.withUnsafeBytes { raw in
                if let open = analyzer.handleMessage(Cursor(raw), session: key, context: context,
                    timestamp: Timestamp(seconds: Int64(time), nanoseconds: 0)) { opens[key] = open }
            }
        }
    }

    @Test func gracefulRestartKeepsStaleRoutesUntilEndOfRIB() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: true), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: true), from: Self.speaker.reversed)
        harness.send(Self.announce(10), from: Self.speaker)
        harness.send(Self.announce(11), from: Self.speaker)
        harness.analyzer.endSession(Self.speaker, reason: "TCP RST", timestamp: Timestamp(seconds: 10, nanoseconds: 0))
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.count == 2 && session.staleCount == 2 && !session.isUp)
        // Reconnect: .10 is re-announced (fresh again), .11 is not; End-of-RIB flushes .11.
        harness.send(Self.open(asn: 1, gracefulRestart: true), from: Self.speaker)
        harness.send(Self.announce(10), from: Self.speaker)
        #expect(session.staleCount == 1)
        harness.send(Self.endOfRIB, from: Self.speaker)
        #expect(session.routes.keys.map(\.prefix.description) == ["198.51.100.10/32"])
        #expect(session.staleCount == 0 && session.isUp)
        #expect(harness.events.contains { if case .endOfRIB(_, _, let flushed) = $0 { flushed == 1 } else { false } })
        #expect(session.flaps.isEmpty, "a stale route flushed counts as gone, not as a flap of the announcement")
    }

    @Test func withoutGracefulRestartRoutesAreWithdrawnAtSessionEnd() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: true), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: false), from: Self.speaker.reversed)
        harness.send(Self.announce(10), from: Self.speaker)
        harness.analyzer.endSession(Self.speaker, reason: "TCP FIN", timestamp: Timestamp(seconds: 10, nanoseconds: 0))
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.isEmpty)
        // One session end, not a flap per route: the last table stays readable, marked with the end.
        #expect(session.flaps.isEmpty)
        #expect(session.withdrawals == 0)
        #expect(session.endedRoutes.keys.map(\.prefix.description) == ["198.51.100.10/32"])
        #expect(session.endedAt == Timestamp(seconds: 10, nanoseconds: 0))
        #expect(BGPRender.sessionHeader(session).contains(
            "0 routes, down (TCP FIN) at 1970-01-01T00:00:10.000000000Z, 1 withdrawn at session end"))
        let table = BGPRender.tableText(harness.analyzer).split(separator: "\n")
        #expect(table.filter { $0.hasPrefix("  ipv4-unicast 198.51.100.10/32 via 203.0.113.1 ")
            && $0.hasSuffix(" withdrawn at session end 1970-01-01T00:00:10.000000000Z") }.count == 1, "\(table)")
        // A flap is a withdrawal and a new announcement: the same route withdrawn, announced, withdrawn and
        // announced again after the speaker reconnects counts per TCP session.
        let flapping = Harness()
        flapping.send(Self.open(asn: 1, gracefulRestart: false), from: Self.speaker)
        flapping.send(Self.open(asn: 2, gracefulRestart: false), from: Self.speaker.reversed)
        flapping.send(Self.announce(10), from: Self.speaker)
        flapping.send(Self.message(2, [0, 5, 32, 198, 51, 100, 10, 0, 0]), from: Self.speaker)
        let one = try #require(flapping.analyzer.sessions[Self.speaker])
        #expect(one.flaps.isEmpty, "withdrawn, not announced again: no flap")
        flapping.send(Self.announce(10), from: Self.speaker)
        #expect(one.flaps.values.reduce(0, +) == 1)
        flapping.analyzer.endSession(Self.speaker, reason: "TCP RST", timestamp: Timestamp(seconds: 20, nanoseconds: 0))
        #expect(one.flaps.values.reduce(0, +) == 1 && one.announcements == 2 && one.withdrawals == 1)
        flapping.send(Self.open(asn: 1, gracefulRestart: false), from: Self.speaker)
        #expect(one.isUp && one.earlierSessions == 1 && one.flaps.isEmpty && one.announcements == 0
            && one.withdrawals == 0 && one.messages == 1 && one.endedAt == nil)
    }

    @Test(arguments: [(UInt8(2), true), (UInt8(9), false)])
    func notificationWithTheNBit(subcode: UInt8, keepsRoutes: Bool) throws {
        // RFC 8538: with N set on both sides, a NOTIFICATION keeps routes (stale), except Hard Reset (6/9).
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: true, notificationBit: true), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: true, notificationBit: true), from: Self.speaker.reversed)
        harness.send(Self.announce(10), from: Self.speaker)
        harness.send(Self.message(3, [6, subcode, 4, 0]), from: Self.speaker.reversed)
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(!session.isUp)
        #expect(session.routes.count == (keepsRoutes ? 1 : 0))
    }

    @Test func addPathFromTheOpensKeepsPathsApart() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: false, addPath: 2), from: Self.speaker)  // can send
        harness.send(Self.open(asn: 2, gracefulRestart: false, addPath: 1), from: Self.speaker.reversed)  // can receive
        harness.send(Self.announce(10, pathID: 1), from: Self.speaker)
        harness.send(Self.announce(10, pathID: 2), from: Self.speaker)
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.keys.map(\.pathID).sorted() == [1, 2])
        #expect(Set(session.routes.keys.map(\.prefix.description)) == ["198.51.100.10/32"])
        #expect(session.contextSource == .heuristic || session.contextSource == .open)
    }

    /// The flaps line names the 50 prefixes that flapped most, most first and then in prefix order, and
    /// counts the rest: checked against a full sort of the session's flap counts.
    @Test func flapsLineShowsTheMostFlapped() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: false), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: false), from: Self.speaker.reversed)
        // 120 prefixes, prefix N flapping (N * 7) % 5 + 1 times: many ties at each count.
        for last in UInt8(0)..<120 {
            for _ in 0..<(Int(last) * 7 % 5 + 1) {
                harness.send(Self.announce(last), from: Self.speaker)
                harness.send(Self.message(2, [0, 5, 32, 198, 51, 100, last, 0, 0]), from: Self.speaker)
            }
        }
        // Each withdrawal was followed by an announcement: every one is a flap.
        for last in UInt8(0)..<120 { harness.send(Self.announce(last), from: Self.speaker) }
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.flaps.count == 120)
        #expect(session.flaps[BGPRouteKey(family: .ipv4Unicast, prefix: BGPPrefix(IPv4Address(198, 51, 100, 2), length: 32))]
            == 2 * 7 % 5 + 1)
        let expected = session.flaps.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(50)
            .map { " \($0.key)=\($0.value)" }.joined()
        #expect(BGPRender.flapsText(harness.analyzer) == "flaps \(Self.speaker):\(expected) (+70 more)\n")
    }

    @Test func repeatedAnnouncementsAndFlaps() throws {
        let harness = Harness()
        harness.send(Self.open(asn: 1, gracefulRestart: false), from: Self.speaker)
        harness.send(Self.open(asn: 2, gracefulRestart: false), from: Self.speaker.reversed)
        for _ in 0..<3 {
            harness.send(Self.announce(10), from: Self.speaker)
            harness.send(Self.message(2, [0, 5, 32, 198, 51, 100, 10, 0, 0]), from: Self.speaker)
        }
        harness.send(Self.announce(10), from: Self.speaker)
        let session = try #require(harness.analyzer.sessions[Self.speaker])
        #expect(session.routes.count == 1)
        #expect(session.flaps.values.first == 3)
        #expect(BGPRender.tableText(harness.analyzer).contains("198.51.100.10/32=3"))
    }
}

extension SessionTests {
    /// Without events (`--table`), an UPDATE whose attribute bytes repeat the last plain UPDATE's is applied
    /// by `BGPSessionHotState.receive` without being split or decoded. It must leave the same table,
    /// counters and decode errors as the event path, through replacements, a cut NLRI, withdrawals and a
    /// change of attributes.
    @Test func repeatedAttributeFastPathMatchesTheEventPath() {
        let attributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 1, 0x40, 3, 4, 203, 0, 113, 1]
        let otherAttributes: [UInt8] = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 1, 0x40, 3, 4, 203, 0, 113, 9]
        func update(_ attributes: [UInt8], _ nlri: [UInt8], withdrawn: [UInt8] = []) -> [UInt8] {
            Self.message(2, Self.be16(withdrawn.count) + withdrawn + Self.be16(attributes.count) + attributes + nlri)
        }
        var messages: [(BGPSessionKey, [UInt8])] = [
            (Self.speaker, Self.open(asn: 1, gracefulRestart: false)),
            (Self.speaker.reversed, Self.open(asn: 2, gracefulRestart: false)),
        ]
        for last in 0..<40 { messages.append((Self.speaker, Self.announce(UInt8(last)))) }
        messages.append((Self.speaker, Self.announce(3)))  // a replacement
        messages.append((Self.speaker, update(attributes, [32, 198, 51, 100, 200, 24, 198, 51])))  // cut
        messages.append((Self.speaker, update([], [], withdrawn: [32, 198, 51, 100, 5])))
        messages.append((Self.speaker, update(attributes, [32, 198, 51, 100, 5])))  // after a withdrawal
        messages.append((Self.speaker, update(otherAttributes, [32, 198, 51, 100, 6])))
        messages.append((Self.speaker, update(otherAttributes, [32, 198, 51, 100, 7, 32, 198, 51, 100, 250])))
        messages.append((Self.speaker, Self.announce(7)))  // back to the first attributes
        messages.append((Self.speaker, Self.endOfRIB))

        func run(events: Bool) -> (table: String, decodeErrors: Int, announcements: Int) {
            let analyzer = events ? BGPAnalyzer { _ in } : BGPAnalyzer()
            var opens: [BGPSessionKey: BGPOpen] = [:]
            for (index, (key, bytes)) in messages.enumerated() {
                let context = BGPMessageContext.negotiated(sender: opens[key], receiver: opens[key.reversed])
                bytes.withUnsafeBytes { raw in
                    if let open = analyzer.handleMessage(Cursor(raw), session: key, context: context,
                        timestamp: Timestamp(seconds: Int64(index), nanoseconds: 0)) { opens[key] = open }
                }
            }
            let session = analyzer.sessions[Self.speaker]
            return (BGPRender.tableText(analyzer), session?.decodeErrors ?? -1, session?.announcements ?? -1)
        }
        let quiet = run(events: false)
        let loud = run(events: true)
        #expect(quiet.table == loud.table)
        #expect(quiet.decodeErrors == 1 && loud.decodeErrors == 1, "the cut NLRI")
        // Every NLRI that parsed: 40 + 1 + 1 (before the cut) + 1 + 1 + 2 + 1.
        #expect(quiet.announcements == 47 && loud.announcements == 47)
        #expect(quiet.table.contains("198.51.100.200/32") && !quiet.table.contains("198.51.101.0/24"))
    }
}

/// `BGPRouteTable` (sorted mode, hashed mode, the switch between them, backward-shift deletion, the side
/// dictionary for route distinguishers) against a plain Dictionary doing the same operations.
@Suite("BGP route table")
struct BGPRouteTableTests {
    static let vpn = BGPAddressFamily(afi: .ipv4, safi: .vpnUnicast)

    /// A pool of keys: IPv4 /32s and shorter prefixes, IPv6 (including /0 and /128 of one address), path
    /// identifiers, and VPN keys with route distinguishers.
    static func keyPool(_ generator: inout SplitMix64) -> [BGPRouteKey] {
        var keys: [BGPRouteKey] = []
        for index in 0..<1500 {
            keys.append(BGPRouteKey(family: .ipv4Unicast, prefix: BGPPrefix(IPv4Address(rawValue: 0x6440_0000 + UInt32(index)), length: 32)))
        }
        for _ in 0..<600 {
            let address = IPv4Address(rawValue: UInt32.random(in: 0...0xFFFF, using: &generator) << 16)
            keys.append(BGPRouteKey(family: .ipv4Unicast, pathID: UInt32.random(in: 0...2, using: &generator),
                prefix: BGPPrefix(address, length: UInt8.random(in: 8...24, using: &generator))))
        }
        for _ in 0..<600 {
            let address = IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64.random(in: 0...0xFFFF, using: &generator),
                low: UInt64.random(in: 0...3, using: &generator))
            keys.append(BGPRouteKey(family: .ipv6Unicast, prefix: BGPPrefix(address, length: [0, 48, 64, 128].randomElement(using: &generator) ?? 64)))
        }
        for index in 0..<100 {
            keys.append(BGPRouteKey(family: vpn, prefix: BGPPrefix(IPv4Address(198, 51, 100, UInt8(index)), length: 32),
                routeDistinguisher: UInt64(index % 3) << 32 | 64512))
        }
        return Array(Set(keys))
    }

    static func check(_ table: BGPRouteTable, _ model: [BGPRouteKey: BGPRoute], _ step: Int) {
        #expect(table.count == model.count, "step \(step)")
        var seen: [BGPRouteKey: BGPRoute] = [:]
        for (key, route) in table { seen[key] = route }
        #expect(seen == model, "iteration, step \(step)")
        var ordered: [BGPRouteKey] = []
        table.forEachSorted { key, route in
            ordered.append(key)
            #expect(model[key] == route)
        }
        #expect(ordered == model.keys.sorted(), "order, step \(step)")
        #expect(table.staleCount == model.values.filter(\.stale).count)
        let families = Dictionary(grouping: model.keys, by: \.family).mapValues(\.count).sorted { $0.key < $1.key }
        #expect(table.familyCounts.map(\.family) == families.map(\.key))
        #expect(table.familyCounts.map(\.count) == families.map(\.value))
    }

    @Test(arguments: [1, 2, 3])
    func behavesLikeADictionary(seed: UInt64) {
        var generator = SplitMix64(state: seed)
        let pool = Self.keyPool(&generator)
        var table = BGPRouteTable()
        var model: [BGPRouteKey: BGPRoute] = [:]
        // In order first (sorted mode, appends), with re-announcements of the last and of earlier keys.
        for (index, key) in pool.sorted().prefix(800).enumerated() {
            let route = BGPRoute(pathID: Int32(index % 5), since: Timestamp(seconds: Int64(index), nanoseconds: 7), stale: false)
            #expect(table.updateValue(route, forKey: key) == model.updateValue(route, forKey: key))
            if index % 97 == 0 {
                let again = BGPRoute(pathID: 9, since: .zero, stale: false)
                #expect(table.updateValue(again, forKey: key) == model.updateValue(again, forKey: key))
            }
        }
        Self.check(table, model, 0)
        // Then anything, in any order.
        for step in 1...6000 {
            let key = pool.randomElement(using: &generator) ?? pool[0]
            switch UInt8.random(in: 0..<20, using: &generator) {
            case 0..<9:
                let route = BGPRoute(pathID: Int32.random(in: 0..<8, using: &generator),
                    since: Timestamp(seconds: Int64(step), nanoseconds: Int32(step % 1000)), stale: false)
                #expect(table.updateValue(route, forKey: key) == model.updateValue(route, forKey: key))
            case 9..<16:
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 16..<18:
                #expect(table[key] == model[key])
            case 18:
                table.sortForOutput()
            default:
                let family = [BGPAddressFamily.ipv4Unicast, .ipv6Unicast, Self.vpn].randomElement(using: &generator)
                let count = table.markStale { $0 == family }
                var modelCount = 0
                for (routeKey, route) in model where routeKey.family == family {
                    model[routeKey] = BGPRoute(pathID: route.pathID, since: route.since, stale: true)
                    modelCount += 1
                }
                #expect(count == modelCount)
            }
            if step % 500 == 0 { Self.check(table, model, step) }
        }
        // Withdraw everything in random order: the hashed mode's deletion path, down to empty.
        for key in model.keys.shuffled(using: &generator) { #expect(table.removeValue(forKey: key) != nil) }
        #expect(table.isEmpty)
    }

    /// Batch mode (queued changes applied by one sort and merge) ends in the same routes and flap counts as
    /// the same changes applied one by one, whatever the order, the repeats, the applies in between, and
    /// the immediate changes (which apply what is queued first) mixed in.
    @Test(arguments: [4, 5, 6])
    func batchModeMatchesImmediateChanges(seed: UInt64) {
        var generator = SplitMix64(state: seed)
        let pool = Self.keyPool(&generator)
        var batch = BGPRouteTable()
        var model: [BGPRouteKey: BGPRoute] = [:]
        var flaps: [BGPRouteKey: Int] = [:]
        // A short in-order start (appended directly), then anything.
        for (index, key) in pool.sorted().prefix(300).enumerated() {
            let route = BGPRoute(pathID: Int32(index % 4), since: Timestamp(seconds: Int64(index), nanoseconds: 1), stale: false)
            batch.queue(route, forKey: key)
            model[key] = route
        }
        for step in 1...20000 {
            let key = pool.randomElement(using: &generator) ?? pool[0]
            switch UInt8.random(in: 0..<100, using: &generator) {
            case 0..<50:
                let route = BGPRoute(pathID: Int32.random(in: 0..<8, using: &generator),
                    since: Timestamp(seconds: Int64(step), nanoseconds: Int32(step % 1000)), stale: false)
                batch.queue(route, forKey: key)
                model[key] = route
            case 50..<90:
                batch.queueWithdrawal(key)
                if model.removeValue(forKey: key) != nil { flaps[key, default: 0] += 1 }
            case 90..<94:
                // The same key announced, withdrawn and announced again before any apply.
                let route = BGPRoute(pathID: 7, since: Timestamp(seconds: Int64(step), nanoseconds: 0), stale: false)
                batch.queue(route, forKey: key)
                model[key] = route
                batch.queueWithdrawal(key)
                if model.removeValue(forKey: key) != nil { flaps[key, default: 0] += 1 }
                batch.queue(route, forKey: key)
                model[key] = route
            case 94..<96:
                #expect(batch.updateValue(BGPRoute(pathID: 3, since: .zero, stale: false), forKey: key)
                    == model.updateValue(BGPRoute(pathID: 3, since: .zero, stale: false), forKey: key))
            case 96..<98:
                #expect(batch.removeValue(forKey: key) == model.removeValue(forKey: key))
            default:
                batch.applyPendingChanges()
                #expect(!batch.hasPendingChanges)
            }
            if step % 2500 == 0 {
                batch.applyPendingChanges()
                Self.check(batch, model, step)
                #expect(batch.removals == flaps, "flaps, step \(step)")
            }
        }
        batch.applyPendingChanges()
        Self.check(batch, model, -1)
        #expect(batch.removals == flaps)
        #expect(flaps.values.reduce(0, +) > 1000)
    }

    /// Batch mode with crowded buckets: 40,000 /32s sharing their top 16 bits (a MetalLB pool) and 20,000
    /// IPv6 /128s sharing their top 64, so applying the log splits buckets again and again (down to the last
    /// eight bits of the address's upper half, after which the bucket is sorted whole); repeats of one key
    /// must keep their order across every split. Same routes and flap counts as one-by-one changes.
    @Test func batchModeSplitsCrowdedBuckets() {
        var generator = SplitMix64(state: 11)
        var keys = (0..<40_000).map {
            BGPRouteKey(family: .ipv4Unicast,
                prefix: BGPPrefix(IPv4Address(rawValue: 0x6440_0000 + UInt32($0)), length: 32))
        }
        keys += (0..<20_000).map {
            BGPRouteKey(family: .ipv6Unicast,
                prefix: BGPPrefix(IPv6Address(high: 0x2001_0DB8_0000_0000, low: UInt64($0) << 8), length: 128))
        }
        var batch = BGPRouteTable()
        var model: [BGPRouteKey: BGPRoute] = [:]
        var flaps: [BGPRouteKey: Int] = [:]
        for round in 0..<3 {
            for (index, key) in keys.shuffled(using: &generator).enumerated() {
                let route = BGPRoute(pathID: Int32(round), since: Timestamp(seconds: Int64(index), nanoseconds: 0),
                    stale: false)
                switch UInt8.random(in: 0..<10, using: &generator) {
                case 0..<6:
                    batch.queue(route, forKey: key)
                    model[key] = route
                case 6..<9:
                    batch.queueWithdrawal(key)
                    if model.removeValue(forKey: key) != nil { flaps[key, default: 0] += 1 }
                default:
                    batch.queue(route, forKey: key)
                    batch.queueWithdrawal(key)
                    flaps[key, default: 0] += 1
                    batch.queue(route, forKey: key)
                    model[key] = route
                }
            }
        }
        #expect(batch.hasPendingChanges)
        batch.applyPendingChanges()
        Self.check(batch, model, -1)
        #expect(batch.removals == flaps)
        #expect(model.count > 30_000 && flaps.count > 10_000)
    }

    /// A table sorted for output goes back to work: lookups, removals and inserts after the sort.
    @Test func changesAfterSortingForOutput() {
        var table = BGPRouteTable()
        let keys = (0..<100).map { BGPRouteKey(family: .ipv4Unicast, prefix: BGPPrefix(IPv4Address(198, 51, 100, UInt8(99 - $0)), length: 32)) }
        for key in keys { table.updateValue(BGPRoute(pathID: 0, since: .zero, stale: false), forKey: key) }
        table.sortForOutput()
        #expect(table.removeValue(forKey: keys[10]) != nil)
        #expect(table[keys[10]] == nil && table[keys[11]] != nil)
        table.updateValue(BGPRoute(pathID: 1, since: .zero, stale: false), forKey: keys[10])
        #expect(table[keys[10]]?.pathID == 1)
        var ordered: [BGPRouteKey] = []
        table.forEachSorted { key, _ in ordered.append(key) }
        #expect(ordered == keys.sorted())
    }
}

/// The byte formatters of `OutputBuffer` write exactly what the core's `description` and `iso8601` write.
@Suite("BGP rendering")
struct BGPRenderingTests {
    @Test func numbersAndAddressesMatchTheCore() {
        var generator = SplitMix64(state: 42)
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, 999, 1000, 65535, 4_200_000_001, UInt64(UInt32.max), .max]
        // Every digit count's edges (the formatter counts digits by comparison).
        var power: UInt64 = 10
        for _ in 1...19 {
            values += [power - 1, power, power + 1]
            power = power.multipliedReportingOverflow(by: 10).partialValue
        }
        for _ in 0..<500 { values.append(UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0..<64, using: &generator)) }
        for value in values {
            var buffer = OutputBuffer()
            buffer.append(decimal: value)
            #expect(buffer.string == String(value))
        }
        var ipv4: [UInt32] = [0, 1, 0xFFFF_FFFF, 0x6440_0000, 0xC633_640A]
        for _ in 0..<500 { ipv4.append(UInt32.random(in: 0...UInt32.max, using: &generator)) }
        for value in ipv4 {
            var buffer = OutputBuffer()
            buffer.append(ipv4: value)
            #expect(buffer.string == IPv4Address(rawValue: value).description)
        }
        // IPv6: zero runs of every length and position (ties, a single zero group, all zeros), mapped IPv4.
        var ipv6: [IPv6Address] = [IPv6Address(high: 0, low: 0), IPv6Address(high: 0, low: 1),
            IPv6Address(high: 0, low: 0xFFFF_C633_640A), IPv6Address(high: 0xFE80_0000_0000_0000, low: 1)]
        for _ in 0..<2000 {
            let groups = (0..<8).map { _ in Bool.random(using: &generator) ? 0 : UInt16.random(in: 0...0xFFFF, using: &generator) >> UInt16.random(in: 0..<16, using: &generator) }
            ipv6.append(IPv6Address(groups: groups))
        }
        for address in ipv6 {
            var buffer = OutputBuffer()
            buffer.append(.v6(address))
            #expect(buffer.string == address.description)
            let prefix = BGPPrefix(address, length: UInt8.random(in: 0...128, using: &generator))
            var prefixBuffer = OutputBuffer()
            prefixBuffer.append(prefix)
            #expect(prefixBuffer.string == prefix.description)
        }
    }

    @Test func timestampsMatchTheCore() {
        var generator = SplitMix64(state: 7)
        var buffer = OutputBuffer()
        var expected = ""
        // Consecutive times share the cached second; also far and negative ones, and leap days.
        var times: [Timestamp] = [Timestamp(seconds: 0, nanoseconds: 0), Timestamp(seconds: -1, nanoseconds: 999_999_999),
            Timestamp(seconds: 951_782_400, nanoseconds: 5), Timestamp(seconds: 4_102_444_800, nanoseconds: 123_456_789)]
        var seconds: Int64 = 1_700_000_000
        for _ in 0..<3000 {
            seconds += Int64.random(in: 0...2, using: &generator) == 0 ? Int64.random(in: -100_000_000...100_000_000, using: &generator) : 0
            times.append(Timestamp(seconds: seconds, nanoseconds: Int32.random(in: 0..<1_000_000_000, using: &generator)))
        }
        for time in times {
            buffer.appendISO8601(time)
            buffer.append(byte: 10)
            expected += time.iso8601 + "\n"
        }
        #expect(buffer.string == expected)
    }

    /// Output written through a descriptor in chunks arrives whole and in order.
    @Test func chunkedWritesArriveWhole() throws {
        var descriptors: [Int32] = [0, 0]
        try #require(pipe(&descriptors) == 0)
        var buffer = OutputBuffer(descriptor: descriptors[1], chunkSize: 100)
        var expected = ""
        for index in 0..<500 {
            buffer.append(decimal: index)
            buffer.append(byte: 10)
            buffer.flushIfFull()
            expected += "\(index)\n"
        }
        buffer.flush()
        close(descriptors[1])
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptors[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            received += chunk[..<count]
        }
        close(descriptors[0])
        #expect(String(decoding: received, as: UTF8.self) == expected)
    }
}

/// `BGPRouteTable.containsEach(sorted:)` (the flaps' lookups) against one lookup per key, in both modes.
@Suite("Route table membership of sorted keys")
struct RouteTableMembershipTests {
    @Test(arguments: [false, true])
    func agreesWithOneLookupPerKey(shuffled: Bool) {
        var generator = SplitMix64(state: shuffled ? 7 : 8)
        var table = BGPRouteTable()
        var order = Array(0..<20_000)
        if shuffled { order.shuffle(using: &generator) }
        for value in order where value % 3 != 0 {
            let key = BGPRouteKey(family: .ipv4Unicast,
                prefix: BGPPrefix(IPv4Address(rawValue: 0x6440_0000 + UInt32(value)), length: 32))
            table.updateValue(BGPRoute(pathID: 0, since: .zero, stale: false), forKey: key)
        }
        let probes = (0..<25_000).filter { _ in UInt8.random(in: 0..<4, using: &generator) == 0 }.map {
            BGPRouteKey(family: .ipv4Unicast, prefix: BGPPrefix(IPv4Address(rawValue: 0x6440_0000 + UInt32($0)), length: 32))
        }.sorted()
        let found = table.containsEach(sorted: probes)
        #expect(found == probes.map { table[$0] != nil })
        #expect(found.contains(true) && found.contains(false))
    }
}
