#!/usr/bin/env python3
"""Generate the bgpdecode benchmark inputs (scripts/bench-bgpdecode): N small UPDATEs, one /32 each (as
MetalLB and GoBGP send them), from 203.0.113.1 (AS 4200000001) to 203.0.113.2 (AS 64512), written twice:

  PCAP  Ethernet/IPv4/TCP port 179: handshake, both OPENs (4-byte AS), KEEPALIVEs, then the UPDATE byte
        stream cut into MSS-sized (1448-byte) segments, so messages span segments; no FIN (session up).
  MRT   the same BGP messages as RFC 6396 BGP4MP_ET MESSAGE_AS4 records.

Prefixes are 100.64.0.0 + i (/32), deterministic. With "shuffled" the same prefixes come in a scrambled
(deterministic) order, which exercises bgpdecode's hashed table and the sort before --table instead of its
in-order fast path. A file only: nothing is sent anywhere.
usage: gen-bgp-bench.py PCAP MRT [N] [shuffled]
"""
import math
import struct
import sys

MSS = 1448
SPEAKER, PEER = bytes([203, 0, 113, 1]), bytes([203, 0, 113, 2])
MAC_A, MAC_B = bytes.fromhex("027673090001"), bytes.fromhex("027673090002")


def bgp(msg_type, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), msg_type) + body


def open_msg(asn, ident):
    caps = bytes([1, 4, 0, 1, 0, 1]) + bytes([65, 4]) + struct.pack("!I", asn) + bytes([2, 0])
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
    shuffled = len(sys.argv) > 4 and sys.argv[4] == "shuffled"
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
        for sender_is_speaker, message in [(True, open_msg(4200000001, SPEAKER)), (False, open_msg(64512, PEER)),
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
        for message in updates(n, shuffled):
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


if __name__ == "__main__":
    main()
