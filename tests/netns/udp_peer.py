#!/usr/bin/python3
"""udp_peer.py — the kernel side of the integration tests (plain kernel sockets).

  udp_peer.py client IP PORT SIZES [--src IP]  send each size, expect it echoed
                                                byte-exact (3 tries, 2 s each)
  udp_peer.py server IP PORT SECONDS            echo every datagram until SECONDS pass
Exit 0 when every echo came back intact (client) / the time ran out (server).
"""
import socket
import sys
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


def main(argv):
    if len(argv) >= 5 and argv[1] == "client":
        src = argv[argv.index("--src") + 1] if "--src" in argv else None
        return client(argv[2], int(argv[3]), [int(x) for x in argv[4].split(",")], src)
    if len(argv) == 5 and argv[1] == "server":
        return server(argv[2], int(argv[3]), float(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
