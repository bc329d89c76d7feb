#!/usr/bin/env python3
"""raw6_client.py — IPv6 raw ICMPv6 socket client and an IPv6 sampler for
raw6_test.sh, with nothing but Python's socket module (run under the preload on
skiff, or on the kernel). Each mode prints one JSON line; the script checks it.

  echo6 DST      SOCK_RAW/IPPROTO_ICMPV6 with ICMP6_FILTER passing only echo
                 replies and IPV6_RECVHOPLIMIT: 3 echo requests with checksum 0
                 (the stack computes it: RFC 3542 3.1), the replies as Linux
                 gives them (no IPv6 header), their hop limits; getsockopt
                 ICMP6_FILTER gives the filter back; IPV6_CHECKSUM at level
                 IPPROTO_IPV6 is refused with EINVAL on an ICMPv6 socket
  listen6 SECS N ADDR  SOCK_RAW/IPPROTO_ICMPV6 bound to ADDR, no filter: count
                 the echo requests
                 (a kernel host pinging skiff; the stack answers them) until N
                 or SECS, and the ND messages seen meanwhile
  sniff6 IF SECS AF_PACKET on IF: count ICMPv6 echo requests/replies per
                 "src>dst/type" until SIGTERM or SECS
"""
import errno
import json
import select
import signal
import socket
import struct
import sys
import time

ICMP6_FILTER = 1
IPV6_CHECKSUM = 7
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52


def mode_echo6(dst):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    # struct icmp6_filter: a set bit blocks the type; pass 129 (echo reply) only
    filt = [0xFFFFFFFF] * 8
    filt[129 >> 5] &= ~(1 << (129 & 31)) & 0xFFFFFFFF
    fbytes = struct.pack("8I", *filt)
    s.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, fbytes)
    got_filter = s.getsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, 32) == fbytes
    try:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 2)
        csum_refused = 0
    except OSError as e:
        csum_refused = e.errno
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    s.settimeout(2.0)
    ident = 0x6b6b
    out = {"replies": 0, "no_header": 0, "srcs": {}, "hoplimits": [], "filter_get": got_filter,
           "checksum_einval": csum_refused == errno.EINVAL, "other_types": 0}
    for seq in range(1, 4):
        req = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + b"skiff-raw6-test"
        s.sendto(req, (dst, 0))
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                data, anc, _, src = s.recvmsg(2048, socket.CMSG_SPACE(4))
            except socket.timeout:
                break
            if len(data) < 8:
                continue
            t, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
            if t != 129:
                out["other_types"] += 1  # ICMP6_FILTER should have kept these away
                continue
            if rid != ident or rseq != seq:
                continue
            out["replies"] += 1
            if data[8:] == b"skiff-raw6-test":
                out["no_header"] += 1
            out["srcs"][src[0]] = out["srcs"].get(src[0], 0) + 1
            for lvl, typ, val in anc:
                if lvl == socket.IPPROTO_IPV6 and typ == IPV6_HOPLIMIT:
                    out["hoplimits"].append(struct.unpack("i", val[:4])[0])
            break
    print(json.dumps(out), flush=True)


def mode_listen6(secs, want, addr):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.bind((addr, 0))  # skiff's address: the bind makes the socket skiff's
    s.settimeout(0.5)
    out = {"requests": 0, "srcs": {}, "nd": 0}
    print("ready", flush=True)
    end = time.monotonic() + secs
    while time.monotonic() < end and out["requests"] < want:
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        if data and data[0] == 128:
            out["requests"] += 1
            out["srcs"][src[0]] = out["srcs"].get(src[0], 0) + 1
        elif data and 133 <= data[0] <= 137:
            out["nd"] += 1
    print(json.dumps(out), flush=True)


def mode_sniff6(iface, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
    s.bind((iface, 0))
    s.setblocking(False)
    flows, stop = {}, [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    print("ready", flush=True)
    end = time.monotonic() + secs
    while True:
        done = stop[0] or time.monotonic() >= end
        if not done:  # after SIGTERM: one last drain of what is queued (a busy host lags)
            try:
                r, _, _ = select.select([s], [], [], 0.2)
            except InterruptedError:
                continue
            if not r:
                continue
        while True:
            try:
                f = s.recv(256)
            except BlockingIOError:
                break
            ip = f[14:]
            if len(ip) < 41 or ip[6] != 58 or ip[40] not in (128, 129):
                continue
            key = "%s>%s/%d" % (socket.inet_ntop(socket.AF_INET6, ip[8:24]),
                                socket.inet_ntop(socket.AF_INET6, ip[24:40]), ip[40])
            flows[key] = flows.get(key, 0) + 1
        if done:
            break
    print(json.dumps({"flows": flows}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo6":
        mode_echo6(sys.argv[2])
    elif sys.argv[1] == "listen6":
        mode_listen6(float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "sniff6":
        mode_sniff6(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit("unknown mode " + sys.argv[1])
