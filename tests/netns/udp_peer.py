#!/usr/bin/python3
"""udp_peer.py — the kernel side of the integration tests (plain kernel sockets).

  udp_peer.py client IP PORT SIZES [--src IP]  send each size, expect it echoed
                                                byte-exact (3 tries, 2 s each)
  udp_peer.py server IP PORT SECONDS            echo every datagram until SECONDS pass
  udp_peer.py tcp-client IP PORT BYTES          send BYTES over TCP, check the echo by SHA-256
  udp_peer.py tcp-server IP PORT SECONDS [PAUSE] echo every TCP connection (a thread each);
                                                PAUSE: do not read for PAUSE seconds first
                                                (the sender meets a zero window)
  udp_peer.py tcp-refused IP PORT               expect ECONNREFUSED (a RST from a closed port)
Exit 0 when every echo came back intact (client) / the time ran out (server).
"""
import hashlib
import os
import socket
import sys
import threading
import time


def pattern(n, seed):
    return bytes(((i * 131 + seed * 7) ^ (i >> 8)) & 0xFF for i in range(n))


def client(ip, port, sizes, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    if src:
        s.bind((src, 0))
    s.settimeout(2.0)
    failures = 0
    for k, n in enumerate(sizes):
        out = pattern(n, k + 1)
        ok = False
        for attempt in range(3):
            t0 = time.monotonic()
            s.sendto(out, (ip, port))
            try:
                while True:
                    data, peer = s.recvfrom(65536)
                    if data == out and peer == (ip, port):
                        ok = True
                        break
            except socket.timeout:
                continue
            if ok:
                break
        rtt = (time.monotonic() - t0) * 1e6
        print(f"  {n:6d} bytes {'ok' if ok else 'FAILED'}"
              + (f"  rtt {rtt:.0f} us" if ok else "")
              + (f"  (attempt {attempt + 1})" if ok and attempt else ""))
        failures += not ok
    print(f"udp_peer client: {failures} failure(s)")
    return 1 if failures else 0


def server(ip, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((ip, port))
    end = time.monotonic() + seconds
    n = 0
    print("udp_peer server: ready", flush=True)
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            data, peer = s.recvfrom(65536)
        except socket.timeout:
            break
        s.sendto(data, peer)
        n += 1
    print(f"udp_peer server: echoed {n}")
    return 0


BLOCK = bytes(((i * 2654435761) >> 13 ^ (i >> 9)) & 0xFF for i in range(1 << 16))


def tcp_client(ip, port, total):
    s = socket.create_connection((ip, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    want, got = hashlib.sha256(), hashlib.sha256()
    received = [0]

    def reader():
        while True:
            d = s.recv(1 << 20)
            if not d:
                return
            got.update(d)
            received[0] += len(d)

    t = threading.Thread(target=reader)
    t.start()
    t0 = time.monotonic()
    sent = 0
    while sent < total:
        chunk = BLOCK[: min(len(BLOCK), total - sent)]
        s.sendall(chunk)
        want.update(chunk)
        sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    dt = time.monotonic() - t0
    s.close()
    ok = received[0] == total and want.digest() == got.digest()
    print(f"tcp client: sent {sent}, echoed {received[0]}, sha256 {'match' if ok else 'DIFFERS'}, "
          f"{total / dt / 1e6:.1f} MB/s each way")
    return 0 if ok else 1


def tcp_server(ip, port, seconds, pause=0.0):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(16)
    ls.settimeout(0.2)
    end = time.monotonic() + seconds
    print("tcp server: ready", flush=True)

    def echo(c):
        with c:
            if pause:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                time.sleep(pause)
            while True:
                d = c.recv(1 << 20)
                if not d:
                    c.shutdown(socket.SHUT_WR)
                    return
                c.sendall(d)

    while time.monotonic() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        c.settimeout(None)
        threading.Thread(target=echo, args=(c,), daemon=True).start()
    return 0


def tcp_refused(ip, port):
    try:
        socket.create_connection((ip, port), timeout=5).close()
    except ConnectionRefusedError:
        print("tcp: connection refused, as expected")
        return 0
    except OSError as e:
        print(f"tcp: {e}")
        return 1
    print("tcp: connected to a port that should be closed")
    return 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "client":
        src = argv[argv.index("--src") + 1] if "--src" in argv else None
        return client(argv[2], int(argv[3]), [int(x) for x in argv[4].split(",")], src)
    if len(argv) == 5 and argv[1] == "server":
        return server(argv[2], int(argv[3]), float(argv[4]))
    if len(argv) == 5 and argv[1] == "tcp-client":
        return tcp_client(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) in (5, 6) and argv[1] == "tcp-server":
        return tcp_server(argv[2], int(argv[3]), float(argv[4]), float(argv[5]) if len(argv) == 6 else 0.0)
    if len(argv) == 4 and argv[1] == "tcp-refused":
        return tcp_refused(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
