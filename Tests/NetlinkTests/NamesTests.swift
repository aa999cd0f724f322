import Netlink
import PacketCore
import Testing

/// Names and bits from linux/if_addr.h, linux/if.h, linux/neighbour.h and linux/rtnetlink.h (kernel facts), the
/// change tracker's diff, and the `has` verdict on snapshots built by hand (for what the lab kernel cannot make,
/// such as a real `dummy` kube-ipvs0).
struct NamesTests {
    @Test func addressFlagBitsUseTheKernelsNames() {
        // IFA_F_SECONDARY 0x01, IFA_F_NODAD 0x02, IFA_F_DEPRECATED 0x20, IFA_F_PERMANENT 0x80,
        // IFA_F_NOPREFIXROUTE 0x200; bit 0 is IFA_F_TEMPORARY for IPv6.
        let flags = AddressFlags(rawValue: 0x01 | 0x02 | 0x20 | 0x80 | 0x200)
        #expect(flags.names(family: .inet) == ["secondary", "nodad", "deprecated", "permanent", "noprefixroute"])
        #expect(flags.names(family: .inet6).first == "temporary")
        #expect(AddressFlags(rawValue: 0x1_0000).names(family: .inet) == ["0x10000"])
    }

    @Test func linkFlagsFollowIPsOrderAndNoCarrier() {
        // IFF_UP 0x1, IFF_BROADCAST 0x2, IFF_NOARP 0x80, IFF_LOWER_UP 0x10000; UP without IFF_RUNNING is NO-CARRIER.
        let flags = LinkFlags(rawValue: 0x1 | 0x2 | 0x80 | 0x40 | 0x10000)
        #expect(flags.names == ["BROADCAST", "NOARP", "UP", "LOWER_UP"])
        #expect(LinkFlags(rawValue: 0x1 | 0x2).names == ["NO-CARRIER", "BROADCAST", "UP"])
    }

    @Test func neighbourStatesAndRouteNames() {
        #expect(NeighbourState(rawValue: 0x80).names == ["PERMANENT"])
        #expect(NeighbourState(rawValue: 0).names == ["NONE"])
        #expect(RouteType(rawValue: 6).description == "blackhole")
        #expect(RouteTable(rawValue: 255).description == "local")
        #expect(RouteTable(name: "100") == RouteTable(rawValue: 100))
        #expect(RouteType(rawValue: 200).description == "200")
    }

    static let vip = IPAddress("198.51.100.10")!

    @Test func trackerReportsAddedChangedRemovedAndResyncDifferences() {
        var tracker = ChangeTracker(kinds: [.address])
        let address = Address(interfaceIndex: 2, local: Self.vip, prefixLength: 32)
        #expect(tracker.apply(.address(address), isRemoval: false)?.action == .added)
        #expect(tracker.apply(.address(address), isRemoval: false) == nil)  // repeated notification
        var deprecated = address
        deprecated.preferredLifetime = 0
        let change = tracker.apply(.address(deprecated), isRemoval: false)
        #expect(change?.action == .changed && change?.old == .address(address))
        #expect(tracker.apply(.address(deprecated), isRemoval: true)?.action == .removed)
        #expect(tracker.apply(.address(deprecated), isRemoval: true) == nil)

        let other = Address(interfaceIndex: 3, local: IPAddress("203.0.113.1")!, prefixLength: 24)
        _ = tracker.apply(.address(other), isRemoval: false)
        let differences = tracker.resync(with: Snapshot(addresses: [address]))
        #expect(differences.map(\.action) == [.removed, .added])
        #expect(differences.allSatisfy { $0.fromResync })
        #expect(tracker.addresses.count == 1)
    }

    static func node(kind: String, noARP: Bool, arpIgnore: Int) -> (Snapshot, [String: ARPSettings]) {
        let holder = Link(index: 2, name: "kube-ipvs0", kind: kind,
                          flags: LinkFlags(rawValue: 0x1 | 0x2 | (noARP ? 0x80 : 0) | 0x40))
        let nic = Link(index: 3, name: "eth0", flags: LinkFlags(rawValue: 0x1 | 0x2 | 0x40 | 0x1000))
        let snapshot = Snapshot(
            links: [holder, nic],
            addresses: [Address(interfaceIndex: 2, local: vip, prefixLength: 32)],
            routes: [Route(family: .inet, table: .local, type: .local, destination: IPPrefix(address: vip, length: 32)!,
                           nexthops: [Nexthop(interfaceIndex: 2)])])
        let settings = ARPSettings(ignore: arpIgnore, announce: arpIgnore == 0 ? 0 : 2)
        return (snapshot, ["all": settings, "eth0": settings, "kube-ipvs0": settings])
    }

    @Test func dummyKubeIPVSWithoutStrictARPIsFlagged() {
        let (snapshot, arp) = Self.node(kind: "dummy", noARP: true, arpIgnore: 0)
        let report = ServiceIPReport(ip: Self.vip, snapshot: snapshot, arp: arp)
        #expect(report.verdict == .local && report.verdict.exitCode == 0)
        #expect(report.reading.contains { $0.contains("kube-ipvs0 (dummy, NOARP, UP)") && $0.contains("IPVS") })
        #expect(report.reading.contains { $0.contains("not strictARP on eth0") })
    }

    @Test func strictARPIsRecognised() {
        let (snapshot, arp) = Self.node(kind: "dummy", noARP: true, arpIgnore: 1)
        let report = ServiceIPReport(ip: Self.vip, snapshot: snapshot, arp: arp)
        #expect(report.reading.contains { $0.contains("strictARP in effect") })
    }

    @Test func verdictsWithoutTheAddress() {
        let other = IPAddress("198.51.100.99")!
        let link = Link(index: 3, name: "eth0", flags: LinkFlags(rawValue: 0x1 | 0x40))
        let connected = Route(family: .inet, destination: IPPrefix("198.51.100.0/24")!, scope: .link,
                              nexthops: [Nexthop(interfaceIndex: 3)])
        let neighbour = Neighbour(interfaceIndex: 3, destination: other,
                                  linkLayerAddress: HardwareAddress([2, 0, 0, 0, 0, 9]), state: .stale)
        let failed = Neighbour(interfaceIndex: 3, destination: other, state: .failed)
        func verdict(_ snapshot: Snapshot) -> ServiceIPReport.Verdict {
            ServiceIPReport(ip: other, snapshot: snapshot, arp: [:]).verdict
        }
        #expect(verdict(Snapshot(links: [link], routes: [connected])) == .notLocal)
        #expect(verdict(Snapshot(links: [link], neighbours: [neighbour], routes: [connected])) == .neighbourKnown)
        #expect(verdict(Snapshot(links: [link], neighbours: [failed], routes: [connected])) == .notLocal)
        #expect(verdict(Snapshot(links: [link])) == .unknown)
        let verdicts: [ServiceIPReport.Verdict] = [.local, .notLocal, .neighbourKnown, .unknown]
        #expect(verdicts.map(\.exitCode) == [0, 10, 11, 12])
    }
}
