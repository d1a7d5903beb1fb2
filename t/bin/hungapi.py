#!/usr/bin/python3
# hungapi.py — a nym-api that hangs, for the tests of every tool's deadline.
# Usage: hungapi.py PORT [UPSTREAM HANGFILE]
#   PORT alone: accept every connection on 127.0.0.1:PORT and never answer.
#   With UPSTREAM (a base URL) and HANGFILE: pass each request on to UPSTREAM
#   while HANGFILE does not exist; once it does, accept and never answer.
# Prints "ready" once it listens; runs until killed.
import os
import socket
import sys
import threading
import urllib.request

port = int(sys.argv[1])
upstream = sys.argv[2].rstrip("/") if len(sys.argv) > 2 else None
hangfile = sys.argv[3] if len(sys.argv) > 3 else None
held = []  # connections kept open, never answered


def serve(conn):
    if not upstream or (hangfile and os.path.exists(hangfile)):
        held.append(conn)
        return
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            conn.close()
            return
        data += chunk
    path = data.split(b" ", 2)[1].decode()
    try:
        with urllib.request.urlopen(upstream + path, timeout=10) as r:
            body, status = r.read(), r.status
    except Exception as e:  # the test sees a 502 and says so
        body, status = str(e).encode(), 502
    conn.sendall(b"HTTP/1.1 %d x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % (status, len(body)) + body)
    conn.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
