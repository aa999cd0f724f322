// libFuzzer harness: bytes as a MySQL/MariaDB TCP stream (either direction), framed into packets by
// StreamBuffer with MySQLPacket.frame as svcprobe does, and every packet's payload through each handshake
// decoder: greeting, ERR packet, server reply (OK/ERR/auth switch/more data), client hello.
//
// Input: [mode 1][stream bytes...]. Mode bits 0-5: drip-feed chunk size - 1; bit 6: the framer's payload
// cap is svcprobe's 65536 (else the protocol's 0xFFFFFF); bit 7: decode the whole input as one payload
// too (a packet svcprobe might read without framing).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMySQL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let mode = data[0]
    let stream = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let chunk = Int(mode & 0x3F) + 1
    let cap = mode & 0x40 != 0 ? 65_536 : MySQLPacketHeader.maximumPayload

    func frame(chunk: Int, decode: Bool) -> (packets: [Range<Int>], failed: Bool) {
        var buffer = StreamBuffer(capacity: MySQLPacketHeader.size + cap, layer: .mysql)
        var packets: [Range<Int>] = []
        var checksum = 0
        var start = 0
        while start < stream.count {
            let end = min(stream.count, start + chunk)
            do throws(ParseError) {
                try buffer.feed(
                    UnsafeRawBufferPointer(rebasing: stream[start..<end]),
                    framer: { MySQLPacket.frame(&$0, maximumPayload: cap) }
                ) { message in
                    precondition(message.offset >= 0 && message.endOffset <= stream.count, "packet outside the stream")
                    packets.append(message.offset..<message.endOffset)
                    guard decode else { return }
                    var cursor = message
                    guard let packet = try? MySQLPacket(parsing: &cursor) else {
                        preconditionFailure("a framed packet must parse")
                    }
                    precondition(packet.payload.upperBound == message.endOffset, "payload does not end the packet")
                    if let payload = try? message.window(packet.payload) { checksum &+= decodePayload(payload) }
                }
            } catch {
                _ = error.description
                return (packets, true)
            }
            start = end
        }
        if checksum == Int.min { print("unreachable") }
        return (packets, false)
    }

    let whole = frame(chunk: max(1, stream.count), decode: true)
    let dripped = frame(chunk: chunk, decode: false)
    precondition(
        whole.packets == dripped.packets && whole.failed == dripped.failed, "drip-fed MySQL framed differently")
    if mode & 0x80 != 0 {
        _ = decodePayload(Cursor(stream, layer: .mysql))
    }
    return 0
}

/// One payload through every handshake decoder, touching every decoded value.
func decodePayload(_ payload: Cursor) -> Int {
    var checksum = 0
    var cursor = payload
    if let greeting = try? MySQLGreeting(parsing: &cursor) {
        checksum &+= greeting.serverVersion.utf8.count &+ greeting.version.utf8.count &+ greeting.scramble.count
        checksum &+= greeting.capabilities.names(mariaDB: greeting.flavour == .mariaDB).count
        checksum &+= greeting.collation?.description.utf8.count ?? 0
        checksum &+= greeting.status?.description.utf8.count ?? 0
        checksum &+= (greeting.authPluginName?.utf8.count ?? 0) &+ (greeting.hasVersionPrefixHack ? 1 : 0)
    }
    cursor = payload
    if let error = try? MySQLErrorPacket(parsing: &cursor) {
        checksum &+= error.message.utf8.count &+ error.code.symbol.utf8.count &+ (error.code.meaning?.utf8.count ?? 0)
        checksum &+= error.sqlState?.utf8.count ?? 0
    }
    cursor = payload
    if let reply = try? MySQLServerReply(parsing: &cursor) {
        switch reply {
        case .ok: checksum &+= 1
        case .error(let error): checksum &+= Int(error.code.rawValue)
        case .authSwitch(let plugin): checksum &+= plugin.utf8.count
        case .authMoreData(let length): checksum &+= length
        case .other(let first): checksum &+= Int(first)
        }
    }
    cursor = payload
    if let hello = try? MySQLClientHello(parsing: &cursor) {
        checksum &+= (hello.user?.utf8.count ?? 0) &+ hello.authResponseLength &+ (hello.database?.utf8.count ?? 0)
        checksum &+= (hello.authPluginName?.utf8.count ?? 0) &+ (hello.isSSLRequest ? 1 : 0)
        checksum &+= hello.collation.description.utf8.count
    }
    return checksum
}
