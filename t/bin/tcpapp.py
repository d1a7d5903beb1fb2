#!/usr/bin/python3
# tcpapp.py — a TCP-socket application for nym-client tcpsocket's tests,
# written from doc/spec/tcpsocket.md alone: it frames (len u64 big-endian,
# §1) and encodes the protobuf messages of §2 by hand, field number by field
# number, so it checks nym-client's protobuf library against the spec rather
# than against itself. Usage: tcpapp.py PORT < script
# Script lines:
#   details | fetch | clients | flush | empty      one request each
#   send ADDR MSG          RequestSendMessage (recipient ClientConfig{Id = ADDR})
#   raw HEX                these bytes as they are (a frame's header included)
#   recv [SECONDS]         read and print the next response (below)
#   wait-fetch MSG SECONDS fetch + flush until MSG is among the messages
#   sleep SECONDS
# Responses print as one line each:
#   exception <text> | send | flush | clients <n> | fetch <n> <msg>...
#   details <Id> <PubKey hex> <Provider.Id> <Provider.Host> <Provider.Port> <Provider.PubKey hex>
# A connection closed by the server prints "closed" and ends the script.
import socket
import struct
import sys
import time


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    # every field here is length-delimited (wire type 2)
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def frame(body):
    return struct.pack(">Q", len(body)) + body


def request(name, *args):
    if name == "empty":
        return b""
    if name == "send":
        addr, msg = args
        return field(2, field(1, msg.encode()) + field(2, field(1, addr.encode())))
    return field({"fetch": 3, "clients": 4, "details": 5, "flush": 6}[name], b"")


def read_varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def fields(b):
    """(number, value) pairs; value is bytes (wire type 2) or int (0)."""
    i, out = 0, []
    while i < len(b):
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 2:
            n, i = read_varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, v))
    return out


def get(fs, num, default=b""):
    for n, v in fs:
        if n == num:
            return v
    return default


def show(body):
    fs = fields(body)
    if len(fs) != 1:
        return "bad response %s" % body.hex()
    num, v = fs[0]
    inner = fields(v)
    if num == 1:
        return "exception " + get(inner, 1).decode()
    if num == 2:
        return "send"
    if num == 3:
        msgs = [m.decode(errors="replace") for n, m in inner if n == 1]
        return " ".join(["fetch", str(len(msgs))] + msgs)
    if num == 4:
        return "clients %d" % len([1 for n, _ in inner if n == 1])
    if num == 5:
        c = fields(get(inner, 1))
        p = fields(get(c, 5))
        return "details %s %s %s %s %s %s" % (
            get(c, 1).decode(), get(c, 4).hex(), get(p, 1).decode(),
            get(p, 2).decode(), get(p, 3).decode(), get(p, 4).hex())
    if num == 6:
        return "flush"
    return "unknown %d" % num


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def read(self, n, timeout):
        self.s.settimeout(timeout)
        while len(self.buf) < n:
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self, timeout=30):
        (n,) = struct.unpack(">Q", self.read(8, timeout))
        return show(self.read(n, timeout))


def main():
    c = Conn(int(sys.argv[1]))
    try:
        for line in sys.stdin:
            w = line.split()
            if not w:
                continue
            cmd = w[0]
            if cmd == "recv":
                print(c.response(float(w[1]) if len(w) > 1 else 30), flush=True)
            elif cmd == "sleep":
                time.sleep(float(w[1]))
            elif cmd == "raw":
                c.s.sendall(bytes.fromhex(w[1]))
            elif cmd == "wait-fetch":
                end = time.time() + float(w[2])
                while True:
                    c.s.sendall(frame(request("fetch")) + frame(request("flush")))
                    r = c.response()
                    c.response()
                    if w[1] in r.split()[2:] or time.time() > end:
                        print(r, flush=True)
                        break
                    time.sleep(0.2)
            else:
                c.s.sendall(frame(request(cmd, *w[1:])))
    except (EOFError, ConnectionResetError, BrokenPipeError):
        print("closed", flush=True)


main()
