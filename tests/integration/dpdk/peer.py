#!/usr/bin/python3
"""peer.py — the Linux kernel side of the dpdk driver test.

send: UDP datagrams from a fixed source port, payload i of size s is
      pattern(i, s) (driver_test.c builds the same bytes to compare).
recv: prints "ready", then every IPv4/UDP frame to --port that arrives on
      --iface (AF_PACKET, as on the wire: "frame <hex>") and every payload the
      kernel's UDP socket accepts (so its checksum verified: "payload <hex>"),
      until --count of each or --timeout; then "done <frames> <payloads>".
Stdlib only; every loop is bounded by count and time.
"""
import argparse
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def pattern(tag, size):
    return bytes(((tag * 31) + j * 7 + 1) & 0xFF for j in range(size))


def cmd_send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", a.src_port))
    for i, size in enumerate(int(x) for x in a.sizes.split(",")):
        s.sendto(pattern(i, size), (a.dst, a.dst_port))
    s.close()
    return 0


def udp_dport(frame):
    """Destination port of an IPv4/UDP frame (optional 802.1Q tag), else None."""
    off = 14
    if len(frame) < off:
        return None
    etype = struct.unpack_from("!H", frame, 12)[0]
    if etype == 0x8100 and len(frame) >= 18:
        etype = struct.unpack_from("!H", frame, 16)[0]
        off = 18
    if etype != 0x0800 or len(frame) < off + 20 or frame[off + 9] != 17:
        return None
    ihl = (frame[off] & 0x0F) * 4
    if len(frame) < off + ihl + 8:
        return None
    return struct.unpack_from("!H", frame, off + ihl + 2)[0]


def cmd_recv(a):
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    ps.bind((a.iface, 0))
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("0.0.0.0", a.port))
    print("ready", flush=True)
    frames = payloads = 0
    deadline = time.monotonic() + a.timeout
    while frames < a.count or payloads < a.count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([ps, us], [], [], left)
        if ps in ready:
            data, addr = ps.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING and udp_dport(data) == a.port:
                frames += 1
                print("frame", data.hex(), flush=True)
        if us in ready:
            data = us.recv(65535)
            payloads += 1
            print("payload", data.hex(), flush=True)
    print("done", frames, payloads, flush=True)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--dst", required=True)
    s.add_argument("--dst-port", type=int, required=True)
    s.add_argument("--src-port", type=int, required=True)
    s.add_argument("--sizes", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--iface", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--timeout", type=float, default=5.0)
    a = p.parse_args()
    return cmd_send(a) if a.cmd == "send" else cmd_recv(a)


if __name__ == "__main__":
    sys.exit(main())
