#!/usr/bin/env python3
"""Embed the HTML report's page in C, at build time.

usage: embed.py [--name NAME] OUT.h PAGE.html [PART ...]

PAGE.html is the page as it is edited and linted: a line that is exactly
@NAME@ stands for the file NAME among the PARTs (report.css, report.js),
put there whole, and the line @report.json@ is where the report's JSON
goes. OUT.h gets two C strings, sp_html_head and sp_html_tail: the page
before and after that line. With --name NAME they are NAME_head and
NAME_tail, and a page without the @report.json@ line (the live dashboard,
which fetches its data) is whole in NAME_head.
"""
import os
import sys


def c_string(name, data):
    out = ['static const char %s[] =' % name]
    for line in data.splitlines(keepends=True):
        lit = []
        for b in line:
            c = chr(b)
            if c in '\\"':
                lit.append('\\' + c)
            elif c == '\n':
                lit.append('\\n')
            elif c == '\t':
                lit.append('\\t')
            elif 0x20 <= b < 0x7f and c != '?':   # '?': no trigraphs
                lit.append(c)
            else:
                lit.append('\\%03o' % b)
        out.append('\t"%s"' % ''.join(lit))
    if len(out) == 1:
        out.append('\t""')
    return '\n'.join(out) + ';\n'


def main():
    args, prefix = sys.argv[1:], None
    if args[:1] == ['--name']:
        if len(args) < 2:
            sys.exit(__doc__)
        prefix, args = args[1], args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    out, page, parts = args[0], args[1], args[2:]
    files = {os.path.basename(p): p for p in parts}
    head, tail, cur = [], [], None
    cur = head
    with open(page, 'rb') as f:
        for line in f:
            key = line.strip()
            if key == b'@report.json@':
                if cur is tail:
                    sys.exit('%s: @report.json@ twice' % page)
                cur = tail
            elif key.startswith(b'@') and key.endswith(b'@') and len(key) > 2:
                name = key[1:-1].decode()
                if name not in files:
                    sys.exit('%s: no part named %s' % (page, name))
                with open(files[name], 'rb') as p:
                    cur.append(p.read())
            else:
                cur.append(line)
    if cur is not tail and prefix is None:
        sys.exit('%s: no @report.json@ line' % page)
    prefix = prefix or 'sp_html'
    with open(out, 'w') as f:
        f.write('/* Made by app/html/embed.py from app/html/: edit those. */\n')
        f.write(c_string(prefix + '_head', b''.join(head)))
        f.write(c_string(prefix + '_tail', b''.join(tail)))


main()
