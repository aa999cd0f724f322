/// Capability flags of the client/server protocol (MySQL `include/mysql_com.h`, MariaDB `mysql_com.h`),
/// as one 64-bit set: the low 32 bits are the classic flags both servers share; the high 32 bits are
/// MariaDB's extended capabilities, which a MariaDB 10.2+ server sends in the last four "reserved" bytes of
/// its greeting (and signals by clearing bit 0, which MariaDB calls CLIENT_MYSQL).
///
/// Open: unknown bits are kept and shown as `bit-N`.
public struct MySQLCapabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// CLIENT_LONG_PASSWORD; MariaDB 10.2+ servers clear it to say "not MySQL" (MariaDB: CLIENT_MYSQL).
    public static let longPassword = MySQLCapabilities(rawValue: 1 << 0)
    public static let foundRows = MySQLCapabilities(rawValue: 1 << 1)
    public static let longFlag = MySQLCapabilities(rawValue: 1 << 2)
    public static let connectWithDB = MySQLCapabilities(rawValue: 1 << 3)
    public static let noSchema = MySQLCapabilities(rawValue: 1 << 4)
    public static let compress = MySQLCapabilities(rawValue: 1 << 5)
    public static let odbc = MySQLCapabilities(rawValue: 1 << 6)
    public static let localFiles = MySQLCapabilities(rawValue: 1 << 7)
    public static let ignoreSpace = MySQLCapabilities(rawValue: 1 << 8)
    public static let protocol41 = MySQLCapabilities(rawValue: 1 << 9)
    public static let interactive = MySQLCapabilities(rawValue: 1 << 10)
    /// The server can switch to TLS after an SSLRequest.
    public static let ssl = MySQLCapabilities(rawValue: 1 << 11)
    public static let ignoreSigpipe = MySQLCapabilities(rawValue: 1 << 12)
    public static let transactions = MySQLCapabilities(rawValue: 1 << 13)
    public static let reserved = MySQLCapabilities(rawValue: 1 << 14)
    /// CLIENT_SECURE_CONNECTION (4.1 authentication; "RESERVED2" in MySQL 8).
    public static let secureConnection = MySQLCapabilities(rawValue: 1 << 15)
    public static let multiStatements = MySQLCapabilities(rawValue: 1 << 16)
    public static let multiResults = MySQLCapabilities(rawValue: 1 << 17)
    public static let psMultiResults = MySQLCapabilities(rawValue: 1 << 18)
    public static let pluginAuth = MySQLCapabilities(rawValue: 1 << 19)
    public static let connectAttributes = MySQLCapabilities(rawValue: 1 << 20)
    public static let pluginAuthLengthEncodedData = MySQLCapabilities(rawValue: 1 << 21)
    public static let canHandleExpiredPasswords = MySQLCapabilities(rawValue: 1 << 22)
    public static let sessionTrack = MySQLCapabilities(rawValue: 1 << 23)
    public static let deprecateEOF = MySQLCapabilities(rawValue: 1 << 24)
    public static let optionalResultsetMetadata = MySQLCapabilities(rawValue: 1 << 25)
    public static let zstdCompression = MySQLCapabilities(rawValue: 1 << 26)
    public static let queryAttributes = MySQLCapabilities(rawValue: 1 << 27)
    public static let multiFactorAuthentication = MySQLCapabilities(rawValue: 1 << 28)
    /// MySQL: CLIENT_CAPABILITY_EXTENSION; MariaDB: CLIENT_PROGRESS_OBSOLETE.
    public static let capabilityExtension = MySQLCapabilities(rawValue: 1 << 29)
    public static let sslVerifyServerCertificate = MySQLCapabilities(rawValue: 1 << 30)
    public static let rememberOptions = MySQLCapabilities(rawValue: 1 << 31)

    // MariaDB extended capabilities (MARIADB_CLIENT_*, bits 32 and up).
    public static let mariaDBProgress = MySQLCapabilities(rawValue: 1 << 32)
    public static let mariaDBComMulti = MySQLCapabilities(rawValue: 1 << 33)
    public static let mariaDBStatementBulkOperations = MySQLCapabilities(rawValue: 1 << 34)
    public static let mariaDBExtendedMetadata = MySQLCapabilities(rawValue: 1 << 35)
    public static let mariaDBCacheMetadata = MySQLCapabilities(rawValue: 1 << 36)
    public static let mariaDBBulkUnitResults = MySQLCapabilities(rawValue: 1 << 37)

    /// The classic 32 bits.
    public var classic: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
    /// MariaDB's extended 32 bits, as sent in the greeting.
    public var mariaDBExtended: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    /// The flag names in the servers' header files, without the CLIENT_/MARIADB_CLIENT_ prefix; the name
    /// of bits 0 and 29 follows `isMariaDB` (the two servers disagree on them).
    public static func name(ofBit bit: Int, mariaDB: Bool = false) -> String {
        switch bit {
        case 0: mariaDB ? "MYSQL" : "LONG_PASSWORD"
        case 1: "FOUND_ROWS"
        case 2: "LONG_FLAG"
        case 3: "CONNECT_WITH_DB"
        case 4: "NO_SCHEMA"
        case 5: "COMPRESS"
        case 6: "ODBC"
        case 7: "LOCAL_FILES"
        case 8: "IGNORE_SPACE"
        case 9: "PROTOCOL_41"
        case 10: "INTERACTIVE"
        case 11: "SSL"
        case 12: "IGNORE_SIGPIPE"
        case 13: "TRANSACTIONS"
        case 14: "RESERVED"
        case 15: "SECURE_CONNECTION"
        case 16: "MULTI_STATEMENTS"
        case 17: "MULTI_RESULTS"
        case 18: "PS_MULTI_RESULTS"
        case 19: "PLUGIN_AUTH"
        case 20: "CONNECT_ATTRS"
        case 21: "PLUGIN_AUTH_LENENC_CLIENT_DATA"
        case 22: "CAN_HANDLE_EXPIRED_PASSWORDS"
        case 23: "SESSION_TRACK"
        case 24: "DEPRECATE_EOF"
        case 25: "OPTIONAL_RESULTSET_METADATA"
        case 26: "ZSTD_COMPRESSION_ALGORITHM"
        case 27: "QUERY_ATTRIBUTES"
        case 28: "MULTI_FACTOR_AUTHENTICATION"
        case 29: mariaDB ? "PROGRESS_OBSOLETE" : "CAPABILITY_EXTENSION"
        case 30: "SSL_VERIFY_SERVER_CERT"
        case 31: "REMEMBER_OPTIONS"
        case 32: "MARIADB_PROGRESS"
        case 33: "MARIADB_COM_MULTI"
        case 34: "MARIADB_STMT_BULK_OPERATIONS"
        case 35: "MARIADB_EXTENDED_METADATA"
        case 36: "MARIADB_CACHE_METADATA"
        case 37: "MARIADB_BULK_UNIT_RESULTS"
        default: "bit-\(bit)"
        }
    }

    /// The names of the set bits, lowest first.
    public func names(mariaDB: Bool = false) -> [String] {
        (0..<64).filter { rawValue & (1 << UInt64($0)) != 0 }.map { Self.name(ofBit: $0, mariaDB: mariaDB) }
    }

    public var description: String { names().joined(separator: ",") }
}
