#!/usr/bin/env python3
"""Generate seeds for the MySQL fuzz harness (Fuzz/mysql.swift) for the handshakes our captures lack,
written from the protocol documentation (MySQL internals "Connection Phase", MariaDB knowledge base
"Connection"): a MySQL 8 greeting (caching_sha2_password, CLIENT_LONG_PASSWORD set), a MariaDB 11 greeting
(no 5.5.5- prefix, extended capabilities), a HandshakeV9 greeting, ERR packets with and without SQLSTATE,
OK / AuthSwitchRequest / AuthMoreData replies, and SSLRequest and HandshakeResponse41 client packets.

Usage: gen-mysql-seeds.py OUTDIR"""
import hashlib, os, struct, sys


def packet(payload, sequence):
    return struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload


def greeting(version, thread, capabilities, plugin, collation=255, extended=0):
    scramble = bytes(range(1, 21))
    body = b"\x0a" + version + b"\x00" + struct.pack("<I", thread) + scramble[:8] + b"\x00"
    body += struct.pack("<HBHH", capabilities & 0xFFFF, collation, 2, capabilities >> 16 & 0xFFFF)
    body += bytes([21]) + b"\x00" * 6 + struct.pack("<I", extended) + scramble[8:] + b"\x00" + plugin + b"\x00"
    return packet(body, 0)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    mysql8 = greeting(b"8.0.36", 12, 0xDFFFFFFF, b"caching_sha2_password")
    mariadb11 = greeting(b"11.4.2-MariaDB", 7, 0xFFFFFFFE & ~1, b"mysql_native_password", collation=45, extended=0x1F)
    v9 = packet(b"\x09" + b"3.23.58\x00" + struct.pack("<I", 3) + b"abcdefgh\x00", 0)
    err_plain = packet(b"\xff" + struct.pack("<H", 1130) + b"Host '203.0.113.9' is not allowed to connect to this MariaDB server", 0)
    err_state = packet(b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied for user 'probe'@'203.0.113.9'", 2)
    ok = packet(b"\x00\x00\x00\x02\x00\x00\x00", 2)
    switch = packet(b"\xfemysql_native_password\x00" + bytes(range(1, 21)) + b"\x00", 2)
    more = packet(b"\x01\x04", 2) + packet(b"\x00\x00\x00\x02\x00\x00\x00", 3)
    ssl_request = packet(struct.pack("<IIB", 0x00AAA205 | 0x800, 16 << 20, 45) + b"\x00" * 19 + struct.pack("<I", 0), 1)
    hello = packet(struct.pack("<IIB", 0x003AA205, 16 << 20, 45) + b"\x00" * 19 + struct.pack("<I", 0)
                   + b"probe\x00" + b"\x14" + bytes(20) + b"mysql\x00" + b"mysql_native_password\x00", 1)
    seeds = [b"\x47" + mysql8 + switch, b"\x03" + mariadb11 + ok, b"\xc0" + v9, b"\x41" + err_plain,
             b"\x0f" + mysql8 + more, b"\x05" + err_state, b"\x8a" + ssl_request, b"\x01" + hello]
    for seed in seeds:
        with open(os.path.join(out, hashlib.sha1(seed).hexdigest()[:16]), "wb") as f:
            f.write(seed)
    print(f"gen-mysql-seeds: {len(seeds)} mysql seeds into {out}")


main()
