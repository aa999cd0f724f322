import Netlink
import PacketCore
import ToolSupport

/// An object's fields in their documented order: rendered as one JSON object, and compared field by field to
/// describe what a `changed` event changed.
struct Fields {
    private(set) var items: [(key: String, value: JSONValue)] = []

    mutating func add(_ key: String, _ value: JSONValue?) {
        if let value { items.append((key, value)) }
    }

    mutating func add(_ key: String, _ value: String?) { add(key, value.map(JSONValue.init(_:))) }
    mutating func add<T: BinaryInteger>(_ key: String, _ value: T?) { add(key, value.map { JSONValue($0) }) }
    mutating func add(_ key: String, list: [String]) { add(key, JSONValue(list.map(JSONValue.init(_:)))) }

    var json: JSONLine {
        var line = JSONLine()
        for item in items { line.add(item.key, item.value) }
        return line
    }

    /// `key old -> new` for every field whose value differs (or appears/disappears).
    func differences(from old: Fields) -> [String] {
        var result: [String] = []
        var oldValues: [String: String] = [:]
        for item in old.items { oldValues[item.key] = item.value.encoded }
        var seen = Set<String>()
        for item in items {
            seen.insert(item.key)
            let before = oldValues[item.key]
            if before != item.value.encoded {
                result.append("\(item.key) \(Self.plain(before)) -> \(Self.plain(item.value.encoded))")
            }
        }
        for item in old.items where !seen.contains(item.key) {
            result.append("\(item.key) \(Self.plain(item.value.encoded)) -> none")
        }
        return result
    }

    private static func plain(_ encoded: String?) -> String {
        guard let encoded else { return "none" }
        if encoded.hasPrefix("\""), encoded.hasSuffix("\""), encoded.count >= 2 {
            return String(encoded.dropFirst().dropLast())
        }
        return encoded
    }
}

/// Text and JSON for each kind of object. Field names are the documented schema (see `addrinspect --help`):
/// add, never rename. They follow `ip -j` where ip has a name for the same thing.
struct Renderer {
    /// Interface names by index.
    var names: [Int32: String]
    /// Indexes of the links known to be UP (for `M-DOWN`: a link whose parent or peer is down).
    var upLinks: Set<Int32> = []

    init(names: [Int32: String]) { self.names = names }

    init<Links: Sequence<Link>>(links: Links) {
        names = [:]
        for link in links {
            names[link.index] = link.name
            if link.flags.contains(.up) { upLinks.insert(link.index) }
        }
    }

    /// The flags as `ip link` prints them, including its `M-DOWN` for a link whose peer or parent (in this
    /// namespace) is down.
    func flagNames(_ link: Link) -> [String] {
        var flags = link.flags.names
        if let parent = link.linkIndex, names[parent] != nil, !upLinks.contains(parent) { flags.append("M-DOWN") }
        return flags
    }

    func name(_ index: Int32?) -> String? { index.flatMap { names[$0] } }

    /// An interface name for a text line: escaped, since a name may hold any byte but '/', ':', NUL and
    /// white space (an ESC sequence included), and the kernel takes names from whoever may create links.
    func shownName(_ index: Int32?) -> String? { name(index).map(PrintableText.escaped) }

    // MARK: addresses

    func fields(_ address: Address) -> Fields {
        var fields = Fields()
        fields.add("ifindex", address.interfaceIndex)
        fields.add("dev", name(address.interfaceIndex))
        fields.add("family", address.family.description)
        fields.add("local", address.local.description)
        fields.add("prefixlen", address.prefixLength)
        fields.add("peer", address.peer?.description)
        fields.add("broadcast", address.broadcast?.description)
        fields.add("scope", address.scope.description)
        fields.add("label", address.label)
        fields.add("flags", list: address.flags.names(family: address.family))
        fields.add("valid_lft", address.validLifetime)
        fields.add("preferred_lft", address.preferredLifetime)
        return fields
    }

    func headline(_ address: Address) -> String {
        "\(address.interfaceIndex): \(shownName(address.interfaceIndex) ?? "?") \(address.family) "
            + "\(address.local)/\(address.prefixLength)"
    }

    func text(_ address: Address) -> String {
        var line = headline(address)
        if let peer = address.peer { line += " peer \(peer)" }
        if let broadcast = address.broadcast { line += " brd \(broadcast)" }
        line += " scope \(address.scope)"
        for flag in address.flags.names(family: address.family) { line += " " + flag }
        if let label = address.label { line += " label \(PrintableText.escaped(label))" }
        line += " valid_lft \(AddressLifetime.text(address.validLifetime))"
        line += " preferred_lft \(AddressLifetime.text(address.preferredLifetime))"
        return line
    }

    // MARK: links

    func fields(_ link: Link) -> Fields {
        var fields = Fields()
        fields.add("ifindex", link.index)
        fields.add("ifname", link.name)
        fields.add("kind", link.kind)
        fields.add("flags", list: flagNames(link))
        fields.add("mtu", link.mtu)
        fields.add("qdisc", link.queueingDiscipline)
        fields.add("operstate", link.operationalState.description)
        fields.add("txqlen", link.transmitQueueLength)
        fields.add("link_type", link.hardwareType.description)
        fields.add("address", link.address?.description)
        fields.add("broadcast", link.broadcast?.description)
        fields.add("master", name(link.masterIndex))
        fields.add("master_ifindex", link.masterIndex)
        fields.add("link", name(link.linkIndex))
        fields.add("link_ifindex", link.linkIndex)
        return fields
    }

    func headline(_ link: Link) -> String { "\(link.index): \(PrintableText.escaped(link.name))" }

    func text(_ link: Link) -> String {
        var line = headline(link) + " " + PrintableText.escaped(link.kind ?? "device") + " <" + flagNames(link).joined(separator: ",")
            + "> mtu \(link.mtu)"
        line += " state \(link.operationalState)"
        line += " link/\(link.hardwareType)"
        if let address = link.address { line += " \(address)" }
        if let master = link.masterIndex { line += " master \(shownName(master) ?? "if\(master)")" }
        if let parent = link.linkIndex { line += " link \(shownName(parent) ?? "if\(parent)")" }
        return line
    }

    // MARK: neighbours

    func fields(_ neighbour: Neighbour) -> Fields {
        var fields = Fields()
        fields.add("ifindex", neighbour.interfaceIndex)
        fields.add("dev", name(neighbour.interfaceIndex))
        fields.add("family", neighbour.family.description)
        fields.add("dst", neighbour.destination.description)
        fields.add("lladdr", neighbour.linkLayerAddress?.description)
        fields.add("state", list: neighbour.state.names)
        fields.add("flags", list: neighbour.flags.names)
        return fields
    }

    func headline(_ neighbour: Neighbour) -> String {
        "\(neighbour.destination) dev \(shownName(neighbour.interfaceIndex) ?? "if\(neighbour.interfaceIndex)")"
    }

    func text(_ neighbour: Neighbour) -> String {
        var line = headline(neighbour)
        if let address = neighbour.linkLayerAddress { line += " lladdr \(address)" }
        for flag in neighbour.flags.names { line += " " + flag }
        line += " " + neighbour.state.names.joined(separator: ",")
        return line
    }

    // MARK: routes

    func fields(_ route: Route) -> Fields {
        var fields = Fields()
        fields.add("family", route.family.description)
        fields.add("table", route.table.description)
        fields.add("type", route.type.description)
        // As `ip -j route` writes them: `default`, a host route without /32 or /128, no `metric` when it is 0.
        fields.add("dst", Self.destinationText(route))
        fields.add("src", route.source?.description)
        if route.tos != 0 { fields.add("tos", route.tos) }
        fields.add("protocol", route.routingProtocol.description)
        fields.add("scope", route.scope.description)
        if route.priority != 0 { fields.add("metric", route.priority) }
        fields.add("prefsrc", route.preferredSource?.description)
        if route.nexthops.count == 1, let nexthop = route.nexthops.first {
            fields.add("gateway", nexthop.gateway?.description)
            fields.add("dev", name(nexthop.interfaceIndex))
            fields.add("ifindex", nexthop.interfaceIndex)
        } else if route.nexthops.count > 1 {
            let hops = route.nexthops.map { nexthop in
                var hop = JSONLine()
                hop.add("gateway", nexthop.gateway?.description)
                hop.add("dev", name(nexthop.interfaceIndex))
                hop.add("ifindex", nexthop.interfaceIndex)
                hop.add("weight", Int(nexthop.weight) + 1)
                return JSONValue(hop)
            }
            fields.add("nexthops", JSONValue(hops))
        }
        fields.add("flags", list: route.flagNames)
        return fields
    }

    func headline(_ route: Route) -> String {
        "table \(route.table) \(route.type) \(Self.destinationText(route))"
    }

    static func destinationText(_ route: Route) -> String {
        if route.destination.length == 0 { return "default" }
        return route.destination.length == route.destination.address.bitWidth
            ? route.destination.address.description : route.destination.description
    }

    func text(_ route: Route) -> String {
        var line = route.type == .unicast ? "" : "\(route.type) "
        line += Self.destinationText(route)
        if let source = route.source { line += " from \(source)" }
        for nexthop in route.nexthops {
            if route.nexthops.count > 1 { line += " nexthop" }
            if let gateway = nexthop.gateway { line += " via \(gateway)" }
            if let index = nexthop.interfaceIndex { line += " dev \(shownName(index) ?? "if\(index)")" }
        }
        line += " table \(route.table) proto \(route.routingProtocol) scope \(route.scope)"
        if let source = route.preferredSource { line += " src \(source)" }
        if route.priority != 0 { line += " metric \(route.priority)" }
        for flag in route.flagNames { line += " " + flag }
        return line
    }

    // MARK: ip -j compatibility (--ip-compat)

    /// A link's keys as `ip -j addr` prints them before `addr_info` (no `link_netnsid`: libnl does not give it).
    func ipLink(_ link: Link) -> JSONLine {
        var line = JSONLine()
        line.add("ifindex", link.index)
        if let parent = link.linkIndex {
            if let name = name(parent) { line.add("link", name) } else { line.add("link_index", parent) }
        }
        line.add("ifname", link.name)
        line.add("flags", list: flagNames(link))
        line.add("mtu", link.mtu)
        line.add("qdisc", link.queueingDiscipline)
        line.add("master", name(link.masterIndex))
        line.add("operstate", link.operationalState.description)
        line.add("group", link.group == 0 ? "default" : String(link.group))
        line.add("txqlen", link.transmitQueueLength)
        line.add("link_type", link.hardwareType.description)
        line.add("address", link.address?.description)
        line.add("broadcast", link.broadcast?.description)
        return line
    }

    /// One `addr_info` entry as `ip -j addr` prints it: flags as `"name":true` keys, `dynamic` for an address
    /// without the permanent flag, `valid_life_time`/`preferred_life_time`.
    func ipAddressInfo(_ address: Address) -> JSONLine {
        var line = JSONLine()
        line.add("family", address.family.description)
        line.add("local", address.local.description)
        line.add("address", address.peer?.description)
        line.add("prefixlen", address.prefixLength)
        line.add("broadcast", address.broadcast?.description)
        line.add("scope", address.scope.description)
        let names = address.flags.names(family: address.family)
        if !names.contains("permanent") { line.add("dynamic", true) }
        for name in names where name != "permanent" { line.add(name, true) }
        line.add("label", address.label)
        line.add("valid_life_time", address.validLifetime)
        line.add("preferred_life_time", address.preferredLifetime)
        return line
    }

    /// One route as `ip -j route show table all` prints it: unicast, table main, protocol boot and scope global
    /// left out; IPv6 routes always carry their metric. (No `pref` or `expires`: libnl does not give them.)
    func ipRoute(_ route: Route) -> JSONLine {
        var line = JSONLine()
        if route.type != .unicast { line.add("type", route.type.description) }
        line.add("dst", Self.destinationText(route))
        line.add("from", route.source?.description)
        if route.tos != 0 { line.add("tos", route.tos) }
        if route.nexthops.count == 1, let nexthop = route.nexthops.first {
            line.add("gateway", nexthop.gateway?.description)
            line.add("dev", name(nexthop.interfaceIndex))
        }
        if route.table != .main { line.add("table", route.table.description) }
        if route.routingProtocol != .boot { line.add("protocol", route.routingProtocol.description) }
        if route.scope != .global { line.add("scope", route.scope.description) }
        if route.priority != 0 || route.family == .inet6 { line.add("metric", route.priority) }
        line.add("prefsrc", route.preferredSource?.description)
        if route.nexthops.count > 1 {
            line.add("nexthops", JSONValue(route.nexthops.map { nexthop in
                var hop = JSONLine()
                hop.add("gateway", nexthop.gateway?.description)
                hop.add("dev", name(nexthop.interfaceIndex))
                hop.add("weight", Int(nexthop.weight) + 1)
                return JSONValue(hop)
            }))
        }
        line.add("flags", list: route.flagNames)
        return line
    }

    // MARK: any object

    /// The interface an object is tied to: its own (addr, neigh), itself (link), a single next hop's (route).
    func interface(_ object: NetlinkObject) -> String? {
        switch object {
        case .link(let link): link.name
        case .address(let address): name(address.interfaceIndex)
        case .neighbour(let neighbour): name(neighbour.interfaceIndex)
        case .route(let route): route.nexthops.count == 1 ? name(route.nexthops.first?.interfaceIndex) : nil
        }
    }

    /// A listing's top-level object: event addr|link|neigh|route and the common keys, then the fields.
    func line(_ object: NetlinkObject, envelope: JSONEnvelope, time: Timestamp) -> JSONLine {
        let event: String
        switch object {
        case .link: event = "link"
        case .address: event = "addr"
        case .neighbour: event = "neigh"
        case .route: event = "route"
        }
        var line = envelope.object(event, time: time, interface: interface(object))
        line.append(contentsOf: fields(object).json)
        return line
    }

    func fields(_ object: NetlinkObject) -> Fields {
        switch object {
        case .link(let link): fields(link)
        case .address(let address): fields(address)
        case .neighbour(let neighbour): fields(neighbour)
        case .route(let route): fields(route)
        }
    }

    func text(_ object: NetlinkObject) -> String {
        switch object {
        case .link(let link): text(link)
        case .address(let address): text(address)
        case .neighbour(let neighbour): text(neighbour)
        case .route(let route): text(route)
        }
    }

    func headline(_ object: NetlinkObject) -> String {
        switch object {
        case .link(let link): headline(link)
        case .address(let address): headline(address)
        case .neighbour(let neighbour): headline(neighbour)
        case .route(let route): headline(route)
        }
    }
}

/// Standard output gathered into large writes: a 10,000-address listing is one syscall per 64 KiB, not per line.
struct OutputBuffer {
    var bytes = ByteOutput()

    mutating func line(_ text: String) {
        bytes.append(text: text)
        bytes.endLine()
    }

    mutating func flush() { bytes.flush() }
}

/// `addr --json` lines written as bytes, field for field the object `Renderer.fields(address).json` makes: the hot
/// path of a listing of tens of thousands of addresses (scripts/bench-addrinspect), so nothing here allocates per
/// address. Flag lists and scopes repeat across addresses, so their JSON is made once and reused.
struct AddressJSONWriter {
    private var flagLists: [UInt64: [UInt8]] = [:]
    private var scopes: [UInt8: [UInt8]] = [:]
    /// `{"event":"addr","time":...,"host":...` (the common keys are the same on every line of one listing).
    private let prefix: [UInt8]

    /// `envelope` is the common keys' object (`JSONEnvelope.object("addr", ...)`) as text.
    init(prefix envelope: String) { prefix = Array(envelope.utf8.dropLast()) }

    /// `dev` is the interface name already quoted as a JSON string (nil: unknown interface, no `dev` field).
    mutating func write(_ address: Address, dev: [UInt8]?, into output: inout ByteOutput) {
        output.append(bytes: prefix)
        if let dev {
            output.append(",\"interface\":")
            output.append(bytes: dev)
        }
        output.append(",\"ifindex\":")
        output.append(decimal: address.interfaceIndex)
        if let dev {
            output.append(",\"dev\":")
            output.append(bytes: dev)
        }
        if address.family == .inet6 {
            output.append(",\"family\":\"inet6\",\"local\":\"")
        } else {
            output.append(",\"family\":\"inet\",\"local\":\"")
        }
        output.append(address.local)
        output.append("\",\"prefixlen\":")
        output.append(decimal: address.prefixLength)
        if let peer = address.peer {
            output.append(",\"peer\":\"")
            output.append(peer)
            output.append("\"")
        }
        if let broadcast = address.broadcast {
            output.append(",\"broadcast\":\"")
            output.append(broadcast)
            output.append("\"")
        }
        output.append(",\"scope\":")
        output.append(bytes: scope(address.scope))
        if let label = address.label {
            output.append(",\"label\":")
            output.appendJSONString(label)
        }
        output.append(",\"flags\":")
        output.append(bytes: flagList(address.flags, family: address.family))
        output.append(",\"valid_lft\":")
        output.append(decimal: address.validLifetime)
        output.append(",\"preferred_lft\":")
        output.append(decimal: address.preferredLifetime)
        output.append("}")
        output.endLine()
    }

    private var lastScope: (Scope, [UInt8])?
    private var lastFlagList: (UInt64, [UInt8])?

    private mutating func scope(_ scope: Scope) -> [UInt8] {
        // Neighbouring addresses nearly always share scope and flags: check the last one before hashing.
        if let last = lastScope, last.0 == scope { return last.1 }
        if let known = scopes[scope.rawValue] {
            lastScope = (scope, known)
            return known
        }
        var text = ByteOutput(descriptor: -1)
        text.appendJSONString(scope.description)
        scopes[scope.rawValue] = text.bytes
        return text.bytes
    }

    private mutating func flagList(_ flags: AddressFlags, family: AddressFamily) -> [UInt8] {
        let key = UInt64(family.rawValue) << 32 | UInt64(flags.rawValue)
        if let last = lastFlagList, last.0 == key { return last.1 }
        if let known = flagLists[key] {
            lastFlagList = (key, known)
            return known
        }
        var text = ByteOutput(descriptor: -1)
        text.append("[")
        for (index, name) in flags.names(family: family).enumerated() {
            if index > 0 { text.append(",") }
            text.appendJSONString(name)
        }
        text.append("]")
        flagLists[key] = text.bytes
        return text.bytes
    }
}
