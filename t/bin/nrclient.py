#!/usr/bin/python3
# nrclient.py — a hand-built SOCKS client side for nym-network-requester's
# tests, written from doc/spec/socks5.md (§2-6) alone: it speaks to a running
# nym-client over its websocket API (doc/spec/client-websocket.md) and sends
# requests to the network requester as Nym messages.
# Usage: nrclient.py WSURL NR_ADDRESS COMMAND [ARGS]
#   fetch HOST:PORT [--anon] [--legacy] [--garbage]
#       Connect, Send stdin as one message, then read NetworkData in order
#       until the requester closes; the bytes go to stdout. --anon: no return
#       address, 20 SURBs with the Connect, 3 with each Send (§1.1);
#       --legacy: the pre-versioning form (§0.3), answers must be legacy too;
#       --garbage: first send hostile requests (§10) that must be dropped.
#   many N HOST:PORT PATH    N connections at once, each a GET of PATH; prints
#       each body's length and sha256
#   stall SLOW HOST:PORT PATH  a connection to SLOW (accepts, never answers) stays
#       open while a GET of PATH from HOST:PORT completes; prints its length
#   refused HOST:PORT        Connect, expect ConnectionError, print its text
#   control health|info|versions   (anonymous, 10 SURBs) print the answer
#   query openproxy|description|exitpolicy   print the answer's bytes in hex
# Exit 0 when the exchange went as the spec says, 1 otherwise (reason on stderr).
import asyncio
import os
import struct
import sys

import websockets

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58dec(s, size):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    return n.to_bytes(size, "big")


def recipient(addr):
    left, gw = addr.split("@")
    ident, enc = left.split(".")
    return b58dec(ident, 32) + b58dec(enc, 32) + b58dec(gw, 32)


u64 = lambda v: struct.pack(">Q", v)


def fail(why):
    sys.stderr.write("nrclient: " + why + "\n")
    sys.exit(1)


class Client:
    def __init__(self, ws, nr):
        self.ws, self.nr = ws, recipient(nr)
        self.conns, self.other, self.me = {}, asyncio.Queue(), None
        self.selfq = asyncio.Queue()
        self.task = asyncio.ensure_future(self.dispatch())

    async def dispatch(self):
        """Answers to their connection's queue (by conn_id), the rest to `other`."""
        while True:
            try:
                f = await self.ws.recv()
            except websockets.ConnectionClosed:
                return
            if not isinstance(f, bytes):
                continue
            if f[0] == 2:
                await self.selfq.put(f[1:97])
                continue
            if f[0] == 0:
                fail("nym-client error: " + f[10:].decode("utf-8", "replace"))
            if f[0] != 1:
                continue
            rest = f[18:] if f[1] == 1 else f[2:]
            (n,) = struct.unpack(">Q", rest[:8])
            b = rest[8:8 + n]
            c = b if b and b[0] < 3 else b[3:] if len(b) > 3 and b[1] == 1 else b""
            conn = None
            if len(c) >= 10 and c[0] == 1:
                conn = struct.unpack(">Q", c[2:10])[0]
            elif len(c) >= 9 and c[0] == 2:
                conn = struct.unpack(">Q", c[1:9])[0]
            if conn in self.conns:
                await self.conns[conn].put(b)
            else:
                await self.other.put(b)

    async def self_address(self):
        if self.me is None:
            await self.ws.send(b"\3")
            self.me = await self.selfq.get()
        return self.me

    async def send(self, data, surbs=None):
        if surbs is None:
            await self.ws.send(b"\0" + self.nr + u64(0) + u64(len(data)) + data)
        else:
            await self.ws.send(b"\1" + struct.pack(">I", surbs) + self.nr + u64(0) + u64(len(data)) + data)

    async def received(self, timeout, conn=None):
        """The next answer for connection conn (None: one of no connection)."""
        q = self.other if conn is None else self.conns[conn]
        return await asyncio.wait_for(q.get(), timeout)


def parse_response(b, legacy):
    """(kind, fields) of a Socks5ProviderResponse, §2 and §5."""
    if legacy:
        if b[0] >= 3:
            fail("a legacy request got a versioned answer: " + b[:4].hex())
        c = b
    else:
        if b[0] != 3 or b[1] != 1:
            fail("not a versioned provider-data answer: " + b[:4].hex())
        if b[2] != 3:
            fail("socks5 version %d in the answer" % b[2])
        c = b[3:]
    if c[0] == 1:
        closed, conn, seq = c[1], struct.unpack(">Q", c[2:10])[0], struct.unpack(">Q", c[10:18])[0]
        return "data", (conn, seq, closed != 0, c[18:])
    if c[0] == 2:
        return "error", (struct.unpack(">Q", c[1:9])[0], c[9:].decode("utf-8"))
    if c[0] == 3:
        return "query", c[1:]
    fail("unknown response flag %d" % c[0])


def connect_req(conn, target, ret, legacy):
    a = target.encode()
    body = b"\0" + u64(conn) + struct.pack(">H", len(a)) + a + (ret or b"")
    return (b"\0" if legacy else b"\3\1\3") + body


def send_req(conn, seq, closed, data, legacy):
    body = b"\1" + u64(conn) + bytes([closed]) + u64(seq) + data
    return (b"\0" if legacy else b"\3\1\3") + body


async def garbage(c, anon):
    """Hostile requests: every one must be dropped, none may stop the requester."""
    surbs = 3 if anon else None
    junk = [
        b"",                                   # empty
        b"\xff" * 40,                          # unknown interface tag (version 255)
        b"\3\1\3\7" + os.urandom(30),          # unknown request flag
        b"\3\1\4\1" + os.urandom(30),          # socks5 version 4
        b"\3\1\3\0" + u64(7) + b"\xff\xff" + b"x" * 20,     # address length beyond the end
        b"\3\1\3\0" + u64(7) + b"\0\3abc" + b"y" * 50,      # return address of 50 bytes
        b"\3\1\3\1" + u64(8),                  # Send cut short
        os.urandom(500),
    ]
    for j in junk:
        await c.send(j, surbs)
    # sequence numbers from the far future on a connection that does not exist yet
    for s in (2**64 - 1, 10**12, 1001):
        await c.send(send_req(0x1234, s, 0, b"z" * 100, False), surbs)


async def fetch(c, target, anon, legacy, hostile, data=None):
    """One connection: Connect, Send data, read until closed; returns the bytes."""
    if hostile:
        await garbage(c, anon)
    conn = int.from_bytes(os.urandom(8), "big")
    c.conns[conn] = asyncio.Queue()
    ret = None if anon else await c.self_address()
    await c.send(connect_req(conn, target, ret, legacy), 20 if anon else None)
    if data is None:
        data = sys.stdin.buffer.read()
    await c.send(send_req(conn, 0, 0, data, legacy), 3 if anon else None)
    got, out, closed_at, seen = {}, b"", None, set()
    nxt = 0
    while True:
        b = await c.received(60, conn)
        kind, f = parse_response(b, legacy)
        if kind == "error":
            fail("ConnectionError: " + f[1])
        if kind != "data" or f[0] != conn:
            continue
        _, seq, closed, payload = f
        if seq in seen:
            fail("seq %d twice" % seq)
        seen.add(seq)
        got[seq] = payload
        if closed:
            closed_at = seq
        while nxt in got:
            out += got.pop(nxt)
            nxt += 1
        if closed_at is not None and nxt > closed_at:
            break
    # our own close (§7.5)
    await c.send(send_req(conn, 1, 1, b"", legacy), 3 if anon else None)
    return out


async def many(c, n, target, path):
    """n connections at once, each GET path; each body printed as its length and sha256."""
    import hashlib
    req = ("GET %s HTTP/1.0\r\n\r\n" % path).encode()
    outs = await asyncio.gather(*[fetch(c, target, False, False, False, req) for _ in range(n)])
    for o in outs:
        body = o.split(b"\r\n\r\n", 1)[1]
        print(len(body), hashlib.sha256(body).hexdigest())


async def stall(c, slow, target, path):
    """A Connect to slow (accepts, never answers), then a fetch from target must
    finish while the slow one is still open; prints the fetched body's length."""
    conn = int.from_bytes(os.urandom(8), "big")
    c.conns[conn] = asyncio.Queue()
    await c.send(connect_req(conn, slow, await c.self_address(), False))
    await c.send(send_req(conn, 0, 0, b"hello?", False))
    o = await fetch(c, target, False, False, False, ("GET %s HTTP/1.0\r\n\r\n" % path).encode())
    if not c.conns[conn].empty():
        b = await c.conns[conn].get()
        kind, f = parse_response(b, False)
        if kind != "data" or f[3]:
            fail("the slow destination sent something")
    print(len(o.split(b"\r\n\r\n", 1)[1]))


async def refused(c, target):
    conn = int.from_bytes(os.urandom(8), "big")
    c.conns[conn] = asyncio.Queue()
    ret = await c.self_address()
    await c.send(connect_req(conn, target, ret, False))
    while True:
        kind, f = parse_response(await c.received(60, conn), False)
        if kind == "error" and f[0] == conn:
            print(f[1])
            return
        if kind == "data" and f[0] == conn:
            fail("NetworkData instead of ConnectionError")


async def control(c, what):
    tag = {"health": 0, "info": 1, "versions": 2}[what]
    await c.send(bytes([3, 0, tag]), 10)
    b = await c.received(60)
    if b[:3] != bytes([3, 0, tag]):
        fail("control answer starts " + b[:3].hex())
    print(b[3:].decode("utf-8"))


async def query(c, what):
    tag = {"openproxy": 0, "description": 1, "exitpolicy": 2}[what]
    await c.send(bytes([3, 1, 3, 2, tag]), 10)
    b = await c.received(60)
    print(b.hex())


async def main(argv):
    url, nr, cmd, args = argv[1], argv[2], argv[3], argv[4:]
    async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
        c = Client(ws, nr)
        if cmd == "fetch":
            out = await fetch(c, args[0], "--anon" in args, "--legacy" in args, "--garbage" in args)
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
        elif cmd == "many":
            await many(c, int(args[0]), args[1], args[2])
        elif cmd == "stall":
            await stall(c, args[0], args[1], args[2])
        elif cmd == "refused":
            await refused(c, args[0])
        elif cmd == "control":
            await control(c, args[0])
        elif cmd == "query":
            await query(c, args[0])
        else:
            fail("unknown command " + cmd)


try:
    asyncio.run(main(sys.argv))
except asyncio.TimeoutError:
    fail("no answer in time")
