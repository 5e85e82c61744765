#!/usr/bin/env python3
"""Embed the HTML report's page in C, at build time.

usage: embed.py OUT.h PAGE.html [PART ...]

PAGE.html is the page as it is edited and linted: a line that is exactly
@NAME@ stands for the file NAME among the PARTs (report.css, report.js),
put there whole, and the line @report.json@ is where the report's JSON
goes. OUT.h gets two C strings, sp_html_head and sp_html_tail: the page
before and after that line.
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
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, page, parts = sys.argv[1], sys.argv[2], sys.argv[3:]
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
    if cur is not tail:
        sys.exit('%s: no @report.json@ line' % page)
    with open(out, 'w') as f:
        f.write('/* Made by app/html/embed.py from app/html/: edit those. */\n')
        f.write(c_string('sp_html_head', b''.join(head)))
        f.write(c_string('sp_html_tail', b''.join(tail)))


main()
