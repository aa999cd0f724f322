#!/usr/bin/env python3
"""Generate seeds for the MRT fuzz harness (Fuzz/mrt.swift): MRT files (RFC 6396) the way collectors
write them, behind the harness's chunk-size byte.

- one file per BGP capture given: every BGP message of each direction (split out of the TCP streams that
  stream-seeds.py extracts) as a BGP4MP_ET MESSAGE_AS4 record (MESSAGE_AS4_ADDPATH for a capture whose
  name says addpath), framed by STATE_CHANGE_AS4 records, and the first ones again as plain BGP4MP
  MESSAGE (2-byte AS) records;
- one TABLE_DUMP_V2 file: a PEER_INDEX_TABLE (an IPv4 peer with a 2-byte AS, an IPv6 peer with a 4-byte
  AS), RIB_IPV4_UNICAST and RIB_IPV6_UNICAST records (the IPv6 one with an abbreviated MP_REACH_NLRI,
  global and global + link-local next hops), RIB_IPV4_UNICAST_ADDPATH and RIB_GENERIC records.

Usage: gen-mrt-seeds.py OUTDIR FILE.pcap..."""
import hashlib, importlib.util, ipaddress, os, struct, sys

spec = importlib.util.spec_from_file_location("stream_seeds_lib", os.path.join(os.path.dirname(__file__), "stream-seeds.py"))
# stream-seeds.py runs main() on import; load only its streams() function.
source = open(spec.origin).read().replace("\nmain()\n", "\n")
namespace = {}
exec(compile(source, spec.origin, "exec"), namespace)
streams = namespace["streams"]


def record(kind, subtype, body, seconds=1700000000, microseconds=None):
    if microseconds is not None:
        return struct.pack(">IHHII", seconds, kind, subtype, len(body) + 4, microseconds) + body
    return struct.pack(">IHHI", seconds, kind, subtype, len(body)) + body


def address(text):
    return ipaddress.ip_address(text).packed


def bgp4mp_header(as4, peer_as, local_as, peer, local):
    family = 1 if len(address(peer)) == 4 else 2
    ases = struct.pack(">II", peer_as, local_as) if as4 else struct.pack(">HH", peer_as & 0xFFFF, local_as & 0xFFFF)
    return ases + struct.pack(">HH", 0, family) + address(peer) + address(local)


def messages(data):
    """Split a BGP stream into whole messages (stops at the first bytes that are not one)."""
    offset = 0
    while offset + 19 <= len(data) and data[offset:offset + 16] == b"\xff" * 16:
        length = struct.unpack(">H", data[offset + 16:offset + 18])[0]
        if length < 19 or offset + length > len(data):
            break
        yield data[offset:offset + length]
        offset += length


def attribute(flags, kind, value):
    if len(value) > 255:
        return struct.pack(">BBH", flags | 0x10, kind, len(value)) + value
    return struct.pack(">BBB", flags, kind, len(value)) + value


def rib_attributes(next_hop=None, mp_next_hop=None):
    text = attribute(0x40, 1, b"\x00")
    text += attribute(0x40, 2, struct.pack(">BBIII", 2, 3, 64512, 4200000001, 65001))
    if next_hop:
        text += attribute(0x40, 3, address(next_hop))
    text += attribute(0xC0, 8, struct.pack(">II", 0xFDE80064, 0xFFFFFF01))
    text += attribute(0xC0, 32, struct.pack(">III", 4200000001, 1, 2))
    if mp_next_hop:
        hops = b"".join(address(hop) for hop in mp_next_hop)
        text += attribute(0x80, 14, bytes([len(hops)]) + hops)
    return text


def rib_entry(peer_index, attributes, path_id=None):
    head = struct.pack(">HI", peer_index, 1700000000)
    if path_id is not None:
        head += struct.pack(">I", path_id)
    return head + struct.pack(">H", len(attributes)) + attributes


def table_dump():
    peers = struct.pack(">B", 0) + address("203.0.113.1") + address("203.0.113.1") + struct.pack(">H", 64512)
    peers += struct.pack(">B", 3) + address("203.0.113.2") + address("2001:db8::2") + struct.pack(">I", 4200000001)
    view = b"vipscope"
    out = record(13, 1, address("203.0.113.254") + struct.pack(">H", len(view)) + view + struct.pack(">H", 2) + peers)
    v4 = rib_attributes(next_hop="203.0.113.1")
    out += record(13, 2, struct.pack(">I", 0) + bytes([24]) + address("198.51.100.0")[:3]
                  + struct.pack(">H", 2) + rib_entry(0, v4) + rib_entry(1, v4))
    out += record(13, 2, struct.pack(">I", 1) + bytes([32]) + address("198.51.100.7") + struct.pack(">H", 1) + rib_entry(0, v4))
    v6 = rib_attributes(mp_next_hop=["2001:db8::2"])
    v6ll = rib_attributes(mp_next_hop=["2001:db8::2", "fe80::2"])
    out += record(13, 4, struct.pack(">I", 2) + bytes([48]) + address("2001:db8:100::")[:6]
                  + struct.pack(">H", 2) + rib_entry(1, v6) + rib_entry(1, v6ll))
    out += record(13, 8, struct.pack(">I", 3) + bytes([24]) + address("198.51.100.0")[:3]
                  + struct.pack(">H", 2) + rib_entry(0, v4, path_id=1) + rib_entry(0, v4, path_id=2))
    out += record(13, 6, struct.pack(">IHB", 4, 1, 1) + bytes([25]) + address("198.51.100.128")[:4]
                  + struct.pack(">H", 1) + rib_entry(0, v4))
    return out


def main():
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    seeds = [b"\x07" + table_dump()]
    for path in files:
        addpath = "addpath" in os.path.basename(path)
        data = b""
        plain = b""
        for (source, _, destination, _), stream in streams(path, 179):
            data += record(16, 5, bgp4mp_header(True, 64512, 4200000001, source, destination) + struct.pack(">HH", 1, 6))
            for index, message in enumerate(messages(stream)):
                data += record(17, 9 if addpath else 4,
                               bgp4mp_header(True, 64512, 4200000001, source, destination) + message,
                               microseconds=index * 1000)
                if index < 4:
                    plain += record(16, 1, bgp4mp_header(False, 64512, 64513, source, destination) + message)
            data += record(16, 0, bgp4mp_header(False, 64512, 64513, source, destination) + struct.pack(">HH", 6, 1))
            if len(data) > 16384:
                break
        if data:
            seeds.append(bytes([len(seeds) * 37 % 256]) + data[:16384])
            seeds.append(b"\x00" + plain)
    for seed in seeds:
        with open(os.path.join(out, hashlib.sha1(seed).hexdigest()[:16]), "wb") as f:
            f.write(seed)
    print(f"gen-mrt-seeds: {len(seeds)} mrt seeds into {out}")


main()
