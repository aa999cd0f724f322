import Glibc
import PacketCore

/// Feeds MRT records (RFC 6396) to a `BGPAnalyzer`: BGP4MP/BGP4MP_ET messages (2- and 4-byte AS
/// variants, RFC 8050 ADD-PATH variants) and state changes, and TABLE_DUMP_V2 RIB entries, whose peers
/// come from the PEER_INDEX_TABLE. Bytes can arrive in any pieces (a pipe from zcat), framed by
/// `StreamBuffer`.
public final class BGPMRTDecoder {
    public let analyzer: BGPAnalyzer
    /// --asn-size / --add-path. (Constants: `handleRecord` reads them for every record, and a `var` of a
    /// class is checked for exclusive access at each read.)
    public let asSizeOverride: Int?
    public let addPathOverride: Bool?
    private var buffer = StreamBuffer(capacity: MRTHeader.maximumLength, layer: .mrt)
    private var peers: MRTPeerIndexTable?
    private var lastContextKey: BGPSessionKey?
    private var lastContextSource: BGPContextSource?
    public var records: Int { recordCount }
    public var skippedRecords: Int { skippedCount }
    var recordCount = 0
    var skippedCount = 0
    /// Records of types this decoder does not read (TABLE_DUMP v1, OSPF, IS-IS, ...), per type.
    public private(set) var unsupportedTypes: [MRTType: Int] = [:]
    /// The first framing error: an MRT file has no markers to resynchronise on, so reading stops there.
    public private(set) var failure: ParseError?

    public init(analyzer: BGPAnalyzer, asSize: Int? = nil, addPath: Bool? = nil) {
        self.analyzer = analyzer
        asSizeOverride = asSize
        addPathOverride = addPath
    }

    /// Feed the next bytes of the file.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        do throws(ParseError) {
            try buffer.feed(bytes, framer: MRTHeader.frame) { record in handleRecord(record) }
        } catch {
            failure = error
        }
    }

    /// Bytes of an unfinished record left at the end (a truncated file), 0 when the file ended cleanly.
    public var leftoverBytes: Int { buffer.count }

    /// How a `read(path:)` ended.
    public enum ReadEnd: Sendable, Equatable {
        /// The input ended (check `leftoverBytes` for a cut last record).
        case endOfInput
        /// A framing error (`failure`): nothing after it can be read, so reading stopped there (an
        /// endless input such as `yes` or /dev/urandom is not read on for ever).
        case framingError
        /// `shouldStop` said so (SIGINT/SIGTERM).
        case stopped
    }

    /// Read a file (or standard input for `-`) to its end, the first framing error, or until `shouldStop`
    /// (checked at least every `stopCheckMilliseconds` while a pipe or FIFO is quiet, and between chunks).
    /// Throws a one-sentence message when it cannot be opened or read.
    public func read(path: String, shouldStop: () -> Bool = { false }) throws(MRTReadError) -> ReadEnd {
        let shown = PrintableText.escaped(path)
        // O_NONBLOCK: opening a FIFO with no writer yet must not block where no signal can be checked.
        let descriptor = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw MRTReadError(message: "cannot open \(shown): \(String(cString: strerror(errno))); check the path")
        }
        defer { if descriptor != 0 { close(descriptor) } }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        // A FIFO opened without a writer reads as ended until one opens it: wait for a writer's first byte
        // (poll says POLLHUP only after a writer came and went).
        var sawData = false
        let isFIFO = Self.isFIFO(descriptor)
        while true {
            if shouldStop() { return .stopped }
            // poll, unlike read, is never restarted after a signal handler (SA_RESTART), so a quiet pipe or
            // FIFO still lets SIGINT/SIGTERM stop the loop.
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptorSet, 1, Self.stopCheckMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw MRTReadError(message: "cannot read \(shown): \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw MRTReadError(message: "cannot read \(shown): \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                if isFIFO && !sawData && descriptorSet.revents & Int16(POLLHUP) == 0 {
                    // No writer yet: poll returns at once with nothing to read; wait a little.
                    usleep(UInt32(Self.stopCheckMilliseconds) * 1000)
                    continue
                }
                return .endOfInput
            }
            sawData = true
            chunk.withUnsafeBytes { feed($0.slice(0..<count)) }
            if failure != nil { return .framingError }
        }
    }

    /// How often a quiet input checks `shouldStop`.
    public static let stopCheckMilliseconds: Int32 = 100

    private static func isFIFO(_ descriptor: Int32) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFIFO
    }

    /// What was skipped, for the summary: nil when every record was read.
    public var skippedSummary: String? {
        guard skippedCount > 0 else { return nil }
        var text = "MRT: \(recordCount) records, \(skippedCount) skipped"
        let unsupported = unsupportedTypes.sorted { $0.key.rawValue < $1.key.rawValue }
        if !unsupported.isEmpty {
            text += " (" + unsupported.map { "\($0.value) \($0.key) not supported" }.joined(separator: ", ")
            let malformed = skippedCount - unsupported.reduce(0) { $0 + $1.value }
            if malformed > 0 { text += ", \(malformed) malformed or without a peer" }
            text += ")"
        } else {
            text += " (malformed or without a peer)"
        }
        return text
    }

    /// Records read before giving up on an input none of whose records this decoder reads: /dev/zero frames
    /// as an endless run of empty type-0 records, and was read for ever.
    public static let recordsBeforeGivingUp = 1024

    private func handleRecord(_ record: Cursor) {
        guard failure == nil else { return }
        if recordCount == Self.recordsBeforeGivingUp && skippedCount == recordCount {
            failure = ParseError(
                .unsupported, at: record.offset, layer: .mrt,
                "none of the first 1024 records is of a type bgpdecode reads (BGP4MP, TABLE_DUMP_V2)")
            return
        }
        recordCount += 1
        var cursor = record
        let header: MRTHeader
        do throws(ParseError) {
            header = try MRTHeader(parsing: &cursor)
        } catch {
            skippedCount += 1
            return
        }
        guard var body = try? record.window(header.body, layer: .mrt) else { return }
        switch header.type {
        case .bgp4mp, .bgp4mpET:
            let subtype = MRTBGP4MPSubtype(rawValue: header.subtype)
            let entry: MRTBGP4MP
            do throws(ParseError) {
                entry = try MRTBGP4MP(parsing: &body, subtype: subtype)
            } catch {
                skippedCount += 1
                return
            }
            let fromPeer = BGPSessionKey(speaker: entry.peerAddress, peer: entry.localAddress)
            let key = subtype.isLocal ? fromPeer.reversed : fromPeer
            if let old = entry.oldState, let new = entry.newState {
                analyzer.stateChange(session: key, old: old, new: new, timestamp: header.timestamp, offset: header.offset)
            } else if let range = entry.message, let message = try? record.window(range, layer: .bgp) {
                // RFC 6396 section 4.4.2: BGP4MP_MESSAGE carries 2-byte AS paths, the AS4 subtypes 4-byte ones.
                let context = BGPMessageContext(asSize: subtype.isAS4 ? 4 : 2, addPathFamilies: [],
                    addPathEverywhere: subtype.isAddPath, source: .mrt)
                    .overridden(asSize: asSizeOverride, addPath: addPathOverride)
                if key != lastContextKey || context.source != lastContextSource {
                    // Once per run of records of one session, not per record.
                    analyzer.setContextSource(context.source, session: key, timestamp: header.timestamp)
                    lastContextKey = key
                    lastContextSource = context.source
                }
                analyzer.handleMessage(message, session: key, context: context, timestamp: header.timestamp)
            }
        case .tableDumpV2:
            let subtype = MRTTableDumpV2Subtype(rawValue: header.subtype)
            do throws(ParseError) {
                if subtype == .peerIndexTable {
                    peers = try MRTPeerIndexTable(parsing: &body)
                    return
                }
                let rib = try MRTRIBRecord(parsing: &body, subtype: subtype)
                guard let prefix = rib.prefix else { return }
                let collector = IPAddress.v4(peers?.collectorID ?? .any)
                for entry in rib.entries {
                    guard let peers, Int(entry.peerIndex) < peers.peers.count else {
                        skippedCount += 1
                        continue
                    }
                    let peer = peers.peers[Int(entry.peerIndex)]
                    analyzer.installTableEntry(
                        session: BGPSessionKey(speaker: peer.address, peer: collector),
                        route: BGPRouteKey(family: rib.family, pathID: entry.pathID, prefix: prefix),
                        record: record, attributes: entry.attributes,
                        timestamp: Timestamp(seconds: Int64(entry.originatedTime), nanoseconds: 0), offset: header.offset)
                }
            } catch {
                skippedCount += 1
            }
        default:
            skippedCount += 1
            unsupportedTypes[header.type, default: 0] += 1
        }
    }
}

/// Why an MRT input could not be read, as one sentence.
public struct MRTReadError: Error, Sendable {
    public var message: String
}
