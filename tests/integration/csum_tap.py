#!/usr/bin/env python3
"""Check the TCP checksums of the frames a virtio guest sends through a tap.

    csum_tap.py IFACE SRC_MAC OUT_JSON MAX_FRAMES

A guest whose NIC offloads TCP checksums hands its host frames whose
checksum field holds only the pseudo-header's sum, flagged NEEDS_CSUM in
the virtio-net header; the host's kernel takes them as its own partial
checksums (CHECKSUM_PARTIAL) and never checks them, so a wrong sum would
pass unseen. This reads the tap's incoming frames with their virtio-net
header (PACKET_VNET_HDR) and checks every IPv4/TCP frame from SRC_MAC:
a partial one must start its checksum at the TCP header (csum_start,
csum_offset) and complete to the right checksum; a whole one must be
right as it is; the IPv4 header's checksum must be right in both.

Stops after MAX_FRAMES such frames or on SIGTERM, and writes its counts to
OUT_JSON: partial (offloaded and right), partial_data (of them, with
payload), full (checksum made by the guest, right), bad (any wrong).
"""
import json
import os
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VNET_HDR_LEN = 10
NEEDS_CSUM = 1


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def raw_sum(b):
    if len(b) % 2:
        b = b + b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def main():
    iface, mac, out, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    src = bytes.fromhex(mac.replace(":", ""))
    counts = {"partial": 0, "partial_data": 0, "full": 0, "bad": 0, "bad_what": []}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((iface, 0))
    stop = []

    def done(*_):
        stop.append(1)

    signal.signal(signal.SIGTERM, done)
    # Ready: the caller waits for this file before it starts the guest.
    with open(out, "w") as f:
        json.dump(counts, f)
    while not stop and counts["partial"] + counts["full"] + counts["bad"] < limit:
        try:
            buf, addr = s.recvfrom(65536)
        except InterruptedError:
            continue
        if addr[2] == socket.PACKET_OUTGOING or len(buf) < VNET_HDR_LEN + 54:
            continue
        flags, _gso, _hlen, _gsz, cstart, coff = struct.unpack_from("<BBHHHH", buf)
        f = buf[VNET_HDR_LEN:]
        if f[6:12] != src or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        tot = struct.unpack_from("!H", f, 16)[0]
        ip = f[14 : 14 + ihl]
        seg = f[14 + ihl : 14 + tot]
        why = None
        if fold(raw_sum(ip)) != 0xFFFF:
            why = "ip"
        phdr = raw_sum(f[26:34]) + 6 + len(seg)
        if flags & NEEDS_CSUM:
            # The host completes it: the one's-complement sum from
            # csum_start to the end, stored at csum_offset.
            if cstart != 14 + ihl or coff != 16:
                why = why or "csum_start %d offset %d" % (cstart, coff)
            else:
                rest = raw_sum(seg[:16] + b"\0\0" + seg[18:])
                field = struct.unpack_from("!H", seg, 16)[0]
                if fold(rest + field) != fold(rest + phdr):
                    why = why or "partial sum"
            kind = "partial"
        else:
            if fold(raw_sum(seg) + phdr) != 0xFFFF:
                why = why or "tcp"
            kind = "full"
        if why:
            counts["bad"] += 1
            if len(counts["bad_what"]) < 5:
                counts["bad_what"].append(why)
            continue
        counts[kind] += 1
        doff = (seg[12] >> 4) * 4
        if kind == "partial" and len(seg) > doff:
            counts["partial_data"] += 1
    with open(out + ".tmp", "w") as f:
        json.dump(counts, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
