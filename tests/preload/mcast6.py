#!/usr/bin/env python3
"""mcast6.py — a feed handler's IPv6 multicast calls, for mcast6_test.sh.

  recv GROUP PORT IFNAME NSOCK COUNT [SOURCE]
      NSOCK sockets: socket(AF_INET6), SO_REUSEADDR, bind(('::', PORT)), then
      IPV6_JOIN_GROUP(GROUP, if_nametoindex(IFNAME)) — or, with SOURCE,
      MCAST_JOIN_SOURCE_GROUP(IFNAME, GROUP, SOURCE) (SSM, RFC 4607); IFNAME 0:
      interface index 0 (the route of the group chooses). Prints
      "ready", expects COUNT datagrams on every socket, byte-exact (payload(i)),
      prints "socket K: COUNT ok from ADDR". Exit 0 when all got all.
  send GROUP PORT IFNAME COUNT
      IPV6_MULTICAST_IF(IFNAME), IPV6_MULTICAST_HOPS 1, COUNT datagrams.
  query IFNAME [COUNT [GROUP]]
      COUNT (default 1) MLDv2 General Queries (RFC 3810 5.1) to ff02::1 — or
      Multicast Address Specific Queries for GROUP, sent to GROUP — from a raw
      ICMPv6 socket: hop limit 1, Router Alert in a Hop-by-Hop header, Max Resp
      1 s (the peer as querier; many: a query flood).
"""
import selectors
import socket
import struct
import sys
import time

MCAST_JOIN_SOURCE_GROUP = 46
IPV6_HOPOPTS = 54


def payload(i):
    n = 1 + (i * 37) % 1200
    return struct.pack("!I", i) + bytes((i * 3 + k) & 0xFF for k in range(n))


def sockaddr6(addr):
    raw = struct.pack("@H", socket.AF_INET6) + b"\0" * 6 + socket.inet_pton(socket.AF_INET6, addr) + b"\0" * 4
    return raw + b"\0" * (128 - len(raw))


def recv(group, port, ifname, nsock, count, source=None):
    idx = socket.if_nametoindex(ifname) if ifname != "0" else 0  # "0": the kernel's route picks
    socks = []
    for _ in range(nsock):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        if source:
            gsr = struct.pack("@I", idx) + b"\0" * 4 + sockaddr6(group) + sockaddr6(source)
            s.setsockopt(socket.IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, gsr)
        else:
            mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", idx)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        socks.append(s)
    print("ready", flush=True)
    sel = selectors.DefaultSelector()
    for k, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, k)
    got = [0] * nsock
    bad = [False] * nsock
    src = [None] * nsock
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(got[k] < count and not bad[k] for k in range(nsock)):
        for key, _ in sel.select(timeout=1):
            k = key.data
            try:
                data, src[k] = key.fileobj.recvfrom(2048)
            except BlockingIOError:
                continue
            i = struct.unpack("!I", data[:4])[0]
            if data != payload(i):
                print("socket %d: datagram %d differs (%d bytes from %s)" % (k, i, len(data), src[k]), flush=True)
                bad[k] = True
            elif got[k] < count:
                got[k] += 1
    ok = True
    for k in range(nsock):
        if got[k] == count and not bad[k]:
            print("socket %d: %d ok from %s" % (k, got[k], src[k][0]), flush=True)
        else:
            print("socket %d: %d of %d" % (k, got[k], count), flush=True)
            ok = False
    for s in socks:
        s.close()
    return 0 if ok else 1


def send(group, port, ifname, count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(ifname))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
    for i in range(count):
        s.sendto(payload(i), (group, port))
        if i % 50 == 49:
            time.sleep(0.01)  # a feed's pace: the receiver's buffer holds it
    print("sent %d" % count, flush=True)
    s.close()
    return 0


def link_local(ifname):
    """ifname's link-local address (/proc/net/if_inet6: scope 0x20)."""
    with open("/proc/net/if_inet6") as f:
        for line in f:
            a, _, _, scope, _, name = line.split()
            if name == ifname and int(scope, 16) == 0x20:
                return socket.inet_ntop(socket.AF_INET6, bytes.fromhex(a))
    return None


def query(ifname, count=1, group=None):
    idx = socket.if_nametoindex(ifname)
    # type 130, code 0, checksum (the kernel's), Max Resp Code 1000 ms, reserved,
    # group (:: for a General Query), S/QRV 2, QQIC 125, no sources (RFC 3810 5.1)
    gbytes = socket.inet_pton(socket.AF_INET6, group) if group else bytes(16)
    msg = struct.pack("!BBHHH16sBBH", 130, 0, 0, 1000, 0, gbytes, 2, 125, 0)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    # Hop-by-Hop: next header (the kernel's), length 0, Router Alert 0 (MLD), PadN 2
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, bytes([0, 0, 5, 2, 0, 0, 1, 0]))
    ll = link_local(ifname)
    if ll:  # queries come from a link-local address (RFC 3810 5.1.14), whatever the group's scope
        s.bind((ll, 0, 0, idx))
    for _ in range(count):
        s.sendto(msg, (group or "ff02::1", 0, 0, idx))
    print("%d queries sent" % count, flush=True)
    return 0


def main():
    mode = sys.argv[1]
    if mode == "recv":
        return recv(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
                    sys.argv[7] if len(sys.argv) > 7 else None)
    if mode == "send":
        return send(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    if mode == "query":
        return query(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1,
                     sys.argv[4] if len(sys.argv) > 4 else None)
    print("usage: mcast6.py recv|send|query ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
