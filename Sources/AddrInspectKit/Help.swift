/// addrinspect's help discussions, one per command, kept out of the executable so it stays argument parsing and
/// wiring. The text is what `--help` prints (HelpTests check it); the exit codes listed match ExitCodes.swift.
public enum AddrInspectHelp {
    public static let addrInspect = """
        Reads the kernel's own tables through rtnetlink (libnl-3), in this host's
        network namespace or, with --netns NAME (-n NAME, before or after the
        command, as 'ip -n NAME addr' takes it), in the namespace 'ip netns add NAME'
        created. Text output is one line per object; --json prints JSON Lines (one
        object per line, field names as 'ip -j' uses them, after the common keys
        event, time, host and interface: docs/json.md); --ip-compat (addr, route)
        prints exactly what 'ip -j' prints.

        Examples:
          addrinspect has 198.51.100.10
              Is this LoadBalancer IP local here? (see the exit status)
          addrinspect addr --dev kube-ipvs0 --family 4
              The IPs kube-proxy's IPVS mode put on kube-ipvs0.
          addrinspect neigh --json
              Which MAC this node holds for each IP.
          addrinspect route --table local
              Local routes: what the kernel delivers here.
          addrinspect watch addr neigh --duration 60
              What changes during a failover.
          addrinspect -n lab1 link
              The links of the namespace lab1 (or: addrinspect link --netns lab1).

        Exit status:
          0   ok (for 'has': the IP is local)
          1   failure (no such namespace, no permission)
          64  usage error
          'has' also returns 10, 11 and 12: see 'addrinspect has --help'.
        """

    public static let addressCommand = """
        One line per address, grouped by interface in index order. Flags are named
        as 'ip addr' names them (secondary, temporary, nodad, optimistic, dadfailed,
        home, deprecated, tentative, permanent, mngtmpaddr, noprefixroute, autojoin,
        stable-privacy); unknown bits are shown as hex. Lifetimes are seconds;
        4294967295 (text: forever) means no expiry.

        JSON fields (event addr, then docs/json.md's common keys): ifindex, dev,
        family (inet|inet6), local, prefixlen, peer, broadcast, scope, label,
        flags (list), valid_lft, preferred_lft. --ip-compat prints instead what
        'ip -j addr' prints: one JSON array of links with nested addr_info
        (family, local, address, prefixlen, broadcast, scope, flags as true
        keys, dynamic, label, valid_life_time, preferred_life_time).

        Examples:
          addrinspect addr
          addrinspect addr --dev kube-ipvs0 --family 4 --json
          addrinspect addr --scope global --netns lab1

        Exit status: 0 ok, 1 failure (no such namespace or interface, no
        permission), 64 usage error.
        """

    public static let linkCommand = """
        Kind is the kernel's IFLA_INFO_KIND (dummy, veth, bridge, vlan, bond, ifb,
        ...; absent for plain devices such as lo or a NIC). A kube-proxy IPVS node
        shows kube-ipvs0 as a dummy with NOARP. Flags are named and ordered as
        'ip link' prints them (NO-CARRIER when UP without carrier).

        JSON fields (event link, interface = ifname, then docs/json.md's common
        keys): ifindex, ifname, kind, flags (list), mtu, qdisc, operstate,
        txqlen, link_type, address, broadcast, master, master_ifindex, link,
        link_ifindex (a veth's peer or a VLAN's parent).

        Examples:
          addrinspect link
          addrinspect link --json --netns lab1

        Exit status: 0 ok, 1 failure (no such namespace, no permission), 64 usage
        error.
        """

    public static let neighbourCommand = """
        Every IPv4 and IPv6 entry in every state (INCOMPLETE, REACHABLE, STALE,
        DELAY, PROBE, FAILED, NOARP, PERMANENT), like 'ip neigh show nud all'.
        Bridge forwarding entries are not shown.

        JSON fields (event neigh, interface = dev, then docs/json.md's common
        keys): ifindex, dev, family, dst, lladdr, state (list), flags (list:
        router, proxy, ...).

        Examples:
          addrinspect neigh
          addrinspect neigh --dev eth0 --json

        Exit status: 0 ok, 1 failure (no such namespace or interface, no
        permission), 64 usage error.
        """

    public static let routeCommand = """
        Every IPv4 and IPv6 route in every table (like 'ip route show table all'),
        with its type: unicast, local (delivered to this host: one per assigned
        address, or an AnyIP prefix), broadcast, multicast, blackhole, unreachable,
        prohibit, throw. 'dst' is written as 'ip -j route' writes it: 'default',
        a host route without /32 or /128, else a prefix; metric 0 is left out.

        JSON fields (event route, interface = dev when there is one next hop,
        then docs/json.md's common keys): family, table (main, local, default or
        a number), type, dst, src, tos, protocol, scope, metric, prefsrc,
        gateway, dev, ifindex, nexthops (list, for multipath), flags (list).
        --ip-compat prints instead one JSON array with the keys and defaults of
        'ip -j route show table all' (main table, unicast, boot protocol and
        global scope left out; no pref or expires, which libnl does not give).

        Examples:
          addrinspect route
          addrinspect route --table local --family 4
          addrinspect route --table main --json

        Exit status: 0 ok, 1 failure (no such namespace, no permission), 64 usage
        error.
        """

    public static let hasCommand = """
        Looks the IP up in every table at once: interfaces it is assigned to (with
        their kind and flags), local routes covering it, neighbour entries for it
        (MAC and state), the main-table route traffic to it would take, and for IPv4
        the ARP sysctls (arp_ignore, arp_announce) of 'all' and every interface,
        then says in plain words what that means. For example, an IP on kube-ipvs0
        (dummy, NOARP) is kube-proxy's IPVS mode: without strictARP (arp_ignore=1,
        arp_announce=2) every node answers ARP for it, which breaks MetalLB's
        layer-2 mode.

        Exit status (the verdict):
          0   local: assigned to an interface here, or delivered locally by a
              local route
          10  not local: no neighbour entry with a MAC for it, but a route sends it
              somewhere
          11  neighbour known: not local, and this node holds a MAC for it
              (another host answers for it)
          12  unknown: not local, no usable neighbour entry, no usable route
              (none, or blackhole/unreachable)
          1   failure (no such namespace, no permission)
          64  usage error

        The route is the one 'ip route get IP' shows: policy rules (ip rule) in
        priority order, then the longest prefix and lowest metric of the rule's
        table ('not' rules and suppress_prefixlength are not modelled).

        JSON (a start object, then one object with event verdict and
        docs/json.md's common keys): ip, verdict (local|not-local|
        neighbour-known|unknown), exit_status, addresses (list of {dev, ifindex,
        kind, link_flags, prefixlen, flags}), local_routes (list of {dst, table,
        dev}), neighbours (list of {dev, lladdr, state}), route ({dst, type,
        table, gateway, dev, rule}), rule ({priority, action, table}: the
        policy rule that dropped it), arp (list of {dev, arp_ignore,
        arp_announce}, dev 'all' first), reading (list of sentences).

        Examples:
          addrinspect has 198.51.100.10 && echo "this node holds the VIP"
          addrinspect has 2001:db8::10 --json --netns lab1
        """

    public static let watchCommand = """
        Reads the current state first (not printed), then one line per change with
        its time: added, removed, or changed (text shows each changed field as
        'old -> new'; JSON carries the whole old and new objects). The first line
        is a 'ready' event: changes made after it are reported.

        When the kernel drops notifications because they came faster than they were
        read (ENOBUFS), a line says so ('overflow'), the full state is read again,
        every difference found is reported (marked resync), and a 'resynced' line
        ends the catch-up: the stream never silently diverges. Note that the kernel
        sends no notification for IPv4 routes it flushes when a link goes down.

        JSON fields (after a start object; docs/json.md's common keys event,
        time, host, interface): event (ready|added|removed|changed|overflow|
        resynced), object (addr|link|neigh|route), resync (true on catch-up
        changes), old, new (objects with the fields of the matching list command),
        objects (ready, resynced: objects of the watched kinds), changes
        (resynced).

        Examples:
          addrinspect watch
              Everything, until Ctrl-C.
          addrinspect watch addr neigh --duration 60 --json
              Addresses and neighbours for a minute, as JSON Lines.
          addrinspect watch link --count 1
              Wait for the next link change.

        Exit status: 0 ok (ended by --duration, --count or Ctrl-C), 1 failure (no
        such namespace, no permission), 64 usage error.
        """
}
