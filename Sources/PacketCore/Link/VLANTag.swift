/// One 802.1Q / 802.1ad tag.
///
/// IEEE 802.1Q-2018 section 9.6 (tag format), carried after the MAC addresses:
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-------------------------------+-----+-+-----------------------+
/// |   TPID (0x8100/0x88a8/0x9100) | PCP |D|       VLAN ID         |
/// +-------------------------------+-----+-+-----------------------+
/// ```
public struct VLANTag: Sendable, Hashable, CustomStringConvertible {
    /// The tag protocol identifier that introduced this tag (0x8100 customer, 0x88a8 service, 0x9100 legacy).
    public var tpid: EtherType
    /// Priority code point (0-7).
    public var priority: UInt8
    /// Drop eligible indicator (formerly CFI).
    public var dropEligible: Bool
    /// VLAN identifier (0-4095; 0 means priority-tagged only).
    public var id: UInt16

    public init(tpid: EtherType, tci: UInt16) {
        self.tpid = tpid
        self.priority = UInt8(tci >> 13)
        self.dropEligible = tci & 0x1000 != 0
        self.id = tci & 0x0FFF
    }

    public var description: String { "vlan \(id)" + (priority != 0 ? " p \(priority)" : "") }
}

/// The VLAN tags of a frame, outermost first, kept inline as raw 32-bit words (no allocation, small to
/// copy). Frames with more than `capacity` tags keep the outermost `capacity` and set `overflowed`.
public struct VLANStack: Sendable, Hashable, RandomAccessCollection {
    public static let capacity = 4
    /// Each word is TPID << 16 | TCI.
    private var words: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var storedCount: UInt8 = 0
    /// More tags were present than are kept.
    public private(set) var overflowed = false

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(storedCount) }

    public subscript(position: Int) -> VLANTag {
        precondition(position >= 0 && position < Int(storedCount), "VLANStack index out of range")
        let word: UInt32
        switch position {
        case 0: word = words.0
        case 1: word = words.1
        case 2: word = words.2
        default: word = words.3
        }
        return VLANTag(tpid: EtherType(rawValue: UInt16(word >> 16)), tci: UInt16(truncatingIfNeeded: word))
    }

    @inline(__always)
    mutating func append(tpid: EtherType, tci: UInt16) {
        let word = UInt32(tpid.rawValue) << 16 | UInt32(tci)
        switch storedCount {
        case 0: words.0 = word
        case 1: words.1 = word
        case 2: words.2 = word
        case 3: words.3 = word
        default:
            overflowed = true
            return
        }
        storedCount += 1
    }

    public static func == (lhs: VLANStack, rhs: VLANStack) -> Bool {
        lhs.overflowed == rhs.overflowed && lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storedCount)
        for tag in self { hasher.combine(tag) }
    }
}
