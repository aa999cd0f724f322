// libFuzzer harness: bytes as an MRT file (RFC 6396) read the way bgpdecode reads one: records framed by
// StreamBuffer with MRTHeader.frame, BGP4MP messages decoded with the record's AS size and ADD-PATH flag,
// TABLE_DUMP_V2 peer index tables and RIB entries decoded with abbreviated MP_REACH_NLRI.
//
// Input: [chunk 1][file bytes...]; the file is fed in pieces of (chunk + 1) bytes, and again whole: both
// must frame the same records (StreamBuffer's drip-feed property).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMRT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let chunk = Int(data[0]) + 1
    let file = UnsafeRawBufferPointer(start: data + 1, count: size - 1)

    func read(chunk: Int, decode: Bool) -> (records: [Range<Int>], failed: Bool) {
        // The reader's real capacity (16 MiB) would only slow the fuzzer down: a record's length is checked
        // against it before anything is buffered, and inputs are far shorter.
        var buffer = StreamBuffer(capacity: MRTHeader.maximumLength, layer: .mrt)
        var records: [Range<Int>] = []
        var peers: MRTPeerIndexTable?
        var checksum = 0
        var start = 0
        while start < file.count {
            let end = min(file.count, start + chunk)
            do throws(ParseError) {
                try buffer.feed(UnsafeRawBufferPointer(rebasing: file[start..<end]), framer: MRTHeader.frame) {
                    record in
                    precondition(record.offset >= 0 && record.endOffset <= file.count, "record outside the file")
                    records.append(record.offset..<record.endOffset)
                    if decode { checksum &+= decodeRecord(record, peers: &peers) }
                }
            } catch {
                _ = error.description
                return (records, true)
            }
            precondition(buffer.count <= file.count, "buffered more than was fed")
            start = end
        }
        if checksum == Int.min { print("unreachable") }
        return (records, false)
    }

    let whole = read(chunk: max(1, file.count), decode: true)
    let dripped = read(chunk: chunk, decode: false)
    precondition(whole.records == dripped.records && whole.failed == dripped.failed, "drip-fed MRT framed differently")
    return 0
}

/// One MRT record through every decoder bgpdecode applies to it.
func decodeRecord(_ record: Cursor, peers: inout MRTPeerIndexTable?) -> Int {
    var cursor = record
    guard let header = try? MRTHeader(parsing: &cursor) else { return 0 }
    precondition(header.body.upperBound <= record.endOffset, "MRT body past the record")
    guard var body = try? record.window(header.body, layer: .mrt) else { return 0 }
    var checksum = header.type.description.utf8.count
    switch header.type {
    case .bgp4mp, .bgp4mpET:
        let subtype = MRTBGP4MPSubtype(rawValue: header.subtype)
        checksum &+= subtype.description.utf8.count
        guard let entry = try? MRTBGP4MP(parsing: &body, subtype: subtype) else { return checksum }
        if let old = entry.oldState, let new = entry.newState {
            checksum &+= MRTBGP4MP.stateName(old).utf8.count &+ MRTBGP4MP.stateName(new).utf8.count
        } else if let range = entry.message, let message = try? record.window(range, layer: .bgp) {
            checksum &+= decodeBGPMessage(
                message,
                context: FuzzBGPContext(asSize: subtype.isAS4 ? 4 : 2, addPath: subtype.isAddPath))
        }
    case .tableDumpV2:
        let subtype = MRTTableDumpV2Subtype(rawValue: header.subtype)
        checksum &+= subtype.description.utf8.count
        if subtype == .peerIndexTable {
            peers = try? MRTPeerIndexTable(parsing: &body)
            checksum &+= peers?.peers.count ?? 0
            return checksum
        }
        guard let rib = try? MRTRIBRecord(parsing: &body, subtype: subtype) else { return checksum }
        checksum &+= rib.prefix?.description.utf8.count ?? 0
        for entry in rib.entries {
            if let peers, Int(entry.peerIndex) < peers.peers.count {
                checksum &+= peers.peers[Int(entry.peerIndex)].address.description.utf8.count
            }
            guard let window = try? record.window(entry.attributes) else { continue }
            let attributes = BGPAttributes(parsing: window, asSize: 4, abbreviatedMPReachFamily: rib.family)
            checksum &+= attributes.all.count &+ (attributes.effectiveASPath?.description.utf8.count ?? 0)
            checksum &+= attributes.mpReach?.nextHop.description.utf8.count ?? 0
            for community in attributes.communities { checksum &+= community.description.utf8.count }
            for community in attributes.largeCommunities { checksum &+= community.description.utf8.count }
        }
    default:
        break
    }
    return checksum
}
