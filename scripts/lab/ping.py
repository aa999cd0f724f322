#!/usr/bin/env python3
"""Minimal ICMP/ICMPv6 echo client (raw socket, root): the machines have no iputils-ping.

Usage: ping.py ADDR [--count N] [--interval S] [--timeout S]
Sends N echo requests (id = pid, seq 1..N) and waits up to --timeout for each reply; the kernel does the
ARP/NDP resolution, which is the point in the capture labs. Exit 0 if at least one reply came back.
"""
import argparse
import os
import select
import socket
import struct
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    v6 = ":" in args.address
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req_type, rep_type = 128, 129
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req_type, rep_type = 8, 0
    ident = os.getpid() & 0xFFFF
    payload = b"vipscope-lab-ping"
    replies = 0
    for seq in range(1, args.count + 1):
        start = time.monotonic()
        header = struct.pack("!BBHHH", req_type, 0, 0, ident, seq)
        csum = 0 if v6 else checksum(header + payload)  # the kernel fills the ICMPv6 checksum
        packet = struct.pack("!BBHHH", req_type, 0, csum, ident, seq) + payload
        sock.sendto(packet, (args.address, 0))
        deadline = start + args.timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            data = sock.recv(2048)
            icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
            if len(icmp) >= 8:
                rtype, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
                if rtype == rep_type and rid == ident and rseq == seq:
                    replies += 1
                    print(f"reply from {args.address}: seq={seq} time={(time.monotonic() - start) * 1000:.2f} ms",
                          flush=True)
                    break
        if seq < args.count:
            time.sleep(max(0.0, start + args.interval - time.monotonic()))
    print(f"{args.count} sent, {replies} received", flush=True)
    raise SystemExit(0 if replies else 1)


if __name__ == "__main__":
    main()
