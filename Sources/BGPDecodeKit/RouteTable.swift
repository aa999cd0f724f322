import CPrefetch
import PacketCore

/// A route in a session's table.
public struct BGPRoute: Sendable, Hashable {
    /// Index of the interned path (attributes and next hop).
    public var pathID: Int32
    /// When it was (last) announced.
    public var since: Timestamp
    /// Kept across a session end under graceful restart (RFC 4724 section 4.2), until refreshed or flushed.
    public var stale: Bool

    public init(pathID: Int32, since: Timestamp, stale: Bool) {
        self.pathID = pathID
        self.since = since
        self.stale = stale
    }
}

/// One session's RIB: routes keyed by family, ADD-PATH path identifier and prefix, in compact storage.
///
/// Why not `[BGPRouteKey: BGPRoute]`: a MetalLB speaker's table of a million /32s spent about a fifth of the
/// run in the Dictionary (hashing every key again at each resize, random lookups into 80-byte buckets) and
/// held about 150 MiB. Here each route is one 40-byte entry in a dense array (prefix, family, length, path
/// identifier, interned path index, time, flags). Keys with a route distinguisher (VPN families, rare) live
/// in a plain dictionary beside it.
///
/// Two modes. While the entries are in key order (a speaker or an MRT RIB dump that goes through its
/// prefixes in order, or a table just sorted for output) there is no index: a new key beyond the last is
/// appended, others are found by binary search. The first change that would break the order builds an
/// open-addressing index of 8-byte slots (linear probing, at most half full, backward-shift deletion so
/// there are no tombstones), and removal then moves the last entry into the hole. Why: a hash index costs a
/// cache miss per insert into a table of 16 MiB, which was a third of the run time of a million in-order
/// UPDATEs (perf).
///
/// Batch mode (`install(_:family:pathID:since:queued:)`, `queue`, `queueWithdrawal`): when nobody needs to
/// know, change by change, what a change replaced (no events are built: `--table`, a verification), changes
/// are appended to a log (`ChangeLog`, bucketed in key order) and applied together by
/// `applyPendingChanges`: each bucket is sorted by key (a stable sort, so one key's changes stay in arrival
/// order), the last change of each key winning. Why: on a full table in random order, each hashed insert was a cache miss or two, a fifth
/// of the run time of a one-million-prefix session; the table is sorted before it is printed anyway, so
/// the log costs one sort instead of a million random accesses. Every mutating method applies pending
/// changes first; reading a table with pending changes is a programming error (`BGPSession` applies them
/// before handing a table out), checked by a precondition.
///
/// Iteration order is unspecified; `sortForOutput()` sorts the entries in place (and drops the index) and
/// `forEachSorted` walks them in `BGPRouteKey` order.
public struct BGPRouteTable: Sequence {
    @usableFromInline
    struct Entry {
        var high: UInt64
        var low: UInt64
        /// AFI << 48 | SAFI << 40 | prefix length << 32 | path identifier.
        var meta: UInt64
        var seconds: Int64
        /// Nanoseconds (30 bits) | isIPv6 << 30 | stale << 31.
        var nanosAndFlags: UInt32
        var path: Int32

        static let ipv6Flag: UInt32 = 1 << 30
        static let staleFlag: UInt32 = 1 << 31
        static let nanosMask: UInt32 = (1 << 30) - 1

        init(_ key: BGPRouteKey, _ route: BGPRoute) {
            high = key.prefix.high
            low = key.prefix.low
            meta = Self.meta(key)
            seconds = route.since.seconds
            nanosAndFlags = UInt32(truncatingIfNeeded: route.since.nanoseconds) & Self.nanosMask
                | (key.prefix.isIPv6 ? Self.ipv6Flag : 0) | (route.stale ? Self.staleFlag : 0)
            path = route.pathID
        }

        @inline(__always)
        static func meta(_ key: BGPRouteKey) -> UInt64 {
            UInt64(key.family.afi.rawValue) << 48 | UInt64(key.family.safi.rawValue) << 40
                | UInt64(key.prefix.length) << 32 | UInt64(key.pathID)
        }

        /// The path of a queued withdrawal (batch mode).
        static let withdrawal: Int32 = -1

        var isIPv6: Bool { nanosAndFlags & Self.ipv6Flag != 0 }
        var stale: Bool {
            get { nanosAndFlags & Self.staleFlag != 0 }
            set { nanosAndFlags = newValue ? nanosAndFlags | Self.staleFlag : nanosAndFlags & ~Self.staleFlag }
        }
        var family: BGPAddressFamily { BGPAddressFamily(packed: meta >> 40) }

        var key: BGPRouteKey {
            BGPRouteKey(family: family, pathID: UInt32(truncatingIfNeeded: meta),
                prefix: BGPPrefix(high: high, low: low, length: UInt8(truncatingIfNeeded: meta >> 32), isIPv6: isIPv6))
        }

        var route: BGPRoute {
            BGPRoute(pathID: path, since: Timestamp(seconds: seconds, nanoseconds: Int32(nanosAndFlags & Self.nanosMask)),
                stale: stale)
        }

        @inline(__always)
        func matches(_ high: UInt64, _ low: UInt64, _ meta: UInt64, _ ipv6: Bool) -> Bool {
            self.high == high && self.low == low && self.meta == meta && isIPv6 == ipv6
        }

        /// `BGPRouteKey` order: family, address, length, path identifier.
        @inline(__always)
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            let lhsFamily = lhs.meta >> 40
            let rhsFamily = rhs.meta >> 40
            if lhsFamily != rhsFamily { return lhsFamily < rhsFamily }
            if lhs.high != rhs.high { return lhs.high < rhs.high }
            if lhs.low != rhs.low { return lhs.low < rhs.low }
            let lhsRest = lhs.meta & 0xFF_FFFF_FFFF
            let rhsRest = rhs.meta & 0xFF_FFFF_FFFF
            if lhsRest != rhsRest { return lhsRest < rhsRest }
            return !lhs.isIPv6 && rhs.isIPv6
        }
    }

    var entries = EntryStore()
    /// Hashed mode only (empty while sorted): 0 for an empty slot; else the upper 32 bits of the key's hash
    /// << 32 | (entry index + 1). The bucket is the hash's upper bits too, so backward-shift deletion never
    /// needs the entry.
    private var slots: [UInt64] = []
    /// Sorted mode: entries in key order, no index.
    private var isSorted = true
    /// Per table, random: a capture cannot be crafted to collide (the keys come from the wire).
    private let seed: UInt64
    /// Routes whose key has a route distinguisher.
    private var distinguished: [BGPRouteKey: BGPRoute] = [:]
    /// Batch mode: changes not applied yet, bucketed in key order, in arrival order within a bucket
    /// (withdrawals have path `Entry.withdrawal`).
    private var pending = ChangeLog()
    /// Per prefix, how often a present route was withdrawn (by the analyzer, or by a queued withdrawal):
    /// what `BGPSession.flaps` is counted from.
    public internal(set) var removals: [BGPRouteKey: Int] = [:]

    /// Whether changes are queued (see batch mode); the table must not be read until they are applied.
    public var hasPendingChanges: Bool { pending.count > 0 }

    public init() {
        seed = UInt64.random(in: .min ... .max)
    }

    public var count: Int {
        precondition(pending.count == 0, "route table read with pending changes")
        return entries.count + distinguished.count
    }
    public var isEmpty: Bool { count == 0 }

    // MARK: Index

    @inline(__always)
    private func hash(_ high: UInt64, _ low: UInt64, _ meta: UInt64) -> UInt64 {
        var value = murmurMix(seed ^ high)
        value = murmurMix(value ^ (low &+ 0x9E37_79B9_7F4A_7C15))
        return murmurMix(value ^ (meta &+ 0x9E37_79B9_7F4A_7C15))
    }

    @inline(__always)
    private func bucket(_ tag: UInt64) -> Int { Int(truncatingIfNeeded: tag) & (slots.count - 1) }

    /// The slot holding the key, or the empty slot where it would go.
    @inline(__always)
    private func find(_ high: UInt64, _ low: UInt64, _ meta: UInt64, _ ipv6: Bool) -> (slot: Int, entry: Int?) {
        let tag = hash(high, low, meta) >> 32
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: tag) & mask
        while true {
            let value = slots[slot]
            if value == 0 { return (slot, nil) }
            if value >> 32 == tag {
                let index = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                if entries[index].matches(high, low, meta, ipv6) { return (slot, index) }
            }
            slot = (slot + 1) & mask
        }
    }

    private mutating func rebuildIndex(minimumCapacity: Int) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity <<= 1 }
        slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        for index in entries.indices {
            let entry = entries[index]
            let tag = hash(entry.high, entry.low, entry.meta) >> 32
            var slot = Int(truncatingIfNeeded: tag) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = tag << 32 | UInt64(index + 1)
        }
    }

    /// Leave sorted mode: build the index.
    private mutating func startHashing() {
        isSorted = false
        rebuildIndex(minimumCapacity: entries.count + 1)
    }

    /// Sorted mode: the index of the entry with the key of `probe`.
    private func sortedIndex(of probe: Entry) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle] < probe { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].matches(probe.high, probe.low, probe.meta, probe.isIPv6) else {
            return nil
        }
        return low
    }

    /// Which of `keys` (sorted) have a route. Why not `self[key]` for each: a full table's tens of thousands
    /// of withdrawn keys were each a binary search over a million entries (cache misses at every step, 4 %
    /// of a full-table run, perf); in sorted mode the keys are found by galloping forward from the last one.
    public func containsEach(sorted keys: [BGPRouteKey]) -> [Bool] {
        precondition(pending.count == 0, "route table read with pending changes")
        guard isSorted else { return keys.map { self[$0] != nil } }
        var found: [Bool] = []
        found.reserveCapacity(keys.count)
        var low = 0
        for key in keys {
            if key.routeDistinguisher != nil {
                found.append(distinguished[key] != nil)
                continue
            }
            let probe = Entry(key, BGPRoute(pathID: 0, since: .zero, stale: false))
            // Gallop: the first index at or after `low` whose entry is not below the probe.
            var step = 1
            var high = low
            while high < entries.count, entries[high] < probe {
                low = high + 1
                high += step
                step <<= 1
            }
            high = Swift.min(high, entries.count)
            while low < high {
                let middle = (low + high) / 2
                if entries[middle] < probe { low = middle + 1 } else { high = middle }
            }
            found.append(low < entries.count && entries[low].matches(probe.high, probe.low, probe.meta, probe.isIPv6))
        }
        return found
    }

    // MARK: Changes

    /// Hint that the first prefixes of a run are about to be looked up: in hashed mode, start loading their
    /// index slots into the cache. Why: an event per route (no batch mode) looks each key up as it comes,
    /// and in a table of a million routes the slot is a cache miss, 88% of the lookup's time (perf
    /// annotate); an UPDATE's prefixes prefetched together wait for memory once instead of once each.
    /// (`mutating` only so that the call works on the table in place: a read through the analyzer's
    /// array of session states copied the table's references, a retain and release each.)
    @inline(__always)
    mutating func prefetch(_ iterator: BGPNLRIIterator, family: BGPAddressFamily) {
        guard !isSorted, slots.count > 0 else { return }
        var ahead = iterator
        let mask = slots.count - 1
        slots.withUnsafeBufferPointer { slots in
            guard let base = slots.baseAddress else { return }
            for _ in 0..<8 {
                guard let nlri = try? ahead.next() else { return }
                let key = BGPRouteKey(family: family, nlri: nlri)
                let slot = Int(truncatingIfNeeded: hash(key.prefix.high, key.prefix.low, Entry.meta(key)) >> 32) & mask
                vipscope_prefetch_for_write(base + slot)
            }
        }
    }

    /// Set the route for `key`; returns the previous one.
    @discardableResult
    public mutating func updateValue(_ route: BGPRoute, forKey key: BGPRouteKey) -> BGPRoute? {
        if pending.count > 0 { applyPendingChanges() }
        if key.routeDistinguisher != nil { return distinguished.updateValue(route, forKey: key) }
        let entry = Entry(key, route)
        if isSorted {
            guard let last = entries.last, !(last < entry) else {
                entries.append(entry)
                return nil
            }
            if let index = sortedIndex(of: entry) {
                let previous = entries[index].route
                entries[index] = entry
                return previous
            }
            startHashing()
        }
        if (entries.count + 1) * 2 > slots.count { rebuildIndex(minimumCapacity: entries.count + 1) }
        let (slot, found) = find(entry.high, entry.low, entry.meta, entry.isIPv6)
        if let found {
            let previous = entries[found].route
            entries[found] = entry
            return previous
        }
        slots[slot] = (hash(entry.high, entry.low, entry.meta) >> 32) << 32 | UInt64(entries.count + 1)
        entries.append(entry)
        return nil
    }

    /// Install every NLRI of a run with one path (the UPDATE hot path when no events are built): set each
    /// route now, or with `queued` (batch mode, see the type's documentation) queue it. Returns how many
    /// there were, and the error that stopped the run early, if any.
    mutating func install(
        _ iterator: inout BGPNLRIIterator, family: BGPAddressFamily, pathID: Int32, since: Timestamp, queued: Bool
    ) -> (count: Int, error: ParseError?) {
        var count = 0
        let route = BGPRoute(pathID: pathID, since: since, stale: false)
        while true {
            do throws(ParseError) {
                guard let nlri = try iterator.next() else { return (count, nil) }
                let key = BGPRouteKey(family: family, nlri: nlri)
                if queued { queue(route, forKey: key) } else { updateValue(route, forKey: key) }
                count += 1
            } catch {
                return (count, error)
            }
        }
    }

    // MARK: Batch mode

    /// Batch mode: queue setting the route for `key` (applied by `applyPendingChanges`).
    @inline(__always)
    public mutating func queue(_ route: BGPRoute, forKey key: BGPRouteKey) {
        if key.routeDistinguisher != nil {
            distinguished[key] = route
            return
        }
        let entry = Entry(key, route)
        // In order (a speaker walking its table in order): straight in, as `updateValue` would.
        if pending.isEmpty, isSorted, entries.last.map({ $0 < entry }) ?? true {
            entries.append(entry)
            return
        }
        if pending.isEmpty, isSorted, entries.count < 1 << 16 {
            // Out of order after a short in-order start: the routes join the log now (they are older than
            // every change), so applying it need not fold them in.
            for route in entries { pending.append(route) }
            entries = EntryStore()
        }
        pending.append(entry)
        applyWhenLarge()
    }

    /// Batch mode: queue the withdrawal of `key`; when it is applied and finds a route, it counts a removal.
    public mutating func queueWithdrawal(_ key: BGPRouteKey) {
        if key.routeDistinguisher != nil {
            if distinguished.removeValue(forKey: key) != nil { removals[key, default: 0] += 1 }
            return
        }
        var entry = Entry(key, BGPRoute(pathID: 0, since: .zero, stale: false))
        entry.path = Entry.withdrawal
        pending.append(entry)
        applyWhenLarge()
    }

    /// Bound the log: apply it once it holds two million changes or as many as the table has routes
    /// (whichever is more), so memory stays proportional to the table and the cost per change amortized.
    @inline(__always)
    private mutating func applyWhenLarge() {
        if pending.count >= Swift.max(1 << 21, entries.count) { applyPendingChanges() }
    }

    /// Apply the queued changes: bucket by bucket in key order (see `ChangeLog`), the bucket is sorted by
    /// key (stably, so one key's changes stay in arrival order) and compacted: for each key the last change
    /// wins, and a withdrawal that finds a route counts a removal. The routes already in the table join the log
    /// first (they are older than every change). Leaves the table in sorted mode.
    public mutating func applyPendingChanges() {
        guard pending.count > 0 else { return }
        var log = ChangeLog()
        swap(&log, &pending)
        if !entries.isEmpty {
            var merged = ChangeLog()
            for route in entries { merged.append(route) }
            entries = EntryStore()
            log.drain { bucket in for change in bucket { merged.append(change) } }
            log = merged
        }
        slots = []
        isSorted = true
        var result = EntryStore()
        var flapped: [BGPRouteKey] = []
        log.drain { bucket in
            bucket.sort { $0 < $1 }
            var read = 0
            while read < bucket.count {
                let first = bucket[read]
                var current: Entry?
                while read < bucket.count, bucket[read].matches(first.high, first.low, first.meta, first.isIPv6) {
                    let change = bucket[read]
                    if change.path == Entry.withdrawal {
                        if current != nil { flapped.append(change.key) }
                        current = nil
                    } else {
                        current = change
                    }
                    read += 1
                }
                if let current { result.append(current) }
            }
        }
        entries = result
        removals.reserveCapacity(removals.count + flapped.count)
        for key in flapped { removals[key, default: 0] += 1 }
    }

    /// Remove the route for `key`; returns it.
    @discardableResult
    public mutating func removeValue(forKey key: BGPRouteKey) -> BGPRoute? {
        if pending.count > 0 { applyPendingChanges() }
        if key.routeDistinguisher != nil { return distinguished.removeValue(forKey: key) }
        guard !entries.isEmpty else { return nil }
        let probe = Entry(key, BGPRoute(pathID: 0, since: .zero, stale: false))
        if isSorted {
            guard let index = sortedIndex(of: probe) else { return nil }
            if index == entries.count - 1 { return entries.removeLast().route }
            startHashing()
        }
        let (slot, found) = find(probe.high, probe.low, probe.meta, probe.isIPv6)
        guard let index = found else { return nil }
        let removed = entries[index].route
        deleteSlot(slot)
        let last = entries.count - 1
        if index != last {
            // Move the last entry into the hole and repoint its slot.
            let moved = entries[last]
            let tag = hash(moved.high, moved.low, moved.meta) >> 32
            let mask = slots.count - 1
            var probe = Int(truncatingIfNeeded: tag) & mask
            while slots[probe] != tag << 32 | UInt64(last + 1) { probe = (probe + 1) & mask }
            slots[probe] = tag << 32 | UInt64(index + 1)
            entries[index] = moved
        }
        entries.removeLast()
        return removed
    }

    /// Empty `slot`, shifting back the entries of the probe run after it (Knuth's algorithm R).
    private mutating func deleteSlot(_ slot: Int) {
        let mask = slots.count - 1
        var hole = slot
        var next = (slot + 1) & mask
        while slots[next] != 0 {
            let home = bucket(slots[next] >> 32)
            // Move `next` into the hole unless its home lies cyclically in (hole, next].
            let distanceToNext = (next - home) & mask
            let distanceToHole = (next - hole) & mask
            if distanceToNext >= distanceToHole {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
    }

    /// The route for `key`.
    public subscript(_ key: BGPRouteKey) -> BGPRoute? {
        precondition(pending.count == 0, "route table read with pending changes")
        if key.routeDistinguisher != nil { return distinguished[key] }
        let probe = Entry(key, BGPRoute(pathID: 0, since: .zero, stale: false))
        if isSorted { return sortedIndex(of: probe).map { entries[$0].route } }
        return find(probe.high, probe.low, probe.meta, probe.isIPv6).entry.map { entries[$0].route }
    }

    /// Mark every route of the families `covered` accepts stale; returns how many routes of those families
    /// there are (stale now).
    public mutating func markStale(where covered: (BGPAddressFamily) -> Bool) -> Int {
        if pending.count > 0 { applyPendingChanges() }
        var count = 0
        var lastMeta: UInt64 = .max
        var lastCovered = false
        for index in entries.indices {
            let family = entries[index].meta >> 40
            if family != lastMeta {
                lastMeta = family
                lastCovered = covered(entries[index].family)
            }
            if lastCovered {
                entries[index].stale = true
                count += 1
            }
        }
        for (key, route) in distinguished where covered(key.family) {
            if !route.stale { distinguished[key]?.stale = true }
            count += 1
        }
        return count
    }

    /// The keys of the routes `include` accepts, sorted.
    public func keys(where include: (BGPRouteKey, BGPRoute) -> Bool) -> [BGPRouteKey] {
        var keys: [BGPRouteKey] = []
        for (key, route) in self where include(key, route) { keys.append(key) }
        keys.sort()
        return keys
    }

    // MARK: Reading

    /// Routes per family, in family order.
    public var familyCounts: [(family: BGPAddressFamily, count: Int)] {
        precondition(pending.count == 0, "route table read with pending changes")
        var counts: [BGPAddressFamily: Int] = [:]
        var lastFamily: UInt64 = .max
        var run = 0
        for segment in entries.segments {
            for entry in segment {
                let family = entry.meta >> 40
                if family != lastFamily {
                    if run > 0 { counts[BGPAddressFamily(packed: lastFamily), default: 0] += run }
                    lastFamily = family
                    run = 0
                }
                run += 1
            }
        }
        if run > 0 { counts[BGPAddressFamily(packed: lastFamily), default: 0] += run }
        for key in distinguished.keys { counts[key.family, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public var staleCount: Int {
        precondition(pending.count == 0, "route table read with pending changes")
        var count = 0
        for segment in entries.segments {
            for entry in segment where entry.stale { count += 1 }
        }
        return count + distinguished.values.reduce(0) { $0 + ($1.stale ? 1 : 0) }
    }

    public var keys: [BGPRouteKey] { map(\.key) }
    public var values: [BGPRoute] { map(\.value) }

    public struct Iterator: IteratorProtocol {
        var entries: IndexingIterator<EntryStore>
        var distinguished: Dictionary<BGPRouteKey, BGPRoute>.Iterator

        public mutating func next() -> (key: BGPRouteKey, value: BGPRoute)? {
            if let entry = entries.next() { return (entry.key, entry.route) }
            return distinguished.next()
        }
    }

    /// Every route, in no particular order.
    public func makeIterator() -> Iterator {
        precondition(pending.count == 0, "route table read with pending changes")
        return Iterator(entries: entries.makeIterator(), distinguished: distinguished.makeIterator())
    }

    public var underestimatedCount: Int { count }

    /// Sort the storage into key order, so `forEachSorted` walks it without sorting (done once, before a
    /// table is printed); this also drops the index (sorted mode).
    public mutating func sortForOutput() {
        if pending.count > 0 { applyPendingChanges() }
        guard !isSorted else { return }
        slots = []
        entries.sortByKey()
        isSorted = true
    }

    /// `entries` alone are every route, in key order (renderers then walk them directly).
    var isSortedWithoutDistinguishers: Bool { isSorted && distinguished.isEmpty }

    /// Every route in `BGPRouteKey` order.
    public func forEachSorted(_ body: (BGPRouteKey, BGPRoute) -> Void) {
        precondition(pending.count == 0, "route table read with pending changes")
        let others = distinguished.keys.sorted()
        var otherIndex = 0
        func visit(_ entry: Entry) {
            let key = entry.key
            while otherIndex < others.count, others[otherIndex] < key {
                let other = others[otherIndex]
                if let route = distinguished[other] { body(other, route) }
                otherIndex += 1
            }
            body(key, entry.route)
        }
        if isSorted {
            for entry in entries { visit(entry) }
        } else {
            var order = Array(entries.indices)
            order.sort { entries[$0] < entries[$1] }
            for index in order { visit(entries[index]) }
        }
        while otherIndex < others.count {
            let other = others[otherIndex]
            if let route = distinguished[other] { body(other, route) }
            otherIndex += 1
        }
    }
}

/// The entries of a `BGPRouteTable`: an adopted flat array (`head`, the result of a sort), then chunks of
/// 1,024 (40 KiB) for what is appended after it. Why chunks: growing never copies what is stored, and
/// memory is touched once (a million entries in one `[Entry]` grew by doubling, copying 40 MiB and touching
/// twice that: 20,000 page faults, a sixth of the run time of a million-route capture). Why that size: it
/// is `ChangeLog`'s, so a table built while a log drains reuses the chunks the log frees (with 640 KiB
/// chunks it could not, and a full table's peak grew from 119 to 157 MB). Why the head: a sorted table
/// adopts a sorted array as it is, where copying it into chunks would hold both at once.
struct EntryStore: RandomAccessCollection, MutableCollection {
    typealias Entry = BGPRouteTable.Entry
    static let chunkShift = 10
    static let chunkSize = 1 << chunkShift

    private var head: [Entry] = []
    private var chunks: [[Entry]] = []
    private(set) var count = 0

    init() {}

    /// Entries stored as `flat` is, without a copy.
    init(adopting flat: [Entry]) {
        head = flat
        count = flat.count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    /// The storage in order, for loops that walk every entry without an index computation per entry.
    var segments: [[Entry]] { head.isEmpty ? chunks : [head] + chunks }

    subscript(position: Int) -> Entry {
        get {
            precondition(position >= 0 && position < count, "entry index out of range")
            if position < head.count { return head[position] }
            let offset = position - head.count
            return chunks[offset >> Self.chunkShift][offset & (Self.chunkSize - 1)]
        }
        set {
            precondition(position >= 0 && position < count, "entry index out of range")
            if position < head.count {
                head[position] = newValue
                return
            }
            let offset = position - head.count
            chunks[offset >> Self.chunkShift][offset & (Self.chunkSize - 1)] = newValue
        }
    }

    var last: Entry? { count > 0 ? self[count - 1] : nil }

    mutating func append(_ entry: Entry) {
        if (count - head.count) & (Self.chunkSize - 1) == 0 {
            var chunk: [Entry] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(entry)
        count += 1
    }

    @discardableResult
    mutating func removeLast() -> Entry {
        precondition(count > 0, "removeLast of no entries")
        count -= 1
        guard !chunks.isEmpty else { return head.removeLast() }
        let entry = chunks[chunks.count - 1].removeLast()
        if chunks[chunks.count - 1].isEmpty { chunks.removeLast() }
        return entry
    }

    /// Append every entry to `flat`, leaving this empty. Each piece is freed once copied, so the peak is
    /// the entries once plus a chunk (with `flat` reserved beforehand).
    mutating func moveAll(into flat: inout [Entry]) {
        flat.append(contentsOf: head)
        head = []
        for index in chunks.indices {
            flat.append(contentsOf: chunks[index])
            chunks[index] = []
        }
        self = EntryStore()
    }

    /// Sort into `BGPRouteKey` order (through one flat array, adopted: done once, before output).
    mutating func sortByKey() {
        var flat: [Entry] = []
        flat.reserveCapacity(count)
        moveAll(into: &flat)
        flat.sort { $0 < $1 }
        self = EntryStore(adopting: flat)
    }
}

/// Source compatibility with the `[BGPRouteKey: BGPRoute]` this replaced (`session?.routes ?? [:]`).
extension BGPRouteTable: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (BGPRouteKey, BGPRoute)...) {
        self.init()
        for (key, route) in elements { updateValue(route, forKey: key) }
    }
}

extension BGPAddressFamily {
    /// The family packed in `BGPRouteTable.Entry.meta >> 40` (AFI << 8 | SAFI).
    fileprivate init(packed family: UInt64) {
        self.init(afi: UInt16(truncatingIfNeeded: family >> 8), safi: UInt8(truncatingIfNeeded: family))
    }
}
