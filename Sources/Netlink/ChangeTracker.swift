/// Any one rtnetlink object.
public enum NetlinkObject: Hashable, Sendable {
    case link(Link)
    case address(Address)
    case neighbour(Neighbour)
    case route(Route)

    public var kind: ObjectKind {
        switch self {
        case .link: .link
        case .address: .address
        case .neighbour: .neighbour
        case .route: .route
        }
    }
}

/// One difference between what the tracker knew and what the kernel now says.
public struct Change: Hashable, Sendable {
    public enum Action: String, Sendable {
        case added, removed, changed
    }

    public var action: Action
    /// The value before the change (nil when added).
    public var old: NetlinkObject?
    /// The value after the change (nil when removed).
    public var new: NetlinkObject?
    /// Found by re-reading the full state after the kernel dropped events, not reported by the kernel itself.
    public var fromResync: Bool

    public var kind: ObjectKind { (new ?? old)?.kind ?? .link }
    public var object: NetlinkObject? { new ?? old }
}

/// The last known state of each watched object, keyed the way the kernel identifies it, so a notification turns
/// into added / removed / changed (with the old value), and a full re-read turns into exactly the differences.
///
/// Why keep state at all: rtnetlink notifications say "this object now looks like this", not what it looked like
/// before; and after an overflow (ENOBUFS) only a diff against a fresh dump tells what was missed.
public struct ChangeTracker: Sendable {
    public private(set) var links: [Int32: Link] = [:]
    public private(set) var addresses: [AddressKey: Address] = [:]
    public private(set) var neighbours: [NeighbourKey: Neighbour] = [:]
    public private(set) var routes: [RouteKey: Route] = [:]
    public let kinds: Set<ObjectKind>

    public init(kinds: Set<ObjectKind>) { self.kinds = kinds }

    public var count: Int { links.count + addresses.count + neighbours.count + routes.count }

    /// How many objects of these kinds are tracked.
    public func count(of wanted: Set<ObjectKind>) -> Int {
        (wanted.contains(.link) ? links.count : 0) + (wanted.contains(.address) ? addresses.count : 0)
            + (wanted.contains(.neighbour) ? neighbours.count : 0) + (wanted.contains(.route) ? routes.count : 0)
    }

    /// Apply a kernel notification: `isRemoval` for RTM_DEL*, else RTM_NEW*. nil when nothing changed (a
    /// repeated notification, or the removal of something never seen).
    public mutating func apply(_ object: NetlinkObject, isRemoval: Bool) -> Change? {
        guard kinds.contains(object.kind) else { return nil }
        switch object {
        case .link(let link):
            return Self.update(&links, key: link.index, value: isRemoval ? nil : link, wrap: NetlinkObject.link)
        case .address(let address):
            return Self.update(
                &addresses, key: address.key, value: isRemoval ? nil : address, wrap: NetlinkObject.address)
        case .neighbour(let neighbour):
            return Self.update(
                &neighbours, key: neighbour.key, value: isRemoval ? nil : neighbour, wrap: NetlinkObject.neighbour)
        case .route(let route):
            return Self.update(&routes, key: route.key, value: isRemoval ? nil : route, wrap: NetlinkObject.route)
        }
    }

    /// Replace the state of the tracked kinds with a full read and return every difference, in a stable order
    /// (by kind; within a kind, removals first, then additions and changes in dump order).
    public mutating func resync(with snapshot: Snapshot) -> [Change] {
        var changes: [Change] = []
        if kinds.contains(.link) {
            changes += Self.replace(&links, with: snapshot.links, key: \.index, wrap: NetlinkObject.link)
        }
        if kinds.contains(.address) {
            changes += Self.replace(&addresses, with: snapshot.addresses, key: \.key, wrap: NetlinkObject.address)
        }
        if kinds.contains(.neighbour) {
            changes += Self.replace(&neighbours, with: snapshot.neighbours, key: \.key, wrap: NetlinkObject.neighbour)
        }
        if kinds.contains(.route) {
            changes += Self.replace(&routes, with: snapshot.routes, key: \.key, wrap: NetlinkObject.route)
        }
        return changes.map { change in
            var change = change
            change.fromResync = true
            return change
        }
    }

    private static func update<Key: Hashable, Value: Equatable>(
        _ table: inout [Key: Value], key: Key, value: Value?, wrap: (Value) -> NetlinkObject
    ) -> Change? {
        let old = table[key]
        switch (old, value) {
        case (nil, nil): return nil
        case (let old?, nil):
            table[key] = nil
            return Change(action: .removed, old: wrap(old), new: nil, fromResync: false)
        case (nil, let new?):
            table[key] = new
            return Change(action: .added, old: nil, new: wrap(new), fromResync: false)
        case (let old?, let new?):
            if old == new { return nil }
            table[key] = new
            return Change(action: .changed, old: wrap(old), new: wrap(new), fromResync: false)
        }
    }

    private static func replace<Key: Hashable, Value: Equatable>(
        _ table: inout [Key: Value], with values: [Value], key: (Value) -> Key, wrap: (Value) -> NetlinkObject
    ) -> [Change] {
        var fresh: [Key: Value] = [:]
        fresh.reserveCapacity(values.count)
        var order: [Key] = []
        for value in values where fresh.updateValue(value, forKey: key(value)) == nil { order.append(key(value)) }
        var changes: [Change] = []
        // Removals first (dictionary order: there is no kernel order for what vanished), then the dump's order.
        for (oldKey, oldValue) in table where fresh[oldKey] == nil {
            changes.append(Change(action: .removed, old: wrap(oldValue), new: nil, fromResync: false))
        }
        for newKey in order {
            guard let newValue = fresh[newKey] else { continue }
            if let change = update(&table, key: newKey, value: newValue, wrap: wrap) { changes.append(change) }
        }
        table = fresh
        return changes
    }
}
