#!/usr/bin/python3
"""An independent WebSocket client for the tests of the test bed's
WebSocket server (tools/sp-wssrv.c): Debian's python3-websockets for what a
conforming client sees, and a raw mode that shows the frames on the wire.

  ws_client.py lib URL [options] STEP...
    --connect ADDR:PORT  TCP to there, whatever the URL's host (--resolve)
    --cafile FILE        trust this CA (wss://)
    --cookie VALUE       a Cookie header
    --subprotocol P      offer P (repeatable)
    --max-size N         largest message accepted (default 1 MiB)
    --timeout S          each step's limit (default 5)
  steps, in order:
    text:STRING  send a text message      binary:N  send N bytes (i % 251)
    recv[:N]     receive N messages (1): "recv text|binary LEN CONTENT"
                 (text shown as is, at most 200 characters; binary as the
                 SHA-256 of the payload)
    ping:DATA    a ping, and wait for its pong: "pong DATA"
    close[:CODE[:REASON]]  the close handshake (default 1000)
    wait         until the server closes
  then a close 1000 if the connection is still open. Prints "local ADDR:PORT", "open proto=P" and per step its lines; at the
  end "closed rcvd=CODE sent=CODE" (the close frames each way, "-" for
  none, "none" for an empty one) or "handshake-error CLASS: TEXT". Exits 0
  unless a step's limit passed (then "timeout STEP", exit 3).

  ws_client.py http METHOD http://ADDR:PORT/PATH [BODY [HEADER:VALUE...]]
    one plain HTTP request: prints "status CODE" (body urlencoded if any)

  ws_client.py raw ADDR:PORT PATH [--frames N] [--timeout S] [--send SPEC]...
                 [--register USER:PW] [--cookie VALUE]
    With --register, a POST /register first on the same connection
    ("register STATUS"). The upgrade by hand (with the Cookie header if
    given), then the --send frames (masked unless said), then
    reads until EOF, reset, N frames or S seconds (default 5), printing:
      status LINE / accept ok|bad|missing / local ADDR:PORT
      frame fin=F rsv=R op=O mask=M len=L      as soon as a header is in
      payload HEX                              (at most 64 bytes shown)
      eof | reset | timeout | frames
    SPEC: FIN,RSV,OP,MASK,HEX  e.g. 1,0,1,1,68656c6c6f (masked text "hello");
          FIN,RSV,OP,MASK,zeros:N  a payload of N zero bytes
          close:CODE           a masked close frame with that code
"""

import asyncio
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def close_str(c):
    if c is None:
        return "-"
    if c.code == 1005:
        return "none"
    return str(c.code)


def addr(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


async def lib_main(args):
    import websockets
    from websockets.exceptions import (ConnectionClosed,
                                       InvalidHandshake)

    url = args.pop(0)
    opts = {"connect": None, "cafile": None, "cookie": None,
            "max_size": 1 << 20, "timeout": 5.0}
    protos = []
    steps = []
    while args:
        a = args.pop(0)
        if a == "--connect":
            opts["connect"] = args.pop(0)
        elif a == "--cafile":
            opts["cafile"] = args.pop(0)
        elif a == "--cookie":
            opts["cookie"] = args.pop(0)
        elif a == "--subprotocol":
            protos.append(args.pop(0))
        elif a == "--max-size":
            opts["max_size"] = int(args.pop(0))
        elif a == "--timeout":
            opts["timeout"] = float(args.pop(0))
        else:
            steps.append(a)

    kw = {"max_size": opts["max_size"], "open_timeout": opts["timeout"],
          "close_timeout": opts["timeout"], "ping_interval": None,
          "compression": None}
    if protos:
        kw["subprotocols"] = protos
    if opts["cookie"] is not None:
        kw["extra_headers"] = {"Cookie": opts["cookie"]}
    if url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=opts["cafile"])
        kw["ssl"] = ctx
    if opts["connect"] is not None:
        host, port = addr(opts["connect"])
        sock = socket.create_connection((host, port), timeout=opts["timeout"])
        sock.setblocking(False)
        kw["sock"] = sock
        if url.startswith("wss:"):
            kw["server_hostname"] = url.split("/")[2].split(":")[0]

    try:
        ws = await websockets.connect(url, **kw)
    except InvalidHandshake as e:
        print("handshake-error %s: %s" % (type(e).__name__, e))
        return 0
    except (OSError, asyncio.TimeoutError) as e:
        print("handshake-error %s: %s" % (type(e).__name__, e))
        return 0
    local = ws.local_address
    print("local %s:%d" % (local[0], local[1]))
    print("open proto=%s" % (ws.subprotocol or "-"))
    rc = 0
    step = None
    try:
        for step in steps:
            kind, _, arg = step.partition(":")
            if kind == "text":
                await ws.send(arg)
            elif kind == "binary":
                await ws.send(bytes(i % 251 for i in range(int(arg))))
            elif kind == "recv":
                for _ in range(int(arg) if arg else 1):
                    m = await asyncio.wait_for(ws.recv(), opts["timeout"])
                    if isinstance(m, str):
                        print("recv text %d %s" % (len(m.encode()),
                                                    m[:200]))
                    else:
                        print("recv binary %d %s" %
                              (len(m), hashlib.sha256(m).hexdigest()))
            elif kind == "ping":
                w = await ws.ping(arg)
                await asyncio.wait_for(w, opts["timeout"])
                print("pong %s" % arg)
            elif kind == "close":
                code, _, reason = arg.partition(":")
                await asyncio.wait_for(
                    ws.close(int(code) if code else 1000, reason),
                    2 * opts["timeout"])
            elif kind == "wait":
                await asyncio.wait_for(ws.wait_closed(), opts["timeout"])
            else:
                print("bad step %s" % step)
                return 2
    except asyncio.TimeoutError:
        print("timeout %s" % step)
        rc = 3
    except ConnectionClosed as e:
        print("connection-closed %s" % type(e).__name__)
    if rc == 0:
        try:
            # Steps done, connection still open: a normal close.
            if ws.open:
                await asyncio.wait_for(ws.close(), 2 * opts["timeout"])
            await asyncio.wait_for(ws.wait_closed(), 2 * opts["timeout"])
        except asyncio.TimeoutError:
            pass
    else:
        ws.transport.abort()
    print("closed rcvd=%s sent=%s" % (close_str(ws.close_rcvd),
                                      close_str(ws.close_sent)))
    return rc


def frame_bytes(spec):
    if spec.startswith("close:"):
        code = int(spec[6:])
        fin, rsv, op, mask, payload = 1, 0, 8, 1, struct.pack("!H", code)
    else:
        f = spec.split(",")
        fin, rsv, op, mask = (int(x) for x in f[:4])
        if len(f) > 4 and f[4].startswith("zeros:"):
            payload = bytes(int(f[4][6:]))
        else:
            payload = bytes.fromhex(f[4]) if len(f) > 4 else b""
    b0 = (fin << 7) | (rsv << 4) | op
    n = len(payload)
    if n < 126:
        h = struct.pack("!BB", b0, (mask << 7) | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, (mask << 7) | 126, n)
    else:
        h = struct.pack("!BBQ", b0, (mask << 7) | 127, n)
    if mask:
        key = os.urandom(4)
        ks = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^
                   int.from_bytes(ks, "big")).to_bytes(n, "big")
        h += key
    return h + payload


class NotUpgraded(Exception):
    pass


def raw_main(args):
    target = args.pop(0)
    path = args.pop(0)
    want_frames, timeout, sends = None, 5.0, []
    register, cookie = None, None
    while args:
        a = args.pop(0)
        if a == "--register":
            register = args.pop(0)
        elif a == "--cookie":
            cookie = args.pop(0)
        elif a == "--frames":
            want_frames = int(args.pop(0))
        elif a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--send":
            sends.append(frame_bytes(args.pop(0)))
    host, port = addr(target)
    s = socket.create_connection((host, port), timeout=timeout)
    local = s.getsockname()
    print("local %s:%d" % (local[0], local[1]))
    key = base64.b64encode(os.urandom(16))
    deadline = time.monotonic() + timeout
    buf = b""
    end = None

    def more():
        nonlocal buf
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        s.settimeout(left)
        d = s.recv(65536)
        if not d:
            raise EOFError()
        buf += d

    nframes = 0
    try:
        if register is not None:
            # POST /register first, on the same connection (keep-alive).
            user, _, pw = register.partition(":")
            body = ("user=%s&password=%s" % (user, pw)).encode()
            s.sendall(b"POST /register HTTP/1.1\r\nHost: " +
                      target.encode() + b"\r\nContent-Type: "
                      b"application/x-www-form-urlencoded\r\n"
                      b"Content-Length: " + str(len(body)).encode() +
                      b"\r\n\r\n" + body)
            while b"\r\n\r\n" not in buf:
                more()
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            print("register %s" % lines[0].split(" ")[1])
            cl = [int(ln.split(":", 1)[1]) for ln in lines[1:]
                  if ln.lower().startswith("content-length:")]
            while len(buf) < (cl[0] if cl else 0):
                more()
            buf = buf[cl[0] if cl else 0:]
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " +
                  target.encode() + b"\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                  b"\r\nSec-WebSocket-Version: 13\r\n" +
                  (b"Cookie: " + cookie.encode() + b"\r\n"
                   if cookie is not None else b"") + b"\r\n")
        while b"\r\n\r\n" not in buf:
            more()
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        print("status %s" % lines[0])
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        acc = [ln.split(":", 1)[1].strip() for ln in lines[1:]
               if ln.lower().startswith("sec-websocket-accept:")]
        print("accept %s" % ("missing" if not acc else
                             "ok" if acc[0] == want else "bad"))
        if not lines[0].startswith("HTTP/1.1 101"):
            raise NotUpgraded()
        for f in sends:
            s.sendall(f)
        while want_frames is None or nframes < want_frames:
            while len(buf) < 2:
                more()
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            hl = 2 + (2 if n == 126 else 8 if n == 127 else 0) + \
                (4 if b1 & 0x80 else 0)
            while len(buf) < hl:
                more()
            if n == 126:
                n = struct.unpack("!H", buf[2:4])[0]
            elif n == 127:
                n = struct.unpack("!Q", buf[2:10])[0]
            print("frame fin=%d rsv=%d op=%d mask=%d len=%d" %
                  (b0 >> 7, (b0 >> 4) & 7, b0 & 15, b1 >> 7, n),
                  flush=True)
            key4 = buf[hl - 4:hl] if b1 & 0x80 else None
            buf = buf[hl:]
            left, got = n, b""
            while left > 0:
                if not buf:
                    more()
                take = buf[:left]
                buf = buf[len(take):]
                if len(got) < 64:
                    got += take[:64 - len(got)]
                left -= len(take)
            if key4 is not None:
                got = bytes(b ^ key4[i % 4] for i, b in enumerate(got))
            print("payload %s" % got[:64].hex())
            nframes += 1
        end = "frames"
    except NotUpgraded:
        end = "not-upgraded"
    except EOFError:
        end = "eof"
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    print(end)
    s.close()
    return 0


def http_main(args):
    import http.client
    from urllib.parse import urlsplit

    method, url = args[0], urlsplit(args[1])
    body = args[2] if len(args) > 2 else None
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    for h in args[3:]:
        k, _, v = h.partition(":")
        headers[k] = v
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    c.request(method, url.path + ("?" + url.query if url.query else ""),
              body=body, headers=headers)
    r = c.getresponse()
    r.read()
    print("status %d" % r.status)
    c.close()
    return 0


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    mode = args.pop(0)
    if mode == "lib":
        return asyncio.run(lib_main(args))
    if mode == "raw":
        return raw_main(args)
    if mode == "http":
        return http_main(args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
