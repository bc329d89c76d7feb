#!/usr/bin/python3
"""tcp_probe.py — wire-level helpers for tcp_test.sh, run in the kernel's namespace.

  tcp_probe.py keepalive-sniff IFACE PORT PROBER SECONDS [--answered-min N] [--unanswered N] [--rst]
      Watch the TCP connection(s) on PORT at IFACE (an AF_PACKET socket: it sees
      both directions, and frames before tc ingress drops them). A keepalive probe
      is a segment from PROBER (an IPv4 address) without SYN/FIN/RST, with 0 or 1
      byte, whose sequence number is the highest PROBER has sent minus one
      (RFC 9293 3.8.4: SEG.SEQ = SND.NXT-1); it is answered when the other side
      then ACKs PROBER's SND.NXT before PROBER sends anything else. Prints "ready"
      once capturing; stops after SECONDS, once both sides sent FIN, or just after
      a RST. Expectations: at least N answered probes; exactly N unanswered ones;
      PROBER ended the connection with a RST after them.
  tcp_probe.py syn-flood DST PORT COUNT SECONDS
      Send COUNT SYNs (or until SECONDS pass) as fast as a raw IP socket takes them
      to DST:PORT, each from a random source address in 198.18.0.10-198.18.0.250
      (never the test's own .1/.2/.3) and a random port, random ISN, MSS option.
      Prints "flooding" after the first one, then what was sent and the rate.
Exit 0 when the expectations hold, 1 otherwise, 2 bad usage.
"""
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def parse(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload length) of an IPv4/TCP frame, or None."""
    if len(frame) < 14 + 20 + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != 6 or len(ip) < ihl + 20:
        return None
    total = struct.unpack_from("!H", ip, 2)[0]  # not the frame length: short frames are padded
    sport, dport, seq, ack, off, flags = struct.unpack_from("!HHIIBB", ip, ihl)
    plen = total - ihl - (off >> 4) * 4
    return socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), sport, dport, seq, ack, flags, plen


def keepalive_sniff(iface, port, prober, seconds, answered_min, unanswered_want, rst_want):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: keep up with a transfer's burst
    s.bind((iface, 0))
    s.settimeout(0.1)
    print(f"keepalive-sniff: ready on {iface} port {port}", flush=True)
    conns = {}  # (prober port, other addr, other port) -> state
    end = time.monotonic() + seconds
    stop_at = None
    while time.monotonic() < min(end, stop_at or end):
        try:
            frame = s.recv(65600)
        except socket.timeout:
            continue
        p = parse(frame)
        if not p:
            continue
        src, dst, sport, dport, seq, ack, flags, plen = p
        if port not in (sport, dport) or prober not in (src, dst):
            continue
        from_prober = src == prober
        key = (sport, dst, dport) if from_prober else (dport, src, sport)
        c = conns.setdefault(key, {"nxt": None, "pending": False, "probes": 0, "answered": 0,
                                   "unanswered": 0, "fin": set(), "rst": None, "t_probe": []})
        if from_prober:
            end_seq = (seq + plen + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)) & 0xFFFFFFFF
            if (c["nxt"] is not None and not flags & (SYN | FIN | RST) and plen <= 1
                    and seq == (c["nxt"] - 1) & 0xFFFFFFFF):
                if c["pending"]:
                    c["unanswered"] += 1
                c["probes"] += 1
                c["pending"] = True
                c["t_probe"].append(time.monotonic())
                continue
            if c["pending"]:  # anything else from the prober ends the wait for an answer
                c["unanswered"] += 1
                c["pending"] = False
            if c["nxt"] is None or (end_seq - c["nxt"]) & 0x80000000 == 0:
                c["nxt"] = end_seq
        elif c["pending"] and flags & ACK and ack == c["nxt"]:
            c["answered"] += 1
            c["pending"] = False
        if flags & FIN:
            c["fin"].add(from_prober)
            if len(c["fin"]) == 2 and stop_at is None:
                stop_at = time.monotonic() + 0.3
        if flags & RST:
            c["rst"] = "prober" if from_prober else "peer"
            if stop_at is None:
                stop_at = time.monotonic() + 0.3
    ok = bool(conns)
    if not conns:
        print(f"keepalive-sniff: no connection on port {port} with {prober} seen")
    for (pport, other, oport), c in conns.items():
        if c["pending"]:
            c["unanswered"] += 1
        gaps = [f"{b - a:.1f}" for a, b in zip(c["t_probe"], c["t_probe"][1:])]
        print(f"keepalive: {prober}:{pport} -> {other}:{oport}: {c['probes']} probe(s) "
              f"({c['answered']} answered, {c['unanswered']} unanswered; gaps {','.join(gaps) or '-'} s)"
              f"{', then a RST from the ' + c['rst'] if c['rst'] else ''}")
        if answered_min is not None and c["answered"] < answered_min:
            print(f"keepalive: want at least {answered_min} answered probe(s)")
            ok = False
        if answered_min is not None and c["unanswered"]:
            print("keepalive: want every probe answered")
            ok = False
        if unanswered_want is not None and c["unanswered"] != unanswered_want:
            print(f"keepalive: want exactly {unanswered_want} unanswered probe(s)")
            ok = False
        if rst_want and c["rst"] != "prober":
            print("keepalive: want the prober to end the connection with a RST")
            ok = False
    return 0 if ok else 1


def csum(data):
    if len(data) & 1:
        data += b"\0"
    t = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def syn_flood(dst, port, count, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    rnd = random.Random()
    d = socket.inet_aton(dst)
    srcs = [socket.inet_aton(f"198.18.0.{i}") for i in range(10, 251)]
    used = set()
    sent = blocked = 0
    t0 = time.monotonic()
    end = t0 + seconds
    while sent < count and time.monotonic() < end:
        src = srcs[rnd.randrange(len(srcs))]
        opts = struct.pack("!BBH", 2, 4, 1460)
        tcp = struct.pack("!HHIIBBHHH", rnd.randrange(1024, 65536), port, rnd.getrandbits(32), 0,
                          6 << 4, SYN, 64240, 0, 0) + opts
        c = csum(src + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        # the kernel fills in the IP id and checksum (IP_HDRINCL with both 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, d)
        try:
            s.sendto(ip + tcp, (dst, 0))
        except OSError:  # ENOBUFS: the qdisc is full for a moment
            blocked += 1
            time.sleep(0.0005)
            continue
        sent += 1
        used.add(src)
        if sent == 1:
            print("syn flood: flooding", flush=True)
    dt = time.monotonic() - t0
    print(f"syn flood: sent {sent} SYN(s) from {len(used)} spoofed address(es) in 198.18.0.0/24 to {dst}:{port} "
          f"in {dt:.2f} s ({sent / dt:.0f}/s){f', {blocked} send(s) refused (ENOBUFS)' if blocked else ''}")
    return 0 if sent else 1


def main(argv):
    if len(argv) >= 6 and argv[1] == "keepalive-sniff":
        rest = argv[6:]
        amin = unans = None
        rst = False
        while rest:
            if rest[0] == "--answered-min" and len(rest) > 1:
                amin, rest = int(rest[1]), rest[2:]
            elif rest[0] == "--unanswered" and len(rest) > 1:
                unans, rest = int(rest[1]), rest[2:]
            elif rest[0] == "--rst":
                rst, rest = True, rest[1:]
            else:
                print(__doc__, file=sys.stderr)
                return 2
        return keepalive_sniff(argv[2], int(argv[3]), argv[4], float(argv[5]), amin, unans, rst)
    if len(argv) == 6 and argv[1] == "syn-flood":
        return syn_flood(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
