#!/usr/bin/python3
"""gen_corpus.py — writes the fuzz_frame seed corpus (tests/fuzz/corpus/*.bin) with scapy.

Flow: each seed is built as scapy packets, then framed in fuzz_frame's input format:
  byte 0 = mode (bit 0: checksums marked good; bit 1: several frames, each prefixed
  by a 2-byte big-endian length; bits 2-3: clock advance 0/1 ms/1 s/60 s after
  input; bit 4: one frame per input call; bit 5: the "tight" instance with small
  limits and 128 frames; bit 6: the harness rewrites IPv4/ICMP/UDP/TCP checksums
  before input; bit 7: TCP mode), then the frame bytes. In TCP mode every frame
  the byte after the mode is the user byte (U_* below: shutdown, nodelay, cork,
  small receive buffer, keepalive, user timeout, more data) and every frame
  starts with a selector byte: bits 0-2 the target (0 as is, 1 the listener on
  :80, 2 the ESTABLISHED connection from :7000, 3 the SYN-RECEIVED one from
  :7001, 4 the SYN-SENT one to :7002, 5 the listener with SEG.ACK an offset from
  the valid SYN cookie + 1, 6-7 a closed port; for 2-4 SEQ/ACK are offsets from
  RCV.NXT/SND.UNA), bit 3 fix checksums, bit 4 timestamps relative (TSval +=
  TS.Recent, TSecr = our clock - TSecr), bit 5 SACK edges += SND.UNA, bit 6 IPv6:
  the frame is forced to [2001:2::2] -> [2001:2::1]:80 (the [::]:80 listener;
  targets 2-4 the connection from the frame's own source port, by 4-tuple;
  with mode bit 4 steered right before each frame's own input).
The stack under test is 198.18.0.1/24 (02:00:00:00:00:01) with sockets on *:5000
and *:5001 (connected to 198.18.0.2:6000); the peer is 198.18.0.2 (02:00:00:00:00:02).
IPv6: fe80::1/64 and 2001:2::1/64 (plus an RFC 7217 link-local), default router
fe80::2, AF_INET6 sockets on [::]:5002 (dual stack) and [::]:5003 (connected to
[2001:2::2]:6000); the peer is 2001:2::2 / fe80::ff:fe00:2. Groups joined:
239.1.1.1, 232.1.1.1 (source 198.18.0.2), ff15::1; the tight instance accepts
redirects. IPv6/ICMPv6/ND/MLD/IGMP seeds are in seeds6() (mostly with the harness
rewriting checksums, so mutations stay verifiable).
Output is deterministic (fixed IP ids, payloads), so re-running rewrites the same
files. Run: /usr/bin/python3 tests/fuzz/gen_corpus.py  (needs python3-scapy).
With --regressions it (re)writes the hand-built regression vectors into
tests/fuzz/regressions/ instead (inputs too large for libFuzzer's max_len).
"""
import os
import socket
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPOption_Router_Alert, Raw, fragment  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    HBHOptUnknown, ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6MLDMultAddrRec, ICMPv6MLDone, ICMPv6MLQuery,
    ICMPv6MLQuery2, ICMPv6MLReport, ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect,
    ICMPv6ND_RS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, ICMPv6NDOptRedirectedHdr,
    ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN, RouterAlert, fragment6)
from scapy.contrib.igmp import IGMP  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mq, IGMPv3mr  # noqa: E402

LOCAL_MAC = "02:00:00:00:00:01"
PEER_MAC = "02:00:00:00:00:02"
OTHER_MAC = "02:00:00:00:00:03"
BCAST_MAC = "ff:ff:ff:ff:ff:ff"
LOCAL = "198.18.0.1"
PEER = "198.18.0.2"
OTHER = "198.18.0.3"
SUBNET_BCAST = "198.18.0.255"

CSUM_GOOD, SPLIT = 0x01, 0x02
ADV_1MS, ADV_1S, ADV_60S = 0x04, 0x08, 0x0C
ONE_BY_ONE = 0x10
TIGHT = 0x20
FIX_CSUM = 0x40
TCP_MODE = 0x80
# TCP-mode selector
T_RAW, T_LISTEN, T_EST, T_SYNRCVD, T_SYNSENT, T_COOKIE, T_CLOSED = 0, 1, 2, 3, 4, 5, 6
# TCP-mode user byte
U_SHUT_WR, U_SHUT_RD, U_NODELAY, U_CORK, U_SMALL_RCVBUF, U_KEEPALIVE, U_USER_TIMEOUT, U_MORE = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
S_FIX, S_TS_REL, S_SACK_REL, S_IP6 = 0x08, 0x10, 0x20, 0x40
MSS_TS = 1448  # the established connection's MSS (timestamps on)


def eth(src=PEER_MAC, dst=LOCAL_MAC):
    return Ether(src=src, dst=dst)


def one(mode, pkt):
    return bytes([mode]) + bytes(pkt)


def many(mode, pkts):
    out = bytearray([mode | SPLIT])
    for p in pkts:
        b = bytes(p)
        out += struct.pack("!H", len(b)) + b
    return bytes(out)


def udp_dgram(dport, size, sport=1234, src=PEER, ipid=0x1000):
    payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
    return IP(src=src, dst=LOCAL, id=ipid) / UDP(sport=sport, dport=dport) / Raw(payload)


def frags(ip_pkt, size, order=None):
    fs = fragment(ip_pkt, fragsize=size)
    if order is not None:
        fs = [fs[i] for i in order]
    return [eth() / f for f in fs]


def our_datagram():
    """What our connected socket sends (198.18.0.1:5001 → 198.18.0.2:6000), for ICMP quotes."""
    return IP(src=LOCAL, dst=PEER, id=0x2222) / UDP(sport=5001, dport=6000) / Raw(b"hello")


def tseg(flags, seq=0, ack=0, sport=40000, dport=80, window=65535, options=None, payload=b"", src=PEER):
    t = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window, options=options or [])
    p = eth() / IP(src=src, dst=LOCAL, id=0x6000, flags="DF") / t
    return p / Raw(payload) if payload else p


def tcp1(mode, sel, pkt, usr=0):
    """TCP mode, one frame: the user byte, the selector byte, then the frame."""
    return bytes([mode | TCP_MODE, usr, sel]) + bytes(pkt)


def tcpn(mode, frames, usr=0):
    """TCP mode, several frames: each (selector, packet)."""
    out = bytearray([mode | TCP_MODE | SPLIT, usr])
    for sel, p in frames:
        b = bytes([sel]) + bytes(p)
        out += struct.pack("!H", len(b)) + b
    return bytes(out)


SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, 0)), ("NOP", None), ("WScale", 7)]


def ts(val=1, ecr=0):
    return [("NOP", None), ("NOP", None), ("Timestamp", (val, ecr))]


def tcp_seeds():
    s = {}
    E = T_EST | S_FIX | S_TS_REL
    data = bytes((i * 13 + 1) & 0xFF for i in range(MSS_TS))
    # LISTEN: a full SYN, a SYN with data, a bare ACK (RST), a RST, a SYN+FIN
    s["tcp-listen-syn"] = tcp1(0, T_LISTEN | S_FIX, tseg("S", seq=1000, options=SYN_OPTS))
    s["tcp-listen-syn-data"] = tcp1(ADV_1S, T_LISTEN | S_FIX, tseg("S", seq=5, options=[("MSS", 536)], payload=b"early data"))
    s["tcp-listen-misc"] = tcpn(0, [(T_LISTEN | S_FIX, tseg("A", seq=1, ack=99)),
                                     (T_LISTEN | S_FIX, tseg("R", seq=1)),
                                     (T_LISTEN | S_FIX, tseg("SF", seq=1)),
                                     (T_LISTEN | S_FIX, tseg("", seq=1, payload=b"x"))])
    s["tcp-listen-bad-opts"] = tcpn(0, [
        (T_LISTEN | S_FIX, tseg("S", seq=7, sport=40001, options=[("MSS", 1000), (8, b"")])),
        (T_LISTEN | S_FIX, tseg("S", seq=7, sport=40002, options=[("MSS", 0), ("WScale", 30)])),
        (T_LISTEN | S_FIX, tseg("S", seq=7, sport=40003, options=[("MSS", 1)]))])
    # SYN-RECEIVED: the handshake's ACK (with data), a bad ACK, a RST, a retransmitted SYN
    s["tcp-synrcvd-complete"] = tcp1(0, T_SYNRCVD | S_FIX | S_TS_REL,
                                     tseg("PA", seq=0, ack=1, options=ts(), payload=b"GET / HTTP/1.0\r\n\r\n"))
    s["tcp-synrcvd-misc"] = tcpn(0, [(T_SYNRCVD | S_FIX, tseg("A", seq=0, ack=50)),
                                      (T_SYNRCVD | S_FIX, tseg("S", seq=0xffffffff)),
                                      (T_SYNRCVD | S_FIX, tseg("R", seq=0))])
    s["tcp-synrcvd-timeout"] = tcp1(ADV_60S, T_SYNRCVD | S_FIX, tseg("A", seq=5, ack=0))
    # SYN-SENT: SYN-ACK, RST+ACK, bad ACK, simultaneous open
    s["tcp-synsent-synack"] = tcp1(0, T_SYNSENT | S_FIX, tseg("SA", seq=0x1000, ack=1, options=SYN_OPTS))
    s["tcp-synsent-refused"] = tcp1(0, T_SYNSENT | S_FIX, tseg("RA", seq=0, ack=1))
    s["tcp-synsent-misc"] = tcpn(0, [(T_SYNSENT | S_FIX, tseg("SA", seq=9, ack=5)),
                                      (T_SYNSENT | S_FIX, tseg("S", seq=0x2000, options=[("MSS", 1200)])),
                                      (T_SYNSENT | S_FIX, tseg("SA", seq=0x2000, ack=1)),
                                      (T_SYNSENT | S_FIX, tseg("A", seq=1, ack=1))])
    # ESTABLISHED: in order, out of order with a hole filled, FIN, RST cases, SYN
    s["tcp-est-data"] = tcpn(0, [(E, tseg("A", seq=0, ack=0, options=ts(), payload=data)),
                                  (E, tseg("PA", seq=MSS_TS, ack=0, options=ts(2), payload=data[:100]))])
    s["tcp-est-ooo"] = tcpn(ONE_BY_ONE, [(E, tseg("A", seq=2 * MSS_TS, options=ts(), payload=data)),
                                          (E, tseg("A", seq=4 * MSS_TS, options=ts(), payload=data)),
                                          (E, tseg("A", seq=0, options=ts(), payload=data)),
                                          (E, tseg("A", seq=MSS_TS, options=ts(), payload=data)),
                                          (E, tseg("A", seq=3 * MSS_TS - 10, options=ts(), payload=data))])
    s["tcp-est-fin"] = tcp1(ADV_1S, E, tseg("FPA", seq=0, ack=0, options=ts(), payload=b"bye"))
    s["tcp-est-rst"] = tcpn(0, [(E, tseg("R", seq=5)), (E, tseg("RA", seq=70000)), (E, tseg("S", seq=3)),
                                 (E, tseg("R", seq=0))])
    s["tcp-est-rst-straddle"] = tcp1(0, E, tseg("RA", seq=0xfffffff6, options=ts(), payload=b"r" * 20))
    s["tcp-est-paws"] = tcp1(0, E, tseg("PA", seq=0, options=ts(0xffffff00), payload=b"old"))
    s["tcp-est-oow"] = tcpn(0, [(E, tseg("A", seq=0x40000000, options=ts(), payload=b"far")),
                                 (E, tseg("A", seq=0xffffff00, options=ts(), payload=b"old")),
                                 (E, tseg("PA", seq=0, ack=0x10000, options=ts(), payload=b"new ack")),
                                 (E, tseg("", seq=0, options=ts(), payload=b"no ack"))])
    # ESTABLISHED, send side: ACKs of our 3000 bytes, dup ACKs with SACK, zero window, RTO
    sack = [("NOP", None), ("NOP", None), ("SAck", (MSS_TS, 2 * MSS_TS))]
    s["tcp-est-acks"] = tcpn(ADV_1MS, [(E, tseg("A", ack=MSS_TS, options=ts())),
                                         (E, tseg("A", ack=2 * MSS_TS, options=ts()))])
    s["tcp-est-acks-nodelay"] = tcpn(ADV_1MS, [(E, tseg("A", ack=MSS_TS, options=ts())),
                                                 (E, tseg("A", ack=3000, options=ts()))], usr=U_NODELAY)
    s["tcp-est-sack-recovery"] = tcpn(ADV_1S, [
        (E | S_SACK_REL, tseg("A", ack=0, options=ts() + [("SAck", (MSS_TS, 3000))])),
        (E | S_SACK_REL, tseg("A", ack=0, options=ts() + [("SAck", (MSS_TS, 3000))])),
        (E | S_SACK_REL, tseg("A", ack=0, options=ts() + [("SAck", (MSS_TS, 3000))])),
        (E, tseg("A", ack=2 * MSS_TS, options=ts()))], usr=U_MORE)
    s["tcp-est-dupacks"] = tcpn(0, [(E, tseg("A", ack=0, window=1024)) for _ in range(4)])
    s["tcp-est-sack-hostile"] = tcp1(0, E | S_SACK_REL, tseg("A", ack=0, options=sack[:2] + [
        ("SAck", (0x40000000, 0x40001000, 0xfffff000, 0xffffff00, 100, 50, 0, 0xffffffff))]))
    s["tcp-est-zero-window"] = tcpn(ADV_60S, [(E, tseg("A", ack=2 * MSS_TS, window=0, options=ts()))], usr=U_MORE)
    s["tcp-est-rto"] = tcp1(ADV_60S, E, tseg("A", ack=0, options=ts()))
    s["tcp-est-tsecr-future"] = tcp1(0, E, tseg("A", ack=MSS_TS, options=ts(1, 0xfff0bdc0)))
    # closed port and a tight-instance SYN flood (SYN cookies, TCB exhaustion)
    s["tcp-closed-port"] = tcpn(0, [(T_CLOSED | S_FIX, tseg("S", seq=1)), (T_CLOSED | S_FIX, tseg("A", ack=5)),
                                     (T_CLOSED | S_FIX, tseg("FPA", seq=9, payload=b"zz"))])
    s["tcp-tight-syn-flood"] = tcpn(TIGHT, [(T_LISTEN | S_FIX, tseg("S", seq=i * 1000, sport=20000 + i,
                                                                    options=[("MSS", 1460)])) for i in range(12)])
    s["tcp-raw-to-80"] = tcp1(CSUM_GOOD, T_RAW, tseg("S", seq=1, options=SYN_OPTS))
    # the valid-cookie path: a flood fills the SYN queue, then a SYN and its cookie ACK (with data)
    s["tcp-tight-cookie-complete"] = tcpn(TIGHT, [
        (T_LISTEN | S_FIX, tseg("S", seq=i * 1000, sport=21000 + i)) for i in range(3)] + [
        (T_LISTEN | S_FIX, tseg("S", seq=0x5000, sport=22000, options=[("MSS", 1460)])),
        (T_COOKIE | S_FIX, tseg("PA", seq=0x5001, ack=0, sport=22000, payload=b"hello via cookie"))])
    # user side: our FIN, then the peer's ACK and FIN (FIN-WAIT-2, TIME-WAIT); a simultaneous close
    s["tcp-est-active-close"] = tcpn(ADV_1S, [(E, tseg("A", ack=3001, options=ts())),
                                               (E, tseg("FA", seq=0, ack=3001, options=ts()))],
                                     usr=U_SHUT_WR | U_NODELAY)
    s["tcp-est-simultaneous-close"] = tcp1(ADV_1S, E, tseg("FA", seq=0, ack=0, options=ts()), usr=U_SHUT_WR | U_NODELAY)
    s["tcp-est-time-wait-reopen"] = tcpn(ONE_BY_ONE, [(E, tseg("A", ack=3001, options=ts())),
                                                       (E, tseg("FA", seq=0, ack=3001, options=ts())),
                                                       (E, tseg("S", seq=100000, options=SYN_OPTS))],
                                         usr=U_SHUT_WR | U_NODELAY)
    s["tcp-est-shut-rd-data"] = tcp1(0, E, tseg("PA", seq=0, options=ts(), payload=b"unwanted"), usr=U_SHUT_RD)
    s["tcp-est-small-rcvbuf"] = tcpn(ADV_1S, [(E, tseg("A", seq=0, options=ts(), payload=data)),
                                               (E, tseg("A", seq=MSS_TS, options=ts(), payload=data))],
                                     usr=U_SMALL_RCVBUF)
    s["tcp-est-keepalive"] = tcp1(ADV_60S, E, tseg("A", ack=3000, options=ts()), usr=U_KEEPALIVE | U_NODELAY)
    s["tcp-est-user-timeout"] = tcp1(ADV_60S, E, tseg("A", ack=0, options=ts()), usr=U_USER_TIMEOUT | U_CORK)
    return s


def seeds():
    s = tcp_seeds()
    s.update(seeds6())
    # ARP
    s["arp-request"] = one(0, eth(dst=BCAST_MAC) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=LOCAL))
    s["arp-reply-other"] = one(0, eth(src=OTHER_MAC) / ARP(op=2, hwsrc=OTHER_MAC, psrc=OTHER,
                                                           hwdst=LOCAL_MAC, pdst=LOCAL))
    s["arp-gratuitous"] = one(ADV_1S, eth(src=OTHER_MAC, dst=BCAST_MAC) /
                              ARP(op=1, hwsrc=OTHER_MAC, psrc=OTHER, pdst=OTHER))
    # ICMP
    s["icmp-echo"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=1) / ICMP(type=8, id=7, seq=1) / Raw(b"ping" * 8))
    s["icmp-echo-unresolved"] = one(ADV_1S, eth(src=OTHER_MAC) / IP(src=OTHER, dst=LOCAL, id=2) /
                                    ICMP(type=8, id=7, seq=2) / Raw(b"x" * 56))
    s["icmp-echo-offlink"] = one(0, eth() / IP(src="198.19.1.1", dst=LOCAL, id=3) / ICMP(type=8) / Raw(b"gw"))
    s["icmp-port-unreach-quote"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=4) / ICMP(type=3, code=3) /
                                       bytes(our_datagram())[:28])
    s["icmp-frag-needed"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=5) / ICMP(type=3, code=4, nexthopmtu=1280) /
                                bytes(our_datagram()))
    s["icmp-time-exceeded"] = one(CSUM_GOOD, eth() / IP(src=PEER, dst=LOCAL, id=6) / ICMP(type=11, code=0) /
                                  bytes(our_datagram()))
    # UDP
    s["udp-5000"] = one(0, eth() / udp_dgram(5000, 32))
    s["udp-5001-connected"] = one(0, eth() / udp_dgram(5001, 16, sport=6000))
    s["udp-closed-port"] = one(0, eth() / udp_dgram(7, 8))
    s["udp-zero-csum"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=7) / UDP(sport=1, dport=5000, chksum=0) /
                             Raw(b"nocsum"))
    s["udp-bcast"] = one(0, eth(dst=BCAST_MAC) / IP(src=PEER, dst=SUBNET_BCAST, id=8) /
                         UDP(sport=1234, dport=5000) / Raw(b"bcast"))
    s["udp-allhosts-mcast"] = one(0, eth(dst="01:00:5e:00:00:01") / IP(src=PEER, dst="224.0.0.1", id=9) /
                                  UDP(sport=1234, dport=5000) / Raw(b"mcast"))
    s["udp-bad-csum-marked-good"] = one(CSUM_GOOD, eth() / IP(src=PEER, dst=LOCAL, id=10, chksum=0xdead) /
                                        UDP(sport=1234, dport=5000, chksum=0xbeef) / Raw(b"offload"))
    s["udp-padded"] = one(0, bytes(eth() / udp_dgram(5000, 1)) + b"\0" * 17)  # Ethernet minimum-size padding
    # 802.1Q: priority tag (VID 0) is accepted on an untagged interface; VID 100 is not
    s["vlan-prio-tag-udp"] = one(0, eth() / Dot1Q(vlan=0, prio=5) / udp_dgram(5000, 20))
    s["vlan-100-udp"] = one(0, eth() / Dot1Q(vlan=100) / udp_dgram(5000, 20))
    # IP options: router alert, and a record-route with room
    s["ip-options-ra"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=11, options=[IPOption_Router_Alert()]) /
                             UDP(sport=1234, dport=5000) / Raw(b"opts"))
    s["ip-options-rr"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=12, options=b"\x07\x0b\x04" + b"\0" * 8 + b"\0") /
                             ICMP(type=8) / Raw(b"rr"))
    s["ip-unknown-proto"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=13, proto=99) / Raw(b"\0" * 24))
    # Fragments (mode bit 1: several frames in one input)
    big = udp_dgram(5000, 3000, ipid=0x3001)
    s["frag-udp-inorder"] = many(0, frags(big, 1480))
    s["frag-udp-reverse"] = many(0, frags(udp_dgram(5000, 3000, ipid=0x3002), 1480, order=[2, 1, 0]))
    s["frag-udp-small-1by1"] = many(ONE_BY_ONE, frags(udp_dgram(5001, 200, sport=6000, ipid=0x3003), 64))
    s["frag-udp-incomplete-timeout"] = many(ADV_60S, frags(udp_dgram(5000, 3000, ipid=0x3004), 1480)[:2])
    ov = frags(udp_dgram(5000, 64, ipid=0x3005), 32)
    ov[1][IP].frag = 2  # second fragment starts at 16 instead of 32: overlap
    del ov[1][IP].chksum
    s["frag-overlap"] = many(0, ov)
    s["frag-dup"] = many(0, [f for f in frags(udp_dgram(5000, 100, ipid=0x3006), 48) for _ in (0, 1)])
    s["frag-icmp-echo-big"] = many(0, frags(IP(src=PEER, dst=LOCAL, id=0x3007) / ICMP(type=8) /
                                            Raw(bytes(range(256)) * 16), 1480))
    s["frag-two-datagrams-interleaved"] = many(CSUM_GOOD, [
        x for pair in zip(frags(udp_dgram(5000, 1000, ipid=0x3008), 512),
                          frags(udp_dgram(5001, 1000, sport=6000, ipid=0x3009), 512)) for x in pair])
    # A mixed burst: ARP request, echo, UDP, garbage
    s["mixed-burst"] = many(ADV_1MS, [
        eth(dst=BCAST_MAC) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=LOCAL),
        eth() / IP(src=PEER, dst=LOCAL, id=20) / ICMP(type=8) / Raw(b"a"),
        eth() / udp_dgram(5000, 10, ipid=21),
        Raw(b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00\x45"),
    ])
    # Larger than the MTU in one frame: the echo reply must be re-cut into fragments
    s["icmp-echo-oversize-frame"] = one(0, eth() / IP(src=PEER, dst=LOCAL, id=14) / ICMP(type=8) /
                                        Raw(bytes(range(256)) * 7))
    # Tight instance: limits reachable within one input
    s["tight-arp-flood"] = many(TIGHT, [
        eth(src="02:00:00:00:01:%02x" % i, dst=BCAST_MAC) /
        ARP(op=1, hwsrc="02:00:00:00:01:%02x" % i, psrc="198.18.0.%d" % (10 + i), pdst=LOCAL) for i in range(20)])
    s["tight-hold-full"] = many(TIGHT | ADV_1S, [
        eth(src=OTHER_MAC) / IP(src=OTHER, dst=LOCAL, id=30 + i) / ICMP(type=8, seq=i) / Raw(b"h") for i in range(6)])
    s["tight-frag-table-full"] = many(TIGHT, [
        f for i in range(10) for f in frags(udp_dgram(5000, 40, ipid=0x4000 + i), 16)[:1]])
    s["tight-frag-too-many"] = many(TIGHT, frags(udp_dgram(5000, 160, ipid=0x4100), 8))
    s["tight-frag-mem"] = many(TIGHT, [
        f for i in range(2) for f in frags(udp_dgram(5000, 120, ipid=0x4200 + i), 8)[:9]])
    s["tight-bcast-clone"] = many(TIGHT | CSUM_GOOD, [
        eth(dst=BCAST_MAC) / IP(src=PEER, dst=SUBNET_BCAST, id=40 + i) / UDP(sport=1234, dport=5000) /
        Raw(b"b" * 32) for i in range(4)])
    # Checksums rewritten by the harness: mutations of these stay verifiable
    s["fix-icmp-param-problem"] = one(FIX_CSUM, eth() / IP(src=PEER, dst=LOCAL, id=15) / ICMP(type=12, code=0, ptr=8) /
                                      bytes(our_datagram()))
    s["fix-icmp-unreach-burst"] = many(FIX_CSUM | TIGHT, [
        eth() / IP(src=PEER, dst=LOCAL, id=50 + code) / ICMP(type=3, code=code) / bytes(our_datagram())
        for code in range(16)])
    s["fix-udp-echo-mix"] = many(FIX_CSUM | ADV_1S, [
        eth() / udp_dgram(5001, 8, sport=6000, ipid=60),
        eth(src=OTHER_MAC) / IP(src=OTHER, dst=LOCAL, id=61) / ICMP(type=8) / Raw(b"q" * 16),
        eth() / udp_dgram(9, 8, ipid=62)])
    return s


# ---- IPv6, ICMPv6, ND, MLD, IGMP ----
LOCAL6 = "2001:2::1"
PEER6 = "2001:2::2"
OTHER6 = "2001:2::3"
LL6 = "fe80::1"
GW6 = "fe80::2"
PEER_LL6 = "fe80::ff:fe00:2"
ALL_NODES = "ff02::1"
GROUP6 = "ff15::1"
SOL_LOCAL6 = "ff02::1:ff00:1"  # solicited-node group of 2001:2::1 and fe80::1
GROUP4, SSM4 = "239.1.1.1", "232.1.1.1"


def mmac6(addr):
    """The Ethernet multicast MAC of an IPv6 group (RFC 2464 7)."""
    b = socket.inet_pton(socket.AF_INET6, addr)[-4:]
    return "33:33:" + ":".join("%02x" % x for x in b)


def mmac4(addr):
    """The Ethernet multicast MAC of an IPv4 group (RFC 1112 6.4)."""
    b = socket.inet_aton(addr)
    return "01:00:5e:%02x:%02x:%02x" % (b[1] & 0x7F, b[2], b[3])


def e6(dst6=LOCAL6, src6=PEER6, hlim=64, src_mac=PEER_MAC, nh=None):
    dst_mac = mmac6(dst6) if dst6.startswith("ff") else LOCAL_MAC
    ip = IPv6(src=src6, dst=dst6, hlim=hlim) if nh is None else IPv6(src=src6, dst=dst6, hlim=hlim, nh=nh)
    return Ether(src=src_mac, dst=dst_mac) / ip


def udp6(dport, size, sport=1234):
    """A UDP datagram (scapy computes its checksum over the IPv6 header it is put under)."""
    payload = bytes((i * 11 + 5) & 0xFF for i in range(size))
    return UDP(sport=sport, dport=dport) / Raw(payload)


def l4_bytes6(l4):
    """The bytes of upper-layer (or extension-header) packet l4 after a 2001:2::2 → 2001:2::1
    fixed header, with the checksum scapy computes there (for hand-cut fragments)."""
    return bytes(IPv6(src=PEER6, dst=LOCAL6) / l4)[40:]


def our_datagram6():
    """What our connected AF_INET6 socket sends ([2001:2::1]:5003 → [2001:2::2]:6000), for ICMPv6 quotes."""
    return IPv6(src=LOCAL6, dst=PEER6, hlim=64) / UDP(sport=5003, dport=6000) / Raw(b"hello")


def frags6(l4, ident, fragsize, order=None, src6=PEER6):
    """IPv6 fragments (scapy's fragment6) of the upper-layer packet l4, Ethernet-framed."""
    fs = fragment6(IPv6(src=src6, dst=LOCAL6) / IPv6ExtHdrFragment(id=ident) / l4, fragsize)
    if order is not None:
        fs = [fs[i] for i in order]
    return [Ether(src=PEER_MAC, dst=LOCAL_MAC) / f for f in fs]


def raw_frag6(ident, off, more, nh, data, src6=PEER6):
    """One hand-made fragment: offset in bytes, data the fragmentable part's bytes."""
    return e6(src6=src6) / IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=int(more), id=ident) / Raw(data)


def mld(msg, dst6=ALL_NODES, src6=PEER_LL6):
    """An MLD message as RFC 2710/3810 ask: link-local source, hop limit 1, Router Alert."""
    return e6(dst6=dst6, src6=src6, hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / msg


def igmp4(msg, dst, src=PEER):
    """IGMP as RFC 2236/3376 send it: TTL 1, Router Alert."""
    return Ether(src=PEER_MAC, dst=mmac4(dst)) / IP(src=src, dst=dst, ttl=1, id=0x0900,
                                                     options=[IPOption_Router_Alert()]) / msg


def seeds6():
    s = {}
    F = FIX_CSUM
    # UDP over IPv6 to the sockets
    s["udp6-5002"] = one(F, e6() / udp6(5002, 32))
    s["udp6-5003-connected"] = one(F, e6() / udp6(5003, 16, sport=6000))
    s["udp6-5003-not-peer"] = one(F, e6(src6=OTHER6, src_mac=OTHER_MAC) / udp6(5003, 16, sport=6000))
    s["udp6-link-local"] = one(F, e6(dst6=LL6, src6=PEER_LL6) / udp6(5002, 20))
    s["udp6-dual-stack-v4"] = one(0, eth() / udp_dgram(5002, 24))
    s["udp6-closed-port"] = one(F, e6() / udp6(9, 8))
    s["udp6-zero-csum"] = one(0, e6() / UDP(sport=1, dport=5002, chksum=0) / Raw(b"nocsum"))
    s["udp6-allnodes"] = one(F, e6(dst6=ALL_NODES) / udp6(5002, 8))
    s["udp6-group-joined"] = one(F, e6(dst6=GROUP6) / udp6(5002, 8))
    s["udp6-v4mapped-src"] = one(F, e6(src6="::ffff:198.18.0.2") / udp6(5002, 8))
    s["udp6-bad-csum-marked-good"] = one(CSUM_GOOD, e6() / UDP(sport=1, dport=5002, chksum=0x1234) / Raw(b"offl"))
    s["udp6-padded"] = one(0, bytes(e6() / udp6(5002, 1)) + b"\0" * 5)
    # fragments: in order, reversed, overlapping, tiny, atomic, timeout, one by one
    s["frag6-udp-inorder"] = many(0, frags6(udp6(5002, 3000), 0x61000001, 1280))
    s["frag6-udp-reverse"] = many(0, frags6(udp6(5002, 3000), 0x61000002, 1280, order=[2, 1, 0]))
    s["frag6-udp-1by1"] = many(ONE_BY_ONE, frags6(udp6(5003, 600, sport=6000), 0x61000003, 300))
    s["frag6-udp-timeout"] = many(ADV_60S, frags6(udp6(5002, 3000), 0x61000004, 1280)[:2])
    body = l4_bytes6(UDP(sport=1234, dport=5002) / Raw(b"v" * 48))
    s["frag6-overlap"] = many(0, [raw_frag6(0x61000005, 0, True, 17, body[:32]),
                                   raw_frag6(0x61000005, 16, True, 17, body[16:48]),
                                   raw_frag6(0x61000005, 48, False, 17, body[48:])])
    s["frag6-tiny-8"] = many(0, [raw_frag6(0x61000006, off, off + 8 < len(body), 17, body[off:off + 8])
                                  for off in range(0, len(body), 8)])
    s["frag6-tiny-reverse"] = many(ONE_BY_ONE, [
        raw_frag6(0x61000007, off, off + 8 < len(body), 17, body[off:off + 8])
        for off in reversed(range(0, len(body), 8))])
    s["frag6-dup"] = many(0, [f for f in frags6(udp6(5002, 200), 0x61000008, 120) for _ in (0, 1)])
    s["frag6-atomic"] = one(F, e6() / IPv6ExtHdrFragment(id=0x61000009, offset=0, m=0) / udp6(5002, 12))
    s["frag6-not-multiple-of-8"] = many(0, [raw_frag6(0x6100000a, 0, True, 17, body[:13]),
                                             raw_frag6(0x6100000a, 16, False, 17, body[16:])])
    s["frag6-past-65535"] = one(0, raw_frag6(0x6100000b, 65528, False, 17, b"z" * 16))
    s["frag6-icmp-echo-big"] = many(0, frags6(ICMPv6EchoRequest(id=1, seq=1, data=bytes(range(256)) * 12),
                                              0x6100000c, 1280))
    s["frag6-first-no-l4"] = many(0, [e6() / IPv6ExtHdrFragment(nh=60, offset=0, m=1, id=0x6100000d) /
                                       Raw(b"\x11\x00" + b"\x01\x04\0\0\0\0"),
                                       raw_frag6(0x6100000d, 8, False, 60, body)])
    s["frag6-tight-table-full"] = many(TIGHT, [frags6(udp6(5002, 64), 0x62000000 + i, 56)[0] for i in range(10)])
    s["frag6-tight-too-many"] = many(TIGHT, [raw_frag6(0x62000100, off, True, 17, bytes(8))
                                             for off in range(0, 160, 8)])
    s["frag6-mixed-families"] = many(CSUM_GOOD, [x for pair in zip(frags6(udp6(5002, 1000), 0x6100000e, 600),
                                                                    frags(udp_dgram(5000, 1000, ipid=0x300e), 512))
                                                 for x in pair])
    # extension-header chains
    s["ext6-hbh-padn"] = one(F, e6() / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]) / udp6(5002, 8))
    for act, t in (("skip", 0x1E), ("discard", 0x5E), ("icmp", 0x9E), ("icmp-ucast", 0xDE)):
        opt = HBHOptUnknown(otype=t, optdata=b"\xaa\xbb")
        s["ext6-hbh-unknown-" + act] = one(F, e6() / IPv6ExtHdrHopByHop(options=[opt]) / udp6(5002, 8))
        s["ext6-dst-unknown-mcast-" + act] = one(F, e6(dst6=ALL_NODES) / IPv6ExtHdrDestOpt(options=[opt]) /
                                                  ICMPv6EchoRequest(id=2, seq=int(t)))
    s["ext6-hbh-pad-too-long"] = one(F, e6() / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 10)]) / udp6(5002, 8))
    s["ext6-hbh-padn-nonzero"] = one(F, e6() / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x01\x02")]) / udp6(5002, 8))
    s["ext6-hbh-too-many-opts"] = one(F, e6() / IPv6ExtHdrHopByHop(
        options=[HBHOptUnknown(otype=0x1E, optdata=b"")] * 9) / udp6(5002, 8))
    s["ext6-hbh-not-first"] = one(F, e6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / udp6(5002, 8))
    s["ext6-rh0-segleft"] = one(F, e6() / IPv6ExtHdrRouting(type=0, segleft=1, addresses=[OTHER6]) / udp6(5002, 8))
    s["ext6-rh0-segleft0"] = one(F, e6() / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[OTHER6]) / udp6(5002, 8))
    s["ext6-rh-unknown-type"] = one(F, e6() / IPv6ExtHdrRouting(type=253, segleft=1, addresses=[OTHER6]) /
                                    udp6(5002, 8))
    s["ext6-dstopts"] = one(F, e6() / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) / udp6(5002, 8))
    for n in (12, 13):
        chain = IPv6ExtHdrHopByHop()
        for _ in range(n - 1):
            chain = chain / IPv6ExtHdrDestOpt()
        s["ext6-chain-%d" % n] = one(F, e6() / chain / udp6(5002, 8))
    s["ext6-chain-long"] = one(F, e6() / IPv6ExtHdrDestOpt(
        options=[HBHOptUnknown(otype=0x1E, optdata=b"\x55" * 250)] * 5) / udp6(5002, 8))
    s["ext6-unknown-nh"] = one(F, e6() / IPv6ExtHdrDestOpt(nh=99) / Raw(b"\0" * 16))
    s["ext6-no-next-header"] = one(F, e6() / IPv6ExtHdrDestOpt(nh=59) / Raw(b"ignored"))
    dst_udp = l4_bytes6(IPv6ExtHdrDestOpt(nh=17) / udp6(5002, 32))
    s["ext6-frag-in-chain"] = many(0, [
        e6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(nh=60, offset=0, m=1, id=0x6200000f) / Raw(dst_udp[:24]),
        e6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(nh=60, offset=3, m=0, id=0x6200000f) / Raw(dst_udp[24:])])
    # ICMPv6 echo, and errors quoting our datagrams
    s["icmp6-echo"] = one(F, e6() / ICMPv6EchoRequest(id=7, seq=1, data=b"ping6" * 8))
    s["icmp6-echo-allnodes"] = one(F, e6(dst6=ALL_NODES) / ICMPv6EchoRequest(id=7, seq=2, data=b"all"))
    s["icmp6-echo-link-local"] = one(F, e6(dst6=LL6, src6=PEER_LL6) / ICMPv6EchoRequest(id=7, seq=3))
    s["icmp6-echo-unresolved"] = one(F | ADV_1S, e6(src6=OTHER6, src_mac=OTHER_MAC) / ICMPv6EchoRequest(id=7, seq=4))
    s["icmp6-echo-offlink"] = one(F, e6(src6="2001:db8::9") / ICMPv6EchoRequest(id=7, seq=5, data=b"gw"))
    s["icmp6-echo-big"] = one(F, e6() / ICMPv6EchoRequest(id=7, seq=6, data=bytes(range(256)) * 5 + bytes(120)))
    q = bytes(our_datagram6())
    s["icmp6-port-unreach"] = one(F, e6() / ICMPv6DestUnreach(code=4) / Raw(q))
    s["icmp6-ptb-1280"] = one(F, e6() / ICMPv6PacketTooBig(mtu=1280) / Raw(q))
    s["icmp6-ptb-500"] = one(F, e6() / ICMPv6PacketTooBig(mtu=500) / Raw(q))
    s["icmp6-param-problem"] = one(F, e6() / ICMPv6ParamProblem(code=0, ptr=6) / Raw(q))
    s["icmp6-time-exceeded"] = one(F, e6() / ICMPv6TimeExceeded(code=0) / Raw(q))
    s["icmp6-unreach-burst"] = many(F | TIGHT, [e6() / ICMPv6DestUnreach(code=c) / Raw(q) for c in range(8)])
    s["icmp6-error-to-error"] = one(F, e6() / ICMPv6DestUnreach(code=4) / Raw(bytes(
        IPv6(src=LOCAL6, dst=PEER6) / ICMPv6DestUnreach(code=4) / Raw(q))))
    s["icmp6-unknown-type"] = one(F, e6(nh=58) / Raw(b"\xc8\x00\x00\x00info"))
    s["icmp6-error-unknown-type"] = one(F, e6(nh=58) / Raw(b"\x05\x00\x00\x00\0\0\0\0" + q))
    # Neighbour Discovery
    s["nd-ns-dad"] = one(F, e6(dst6=SOL_LOCAL6, src6="::", hlim=255) / ICMPv6ND_NS(tgt=LOCAL6))
    s["nd-ns-unicast-sllao"] = one(F, e6(hlim=255) / ICMPv6ND_NS(tgt=LOCAL6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
    s["nd-ns-mcast-ll"] = one(F, e6(dst6=SOL_LOCAL6, src6=PEER_LL6, hlim=255) / ICMPv6ND_NS(tgt=LL6) /
                              ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
    s["nd-ns-not-ours"] = one(F, e6(dst6="ff02::1:ff00:3", hlim=255) / ICMPv6ND_NS(tgt=OTHER6) /
                              ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
    s["nd-ns-hlim-64"] = one(F, e6(hlim=64) / ICMPv6ND_NS(tgt=LOCAL6))
    s["nd-na-solicited"] = one(F, e6(hlim=255) / ICMPv6ND_NA(tgt=PEER6, R=0, S=1, O=1) /
                               ICMPv6NDOptDstLLAddr(lladdr=PEER_MAC))
    s["nd-na-unsolicited-override"] = one(F, e6(dst6=ALL_NODES, hlim=255) / ICMPv6ND_NA(tgt=PEER6, R=0, S=0, O=1) /
                                          ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC))
    s["nd-na-no-override"] = one(F, e6(hlim=255) / ICMPv6ND_NA(tgt=PEER6, R=1, S=1, O=0) /
                                 ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC))
    s["nd-na-for-our-address"] = one(F, e6(dst6=ALL_NODES, hlim=255) / ICMPv6ND_NA(tgt=LOCAL6, R=0, S=0, O=1) /
                                     ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC))
    s["nd-na-unknown-target"] = one(F, e6(hlim=255) / ICMPv6ND_NA(tgt=OTHER6, S=1, O=1) /
                                    ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC))
    s["nd-resolve-then-na"] = many(F | ONE_BY_ONE, [
        e6(src6=OTHER6, src_mac=OTHER_MAC) / ICMPv6EchoRequest(id=8, seq=1),
        e6(src6=OTHER6, src_mac=OTHER_MAC, hlim=255) / ICMPv6ND_NA(tgt=OTHER6, S=1, O=1) /
        ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC)])
    ra_opts = (ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC) / ICMPv6NDOptMTU(mtu=1400) /
               ICMPv6NDOptPrefixInfo(prefix="2001:2:0:1::", prefixlen=64, L=1, A=1, validlifetime=600,
                                     preferredlifetime=300))
    s["nd-ra-prefix-mtu-sllao"] = one(F, e6(dst6=ALL_NODES, src6=GW6, hlim=255) /
                                      ICMPv6ND_RA(chlim=32, routerlifetime=1800, reachabletime=20000,
                                                  retranstimer=500) / ra_opts)
    s["nd-ra-lifetime-0"] = one(F, e6(dst6=ALL_NODES, src6=GW6, hlim=255) / ICMPv6ND_RA(routerlifetime=0) /
                                ICMPv6NDOptPrefixInfo(prefix="2001:2::", prefixlen=64, L=1, A=0, validlifetime=0,
                                                      preferredlifetime=0))
    s["nd-ra-mtu-1280-bad-prefixes"] = one(F, e6(dst6=ALL_NODES, src6=PEER_LL6, hlim=255) /
                                           ICMPv6ND_RA(routerlifetime=60) / ICMPv6NDOptMTU(mtu=1280) /
                                           ICMPv6NDOptPrefixInfo(prefix="fe80::", prefixlen=64, L=1, A=1) /
                                           ICMPv6NDOptPrefixInfo(prefix="2001:2:0:2::", prefixlen=64, A=1,
                                                                 validlifetime=10, preferredlifetime=20) /
                                           ICMPv6NDOptPrefixInfo(prefix="2001:2:0:3::", prefixlen=200, A=1))
    s["nd-ra-from-global"] = one(F, e6(dst6=ALL_NODES, src6=PEER6, hlim=255) / ICMPv6ND_RA(routerlifetime=60))
    s["nd-redirect"] = one(F | TIGHT, e6(dst6=LL6, src6=GW6, hlim=255) /
                           ICMPv6ND_Redirect(tgt="fe80::3", dst="2001:db8::5") /
                           ICMPv6NDOptDstLLAddr(lladdr=OTHER_MAC) /
                           ICMPv6NDOptRedirectedHdr(pkt=bytes(IPv6(src=LOCAL6, dst="2001:db8::5") /
                                                              UDP(sport=5003, dport=53))))
    s["nd-redirect-onlink"] = one(F | TIGHT, e6(dst6=LL6, src6=GW6, hlim=255) /
                                  ICMPv6ND_Redirect(tgt="2001:db8::6", dst="2001:db8::6"))
    s["nd-redirect-default-off"] = one(F, e6(dst6=LL6, src6=GW6, hlim=255) /
                                       ICMPv6ND_Redirect(tgt="fe80::3", dst="2001:db8::5"))
    s["nd-rs"] = one(F, e6(dst6=LL6, src6=PEER_LL6, hlim=255) / ICMPv6ND_RS() /
                     ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
    s["nd-offlink-resolve-router"] = one(F | ADV_1S, e6(src6="2001:db8::7") / udp6(9, 4))
    # MLD (RFC 2710, RFC 3810)
    s["mld1-general-query"] = one(F, mld(ICMPv6MLQuery(mrd=1000, mladdr="::")))
    s["mld1-specific-query"] = one(F, mld(ICMPv6MLQuery(mrd=500, mladdr=GROUP6), dst6=GROUP6))
    s["mld1-report"] = one(F, mld(ICMPv6MLReport(mladdr=GROUP6), dst6=GROUP6))
    s["mld1-done"] = one(F, mld(ICMPv6MLDone(mladdr=GROUP6), dst6="ff02::2"))
    s["mld2-general-query"] = one(F, mld(ICMPv6MLQuery2(mrd=2000, mladdr="::", QRV=2, QQIC=125)))
    s["mld2-group-source-query"] = one(F, mld(ICMPv6MLQuery2(mrd=100, mladdr=GROUP6, S=1, sources=[PEER6, OTHER6]),
                                              dst6=GROUP6))
    s["mld2-report"] = one(F, mld(ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst=GROUP6),
                                                           ICMPv6MLDMultAddrRec(rtype=1, dst="ff15::2",
                                                                                sources=[PEER6])]),
                                  dst6="ff02::16"))
    s["mld-query-no-router-alert"] = one(F, e6(dst6=ALL_NODES, src6=PEER_LL6, hlim=1) / ICMPv6MLQuery(mladdr="::"))
    s["mld-query-global-src"] = one(F, mld(ICMPv6MLQuery2(mladdr="::"), src6=PEER6))
    s["mld-query-flood-tight"] = many(F | TIGHT, [mld(ICMPv6MLQuery2(mrd=10 + i, mladdr="::")) for i in range(12)])
    # IGMP (RFC 1112, RFC 2236, RFC 3376)
    s["igmp1-query"] = one(0, igmp4(IGMP(type=0x11, mrcode=0, gaddr="0.0.0.0"), "224.0.0.1"))
    s["igmp2-general-query"] = one(0, igmp4(IGMP(type=0x11, mrcode=100, gaddr="0.0.0.0"), "224.0.0.1"))
    s["igmp2-group-query"] = one(0, igmp4(IGMP(type=0x11, mrcode=10, gaddr=GROUP4), GROUP4))
    s["igmp3-general-query"] = one(0, igmp4(IGMPv3(type=0x11, mrcode=50) / IGMPv3mq(gaddr="0.0.0.0", qrv=2, qqic=125),
                                            "224.0.0.1"))
    s["igmp3-group-source-query"] = one(0, igmp4(IGMPv3(type=0x11, mrcode=20) /
                                                 IGMPv3mq(gaddr=SSM4, s=1, srcaddrs=[PEER, OTHER]), SSM4))
    s["igmp3-query-big-mrc"] = one(0, igmp4(IGMPv3(type=0x11, mrcode=0xFF) / IGMPv3mq(gaddr=GROUP4, qqic=0xFF), GROUP4))
    s["igmp1-report"] = one(0, igmp4(IGMP(type=0x12, gaddr=GROUP4), GROUP4))
    s["igmp2-report"] = one(0, igmp4(IGMP(type=0x16, gaddr=GROUP4), GROUP4))
    s["igmp2-leave"] = one(0, igmp4(IGMP(type=0x17, gaddr=GROUP4), "224.0.0.2"))
    s["igmp3-report"] = one(0, igmp4(IGMPv3(type=0x22) / IGMPv3mr(records=[
        IGMPv3gr(rtype=2, maddr=GROUP4), IGMPv3gr(rtype=1, maddr=SSM4, srcaddrs=[PEER])]), "224.0.0.22"))
    s["igmp-query-then-udp"] = many(ONE_BY_ONE, [
        igmp4(IGMP(type=0x11, mrcode=100, gaddr="0.0.0.0"), "224.0.0.1"),
        Ether(src=PEER_MAC, dst=mmac4(GROUP4)) / IP(src=PEER, dst=GROUP4, id=0x901) / UDP(sport=1, dport=5000) /
        Raw(b"mcast"),
        Ether(src=PEER_MAC, dst=mmac4(SSM4)) / IP(src=PEER, dst=SSM4, id=0x902) / UDP(sport=1, dport=5000) /
        Raw(b"ssm"),
        Ether(src=OTHER_MAC, dst=mmac4(SSM4)) / IP(src=OTHER, dst=SSM4, id=0x903) / UDP(sport=1, dport=5000) /
        Raw(b"ssm-other")])
    s["igmp-query-flood-tight"] = many(TIGHT, [igmp4(IGMP(type=0x11, mrcode=1 + i, gaddr="0.0.0.0"), "224.0.0.1")
                                               for i in range(12)])
    s["igmp-no-router-alert"] = one(0, Ether(src=PEER_MAC, dst=mmac4("224.0.0.1")) /
                                    IP(src=PEER, dst="224.0.0.1", ttl=1, id=0x904) / IGMP(type=0x11, mrcode=100))
    # TCP over IPv6 (as is, checksums rewritten): a SYN to the [::]:80 listener, and to a closed port
    s["tcp6-syn-listener"] = tcp1(F, T_RAW, e6() / TCP(sport=41000, dport=80, seq=1000, flags="S", options=SYN_OPTS))
    s["tcp6-syn-closed"] = tcp1(F, T_RAW, e6() / TCP(sport=41001, dport=81, seq=1000, flags="S"))
    s["tcp6-handshake"] = tcpn(F | ONE_BY_ONE, [
        (T_RAW, e6() / TCP(sport=41002, dport=80, seq=5000, flags="S", options=[("MSS", 1440)])),
        (T_RAW, e6() / TCP(sport=41002, dport=80, seq=5001, ack=1, flags="A"))])
    # steered (selector bit 6): handshake, data both ways, FIN; SYN flood to the cookie path; closed port
    X = S_IP6 | S_FIX
    data6 = bytes((i * 5 + 7) & 0xFF for i in range(1428))

    def t6(flags, seq=0, ack=0, sport=42000, options=None, payload=b"", window=65535):
        p = e6() / TCP(sport=sport, dport=80, seq=seq, ack=ack, flags=flags, window=window, options=options or [])
        return p / Raw(payload) if payload else p
    s["tcp6-steer-session"] = tcpn(ONE_BY_ONE, [
        (T_LISTEN | X, t6("S", seq=0x7000, options=SYN_OPTS)),
        (T_SYNRCVD | X | S_TS_REL, t6("A", seq=0, ack=1, options=ts())),
        (T_EST | X | S_TS_REL, t6("PA", seq=0, ack=0, options=ts(), payload=data6[:1428 - 12])),
        (T_EST | X | S_TS_REL, t6("A", seq=1428 - 12, ack=0, options=ts(), payload=data6[:500])),
        (T_EST | X | S_TS_REL, t6("FA", seq=1928 - 12, ack=0, options=ts()))])
    s["tcp6-steer-ooo-sack"] = tcpn(ONE_BY_ONE | ADV_1S, [
        (T_LISTEN | X, t6("S", seq=0x7100, sport=42001, options=SYN_OPTS)),
        (T_SYNRCVD | X | S_TS_REL, t6("A", seq=0, ack=1, sport=42001, options=ts())),
        (T_EST | X | S_TS_REL, t6("A", seq=2000, ack=0, sport=42001, options=ts(), payload=data6[:800])),
        (T_EST | X | S_TS_REL, t6("A", seq=0, ack=0, sport=42001, options=ts(), payload=data6[:1000])),
        (T_EST | X, t6("R", seq=5000, sport=42001))])
    s["tcp6-steer-tight-cookies"] = tcpn(TIGHT, [
        (T_LISTEN | X, t6("S", seq=i * 1000, sport=43000 + i, options=[("MSS", 1440)])) for i in range(4)] + [
        (T_LISTEN | X, t6("S", seq=0x9000, sport=43100, options=[("MSS", 1440)])),
        (T_COOKIE | X, t6("PA", seq=0x9001, ack=0, sport=43100, payload=b"via cookie over v6"))])
    s["tcp6-steer-closed"] = tcpn(0, [(T_CLOSED | X, t6("S", seq=1)), (T_CLOSED | X, t6("A", ack=9))])
    return s


def raw_ip4(src, dst, ident, frag, proto, payload, options=b""):
    """IPv4 header with a correct checksum (scapy would not let the header lengths differ per fragment)."""
    ihl = (20 + len(options)) // 4
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, frag, 64, proto, 0,
                              bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))) + options
    c = sum(struct.unpack("!%dH" % (len(h) // 2), bytes(h)))
    while c >> 16:
        c = (c & 0xFFFF) + (c >> 16)
    struct.pack_into("!H", h, 10, ~c & 0xFFFF)
    return bytes(h) + payload


def regression_seeds():
    r = {}
    # Fragments of one UDP datagram whose pieces each pass the per-fragment size check
    # (offset + len + own header <= 65535) but whose first fragment carries 40 bytes of
    # options: first-fragment header (60) + 65515 bytes of payload = 65575 > 65535.
    # Checksums marked good so the oversize datagram is not dropped for a bad sum.
    total, piece = 65515, 1024
    udp = struct.pack("!HHHH", 1234, 5000, total, 0) + bytes((i * 7) & 0xFF for i in range(total - 8))
    pieces = []
    for off in range(0, total, piece):
        last = off + piece >= total
        opts = b"\x01" * 40 if off == 0 else b""
        frag = (off // 8) | (0 if last else 0x2000)
        pieces.append(bytes(Ether(src=PEER_MAC, dst=LOCAL_MAC, type=0x0800)) + raw_ip4(PEER, LOCAL, 0x5151, frag, 17, udp[off:off + piece], opts))
    r["reasm-oversize-first-fragment-options"] = many(CSUM_GOOD, pieces)
    return r


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    args = [a for a in sys.argv[1:] if a != "--regressions"]
    regress = len(args) != len(sys.argv) - 1
    out = args[0] if args else os.path.join(here, "regressions" if regress else "corpus")
    made = regression_seeds() if regress else seeds()
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(made.items()):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
    print(f"gen_corpus: wrote {len(made)} inputs to {out}")


if __name__ == "__main__":
    main()
