#!/usr/bin/env python3
"""ip6_apps.py ROLE ARGS — IPv6 programs for ip6_test.sh, written as Python's
socket documentation shows them (AF_INET6 addresses are 4-tuples (host, port,
flowinfo, scope_id)); the same code runs on the kernel and under `skiff run`.

  udp-server HOST PORT COUNT   echo COUNT datagrams (HOST '::' is dual stack);
                               prints 'ready', then each sender's address
  udp-client HOST PORT COUNT [IFNAME]
                               COUNT datagrams of 1..1400 bytes and three of
                               2000..6000 (fragmented), each echoed byte-exact;
                               IFNAME: HOST is link-local, scope_id from it
  udp4-client HOST PORT        one IPv4 datagram to a dual-stack server
  pmtu-client HOST PORT SIZE TRIES
                               SIZE-byte datagrams until one is echoed (the
                               first may die on a smaller link: PTB)
  sockopts HOST                IPV6_V6ONLY, hop limits, tclass, names
  tcp-server HOST PORT N       accept N connections in turn, echo each to EOF;
                               prints each peer
  tcp-client HOST PORT SIZE [IFNAME]
                               SIZE bytes out, the echo back byte-exact (sha256),
                               while reading; prints the local and peer names
"""
import socket
import sys


def fail(msg):
    print("FAIL", msg, flush=True)
    sys.exit(1)


def pattern(n, seed):
    return bytes((i * 31 + seed * 7 + 5) & 0xFF for i in range(n))


def udp_server(host, port, count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    s.settimeout(30)
    print("ready", flush=True)
    seen = set()
    for _ in range(int(count)):
        data, addr = s.recvfrom(65535)
        if addr[0] not in seen:
            seen.add(addr[0])
            print("from", addr, flush=True)
        s.sendto(data, addr)
    print("served", count, flush=True)


def udp_client(host, port, count, ifname=None):
    scope = socket.if_nametoindex(ifname) if ifname else 0
    dst = (host, int(port), 0, scope)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(3)
    sizes = [1 + (i * 97) % 1400 for i in range(int(count))] + [2000, 4000, 6000]
    for i, n in enumerate(sizes):
        msg = pattern(n, i)
        for attempt in range(5):
            s.sendto(msg, dst)
            try:
                data, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if data != msg:
                fail("datagram %d: %d bytes back, %d sent, or different" % (i, len(data), n))
            if addr[0].split("%")[0] != host.split("%")[0] or addr[1] != int(port):
                fail("reply from %r" % (addr,))
            if ifname and addr[3] != scope:
                fail("reply scope_id %d, want %d" % (addr[3], scope))
            break
        else:
            fail("datagram %d (%d bytes): no echo" % (i, n))
    name = s.getsockname()
    print("client", name, flush=True)
    print("echoed", len(sizes), flush=True)


def udp4_client(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"over ipv4", (host, int(port)))
    data, addr = s.recvfrom(100)
    if data != b"over ipv4" or addr != (host, int(port)):
        fail("v4 echo %r from %r" % (data, addr))
    print("echoed v4", flush=True)


def pmtu_client(host, port, size, tries):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(1)
    msg = pattern(int(size), 3)
    for t in range(int(tries)):
        s.sendto(msg, (host, int(port)))
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError as e:  # EMSGSIZE from the PTB on a connected socket: retry
            print("error", e.errno, flush=True)
            continue
        if data == msg:
            print("echoed after", t + 1, flush=True)
            return
        fail("different echo")
    fail("never echoed")


def sockopts(host):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    if s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) != 0:
        fail("V6ONLY default")
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 7)
    s.bind((host, 0))  # skiff's address: the socket is skiff's from here, options replayed
    if s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) != 1:
        fail("V6ONLY kept")
    if s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS) != 7:
        fail("hop limit kept")
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, -1)
    if s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS) != 64:
        fail("hop limit default")
    for bad in (256, -2):
        try:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, bad)
            fail("hop limit %d accepted" % bad)
        except OSError as e:
            if e.errno != 22:
                fail("hop limit %d: errno %d" % (bad, e.errno))
    if s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) != socket.AF_INET6:
        fail("SO_DOMAIN")
    try:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        fail("V6ONLY after bind accepted")
    except OSError as e:
        if e.errno != 22:
            fail("V6ONLY after bind: errno %d" % e.errno)
    name = s.getsockname()
    if len(name) != 4 or name[0] != host or name[1] == 0:
        fail("getsockname %r" % (name,))
    try:
        s.connect(("::ffff:198.18.0.1", 9))
        fail("v4-mapped connect on a V6ONLY socket accepted")
    except OSError as e:
        if e.errno not in (101, 97):
            fail("v4-mapped connect: errno %d" % e.errno)
    print("sockopts ok", flush=True)


def tcp_server(host, port, n):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(4)
    s.settimeout(60)
    print("ready", flush=True)
    for _ in range(int(n)):
        c, addr = s.accept()
        print("peer", addr, flush=True)
        c.settimeout(30)
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
    print("served", n, flush=True)


def tcp_client(host, port, size, ifname=None):
    import hashlib
    import threading
    scope = socket.if_nametoindex(ifname) if ifname else 0
    s = socket.create_connection(("%s%%%s" % (host, ifname) if scope else host, int(port)), timeout=30)
    print("local", s.getsockname(), "peer", s.getpeername(), flush=True)
    size = int(size)
    data = bytes((i * 131 + 7) & 0xFF for i in range(min(size, 1 << 16))) * (size // (1 << 16) + 1)
    data = data[:size]
    got = hashlib.sha256()
    n = [0]

    def reader():
        while n[0] < size:
            d = s.recv(65536)
            if not d:
                break
            got.update(d)
            n[0] += len(d)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(60)
    if n[0] != size or got.hexdigest() != hashlib.sha256(data).hexdigest():
        fail("echo of %d bytes: %d back or different" % (size, n[0]))
    print("tcp echoed", size, flush=True)


ROLES = {
    "udp-server": udp_server,
    "udp-client": udp_client,
    "udp4-client": udp4_client,
    "pmtu-client": pmtu_client,
    "sockopts": sockopts,
    "tcp-server": tcp_server,
    "tcp-client": tcp_client,
}

if __name__ == "__main__":
    ROLES[sys.argv[1]](*sys.argv[2:])
