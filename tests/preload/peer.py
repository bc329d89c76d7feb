#!/usr/bin/python3
"""peer.py — kernel-side helpers for programs_test.sh (never run under the preload).

  peer.py echo ADDR PORT      TCP echo for one connection; prints "ready", then one
                              JSON line {"peer": [ip, port], "bytes": N, "sha256": H}
  peer.py accept ADDR PORT N  accepts N connections (20 s at most); prints "ready", then
                              one JSON line {"peers": [[ip, port], ...]}
  peer.py sniff IFACE MAX SECS
                              AF_PACKET capture of IPv4 on IFACE until MAX packets,
                              SECS seconds or SIGTERM; prints "ready", then one JSON
                              line {"flows": {"src>dst/proto": count}, "packets": N}
                              (a sample: it stops at MAX so it costs little CPU)
"""
import hashlib
import json
import select
import signal
import socket
import sys
import time


def echo(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(30)
    print("ready", flush=True)
    c, peer = ls.accept()
    c.settimeout(30)
    h, n = hashlib.sha256(), 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
        n += len(d)
        c.sendall(d)
    c.shutdown(socket.SHUT_WR)
    c.close()
    print(json.dumps({"peer": list(peer), "bytes": n, "sha256": h.hexdigest()}), flush=True)


def accept(addr, port, n):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(n)
    ls.settimeout(20)
    print("ready", flush=True)
    peers = []
    try:
        for _ in range(n):
            c, peer = ls.accept()
            peers.append(list(peer))
            c.close()
    except socket.timeout:
        pass
    print(json.dumps({"peers": peers}), flush=True)


def sniff(iface, maxp, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((iface, 0))
    s.setblocking(False)
    flows, n = {}, 0
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    print("ready", flush=True)
    end = time.monotonic() + secs
    names = {1: "icmp", 6: "tcp", 17: "udp"}
    while not stop[0] and n < maxp and time.monotonic() < end:
        try:
            r, _, _ = select.select([s], [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        while n < maxp:
            try:
                f = s.recv(128)
            except BlockingIOError:
                break
            if len(f) < 34:
                continue
            ip = f[14:]
            key = "%s>%s/%s" % (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]),
                                names.get(ip[9], str(ip[9])))
            flows[key] = flows.get(key, 0) + 1
            n += 1
    print(json.dumps({"flows": flows, "packets": n}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "accept":
        accept(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "sniff":
        sniff(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: peer.py echo ADDR PORT | accept ADDR PORT N | sniff IFACE MAX SECS")
