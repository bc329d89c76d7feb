#!/usr/bin/python3
"""packet_capture.py — AF_PACKET on a bypass interface, for packet_test.sh.

Run under the preload (skiff's stack is per process: a capture sees the frames
of its own process, so every mode here carries its own UDP and TCP traffic):

  packet_capture.py sock IFACE LOCAL PEER PORT OUT.json
      an AF_PACKET SOCK_RAW ETH_P_ALL socket bound to IFACE (+ PACKET_AUXDATA, a
      classic BPF "ip and (udp or tcp)" filter), a SOCK_DGRAM ETH_P_IP one beside
      it; UDP echo (20 datagrams) and one TCP echo connection to PEER:PORT from
      LOCAL on skiff; then a whole UDP frame sent on the RAW socket to PEER:PORT+1.
      Writes {"frames": [[pkttype, hex], ...], "dgram": [[pkttype, hex], ...],
      "stats": [packets, drops], "sent_raw": hex, "auxdata": n, "name": [...]}
  packet_capture.py ring IFACE LOCAL PEER PORT OUT.json
      a TPACKET_V3 PACKET_RX_RING mapped and walked as libpcap does, same traffic
  packet_capture.py pcap IFACE LOCAL PEER PORT OUT.pcap
      libpcap itself (ctypes: pcap_create/activate/compile/setfilter/dispatch/
      dump) in this process, filter "udp or tcp", same traffic, a pcap file out

Kernel side (never under the preload):
  packet_capture.py peer ADDR PORT   UDP echo on PORT, TCP echo on PORT, UDP sink
                                     on PORT+1 printing what it got; "ready" first
"""
import ctypes
import json
import mmap
import os
import select
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8
PACKET_VERSION = 10
PACKET_RX_RING = 5
TPACKET_V3 = 2
TP_STATUS_USER = 1
SO_ATTACH_FILTER = 26

# "ip and (udp or tcp)" on a SOCK_RAW view (tcpdump -dd style)
BPF_IP_UDP_TCP = [
    (0x28, 0, 0, 12),        # ldh [12]
    (0x15, 0, 4, 0x0800),    # jeq #0x800 else drop
    (0x30, 0, 0, 23),        # ldb [23]
    (0x15, 1, 0, 17),        # jeq #17 → accept
    (0x15, 0, 1, 6),         # jeq #6 → accept else drop
    (0x06, 0, 0, 262144),    # ret #262144
    (0x06, 0, 0, 0),         # ret #0
]


def attach_filter(s, prog):
    buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    return buf  # keep alive until the call returned (the stack copied it)


def traffic(local, peer, port, n_udp=20, tcp_bytes=20000):
    """UDP echo and one TCP echo through skiff; returns what came back."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((local, 0))
    u.settimeout(3)
    got = 0
    for i in range(n_udp):
        msg = ("udp %d " % i).encode() + bytes(range(i * 7 % 256)) if i else b"first"
        u.sendto(msg, (peer, port))
        try:
            d, _ = u.recvfrom(4096)
            got += d == msg
        except socket.timeout:
            pass
    u.close()
    t = socket.create_connection((peer, port), timeout=5, source_address=(local, 0))
    data = bytes((i * 31) % 251 for i in range(tcp_bytes))
    t.sendall(data)
    t.shutdown(socket.SHUT_WR)
    back = b""
    while True:
        d = t.recv(65536)
        if not d:
            break
        back += d
    t.close()
    return got, back == data


def is_ipv4_l4(frame):
    return len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[23] in (6, 17)


def drain(s, secs, keep, use_epoll=False):
    out = []
    end = time.monotonic() + secs
    ep = select.epoll() if use_epoll else None
    if ep:
        ep.register(s.fileno(), select.EPOLLIN)
    while time.monotonic() < end:
        r = ep.poll(0.2) if ep else select.select([s], [], [], 0.2)[0]
        if not r:
            continue
        while True:
            try:
                d, aux, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(20), socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            keep(d, aux, flags, addr, out)
    return out


def mode_sock(iface, local, peer, port, out):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.bind((iface, 0))
    raw.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    attach_filter(raw, BPF_IP_UDP_TCP)
    dg = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    dg.bind((iface, ETH_P_IP))  # Python applies htons itself
    name = raw.getsockname()
    udp_ok, tcp_ok = traffic(local, peer, port)
    time.sleep(0.5)  # the last ACKs and FINs
    auxn = [0]

    def keep_raw(d, aux, flags, addr, acc):
        for lvl, typ, data in aux:
            if lvl == SOL_PACKET and typ == PACKET_AUXDATA:
                st, ln, snap = struct.unpack_from("III", data)
                auxn[0] += ln == len(d) and snap == len(d)
        acc.append([addr[2], d.hex()])

    frames = drain(raw, 1.0, keep_raw)
    dgram = drain(dg, 0.5, lambda d, aux, fl, addr, acc: acc.append([addr[2], d.hex()]), use_epoll=True)
    stats = struct.unpack("II", raw.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    # a whole frame sent on the RAW socket: UDP from LOCAL to PEER:PORT+1, MACs from the capture
    ours = next(bytes.fromhex(h) for t, h in frames if t == socket.PACKET_OUTGOING)
    payload = b"raw frame from skiff"
    frame = raw_udp_frame(ours[0:6], ours[6:12], local, peer, 40000, port + 1, payload)
    sent = raw.send(frame)
    json.dump({"frames": frames, "dgram": dgram, "stats": list(stats), "udp_ok": udp_ok, "tcp_ok": tcp_ok,
               "sent_raw": frame.hex() if sent == len(frame) else "", "auxdata": auxn[0],
               "name": [name[0], name[1], name[2], name[3], name[4].hex()]}, open(out, "w"))
    print("done", flush=True)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def raw_udp_frame(dst_mac, src_mac, src, dst, sport, dport, payload):
    sip, dip = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    ph = sip + dip + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    udp = udp[:6] + struct.pack("!H", csum(ph + udp) or 0xffff) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0x1234, 0x4000, 64, 17, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


def mode_ring(iface, local, peer, port, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
    bs, nb = 4096, 64  # small blocks: several fill up, the last ones retire on the timeout
    # tpacket_req3: block_size, block_nr, frame_size, frame_nr, retire_blk_tov (ms), sizeof_priv, feature
    s.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("7I", bs, nb, 2048, bs * nb // 2048, 50, 0, 0))
    ring = mmap.mmap(s.fileno(), bs * nb, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    res = {}
    t = threading.Thread(target=lambda: res.update(zip(("udp_ok", "tcp_ok"), traffic(local, peer, port))))
    t.start()
    frames, blocks, tmo, seqs = [], 0, 0, []
    p = select.poll()
    p.register(s.fileno(), select.POLLIN)
    cur = 0
    end = time.monotonic() + 8
    while time.monotonic() < end:
        off = cur * bs
        version, o2priv, status, npkts, o2first, blen, seq = struct.unpack_from("IIIIIIQ", ring, off)
        if not status & TP_STATUS_USER:
            if not t.is_alive() and time.monotonic() > end - 6:
                end = min(end, time.monotonic() + 0.3)  # traffic over: one more retire period
            p.poll(100)
            continue
        blocks += 1
        tmo += bool(status & 0x20)
        seqs.append(seq)
        po = off + o2first
        for _ in range(npkts):
            nxt, sec, nsec, snap, ln, st, mac, net = struct.unpack_from("IIIIIIHH", ring, po)
            fam, proto, ifx, hat, pkttype, halen = struct.unpack_from("HHiHBB", ring, po + 48)
            frames.append([pkttype, bytes(ring[po + mac:po + mac + snap]).hex(), ln, net - mac])
            po += nxt
        struct.pack_into("I", ring, off + 8, 0)  # TP_STATUS_KERNEL: the block goes back
        cur = (cur + 1) % nb
    t.join()
    stats = struct.unpack("III", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
    json.dump({"frames": frames, "blocks": blocks, "tmo_blocks": tmo, "seqs": seqs, "stats": list(stats), **res},
              open(out, "w"))
    ring.close()
    s.close()
    print("done", flush=True)


class PcapPkthdr(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("usec", ctypes.c_long), ("caplen", ctypes.c_uint32),
                ("len", ctypes.c_uint32)]


class BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


def mode_pcap(iface, local, peer, port, out):
    lp = ctypes.CDLL("libpcap.so.0.8")
    lp.pcap_create.restype = ctypes.c_void_p
    lp.pcap_dump_open.restype = ctypes.c_void_p
    lp.pcap_geterr.restype = ctypes.c_char_p
    for f in ("pcap_set_snaplen", "pcap_set_promisc", "pcap_set_timeout", "pcap_activate", "pcap_setnonblock",
              "pcap_dispatch", "pcap_compile", "pcap_setfilter", "pcap_stats"):
        getattr(lp, f).argtypes = None
    err = ctypes.create_string_buffer(256)
    h = ctypes.c_void_p(lp.pcap_create(iface.encode(), err))
    lp.pcap_set_snaplen(h, 262144)
    lp.pcap_set_timeout(h, 100)
    rc = lp.pcap_activate(h)
    if rc < 0:
        print("activate failed", rc, lp.pcap_geterr(h), flush=True)
        sys.exit(1)
    prog = BpfProgram()
    if lp.pcap_compile(h, ctypes.byref(prog), b"udp or tcp", 1, 0xffffffff) < 0 or \
       lp.pcap_setfilter(h, ctypes.byref(prog)) < 0:
        print("filter failed", lp.pcap_geterr(h), flush=True)
        sys.exit(1)
    dumper = ctypes.c_void_p(lp.pcap_dump_open(h, out.encode()))
    dump_fn = ctypes.cast(lp.pcap_dump, ctypes.c_void_p)
    res = {}
    t = threading.Thread(target=lambda: res.update(zip(("udp_ok", "tcp_ok"), traffic(local, peer, port))))
    t.start()
    lp.pcap_setnonblock(h, 1, err)
    CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(PcapPkthdr), ctypes.c_void_p)
    ccb = ctypes.cast(lp.pcap_dump, CB)  # libpcap writes each packet to the file itself
    n = [0]
    end = time.monotonic() + 10
    quiet_since = None
    fd = lp.pcap_get_selectable_fd(h)
    while time.monotonic() < end:
        select.select([fd], [], [], 0.1)
        got = lp.pcap_dispatch(h, -1, ccb, dumper)
        n[0] += max(got, 0)
        if got < 0:
            print("dispatch failed", lp.pcap_geterr(h), flush=True)
            break
        if not t.is_alive():
            if got == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.6:
                    break
            else:
                quiet_since = None
    t.join()
    stats = (ctypes.c_uint * 3)()
    lp.pcap_stats(h, stats)
    lp.pcap_dump_close(dumper)
    lp.pcap_close(h)
    print(json.dumps({"captured": n[0], "ps_recv": stats[0], "ps_drop": stats[1], **res}), flush=True)


def mode_peer(addr, port):
    def udp_echo():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, port))
        while True:
            d, a = u.recvfrom(65536)
            u.sendto(d, a)

    def udp_sink():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, port + 1))
        while True:
            d, a = u.recvfrom(65536)
            print("sink %s:%d %s" % (a[0], a[1], d.hex()), flush=True)

    def tcp_echo():
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(8)
        def serve(c):
            c.settimeout(30)
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    c.sendall(d)
            except OSError:
                pass
            c.close()

        while True:
            c, _ = ls.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    for f in (udp_echo, udp_sink, tcp_echo):
        threading.Thread(target=f, daemon=True).start()
    print("ready", flush=True)
    time.sleep(120)


if __name__ == "__main__":
    m = sys.argv[1]
    if m == "peer":
        mode_peer(sys.argv[2], int(sys.argv[3]))
    else:
        {"sock": mode_sock, "ring": mode_ring, "pcap": mode_pcap}[m](sys.argv[2], sys.argv[3], sys.argv[4],
                                                                   int(sys.argv[5]), sys.argv[6])
