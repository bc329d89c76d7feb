#!/usr/bin/env python3
"""ip6_hostile.py IFACE DST DST_MAC PORT — hostile IPv6 input at a UDP echo
server (DST:PORT, reached through IFACE), with scapy, from the kernel peer's
namespace; ip6_test.sh checks afterwards that legit traffic still flows.

  1. overlapping fragments (RFC 5722: the whole datagram must go): no echo
  2. tiny fragments: 8-byte pieces past the per-datagram limit, and 2000
     datagrams' first fragments that never complete (slots, memory)
  3. extension-header chains: 12 Destination Options headers (Linux's limit)
     before UDP are answered; 13 are not
  4. NA spoofing: unsolicited Override NAs claiming DST for another MAC
     (sent to DST's MAC only, so this namespace's own cache stays right)
Prints one line per case ("ok ..." / "FAIL ..."); exit 1 if any failed.
"""
import sys

import time

from scapy.all import (AsyncSniffer, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       Ether, PadN, Raw, UDP, conf, get_if_hwaddr, sendp)

conf.verb = 0
IFACE, DST, DST_MAC, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
SRC = "2001:2::1"
MAC = get_if_hwaddr(IFACE)
fails = 0


def report(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        fails += 1


def eth():
    return Ether(src=MAC, dst=DST_MAC)


def echoed(pkts, sport, timeout=1.5):
    """Send pkts; did a UDP reply to sport come back?"""
    sn = AsyncSniffer(iface=IFACE, store=True,
                      lfilter=lambda r: r.haslayer(UDP) and r[UDP].dport == sport and r[UDP].sport == PORT)
    sn.start()
    time.sleep(0.2)
    sendp(pkts, iface=IFACE)
    time.sleep(timeout)
    got = sn.stop()
    return len(got) > 0


def frag_pieces(fid, sport, payload, cuts):
    """Fragments of one UDP datagram, (offset, length) pieces of its UDP bytes."""
    # the checksum over the real pseudo-header: scapy computes it on the whole
    full = IPv6(src=SRC, dst=DST) / UDP(sport=sport, dport=PORT) / Raw(payload)
    udp = bytes(full[UDP])
    out = []
    for off, ln in cuts:
        more = off + ln < len(udp)
        out.append(eth() / IPv6(src=SRC, dst=DST, nh=44) /
                   IPv6ExtHdrFragment(nh=17, offset=off // 8, m=int(more), id=fid) / Raw(udp[off:off + ln]))
    return out


# 1. overlap: two middle fragments cover the same bytes with different data
payload = bytes(range(256)) * 4
L = 8 + len(payload)
pieces = frag_pieces(0x1001, 40001, payload, [(0, 512), (256, 512), (768, L - 768)])
report(not echoed(pieces, 40001), "overlapping fragments: the whole datagram dropped, no echo")

# 2. tiny fragments: 200 pieces of 8 bytes (limit 128 per datagram)
tiny = frag_pieces(0x1002, 40002, bytes(1592), [(i * 8, 8) for i in range(200)])
report(not echoed(tiny, 40002, timeout=3), "200 tiny fragments: past the per-datagram limit, dropped")
sendp([eth() / IPv6(src=SRC, dst=DST, nh=44) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=0x20000 + i) /
       Raw(bytes(UDP(sport=40003, dport=PORT, len=1000)) + bytes(8)) for i in range(2000)], iface=IFACE)
report(True, "2000 never-completed first fragments sent (reassembly slots and memory)")

# 3. extension headers at and past the limit
def chain(n, sport):
    p = IPv6(src=SRC, dst=DST)
    for _ in range(n):
        p = p / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00\x00\x00")])
    return eth() / p / UDP(sport=sport, dport=PORT) / Raw(b"chain")


report(echoed(chain(12, 40004), 40004), "12 extension headers: accepted and echoed")
report(not echoed(chain(13, 40005), 40005), "13 extension headers: dropped (RFC 8504 5.3 limit)")

# 4. NA spoofing for DST
na = eth() / IPv6(src="fe80::dead", dst="ff02::1", hlim=255) / ICMPv6ND_NA(tgt=DST, R=0, S=0, O=1) / \
    ICMPv6NDOptDstLLAddr(lladdr="02:de:ad:be:ef:01")
sendp([na] * 50, iface=IFACE)
report(True, "50 spoofed NAs for %s sent" % DST)
sys.exit(1 if fails else 0)
