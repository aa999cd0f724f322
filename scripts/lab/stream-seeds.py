#!/usr/bin/env python3
"""Turn the TCP streams of captures into seeds for the stream fuzz harnesses (Fuzz/bgp-stream.swift,
Fuzz/mysql.swift): one seed per direction of each connection on PORT, its payload bytes in sequence order
(tshark extracts the segments, so every link type and pcapng work), cut to at most MAX bytes, behind the
harness's selector bytes.

Usage: stream-seeds.py TARGET OUTDIR FILE...      TARGET: bgp-stream (port 179) or mysql (port 3306)"""
import hashlib, os, subprocess, sys

MAX = 16384
# bgp-stream: [context][gap]: 0x10 = in sync, AS size and ADD-PATH guessed; 0x16 = in sync, 4-byte AS,
# no ADD-PATH; 0x2A = mid-session start, 4-byte AS, ADD-PATH, extended messages; 0x00 + gap 3 = everything
# guessed, mid-session start, a 3-byte hole at offset 21 (bits: 0-1 AS size, 2-3 ADD-PATH, 4 sync, 5 extended).
# mysql: [mode]: 0x47 = 8-byte pieces, svcprobe's 64 KiB cap.
SELECTORS = {"bgp-stream": (179, [b"\x10\x00", b"\x16\x00", b"\x2a\x00", b"\x00\x03"]), "mysql": (3306, [b"\x47", b"\x80"])}


def streams(path, port):
    """Payload bytes per (source, source port, destination, destination port), in sequence order."""
    fields = ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.seq_raw", "tcp.payload"]
    command = ["tshark", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", f"tcp.port == {port} && tcp.len > 0",
               "-T", "fields", "-E", "separator=|"] + sum((["-e", f] for f in fields), [])
    result = subprocess.run(command, capture_output=True, text=True)
    segments = {}
    for line in result.stdout.splitlines():
        parts = line.split("|")
        if len(parts) != len(fields) or not parts[7]:
            continue
        key = (parts[0] or parts[1], parts[2], parts[3] or parts[4], parts[5])
        segments.setdefault(key, {})[int(parts[6])] = bytes.fromhex(parts[7].replace(":", ""))
    for key, by_sequence in segments.items():
        data = b""
        expected = None
        for sequence in sorted(by_sequence):
            payload = by_sequence[sequence]
            if expected is not None and sequence < expected:  # a retransmission: keep only the new tail
                payload = payload[expected - sequence:]
            data += payload
            expected = max(expected or 0, sequence + len(by_sequence[sequence]))
        yield key, data


def main():
    target, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    port, selectors = SELECTORS[target]
    os.makedirs(out, exist_ok=True)
    count = 0
    for path in files:
        for _, data in streams(path, port):
            for selector in selectors:
                seed = selector + data[:MAX]
                with open(os.path.join(out, hashlib.sha1(seed).hexdigest()[:16]), "wb") as f:
                    f.write(seed)
                count += 1
    print(f"stream-seeds: {count} {target} seeds into {out}")


main()
