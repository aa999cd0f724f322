/// The TCP header flag bits (RFC 9293 section 3.1, plus ECE/CWR from RFC 3168 and the old NS bit).
public struct TCPFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    /// ECN nonce (RFC 3540, historic); bit 8 of the flags field.
    public static let ns = TCPFlags(rawValue: 0x100)

    /// tcpdump's letters: S F R P . U E W N, in that order (`.` is ACK).
    public var description: String {
        var text = ""
        if contains(.syn) { text += "S" }
        if contains(.fin) { text += "F" }
        if contains(.rst) { text += "R" }
        if contains(.psh) { text += "P" }
        if contains(.urg) { text += "U" }
        if contains(.ece) { text += "E" }
        if contains(.cwr) { text += "W" }
        if contains(.ns) { text += "N" }
        if contains(.ack) { text += "." }
        return text.isEmpty ? "none" : text
    }
}
