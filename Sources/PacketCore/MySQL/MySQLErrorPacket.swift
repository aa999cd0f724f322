/// An ERR packet (MySQL internals, "ERR_Packet"; MariaDB knowledge base, "ERR_Packet"). A server sends one
/// instead of the greeting when it refuses the connection outright (1130 host not allowed, 1129 host
/// blocked, 1040 too many connections), and after a failed login (1045).
///
/// ```
/// 1            0xff header
/// 2 (LE)       error code
/// --- with CLIENT_PROTOCOL_41 (never before the greeting, when nothing is negotiated yet):
/// string[1]    '#' SQL state marker
/// string[5]    SQL state
/// ---
/// string[EOF]  human-readable message
/// ```
///
/// The SQLSTATE is recognised by its marker, since a refusal in place of the greeting has none. MariaDB
/// also uses code 0xFFFF for progress reports during long commands (never during the handshake).
public struct MySQLErrorPacket: Sendable, Hashable {
    public var code: MySQLErrorCode
    /// Five characters (`28000`, `HY000`), when the packet carries one.
    public var sqlState: String?
    public var message: String

    public static let header: UInt8 = 0xFF

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mysql
        let headerOffset = cursor.offset
        guard try cursor.readU8() == Self.header else {
            throw ParseError(.malformed, at: headerOffset, layer: .mysql, "ERR packet must start with 0xff")
        }
        code = MySQLErrorCode(rawValue: try cursor.readU16LE())
        if cursor.peekU8() == UInt8(ascii: "#"), cursor.remaining >= 6 {
            try cursor.skip(1)
            sqlState = try cursor.readString(5)
        } else {
            sqlState = nil
        }
        message = String(decoding: cursor.readRest(), as: UTF8.self)
    }
}

/// A server error number (MySQL `include/mysqld_error.h`, MariaDB `sql/share/errmsg-utf8.txt`). Open:
/// every code is kept; the table names the ones a connection probe meets.
public struct MySQLErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let tooManyConnections = MySQLErrorCode(rawValue: 1040)
    public static let badHandshake = MySQLErrorCode(rawValue: 1043)
    public static let accessDenied = MySQLErrorCode(rawValue: 1045)
    public static let hostBlocked = MySQLErrorCode(rawValue: 1129)
    public static let hostNotAllowed = MySQLErrorCode(rawValue: 1130)

    /// The server's symbol and a few words for an operator, or nil for codes not in the table.
    public var entry: (symbol: String, meaning: String)? { Self.table[rawValue] }

    /// The symbol (`ER_HOST_NOT_PRIVILEGED`), or `ER_<code>` when unknown.
    public var symbol: String { entry?.symbol ?? "ER_\(rawValue)" }
    /// A short meaning (`host not allowed`), or nil when unknown.
    public var meaning: String? { entry?.meaning }

    public var description: String { String(rawValue) }

    static let table: [UInt16: (symbol: String, meaning: String)] = [
        1040: ("ER_CON_COUNT_ERROR", "too many connections"),
        1041: ("ER_OUT_OF_RESOURCES", "server out of memory"),
        1042: ("ER_BAD_HOST_ERROR", "cannot get host name for the client address"),
        1043: ("ER_HANDSHAKE_ERROR", "bad handshake"),
        1044: ("ER_DBACCESS_DENIED_ERROR", "access to database denied"),
        1045: ("ER_ACCESS_DENIED_ERROR", "access denied (user or password)"),
        1047: ("ER_UNKNOWN_COM_ERROR", "unknown command"),
        1049: ("ER_BAD_DB_ERROR", "unknown database"),
        1053: ("ER_SERVER_SHUTDOWN", "server shutdown in progress"),
        1077: ("ER_NORMAL_SHUTDOWN", "normal shutdown"),
        1129: ("ER_HOST_IS_BLOCKED", "host blocked: too many connection errors (max_connect_errors)"),
        1130: ("ER_HOST_NOT_PRIVILEGED", "host not allowed to connect"),
        1135: ("ER_CANT_CREATE_THREAD", "cannot create a thread for the connection"),
        1152: ("ER_ABORTING_CONNECTION", "connection aborted"),
        1153: ("ER_NET_PACKET_TOO_LARGE", "packet larger than max_allowed_packet"),
        1158: ("ER_NET_READ_ERROR", "error reading from the connection"),
        1159: ("ER_NET_READ_INTERRUPTED", "timeout reading from the connection"),
        1160: ("ER_NET_ERROR_ON_WRITE", "error writing to the connection"),
        1161: ("ER_NET_WRITE_INTERRUPTED", "timeout writing to the connection"),
        1184: ("ER_NEW_ABORTING_CONNECTION", "connection aborted"),
        1203: ("ER_TOO_MANY_USER_CONNECTIONS", "too many connections for this user (max_user_connections)"),
        1226: ("ER_USER_LIMIT_REACHED", "user resource limit reached"),
        1251: ("ER_NOT_SUPPORTED_AUTH_MODE", "client does not support the authentication protocol"),
        1275: ("ER_SERVER_IS_IN_SECURE_AUTH_MODE", "server in secure_auth mode"),
        1698: ("ER_ACCESS_DENIED_NO_PASSWORD_ERROR", "access denied (no password)"),
        1820: ("ER_MUST_CHANGE_PASSWORD", "password must be changed"),
        1862: ("ER_MUST_CHANGE_PASSWORD_LOGIN", "password expired"),
        1927: ("ER_CONNECTION_KILLED", "connection killed"),
        3118: ("ER_ACCOUNT_HAS_BEEN_LOCKED", "account locked (MySQL)"),
        4031: ("ER_CLIENT_INTERACTION_TIMEOUT", "disconnected by the server for inactivity (MySQL)"),
        4151: ("ER_ACCOUNT_HAS_BEEN_LOCKED", "account locked (MariaDB)"),
    ]
}
