/// A collation id, as the greeting's one "character set" byte carries it (the low 8 bits of the server's
/// default collation). Open: ids missing from the table are kept and shown as `collation-N`.
public struct MySQLCollation: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let latin1SwedishCI = MySQLCollation(rawValue: 8)
    public static let utf8mb3GeneralCI = MySQLCollation(rawValue: 33)
    public static let utf8mb4GeneralCI = MySQLCollation(rawValue: 45)
    public static let binary = MySQLCollation(rawValue: 63)
    public static let utf8mb4UnicodeCI = MySQLCollation(rawValue: 224)
    public static let utf8mb4_0900AICI = MySQLCollation(rawValue: 255)

    /// The collation's name (`SHOW COLLATION`), or nil when it is not in the table.
    public var name: String? { Self.names[Int(rawValue)] }

    /// The character set: the collation name up to its first underscore (`binary` for 63).
    public var characterSet: String? {
        guard let name else { return nil }
        return name.split(separator: "_", maxSplits: 1).first.map(String.init)
    }

    public var description: String { name ?? "collation-\(rawValue)" }

    /// `SHOW COLLATION` ids 1-99 and the common Unicode ones above (identical in MySQL and MariaDB for
    /// these; MariaDB 10.6+ names utf8 `utf8mb3`).
    static let names: [Int: String] = [
        1: "big5_chinese_ci", 2: "latin2_czech_cs", 3: "dec8_swedish_ci", 4: "cp850_general_ci",
        5: "latin1_german1_ci", 6: "hp8_english_ci", 7: "koi8r_general_ci", 8: "latin1_swedish_ci",
        9: "latin2_general_ci", 10: "swe7_swedish_ci", 11: "ascii_general_ci", 12: "ujis_japanese_ci",
        13: "sjis_japanese_ci", 14: "cp1251_bulgarian_ci", 15: "latin1_danish_ci", 16: "hebrew_general_ci",
        18: "tis620_thai_ci", 19: "euckr_korean_ci", 20: "latin7_estonian_cs", 21: "latin2_hungarian_ci",
        22: "koi8u_general_ci", 23: "cp1251_ukrainian_ci", 24: "gb2312_chinese_ci", 25: "greek_general_ci",
        26: "cp1250_general_ci", 27: "latin2_croatian_ci", 28: "gbk_chinese_ci", 29: "cp1257_lithuanian_ci",
        30: "latin5_turkish_ci", 31: "latin1_german2_ci", 32: "armscii8_general_ci", 33: "utf8mb3_general_ci",
        34: "cp1250_czech_cs", 35: "ucs2_general_ci", 36: "cp866_general_ci", 37: "keybcs2_general_ci",
        38: "macce_general_ci", 39: "macroman_general_ci", 40: "cp852_general_ci", 41: "latin7_general_ci",
        42: "latin7_general_cs", 43: "macce_bin", 44: "cp1250_croatian_ci", 45: "utf8mb4_general_ci",
        46: "utf8mb4_bin", 47: "latin1_bin", 48: "latin1_general_ci", 49: "latin1_general_cs",
        50: "cp1251_bin", 51: "cp1251_general_ci", 52: "cp1251_general_cs", 53: "macroman_bin",
        54: "utf16_general_ci", 55: "utf16_bin", 56: "utf16le_general_ci", 57: "cp1256_general_ci",
        58: "cp1257_bin", 59: "cp1257_general_ci", 60: "utf32_general_ci", 61: "utf32_bin", 62: "utf16le_bin",
        63: "binary", 64: "armscii8_bin", 65: "ascii_bin", 66: "cp1250_bin", 67: "cp1256_bin", 68: "cp866_bin",
        69: "dec8_bin", 70: "greek_bin", 71: "hebrew_bin", 72: "hp8_bin", 73: "keybcs2_bin", 74: "koi8r_bin",
        75: "koi8u_bin", 77: "latin2_bin", 78: "latin5_bin", 79: "latin7_bin", 80: "cp850_bin",
        81: "cp852_bin", 82: "swe7_bin", 83: "utf8mb3_bin", 84: "big5_bin", 85: "euckr_bin",
        86: "gb2312_bin", 87: "gbk_bin", 88: "sjis_bin", 89: "tis620_bin", 90: "ucs2_bin", 91: "ujis_bin",
        92: "geostd8_general_ci", 93: "geostd8_bin", 94: "latin1_spanish_ci", 95: "cp932_japanese_ci",
        96: "cp932_bin", 97: "eucjpms_japanese_ci", 98: "eucjpms_bin", 99: "cp1250_polish_ci",
        128: "ucs2_unicode_ci", 160: "utf32_unicode_ci", 192: "utf8mb3_unicode_ci",
        224: "utf8mb4_unicode_ci", 246: "utf8mb4_unicode_520_ci", 255: "utf8mb4_0900_ai_ci",
    ]
}
