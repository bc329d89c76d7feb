#!/usr/bin/env python3
"""mcast.py — a market-data feed handler's multicast calls, for mcast_test.sh.

  recv GROUP PORT IFADDR NSOCK COUNT
      NSOCK sockets, each as a feed handler opens one: socket, SO_REUSEADDR,
      bind(('', PORT)), IP_ADD_MEMBERSHIP(GROUP, IFADDR). Prints "ready", then
      expects COUNT datagrams on every socket, each byte-exact (payload(i)),
      and prints "socket K: COUNT ok". Exit 0 when all sockets got all of them.
  send GROUP PORT IFADDR COUNT
      IP_MULTICAST_IF(IFADDR), IP_MULTICAST_TTL 1, COUNT datagrams payload(0..).
  query IFADDR [COUNT]
      COUNT (default 1) IGMPv3 General Queries to 224.0.0.1 from a raw socket
      (the peer as querier; many: a query flood).
"""
import selectors
import socket
import struct
import sys
import time


def payload(i):
    n = 1 + (i * 37) % 1200
    return struct.pack("!I", i) + bytes((i + k) & 0xFF for k in range(n))


def recv(group, port, ifaddr, nsock, count):
    socks = []
    for _ in range(nsock):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", port))
        mreq = socket.inet_aton(group) + socket.inet_aton(ifaddr)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        socks.append(s)
    print("ready", flush=True)
    # every socket served as data arrives (a poll loop, as a feed handler runs)
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


def send(group, port, ifaddr, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    for i in range(count):
        s.sendto(payload(i), (group, port))
        if i % 50 == 49:
            time.sleep(0.01)  # a feed's pace, not a flood: the receiver's buffer holds it
    print("sent %d" % count, flush=True)
    s.close()
    return 0


def query(ifaddr, count=1):
    """COUNT IGMPv3 General Queries (RFC 3376 4.1) to 224.0.0.1, Max Resp 1 s, as a querier sends them."""
    msg = bytearray(struct.pack("!BBH4sBBH", 0x11, 10, 0, bytes(4), 2, 125, 0))
    c = sum(struct.unpack("!%dH" % (len(msg) // 2), msg))
    c = (c & 0xFFFF) + (c >> 16)
    c = (c & 0xFFFF) + (c >> 16)
    struct.pack_into("!H", msg, 2, ~c & 0xFFFF)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    for _ in range(count):
        s.sendto(bytes(msg), ("224.0.0.1", 0))
    print("%d queries sent" % count, flush=True)
    return 0


def main():
    mode = sys.argv[1]
    if mode == "recv":
        return recv(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    if mode == "send":
        return send(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    if mode == "query":
        return query(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    print("usage: mcast.py recv|send|query ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
