/// The server's first packet on a new connection: the initial handshake (MySQL internals,
/// "Protocol::HandshakeV10" and "Protocol::HandshakeV9"; MariaDB knowledge base, "1 - Connecting",
/// "Initial handshake packet"). Decoded from one packet's payload.
///
/// ```
/// HandshakeV10                                   HandshakeV9 (pre-4.1)
/// 1            0x0a protocol version             1            0x09
/// string[NUL]  server version                    string[NUL]  server version
/// 4 (LE)       connection id                     4 (LE)       connection id
/// string[8]    auth-plugin-data part 1           string[NUL]  scramble
/// 1            0x00 filler
/// 2 (LE)       capability flags, low 16 bits
/// --- only when the payload goes on (pre-4.1 servers stop here):
/// 1            character set (collation id, low 8 bits)
/// 2 (LE)       status flags
/// 2 (LE)       capability flags, high 16 bits
/// 1            auth-plugin-data length (0 without CLIENT_PLUGIN_AUTH)
/// 6            reserved (MySQL: 10 bytes of zeros)
/// 4 (LE)       MariaDB extended capabilities (only when CLIENT_MYSQL, bit 0, is clear; else reserved)
/// string[n]    auth-plugin-data part 2, n = max(13, length - 8)  (with CLIENT_SECURE_CONNECTION)
/// string[NUL]  auth plugin name                                   (with CLIENT_PLUGIN_AUTH)
/// ```
///
/// MariaDB 10.x (up to 11.0) prefixes its version with `5.5.5-` so that MySQL replicas, which read the
/// major version from the first character, keep working; `version` removes it, `serverVersion` keeps the
/// bytes as sent.
public struct MySQLGreeting: Sendable, Hashable {
    public var protocolVersion: UInt8
    /// The version text exactly as sent (e.g. `5.5.5-10.11.19-MariaDB-0+deb12u1`).
    public var serverVersion: String
    /// The server's thread id for this connection (`CONNECTION_ID()` once logged in).
    public var connectionID: UInt32
    /// All capability flags; MariaDB's extended ones in the high 32 bits.
    public var capabilities: MySQLCapabilities
    /// The server's default collation (absent in pre-4.1 greetings).
    public var collation: MySQLCollation?
    public var status: MySQLStatusFlags?
    /// The authentication plugin the server starts with (`mysql_native_password`, ...).
    public var authPluginName: String?
    /// The nonce ("scramble") for password authentication, both parts joined.
    public var scramble: [UInt8]

    public static let versionPrefixHack = "5.5.5-"

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mysql
        let versionOffset = cursor.offset
        protocolVersion = try cursor.readU8()
        guard protocolVersion == 10 || protocolVersion == 9 else {
            throw ParseError(.unsupported, at: versionOffset, layer: .mysql, "not a HandshakeV10 or V9 greeting")
        }
        serverVersion = try cursor.readNulTerminatedString()
        connectionID = try cursor.readU32LE()
        collation = nil
        status = nil
        authPluginName = nil
        guard protocolVersion == 10 else {
            scramble = Array(try cursor.readNulTerminatedString().utf8)
            capabilities = []
            return
        }
        scramble = try cursor.readBytes(8)
        let fillerOffset = cursor.offset
        guard try cursor.readU8() == 0 else {
            throw ParseError(.malformed, at: fillerOffset, layer: .mysql, "greeting filler byte is not zero")
        }
        var flags = UInt64(try cursor.readU16LE())
        if cursor.isEmpty {
            capabilities = MySQLCapabilities(rawValue: flags)
            return
        }
        collation = MySQLCollation(rawValue: UInt16(try cursor.readU8()))
        status = MySQLStatusFlags(rawValue: try cursor.readU16LE())
        flags |= UInt64(try cursor.readU16LE()) << 16
        let authDataLength = Int(try cursor.readU8())
        try cursor.skip(6)
        let extended = try cursor.readU32LE()
        if flags & MySQLCapabilities.longPassword.rawValue == 0 {
            flags |= UInt64(extended) << 32
        }
        capabilities = MySQLCapabilities(rawValue: flags)
        if capabilities.contains(.secureConnection) {
            // The length counts both parts and a trailing NUL; servers always send at least 13 bytes here.
            let count = max(13, authDataLength - 8)
            var part = try cursor.readBytes(count)
            if part.last == 0 { part.removeLast() }
            scramble += part
        }
        if capabilities.contains(.pluginAuth) {
            authPluginName = try cursor.readNulTerminatedString()
        }
    }

    /// MariaDB when the server cleared CLIENT_MYSQL (MariaDB 10.2 and later always do) or says so in its
    /// version text (MariaDB 5.5 to 10.1 set the bit like MySQL does).
    public var flavour: MySQLFlavour {
        if protocolVersion == 10, collation != nil, !capabilities.contains(.longPassword) { return .mariaDB }
        if serverVersion.contains("MariaDB") { return .mariaDB }
        return .mysql
    }

    /// The version without MariaDB's `5.5.5-` replication prefix (MariaDB 11.1+ and MySQL send none).
    public var version: String {
        guard hasVersionPrefixHack else { return serverVersion }
        return String(serverVersion.dropFirst(Self.versionPrefixHack.count))
    }

    /// Whether the version text carries MariaDB's `5.5.5-` prefix in front of the real version.
    public var hasVersionPrefixHack: Bool {
        guard serverVersion.hasPrefix(Self.versionPrefixHack) else { return false }
        let rest = serverVersion.dropFirst(Self.versionPrefixHack.count)
        return rest.first?.isNumber == true && flavour == .mariaDB
    }

    /// Whether the server offers TLS (CLIENT_SSL): a client may send an SSLRequest next.
    public var offersTLS: Bool { capabilities.contains(.ssl) }
}

/// Which server family sent a greeting.
public enum MySQLFlavour: String, Sendable, Hashable, CaseIterable {
    case mariaDB = "mariadb"
    case mysql
}
