#!/usr/bin/python3
"""sp-tlssrv: a scripted, hostile TLS server for the tests.

A TLS client must survive servers that break the handshake in each way a
real one can. Each listener has one mode, applied to every connection once
the client's first record (its ClientHello) has arrived whole:

  garbage    answers bytes that are no TLS record (an HTTP 400 head, then
             0xff bytes) instead of a ServerHello, then holds the connection
  alert      a fatal alert, handshake_failure (40), then FIN
  truncated  the header of a 64-byte handshake record and only the first
             16 bytes of it (a ServerHello's start), then FIN
  stall      never answers; holds the connection (the client's timeout)
  close      FIN at once, nothing sent
  needcert   a real TLS 1.2/1.3 server (Python's ssl, OpenSSL) that demands
             a client certificate signed by --ca: without one the handshake
             fails with OpenSSL's alert; with one it answers a small
             HTTP/1.1 200 and closes

Except for needcert, no TLS library is involved: the bytes are written by
hand, so a client meets exactly the failure the mode names. After its
action the server keeps reading until the client closes, so the client's
view is never disturbed by a RST of ours (a close with unread data sends
one), and the byte count is complete; --hold SECONDS (60) bounds that.

Every connection is logged when it ends, one line, written and flushed at
once:

  port=P mode=M peer=ADDR:PORT hello=0|1 sni=NAME|- read=N sent=N end=E tls=T

hello=1 when a whole first record of type handshake/ClientHello arrived;
sni is the server_name the ClientHello carried; read and sent count raw
bytes on the TCP connection; end is eof (the client closed), rst (it
reset), hold (--hold ran out) or error; tls is - except for needcert:
ok:CN (the client certificate's subject CN) or fail:REASON.

usage: sp-tlssrv.py --listen ADDR:PORT,MODE [--listen ...] --log FILE
       [--pidfile FILE] [--hold SECONDS] [--cert F --key F --ca F]

Single-threaded (selectors), non-blocking sockets. Only the standard
library. The process names itself sp-tlssrv (prctl) so that the test bed
can tell its pid file is still ours.
"""

import argparse
import ctypes
import os
import selectors
import signal
import socket
import ssl
import sys
import time

MODES = ("garbage", "alert", "truncated", "stall", "close", "needcert")

# What garbage answers: not a TLS record (0x48 is no content type), long
# enough to fill any record header a client might try to read.
GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + b"\xff" * 64
# A fatal alert (level 2) handshake_failure (40) in a TLS 1.2 record.
ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
# A handshake record announcing 64 bytes, and only 16 of them: the
# ServerHello's type, length (60), version 1.2 and the start of random.
TRUNCATED = bytes([0x16, 0x03, 0x03, 0x00, 0x40,
                   0x02, 0x00, 0x00, 0x3c, 0x03, 0x03]) + b"\x5a" * 10
NEEDCERT_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                  b"Connection: close\r\n\r\nok\n")


def client_hello(buf):
    """(whole, sni): whether buf starts with a whole handshake record
    holding a ClientHello, and the host name of its server_name extension
    (None if absent or not parseable)."""
    if len(buf) < 5 or buf[0] != 0x16:
        return False, None
    rlen = int.from_bytes(buf[3:5], "big")
    if len(buf) < 5 + rlen:
        return False, None
    rec = buf[5:5 + rlen]
    if len(rec) < 4 or rec[0] != 0x01:
        return False, None
    try:
        return True, _sni(rec[4:])
    except IndexError:
        return True, None


def _sni(b):
    # legacy_version(2) random(32) session_id<1> suites<2> methods<1>
    i = 34
    i += 1 + b[i]
    i += 2 + int.from_bytes(b[i:i + 2], "big")
    i += 1 + b[i]
    end = i + 2 + int.from_bytes(b[i:i + 2], "big")
    i += 2
    while i + 4 <= end:
        etype = int.from_bytes(b[i:i + 2], "big")
        elen = int.from_bytes(b[i + 2:i + 4], "big")
        if etype == 0:  # server_name: list<2> of type(1) name<2>
            j = i + 6
            if b[i + 6] != 0:
                return None
            nlen = int.from_bytes(b[j + 1:j + 3], "big")
            name = bytes(b[j + 3:j + 3 + nlen])
            if len(name) != nlen:
                return None
            return name.decode("ascii", "replace")
        i += 4 + elen
    return None


def clean(s):
    """A value for the log: no spaces, no control bytes."""
    return "".join(c if 0x21 <= ord(c) < 0x7f else "?" for c in s) or "-"


class Conn:
    def __init__(self, srv, sock, port, mode, peer):
        self.srv = srv
        self.sock = sock
        self.port = port
        self.mode = mode
        self.peer = peer
        self.buf = bytearray()  # until the ClientHello is whole
        self.read = 0
        self.sent = 0
        self.acted = False
        self.hello = False
        self.sni = None
        self.tls = "-"
        self.deadline = time.monotonic() + srv.hold
        self.ssl = None          # needcert: the SSLObject and its BIOs
        self.bio_in = None
        self.bio_out = None
        self.wbuf = b""          # bytes the socket did not take yet
        self.want_fin = False    # FIN once wbuf is out

    def send(self, data):
        self.wbuf += data
        self.flush()

    def flush(self):
        while self.wbuf:
            try:
                n = self.sock.send(self.wbuf)
            except BlockingIOError:
                self.srv.sel.modify(self.sock, selectors.EVENT_READ |
                                    selectors.EVENT_WRITE, self)
                return
            except OSError:
                self.wbuf = b""
                return
            self.sent += n
            self.wbuf = self.wbuf[n:]
        self.srv.sel.modify(self.sock, selectors.EVENT_READ, self)
        if self.want_fin:
            self.want_fin = False
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def fin(self):
        self.want_fin = True
        self.flush()

    def on_data(self, data):
        if not self.acted:
            # Act only on a whole first record holding a ClientHello;
            # anything else (not TLS, a ClientHello over several
            # records) is read and counted, never answered.
            self.buf += data
            self.hello, self.sni = client_hello(self.buf)
            if self.hello:
                self.acted = True
                self.act()
        elif self.ssl is not None:
            self.bio_in.write(data)
            self.tls_step()

    def act(self):
        m = self.mode
        if m == "garbage":
            self.send(GARBAGE)
        elif m == "alert":
            self.send(ALERT)
            self.fin()
        elif m == "truncated":
            self.send(TRUNCATED)
            self.fin()
        elif m == "close":
            self.fin()
        elif m == "needcert":
            self.bio_in = ssl.MemoryBIO()
            self.bio_out = ssl.MemoryBIO()
            self.ssl = self.srv.ctx.wrap_bio(self.bio_in, self.bio_out,
                                             server_side=True)
            self.bio_in.write(bytes(self.buf))
            self.tls_step()
        self.buf = bytearray()
        # stall: nothing at all

    def tls_step(self):
        if self.tls != "-":
            return  # done, one way or the other: only drain
        try:
            self.ssl.do_handshake()
        except ssl.SSLWantReadError:
            self.send(self.bio_out.read())
            return
        except ssl.SSLError as e:
            self.tls = "fail:" + clean(e.reason or type(e).__name__)
            self.send(self.bio_out.read())  # OpenSSL's alert
            self.fin()
            return
        cn = "-"
        cert = self.ssl.getpeercert()
        for rdn in (cert or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
        self.tls = "ok:" + clean(cn)
        self.ssl.write(NEEDCERT_REPLY)
        self.send(self.bio_out.read())
        self.fin()

    def end(self, how):
        self.srv.sel.unregister(self.sock)
        self.sock.close()
        self.srv.conns.discard(self)
        self.srv.log("port=%d mode=%s peer=%s:%d hello=%d sni=%s read=%d "
                     "sent=%d end=%s tls=%s" %
                     (self.port, self.mode, self.peer[0], self.peer[1],
                      self.hello, clean(self.sni or ""), self.read,
                      self.sent, how, self.tls))


class Server:
    def __init__(self, args):
        self.sel = selectors.DefaultSelector()
        self.conns = set()
        self.hold = args.hold
        self.logf = open(args.log, "a", buffering=1)
        self.ctx = None
        if any(m == "needcert" for _, _, m in args.listen):
            if not (args.cert and args.key and args.ca):
                sys.exit("sp-tlssrv: needcert wants --cert, --key, --ca")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(args.cert, args.key)
            ctx.load_verify_locations(args.ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx = ctx
        for addr, port, mode in args.listen:
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((addr, port))
            ls.listen(1024)
            ls.setblocking(False)
            self.sel.register(ls, selectors.EVENT_READ, (port, mode))

    def log(self, line):
        self.logf.write(line + "\n")

    def accept(self, ls, port, mode):
        while True:
            try:
                s, peer = ls.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # out of descriptors and the like: try later
            s.setblocking(False)
            c = Conn(self, s, port, mode, peer)
            self.conns.add(c)
            self.sel.register(s, selectors.EVENT_READ, c)

    def readable(self, c):
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            c.end("rst")
            return
        except OSError:
            c.end("error")
            return
        if not data:
            c.end("eof")
            return
        c.read += len(data)
        c.on_data(data)

    def run(self):
        while True:
            now = time.monotonic()
            timeout = None
            for c in list(self.conns):
                if c.deadline <= now:
                    c.end("hold")
                elif timeout is None or c.deadline - now < timeout:
                    timeout = c.deadline - now
            for key, ev in self.sel.select(timeout):
                if isinstance(key.data, tuple):
                    self.accept(key.fileobj, *key.data)
                    continue
                c = key.data
                if ev & selectors.EVENT_WRITE:
                    c.flush()
                if ev & selectors.EVENT_READ and c in self.conns:
                    self.readable(c)


def listen_arg(s):
    try:
        where, mode = s.rsplit(",", 1)
        addr, port = where.rsplit(":", 1)
        port = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError("want ADDR:PORT,MODE: " + s)
    if mode not in MODES:
        raise argparse.ArgumentTypeError("mode not one of %s: %s" %
                                         (", ".join(MODES), mode))
    return addr, port, mode


def main():
    p = argparse.ArgumentParser(description="scripted hostile TLS server")
    p.add_argument("--listen", type=listen_arg, action="append",
                   required=True, help="ADDR:PORT,MODE")
    p.add_argument("--log", required=True)
    p.add_argument("--pidfile")
    p.add_argument("--hold", type=float, default=60.0,
                   help="seconds a connection is held at most")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    args = p.parse_args()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, b"sp-tlssrv", 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass
    srv = Server(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.pidfile + ".tmp", args.pidfile)
    srv.run()


if __name__ == "__main__":
    main()
