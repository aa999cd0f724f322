#!/usr/bin/env python3
"""Feed N IPv4 /32 routes to a `bgpdecode listen` on 127.0.0.3 over loopback, to measure its memory per route.

Usage: scripts/lab/listen-rss-feed.py PORT N [SECONDS] [varied]

Connects from 127.0.0.1 (peer AS 65001, 4-octet AS), sends the OPEN, a KEEPALIVE, then N routes in
10.0.0.0/8: packed ~800 to an UPDATE with one shared path, or with `varied` 4 to an UPDATE, each UPDATE with
its own AS path and communities (closer to a full table); then End-of-RIB, and stays SECONDS (default 3) so
the listener decodes everything. How issue 19 measured --max-prefixes' default (release build):

  /usr/bin/time -v bgpdecode listen --local-as 64512 --router-id 203.0.113.254 --bind 127.0.0.3:PORT \\
      --peer 127.0.0.1 --peer-as 65001 --max-prefixes 0 --table >/dev/null &
  scripts/lab/listen-rss-feed.py PORT 1000000 6 varied; kill -INT <bgpdecode's PID>
"""
import socket, struct, sys, threading, time
port, n = int(sys.argv[1]), int(sys.argv[2])
def msg(t, body): return b'\xff'*16 + struct.pack('!HB', 19+len(body), t) + body
caps = bytes([1,4,0,1,0,1]) + bytes([65,4]) + struct.pack('!I', 65001)
opt = bytes([2, len(caps)]) + caps
open_ = msg(1, struct.pack('!BHH4sB', 4, 23456, 240, socket.inet_aton('203.0.113.1'), len(opt)) + opt)
s = socket.create_connection(('127.0.0.3', port), source_address=('127.0.0.1', 0))
def drain():
    try:
        while s.recv(65536): pass
    except OSError: pass
threading.Thread(target=drain, daemon=True).start()
s.sendall(open_ + msg(4, b''))
attrs = bytes([0x40,1,1,0, 0x40,2,6,2,1]) + struct.pack('!I', 65001) + bytes([0x40,3,4,127,0,0,1])
varied = len(sys.argv) > 4
per = 4 if varied else (4096 - 19 - 4 - len(attrs)) // 5
sent = 0; buf = []
base = (10 << 24)
while sent < n:
    k = min(per, n - sent)
    if varied:
        u = sent // per
        path = bytes([2,3]) + struct.pack('!III', 65001, 64600 + u % 500, 100000 + u)
        attrs = bytes([0x40,1,1,0, 0x40,2,len(path)]) + path + bytes([0x40,3,4,127,0,0,1]) + bytes([0xC0,8,8]) + struct.pack('!II', (65001<<16)|(u%1000), (65001<<16)|7)
    nlri = b''.join(bytes([32]) + struct.pack('!I', base + sent + i) for i in range(k))
    buf.append(msg(2, struct.pack('!HH', 0, len(attrs)) + attrs + nlri))
    sent += k
    if len(buf) >= 64: s.sendall(b''.join(buf)); buf = []
if buf: s.sendall(b''.join(buf))
s.sendall(msg(2, struct.pack('!HH', 0, 0)))  # End-of-RIB
time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 3)
