#!/usr/bin/env python3
"""httpd.py PORT DIR [HOST] — the web server of the SOCKS tests: Python's
http.server on HOST:PORT (default 127.0.0.1; "::1" for IPv6) serving the files
of DIR (GET), and a POST handler that answers "<bytes> <sha256 hex>" of the
body it got, since http.server has none."""
import hashlib
import http.server
import socket
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        got, h = 0, hashlib.sha256()
        while left > 0:
            b = self.rfile.read(min(65536, left))
            if not b:
                break
            h.update(b)
            got += len(b)
            left -= len(b)
        body = f"{got} {h.hexdigest()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    handler = lambda *a, **k: Handler(*a, directory=root, **k)
    cls = Server6 if ":" in host else http.server.ThreadingHTTPServer
    with cls((host, port), handler) as srv:
        shown = f"[{host}]" if ":" in host else host
        print(f"http://{shown}:{port}/", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    main()
