/// What the server answered to a login attempt (MySQL internals, "Authentication Phase"): the first byte
/// of the payload tells which packet it is.
///
/// ```
/// 0x00  OK packet: logged in (affected rows, last insert id, status, ... follow)
/// 0xff  ERR packet: refused (see MySQLErrorPacket)
/// 0xfe  AuthSwitchRequest: string[NUL] plugin name, string[EOF] plugin data
///       (a lone 0xfe is the pre-4.1 "old password" switch)
/// 0x01  AuthMoreData: string[EOF] plugin data (caching_sha2_password, ...)
/// ```
public enum MySQLServerReply: Sendable, Hashable {
    case ok
    case error(MySQLErrorPacket)
    case authSwitch(plugin: String)
    case authMoreData(length: Int)
    /// Anything else: the first byte.
    case other(UInt8)

    public init(parsing cursor: inout Cursor) throws(ParseError) {
        cursor.layer = .mysql
        guard let first = cursor.peekU8() else { throw cursor.error(.truncated, "empty MySQL reply") }
        switch first {
        case 0x00:
            cursor.skipRest()
            self = .ok
        case 0xFF:
            self = .error(try MySQLErrorPacket(parsing: &cursor))
        case 0xFE:
            try cursor.skip(1)
            self = .authSwitch(plugin: cursor.isEmpty ? "mysql_old_password" : try cursor.readNulTerminatedString())
            cursor.skipRest()
        case 0x01:
            try cursor.skip(1)
            self = .authMoreData(length: cursor.remaining)
            cursor.skipRest()
        default:
            cursor.skipRest()
            self = .other(first)
        }
    }
}
