#!/usr/bin/python3
"""An independent WebSocket client (RFC 6455) on the kernel's stack, for
it_serve_ws: Python's standard library only (socket, ssl), every frame
written by hand so that it can also send what a client must not (unmasked
frames, reserved bits, bad UTF-8, lengths over the server's bound).

  serve_ws_client.py echo HOST PORT [--tls CA NAME]
  serve_ws_client.py broadcast HOST PORT CLIENTS MESSAGES [--tls CA NAME]

Prints one JSON object: "checks" (name -> [expected, got], judged by the
shell) and "totals" (what this client sent and received, for the shell to
compare with the server's report exactly).
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 10

checks = {}
tot = {
    "msgs_sent": 0,         # data messages the server should count whole
    "bytes_sent": 0,        # their payload bytes (and counted partial ones)
    "frames_sent": 0,       # frames the server should count (header whole
                            # and accepted)
    "msgs_received": 0,     # whole data messages received
    "bytes_received": 0,    # data payload bytes received (partial too)
    "pings_sent": 0,
    "pongs_received": 0,
    "pongs_sent": 0,        # unsolicited pongs we sent
    "upgrades": 0,
    "closes_sent": {},      # our close frames by code ("none")
    "closes_received": {},  # the server's, by code
    "refused": 0,
    "errors": {},           # protocol errors the server should count
}


def check(name, expected, got):
    checks[name] = [expected, got]


def bump(d, k):
    d[k] = d.get(k, 0) + 1


def bucket(code):
    """A close code as the server's report buckets it."""
    if code is None:
        return "none"
    if 1000 <= code <= 1015:
        return str(code)
    if 3000 <= code <= 3999:
        return "3xxx"
    if 4000 <= code <= 4999:
        return "4xxx"
    return "other"


class Conn:
    def __init__(self, host, port, tls, rcvbuf=0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(TIMEOUT)
        s.connect((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            ca, name = tls
            ctx = ssl.create_default_context(cafile=ca)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            s = ctx.wrap_socket(s, server_hostname=name)
        self.s = s
        self.buf = b""
        self.host = host

    def send(self, b):
        self.s.sendall(b)

    def recv_some(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def read_exact(self, n):
        while len(self.buf) < n:
            self.recv_some()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self.recv_some()
        i = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:i], self.buf[i:]
        return h.decode("latin-1")

    def read_to_eof(self):
        try:
            while True:
                self.recv_some()
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            pass
        return self.buf

    def eof(self):
        """True if the server closed (EOF, or a reset) with nothing more."""
        try:
            self.s.settimeout(TIMEOUT)
            d = self.s.recv(1)
            return d == b""
        except (ConnectionError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def upgrade(c, key=None, extra="", version="13", method="GET"):
    key = key or base64.b64encode(os.urandom(16)).decode()
    c.send((f"{method} /chat HTTP/1.1\r\nHost: {c.host}\r\n"
            "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n{extra}\r\n").encode())
    h = c.read_head()
    return key, h


def header_value(h, name):
    for line in h.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def open_ws(host, port, tls, rcvbuf=0):
    c = Conn(host, port, tls, rcvbuf)
    key, h = upgrade(c)
    want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    ok = h.startswith("HTTP/1.1 101 ") and header_value(h, "Sec-WebSocket-Accept") == want
    if not ok:
        raise RuntimeError("upgrade failed: " + h)
    tot["upgrades"] += 1
    return c


def frame(op, payload, fin=True, mask=True, rsv=0, length=None, ext=None):
    """One client frame; @length/@ext force a header (ext: 126 or 127)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask else 0
    if ext == 127 or (ext is None and n > 65535):
        h = struct.pack("!BBQ", b0, mbit | 127, n)
    elif ext == 126 or (ext is None and n > 125):
        h = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        h = struct.pack("!BB", b0, mbit | n)
    if not mask:
        return h + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return h + key + masked


def read_frame(c):
    b0, b1 = c.read_exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", c.read_exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", c.read_exact(8))[0]
    if b1 & 0x80:
        raise RuntimeError("a masked frame from the server")
    return b0 >> 7, (b0 >> 4) & 7, b0 & 15, c.read_exact(n)


class Reader:
    """Reads the server's frames: data messages reassembled, pongs and the
    close frame noted; the rest is the caller's."""

    def __init__(self, c):
        self.c = c
        self.msgs = []
        self.pongs = []
        self.close = None   # (code or None, reason)
        self.partial = b""
        self.partial_op = 0
        self.bad = []

    def step(self):
        fin, rsv, op, p = read_frame(self.c)
        if rsv:
            self.bad.append("rsv")
        if op in (1, 2, 0):
            tot["bytes_received"] += len(p)
            if op != 0:
                if self.partial_op:
                    self.bad.append("new message inside one")
                self.partial_op = op
                self.partial = b""
            elif not self.partial_op:
                self.bad.append("continuation without a message")
            self.partial += p
            if fin:
                self.msgs.append((self.partial_op, self.partial))
                tot["msgs_received"] += 1
                self.partial_op = 0
        elif op == 10:
            self.pongs.append(p)
            tot["pongs_received"] += 1
        elif op == 8:
            code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
            self.close = (code, p[2:])
            bump(tot["closes_received"], bucket(code))
        else:
            self.bad.append(f"opcode {op}")
        return op

    def until_msgs(self, n):
        while len(self.msgs) < n and self.close is None:
            self.step()

    def until_close(self):
        while self.close is None:
            self.step()


def send_msg(c, op, payload, pieces=1, count=True):
    """A data message in @pieces fragments."""
    step = max(1, -(-len(payload) // pieces)) if payload else 1
    parts = [payload[i:i + step] for i in range(0, len(payload), step)] or [b""]
    for i, part in enumerate(parts):
        c.send(frame(op if i == 0 else 0, part, fin=i == len(parts) - 1))
        tot["frames_sent"] += 1
    if count:
        tot["msgs_sent"] += 1
        tot["bytes_sent"] += len(payload)


def close_ws(c, r, code, reason=b""):
    """Our close (code None: none), the server's answer, then its EOF."""
    p = b"" if code is None else struct.pack("!H", code) + reason
    c.send(frame(8, p))
    tot["frames_sent"] += 1
    bump(tot["closes_sent"], bucket(code))
    r.until_close()
    return r.close[0], c.eof()


def pattern(n, seed):
    return bytes((seed + i * 7) & 0xFF for i in range(n))


def text(n, seed):
    s = "héllo wörld ☃ 𝄞 "
    t = (s * (n // len(s.encode()) + 1)).encode()[:n]
    while True:  # cut at a character boundary
        try:
            t.decode()
            return t
        except UnicodeDecodeError:
            t = t[:-1]


def run_echo(host, port, tls):
    # RFC 6455 section 1.3's sample key and its accept value.
    c = Conn(host, port, tls)
    _, h = upgrade(c, key="dGhlIHNhbXBsZSBub25jZQ==")
    check("RFC 6455 sample key: 101", True, h.startswith("HTTP/1.1 101 "))
    check("RFC 6455 sample key: its Sec-WebSocket-Accept",
          "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", header_value(h, "Sec-WebSocket-Accept"))
    check("101: Upgrade websocket", "websocket", (header_value(h, "Upgrade") or "").lower())
    tot["upgrades"] += 1
    r = Reader(c)
    check("sample key: close 1000 echoed", (1000, True), close_ws(c, r, 1000))
    c.close()

    # Echo, text and binary, in sizes around each length form, whole and
    # in fragments, each read back before the next (one thread: an SSL
    # socket is not to be read and written by two at once).
    c = open_ws(host, port, tls)
    r = Reader(c)
    sent = []
    cases = [(op, n, k) for n in (0, 1, 125, 126, 127, 1000, 4096, 65535, 65536, 200000)
             for op in (1, 2) for k in ((1, 3) if n > 2 else (1,))]
    for i, (op, n, k) in enumerate(cases):
        p = text(n, i) if op == 1 else pattern(n, i)
        sent.append((op, p))
        send_msg(c, op, p, pieces=k)
        r.until_msgs(i + 1)
    bad_i = [i for i, (a, b) in enumerate(zip(sent, r.msgs)) if a != b]
    check("echo: every message back, same opcode and bytes",
          (len(sent), []), (len(r.msgs), [cases[i] for i in bad_i]))
    for i in bad_i[:3]:
        print("mismatch", cases[i], len(sent[i][1]), len(r.msgs[i][1]), sent[i][1][:40], r.msgs[i][1][:40], file=sys.stderr)
    check("echo: nothing wrong in the server's frames", [], r.bad)

    # A ping inside a fragmented message, then a lone ping and an
    # unsolicited pong.
    part1, part2 = "é".encode()[:1], "é".encode()[1:] + b"tude"
    c.send(frame(1, b"cafe " + part1, fin=False))
    c.send(frame(9, b"ping in between"))
    c.send(frame(0, part2, fin=True))
    tot["frames_sent"] += 3
    tot["msgs_sent"] += 1
    tot["bytes_sent"] += len(b"cafe " + part1 + part2)
    tot["pings_sent"] += 1
    c.send(frame(9, b""))
    c.send(frame(10, b"unsolicited"))
    tot["frames_sent"] += 2
    tot["pings_sent"] += 1
    tot["pongs_sent"] += 1
    r.until_msgs(len(cases) + 1)
    while len(r.pongs) < 2:
        r.step()
    check("fragmented text (a character split across frames) echoed whole",
          (1, "cafe étude".encode()), r.msgs[-1])
    check("pongs carry the pings' payloads", [b"ping in between", b""], r.pongs)

    # A frame written a byte at a time.
    p = text(300, 3)
    for b in frame(1, p):
        c.send(bytes([b]))
    tot["frames_sent"] += 1
    tot["msgs_sent"] += 1
    tot["bytes_sent"] += len(p)
    r.until_msgs(len(cases) + 2)
    check("a frame sent byte by byte: echoed", (1, p), r.msgs[-1])
    check("close 1001 with a reason: 1001 echoed, then EOF", (1001, True),
          close_ws(c, r, 1001, "going away ✓".encode()))
    c.close()

    # Close codes: each echoed, then the server closes TCP.
    for code in (1000, 3000, 4999, None):
        c = open_ws(host, port, tls)
        r = Reader(c)
        check(f"close {code}: echoed, then EOF", (code, True), close_ws(c, r, code))
        c.close()

    # Protocol errors: each on a connection of its own, closed with its
    # code, then EOF.
    def bad(name, data, code, counted=(0, 0), kind=None, close=None):
        c = open_ws(host, port, tls)
        r = Reader(c)
        c.send(data)
        frames, nbytes = counted
        tot["frames_sent"] += frames
        tot["bytes_sent"] += nbytes
        bump(tot["errors"], kind)
        if close is not None:
            bump(tot["closes_sent"], close)
        try:
            r.until_close()
            got = (r.close[0], c.eof())
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            got = ("no close frame", True)
        check(f"{name}: closed {code}, then EOF", (code, True), got)
        c.close()

    bad("unmasked frame", frame(1, b"hello", mask=False), 1002, kind="unmasked")
    bad("reserved bit 1", frame(1, b"hello", rsv=4), 1002, kind="rsv")
    bad("reserved bits 2 and 3", frame(2, b"hello", rsv=3), 1002, kind="rsv")
    bad("opcode 3", frame(3, b"hello"), 1002, kind="opcode")
    bad("opcode 11", frame(11, b""), 1002, kind="opcode")
    bad("fragmented ping", frame(9, b"x", fin=False), 1002, kind="control")
    bad("ping of 126 bytes", frame(9, b"x" * 126), 1002, kind="control")
    bad("continuation with no message", frame(0, b"x"), 1002, kind="fragment")
    bad("a length in a longer form than needed", frame(2, b"abc", ext=126), 1002,
        kind="length")
    bad("a 64-bit length under 65536", frame(2, b"abc", ext=127), 1002, kind="length")
    bad("close with 1 byte", frame(8, b"\x03"), 1002, counted=(1, 0), kind="close",
        close="other")
    bad("close with code 1005", frame(8, struct.pack("!H", 1005)), 1002, counted=(1, 0),
        kind="close", close="other")
    bad("close with code 999", frame(8, struct.pack("!H", 999)), 1002, counted=(1, 0),
        kind="close", close="other")
    bad("close reason not UTF-8", frame(8, struct.pack("!H", 1000) + b"\xff"), 1007,
        counted=(1, 0), kind="utf8", close="1000")
    # not UTF-8, the bad byte last: every byte of it is read, whatever
    # the pieces it arrives in
    bad("text not UTF-8", frame(1, b"abcde\xff"), 1007, counted=(1, 6), kind="utf8")
    bad("text cut inside a character", frame(1, "abcé".encode()[:-1]), 1007,
        counted=(1, 4), kind="utf8")
    bad("a new message inside a fragmented one",
        frame(1, b"ab", fin=False) + frame(1, b"cd"), 1002, counted=(1, 2),
        kind="fragment")
    # the fragment before the bad one is echoed (the reader counts it)
    bad("text not UTF-8 in a later fragment",
        frame(1, b"fine ", fin=False) + frame(0, b"then \xff"), 1007,
        counted=(2, 11), kind="utf8")
    # the bad byte early in a frame of 50,000 whose rest never comes: the
    # server's frame context is finished with zeros before it is reused
    # (it_serve_ws runs echo with a pool of one context)
    cut = frame(1, b"a" * 1000 + b"\xff" + b"b" * 48999)
    bad("text not UTF-8 early in a long frame", cut[:8 + 1001], 1007,
        counted=(1, 1001), kind="utf8")
    # over the server's --ws-max-message (1 MiB here): refused at the header
    bad("a message over the bound", frame(2, b"", length=(1 << 20) + 1), 1009,
        counted=(1, 0), kind="too_big")
    bad("fragments adding up over the bound",
        frame(2, b"x" * 10, fin=False) + frame(0, b"", length=(1 << 20) - 5), 1009,
        counted=(2, 10), kind="too_big")

    # An upgrade refused: version, key, method; a plain request answered.
    def refused(name, want, **kw):
        c = Conn(host, port, tls)
        _, h = upgrade(c, **kw)
        tot["refused"] += 1
        check(name, want, (h.split(" ")[1], header_value(h, "Sec-WebSocket-Version"), c.eof()))
        c.close()

    refused("version 8: 426 naming 13, then EOF", ("426", "13", True), version="8")
    refused("a key of 15 bytes: 400", ("400", None, True), key=base64.b64encode(b"x" * 15).decode())
    refused("a key not base64: 400", ("400", None, True), key="!" * 22 + "==")
    refused("POST: 400", ("400", None, True), method="POST")
    c = Conn(host, port, tls)
    c.send(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    out = c.read_to_eof()
    check("a plain request: the ordinary HTTP answer", True, out.startswith(b"HTTP/1.1 200 OK"))
    c.close()

    # Gone without a close frame, between frames, then inside one (FIN,
    # then RST): each counted as ended open; what was read of the cut
    # frames is counted, and their contexts go back clean (the next
    # connection's echo proves it).
    for how in ("between frames", "FIN inside a frame", "RST inside a frame"):
        c = open_ws(host, port, tls)
        r = Reader(c)
        send_msg(c, 2, b"last words")
        r.until_msgs(1)
        if how != "between frames":
            f = frame(2, pattern(30000, 1))
            c.send(f[:8 + 20000])
            tot["frames_sent"] += 1
            tot["bytes_sent"] += 20000
            # their echo is the witness that the server has read them
            got = 0
            while got < 20000:
                fin, _, op, p = read_frame(c)
                got += len(p)
                tot["bytes_received"] += len(p)
            if how.startswith("RST"):
                c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                               struct.pack("ii", 1, 0))
        c.close()
        check(f"gone {how}: the server's frames were well formed", [], r.bad)
    c = open_ws(host, port, tls)
    r = Reader(c)
    p = text(5000, 9)
    send_msg(c, 1, p, pieces=2)
    r.until_msgs(1)
    check("after frames cut short: a message echoed whole", (1, p), r.msgs[0])
    check("after frames cut short: close echoed", (1000, True), close_ws(c, r, 1000))
    c.close()


def run_broadcast(host, port, tls, nclients, nmsgs, big=False):
    """Every client sends @nmsgs messages, all at once; @big: every fourth
    of 40,000 bytes (over TLS: several records), and in lock step (each
    message read by every client before the next is sent: nobody's buffer
    fills, nothing is dropped)."""
    conns = [open_ws(host, port, tls) for _ in range(nclients)]
    readers = [Reader(c) for c in conns]
    want = []
    for k in range(nmsgs):
        for i, c in enumerate(conns):
            p = f"client {i} message {k} ✓".encode()
            if big and k % 4 == 3:
                p += b"x" * 40000
            op = 1 if k % 2 == 0 else 2
            want.append((i, k, op, p))
            send_msg(c, op, p)
            if big:
                for r in readers:
                    r.until_msgs(len(want))
    total = nclients * nmsgs
    for r in readers:
        r.until_msgs(total)
    for i, r in enumerate(readers):
        check(f"broadcast: client {i} received every message",
              sorted((op, p) for _, _, op, p in want), sorted(r.msgs))
        # each sender's messages in its order
        for j in range(nclients):
            mine = [p for op, p in r.msgs if p.startswith(f"client {j} ".encode())]
            check(f"broadcast: client {i} got client {j}'s in order",
                  [p for s, _, _, p in want if s == j], mine)
    for c, r in zip(conns, readers):
        check("broadcast: close 1000 echoed", (1000, True), close_ws(c, r, 1000))
        c.close()


def run_broadcast_slow(host, port, tls, nmsgs):
    """A receiver that does not read (a small receive buffer) while a
    sender sends and reads its own copies: the server drops what does not
    fit the slow one's send buffer."""
    slow = open_ws(host, port, tls, rcvbuf=4096)  # first in the room
    fast = open_ws(host, port, tls)
    rs, rf = Reader(slow), Reader(fast)
    for k in range(nmsgs):
        p = pattern(4000, k)
        send_msg(fast, 2, p)
        rf.until_msgs(k + 1)
    check("slow receiver: the sender got each of its messages", nmsgs, len(rf.msgs))
    # the slow one reads what it was sent, up to the answer to its close
    check("slow receiver: its close answered", (1000, True), close_ws(slow, rs, 1000))
    got = len(rs.msgs)
    check("slow receiver: got fewer than were sent", True, 0 < got < nmsgs)
    # (nmsgs <= 256: a message's first byte is its number)
    seeds = [p[0] for _, p in rs.msgs]
    check("slow receiver: what it got is whole and in order", True,
          all(p == pattern(4000, p[0]) for _, p in rs.msgs) and
          seeds == sorted(set(seeds)))
    tot["slow_received"] = got
    check("slow receiver: sender's close answered", (1000, True), close_ws(fast, rf, 1000))
    slow.close()
    fast.close()


def show(v):
    """A value as the shell compares it: long ones by length and digest."""
    r = repr(v)
    if len(r) <= 160:
        return r
    return f"<{len(r)} chars, sha1 {hashlib.sha1(r.encode()).hexdigest()[:16]}>"


def main():
    a = sys.argv[1:]
    tls = None
    if "--tls" in a:
        i = a.index("--tls")
        tls = (a[i + 1], a[i + 2])
        del a[i:i + 3]
    if a[0] == "echo":
        run_echo(a[1], int(a[2]), tls)
    elif a[0] == "broadcast_slow":
        run_broadcast_slow(a[1], int(a[2]), tls, int(a[3]))
    else:
        run_broadcast(a[1], int(a[2]), tls, int(a[3]), int(a[4]), "--big" in a)
    out = {"checks": {k: [show(v[0]), show(v[1])] for k, v in checks.items()},
           "totals": tot}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
