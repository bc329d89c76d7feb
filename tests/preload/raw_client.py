#!/usr/bin/env python3
"""raw_client.py — raw IP and ICMP ping socket clients for raw_test.sh, written
with nothing but Python's socket module (run under the preload on skiff, or on
the kernel). Each mode prints one JSON line; the shell script checks it.

  echo DST       SOCK_RAW/IPPROTO_ICMP, ICMP_FILTER for replies only: 3 echo
                 requests, the replies as Linux gives them (with the IP header)
  hdrincl DST    the same socket with IP_HDRINCL: the IP header is ours, with
                 source, id, length and checksum 0 for the stack to fill
  pingerr DST    SOCK_DGRAM/IPPROTO_ICMP with IP_RECVERR to an address nobody
                 answers: POLLERR, then MSG_ERRQUEUE's sock_extended_err
  listen SECS N  SOCK_RAW/IPPROTO_ICMP: count the echo requests addressed to
                 us (a kernel host pinging skiff) until N or SECS
"""
import json
import os
import select
import socket
import struct
import sys
import time

ICMP_FILTER = 1
SOL_RAW = 255
IP_RECVERR = 11
SO_EE_ORIGIN_ICMP = 2


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_req(ident, seq, payload=b"skiff-raw-test"):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    c = csum(h)
    return h[:2] + struct.pack("!H", c) + h[4:]


def parse_reply(data):
    """A reply as a raw IPv4 socket gives it: (src, ttl, type, id, seq) or None."""
    if len(data) < 28 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 15) * 4
    if data[9] != socket.IPPROTO_ICMP or len(data) < ihl + 8:
        return None
    t, _, _, ident, seq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
    return socket.inet_ntoa(data[12:16]), data[8], t, ident, seq


def mode_echo(dst, hdrincl=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", ~(1 << 0) & 0xFFFFFFFF))  # replies only
    if hdrincl:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    s.settimeout(2.0)
    ident = os.getpid() & 0xFFFF
    out = {"sent": 0, "replies": 0, "with_header": 0, "src": None, "ttl": None,
           "hdrincl": bool(s.getsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL)),
           "filter": struct.unpack("I", s.getsockopt(SOL_RAW, ICMP_FILTER, 4))[0]}
    for seq in range(1, 4):
        icmp = echo_req(ident, seq)
        if hdrincl:
            # version/IHL, TOS, total length 0, id 0, DF, TTL 33, ICMP, checksum 0, source 0
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 33, 1, 0, b"\0\0\0\0",
                             socket.inet_aton(dst))
            out["sent"] += s.sendto(ip + icmp, (dst, 0)) > 0
        else:
            out["sent"] += s.sendto(icmp, (dst, 0)) == len(icmp)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                data, addr = s.recvfrom(2048)
            except socket.timeout:
                break
            r = parse_reply(data)
            if not r or r[2] != 0 or r[3] != ident or r[4] != seq:
                continue
            out["replies"] += 1
            out["with_header"] += data[0] == 0x45 and addr[0] == r[0]
            out["src"], out["ttl"] = r[0], r[1]
            break
    print(json.dumps(out), flush=True)


def mode_pingerr(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    out = {"sent": s.sendto(echo_req(0, 1), (dst, 0)), "pollerr": False}
    p = select.poll()
    p.register(s, select.POLLIN)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        ev = p.poll(500)
        if ev and ev[0][1] & select.POLLERR:
            out["pollerr"] = True
            break
    if out["pollerr"]:
        try:
            s.recv(64, socket.MSG_DONTWAIT)
        except OSError as e:  # the pending error first (sk_err), as Linux
            out["recv_errno"] = e.errno
        data, anc, flags, addr = s.recvmsg(512, 1024, socket.MSG_ERRQUEUE)
        out["flags_errqueue"] = bool(flags & socket.MSG_ERRQUEUE)
        out["addr"] = addr[0]
        out["quoted_type"] = data[0] if data else None
        for level, typ, cd in anc:
            if level == socket.IPPROTO_IP and typ == IP_RECVERR and len(cd) >= 16:
                ee_errno, origin, t, code, _pad, info, _data = struct.unpack("=IBBBBII", cd[:16])
                out.update(errno=ee_errno, origin=origin, type=t, code=code)
                if len(cd) >= 16 + 8:
                    out["offender"] = socket.inet_ntoa(cd[16 + 4:16 + 8])
    print(json.dumps(out), flush=True)


def mode_listen(secs, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    # make the socket skiff's: the first sendto decides (a reply-less probe to the peer is harmless)
    s.sendto(echo_req(1, 1), ("198.18.0.1", 0))
    print("ready", flush=True)
    got, srcs = 0, {}
    end = time.monotonic() + secs
    while got < n and time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        data = s.recv(2048)
        p = parse_reply(data)
        if p and p[2] == 8:
            got += 1
            srcs[p[0]] = srcs.get(p[0], 0) + 1
    print(json.dumps({"requests": got, "srcs": srcs}), flush=True)


if __name__ == "__main__":
    m = sys.argv[1]
    if m == "echo":
        mode_echo(sys.argv[2])
    elif m == "hdrincl":
        mode_echo(sys.argv[2], hdrincl=True)
    elif m == "pingerr":
        mode_pingerr(sys.argv[2])
    elif m == "listen":
        mode_listen(float(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)
