#!/usr/bin/env python3
"""A tiny TCP exchange for the lab: `server ADDR PORT` answers one connection, `client ADDR PORT` makes it.

The client sends one line, the server answers one line, then both close (client first), so a capture
holds a handshake, two small data segments, and an orderly FIN exchange.
"""
import socket
import sys
import time

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
if mode == "server":
    with socket.socket(family, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((addr, port))
        srv.listen(1)
        print("listening", flush=True)
        conn, _ = srv.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"vipscope lab server: hello\n")
            conn.recv(1024)  # wait for the client's FIN
elif mode == "client":
    deadline = time.monotonic() + 5
    while True:
        try:
            sock = socket.create_connection((addr, port), timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with sock:
        sock.sendall(b"vipscope lab client: hello\n")
        sock.recv(1024)
else:
    sys.exit("usage: tcp-exchange.py server|client ADDR PORT")
