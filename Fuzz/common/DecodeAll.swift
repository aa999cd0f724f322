// Shared by the fuzz harnesses (scripts/fuzz compiles Fuzz/common/*.swift with every harness): decode one
// BGP message through every parser the tools use, touching every decoded value, so that a crash, an
// out-of-bounds read or a hang anywhere below a framed message shows up whichever framer delivered it.

/// How a direction's messages are to be read: the session's context, or nil where the tools guess.
struct FuzzBGPContext {
    var asSize: Int?
    var addPath: Bool?
    /// MRT RIB entries: MP_REACH_NLRI holds only the next hop (RFC 6396 section 4.3.4).
    var abbreviatedFamily: BGPAddressFamily?
}

/// Decode `message` (a cursor over exactly one framed BGP message) all the way down; returns a small
/// number derived from everything decoded, so the optimizer cannot drop any of the work.
@inline(never)
func decodeBGPMessage(_ message: Cursor, context: FuzzBGPContext) -> Int {
    var cursor = message
    guard let header = try? BGPMessageHeader(parsing: &cursor) else { return 0 }
    precondition(header.body.upperBound <= message.endOffset, "BGP body past the message")
    var checksum = header.length &+ Int(header.type.rawValue) &+ header.type.description.utf8.count
    switch header.type {
    case .open:
        guard let open = try? BGPOpen(parsing: &cursor) else { return checksum }
        checksum &+= Int(open.autonomousSystem & 0xFF) &+ open.capabilities.count &+ open.addPathModes().count
        for capability in open.capabilities { checksum &+= capability.description.utf8.count }
        if let restart = open.gracefulRestart { checksum &+= restart.description.utf8.count }
        checksum &+= open.multiprotocolFamilies.count
    case .update:
        checksum &+= decodeUpdate(cursor, message: message, context: context)
    case .notification:
        guard let notification = try? BGPNotification(parsing: &cursor) else { return checksum }
        checksum &+= notification.description.utf8.count &+ (notification.shutdownCommunication?.utf8.count ?? 0)
        if let cause = notification.hardResetCause { checksum &+= Int(cause.code) }
    case .routeRefresh:
        if let refresh = try? BGPRouteRefresh(parsing: &cursor) { checksum &+= refresh.description.utf8.count }
    default:
        break
    }
    return checksum
}

/// Decode an UPDATE body, and every NLRI run in it, the way bgpdecode does (context known, or guessed).
func decodeUpdate(_ body: Cursor, message: Cursor, context: FuzzBGPContext) -> Int {
    var cursor = body
    guard let update = try? BGPUpdate(parsing: &cursor) else { return 0 }
    var checksum = 0
    _ = update.endOfRIB(in: body)
    if let window = try? body.window(update.attributes) {
        let attributes = BGPAttributes(
            parsing: window, asSize: context.asSize,
            abbreviatedMPReachFamily: context.abbreviatedFamily)
        checksum &+= attributes.all.count &+ attributes.problems.count
        checksum &+= attributes.effectiveASPath?.description.utf8.count ?? 0
        checksum &+= attributes.effectiveAggregator?.description.utf8.count ?? 0
        checksum &+= attributes.asPath?.length ?? 0
        checksum &+= Int(attributes.asPath?.originAS ?? 0 & 0xFF)
        for community in attributes.communities { checksum &+= community.description.utf8.count }
        for community in attributes.extendedCommunities { checksum &+= community.description.utf8.count }
        for community in attributes.largeCommunities { checksum &+= community.description.utf8.count }
        for problem in attributes.problems { checksum &+= problem.description.utf8.count }
        _ = attributes.worstOutcome
        _ = attributes.missingMandatory(hasPlainNLRI: !update.nlri.isEmpty, hasMPReachNLRI: attributes.mpReach != nil)
        if let reach = attributes.mpReach {
            checksum &+= reach.nextHop.description.utf8.count
            checksum &+= walkNLRI(reach.nlri, in: body, family: reach.family, addPath: context.addPath)
        }
        if let unreach = attributes.mpUnreach {
            checksum &+= walkNLRI(unreach.withdrawn, in: body, family: unreach.family, addPath: context.addPath)
        }
    }
    checksum &+= walkNLRI(update.withdrawn, in: body, family: .ipv4Unicast, addPath: context.addPath)
    checksum &+= walkNLRI(update.nlri, in: body, family: .ipv4Unicast, addPath: context.addPath)
    return checksum
}

/// Walk one NLRI run; with ADD-PATH unknown, decide the way bgpdecode's fallback does.
func walkNLRI(_ range: Range<Int>, in buffer: Cursor, family: BGPAddressFamily, addPath: Bool?) -> Int {
    guard let window = try? buffer.window(range) else { return 0 }
    let withPathIDs =
        addPath
        ?? (BGPNLRIIterator.parsesCleanly(window, family: family, addPath: true)
            && !BGPNLRIIterator.parsesCleanly(window, family: family, addPath: false))
    var iterator = BGPNLRIIterator(window, family: family, addPath: withPathIDs)
    var checksum = 0
    var count = 0
    while true {
        let before = iterator.cursor.remaining
        guard let entry = try? iterator.next() else { break }
        // Every entry consumes at least its length byte, so a run of N bytes ends within N entries.
        precondition(iterator.cursor.remaining < before, "NLRI entry consumed nothing")
        count += 1
        precondition(count <= range.count, "more NLRI entries than bytes")
        checksum &+= entry.description.utf8.count &+ Int(entry.prefix.length)
        _ = entry.prefix.ipPrefix
    }
    return checksum
}
