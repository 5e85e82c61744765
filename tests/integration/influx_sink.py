#!/usr/bin/python3
"""it_obs_influx's stand-in for an InfluxDB on 127.0.0.1 (standard library
only): what no Debian server does (the v2 write API), and a database that
never answers.

usage: influx_sink.py PORTFILE LOG BODIES MODE [--path P] [--query Q] [--auth A]

It listens on a free port of 127.0.0.1 and writes that port to PORTFILE
once it listens.
  record  each POST: one JSON line in LOG (path, query, authorization,
          whether they were the ones expected), its body appended to
          BODIES; answered 204 if all was as expected, else 400
  hang    accepts, reads, never answers (a database that is stuck)
"""
import argparse
import json
import os
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("log")
    ap.add_argument("bodies")
    ap.add_argument("mode", choices=["record", "hang"])
    ap.add_argument("--path")
    ap.add_argument("--query")
    ap.add_argument("--auth")
    a = ap.parse_args()
    lock = threading.Lock()

    if a.mode == "hang":
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        with open(a.portfile + ".tmp", "w") as f:
            f.write(str(ls.getsockname()[1]))
        # Renamed: a reader never sees half a port.
        os.rename(a.portfile + ".tmp", a.portfile)
        held = []
        while True:
            c, _ = ls.accept()
            held.append(c)
            with lock, open(a.log, "a") as f:
                f.write(json.dumps({"accepted": True}) + "\n")

    want_q = dict(urllib.parse.parse_qsl(a.query)) if a.query else None

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            auth = self.headers.get("Authorization")
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            ok = ((a.path is None or u.path == a.path) and
                  (want_q is None or q == want_q) and
                  (a.auth is None or auth == a.auth))
            with lock:
                with open(a.log, "a") as f:
                    f.write(json.dumps({"path": u.path, "query": q,
                                        "auth": auth, "ok": ok,
                                        "bytes": len(body)}) + "\n")
                with open(a.bodies, "ab") as f:
                    f.write(body)
            if ok:
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                msg = b'{"error":"not what the test expected"}'
                self.send_response(400)
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(a.portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.portfile + ".tmp", a.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
