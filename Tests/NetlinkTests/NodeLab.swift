import Foundation
import Testing

/// A namespace dressed like a Kubernetes node: the kernel here has no `dummy` link type, so `kube-ipvs0` is an
/// `ifb` device with ARP off (NOARP, like kube-proxy's dummy); `v0`/`v1` is a veth pair standing for the node's
/// NIC; `vx0` has carrier-less peer `vx1` enslaved to bridge `br0`, so IPv6 addresses on `vx0` stay tentative.
struct NodeLab {
    let lab: NamespaceLab
    var name: String { lab.name }

    init(tag: String, prefix: String = "an") throws {
        lab = try NamespaceLab(tag: tag, prefix: prefix)
        do {
            try build()
        } catch {
            lab.tearDown()
            throw error
        }
    }

    func tearDown() { lab.tearDown() }

    private func build() throws {
        let ip = lab.ip
        try ip("link", "add", "kube-ipvs0", "type", "ifb")
        try ip("link", "set", "kube-ipvs0", "arp", "off", "up")
        try ip("addr", "add", "198.51.100.10/32", "dev", "kube-ipvs0")
        try ip("addr", "add", "198.51.100.11/32", "dev", "kube-ipvs0")
        try ip("addr", "add", "2001:db8::10/128", "dev", "kube-ipvs0", "nodad")

        try ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
        try ip("link", "set", "v0", "up")
        try ip("link", "set", "v1", "up")
        try ip("addr", "add", "203.0.113.1/24", "dev", "v0")
        try ip("addr", "add", "203.0.113.5/24", "dev", "v0")  // secondary: same subnet as the first
        try ip("addr", "add", "203.0.113.9/24", "dev", "v0", "noprefixroute")
        try ip("addr", "add", "203.0.113.50", "peer", "203.0.113.51/32", "dev", "v0")
        try ip("addr", "add", "fd99::1/64", "dev", "v0", "nodad")
        try ip("addr", "add", "fd99::2/64", "dev", "v0", "nodad", "preferred_lft", "0")  // deprecated
        try ip("addr", "add", "2001:db8:1::1/64", "dev", "v0", "nodad", "valid_lft", "3000", "preferred_lft", "2000")

        try ip("link", "add", "br0", "type", "bridge")
        try ip("link", "add", "vx0", "type", "veth", "peer", "name", "vx1")
        try ip("link", "set", "vx1", "master", "br0")
        try ip("link", "set", "vx0", "up")
        try ip("addr", "add", "fd99:2::1/64", "dev", "vx0")  // no carrier: DAD never runs, stays tentative

        try ip("neigh", "add", "203.0.113.7", "lladdr", "02:00:00:00:00:07", "dev", "v0", "nud", "permanent")
        try ip("neigh", "add", "203.0.113.8", "lladdr", "02:00:00:00:00:08", "dev", "v0", "nud", "stale")
        try ip("neigh", "add", "203.0.113.20", "lladdr", "02:00:00:00:00:20", "dev", "v0", "nud", "reachable")
        try ip("-6", "neigh", "add", "fd99::20", "lladdr", "02:00:00:00:00:21", "dev", "v0", "nud", "permanent",
               "router")

        try ip("route", "add", "default", "via", "203.0.113.254", "dev", "v0")
        try ip("route", "add", "198.51.100.64/26", "via", "203.0.113.253", "dev", "v0", "metric", "20")
        try ip("route", "add", "blackhole", "198.51.100.128/25")
        try ip("route", "add", "local", "198.51.100.32/28", "dev", "lo", "table", "local")  // AnyIP
        try ip("route", "add", "198.51.100.0/24", "dev", "v0", "table", "100")
        try ip("-6", "route", "add", "2001:db8:2::/48", "via", "fd99::20", "dev", "v0", "metric", "50")
        try ip("-6", "route", "add", "blackhole", "2001:db8:3::/48")
    }
}
