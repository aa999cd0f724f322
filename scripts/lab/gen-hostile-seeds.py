#!/usr/bin/env python3
"""Seeds for the hostile-value harnesses (Fuzz/timestamp.swift, Fuzz/wire-text.swift): the values that broke
the tools (issue 18) and their neighbours. Usage: gen-hostile-seeds.py TARGET OUT_DIR"""
import hashlib, os, struct, sys

def timestamp_seeds():
    edges = [0, 1, -1, 1 << 62, (1 << 63) - 1, -(1 << 63), -(1 << 63) + 1, 1_700_000_000, 253_402_300_799,
             253_402_300_800, -62_167_219_200, -62_167_219_201]
    nanos = [0, 999_999_999, 1_000_000_000, -1, 2**31 - 1, -2**31]
    deltas = [0, 1, -1, 2**63 - 1, -2**63, 10**9, -10**9]
    seeds = []
    for i, s in enumerate(edges):
        record = b""
        for j in range(4):
            record += struct.pack("<qiq", edges[(i + j) % len(edges)], nanos[(i + j) % len(nanos)],
                                  deltas[(i + j) % len(deltas)])
        seeds.append(record)
    return seeds

def wire_text_seeds():
    return [b"10.11.19-MariaDB-0+deb12u1", b"vipscope lab: planned\r\nsession established 203.0.113.9",
            b"\x1b[2J\x1b]0;owned\x07", b"back\\slash \\n not a newline", b"\xc2\x9b31m c1 csi",
            "bidi \u202etxt.exe\u2066 sep\u2028".encode(), b"\xff\xfe invalid utf-8 \xc0\x80", b"",
            "n\u0153ud \u6771\u4eac".encode(), bytes(range(0, 32)) + b"\x7f"]

target, out = sys.argv[1], sys.argv[2]
seeds = {"timestamp": timestamp_seeds, "wire-text": wire_text_seeds}[target]()
os.makedirs(out, exist_ok=True)
for seed in seeds:
    with open(os.path.join(out, hashlib.sha1(seed).hexdigest()[:16]), "wb") as f:
        f.write(seed)
print(f"{len(seeds)} seeds in {out}")
