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

    /// Read a file (or standard input for `-`) to the end. Throws a one-sentence message when it cannot be
    /// opened or read.
    public func read(path: String) throws(MRTReadError) {
        let descriptor = path == "-" ? 0 : open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw MRTReadError(message: "cannot open \(path): \(String(cString: strerror(errno))); check the path")
        }
        defer { if descriptor != 0 { close(descriptor) } }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw MRTReadError(message: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            chunk.withUnsafeBytes { feed($0.slice(0..<count)) }
        }
    }

    private func handleRecord(_ record: Cursor) {
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
        }
    }
}

/// Why an MRT input could not be read, as one sentence.
public struct MRTReadError: Error, Sendable {
    public var message: String
}
