import Netlink
import PacketCore
import ToolSupport

/// What `addr`, `link`, `neigh` and `route` list, as events into a sink; `addr --json` and the `--ip-compat`
/// arrays have their own writers (the fast path and ip's own shape).
public enum Listing {
    /// How a listing is printed.
    public enum Format {
        case text
        case json(JSONEnvelope, Timestamp)
        /// What `ip -j` prints: one JSON array.
        case ipCompat
    }

    /// Addresses grouped by interface in link order, as 'ip addr' does, keeping the kernel's order within an
    /// interface; `dev`, `family` and `scope` filter.
    public static func addresses(
        links: [Link], addresses: DumpList<Address>, dev: String?, family: AddressFamily?, scope: Scope?, format: Format,
        into output: inout ByteWriter
    ) {
        // A stable counting sort of indexes, so the (possibly huge) list itself is never copied.
        var slots: [Int32: Int] = [:]
        for (slot, link) in links.enumerated() where dev == nil || link.name == dev { slots[link.index] = slot }
        var slotOfAddress = [Int32](repeating: -1, count: addresses.count)
        var starts = [Int](repeating: 0, count: links.count + 1)
        for (position, address) in addresses.enumerated() {
            if let family, address.family != family { continue }
            if let scope, address.scope != scope { continue }
            guard let slot = slots[address.interfaceIndex] else { continue }
            slotOfAddress[position] = Int32(slot)
            starts[slot + 1] += 1
        }
        for slot in links.indices { starts[slot + 1] += starts[slot] }
        var order = [Int32](repeating: 0, count: starts[links.count])
        var next = starts
        for (position, slot) in slotOfAddress.enumerated() where slot >= 0 {
            order[next[Int(slot)]] = Int32(position)
            next[Int(slot)] += 1
        }

        switch format {
        case .ipCompat:
            // ip lists every link (all of them, or --dev's) and, with a filter, only the links with a match.
            let renderer = Renderer(links: links)
            var items: [JSONValue] = []
            let filtered = family != nil || scope != nil
            for (slot, link) in links.enumerated() where dev == nil || link.name == dev {
                if filtered && starts[slot] == starts[slot + 1] { continue }
                let infos = order[starts[slot]..<starts[slot + 1]].map { renderer.ipAddressInfo(addresses[Int($0)]) }
                var item = renderer.ipLink(link)
                item.add("addr_info", JSONValue(infos.map { JSONValue($0) }))
                items.append(JSONValue(item))
            }
            output.line(JSONValue(items).encoded)
        case .json(let envelope, let time):
            output.line(JSONLinesSink(envelope: envelope).start(time: time)!)
            var writer = AddressJSONWriter(prefix: envelope.object("addr", time: time).text)
            for (slot, link) in links.enumerated() where starts[slot] < starts[slot + 1] {
                var name = ByteWriter(descriptor: -1)
                name.appendJSONString(link.name)
                for position in order[starts[slot]..<starts[slot + 1]] {
                    writer.write(addresses[Int(position)], dev: name.bytes, into: &output)
                }
            }
        case .text:
            let renderer = Renderer(links: links)
            for position in order { output.line(renderer.text(addresses[Int(position)])) }
        }
    }

    /// Links, neighbours or routes: one `listed` event each through `sink` (after its start line).
    public static func objects(
        _ objects: some Sequence<NetlinkObject>, links: [Link], sink: some AddrInspectSink, time: Timestamp,
        into output: inout ByteWriter
    ) {
        let renderer = Renderer(links: links)
        if let start = sink.start(time: time) { output.line(start) }
        for object in objects { output.emit(.listed(object), time: time, names: renderer, to: sink) }
    }

    /// `route --ip-compat`: what 'ip -j route' prints, one array.
    public static func ipCompatRoutes(_ routes: some Sequence<Route>, links: [Link], into output: inout ByteWriter) {
        let renderer = Renderer(links: links)
        output.line(JSONValue(routes.map { JSONValue(renderer.ipRoute($0)) }).encoded)
    }
}
