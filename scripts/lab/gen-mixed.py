#!/usr/bin/env python3
"""Write a deterministic mixed-traffic pcap for the benchmarks.

Usage: gen-mixed.py OUT.pcap [N]   (N frames, default 1,000,000)

Classic pcap, nanosecond magic 0xa1b23c4d, Ethernet. The mix, drawn from a fixed seed so every run writes the
same bytes:
  ~40% ARP   requests, replies and gratuitous announcements (MetalLB style: reply with target MAC ff:ff:ff:ff:ff:ff
             and request with sender IP == target IP) that move ownership of the 256 addresses of 198.51.100.0/24
             among 16 MACs; half are padded to 60 bytes like a real NIC, half are 42 bytes like a veth.
  ~50% IPv4 TCP with options (MSS/SACK/window scale/timestamps on SYNs, timestamps on data): BGP on port 179
             (KEEPALIVE and UPDATE-shaped payloads), MySQL on 3306 (greeting-shaped payloads), HTTPS on 443.
  ~10% IPv6  unsolicited ICMPv6 neighbour advertisements with the target link-layer option, and TCP.
Clients live in 203.0.113.0/24 and 2001:db8::/64, service addresses in 198.51.100.0/24 and fd99::/64.

Pure struct packing (scapy is far too slow for a million frames). Checksums are correct.
"""
import random
import struct
import sys

SEED = 0x56495053  # "VIPS"
START_SECONDS = 1_700_000_000

ETH_BROADCAST = b"\xff" * 6
OWNER_MACS = [bytes([0x02, 0x42, 0xac, 0x10, 0x00, i + 1]) for i in range(16)]
CLIENT_MACS = [bytes([0x02, 0x00, 0xcb, 0x00, 0x71, i + 1]) for i in range(8)]
SERVICE_IPS = [bytes([198, 51, 100, i]) for i in range(256)]
CLIENT_IPS = [bytes([203, 0, 113, 10 + i]) for i in range(8)]
CLIENT_IP6 = [bytes.fromhex("20010db8000000000000000000000000")[:15] + bytes([0x10 + i]) for i in range(8)]
SERVICE_IP6 = [bytes.fromhex("fd990000000000000000000000000000")[:14] + bytes([0, i]) for i in range(256)]
ALL_NODES = bytes.fromhex("ff020000000000000000000000000001")
ALL_NODES_MAC = b"\x33\x33\x00\x00\x00\x01"


def fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def sum16(data):
    if len(data) & 1:
        data += b"\x00"
    return sum(struct.unpack("!%dH" % (len(data) >> 1), data))


def checksum(data, initial=0):
    return ~fold(sum16(data) + initial) & 0xFFFF


def ethernet(dst, src, ethertype):
    return dst + src + struct.pack("!H", ethertype)


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


def ipv4(src, dst, protocol, payload_length, ident):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_length, ident, 0x4000, 64, protocol, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:]


def tcp(src_ip, dst_ip, sport, dport, seq, ack, flags, options, payload, pseudo6=False):
    offset = (20 + len(options)) // 4
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 64240, 0, 0) + options + payload
    if pseudo6:
        pseudo = src_ip + dst_ip + struct.pack("!IxxxB", len(segment), 6)
    else:
        pseudo = src_ip + dst_ip + struct.pack("!xBH", 6, len(segment))
    value = checksum(segment, sum16(pseudo))
    return segment[:16] + struct.pack("!H", value) + segment[18:]


SYN_OPTIONS = bytes.fromhex("020405b4") + b"\x04\x02" + b"\x08\x0a" + b"\x00" * 8 + b"\x01\x03\x03\x07"  # 20 bytes


def data_options(tsval, tsecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr)


def bgp_payload(rng):
    if rng.random() < 0.6:
        return b"\xff" * 16 + struct.pack("!HB", 19, 4)  # KEEPALIVE
    prefix_count = rng.randrange(1, 6)
    nlri = b"".join(bytes([32]) + SERVICE_IPS[rng.randrange(256)] for _ in range(prefix_count))
    attributes = (
        bytes.fromhex("40010100")  # ORIGIN IGP
        + bytes.fromhex("4002060201") + struct.pack("!I", 64512 + rng.randrange(16))  # AS_PATH, 4-byte AS
        + bytes.fromhex("400304") + CLIENT_IPS[rng.randrange(8)]  # NEXT_HOP
    )
    body = struct.pack("!H", 0) + struct.pack("!H", len(attributes)) + attributes + nlri
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body


def mysql_payload(rng):
    version = b"5.5.5-10.11.19-MariaDB-0+deb12u1\x00"
    body = b"\x0a" + version + struct.pack("<I", rng.randrange(1, 1 << 20)) + bytes(rng.randrange(256) for _ in range(8))
    body += b"\x00\xfe\xf7\x08\x02\x00\xff\x81\x15" + b"\x00" * 10 + b"mysql_native_password\x00"
    return struct.pack("<I", len(body))[:3] + b"\x00" + body


def icmpv6_na(src, target, mac):
    # RFC 4861 4.4: type 136, flags R=0 S=0 O=1, target, option 2 (target link-layer address).
    message = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + target + b"\x02\x01" + mac
    pseudo = src + ALL_NODES + struct.pack("!IxxxB", len(message), 58)
    value = checksum(message, sum16(pseudo))
    return message[:2] + struct.pack("!H", value) + message[4:]


def ipv6(src, dst, next_header, payload):
    return struct.pack("!IHBB", 0x60000000, len(payload), next_header, 255 if next_header == 58 else 64) + src + dst + payload


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: gen-mixed.py OUT.pcap [N]")
    path = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) == 3 else 1_000_000
    rng = random.Random(SEED)
    owners = [i % 16 for i in range(256)]
    tcp_state = {}
    seconds, nanos = START_SECONDS, 0
    pack_record = struct.Struct("<IIII").pack
    chunk = []
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for index in range(count):
            nanos += 1000 + rng.randrange(200_000)
            if nanos >= 1_000_000_000:
                seconds += 1
                nanos -= 1_000_000_000
            draw = rng.random()
            if draw < 0.40:
                ip_index = rng.randrange(256)
                kind = rng.random()
                if kind < 0.15:  # ownership moves: gratuitous request and MetalLB-style reply
                    owner = rng.randrange(16)
                    owners[ip_index] = owner
                    mac, ip = OWNER_MACS[owner], SERVICE_IPS[ip_index]
                    if rng.random() < 0.5:
                        frame = ethernet(ETH_BROADCAST, mac, 0x0806) + arp(1, mac, ip, b"\x00" * 6, ip)
                    else:
                        frame = ethernet(ETH_BROADCAST, mac, 0x0806) + arp(2, mac, ip, ETH_BROADCAST, ip)
                elif kind < 0.60:  # a client asks
                    client = rng.randrange(8)
                    frame = ethernet(ETH_BROADCAST, CLIENT_MACS[client], 0x0806) + arp(
                        1, CLIENT_MACS[client], CLIENT_IPS[client], b"\x00" * 6, SERVICE_IPS[ip_index])
                else:  # the owner answers
                    client = rng.randrange(8)
                    mac = OWNER_MACS[owners[ip_index]]
                    frame = ethernet(CLIENT_MACS[client], mac, 0x0806) + arp(
                        2, mac, SERVICE_IPS[ip_index], CLIENT_MACS[client], CLIENT_IPS[client])
                if index & 1:
                    frame += b"\x00" * (60 - len(frame))
            elif draw < 0.90:
                client = rng.randrange(8)
                service = rng.randrange(256)
                port_draw = rng.random()
                dport = 179 if port_draw < 0.4 else (3306 if port_draw < 0.7 else 443)
                sport = 40000 + rng.randrange(4)
                key = (client, service, sport, dport)
                seq = tcp_state.get(key)
                from_server = seq is not None and rng.random() < 0.5
                if seq is None:
                    seq = rng.randrange(1 << 32)
                    options, flags, payload = SYN_OPTIONS, 0x02, b""
                    tcp_state[key] = (seq + 1) & 0xFFFFFFFF
                else:
                    options = data_options(index, index // 2)
                    flags = 0x18
                    if dport == 179:
                        payload = bgp_payload(rng)
                    elif dport == 3306 and from_server:
                        payload = mysql_payload(rng)
                    else:
                        payload = bytes(rng.randrange(32, 127) for _ in range(rng.randrange(0, 48)))
                    tcp_state[key] = (seq + len(payload)) & 0xFFFFFFFF
                src_ip, dst_ip = CLIENT_IPS[client], SERVICE_IPS[service]
                src_mac, dst_mac = CLIENT_MACS[client], OWNER_MACS[owners[service]]
                if from_server:
                    src_ip, dst_ip, sport, dport = dst_ip, src_ip, dport, sport
                    src_mac, dst_mac = dst_mac, src_mac
                segment = tcp(src_ip, dst_ip, sport, dport, seq, 1, flags, options, payload)
                frame = ethernet(dst_mac, src_mac, 0x0800) + ipv4(src_ip, dst_ip, 6, len(segment), index & 0xFFFF) + segment
            else:
                service = rng.randrange(256)
                if rng.random() < 0.5:
                    owner = rng.randrange(16)
                    mac = OWNER_MACS[owner]
                    link_local = b"\xfe\x80" + b"\x00" * 6 + b"\x00\x42\xac\xff\xfe\x10\x00" + bytes([owner + 1])
                    payload = icmpv6_na(link_local, SERVICE_IP6[service], mac)
                    frame = ethernet(ALL_NODES_MAC, mac, 0x86DD) + ipv6(link_local, ALL_NODES, 58, payload)
                else:
                    client = rng.randrange(8)
                    src, dst = CLIENT_IP6[client], SERVICE_IP6[service]
                    dport = 179 if rng.random() < 0.5 else 3306
                    payload = bgp_payload(rng) if dport == 179 else b""
                    segment = tcp(src, dst, 50000 + client, dport, index, 1, 0x18 if payload else 0x10,
                                  data_options(index, 0), payload, pseudo6=True)
                    frame = ethernet(OWNER_MACS[service % 16], CLIENT_MACS[client], 0x86DD) + ipv6(src, dst, 6, segment)
            chunk.append(pack_record(seconds, nanos, len(frame), len(frame)))
            chunk.append(frame)
            if len(chunk) >= 65536:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))


if __name__ == "__main__":
    main()
