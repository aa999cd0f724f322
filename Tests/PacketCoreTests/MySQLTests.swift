import Testing
@testable import PacketCore

/// MySQL/MariaDB handshake decoding from packets written out in the protocol documentation (MySQL
/// internals "Protocol::HandshakeV10" and "ERR_Packet" examples) and from the documented layouts, for
/// versions a lab cannot run (MariaDB 5.5, MySQL 5.x, pre-4.1). Recorded captures are checked against
/// tshark in SvcProbeTests.
@Suite("MySQL protocol")
struct MySQLTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = text.filter { $0.isHexDigit }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xFFFF)) + le16(UInt16(value >> 16)) }

    /// MySQL internals, Protocol::HandshakeV10, first example: a 5.5.2-m2 server, whole packet.
    static let mysql552Packet = hex("""
        36 00 00 00 0a 35 2e 35 2e 32 2d 6d 32 00 0b 00 00 00 64 76 48 40 49 2d 43 4a 00 ff f7 08 02 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 2a 34 64 7c 63 5a 77 6b 34 5e 5d 3a 00
        """)

    /// MySQL internals, Protocol::HandshakeV10, second example: 5.6.4-m7-log with plugin authentication.
    static let mysql564Packet = hex("""
        50 00 00 00 0a 35 2e 36 2e 34 2d 6d 37 2d 6c 6f 67 00 56 0a 00 00 52 42 33 76 7a 26 47 72 00 ff
        ff 08 02 00 0f c0 15 00 00 00 00 00 00 00 00 00 00 2b 79 44 26 2f 5a 5a 33 30 35 5a 47 00 6d 79
        73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00
        """)

    /// A MariaDB 5.5 greeting written field by field from the HandshakeV10 layout, with the values a
    /// 5.5.68-MariaDB server (CentOS 7) sends: CLIENT_LONG_PASSWORD set as in MySQL, no extended
    /// capabilities, no `5.5.5-` prefix, latin1_swedish_ci, autocommit, mysql_native_password.
    static let mariaDB55Payload: [UInt8] = [10] + Array("5.5.68-MariaDB".utf8) + [0] + le32(41)
        + Array("abcdefgh".utf8) + [0] + le16(0xF7FF) + [8] + le16(0x0002) + le16(0xA03F) + [21]
        + [UInt8](repeating: 0, count: 10) + Array("ijklmnopqrst".utf8) + [0]
        + Array("mysql_native_password".utf8) + [0]

    /// A MariaDB 10.11 greeting laid out the same way: `5.5.5-` prefix, CLIENT_MYSQL clear, extended
    /// capabilities 0x1d in the last reserved bytes.
    static let mariaDB1011Payload: [UInt8] = [10] + Array("5.5.5-10.11.19-MariaDB-0+deb12u1".utf8) + [0]
        + le32(5) + Array("ABCDEFGH".utf8) + [0] + le16(0xF7FE) + [45] + le16(0x0002) + le16(0x81FF) + [21]
        + [UInt8](repeating: 0, count: 6) + le32(0x1D) + Array("IJKLMNOPQRST".utf8) + [0]
        + Array("mysql_native_password".utf8) + [0]

    /// The ERR 1130 a MariaDB server sends instead of a greeting (no SQLSTATE: nothing negotiated yet).
    static let error1130Payload: [UInt8] = [0xFF] + le16(1130)
        + Array("Host '203.0.113.3' is not allowed to connect to this MariaDB server".utf8)

    /// MySQL internals, ERR_Packet example: 1096 with SQLSTATE HY000, whole packet.
    static let error1096Packet = hex("17 00 00 01 ff 48 04 23 48 59 30 30 30 4e 6f 20 74 61 62 6c 65 73 20 75 73 65 64")

    static func greeting(_ payload: [UInt8]) throws(ParseError) -> MySQLGreeting {
        try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in try MySQLGreeting(parsing: &cursor) }
    }

    static func packet(_ bytes: [UInt8]) throws(ParseError) -> (MySQLPacketHeader, [UInt8]) {
        try withCursor(over: bytes) { (cursor: inout Cursor) throws(ParseError) in
            let packet = try MySQLPacket(parsing: &cursor)
            return (packet.header, Array(bytes[packet.payload]))
        }
    }

    @Test func documentedMySQL552Greeting() throws {
        let (header, payload) = try Self.packet(Self.mysql552Packet)
        #expect(header.payloadLength == 0x36 && header.sequenceID == 0)
        let greeting = try Self.greeting(payload)
        #expect(greeting.protocolVersion == 10)
        #expect(greeting.serverVersion == "5.5.2-m2")
        #expect(greeting.version == "5.5.2-m2")
        #expect(greeting.connectionID == 11)
        #expect(greeting.capabilities.rawValue == 0xF7FF)
        #expect(greeting.collation == .latin1SwedishCI)
        #expect(greeting.status == .autocommit)
        #expect(greeting.authPluginName == nil)
        #expect(greeting.flavour == .mysql)
        #expect(!greeting.offersTLS)  // 0xf7ff lacks CLIENT_SSL (0x0800)
        #expect(greeting.scramble == Array("dvH@I-CJ".utf8) + Array("*4d|cZwk4^]:".utf8))
    }

    @Test func documentedMySQL564Greeting() throws {
        let (_, payload) = try Self.packet(Self.mysql564Packet)
        let greeting = try Self.greeting(payload)
        #expect(greeting.serverVersion == "5.6.4-m7-log")
        #expect(greeting.connectionID == 0x0A56)
        #expect(greeting.capabilities.rawValue == 0xC00F_FFFF)
        #expect(greeting.capabilities.contains([.pluginAuth, .protocol41, .secureConnection, .rememberOptions]))
        #expect(greeting.authPluginName == "mysql_native_password")
        #expect(greeting.scramble.count == 20)
        #expect(greeting.flavour == .mysql)
    }

    @Test func mariaDB55Greeting() throws {
        let greeting = try Self.greeting(Self.mariaDB55Payload)
        #expect(greeting.flavour == .mariaDB, "MariaDB 5.5 sets CLIENT_LONG_PASSWORD; its version says MariaDB")
        #expect(greeting.version == "5.5.68-MariaDB")
        #expect(!greeting.hasVersionPrefixHack)
        #expect(greeting.connectionID == 41)
        #expect(greeting.capabilities.mariaDBExtended == 0, "no extended capabilities before 10.2")
        #expect(greeting.capabilities.classic == 0xA03F_F7FF)
        #expect(greeting.authPluginName == "mysql_native_password")
        #expect(greeting.collation?.name == "latin1_swedish_ci")
        #expect(greeting.collation?.characterSet == "latin1")
    }

    @Test func mariaDB1011GreetingWithExtendedCapabilities() throws {
        let greeting = try Self.greeting(Self.mariaDB1011Payload)
        #expect(greeting.flavour == .mariaDB)
        #expect(greeting.hasVersionPrefixHack)
        #expect(greeting.version == "10.11.19-MariaDB-0+deb12u1")
        #expect(greeting.serverVersion == "5.5.5-10.11.19-MariaDB-0+deb12u1")
        #expect(greeting.capabilities.mariaDBExtended == 0x1D)
        #expect(greeting.capabilities.contains([.mariaDBProgress, .mariaDBStatementBulkOperations,
            .mariaDBExtendedMetadata, .mariaDBCacheMetadata]))
        #expect(!greeting.capabilities.contains(.mariaDBComMulti))
        let names = greeting.capabilities.names(mariaDB: true)
        #expect(names.first == "FOUND_ROWS" && names.contains("MARIADB_CACHE_METADATA"))
        #expect(!names.contains("MYSQL"))
        #expect(greeting.collation?.name == "utf8mb4_general_ci")
    }

    @Test func mariaDB11HasNoPrefix() throws {
        var payload = Self.mariaDB1011Payload
        let old = Array("5.5.5-10.11.19-MariaDB-0+deb12u1".utf8)
        payload.replaceSubrange(1..<(1 + old.count), with: Array("11.4.2-MariaDB".utf8))
        let greeting = try Self.greeting(payload)
        #expect(greeting.version == "11.4.2-MariaDB" && !greeting.hasVersionPrefixHack)
        #expect(greeting.flavour == .mariaDB)
    }

    @Test func mySQLVersionStartingWith555IsNotStripped() throws {
        // A MySQL 5.5.5 really is version 5.5.5: only a MariaDB greeting carries the prefix hack.
        var payload = Self.mariaDB55Payload
        let old = Array("5.5.68-MariaDB".utf8)
        payload.replaceSubrange(1..<(1 + old.count), with: Array("5.5.5-log".utf8))
        let greeting = try Self.greeting(payload)
        #expect(greeting.flavour == .mysql && greeting.version == "5.5.5-log")
    }

    @Test func protocol9Greeting() throws {
        let payload: [UInt8] = [9] + Array("3.22.32".utf8) + [0] + Self.le32(7) + Array("scramble".utf8) + [0]
        let greeting = try Self.greeting(payload)
        #expect(greeting.protocolVersion == 9 && greeting.serverVersion == "3.22.32" && greeting.connectionID == 7)
        #expect(greeting.collation == nil && greeting.capabilities.isEmpty && greeting.scramble.count == 8)
    }

    @Test func otherProtocolVersionsAreUnsupported() {
        #expect(throws: ParseError.self) { try Self.greeting([11, 0x41, 0]) }
        do {
            _ = try Self.greeting(Array("SSH-2.0-OpenSSH_9.2\r\n".utf8))
            Issue.record("an SSH banner decoded as a greeting")
        } catch {
            #expect(error.kind == .unsupported && error.layer == .mysql && error.offset == 0)
        }
    }

    @Test func error1130WithoutSQLState() throws {
        let error = try withCursor(over: Self.error1130Payload) { (cursor: inout Cursor) throws(ParseError) in
            try MySQLErrorPacket(parsing: &cursor)
        }
        #expect(error.code == .hostNotAllowed && error.code.rawValue == 1130)
        #expect(error.code.symbol == "ER_HOST_NOT_PRIVILEGED")
        #expect(error.sqlState == nil)
        #expect(error.message == "Host '203.0.113.3' is not allowed to connect to this MariaDB server")
    }

    @Test func documentedErrorWithSQLState() throws {
        let (header, payload) = try Self.packet(Self.error1096Packet)
        #expect(header.sequenceID == 1 && header.payloadLength == 0x17)
        let error = try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
            try MySQLErrorPacket(parsing: &cursor)
        }
        #expect(error.code.rawValue == 1096 && error.sqlState == "HY000" && error.message == "No tables used")
        #expect(error.code.meaning == nil && error.code.symbol == "ER_1096")
    }

    @Test(arguments: [(1040, "ER_CON_COUNT_ERROR"), (1045, "ER_ACCESS_DENIED_ERROR"), (1129, "ER_HOST_IS_BLOCKED"),
        (1130, "ER_HOST_NOT_PRIVILEGED")])
    func errorNames(code: Int, symbol: String) {
        let name = MySQLErrorCode(rawValue: UInt16(code))
        #expect(name.symbol == symbol && name.meaning != nil)
    }

    @Test func serverReplies() throws {
        func reply(_ payload: [UInt8]) throws(ParseError) -> MySQLServerReply {
            try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
                try MySQLServerReply(parsing: &cursor)
            }
        }
        #expect(try reply([0, 0, 0, 2, 0, 0, 0]) == .ok)
        #expect(try reply([0xFE] + Array("client_ed25519".utf8) + [0, 1, 2]) == .authSwitch(plugin: "client_ed25519"))
        #expect(try reply([0xFE]) == .authSwitch(plugin: "mysql_old_password"))
        #expect(try reply([0x01, 0x04]) == .authMoreData(length: 1))
        guard case .error(let error) = try reply([0xFF] + Self.le16(1045) + Array("#28000Access denied".utf8)) else {
            Issue.record("ERR not recognised")
            return
        }
        #expect(error.code == .accessDenied && error.sqlState == "28000" && error.message == "Access denied")
    }

    @Test func handshakeResponseRoundTrip() throws {
        let capabilities: MySQLCapabilities = [.protocol41, .secureConnection, .pluginAuth, .mariaDBProgress]
        let payload = MySQLClientHello.handshakeResponse(
            capabilities: capabilities, collation: .utf8mb4GeneralCI, user: "svcprobe", plugin: "mysql_native_password")
        // Fixed part (32) + "svcprobe\0" (9) + auth length (1) + plugin name with NUL (22).
        #expect(payload.count == 32 + 9 + 1 + 22)
        let hello = try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
            try MySQLClientHello(parsing: &cursor)
        }
        #expect(hello.user == "svcprobe" && hello.authResponseLength == 0)
        #expect(hello.authPluginName == "mysql_native_password" && !hello.isSSLRequest)
        #expect(hello.capabilities == capabilities, "extended bits travel because CLIENT_MYSQL is clear")
        #expect(hello.collation == .utf8mb4GeneralCI)
    }

    @Test func sslRequestIsTheFixedPartOnly() throws {
        let payload = MySQLClientHello.sslRequest(capabilities: [.protocol41, .longPassword], collation: .binary)
        #expect(payload.count == MySQLClientHello.fixedLength)
        #expect(Array(payload[0..<4]) == Self.le32(0x0A01), "PROTOCOL_41 | SSL | LONG_PASSWORD")
        let hello = try withCursor(over: payload) { (cursor: inout Cursor) throws(ParseError) in
            try MySQLClientHello(parsing: &cursor)
        }
        #expect(hello.isSSLRequest && hello.user == nil && hello.maxPacketSize == 16_777_216)
    }

    @Test func packetHeaderBytes() {
        #expect(MySQLPacketHeader(payloadLength: 0x123456, sequenceID: 3).bytes == [0x56, 0x34, 0x12, 3])
        #expect(MySQLPacket.encode([1], sequenceID: 0) == [1, 0, 0, 0, 1], "COM_QUIT")
    }

    // MARK: Truncation and framing

    static let sweepPayloads: [(String, [UInt8])] = [
        ("mariadb-5.5", mariaDB55Payload), ("mariadb-10.11", mariaDB1011Payload),
        ("mysql-5.6.4", Array(mysql564Packet.dropFirst(4))),
    ]

    /// Every prefix of a greeting payload is either reported truncated or, cut exactly after the low
    /// capability bytes, read as the short pre-4.1 form, which must agree with the full decode.
    @Test(arguments: sweepPayloads.indices)
    func greetingTruncationSweep(index: Int) throws {
        let (name, payload) = Self.sweepPayloads[index]
        let full = try Self.greeting(payload)
        let shortForm = 1 + full.serverVersion.utf8.count + 1 + 4 + 8 + 1 + 2
        for length in 0..<payload.count {
            do {
                let cut = try Self.greeting(Array(payload.prefix(length)))
                #expect(length == shortForm, "\(name)[..<\(length)] decoded cleanly")
                #expect(cut.serverVersion == full.serverVersion && cut.connectionID == full.connectionID)
                #expect(cut.capabilities.rawValue == full.capabilities.rawValue & 0xFFFF && cut.collation == nil)
            } catch {
                #expect(error.kind == .truncated, "\(name)[..<\(length)]: \(error)")
                #expect(error.offset <= length && error.layer == .mysql)
            }
        }
    }

    @Test func errorAndHelloTruncationSweep() throws {
        let hello = MySQLClientHello.handshakeResponse(
            capabilities: [.protocol41, .secureConnection, .pluginAuth], collation: .binary, user: "u", plugin: "p")
        for length in 0..<3 {
            #expect(throws: ParseError.self) {
                try withCursor(over: Array(Self.error1130Payload.prefix(length))) { (c: inout Cursor) throws(ParseError) in
                    _ = try MySQLErrorPacket(parsing: &c)
                }
            }
        }
        for length in 0..<hello.count where length != MySQLClientHello.fixedLength {
            do {
                _ = try withCursor(over: Array(hello.prefix(length))) { (c: inout Cursor) throws(ParseError) in
                    try MySQLClientHello(parsing: &c)
                }
                Issue.record("hello[..<\(length)] decoded")
            } catch {
                #expect(error.kind == .truncated, "hello[..<\(length)]: \(error)")
            }
        }
    }

    /// Greeting, then a reply, as one server stream: framed the same whole, byte by byte or in odd chunks.
    @Test(arguments: [1, 3, 7, 1000])
    func framerDripFeed(chunk: Int) throws {
        let stream = MySQLPacket.encode(Self.mariaDB1011Payload, sequenceID: 0) + Self.error1096Packet
        var buffer = StreamBuffer(capacity: 70_000, layer: .mysql)
        var packets: [(UInt8, Int, Int)] = []
        var start = 0
        while start < stream.count {
            let end = min(stream.count, start + chunk)
            try stream[start..<end].withUnsafeBytes { (piece: UnsafeRawBufferPointer) throws in
                try buffer.feed(piece, framer: { MySQLPacket.frame(&$0) }) { message in
                    let offset = message.offset
                    if let packet = try? MySQLPacket(parsing: &message) {
                        packets.append((packet.header.sequenceID, packet.payload.count, offset))
                    }
                }
            }
            start = end
        }
        #expect(buffer.isEmpty)
        #expect(packets.map(\.0) == [0, 1])
        #expect(packets.map(\.1) == [Self.mariaDB1011Payload.count, 0x17])
        #expect(packets.map(\.2) == [0, Self.mariaDB1011Payload.count + 4], "stream offsets")
    }

    @Test func framerRejectsHugeLengths() {
        let bytes: [UInt8] = Array("HTTP/1.1 400 Bad".utf8)  // 'H','T','T' = length 0x545448
        let result = withCursor(over: bytes) { (cursor: inout Cursor) in MySQLPacket.frame(&cursor) }
        guard case .invalid(let error) = result else {
            Issue.record("expected invalid, got \(result)")
            return
        }
        #expect(error.kind == .malformed && error.layer == .mysql)
        #expect(withCursor(over: [5, 0, 0]) { (c: inout Cursor) in MySQLPacket.frame(&c) } == .needMore)
        #expect(withCursor(over: [1, 0, 0, 0]) { (c: inout Cursor) in MySQLPacket.frame(&c) } == .needMore)
        #expect(withCursor(over: [1, 0, 0, 0, 1]) { (c: inout Cursor) in MySQLPacket.frame(&c) } == .message(length: 5))
    }
}
