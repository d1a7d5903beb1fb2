#!/usr/bin/python3
# wsapp.py — a websocket application for nym-client's tests, written from
# doc/spec/client-websocket.md alone (§2 addresses, §3–6 frames), with
# Debian's python3-websockets. Usage: wsapp.py URL < script
# Script lines (one request or expectation each):
#   text JSON                    send a text frame as given
#   bin HEX                      send a binary frame as given
#   send-bin ADDR MSG CONN       binary Send (0x00), CONN 0 = none
#   anon-bin ADDR MSG SURBS CONN binary SendAnonymous (0x01)
#   reply-bin TAG MSG CONN       binary Reply (0x02), TAG base58
#   self-bin                     binary SelfAddress (0x03)
#   closed-bin CONN / lane-bin CONN   binary 0x04 / 0x05
#   recv [SECONDS]               print the next frame, decoded (below)
#   reply-last MSG               text Reply to the sender tag of the last message received
#   send-bin-file ADDR PATH      binary Send of the file's bytes
#   flood-bin ADDR N SIZE        N binary Sends at once, SIZE bytes each, numbered 00000000...
#   count N SECONDS              read pushes until N distinct numbered messages came, print
#                                "distinct K of N" (K short of N at the deadline)
#   quiet SECONDS                print whatever frames arrive within SECONDS
#   sleep SECONDS
# Frames print as "text <json>" or "bin <name> <fields>":
#   bin received <tag|null> <message>   bin selfAddress <address>
#   bin laneQueueLength <lane> <queue>  bin error <kind> <message>
# A closed connection prints "closed" and ends the script.
import asyncio
import hashlib
import json
import struct
import sys

import websockets

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58enc(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s


def b58dec(s, size):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    return n.to_bytes(size, "big")


def recipient(addr):
    left, gw = addr.split("@")
    ident, enc = left.split(".")
    return b58dec(ident, 32) + b58dec(enc, 32) + b58dec(gw, 32)


def address(b):
    return b58enc(b[:32]) + "." + b58enc(b[32:64]) + "@" + b58enc(b[64:96])


def u64(v):
    return struct.pack(">Q", v)


def show(frame):
    if isinstance(frame, str):
        return "text " + frame
    t = frame[0]
    if t == 0x01:
        if frame[1] == 1:
            tag, rest = b58enc(frame[2:18]), frame[18:]
        else:
            tag, rest = "null", frame[2:]
        (n,) = struct.unpack(">Q", rest[:8])
        assert n == len(rest) - 8, "Received: length field does not match"
        if n > 4096:  # large ones by length and digest
            return "bin received %s len=%d sha256=%s" % (tag, n, hashlib.sha256(rest[8:]).hexdigest())
        return "bin received %s %s" % (tag, rest[8:].decode("utf-8", "replace"))
    if t == 0x02:
        assert len(frame) == 97, "SelfAddress: not 97 bytes"
        return "bin selfAddress " + address(frame[1:])
    if t == 0x03:
        lane, q = struct.unpack(">QQ", frame[1:17])
        return "bin laneQueueLength %d %d" % (lane, q)
    if t == 0x00:
        (n,) = struct.unpack(">Q", frame[2:10])
        assert n == len(frame) - 10, "Error: length field does not match"
        return "bin error %d %s" % (frame[1], frame[10:].decode())
    return "bin unknown " + frame.hex()


def tag_of(frame):
    """The sender tag (base58) of a Received push, else None."""
    if isinstance(frame, str):
        try:
            m = json.loads(frame)
        except ValueError:
            return None
        return m.get("senderTag") if m.get("type") == "received" else None
    if frame[:2] == b"\1\1":
        return b58enc(frame[2:18])
    return None


async def main(url):
    last_tag = None
    try:
        ws = await websockets.connect(url, max_size=None, ping_interval=None)
    except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, EOFError):
        print("closed", flush=True)  # refused, or shut before the handshake
        sys.exit(1)
    if ws:  # closed when the script ends
        for line in sys.stdin:
            w = line.rstrip("\n").split(" ", 1)
            op, arg = w[0], (w[1] if len(w) > 1 else "")
            a = arg.split(" ")
            try:
                if op == "text":
                    await ws.send(arg)
                elif op == "bin":
                    await ws.send(bytes.fromhex(arg))
                elif op == "send-bin":
                    m = a[1].encode()
                    await ws.send(b"\0" + recipient(a[0]) + u64(int(a[2])) + u64(len(m)) + m)
                elif op == "anon-bin":
                    m = a[1].encode()
                    await ws.send(b"\1" + struct.pack(">I", int(a[2])) + recipient(a[0]) +
                                  u64(int(a[3])) + u64(len(m)) + m)
                elif op == "reply-bin":
                    m = a[1].encode()
                    await ws.send(b"\2" + b58dec(a[0], 16) + u64(int(a[2])) + u64(len(m)) + m)
                elif op == "self-bin":
                    await ws.send(b"\3")
                elif op == "closed-bin":
                    await ws.send(b"\4" + u64(int(arg)))
                elif op == "lane-bin":
                    await ws.send(b"\5" + u64(int(arg)))
                elif op == "recv":
                    f = await asyncio.wait_for(ws.recv(), float(arg or 30))
                    last_tag = tag_of(f) or last_tag
                    print(show(f), flush=True)
                elif op == "send-bin-file":
                    with open(a[1], "rb") as f:
                        m = f.read()
                    await ws.send(b"\0" + recipient(a[0]) + u64(0) + u64(len(m)) + m)
                elif op == "flood-bin":
                    to, size = recipient(a[0]), int(a[2])
                    for i in range(int(a[1])):
                        m = (b"%08d" % i).ljust(size, b"x")
                        await ws.send(b"\0" + to + u64(0) + u64(len(m)) + m)
                elif op == "count":
                    want, seen = int(a[0]), set()
                    end = asyncio.get_running_loop().time() + float(a[1])
                    try:
                        while len(seen) < want:
                            left = end - asyncio.get_running_loop().time()
                            f = await asyncio.wait_for(ws.recv(), max(left, 0.01))
                            if isinstance(f, bytes) and f[:2] == b"\1\0":
                                seen.add(f[10:18])
                    except asyncio.TimeoutError:
                        pass
                    print("distinct %d of %d" % (len(seen), want), flush=True)
                elif op == "reply-last":
                    await ws.send(json.dumps({"type": "reply", "message": arg,
                                              "senderTag": last_tag}))
                elif op == "quiet":
                    try:
                        while True:
                            f = await asyncio.wait_for(ws.recv(), float(arg))
                            print(show(f), flush=True)
                    except asyncio.TimeoutError:
                        pass
                elif op == "sleep":
                    await asyncio.sleep(float(arg))
                elif op:
                    sys.exit("wsapp: unknown script line: " + line)
            except websockets.ConnectionClosed:
                print("closed", flush=True)
                return
            except asyncio.TimeoutError:
                print("timeout", flush=True)
                return


asyncio.run(main(sys.argv[1]))
