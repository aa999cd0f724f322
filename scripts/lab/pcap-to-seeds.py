#!/usr/bin/env python3
"""Turn every frame of the given pcap files into a seed for the frame fuzz harness (Fuzz/frame.swift):
one file per frame, the first byte selecting the link type, the rest the frame bytes.
Usage: pcap-to-seeds.py OUTDIR FILE.pcap...   (pcapng files are skipped)"""
import hashlib, os, struct, sys

# Index into the harness's linkTypes table for each LINKTYPE/DLT value.
SELECTOR = {1: 0, 113: 1, 276: 2, 101: 3, 12: 4, 14: 5, 228: 6, 229: 7, 0: 8, 108: 9}

def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None:
        return
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype not in SELECTOR:
        return
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        body = data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen
        if not body:
            break
        yield bytes([SELECTOR[linktype]]) + body

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
count = 0
for path in sys.argv[2:]:
    for seed in frames(path):
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed)
        count += 1
print(f"pcap-to-seeds: {count} seeds into {out}")
