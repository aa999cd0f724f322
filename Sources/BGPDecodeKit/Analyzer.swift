import Glibc
import PacketCore

/// The state of a BGP analysis: every session's RIB, built from decoded messages, whatever their source
/// (TCP reassembly of a capture, an MRT file, or a passive listener's sockets). Sources call
/// `handleMessage` with a cursor over one whole BGP message and the sender's decoding context, and
/// `endSession` when the transport ends; events go to `onEvent` as they happen (nil: no events are built,
/// which is the fast path for `--table`).
public final class BGPAnalyzer {
    public private(set) var sessions: [BGPSessionKey: BGPSession] = [:]
    /// Where events go; nil: none are built. (Stored internally behind this accessor so the optimizer sees
    /// every access and can drop the per-message exclusivity check; see `BGPSession.routes`.)
    public var onEvent: ((BGPEvent) -> Void)? {
        get { eventHandler }
        set { eventHandler = newValue }
    }
    var eventHandler: ((BGPEvent) -> Void)?
    /// While no events are built, queue table changes and apply them in batches (see `BGPRouteTable`):
    /// for callers that read the tables only at the end (`--table`, a verification). Off by default: a
    /// caller that reads tables often (the listener's `--wait`) would apply a batch at each read.
    public var batchesTableChanges = false
    /// The text output's announcements (`BGPTextRenderer.writeAnnounce`): when set, an announcement whose
    /// path has its summary in `pathSummaries` (and whose key has no route distinguisher) comes here as
    /// (origin, route, path id, whether it replaced a route) instead of to `onEvent` as a `BGPEvent`; every
    /// other event still goes to `onEvent`, in order. Why: a full table prints a million announcements, and
    /// building each as an event (retaining its path) and switching on it in the renderer was a twentieth of
    /// the run.
    public var onAnnounce: ((BGPEventOrigin, BGPRouteKey, Int32, Bool) -> Void)?
    /// When set, each new path's summary is rendered into it from the decode that validates the path (a
    /// renderer that prints summaries shares it: `BGPTextRenderer.summaries`).
    public var pathSummaries: PathSummaries?
    var paths = PathTable()
    /// Reused for every UPDATE's attribute key, so the common case allocates nothing.
    private var scratch: [UInt8] = []
    /// Where the attributes end in `scratch` (the MP next hop pseudo-attribute follows).
    private var scratchAttributeEnd = 1
    public var messages: Int { messageCount }
    var messageCount = 0
    /// Stream bytes lost in gaps, the gaps, and messages the stream ended inside, over every session.
    public private(set) var lostBytes: UInt64 = 0
    public private(set) var gapCount = 0
    public private(set) var truncatedMessages = 0

    public init(onEvent: ((BGPEvent) -> Void)? = nil) {
        eventHandler = onEvent
        scratch.reserveCapacity(4096)
    }

    public func path(_ id: Int32) -> BGPPath { paths[id] }

    public var sortedSessions: [BGPSession] { sessions.values.sorted { $0.key < $1.key } }

    /// The time of the last BGP message read (of any session): the `time` of objects with no message of their
    /// own (session, route, verdict), so that a replayed capture prints the same. Nil when none was read.
    public var lastMessageTime: Timestamp? { sessionList.lazy.map(\.lastSeen).max() }

    /// Every session's per-message state, by `BGPSession.index`, and the sessions in the same order.
    var hotStates: [BGPSessionHotState] = []
    private var sessionList: [BGPSession] = []
    /// The session last used: consecutive messages almost always belong to one session.
    private var lastKey: BGPSessionKey?
    private var lastIndex = 0

    func sessionIndex(_ key: BGPSessionKey, _ timestamp: Timestamp) -> Int {
        if let lastKey, lastKey == key { return lastIndex }
        let index: Int
        if let session = sessions[key] {
            index = session.index
        } else {
            index = sessionList.count
            hotStates.append(BGPSessionHotState(lastSeenTime: timestamp))
            let session = BGPSession(key: key, timestamp: timestamp, owner: self, index: index)
            sessionList.append(session)
            sessions[key] = session
        }
        lastKey = key
        lastIndex = index
        return index
    }

    func session(_ key: BGPSessionKey, _ timestamp: Timestamp) -> BGPSession {
        sessionList[sessionIndex(key, timestamp)]
    }

    /// Summaries of paths for rendering, built once per path (indexed by path id).
    private var summaries: [String?] = []

    public func summary(_ id: Int32) -> String {
        let index = Int(id)
        if index < summaries.count, let text = summaries[index] { return text }
        let text = paths[id].summary
        if index >= summaries.count { summaries.append(contentsOf: repeatElement(nil, count: index + 1 - summaries.count)) }
        summaries[index] = text
        return text
    }

    /// Sort every session's storage into key order before a table is printed (see `BGPRouteTable`).
    public func sortTablesForOutput() {
        for session in sessions.values { hotStates[session.index].table.sortForOutput() }
    }

    // MARK: Messages

    /// Decode one BGP message (`message` covers it exactly, marker first) sent by `key.speaker`, apply it to
    /// that session's RIB and report events. Returns the OPEN when the message is one, so a connection
    /// tracker can derive the context of later messages.
    @discardableResult
    public func handleMessage(
        _ message: Cursor, session key: BGPSessionKey, context: BGPMessageContext, timestamp: Timestamp
    ) -> BGPOpen? {
        messageCount += 1
        let index = sessionIndex(key, timestamp)
        // Without events, a repeated plain UPDATE is applied in the same single access to the session's
        // state that counts the message (see `BGPSessionHotState.receive`).
        if eventHandler == nil, let addPath = context.addPath(.ipv4Unicast) {
            let (applied, error) = hotStates[index].receive(
                message, asSize: context.asSize ?? 0, addPath: addPath, batch: batchesTableChanges, timestamp: timestamp)
            if applied {
                if let error {
                    reportDecodeError(sessionList[index],
                        BGPEventOrigin(timestamp: timestamp, session: key, offset: message.offset), error)
                }
                return nil
            }
        } else {
            hotStates[index].noteMessage(timestamp)
        }
        let session = sessionList[index]
        var cursor = message
        let origin = BGPEventOrigin(timestamp: timestamp, session: key, offset: cursor.offset)
        let header: BGPMessageHeader
        do throws(ParseError) {
            header = try BGPMessageHeader(parsing: &cursor)
        } catch {
            reportDecodeError(session, origin, error)
            return nil
        }
        switch header.type {
        case .update:
            handleUpdate(cursor, session, context, origin)
        case .keepalive:
            eventHandler?(.keepalive(origin))
        case .open:
            do throws(ParseError) {
                let open = try BGPOpen(parsing: &cursor)
                handleOpen(open, session, origin)
                return open
            } catch {
                reportDecodeError(session, origin, error)
            }
        case .notification:
            do throws(ParseError) {
                let notification = try BGPNotification(parsing: &cursor)
                session.lastNotification = notification
                eventHandler?(.notification(origin, notification))
                // A NOTIFICATION closes the connection: both directions end (RFC 4271 section 6).
                let reason = "NOTIFICATION \(notification)"
                endSession(key, reason: reason, notification: notification, timestamp: timestamp, offset: origin.offset)
                endSession(key.reversed, reason: reason, notification: notification, timestamp: timestamp,
                    offset: origin.offset)
            } catch {
                reportDecodeError(session, origin, error)
            }
        case .routeRefresh:
            do throws(ParseError) {
                eventHandler?(.routeRefresh(origin, try BGPRouteRefresh(parsing: &cursor)))
            } catch {
                reportDecodeError(session, origin, error)
            }
        default:
            eventHandler?(.other(origin, header.type))
        }
        return nil
    }

    func reportDecodeError(_ session: BGPSession, _ origin: BGPEventOrigin, _ error: ParseError) {
        session.decodeErrors += 1
        eventHandler?(.decodeError(origin, error))
    }

    /// Report a problem found outside a message (stream framing), counted against the session.
    public func reportStreamError(session key: BGPSessionKey, _ error: ParseError, timestamp: Timestamp) {
        let session = session(key, timestamp)
        reportDecodeError(session, BGPEventOrigin(timestamp: timestamp, session: key, offset: error.offset), error)
    }

    /// Stream bytes `lost` of `key`'s direction were never captured (or were given up by reassembly).
    public func reportGap(session key: BGPSessionKey, lost: Range<UInt64>, timestamp: Timestamp) {
        guard !lost.isEmpty else { return }
        let session = session(key, timestamp)
        session.gaps += 1
        session.lostBytes &+= UInt64(lost.count)
        lostBytes &+= UInt64(lost.count)
        gapCount += 1
        eventHandler?(.gap(BGPEventOrigin(timestamp: timestamp, session: key, offset: Int(clamping: lost.lowerBound)),
            lost: lost))
    }

    /// `key`'s stream ended inside a message that starts at stream byte `offset`.
    public func reportTruncatedMessage(
        session key: BGPSessionKey, offset: UInt64, received: Int, length: Int?, timestamp: Timestamp
    ) {
        let session = session(key, timestamp)
        session.truncatedMessages += 1
        truncatedMessages += 1
        eventHandler?(.truncatedMessage(BGPEventOrigin(timestamp: timestamp, session: key,
            offset: Int(clamping: offset)), received: received, length: length))
    }

    /// Say something once about a direction's context (guessed, overridden).
    public func note(session key: BGPSessionKey, _ text: String, timestamp: Timestamp) {
        eventHandler?(.contextNote(BGPEventOrigin(timestamp: timestamp, session: key, offset: 0), text))
    }

    /// Record how a session's context was obtained (shown with the table).
    public func setContextSource(_ source: BGPContextSource, session key: BGPSessionKey, timestamp: Timestamp) {
        let session = session(key, timestamp)
        if hotStates[session.index].contextSource != source { hotStates[session.index].contextSource = source }
    }

    func handleOpen(_ open: BGPOpen, _ session: BGPSession, _ origin: BGPEventOrigin) {
        if session.speakerOpen != nil, !session.isUp {
            // A new TCP session of a speaker that reconnected: its counters start again (the routes kept
            // stale by graceful restart stay).
            session.earlierSessions += 1
            startCounters(session, origin.timestamp)
        }
        session.speakerOpen = open
        session.gracefulRestart = open.gracefulRestart
        self.session(session.key.reversed, origin.timestamp).peerOpen = open
        session.isUp = true
        session.downReason = nil
        session.endOfRIB = []
        eventHandler?(.open(origin, open))
        // RFC 4724 section 4.2: stale routes of families the new OPEN no longer preserves are deleted now.
        let restart = open.gracefulRestart
        flushStale(session, origin) { family in
            guard let restart else { return true }
            return !restart.families.contains { $0.family == family && $0.forwardingPreserved }
        }
    }

    // MARK: UPDATE

    /// The attributes of one UPDATE split for the RIB: MP_REACH/MP_UNREACH decoded, everything else copied
    /// into `scratch` as the path key. Trivially copyable (the rare parts are in `splitExtras`): as one
    /// struct with arrays and a String, it was copied and released with reference counting per UPDATE.
    private struct Split {
        var mpReach: BGPMPReach?
        var mpUnreach: BGPMPUnreach?
        /// `splitExtras` holds something for this UPDATE.
        var hasExtras = false
    }

    /// The rare parts of the last split: repeated MP attributes (RFC 7606 section 3 (g): session reset;
    /// still shown, as treat-as-withdraw) and the problem found, if any.
    private struct SplitExtras {
        var reach: [BGPMPReach] = []
        var unreach: [BGPMPUnreach] = []
        var problem: BGPAttributeProblem?
    }
    private var splitExtras = SplitExtras()

    private func split(_ message: Cursor, _ attributes: Range<Int>, asSize: Int?, abbreviated: BGPAddressFamily?) -> Split {
        var result = Split()
        if !splitExtras.reach.isEmpty || !splitExtras.unreach.isEmpty || splitExtras.problem != nil {
            splitExtras = SplitExtras()
        }
        // One access to `scratch` for the whole message (class properties are checked at each access).
        var scratch = self.scratch
        self.scratch = []
        defer { self.scratch = scratch }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(UInt8(asSize ?? 0))
        scratchAttributeEnd = 1
        guard let window = try? message.window(attributes) else { return result }
        var iterator = BGPAttributeIterator(window)
        // The key is copied in runs of consecutive attributes (all of them, in an UPDATE without MP
        // attributes): one append per run, not per attribute.
        var runStart = attributes.lowerBound
        var runEnd = runStart
        func copyRun() {
            if runEnd > runStart, let bytes = try? message.window(runStart..<runEnd) {
                bytes.withUnsafeRemainingBytes { scratch.append(contentsOf: $0) }
            }
        }
        defer {
            copyRun()
            scratchAttributeEnd = scratch.count
        }
        while true {
            let attribute: BGPPathAttribute
            do throws(ParseError) {
                guard let next = try iterator.next() else { break }
                attribute = next
            } catch {
                result.hasExtras = true
                splitExtras.problem = BGPAttributeProblem(error, in: nil, outcome: .treatAsWithdraw)
                break
            }
            if attribute.type == .mpReachNLRI || attribute.type == .mpUnreachNLRI {
                runEnd = attribute.offset
                copyRun()
                runStart = attribute.value.upperBound
                runEnd = runStart
            } else {
                runEnd = attribute.value.upperBound
            }
            switch attribute.type {
            case .mpReachNLRI:
                do throws(ParseError) {
                    var value = try message.window(attribute.value)
                    let reach: BGPMPReach
                    if let abbreviated {
                        reach = try BGPMPReach(parsingAbbreviated: &value, family: abbreviated)
                    } else {
                        reach = try BGPMPReach(parsing: &value)
                    }
                    if result.mpReach == nil {
                        result.mpReach = reach
                    } else {
                        result.hasExtras = true
                        splitExtras.reach.append(reach)
                    }
                } catch {
                    result.hasExtras = true
                    splitExtras.problem = BGPAttributeProblem(error, in: .mpReachNLRI, outcome: .sessionReset)
                }
            case .mpUnreachNLRI:
                do throws(ParseError) {
                    var value = try message.window(attribute.value)
                    let unreach = try BGPMPUnreach(parsing: &value)
                    if result.mpUnreach == nil {
                        result.mpUnreach = unreach
                    } else {
                        result.hasExtras = true
                        splitExtras.unreach.append(unreach)
                    }
                } catch {
                    result.hasExtras = true
                    splitExtras.problem = BGPAttributeProblem(error, in: .mpUnreachNLRI, outcome: .sessionReset)
                }
            default:
                break
            }
        }
        return result
    }

    /// Append the MP next hop as a pseudo-attribute of type 0 (reserved, never on the wire).
    /// Written straight into `scratch`, its length byte patched afterwards. Why: a temporary array per
    /// MP UPDATE was an allocation per message on a full table.
    private func appendNextHop(_ nextHop: BGPNextHop) {
        // One access to `scratch` (class properties are checked at each access), as in `split`.
        var scratch = self.scratch
        self.scratch = []
        defer { self.scratch = scratch }
        scratch.append(0)
        scratch.append(0)
        let lengthIndex = scratch.count
        scratch.append(0)
        func add(_ address: IPAddress) {
            switch address {
            case .v4(let v4): withUnsafeBytes(of: v4.rawValue.bigEndian) { scratch.append(contentsOf: $0) }
            case .v6(let v6):
                withUnsafeBytes(of: v6.high.bigEndian) { scratch.append(contentsOf: $0) }
                withUnsafeBytes(of: v6.low.bigEndian) { scratch.append(contentsOf: $0) }
            }
        }
        if let address = nextHop.address { add(address) } else {
            scratch.append(UInt8(truncatingIfNeeded: nextHop.rawLength))
        }
        if let linkLocal = nextHop.linkLocal { add(.v6(linkLocal)) }
        scratch[lengthIndex] = UInt8(truncatingIfNeeded: scratch.count - lengthIndex - 1)
    }

    /// The interned path for the key in `scratch`; decodes (and validates, RFC 7606) on first sight.
    private func resolvePath(
        _ session: BGPSession, multiprotocol: Bool, nextHop: BGPNextHop?, message: Cursor, attributes: Range<Int>,
        asSize: Int?, abbreviated: BGPAddressFamily?, origin: BGPEventOrigin
    ) -> Int32 {
        var problems: [BGPAttributeProblem] = []
        let attributeEnd = scratchAttributeEnd
        let (id, isNew) = scratch.withUnsafeBytes { key in
            paths.intern(key) { id in
                let window = (try? message.window(attributes)) ?? message
                let decoded = BGPAttributes(parsing: window, asSize: asSize, abbreviatedMPReachFamily: abbreviated)
                problems = decoded.problems
                let path = BGPPath(id: id, attributeBytes: key.slice(1..<attributeEnd), asSize: asSize, decoded: decoded,
                    nextHop: nextHop ?? decoded.nextHop.map { BGPNextHop(address: .v4($0)) })
                pathSummaries?.span(path, attributes: decoded)
                return path
            }
        }
        if isNew, let onEvent = eventHandler {
            for problem in problems { onEvent(.attributeProblem(origin, problem)) }
        }
        return id
    }

    private func handleUpdate(_ body: Cursor, _ session: BGPSession, _ context: BGPMessageContext, _ origin: BGPEventOrigin) {
        var cursor = body
        let update: BGPUpdate
        do throws(ParseError) {
            update = try BGPUpdate(parsing: &cursor)
        } catch {
            reportDecodeError(session, origin, error)
            return
        }
        // The same with events: the path of the last plain UPDATE's identical attribute bytes applies.
        let plainOnly = update.withdrawn.isEmpty && !update.nlri.isEmpty
        let lastRawPath = hotStates[session.index].beginUpdate(
            attributes: plainOnly ? try? body.window(update.attributes) : nil, asSize: context.asSize ?? 0)
        if lastRawPath >= 0 {
            announce(update.nlri, family: .ipv4Unicast, pathID: lastRawPath, hasPlain: true, body, session, context,
                origin)
            return
        }
        if let family = update.endOfRIB(in: body) {
            handleEndOfRIB(session, family, origin)
            return
        }
        let split = split(body, update.attributes, asSize: context.asSize, abbreviated: nil)
        let extras = split.hasExtras ? splitExtras : SplitExtras()
        if let problem = extras.problem { eventHandler?(.attributeProblem(origin, problem)) }
        let broken = extras.problem != nil
        // Withdrawals first: RFC 4271 section 9.1.4 lets one UPDATE withdraw and re-announce.
        withdraw(update.withdrawn, family: .ipv4Unicast, body, session, context, origin, reason: .withdrawn)
        if let unreach = split.mpUnreach {
            withdraw(unreach.withdrawn, family: unreach.family, body, session, context, origin, reason: .withdrawn)
        }
        for unreach in extras.unreach {
            withdraw(unreach.withdrawn, family: unreach.family, body, session, context, origin, reason: .malformed)
        }
        if !update.nlri.isEmpty {
            let id = broken ? -1 : resolvePath(session, multiprotocol: false, nextHop: nil, message: body,
                attributes: update.attributes, asSize: context.asSize, abbreviated: nil, origin: origin)
            if id >= 0, paths.isUsable(id, multiprotocol: false), split.mpReach == nil, split.mpUnreach == nil,
                !split.hasExtras, let window = try? body.window(update.attributes)
            {
                // The attribute bytes are the whole path key: remember them for the fast path above.
                window.withUnsafeRemainingBytes { hotStates[session.index].setLastRawAttributes($0) }
                hotStates[session.index].lastRawAsSize = context.asSize ?? 0
                hotStates[session.index].lastRawPath = id
            }
            announce(update.nlri, family: .ipv4Unicast, pathID: id, hasPlain: true, body, session, context, origin)
        }
        if let reach = split.mpReach, !reach.nlri.isEmpty {
            var id: Int32 = -1
            if !broken {
                appendNextHop(reach.nextHop)
                id = resolvePath(session, multiprotocol: true, nextHop: reach.nextHop, message: body,
                    attributes: update.attributes, asSize: context.asSize, abbreviated: nil, origin: origin)
            }
            announce(reach.nlri, family: reach.family, pathID: id, hasPlain: false, body, session, context, origin)
        }
        for reach in extras.reach {
            announce(reach.nlri, family: reach.family, pathID: -1, hasPlain: false, body, session, context, origin)
        }
    }

    @inline(__always)
    static func equal(_ bytes: [UInt8], _ raw: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == raw.count else { return false }
        guard let base = raw.baseAddress else { return true }
        return bytes.withUnsafeBytes { other in other.baseAddress.map { memcmp($0, base, raw.count) == 0 } ?? false }
    }

    /// Announce (or, for a malformed path, treat as withdrawn) every NLRI of a run.
    private func announce(
        _ run: Range<Int>, family: BGPAddressFamily, pathID: Int32, hasPlain: Bool, _ message: Cursor,
        _ session: BGPSession, _ context: BGPMessageContext, _ origin: BGPEventOrigin
    ) {
        var usable = false
        if pathID >= 0 {
            usable = paths.isUsable(pathID, multiprotocol: !hasPlain)
            // A usable path misses nothing (`BGPPath.isUsable`): only an unusable one is read here (the path
            // object and its list were two cache misses per UPDATE of a full table).
            if !usable, let onEvent = eventHandler {
                let path = paths[pathID]
                for type in hasPlain ? path.missingForPlain : path.missingForMultiprotocol {
                    onEvent(.attributeProblem(origin, BGPAttributeProblem(type: type, offset: origin.offset,
                        reason: "missing well-known attribute", outcome: .treatAsWithdraw)))
                }
            }
        }
        guard let window = try? message.window(run) else { return }
        var iterator = BGPNLRIIterator(window, family: family, addPath: addPath(window, family, context))
        let onEvent = eventHandler
        if usable, onEvent != nil {
            // Each event retains the path and its line copies the path's summary: start loading both now, so
            // they arrive while the table slots are looked up.
            paths.prefetch(pathID)
            pathSummaries?.prefetch(pathID)
        }
        if usable, onEvent == nil {
            // No events to build: the whole run goes into the table in one access to it.
            let (count, error) = hotStates[session.index].table.install(
                &iterator, family: family, pathID: pathID, since: origin.timestamp, queued: batchesTableChanges)
            hotStates[session.index].announcementCount += count
            if let error { reportDecodeError(session, origin, error) }
            return
        }
        if usable { hotStates[session.index].table.prefetch(iterator, family: family) }
        // The text output's announce lines, when the path's summary is there (one check for the run).
        let onAnnounce = usable && pathSummaries?.rendered(pathID) != nil ? self.onAnnounce : nil
        while true {
            let nlri: BGPNLRI
            do throws(ParseError) {
                guard let next = try iterator.next() else { return }
                nlri = next
            } catch {
                reportDecodeError(session, origin, error)
                return
            }
            let key = BGPRouteKey(family: family, nlri: nlri)
            if usable {
                install(session, key, pathID, origin, onEvent, onAnnounce)
            } else {
                remove(session, key, origin, .malformed, rejected: pathID)
            }
        }
    }

    private func addPath(_ window: Cursor, _ family: BGPAddressFamily, _ context: BGPMessageContext) -> Bool {
        if let known = context.addPath(family) { return known }
        // Heuristic (no OPEN): the reading that parses; plain when both do.
        if BGPNLRIIterator.parsesCleanly(window, family: family, addPath: false) { return false }
        return BGPNLRIIterator.parsesCleanly(window, family: family, addPath: true)
    }

    private func withdraw(
        _ run: Range<Int>, family: BGPAddressFamily, _ message: Cursor, _ session: BGPSession,
        _ context: BGPMessageContext, _ origin: BGPEventOrigin, reason: BGPWithdrawReason
    ) {
        guard !run.isEmpty, let window = try? message.window(run) else { return }
        var iterator = BGPNLRIIterator(window, family: family, addPath: addPath(window, family, context))
        while true {
            do throws(ParseError) {
                guard let nlri = try iterator.next() else { return }
                remove(session, BGPRouteKey(family: family, nlri: nlri), origin, reason)
            } catch {
                reportDecodeError(session, origin, error)
                return
            }
        }
    }

    @inline(__always)
    private func install(
        _ session: BGPSession, _ key: BGPRouteKey, _ pathID: Int32, _ origin: BGPEventOrigin,
        _ onEvent: ((BGPEvent) -> Void)?,
        _ onAnnounce: ((BGPEventOrigin, BGPRouteKey, Int32, Bool) -> Void)? = nil
    ) {
        let replaced = hotStates[session.index].install(key, BGPRoute(pathID: pathID, since: origin.timestamp, stale: false))
        if let onAnnounce, key.routeDistinguisher == nil {
            onAnnounce(origin, key, pathID, replaced)
        } else if let onEvent {
            onEvent(.announce(origin, key, paths[pathID], replaced: replaced))
        }
    }

    private func remove(
        _ session: BGPSession, _ key: BGPRouteKey, _ origin: BGPEventOrigin, _ reason: BGPWithdrawReason,
        rejected: Int32 = -1
    ) {
        hotStates[session.index].withdrawalCount += 1
        guard let onEvent = eventHandler else {
            if batchesTableChanges {
                hotStates[session.index].table.queueWithdrawal(key)
            } else if hotStates[session.index].table.removeValue(forKey: key) != nil {
                hotStates[session.index].table.removals[key, default: 0] += 1
            }
            return
        }
        let previous = hotStates[session.index].table.removeValue(forKey: key)
        if previous != nil { hotStates[session.index].table.removals[key, default: 0] += 1 }
        onEvent(.withdraw(origin, key, reason, wasPresent: previous != nil, rejected: rejected >= 0 ? paths[rejected] : nil))
    }

    private func handleEndOfRIB(_ session: BGPSession, _ family: BGPAddressFamily, _ origin: BGPEventOrigin) {
        session.endOfRIB.insert(family)
        // RFC 4724 section 4.2: routes still stale when End-of-RIB arrives were not re-announced.
        let flushed = flushStale(session, origin, emit: false) { $0 == family }
        eventHandler?(.endOfRIB(origin, family, staleFlushed: flushed.count))
        if let onEvent = eventHandler { for key in flushed { onEvent(.withdraw(origin, key, .staleFlushed, wasPresent: true, rejected: nil)) } }
    }

    @discardableResult
    private func flushStale(
        _ session: BGPSession, _ origin: BGPEventOrigin, emit: Bool = true, where matches: (BGPAddressFamily) -> Bool
    ) -> [BGPRouteKey] {
        hotStates[session.index].table.applyPendingChanges()
        let flushed = hotStates[session.index].table.keys(where: { key, route in route.stale && matches(key.family) })
        for key in flushed {
            hotStates[session.index].table.removeValue(forKey: key)
            if emit { eventHandler?(.withdraw(origin, key, .staleFlushed, wasPresent: true, rejected: nil)) }
        }
        return flushed
    }

    // MARK: Session end

    /// The transport of `key` ended (NOTIFICATION, FIN, RST, MRT state change): every route is withdrawn,
    /// unless graceful restart applies (both OPENs carry it, the family is covered, and for a NOTIFICATION
    /// both set the N bit and it is not a Hard Reset: RFC 4724, RFC 8538), in which case routes stay, stale.
    public func endSession(
        _ key: BGPSessionKey, reason: String, notification: BGPNotification? = nil, timestamp: Timestamp, offset: Int = 0
    ) {
        guard let session = sessions[key], session.isUp else { return }
        session.isUp = false
        session.downReason = reason
        hotStates[session.index].lastSeenTime = max(hotStates[session.index].lastSeenTime, timestamp)
        let origin = BGPEventOrigin(timestamp: timestamp, session: key, offset: offset)
        var restart = session.gracefulRestart
        if session.peerOpen?.gracefulRestart == nil { restart = nil }
        if let notification, let current = restart {
            let peerN = session.peerOpen?.gracefulRestart?.notificationSupport ?? false
            if !(current.notificationSupport && peerN) || notification.isHardReset { restart = nil }
        }
        let covered: (BGPAddressFamily) -> Bool = { family in restart?.covers(family) ?? false }
        // The withdrawn routes move to `endedRoutes` as they are: the last table before the session went
        // down, and one event with a count rather than a removal per route. Why: withdrawing a million
        // routes one by one (their keys listed and sorted, each queued and applied) cost more than the
        // whole session had (issue 16 item 3).
        var ended = BGPRouteTable()
        hotStates[session.index].table.applyPendingChanges()
        if restart == nil {
            swap(&ended, &hotStates[session.index].table)
            // The withdrawal counts (flaps) stay with the session until it reconnects.
            swap(&ended.removals, &hotStates[session.index].table.removals)
        } else {
            for routeKey in hotStates[session.index].table.keys(where: { key, _ in !covered(key.family) }) {
                if let route = hotStates[session.index].table.removeValue(forKey: routeKey) {
                    ended.updateValue(route, forKey: routeKey)
                }
            }
        }
        let stale = hotStates[session.index].table.markStale(where: covered)
        let withdrawn = ended.count
        if let onEvent = eventHandler {
            ended.sortForOutput()
            ended.forEachSorted { routeKey, _ in
                onEvent(.withdraw(origin, routeKey, .sessionDown, wasPresent: true, rejected: nil))
            }
        }
        session.endedRoutes = ended
        session.endedAt = timestamp
        eventHandler?(.sessionDown(origin, reason: reason, withdrawn: withdrawn, stale: stale))
    }

    /// Start a reconnected speaker's counters again (`BGPSession.earlierSessions`).
    private func startCounters(_ session: BGPSession, _ timestamp: Timestamp) {
        let previous = hotStates[session.index]
        var fresh = BGPSessionHotState(lastSeenTime: timestamp)
        fresh.messageCount = 1
        fresh.contextSource = previous.contextSource
        swap(&fresh.table, &hotStates[session.index].table)
        fresh.table.removals = [:]
        hotStates[session.index] = fresh
        session.endedRoutes = BGPRouteTable()
        session.endedAt = nil
        session.firstSeen = timestamp
        session.decodeErrors = 0
        session.gaps = 0
        session.lostBytes = 0
        session.truncatedMessages = 0
        session.lastNotification = nil
    }

    // MARK: MRT RIB entries

    /// Install a TABLE_DUMP_V2 RIB entry: `attributes` (4-byte AS numbers, abbreviated MP_REACH_NLRI) in
    /// the buffer `record` covers.
    public func installTableEntry(
        session key: BGPSessionKey, route: BGPRouteKey, record: Cursor, attributes: Range<Int>, timestamp: Timestamp,
        offset: Int
    ) {
        let session = session(key, timestamp)
        hotStates[session.index].contextSource = .mrt
        let origin = BGPEventOrigin(timestamp: timestamp, session: key, offset: offset)
        let split = split(record, attributes, asSize: 4, abbreviated: route.family)
        if split.hasExtras, let problem = splitExtras.problem {
            eventHandler?(.attributeProblem(origin, problem))
            return
        }
        let multiprotocol = split.mpReach != nil && route.family != .ipv4Unicast
        if multiprotocol, let reach = split.mpReach { appendNextHop(reach.nextHop) }
        let id = resolvePath(session, multiprotocol: multiprotocol, nextHop: multiprotocol ? split.mpReach?.nextHop : nil,
            message: record, attributes: attributes, asSize: 4, abbreviated: route.family, origin: origin)
        install(session, route, id, origin, eventHandler)
    }

    /// An MRT BGP4MP state change.
    public func stateChange(session key: BGPSessionKey, old: UInt16, new: UInt16, timestamp: Timestamp, offset: Int) {
        _ = session(key, timestamp)
        eventHandler?(.stateChange(BGPEventOrigin(timestamp: timestamp, session: key, offset: offset), old: old, new: new))
        if old == 6, new != 6 {
            let reason = "state \(MRTBGP4MP.stateName(old)) -> \(MRTBGP4MP.stateName(new))"
            endSession(key, reason: reason, timestamp: timestamp, offset: offset)
            endSession(key.reversed, reason: reason, timestamp: timestamp, offset: offset)
        }
    }
}
