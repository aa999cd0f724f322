import PacketCore

/// `-r a.pcap -r b.pcap`: which file's next frame comes first. A binary min-heap of one entry per file that
/// still has a frame, ordered by the frame's timestamp, then by the file's rank (its place in the sorted list
/// of names), so equal timestamps come out in the same order whatever the order of the `-r` options.
public struct MergeHeap: Sendable {
    public struct Entry: Sendable, Hashable, Comparable {
        public var time: Timestamp
        public var rank: Int
        /// The caller's index of the file.
        public var source: Int

        public init(time: Timestamp, rank: Int, source: Int) {
            self.time = time
            self.rank = rank
            self.source = source
        }

        public static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.time != rhs.time ? lhs.time < rhs.time : lhs.rank < rhs.rank
        }
    }

    private var entries: [Entry] = []

    public init() {}

    public var count: Int { entries.count }

    public mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child] < entries[parent] else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// The earliest entry, removed; nil when empty.
    public mutating func pop() -> Entry? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left] < entries[smallest] { smallest = left }
            if right < entries.count && entries[right] < entries[smallest] { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
