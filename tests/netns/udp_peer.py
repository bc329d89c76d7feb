#!/usr/bin/python3
"""udp_peer.py — the kernel side of the integration tests (plain kernel sockets).

  udp_peer.py client IP PORT SIZES [--src IP]  send each size, expect it echoed
                                                byte-exact (3 tries, 2 s each)
  udp_peer.py server IP PORT SECONDS            echo every datagram until SECONDS pass
  udp_peer.py tcp-client IP PORT BYTES          send BYTES over TCP while a thread reads the echo,
                                                half-close (SHUT_WR) after the last byte, then
                                                expect the rest of the echo and EOF; SHA-256
  udp_peer.py tcp-halfclose IP PORT BYTES       send BYTES, SHUT_WR before reading anything, then
                                                expect all BYTES echoed and EOF (the peer sends
                                                after it got our FIN)
  udp_peer.py tcp-keepalive-client IP PORT IDLE BYTES
                                                connect with SO_KEEPALIVE, TCP_KEEPIDLE 1,
                                                TCP_KEEPINTVL 1, TCP_KEEPCNT 3; stay idle IDLE s
                                                (the kernel probes; unanswered, it would drop the
                                                connection after ~4 s); expect >= 3 probes sent
                                                (TcpExt TCPKeepAlive), the connection alive; then
                                                as tcp-client with BYTES
  udp_peer.py tcp-server IP PORT SECONDS [PAUSE] echo every TCP connection (a thread each);
                                                PAUSE: do not read for PAUSE seconds first
                                                (the sender meets a zero window)
  udp_peer.py tcp-refused IP PORT               expect ECONNREFUSED (a RST from a closed port)
Exit 0 when every echo came back intact (client) / the time ran out (server).
"""
import hashlib
import os
import socket
import struct
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


def tcp_echo(s, total, label="tcp client"):
    """Send total bytes on s while a thread reads the echo; SHUT_WR after the last
    byte; the rest of the echo and then EOF must follow. True when all came back."""
    want, got = hashlib.sha256(), hashlib.sha256()
    received = [0]
    state = {"eof": False, "err": None}

    def reader():
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    state["eof"] = True
                    return
                got.update(d)
                received[0] += len(d)
        except OSError as e:
            state["err"] = e

    t = threading.Thread(target=reader)
    t.start()
    t0 = time.monotonic()
    sent = 0
    try:
        while sent < total:
            chunk = BLOCK[: min(len(BLOCK), total - sent)]
            s.sendall(chunk)
            want.update(chunk)
            sent += len(chunk)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        state["err"] = state["err"] or e
    at_shut = received[0]
    t.join(120)
    dt = time.monotonic() - t0
    s.close()
    ok = received[0] == total and want.digest() == got.digest() and state["eof"]
    # one write: several clients may share one output file
    print(f"{label}: sent {sent}, echoed {received[0]}, sha256 {'match' if want.digest() == got.digest() else 'DIFFERS'}, "
          f"{total / dt / 1e6:.1f} MB/s each way\n"
          f"{label}: half-close: SHUT_WR after {sent} bytes sent with {at_shut} echoed by then; "
          f"then {received[0] - at_shut} more and {'EOF' if state['eof'] else 'NO EOF'}"
          f"{' (error: ' + str(state['err']) + ')' if state['err'] else ''}: {'ok' if ok else 'FAILED'}", flush=True)
    return ok


def tcp_client(ip, port, total):
    s = socket.create_connection((ip, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return 0 if tcp_echo(s, total) else 1


def tcp_halfclose(ip, port, total):
    s = socket.create_connection((ip, port), timeout=30)
    data = (BLOCK * (total // len(BLOCK) + 1))[:total]
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = bytearray()
    eof = False
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                eof = True
                break
            got += d
    except OSError as e:
        print(f"tcp half-close: {e}")
    s.close()
    ok = eof and bytes(got) == data
    print(f"tcp half-close: sent {total} bytes, SHUT_WR before reading any echo; then read {len(got)} bytes "
          f"({'equal' if bytes(got) == data else 'DIFFERENT'}) and {'EOF' if eof else 'NO EOF'}: "
          f"{'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


def netstat(name):
    """A TcpExt counter of this network namespace (/proc/net/netstat)."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for head, vals in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            return dict(zip(head.split()[1:], map(int, vals.split()[1:]))).get(name, 0)
    return 0


def tcp_keepalive_client(ip, port, idle, total):
    s = socket.create_connection((ip, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    k0 = netstat("TCPKeepAlive")
    time.sleep(idle)
    probes = netstat("TCPKeepAlive") - k0
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    state, outstanding = info[0], info[3]  # tcpi_state, tcpi_probes (unanswered so far)
    last_ack_ms = struct.unpack_from("I", info, 56)[0]  # tcpi_last_ack_recv
    alive = err == 0 and state == 1  # TCP_ESTABLISHED
    print(f"tcp keepalive: {idle:g} s idle: the kernel sent {probes} keepalive probe(s) (TcpExt TCPKeepAlive), "
          f"{outstanding} unanswered now, last ACK from the peer {last_ack_ms} ms ago; connection "
          f"{'alive' if alive else 'DEAD (' + (os.strerror(err) if err else f'state {state}') + ')'}")
    if not alive or probes < 3:
        if probes < 3:
            print("tcp keepalive: want at least 3 probes")
        s.close()
        return 1
    return 0 if tcp_echo(s, total, "tcp keepalive client") else 1


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
    if len(argv) == 5 and argv[1] == "tcp-halfclose":
        return tcp_halfclose(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) == 6 and argv[1] == "tcp-keepalive-client":
        return tcp_keepalive_client(argv[2], int(argv[3]), float(argv[4]), int(argv[5]))
    if len(argv) in (5, 6) and argv[1] == "tcp-server":
        return tcp_server(argv[2], int(argv[3]), float(argv[4]), float(argv[5]) if len(argv) == 6 else 0.0)
    if len(argv) == 4 and argv[1] == "tcp-refused":
        return tcp_refused(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
