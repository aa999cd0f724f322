#!/usr/bin/env python3
"""Generate the bgpdecode benchmark inputs (scripts/bench-bgpdecode): N small UPDATEs, one /32 each (as
MetalLB and GoBGP send them), from 203.0.113.1 (AS 4200000001) to 203.0.113.2 (AS 64512), written twice:

  PCAP  Ethernet/IPv4/TCP port 179: handshake, both OPENs (4-byte AS), KEEPALIVEs, then the UPDATE byte
        stream cut into MSS-sized (1448-byte) segments, so messages span segments; no FIN (session up).
  MRT   the same BGP messages as RFC 6396 BGP4MP_ET MESSAGE_AS4 records.

Prefixes are 100.64.0.0 + i (/32), deterministic. With "shuffled" the same prefixes come in a scrambled
(deterministic) order, which exercises bgpdecode's hashed table and the sort before --table instead of its
in-order fast path.

With "fulltable" the session is a full-table-shaped one whose final table holds N prefixes (80% IPv4 /16-/24
in NLRI, 20% IPv6 /32-/48 in MP_REACH_NLRI), announced in UPDATEs of 1-8 prefixes sharing attributes (AS
paths of 1-6 four-byte ASNs, some MEDs and communities, as a real full table has), plus N/20 more prefixes
that are announced and later withdrawn (IPv4 in the withdrawn routes field, IPv6 in MP_UNREACH_NLRI, in
batches spread through the session), and after every 50 announcing UPDATEs a kept prefix is announced again
with other attributes. Both OPENs also offer IPv6 unicast. A withdrawn prefix is never announced again, and
no two prefixes share a network address (tshark's prefix fields carry the address without its length), so
the final table is the announced set minus the withdrawn set, whatever the order. A file only: nothing is
sent anywhere.
With an ENDING of "fin" the speaker closes the session with a FIN after the last UPDATE (a speaker killed
or restarted: the kernel closes its socket), with "cease" it first sends a NOTIFICATION Cease /
Administrative Shutdown (6/2), as a MetalLB speaker that drains its node does; "open" (the default) leaves
the session up. The MRT file has the NOTIFICATION too (a FIN has no MRT record).
"fulltable-packed" is the same table in UPDATEs of about 900 IPv4 (or 450 IPv6) prefixes each, as a route
server or a daemon with a full table packs them.
usage: gen-bgp-bench.py PCAP MRT [N] [in-order|shuffled|fulltable|fulltable-packed] [open|fin|cease]
"""
import math
import struct
import sys

MSS = 1448
SPEAKER, PEER = bytes([203, 0, 113, 1]), bytes([203, 0, 113, 2])
MAC_A, MAC_B = bytes.fromhex("027673090001"), bytes.fromhex("027673090002")


def bgp(msg_type, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), msg_type) + body


def open_msg(asn, ident, ipv6=False):
    caps = bytes([1, 4, 0, 1, 0, 1]) + (bytes([1, 4, 0, 2, 0, 1]) if ipv6 else b"")  # multiprotocol
    caps += bytes([65, 4]) + struct.pack("!I", asn) + bytes([2, 0])  # 4-octet AS, route refresh
    params = bytes([2, len(caps)]) + caps
    my_as = asn if asn <= 0xFFFF else 23456
    return bgp(1, struct.pack("!BHH4sB", 4, my_as, 90, ident, len(params)) + params)


KEEPALIVE = bgp(4, b"")
ATTRS = (bytes([0x40, 1, 1, 0])  # ORIGIN igp
         + bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", 4200000001)  # AS_PATH
         + bytes([0x40, 3, 4]) + SPEAKER)  # NEXT_HOP
UPDATE_HEAD = struct.pack("!HH", 0, len(ATTRS)) + ATTRS


def updates(n, shuffled=False):
    head = b"\xff" * 16 + struct.pack("!HB", 19 + len(UPDATE_HEAD) + 5, 2) + UPDATE_HEAD + b"\x20"
    base = (100 << 24) | (64 << 16)
    pack = struct.Struct("!I").pack
    # i -> i * step mod n is a permutation of 0..n-1 when step and n are coprime.
    step = 2654435761 % n if shuffled and n > 1 else 1
    while math.gcd(step, n) != 1:
        step += 1
    for i in range(n):
        yield head + pack(base + (i * step) % n)


def nlri(length, value, width):
    """RFC 4271 4.3 prefix encoding: length in bits, then only the bytes the length covers."""
    return bytes([length]) + value.to_bytes(width, "big")[:(length + 7) // 8]


def full_table_prefixes(count, width, slot_bits, top, free_bits, lengths, multiplier, accept):
    """`count` (length, network) pairs with distinct networks, deterministic. Slot i is `top` followed by
    i * multiplier mod 2**free_bits (an odd multiplier makes that a permutation), placed in the address's
    top `slot_bits` bits, then masked to a length drawn from `lengths` by i. Networks already taken, or
    refused by `accept`, are skipped."""
    seen, out, i = set(), [], 0
    while len(out) < count:
        value = (top | (i * multiplier) % (1 << free_bits)) << (width - slot_bits)
        length = lengths[i % len(lengths)]
        network = value & ~((1 << (width - length)) - 1)
        i += 1
        if network in seen or not accept(network):
            continue
        seen.add(network)
        out.append((length, network))
    return out


def spread(total, chosen):
    """Flags for `total` items with exactly `chosen` set, evenly spread (Bresenham)."""
    return [(i * chosen) // total != ((i + 1) * chosen) // total for i in range(total)]


def full_table_updates(n, packed=False):
    """The "fulltable" session's UPDATE messages, in order (see the module docstring); `packed`: the
    "fulltable-packed" one, whose UPDATEs carry about 900 IPv4 or 450 IPv6 prefixes each."""
    v4_kept, v6_kept = n * 4 // 5, n - n * 4 // 5
    v4_gone, v6_gone = (n // 20) * 4 // 5, n // 20 - (n // 20) * 4 // 5
    # IPv4: /24 most often, like the real table; unicast space only (1.0.0.0 to 223.255.255.255, not 127/8).
    v4 = full_table_prefixes(v4_kept + v4_gone, 32, 24, 0, 24, [24, 24, 24, 22, 24, 23, 24, 20, 24, 21, 24, 19, 24, 16],
                             2654435761, lambda a: 1 <= a >> 24 <= 223 and a >> 24 != 127)
    # IPv6: 2000::/3 only, /48 most often, then /32 and the lengths between.
    v6 = full_table_prefixes(v6_kept + v6_gone, 128, 48, 1 << 45, 45, [48, 48, 32, 48, 44, 48, 40, 36, 48, 29],
                             0x9E3779B97F4A7C15 % (1 << 45) | 1, lambda a: True)
    families = ([(4, p, g) for p, g in zip(v4, spread(len(v4), v4_gone))]
                + [(6, p, g) for p, g in zip(v6, spread(len(v6), v6_gone))])
    # Interleave the families deterministically: four IPv4 prefixes, then one IPv6, like the totals (in
    # runs of 3,600 and 900 when packed, so that one UPDATE can hold many of one family).
    run = 900 if packed else 1
    order = []
    a, b = 0, len(v4)
    while a < len(v4) or b < len(families):
        order.extend(families[a:min(a + 4 * run, len(v4))])
        a = min(a + 4 * run, len(v4))
        if b < len(families):
            order.extend(families[b:min(b + run, len(families))])
            b = min(b + run, len(families))
    ases = [64496 + k for k in range(16)] + [4200000000 + k * 7919 for k in range(48)]
    next_hop6 = bytes.fromhex("20010db8000000000000000000000001")
    pending_v4, pending_v6, kept = [], [], []
    group_index = 0
    position = 0

    def attributes(group, family, prefixes):
        path_length = 1 + group % 6
        path = [4200000001] + [ases[(group * 31 + k * 7) % len(ases)] for k in range(path_length - 1)]
        as_path = bytes([2, len(path)]) + b"".join(struct.pack("!I", x) for x in path)
        out = bytes([0x40, 1, 1, group % 3])  # ORIGIN
        out += bytes([0x40, 2, len(as_path)]) + as_path
        if family == 4:
            out += bytes([0x40, 3, 4]) + SPEAKER  # NEXT_HOP
        if group % 4 == 1:
            out += bytes([0x80, 4, 4]) + struct.pack("!I", group % 1000)  # MULTI_EXIT_DISC
        if group % 5 == 2:
            communities = b"".join(struct.pack("!HH", 64512, (group + k) % 65536) for k in range(1 + group % 3))
            out += bytes([0xC0, 8, len(communities)]) + communities
        if family == 6:
            reach = struct.pack("!HBB", 2, 1, 16) + next_hop6 + b"\x00" + b"".join(nlri(l, v, 16) for l, v in prefixes)
            out += bytes([0x90, 14]) + struct.pack("!H", len(reach)) + reach
        return out

    def update(withdrawn, attrs, announced):
        body = struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + announced
        return bgp(2, body)

    def flush_withdrawals(limit):
        messages = []
        while len(pending_v4) >= limit or (limit == 1 and pending_v4):
            batch, pending_v4[:] = pending_v4[:400], pending_v4[400:]
            messages.append(update(b"".join(nlri(l, v, 4) for l, v in batch), b"", b""))
        while len(pending_v6) >= limit or (limit == 1 and pending_v6):
            batch, pending_v6[:] = pending_v6[:200], pending_v6[200:]
            unreach = struct.pack("!HB", 2, 1) + b"".join(nlri(l, v, 16) for l, v in batch)
            messages.append(update(b"", bytes([0x90, 15]) + struct.pack("!H", len(unreach)) + unreach, b""))
        return messages

    while position < len(order):
        family = order[position][0]
        size = (900 if family == 4 else 450) if packed else 1 + (group_index * 5) % 8
        group = []
        while position < len(order) and len(group) < size and order[position][0] == family:
            group.append(order[position])
            position += 1
        prefixes = [p for _, p, _ in group]
        if family == 4:
            yield update(b"", attributes(group_index, 4, prefixes), b"".join(nlri(l, v, 4) for l, v in prefixes))
        else:
            yield update(b"", attributes(group_index, 6, prefixes), b"")
        for f, p, gone in group:
            if gone:
                (pending_v4 if f == 4 else pending_v6).append(p)
            else:
                kept.append((f, p))
        if group_index % 50 == 49 and len(kept) > 100:  # a kept prefix re-announced with other attributes
            f, p = kept[-100]
            if f == 4:
                yield update(b"", attributes(group_index + 3, 4, [p]), nlri(p[0], p[1], 4))
            else:
                yield update(b"", attributes(group_index + 3, 6, [p]), b"")
        group_index += 1
        yield from flush_withdrawals(64)
    yield from flush_withdrawals(1)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload, src_mac, dst_mac):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp + payload


def main():
    pcap_path, mrt_path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    mode = sys.argv[4] if len(sys.argv) > 4 else "in-order"
    ending = sys.argv[5] if len(sys.argv) > 5 else "open"
    if mode not in ("in-order", "shuffled", "fulltable", "fulltable-packed") or ending not in ("open", "fin", "cease"):
        sys.exit("usage: gen-bgp-bench.py PCAP MRT [N] [in-order|shuffled|fulltable|fulltable-packed] [open|fin|cease]")
    if mode.startswith("fulltable"):
        messages = full_table_updates(n, mode == "fulltable-packed")
    else:
        messages = updates(n, mode == "shuffled")
    t = [1_700_000_000, 0]
    with open(pcap_path, "wb") as pcap, open(mrt_path, "wb") as mrt:
        pcap.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        rec = struct.Struct("<IIII")

        def write(data):
            t[1] += 10
            if t[1] >= 1_000_000:
                t[0] += 1
                t[1] = 0
            pcap.write(rec.pack(t[0], t[1], len(data), len(data)))
            pcap.write(data)

        def log(sender_is_speaker, message):
            peer, local = (SPEAKER, PEER) if sender_is_speaker else (PEER, SPEAKER)
            peer_as, local_as = (4200000001, 64512) if sender_is_speaker else (64512, 4200000001)
            body = struct.pack("!IIHH4s4s", peer_as, local_as, 0, 1, peer, local) + message
            mrt.write(struct.pack("!IHHII", t[0], 17, 4, len(body) + 4, t[1]) + body)

        a_seq, b_seq = 1000, 5000
        write(frame(SPEAKER, PEER, 179, 40000, a_seq - 1, 0, 0x02, b"", MAC_A, MAC_B))
        write(frame(PEER, SPEAKER, 40000, 179, b_seq - 1, a_seq, 0x12, b"", MAC_B, MAC_A))
        write(frame(SPEAKER, PEER, 179, 40000, a_seq, b_seq, 0x10, b"", MAC_A, MAC_B))
        for sender_is_speaker, message in [(True, open_msg(4200000001, SPEAKER, mode.startswith("fulltable"))),
                                           (False, open_msg(64512, PEER, mode.startswith("fulltable"))),
                                           (True, KEEPALIVE), (False, KEEPALIVE)]:
            if sender_is_speaker:
                write(frame(SPEAKER, PEER, 179, 40000, a_seq, b_seq, 0x18, message, MAC_A, MAC_B))
                a_seq += len(message)
            else:
                write(frame(PEER, SPEAKER, 40000, 179, b_seq, a_seq, 0x18, message, MAC_B, MAC_A))
                b_seq += len(message)
            log(sender_is_speaker, message)
        pending = bytearray()
        segments = 0
        for message in messages:
            log(True, message)
            pending += message
            while len(pending) >= MSS:
                write(frame(SPEAKER, PEER, 179, 40000, a_seq, b_seq, 0x10, bytes(pending[:MSS]), MAC_A, MAC_B))
                a_seq += MSS
                del pending[:MSS]
                segments += 1
                if segments % 8 == 0:  # the peer acknowledges now and then
                    write(frame(PEER, SPEAKER, 40000, 179, b_seq, a_seq, 0x10, b"", MAC_B, MAC_A))
        if pending:
            write(frame(SPEAKER, PEER, 179, 40000, a_seq, b_seq, 0x18, bytes(pending), MAC_A, MAC_B))
            a_seq += len(pending)
        write(frame(PEER, SPEAKER, 40000, 179, b_seq, a_seq, 0x10, b"", MAC_B, MAC_A))
        if ending == "cease":
            cease = bgp(3, bytes([6, 2]))
            write(frame(SPEAKER, PEER, 179, 40000, a_seq, b_seq, 0x18, cease, MAC_A, MAC_B))
            a_seq += len(cease)
            log(True, cease)
        if ending != "open":
            write(frame(SPEAKER, PEER, 179, 40000, a_seq, b_seq, 0x11, b"", MAC_A, MAC_B))
            write(frame(PEER, SPEAKER, 40000, 179, b_seq, a_seq + 1, 0x11, b"", MAC_B, MAC_A))
            write(frame(SPEAKER, PEER, 179, 40000, a_seq + 1, b_seq + 1, 0x10, b"", MAC_A, MAC_B))


if __name__ == "__main__":
    main()
