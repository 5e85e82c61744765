#!/usr/bin/env python3
"""The repository's address rule, checked: every literal IPv4 address in
config/, examples/, deploy/, tests/, tools/, docs/ and README.md lies in the
benchmarking range 198.18.0.0/15 (RFC 2544), or in loopback 127.0.0.0/8,
which never leaves the host (DESIGN.md, "Test bed and network rules").
stampede itself accepts any address its user gives; what this repository
ships, runs and shows may use no other.

What counts as a literal address: four decimal numbers 0..255 joined by
dots, not part of a longer dotted or alphanumeric run ("1.2.3.4.5",
"v1.2.3.4" and "1.2.3.4a" are not addresses). Not counted:
  - a section number after "RFC NNNN ", "section(s) " or "§"
    ("RFC 9293 3.10.7.3");
  - a network in CIDR notation, "A.B.C.D/N": a block named, not an
    address to send to (the product's messages name 224.0.0.0/4);
  - anything on a line that holds the marker "addr-ok" (in a comment:
    say why, e.g. an address a refusal test must see refused, or a
    published test vector that is never sent). Tests that need a refused
    address should rather build it from integers.

usage: addr_scan.py SOURCE_ROOT    (exit 0 clean, 1 with one line per hit)
"""
import os
import re
import subprocess
import sys

SCOPE = ("config", "examples", "deploy", "tests", "tools", "docs", "README.md")
ADDR = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d|/\d)")
SECTION = re.compile(r"(RFC ?\d+,? |sections? |§ ?)$", re.IGNORECASE)
MARKER = "addr-ok"


def allowed(octets):
    a, b = octets[0], octets[1]
    return (a == 198 and b in (18, 19)) or a == 127


def files(root):
    """Tracked files in scope (a git checkout), else every file there."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard", "--", *SCOPE],
                             check=True, capture_output=True).stdout
        names = [n for n in out.decode().split("\0") if n]
        if names:
            return names
    except (OSError, subprocess.CalledProcessError):
        pass
    names = []
    for top in SCOPE:
        path = os.path.join(root, top)
        if os.path.isfile(path):
            names.append(top)
        for d, _, fs in os.walk(path):
            names += [os.path.relpath(os.path.join(d, f), root) for f in fs]
    return names


def line_hits(line):
    """The literal addresses on @line that the rule refuses."""
    if MARKER in line:
        return []
    hits = []
    for m in ADDR.finditer(line):
        octets = [int(x) for x in m.groups()]
        if max(octets) > 255 or allowed(octets):
            continue
        if SECTION.search(line[:m.start()]):
            continue
        hits.append(m.group(0))
    return hits


def scan(root):
    hits = []
    for name in files(root):
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"\0" in data:  # binary: a fuzz input, not an example
            continue
        for no, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            hits += [f"{name}:{no}: {a} is outside 198.18.0.0/15 (and not loopback)"
                     for a in line_hits(line)]
    return hits


def selftest():
    """The rule on lines whose verdict is known. The refused addresses are
    built from numbers, so this file holds none to be refused itself."""
    def ip(*o):
        return ".".join(str(x) for x in o)
    flagged = [f"curl http://{ip(10, 1, 2, 3)}/", f"ip {ip(8, 8, 8, 8)};",
               f"target: http://{ip(224, 0, 0, 1)}:80", f"{ip(1, 2, 3, 4)} is a version?"]
    clean = ["--ip 198.18.1.1-198.19.255.254", "HOST=127.0.0.1", "RFC 1122 4.2.2.13",
             "section 3.10.7.3 says", "version 1.2.3.4.5", "v1.2.3.4", "999.1.1.1",
             f"bad {ip(10, 0, 0, 1)}  # {MARKER}: refused on purpose", "0x7f.0.0.1",
             "is in 240.0.0.0/4, never"]
    ok = True
    for line in flagged + clean:
        found = bool(line_hits(line))
        if found != (line in flagged):
            print(f"selftest: '{line}' {'flagged' if found else 'not flagged'}")
            ok = False
    return ok


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    if not selftest():
        return 1
    hits = scan(root)
    for h in hits:
        print(h)
    print(f"{len(hits)} addresses outside 198.18.0.0/15 in {', '.join(SCOPE)}")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
