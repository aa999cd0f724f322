import Glibc

/// Reading `/proc/sys/net/...`. The values are those of the network namespace of the calling thread, so read
/// them inside `NamespaceScope.perform` for a named namespace.
public enum Sysctl {
    /// The integer value at `path` under /proc/sys (e.g. `net/ipv4/conf/all/arp_ignore`), or nil when it does not
    /// exist or is not a number.
    public static func integer(_ path: String) -> Int? {
        let descriptor = open("/proc/sys/" + path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[0..<count], as: UTF8.self)
        return Int(text.trimmingCharacters(in: " \n\t"))
    }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> Substring {
        let set = Set(characters)
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return slice
    }
}

/// The two IPv4 sysctls that decide whether a node answers ARP for an address held on another interface:
/// `arp_ignore` (1: reply only if the target IP is on the interface the request came in on) and `arp_announce`
/// (2: always use the best local address as ARP source). kube-proxy's IPVS `strictARP` sets 1 and 2, which
/// MetalLB's layer-2 mode needs so that only the elected node answers for a LoadBalancer IP.
public struct ARPSettings: Hashable, Sendable {
    public var ignore: Int
    public var announce: Int

    public init(ignore: Int, announce: Int) {
        self.ignore = ignore
        self.announce = announce
    }

    /// The kernel applies the larger of `all` and the interface's own value to both sysctls.
    public func effective(with all: ARPSettings) -> ARPSettings {
        ARPSettings(ignore: max(ignore, all.ignore), announce: max(announce, all.announce))
    }

    public var isStrict: Bool { ignore >= 1 && announce >= 2 }

    /// `net.ipv4.conf.NAME.arp_ignore/arp_announce` for `all`, `default` or an interface name.
    public static func read(interface name: String) -> ARPSettings? {
        guard let ignore = Sysctl.integer("net/ipv4/conf/\(name)/arp_ignore"),
            let announce = Sysctl.integer("net/ipv4/conf/\(name)/arp_announce")
        else { return nil }
        return ARPSettings(ignore: ignore, announce: announce)
    }
}
