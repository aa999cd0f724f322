#!/usr/bin/env python3
"""Write captures/README.md from the recorded captures themselves (called by scripts/record-captures).

The prose (how each file was made) is fixed here; the frame tables and key values are read back from
the pcaps with tshark, so the README always describes the files next to it, even after a re-recording
(frame numbers and background frames change between runs: compare values, not counts).

Usage: write-readme.py CAPTURES_DIR VERSIONS_FILE > CAPTURES_DIR/README.md
"""
import os
import subprocess
import sys

CAPDIR = sys.argv[1]
VERSIONS = open(sys.argv[2]).read().strip() if len(sys.argv) > 2 and os.path.exists(sys.argv[2]) else ""


def tshark(path, *args):
    out = subprocess.run(["tshark", "-r", path, *args], capture_output=True, text=True, check=True).stdout
    return out


def rows(path, display_filter, *fields):
    args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    if display_filter:
        args += ["-Y", display_filter]
    for f in fields:
        args += ["-e", f]
    return [line.split("\t") for line in tshark(path, *args).splitlines() if line.strip()]


def values(path, display_filter, field):
    """Distinct values of one field in matching frames, in order of first appearance."""
    seen = []
    for (cell,) in rows(path, display_filter, field):
        for v in cell.split(","):
            if v and v not in seen:
                seen.append(v)
    return seen


def frame_numbers(path, display_filter):
    return [int(r[0]) for r in rows(path, display_filter, "frame.number")]


def fmt_frames(nums):
    """1,2,3,5 -> '1-3, 5'"""
    out, start, prev = [], None, None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out) if out else "none"


def table(path, display_filter):
    lines = ["| frame | len | source | destination | protocol | tshark summary |", "|---:|---:|---|---|---|---|"]
    for r in rows(path, display_filter, "frame.number", "frame.len", "_ws.col.Source", "_ws.col.Destination",
                  "_ws.col.Protocol", "_ws.col.Info"):
        r = [c.replace("|", "\\|").replace("\u2192", "->") for c in r] + [""] * (6 - len(r))
        lines.append("| " + " | ".join(r[:6]) + " |")
    return "\n".join(lines)


def linktype(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return int.from_bytes(head[20:24], "little" if head[:4] == b"\xd4\xc3\xb2\xa1" else "big")


LINKTYPE_NAMES = {1: "LINKTYPE_ETHERNET (1)", 276: "LINKTYPE_LINUX_SLL2 (276)", 113: "LINKTYPE_LINUX_SLL (113)"}


def header(name, path):
    n = len(tshark(path).splitlines())
    return (f"## `{name}`\n\n"
            f"- Link type: {LINKTYPE_NAMES.get(linktype(path), linktype(path))}; {n} frames, "
            f"{os.path.getsize(path)} bytes. Expected values: `expected/{name[:-5]}.json`.\n\n")


# ------------------------------------------------------------------------------------------ sections
def garp(p):
    grat_req = frame_numbers(p, "arp.isgratuitous && arp.opcode == 1")
    grat_rep = frame_numbers(p, "arp.isgratuitous && arp.opcode == 2")
    probes = frame_numbers(p, "arp.opcode == 1 && arp.src.proto_ipv4 == 0.0.0.0")
    return f"""
Made by `rec_garp`: namespaces `vsrec-garp-node1` (eth0 02:76:73:01:00:01, 203.0.113.1/24) and
`vsrec-garp-client` (eth0 02:76:73:01:00:02, 203.0.113.2/24) joined by a veth, IPv6 off, captured on the
client's eth0. The client pings node1 (ordinary ARP request/reply + ICMP echo), node1 (with
`net.ipv4.ip_nonlocal_bind=1`) runs `arping -U -c 2 -I eth0 198.51.100.10` and `arping -A -c 2 -I eth0
198.51.100.10`, then the client runs `arping -D -c 2 -w 3` for a free address (203.0.113.3, no answer) and
for node1's address (203.0.113.1, answered: the duplicate-address case). Frames are 42 bytes (veth does not
pad to 60).

Key values (tshark):
- gratuitous requests (opcode 1, sender IP == target IP == 198.51.100.10, target MAC
  {", ".join(values(p, "arp.isgratuitous && arp.opcode == 1", "arp.dst.hw_mac"))}): frames {fmt_frames(grat_req)}
- gratuitous replies (opcode 2, `arping -A`: target MAC = own MAC
  {", ".join(values(p, "arp.isgratuitous && arp.opcode == 2", "arp.dst.hw_mac"))}): frames {fmt_frames(grat_rep)}
- ARP probes (sender IP 0.0.0.0, target MAC ff:ff:ff:ff:ff:ff as iputils sends it): frames
  {fmt_frames(probes)}; the answer to the probe for 203.0.113.1 (reply with target IP 0.0.0.0): frames
  {fmt_frames(frame_numbers(p, "arp.opcode == 2 && arp.dst.proto_ipv4 == 0.0.0.0"))}
- tshark sets `arp.isgratuitous` on the `-U` and `-A` frames only; it does not set `arp.isprobe` on
  iputils' probes because their target MAC is ff:ff:ff:ff:ff:ff, not zero as RFC 5227 asks.
- Unicast ARP requests between the two addresses, if present, are the kernel's neighbour re-probes
  (STALE -> DELAY -> PROBE about 5 s after the ping): frames
  {fmt_frames(frame_numbers(p, "arp.opcode == 1 && !(eth.dst == ff:ff:ff:ff:ff:ff)"))}

{table(p, "")}
"""


def ndp(p):
    return f"""
Made by `rec_ndp`: `vsrec-ndp-node1` (02:76:73:02:00:01, link-local fe80::76:73ff:fe02:1) and
`vsrec-ndp-client` (02:76:73:02:00:02, fd99:2::2/64 added with `nodad` before recording), veth, captured
on the client. During the recording: `sysctl net.ipv6.conf.eth0.ndisc_notify=1` and `ip addr add
fd99:2::10/64 dev eth0` on node1 (DAD NS from `::` to the solicited-node group ff02::1:ff00:10, then, when
DAD completes, the kernel's unsolicited NA to ff02::1 with O=1 S=0 R=0 and the target link-layer option);
the client pings fd99:2::10 (multicast NS with source link-layer option, solicited NA S=1 O=1, echo);
then `scripts/lab/craft.py metallb-na eth0 2001:db8:51::20 --count 2` sends MetalLB's NA twice: from
node1's link-local address to ff02::1 (MAC 33:33:00:00:00:01), hop limit 255, R=0 S=0 O=1, target
2001:db8:51::20, option 2 (target link-layer address) 02:76:73:02:00:01. MLDv2 reports and router
solicitations are the kernel's own background frames.

Key values (tshark):
- DAD NS (source ::): frames {fmt_frames(frame_numbers(p, "icmpv6.type == 135 && ipv6.src == ::"))},
  target {", ".join(values(p, "icmpv6.type == 135 && ipv6.src == ::", "icmpv6.nd.ns.target_address"))}
- kernel unsolicited NA: frames {fmt_frames(frame_numbers(p, "icmpv6.type == 136 && icmpv6.nd.na.target_address == fd99:2::10 && ipv6.dst == ff02::1"))}
  (source {", ".join(values(p, "icmpv6.type == 136 && icmpv6.nd.na.target_address == fd99:2::10 && ipv6.dst == ff02::1", "ipv6.src"))}: the kernel sends it from the address itself, not from the link-local)
- solicited NS/NA of the ping: frames {fmt_frames(frame_numbers(p, "icmpv6.type == 135 && !(ipv6.src == ::)"))} /
  {fmt_frames(frame_numbers(p, "icmpv6.type == 136 && icmpv6.nd.na.flag.s == 1"))}
- MetalLB-style NA: frames {fmt_frames(frame_numbers(p, "icmpv6.nd.na.target_address == 2001:db8:51::20"))},
  target link-layer address {", ".join(values(p, "icmpv6.nd.na.target_address == 2001:db8:51::20", "icmpv6.opt.linkaddr"))}

{table(p, "")}
"""


def failover(p):
    n1, n2 = "02:76:73:03:00:02", "02:76:73:03:00:03"
    a1 = frame_numbers(p, f"arp.src.hw_mac == {n1} && arp.src.proto_ipv4 == 198.51.100.20 && arp.dst.proto_ipv4 == 198.51.100.20")
    a2 = frame_numbers(p, f"arp.src.hw_mac == {n2} && arp.src.proto_ipv4 == 198.51.100.20 && arp.dst.proto_ipv4 == 198.51.100.20")
    r1 = frame_numbers(p, f"icmp.type == 0 && eth.src == {n1}")
    r2 = frame_numbers(p, f"icmp.type == 0 && eth.src == {n2}")
    times = {int(r[0]): float(r[1]) for r in rows(p, "", "frame.number", "frame.time_relative")}
    seq_replied = {r[0] for r in rows(p, "icmp.type == 0", "icmp.seq")}
    lost = [r[0] for r in rows(p, "icmp.type == 8", "icmp.seq") if r[0] not in seq_replied]
    gap = times[a2[0]] - times[a1[-1]] if a1 and a2 else float("nan")
    return f"""
Made by `rec_failover`: namespace `vsrec-fo-switch` holds bridge br0 (STP off, multicast snooping off)
with three veth ports to `vsrec-fo-client` (02:76:73:03:00:01, 203.0.113.100/24, on-link route to
198.51.100.0/24), `vsrec-fo-node1` (02:76:73:03:00:02, 203.0.113.1/24) and `vsrec-fo-node2`
(02:76:73:03:00:03, 203.0.113.2/24); IPv6 off; captured on the client's eth0. Each node has an `ifb`
device `kube-ipvs0` (ARP off) standing in for kube-proxy's NOARP dummy: the VIP 198.51.100.20/32 on it
makes the node's kernel answer ARP for it on eth0 and reply to pings. Node1 gets the VIP and runs
`craft.py metallb-arp eth0 198.51.100.20 --count 5 --interval 1.1` (per burst an ARP request and an ARP
reply, both broadcast, sender IP == target IP == VIP, target MAC ff:ff:ff:ff:ff:ff, as MetalLB's speaker
sends them); the client pings the VIP every 0.5 s (24 pings, `scripts/lab/ping.py`). Then node1 loses the
VIP (no more answers), and after a gap node2 gets it and sends its own 5 bursts; the client's neighbour
entry follows node2's gratuitous ARP and the pings are answered again.

Key values (tshark):
- node1 announcements ({n1}): {len(a1)} frames: {fmt_frames(a1)}
- node2 announcements ({n2}): {len(a2)} frames: {fmt_frames(a2)}; tshark flags these as
  `arp.duplicate-address-detected` (the VIP's MAC changed)
- gap between node1's last and node2's first announcement: {gap:.2f} s
- echo replies from node1's MAC: frames {fmt_frames(r1)}; from node2's MAC: frames {fmt_frames(r2)};
  ICMP sequence numbers without a reply (the outage): {", ".join(lost) or "none"}
- the client's own ARP for the VIP: frames {fmt_frames(frame_numbers(p, "arp.opcode == 1 && arp.src.proto_ipv4 == 203.0.113.100"))};
  node2 resolves the client with an ARP request whose sender IP is the VIP (the source of its echo reply)

ARP frames (ICMP echo frames omitted):

{table(p, "arp")}
"""


def bgp(p):
    opens = rows(p, "bgp.type == 1", "frame.number", "ip.src", "ipv6.src", "bgp.open.myas", "bgp.cap.4as",
                 "bgp.open.holdtime", "bgp.open.identifier", "bgp.cap.type")
    open_lines = "\n".join(
        f"  - frame {r[0]}: from {r[1] or r[2]}, My AS {r[3]}, 4-byte AS capability {r[4]}, hold time {r[5]}, "
        f"identifier {r[6]}, capability codes {r[7]}" for r in opens)
    upd = rows(p, "bgp.type == 2", "frame.number", "ip.src", "ipv6.src", "bgp.nlri_prefix",
               "bgp.mp_reach_nlri_ipv6_prefix", "bgp.withdrawn_prefix", "bgp.mp_unreach_nlri_ipv6_prefix",
               "bgp.update.path_attribute.community_as", "bgp.update.path_attribute.community_value",
               "bgp.large_communities.ga", "bgp.update.path_attribute.as_path_segment.as4",
               "bgp.large_communities.ldp1", "bgp.large_communities.ldp2")
    upd_lines = []
    for r in upd:
        r += [""] * (13 - len(r))
        parts = []
        if r[3]:
            parts.append(f"NLRI {r[3]}")
        if r[4]:
            parts.append(f"MP_REACH IPv6 {r[4]}")
        if r[5]:
            parts.append(f"withdrawn {r[5]}")
        if r[6]:
            parts.append(f"MP_UNREACH IPv6 {r[6]}")
        if r[7]:
            comms = [f"{a}:{v}" for a, v in zip(r[7].split(","), r[8].split(","))]
            parts.append("communities " + " ".join(comms))
        if r[9]:
            lcs = zip(r[9].split(","), r[11].split(","), r[12].split(","))
            parts.append("large communities " + " ".join(f"{g}:{a}:{b}" for g, a, b in lcs))
        if r[10]:
            parts.append("AS_PATH " + r[10].replace(",", " "))
        eor = ("End-of-RIB: empty MP_UNREACH_NLRI for IPv6 unicast" if r[2] else "End-of-RIB: empty UPDATE (IPv4 unicast)")
        upd_lines.append(f"  - frame {r[0]} from {r[1] or r[2]}: " + ("; ".join(parts) or eor))
    notes = rows(p, "bgp.type == 3", "frame.number", "ip.src", "ipv6.src", "bgp.notify.major_error",
                 "bgp.notify.minor_error_cease", "bgp.notify.communication")
    note_lines = "\n".join(f"  - frame {r[0]} from {r[1] or r[2]}: code {r[3]} subcode {r[4]} (Cease, "
                           f"Administrative Shutdown), RFC 8203 text \"{r[5]}\"" for r in notes)
    return f"""
Made by `rec_bgp`: `vsrec-bgp-bird` (BIRD 2, AS 4200000001, 203.0.113.1 and fd99:4::1, MAC
02:76:73:04:00:01) and `vsrec-bgp-frr` (FRR bgpd without zebra, AS 64512, 203.0.113.2 and fd99:4::2, MAC
02:76:73:04:00:02), one veth, captured on BIRD's eth0. Two eBGP sessions: IPv4 unicast over IPv4 and IPv6
unicast over IPv6 (so IPv6 prefixes travel in MP_REACH_NLRI/MP_UNREACH_NLRI). Timers 3 s keepalive / 9 s
hold. BIRD exports its static routes 198.51.100.100/32, 198.51.100.101/32 and 2001:db8:51::100/128 with
community 65000:4200 and large community 4200000001:100:1. FRR announces `network` 198.51.100.10-12/32 and
2001:db8:51::10-11/128 through route-map SVC (communities 64512:100 64512:200, large communities
64512:1:10 4200000001:2:20). FRR also advertises BIRD's routes back to BIRD (AS_PATH 64512 4200000001;
BIRD drops them on its AS-path loop check): that is FRR's default, not a lab error. After ~7 s of
KEEPALIVEs `vtysh ... no network 198.51.100.12/32` and `no network 2001:db8:51::11/128` (withdrawals), then
`neighbor X shutdown message TEXT` on both sessions: NOTIFICATION Cease/Administrative Shutdown (6/2) with
an RFC 8203 shutdown communication; BIRD closes with FIN. BIRD is `passive` (FRR opens both TCP
connections), so there is no connection collision and no reconnect after the shutdown. FRR packs several
messages into one segment (frames showing "UPDATE Message, UPDATE Message"). BIRD's IPv6 MP_REACH_NLRI
carries a 32-byte next hop (global fd99:4::1 + link-local fe80::76:73ff:fe04:1); FRR's is 16 bytes
(global only). FRR without zebra has no interface data for the link-local next hop, logs "sent a v6 LL
next-hop and there's no peer interface information. Hence, withdrawing" and so never echoes
2001:db8:51::100 back.

Key values (tshark):
- OPEN messages:
{open_lines}
  (BIRD's My AS is AS_TRANS 23456, its real AS is in capability 65. Both sides announce capability 65,
  so AS_PATH is 4-byte; tshark does not track that per session but guesses per packet, and it happens to
  guess right here: a decoder should take the AS size from the OPENs)
- UPDATE messages:
{chr(10).join(upd_lines)}
- NOTIFICATION messages:
{note_lines}
- KEEPALIVE frames: {fmt_frames(frame_numbers(p, "bgp.type == 4"))}

BGP frames:

{table(p, "bgp")}
"""


def bgpseg(p):
    seg = rows(p, "bgp.type == 2", "frame.number", "ip.src", "tcp.segment.count", "bgp.length")
    seg_lines = "\n".join(f"  - frame {r[0]} from {r[1]}: UPDATE length(s) {r[3]}, reassembled from "
                          f"{r[2] or '1'} segment(s)" for r in seg)
    n = len(values(p, "bgp.type == 2 && ip.src == 203.0.113.1", "bgp.nlri_prefix"))
    return f"""
Made by `rec_bgpseg`: `vsrec-seg-bird` (BIRD 2, AS 4200000002, 203.0.113.1, MAC 02:76:73:05:00:01) and
`vsrec-seg-frr` (FRR bgpd, AS 64513, 203.0.113.2, MAC 02:76:73:05:00:02), one veth with MTU 576 on both
ends and `ethtool -K eth0 tso off gso off gro off` in both namespaces, so the MSS is 524 and no segment is
larger; IPv6 off. BIRD exports 256 static /32s (all of 198.51.100.0/24) in four attribute groups:
198.51.100.0/25 with 48 communities (65000:1..48) and 24 large communities (4200000002:0:1..24),
.128/26 with 24 + 12, .192/27 with 16 + 8 and .224/27 with 8 + 4. Each group is one UPDATE of 290 to
1170 bytes; BIRD writes them back to back, so messages start and end inside segments and the biggest spans
three segments. FRR echoes all 256 routes back (AS_PATH 64513 4200000002), packing its UPDATEs
differently, so both directions need reassembly. Captured on BIRD's eth0 until a few KEEPALIVEs later;
the session is not closed in this file.

Key values (tshark, two-pass for `tcp.reassembled_in`):
- {n} distinct IPv4 /32 NLRI prefixes from BIRD; no TCP payload exceeds 524 bytes
  (max {max(int(r[0]) for r in rows(p, "tcp", "tcp.len"))})
- frames completing UPDATEs:
{seg_lines}

Frames with TCP payload:

{table(p, "tcp.len > 0")}
"""


def mariadb_greeting(p):
    g = rows(p, "mysql.version", "frame.number", "mysql.protocol", "mysql.version", "mysql.thread_id",
             "mysql.caps.server", "mysql.extcaps.server", "mariadb.extcaps.server", "mysql.server_language",
             "mariadb.server_language")[0]
    return f"""
Made by `rec_mariadb`: a real MariaDB server (`mariadb-install-db`, then `mariadbd --no-defaults
--bind-address=203.0.113.1 --port=3306 --skip-name-resolve`) in `vsrec-db-server` (02:76:73:06:00:01,
203.0.113.1/24); account `'probe'@'203.0.113.2'` with a mysql_native_password password. The client
namespace `vsrec-db-client` (02:76:73:06:00:02, 203.0.113.2/24 and 203.0.113.3/24) runs `mariadb
--skip-ssl --protocol=TCP -h 203.0.113.1 -u probe -p... -e 'SELECT 1'`: handshake, greeting, login
request, OK, COM_QUERY, result set, COM_QUIT, FIN (which side sends the first FIN varies between
recordings). Captured on the client's eth0.

Key values (tshark), greeting in frame {g[0]}:
- protocol {g[1]}, server version `{g[2]}` (MariaDB prefixes "5.5.5-" for old clients)
- thread (connection) id {g[3]}
- capabilities: `mysql.caps.server` {g[4]} (low 16 bits only), `mysql.extcaps.server` {g[5]},
  `mariadb.extcaps.server` {g[6]}, server language (collation id) {g[7] or g[8]}
- login request user: {", ".join(values(p, "mysql.user", "mysql.user"))}; commands: {", ".join(values(p, "mysql.command", "mysql.command"))} (3 = COM_QUERY, 1 = COM_QUIT)

{table(p, "mysql")}
"""


def mariadb_error(p):
    e = rows(p, "mysql.error_code", "frame.number", "mysql.error_code", "mysql.error.message", "mysql.sqlstate")[0]
    e += [""] * (4 - len(e))
    return f"""
Made by `rec_mariadb` right after the greeting capture: the client's route to 203.0.113.1 is replaced
with one using source 203.0.113.3, which has no account. With `--skip-name-resolve` the server answers
the TCP connection with an ERR packet (sequence 0) instead of the HandshakeV10 greeting, and closes.
Captured on the client's eth0.

Key values (tshark), frame {e[0]}:
- error code {e[1]}, message "{e[2]}"
- SQL state: {e[3] or "none (this pre-handshake ERR has no '#' SQLSTATE marker)"}
- no `mysql.version`: there is no greeting in this file; tshark labels the frame "Server Greeting Error 1130"

{table(p, "")}
"""


def sll2(p):
    return f"""
Made by `rec_sll2`: `vsrec-sll-a` (02:76:73:08:00:01, 203.0.113.1/24, fd99:8::1/64) and `vsrec-sll-b`
(02:76:73:08:00:02, 203.0.113.2/24, fd99:8::2/64), veth; `tcpdump -i any` inside `vsrec-sll-a` writes
LINUX_SLL2. Traffic: ping 203.0.113.2 (ARP + ICMP), ping fd99:8::2 (NS/NA + ICMPv6 echo), and a small TCP
exchange with `scripts/lab/tcp-exchange.py` (client 203.0.113.1 -> server 203.0.113.2:8080: handshake,
27 bytes each way, FIN from the client).

Key values (tshark):
- SLL2 header: interface index {", ".join(values(p, "", "sll.ifindex"))}, packet types
  {", ".join(values(p, "", "sll.pkttype"))} (0 = to us, 4 = outgoing), ARPHRD {", ".join(values(p, "", "sll.hatype"))},
  protocols {", ".join(values(p, "", "sll.etype"))}
- ARP request/reply: frames {fmt_frames(frame_numbers(p, "arp"))}; NA: frames {fmt_frames(frame_numbers(p, "icmpv6.type == 136"))}
  (target {", ".join(values(p, "icmpv6.type == 136", "icmpv6.nd.na.target_address"))});
  TCP with payload: frames {fmt_frames(frame_numbers(p, "tcp.len > 0"))}
- frames are 20 bytes SLL2 header + the packet (ARP frame length 48 = 20 + 28)

{table(p, "")}
"""


def vlan(p):
    return f"""
Made by `rec_vlan`: `vsrec-vlan-tx` (02:76:73:07:00:01) and `vsrec-vlan-rx` (02:76:73:07:00:02), veth,
IPv6 off (no background frames). `craft.py vlan eth0` sends nine frames with scapy: for each of a
gratuitous ARP (198.51.100.30, an RFC 5227 announcement with target MAC 00:00:00:00:00:00), an unsolicited
NA (fe80::76:73ff:fe07:1 -> ff02::1, target fd99:7::30, O=1, hop limit 255, target link-layer option) and
an IPv4 TCP SYN carrying 8 bytes ("vipscope", 203.0.113.1 -> 198.51.100.30, port 9, source ports 40001-3):
(a) one 802.1Q tag (TPID 0x8100, VLAN 100, PCP 3), (b) 802.1ad QinQ (S-tag TPID 0x88a8 VLAN 200 PCP 5
DEI 1, C-tag 0x8100 VLAN 100), (c) old-style QinQ (outer TPID 0x9100 VLAN 300, inner 0x8100 VLAN 101).
Captured on the receiving peer (`vsrec-vlan-rx`). On receive the kernel moves an outer 0x8100/0x88a8 tag
into packet metadata (skb_vlan_untag) and libpcap re-inserts it from the packet auxdata with its TPID;
0x9100 is not a TPID the kernel strips. Either way the file holds the frames byte for byte as sent: the
script also captures on the sending side and fails unless both files hold the same frames.

Key values (tshark; `vlan.id` covers 0x8100 and 0x9100 tags, `ieee8021ad.id` the 0x88a8 S-tag):
- single tag: frames {fmt_frames(frame_numbers(p, "eth.type == 0x8100"))}; 802.1ad: frames
  {fmt_frames(frame_numbers(p, "eth.type == 0x88a8"))}; 0x9100: frames {fmt_frames(frame_numbers(p, "eth.type == 0x9100"))}
- `vlan.id` values {", ".join(values(p, "", "vlan.id"))}; `ieee8021ad.id` values {", ".join(values(p, "", "ieee8021ad.id"))}

{table(p, "")}
"""


SECTIONS = [
    ("garp-arping.pcap", "gratuitous ARP, probes, ordinary ARP", garp),
    ("ndp-unsolicited-na.pcap", "unsolicited NA (kernel and MetalLB-style), DAD, NS/NA", ndp),
    ("failover-l2.pcap", "layer-2 VIP failover between two nodes", failover),
    ("bgp-bird-frr.pcap", "BIRD <-> FRR BGP session, IPv4 + IPv6, withdrawals, shutdown", bgp),
    ("bgp-segmented.pcap", "BGP UPDATEs spanning TCP segments (MTU 576)", bgpseg),
    ("mariadb-greeting.pcap", "MariaDB greeting and full login", mariadb_greeting),
    ("mariadb-error-1130.pcap", "MariaDB ERR 1130 instead of a greeting", mariadb_error),
    ("sll2-any.pcap", "tcpdump -i any (LINUX_SLL2)", sll2),
    ("vlan-qinq.pcap", "802.1Q, 802.1ad and 0x9100 QinQ tags", vlan),
]


def main():
    out = ["""# captures/

Small reference pcaps for the golden tests of vipscope's parsers, recorded by `scripts/record-captures`
in throw-away network-namespace labs (namespaces `vsrec-*`, veth pairs and one bridge) with real tools.
Only lab addresses appear: 203.0.113.0/24 (links), 198.51.100.0/24 (service IPs), fd99::/16 and
2001:db8::/32 (IPv6); MACs are fixed, locally administered 02:76:73:LL:00:NN (LL = lab).

This file is generated by `scripts/lab/write-readme.py` from the captures themselves (frame numbers and
values below are read back with tshark). `expected/<name>.json` holds, per frame, the values tshark
decodes (made by `scripts/lab/tshark-expect.py`; field list and caveats in that script): frame number
(1-based), `len`/`cap_len`, link type, Ethernet or SLL2 header, VLAN tags outermost first (`vlan`, with
TPID, id, PCP, DEI; `vlan_ids`), ARP, IPv4, IPv6, ICMP/ICMPv6 (NA flags, targets, option types and
link-layer addresses), TCP (raw seq/ack, flags, payload length, `reassembled_in`), UDP, BGP (message
types, OPEN fields, prefixes, communities, large communities, NOTIFICATION code/subcode/text) and MySQL
(version, thread id, capabilities, user, command, error code/message). Fields tshark does not report are
omitted. Swift tests should assert values, not frame counts, where a regenerated capture could differ
(kernel background frames such as MLD reports, router solicitations and ARP re-probes vary by run).

To re-record everything (root; about 90 s): `sudo scripts/record-captures` (or name sections, e.g.
`scripts/record-captures bgp vlan`). The script checks every new capture with tshark before it replaces
the files here, and its EXIT trap deletes its namespaces and ends its processes by PID even on failure.

Known tshark 4.0.17 behaviours to keep in mind when comparing (see also docs/lab-notes.md):
- BGP: values of a message that spans segments appear on the frame that completes it; several messages in
  one frame are listed together. tshark guesses 2- vs 4-byte AS numbers per packet (both sessions here
  negotiate 4-byte AS). It rejects BGP messages over 4096 bytes even with extended messages (none here).
- `mysql.caps.server` is only the low 16 bits of the capability flags; MariaDB's extra capabilities are
  `mariadb.extcaps.server`.
- `arp.isprobe` needs an all-zero target MAC; iputils `arping -D` sends ff:ff:ff:ff:ff:ff, so tshark does
  not mark its probes. `arp.isgratuitous` also covers `arping -A` replies (target MAC = own MAC).
- `tcp.reassembled_in` needs two-pass dissection (`tshark -2`).

"""]
    if VERSIONS:
        out.append("Recorded with:\n\n" + "\n".join(f"- {line}" for line in VERSIONS.splitlines()) + "\n\n")
    out.append("| file | content |\n|---|---|\n")
    for name, title, _ in SECTIONS:
        if os.path.exists(os.path.join(CAPDIR, name)):
            out.append(f"| `{name}` | {title} |\n")
    out.append("\n")
    for name, title, fn in SECTIONS:
        path = os.path.join(CAPDIR, name)
        if not os.path.exists(path):
            continue
        out.append(header(name, path))
        out.append(fn(path).lstrip("\n"))
        out.append("\n")
    sys.stdout.write("".join(out).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
