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

/// The VLAN tags of a frame, outermost first, kept inline (no allocation). Frames with more than
/// `capacity` tags keep the outermost `capacity` and set `overflowed`.
public struct VLANStack: Sendable, Hashable, RandomAccessCollection {
    public static let capacity = 4
    private var storage: (VLANTag?, VLANTag?, VLANTag?, VLANTag?) = (nil, nil, nil, nil)
    public private(set) var count = 0
    /// More tags were present than are kept.
    public private(set) var overflowed = false

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> VLANTag {
        let tag: VLANTag?
        switch position {
        case 0: tag = storage.0
        case 1: tag = storage.1
        case 2: tag = storage.2
        case 3: tag = storage.3
        default: tag = nil
        }
        guard let tag else { preconditionFailure("VLANStack index \(position) out of range 0..<\(count)") }
        return tag
    }

    mutating func append(_ tag: VLANTag) {
        switch count {
        case 0: storage.0 = tag
        case 1: storage.1 = tag
        case 2: storage.2 = tag
        case 3: storage.3 = tag
        default:
            overflowed = true
            return
        }
        count += 1
    }

    public static func == (lhs: VLANStack, rhs: VLANStack) -> Bool {
        lhs.overflowed == rhs.overflowed && lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for tag in self { hasher.combine(tag) }
    }
}
