#!/usr/bin/env python3
"""Write a deterministic ARP-only pcap for scripts/bench-garpwatch.

Usage: gen-garp.py OUT.pcap [FRAMES] [ADDRESSES] [FIRST] [ORDER]   defaults: 1,000,000 frames over 10,000
addresses, 198.18.0.1, random

FIRST (default 198.18.0.1) is the first address; the live bench (scripts/bench-garpwatch-live), which sends
the file over a veth pair in its own namespace, passes 198.51.100.1 with at most 254 addresses.

ORDER `random` (the default) draws each frame's address at random, so a million frames over a million addresses
reach only about 63 % of them; `cover` takes the first ADDRESSES frames' addresses from a shuffled list of all
of them (every address once, still in random order, for the memory-per-address measurement), then random.
With more than 131,071 addresses they run past 198.18.0.0/15: harmless, the file is only ever read offline.

Classic pcap, nanosecond magic, Ethernet, one frame per millisecond. The addresses are 198.18.0.0/15
(RFC 2544's benchmarking range: the file is only ever read offline, never sent). Each address has an owner
among 64 MACs; most frames are the owners' ordinary ARP replies and requests, and every 1,000 frames one
address moves to another MAC with a MetalLB-style gratuitous request + reply (about 1,000 moves in all,
some of them back to an earlier owner: flip flops). Pure struct packing: a million frames in a few seconds.
"""
import random
import struct
import sys

out = sys.argv[1]
frames = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
rng = random.Random(0x47415250)  # "GARP"
macs = [bytes([0x02, 0x42, 0xC6, 0x12, 0x00, i + 1]) for i in range(64)]
first = struct.unpack("!I", bytes(int(part) for part in sys.argv[4].split(".")))[0] if len(sys.argv) > 4 \
    else (198 << 24) | (18 << 16) | 1
ips = [struct.pack("!I", first + i) for i in range(count)]
owner = [rng.randrange(64) for _ in range(count)]
BROADCAST = b"\xff" * 6
order = sys.argv[5] if len(sys.argv) > 5 else "random"
if order not in ("random", "cover"):
    sys.exit(f"gen-garp.py: ORDER must be random or cover, not {order!r}")
# Drawn from its own generator, so that the default order's file stays the same bytes as before.
cover = list(range(count)) if order == "cover" else []
random.Random(0x434F5652).shuffle(cover)  # "COVR"


def arp(op, sha, spa, tha, tpa, dst):
    return dst + sha + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
    record = struct.Struct("<IIII")
    seconds, nanos = 1_700_000_000, 0
    chunks = []
    for n in range(frames):
        if n % 1000 == 999:
            i = cover[n] if n < len(cover) else rng.randrange(count)
            owner[i] = (owner[i] + 1 + rng.randrange(3)) % 64
            mac, ip = macs[owner[i]], ips[i]
            frame = arp(1 if n % 2 else 2, mac, ip, BROADCAST, ip, BROADCAST)
        else:
            i = cover[n] if n < len(cover) else rng.randrange(count)
            mac, ip = macs[owner[i]], ips[i]
            peer = ips[(i + 1) % count]
            if n % 2:
                frame = arp(2, mac, ip, macs[0], peer, macs[0])
            else:
                frame = arp(1, mac, ip, b"\x00" * 6, peer, BROADCAST)
        nanos += 1_000_000
        if nanos >= 1_000_000_000:
            seconds, nanos = seconds + 1, nanos - 1_000_000_000
        chunks.append(record.pack(seconds, nanos, len(frame), len(frame)) + frame)
        if len(chunks) >= 65536:
            f.write(b"".join(chunks))
            chunks.clear()
    f.write(b"".join(chunks))
