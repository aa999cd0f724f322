import PacketCore
import ToolSupport

/// The text output (`--table`, and the event lines) written as bytes into an `OutputBuffer`: the lines
/// printed once per route (table lines, announce and withdraw events) are assembled from cached pieces
/// (each path's summary, the session, the family) and hand-formatted prefixes and times; every other line
/// is `BGPRender.text`'s. The bytes are exactly `BGPRender`'s String output (BGPRenderingTests).
public struct BGPTextRenderer {
    public var output: OutputBuffer
    /// Path summaries as bytes, rendered once per path; share the analyzer's (`BGPAnalyzer.pathSummaries`)
    /// so they are rendered from its decode of each new path.
    public var summaries = PathSummaries()
    private var sessionText: [UInt8] = []
    private var announceKeys: [AnnounceKey] = []
    private var lastAnnounce = 0
    private var announceTexts: [[UInt8]] = []
    private var cachedSession: BGPSessionKey?
    private var families: [BGPAddressFamily] = []
    private var familyTexts: [[UInt8]] = []

    /// `descriptor`: write to it in 64 KiB chunks (1 for standard output); nil: keep the bytes in `output`.
    public init(descriptor: Int32? = nil) {
        output = OutputBuffer(descriptor: descriptor)
    }

    /// Write what is pending.
    public mutating func flush() { output.flush() }

    // MARK: Pieces

    /// A path's summary as bytes (`PathSummaries`).
    private mutating func summaryBytes(_ path: BGPPath) -> [UInt8] { summaries.bytes(path) }

    /// `FAMILY` as bytes; a handful of families, looked up in order (a full table alternates two).
    private mutating func familyBytes(_ family: BGPAddressFamily) -> [UInt8] {
        if let index = families.firstIndex(of: family) { return familyTexts[index] }
        let text = Array(family.description.utf8)
        families.append(family)
        familyTexts.append(text)
        return text
    }

    private mutating func sessionBytes(_ key: BGPSessionKey) -> [UInt8] {
        if key != cachedSession {
            var text = OutputBuffer()
            text.append(key.speaker)
            text.append(" > ")
            text.append(key.peer)
            sessionText = text.bytes
            cachedSession = key
        }
        return sessionText
    }

    /// `Z SPEAKER > PEER announce FAMILY ` (or `replace`): the part of an announce line between the time
    /// and the prefix, kept per session, verb and family (a handful; looked up most recent first). Why
    /// several: a full table alternates IPv4 and IPv6 and announcements with replacements, and rebuilding
    /// the text at each switch was a twentieth of the run time of an MRT file's events (perf).
    private mutating func announceBytes(_ session: BGPSessionKey, _ replaced: Bool, _ family: BGPAddressFamily) -> [UInt8] {
        let key = AnnounceKey(session: session, replaced: replaced, family: family)
        if lastAnnounce < announceKeys.count, announceKeys[lastAnnounce] == key { return announceTexts[lastAnnounce] }
        // Indices, not tuples: iterating the tuples copied each through the runtime's generic witnesses.
        var index = announceKeys.count - 1
        while index >= 0 {
            if announceKeys[index] == key {
                lastAnnounce = index
                return announceTexts[index]
            }
            index -= 1
        }
        var text: [UInt8] = Array("Z ".utf8)
        text += sessionBytes(session)
        text += Array((replaced ? " replace " : " announce ").utf8)
        text += familyBytes(family)
        text.append(UInt8(ascii: " "))
        // Bounded: a capture with many sessions keeps the most recent ones.
        if announceKeys.count >= 64 {
            announceKeys.removeFirst()
            announceTexts.removeFirst()
        }
        announceKeys.append(key)
        announceTexts.append(text)
        lastAnnounce = announceKeys.count - 1
        return text
    }

    private struct AnnounceKey: Equatable {
        var session: BGPSessionKey
        var replaced: Bool
        var family: BGPAddressFamily
    }

    /// `TIME SPEAKER > PEER announce FAMILY KEY SUMMARY` (or `replace`) for a route without a route
    /// distinguisher whose path is `pathID`, its summary already in `summaries`: `BGPAnalyzer.onAnnounce`'s
    /// way to print an announcement without a `BGPEvent`. False (nothing written) when the summary is not
    /// there.
    @discardableResult
    public mutating func writeAnnounce(
        _ origin: BGPEventOrigin, _ key: BGPRouteKey, pathID: Int32, replaced: Bool
    ) -> Bool {
        guard key.routeDistinguisher == nil, let span = summaries.rendered(pathID) else { return false }
        writeAnnounce(origin, key, summary: span, replaced: replaced)
        output.flushIfFull()
        return true
    }

    private mutating func writeAnnounce(
        _ origin: BGPEventOrigin, _ key: BGPRouteKey, summary span: UInt64, replaced: Bool
    ) {
        let (block, start, length) = PathSummaries.parts(span)
        let second = output.secondText(origin.timestamp.seconds)
        let middle = announceBytes(origin.session, replaced, key.family)
        Self.appendAnnounceLine(&output, second, origin.timestamp.nanoseconds, middle, key, summaries.blocks[block],
            start, length)
    }

    /// `SECOND NANOSECONDS MIDDLE KEY SUMMARY` and a newline, the summary being `length` bytes of `block`
    /// from `start`. The arrays come in as parameters, not captured: see `appendRouteLine`.
    private static func appendAnnounceLine(
        _ output: inout OutputBuffer, _ second: [UInt8], _ nanoseconds: Int32, _ middle: [UInt8], _ key: BGPRouteKey,
        _ block: [UInt8], _ start: Int, _ length: Int
    ) {
        precondition(start >= 0 && length >= 0 && start + length <= block.count, "summary outside its block")
        block.withUnsafeBufferPointer { bytes in
            let summary = UnsafeBufferPointer(rebasing: bytes[start..<start + length])
            output.withSpace(second.count + 9 + middle.count + maximumKey + length + 2) { writer in
                writer.append(second)
                writer.append(nanoseconds: nanoseconds)
                writer.append(middle)
                appendKey(key, &writer)
                writer.append(byte: UInt8(ascii: " "))
                writer.append(summary)
                writer.append(byte: UInt8(ascii: "\n"))
            }
        }
    }

    /// Room for `BGPRouteKey.description` of a key without a route distinguisher.
    private static let maximumKey = LineWriter.maximumPrefix + 9 + LineWriter.maximumDecimal

    // MARK: Tables

    /// `--table`: every session's header and routes in key order, then flap counts (`BGPRender.flapsText`).
    /// Each route line is `  FAMILY KEY SUMMARY[ STALE]`; after a session end, the routes it withdrew follow
    /// (its last table), each ending ` withdrawn at session end TIME`.
    public mutating func writeTable(_ analyzer: BGPAnalyzer) {
        analyzer.sortTablesForOutput()
        for session in analyzer.sortedSessions {
            output.appendLine(BGPRender.sessionHeader(session))
            writeTableRoutes(session.hot.table, analyzer, ended: nil)
            if let endedAt = session.endedAt {
                writeTableRoutes(session.endedRoutes, analyzer,
                    ended: Array(" withdrawn at session end \(endedAt.iso8601)\n".utf8))
            }
        }
        output.append(BGPRender.flapsText(analyzer))
        output.flushIfFull()
    }

    private mutating func writeTableRoutes(_ table: BGPRouteTable, _ analyzer: BGPAnalyzer, ended: [UInt8]?) {
        var line = TableLine()
        if table.isSortedWithoutDistinguishers {
            writeRoutes(table.entries, analyzer, ended: ended)
        } else {
            table.forEachSorted { key, route in writeRoute(key, route, &line, analyzer, ended: ended) }
        }
    }

    private static let staleEnd = Array(" STALE\n".utf8)
    private static let plainEnd = Array("\n".utf8)

    /// The route lines of a table in sorted mode (entries in key order, no route distinguishers). First
    /// the summary of every path the table uses is rendered once (`PathSummaries`); then each line is
    /// the family, the prefix and a copy from the arena, in one reservation of the output. Why: with a
    /// summary array per path, fetching it for each line retained and released it and the path object,
    /// a tenth of the run time of a one-million-prefix full table (perf), whose neighbouring routes rarely
    /// share a path. `ended`: the line end of a route withdrawn at the session end.
    private mutating func writeRoutes(_ entries: EntryStore, _ analyzer: BGPAnalyzer, ended: [UInt8]?) {
        // Every summary the table uses, first (the analyzer has rendered them when it shares `summaries`).
        summaries.reserve(paths: analyzer.paths.paths.count)
        for chunk in entries.segments {
            for entry in chunk where summaries.rendered(entry.path) == nil {
                summaries.span(analyzer.paths[entry.path])
            }
        }
        let blocks = summaries.blocks
        var family: UInt64 = .max
        var head: [UInt8] = []
        for chunk in entries.segments {
            for entry in chunk {
                if entry.meta >> 40 != family {
                    family = entry.meta >> 40
                    head = Array("  \(entry.family) ".utf8)
                }
                let (block, start, length) = PathSummaries.parts(summaries.rendered(entry.path) ?? 0)
                let key = entry.key
                let end = ended ?? (entry.stale ? Self.staleEnd : Self.plainEnd)
                Self.appendRouteLine(&output, head, key, blocks[block], start, length, end)
            }
        }
    }

    /// `HEAD KEY SUMMARY` and `end` (a newline, or ` STALE` or the session end and a newline), the summary
    /// being `length` bytes of `block` from `start`.
    private static func appendRouteLine(
        _ output: inout OutputBuffer, _ head: [UInt8], _ key: BGPRouteKey, _ block: [UInt8], _ start: Int,
        _ length: Int, _ end: [UInt8]
    ) {
        precondition(start >= 0 && length >= 0 && start + length <= block.count, "summary outside its block")
        block.withUnsafeBufferPointer { bytes in
            let summary = UnsafeBufferPointer(rebasing: bytes[start..<start + length])
            output.withSpace(head.count + maximumKey + length + end.count + 1) { writer in
                writer.append(head)
                appendKey(key, &writer)
                writer.append(byte: UInt8(ascii: " "))
                writer.append(summary)
                writer.append(end)
            }
        }
        output.flushIfFull()
    }

    /// `  FAMILY ` and `SUMMARY` of the previous table line: a million routes share a handful of each.
    private struct TableLine {
        var family: BGPAddressFamily?
        var head: [UInt8] = []
        var pathID: Int32 = -1
        var tail: [UInt8] = []
    }

    private mutating func writeRoute(
        _ key: BGPRouteKey, _ route: BGPRoute, _ line: inout TableLine, _ analyzer: BGPAnalyzer, ended: [UInt8]?
    ) {
        if key.family != line.family {
            line.family = key.family
            line.head = Array("  \(key.family) ".utf8)
        }
        if route.pathID != line.pathID {
            line.pathID = route.pathID
            // The cached bytes themselves (the space is written per line): a full table's neighbouring routes
            // rarely share a path, and building " " + summary allocated once per route. The path's summary
            // directly, not `analyzer.summary`: that caches it again as a String for the whole run.
            line.tail = summaryBytes(analyzer.path(route.pathID))
        }
        Self.appendRouteLine(&output, line.head, key, line.tail, ended ?? (route.stale ? Self.staleEnd : Self.plainEnd))
    }

    /// `--table --json`: one `route` object per route (with `routes`), then one `session` object per
    /// session, exactly as `BGPRender.tableJSON`. A route object is assembled from its session's head, the
    /// prefix, its path's attribute fields (built once per path with `JSONLine`) and the time; routes with a
    /// route distinguisher go through `BGPRender.routeJSON`. The common keys (event, time, host) are the same
    /// on every line, so they are part of the head: constant bytes, nothing built per route.
    public mutating func writeTableJSON(_ analyzer: BGPAnalyzer, routes: Bool, envelope: JSONEnvelope, time: Timestamp) {
        analyzer.sortTablesForOutput()
        var pathFields: [[UInt8]?] = []
        let common = envelope.object("route", time: time).text.dropLast()
        for session in analyzer.sortedSessions {
            guard routes else {
                output.appendLine(BGPRender.sessionJSON(session, envelope: envelope, time: time).text)
                continue
            }
            let speaker = "\"speaker\":\"\(session.key.speaker)\",\"peer\":\"\(session.key.peer)\""
            let flaps = session.flaps
            func write(_ table: BGPRouteTable, endedAt: Timestamp?) {
                let ended = endedAt.map { Array(",\"withdrawn_at_session_end\":\"\($0.iso8601)\"".utf8) } ?? []
                var family: BGPAddressFamily?
                var head: [UInt8] = []
                table.forEachSorted { key, route in
                    guard key.routeDistinguisher == nil else {
                        let path = analyzer.path(route.pathID)
                        output.appendLine(BGPRender.routeJSON(
                            session, key, route, path, envelope: envelope, time: time, endedAt: endedAt).text)
                        return
                    }
                    if key.family != family {
                        family = key.family
                        head = Array("\(common),\(speaker),\"family\":\"\(key.family)\",\"prefix\":\"".utf8)
                    }
                    let index = Int(route.pathID)
                    if index >= pathFields.count {
                        pathFields.append(contentsOf: repeatElement(nil, count: index + 1 - pathFields.count))
                    }
                    if pathFields[index] == nil {
                        var line = JSONLine()
                        BGPRender.addPath(&line, analyzer.path(route.pathID))
                        let body = line.text.dropFirst().dropLast()
                        pathFields[index] = body.isEmpty ? [] : Array(("," + body).utf8)
                    }
                    Self.appendRouteJSON(&output, head, key, pathFields[index] ?? [], route, flaps[key], ended)
                }
            }
            write(session.hot.table, endedAt: nil)
            if let endedAt = session.endedAt { write(session.endedRoutes, endedAt: endedAt) }
            output.appendLine(BGPRender.sessionJSON(session, envelope: envelope, time: time).text)
        }
        output.flushIfFull()
    }

    private static func appendRouteJSON(
        _ output: inout OutputBuffer, _ head: [UInt8], _ key: BGPRouteKey, _ fields: [UInt8], _ route: BGPRoute,
        _ flaps: Int?, _ ended: [UInt8]
    ) {
        let second = output.secondText(route.since.seconds)
        output.withSpace(head.count + maximumKey + fields.count + second.count + ended.count + 80) { writer in
            writer.append(head)
            writer.append(key.prefix)
            writer.append(byte: UInt8(ascii: "\""))
            if key.pathID != 0 {
                writer.append(",\"path_id\":")
                writer.append(decimal: UInt64(key.pathID))
            }
            writer.append(fields)
            writer.append(",\"since\":\"")
            writer.append(second)
            writer.append(nanoseconds: route.since.nanoseconds)
            writer.append("Z\",\"stale\":")
            writer.append(route.stale ? "true" : "false")
            if let flaps {
                writer.append(",\"flaps\":")
                writer.append(decimal: flaps)
            }
            writer.append(ended)
            writer.append("}\n")
        }
        output.flushIfFull()
    }

    /// `HEAD KEY TAIL` and `end`. The arrays come in as (borrowed) parameters, not captured
    /// variables: read from a closure's captures, each was retained and released per line, a tenth of the
    /// run time of a million-route table (perf).
    private static func appendRouteLine(
        _ output: inout OutputBuffer, _ head: [UInt8], _ key: BGPRouteKey, _ tail: [UInt8], _ end: [UInt8]
    ) {
        if key.routeDistinguisher != nil {
            output.append(bytes: head)
            output.append(key.description)
            output.append(" ")
            output.append(bytes: tail)
            output.append(bytes: end)
        } else {
            appendRouteLine(&output, head, key, tail, 0, tail.count, end)
            return
        }
        output.flushIfFull()
    }

    /// `BGPRouteKey.description` of a key without a route distinguisher.
    @inline(__always)
    private static func appendKey(_ key: BGPRouteKey, _ writer: inout LineWriter) {
        writer.append(key.prefix)
        if key.pathID != 0 {
            writer.append(" path-id ")
            writer.append(decimal: UInt64(key.pathID))
        }
    }

    // MARK: Events

    /// One event line (`BGPRender.text`); KEEPALIVEs only with `keepalives`.
    public mutating func write(_ event: BGPEvent, keepalives: Bool = false) {
        switch event {
        case .announce(let origin, let key, let path, let replaced) where key.routeDistinguisher == nil:
            writeAnnounce(origin, key, summary: summaries.span(path), replaced: replaced)
        case .withdraw(let origin, let key, let reason, let wasPresent, let rejected) where key.routeDistinguisher == nil:
            output.appendISO8601(origin.timestamp)
            output.append(byte: UInt8(ascii: " "))
            output.append(bytes: sessionBytes(origin.session))
            output.append(" withdraw ")
            output.append(bytes: familyBytes(key.family))
            output.append(byte: UInt8(ascii: " "))
            output.withSpace(Self.maximumKey) { Self.appendKey(key, &$0) }
            if reason != .withdrawn {
                output.append(" (")
                output.append(reason.rawValue)
                output.append(byte: UInt8(ascii: ")"))
            }
            if !wasPresent { output.append(" (was not announced)") }
            if let rejected {
                output.append(" rejected: ")
                output.append(bytes: summaryBytes(rejected))
            }
            output.append(byte: UInt8(ascii: "\n"))
        default:
            guard let line = BGPRender.text(event, keepalives: keepalives) else { return }
            output.appendLine(line)
        }
        output.flushIfFull()
    }
}
