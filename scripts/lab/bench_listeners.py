#!/usr/bin/env python3
"""N loopback listeners for scripts/bench's svc group, all in this one process (selectors).

usage: bench_listeners.py N PORTS_FILE

Each listener on 127.0.0.1 (an ephemeral port) greets every connection like MariaDB 10.11
(HandshakeV10, no TLS offered) and answers whatever the client sends next (its login) with ERR 1045,
then closes: a server that is up but refuses the login, which both svcprobe and mariadb-admin ping
count as alive. The ports are written space-separated to PORTS_FILE (atomically) once all listen.
Runs until terminated. Only loopback is used.
"""
import os
import selectors
import socket
import struct
import sys


def packet(sequence, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload


def greeting(connection_id):
    return packet(0, b"\x0a5.5.5-10.11.19-MariaDB-bench\x00" + struct.pack("<I", connection_id) + b"abcdefgh\x00"
                  + struct.pack("<H", 0xF7FE) + b"\x08" + struct.pack("<H", 2) + struct.pack("<H", 0x81FF) + b"\x15"
                  + b"\x00" * 6 + struct.pack("<I", 0x1D) + b"ijklmnopqrst\x00mysql_native_password\x00")


DENIED = packet(2, b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied for user")


def main():
    count, ports_path = int(sys.argv[1]), sys.argv[2]
    selector = selectors.DefaultSelector()
    ports = []
    for _ in range(count):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, "listen")
        ports.append(listener.getsockname()[1])
    with open(ports_path + ".tmp", "w") as f:
        f.write(" ".join(map(str, ports)) + "\n")
    os.rename(ports_path + ".tmp", ports_path)
    accepted = 0
    while True:
        for key, _ in selector.select():
            if key.data == "listen":
                try:
                    connection, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                accepted += 1
                connection.setblocking(False)
                try:
                    connection.sendall(greeting(accepted))
                except OSError:
                    connection.close()
                    continue
                selector.register(connection, selectors.EVENT_READ, "connection")
            else:
                connection = key.fileobj
                try:
                    data = connection.recv(4096)
                except OSError:
                    data = b""
                if data:
                    try:
                        connection.sendall(DENIED)
                    except OSError:
                        pass
                selector.unregister(connection)
                connection.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
