/// The client's first packet after the greeting (MySQL internals, "Protocol::SSLRequest" and
/// "Protocol::HandshakeResponse41"; MariaDB knowledge base, "SSLRequest packet", "Handshake response
/// packet"). Both start with the same 32 bytes; an SSLRequest is exactly those 32 bytes with CLIENT_SSL
/// set, after which the client starts TLS.
///
/// ```
/// 4 (LE)       client capability flags (CLIENT_PROTOCOL_41 set)
/// 4 (LE)       max packet size
/// 1            character set (collation id)
/// 19           reserved (zeros)
/// 4 (LE)       MariaDB extended client capabilities (when CLIENT_MYSQL is clear; else reserved)
/// --- HandshakeResponse41 only:
/// string[NUL]  user name
/// auth response: with PLUGIN_AUTH_LENENC_CLIENT_DATA a length-encoded string, else with
///              SECURE_CONNECTION 1 length byte + data, else string[NUL]
/// string[NUL]  database                (with CONNECT_WITH_DB)
/// string[NUL]  auth plugin name        (with PLUGIN_AUTH)
/// ... connection attributes            (with CONNECT_ATTRS; not decoded)
/// ```
public struct MySQLClientHello: Sendable, Hashable {
    public var capabilities: MySQLCapabilities
    public var maxPacketSize: UInt32
    public var collation: MySQLCollation
    /// nil for an SSLRequest.
    public var user: String?
    public var authResponseLength: Int
    public var database: String?
    public var authPluginName: String?

    /// The fixed part's length, which is the whole of an SSLRequest.
    public static let fixedLength = 32

    /// An SSLRequest: the client asks the server to switch to TLS before it says who it is.
    public var isSSLRequest: Bool { user == nil && capabilities.contains(.ssl) }

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mysql
        let start = cursor.offset
        var flags = UInt64(try cursor.readU32LE())
        guard flags & MySQLCapabilities.protocol41.rawValue != 0 else {
            throw ParseError(.unsupported, at: start, layer: .mysql, "pre-4.1 client handshake")
        }
        maxPacketSize = try cursor.readU32LE()
        collation = MySQLCollation(rawValue: UInt16(try cursor.readU8()))
        try cursor.skip(19)
        let extended = try cursor.readU32LE()
        if flags & MySQLCapabilities.longPassword.rawValue == 0 { flags |= UInt64(extended) << 32 }
        capabilities = MySQLCapabilities(rawValue: flags)
        user = nil
        authResponseLength = 0
        database = nil
        authPluginName = nil
        if cursor.isEmpty { return }
        user = try cursor.readNulTerminatedString()
        if capabilities.contains(.pluginAuthLengthEncodedData) {
            authResponseLength = try Self.readLengthEncodedInteger(&cursor)
        } else if capabilities.contains(.secureConnection) {
            authResponseLength = Int(try cursor.readU8())
        } else {
            // Pre-4.1 authentication: the scrambled password is NUL-terminated, and no plugin name follows.
            authResponseLength = try cursor.readNulTerminatedString().utf8.count
            if capabilities.contains(.connectWithDB) { database = try cursor.readNulTerminatedString() }
            return
        }
        try cursor.skip(authResponseLength)
        if capabilities.contains(.connectWithDB) { database = try cursor.readNulTerminatedString() }
        if capabilities.contains(.pluginAuth) {
            authPluginName = try cursor.readNulTerminatedString()
        }
    }

    /// A length-encoded integer (MySQL internals, "Integer Types"): 1, 3, 4 or 9 bytes.
    static func readLengthEncodedInteger(_ cursor: inout Cursor) throws(ParseError) -> Int {
        let first = try cursor.readU8()
        switch first {
        case 0..<0xFB: return Int(first)
        case 0xFC: return Int(try cursor.readU16LE())
        case 0xFD: return Int(try cursor.readU24LE())
        case 0xFE:
            let value = try cursor.readU64LE()
            guard value <= UInt64(Int32.max) else { throw cursor.error(.malformed, "length-encoded integer too large") }
            return Int(value)
        default: throw cursor.error(.malformed, "0xfb/0xff cannot start a length-encoded integer")
        }
    }

    // MARK: Building (the probe's own packets)

    /// The 32 fixed bytes every client hello starts with.
    public static func fixedPart(
        capabilities: MySQLCapabilities, maxPacketSize: UInt32 = 16_777_216, collation: MySQLCollation
    ) -> [UInt8] {
        var bytes = littleEndian(capabilities.classic) + littleEndian(maxPacketSize)
        bytes.append(UInt8(truncatingIfNeeded: collation.rawValue))
        bytes += [UInt8](repeating: 0, count: 19)
        let extended = capabilities.contains(.longPassword) ? 0 : capabilities.mariaDBExtended
        return bytes + littleEndian(extended)
    }

    /// An SSLRequest payload.
    public static func sslRequest(capabilities: MySQLCapabilities, collation: MySQLCollation) -> [UInt8] {
        fixedPart(capabilities: capabilities.union(.ssl), collation: collation)
    }

    /// A HandshakeResponse41 payload with `user` and an empty auth response for `plugin`; `capabilities`
    /// must include PROTOCOL_41, SECURE_CONNECTION and PLUGIN_AUTH.
    public static func handshakeResponse(
        capabilities: MySQLCapabilities, collation: MySQLCollation, user: String, plugin: String
    ) -> [UInt8] {
        var bytes = fixedPart(capabilities: capabilities, collation: collation)
        bytes += Array(user.utf8) + [0]
        bytes.append(0)  // auth response length: no password
        bytes += Array(plugin.utf8) + [0]
        return bytes
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
}
