#!/usr/bin/env python3
# t/browser/serve.py PORT DIR... — a static loopback server for the browser test: files from the
# first DIR holding them, .mjs as JavaScript and .wasm as application/wasm.
import http.server, os, sys

port, dirs = int(sys.argv[1]), sys.argv[2:]

class H(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm'}

    def translate_path(self, path):
        name = os.path.basename(path.split('?', 1)[0]) or 'index.html'
        for d in dirs:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                return p
        return os.path.join(dirs[0], name)

    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
