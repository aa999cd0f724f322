/// Server status flags (`SERVER_STATUS_*` / `SERVER_*` in `mysql_com.h`), sent in the greeting and in OK
/// and EOF packets. Open: unknown bits are kept and shown as `bit-N`.
public struct MySQLStatusFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let inTransaction = MySQLStatusFlags(rawValue: 0x0001)
    public static let autocommit = MySQLStatusFlags(rawValue: 0x0002)
    public static let moreResultsExist = MySQLStatusFlags(rawValue: 0x0008)
    public static let noGoodIndexUsed = MySQLStatusFlags(rawValue: 0x0010)
    public static let noIndexUsed = MySQLStatusFlags(rawValue: 0x0020)
    public static let cursorExists = MySQLStatusFlags(rawValue: 0x0040)
    public static let lastRowSent = MySQLStatusFlags(rawValue: 0x0080)
    public static let databaseDropped = MySQLStatusFlags(rawValue: 0x0100)
    public static let noBackslashEscapes = MySQLStatusFlags(rawValue: 0x0200)
    public static let metadataChanged = MySQLStatusFlags(rawValue: 0x0400)
    public static let queryWasSlow = MySQLStatusFlags(rawValue: 0x0800)
    public static let psOutParameters = MySQLStatusFlags(rawValue: 0x1000)
    public static let inReadOnlyTransaction = MySQLStatusFlags(rawValue: 0x2000)
    public static let sessionStateChanged = MySQLStatusFlags(rawValue: 0x4000)

    public static func name(ofBit bit: Int) -> String {
        switch bit {
        case 0: "IN_TRANS"
        case 1: "AUTOCOMMIT"
        case 2: "MORE_RESULTS"  // MariaDB's obsolete SERVER_STATUS_MORE_RESULTS
        case 3: "MORE_RESULTS_EXISTS"
        case 4: "QUERY_NO_GOOD_INDEX_USED"
        case 5: "QUERY_NO_INDEX_USED"
        case 6: "CURSOR_EXISTS"
        case 7: "LAST_ROW_SENT"
        case 8: "DB_DROPPED"
        case 9: "NO_BACKSLASH_ESCAPES"
        case 10: "METADATA_CHANGED"
        case 11: "QUERY_WAS_SLOW"
        case 12: "PS_OUT_PARAMS"
        case 13: "IN_TRANS_READONLY"
        case 14: "SESSION_STATE_CHANGED"
        default: "bit-\(bit)"
        }
    }

    public var names: [String] {
        (0..<16).filter { rawValue & (1 << UInt16($0)) != 0 }.map(Self.name(ofBit:))
    }

    public var description: String { names.joined(separator: ",") }
}
