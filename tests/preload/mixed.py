#!/usr/bin/python3
"""mixed.py PEER PORT NBYTES — run under the preload: one program that uses a
kernel AF_UNIX socketpair and a TCP connection (on skiff) at once.

A producer thread writes NBYTES of seeded random data into one end of a
socketpair; the main loop (selectors: one epoll over the UNIX fd and the TCP
fd) moves what comes out of the other end to the TCP peer (an echo server) and
what the peer echoes back into the socketpair; a consumer thread reads it at
the first end. Checks: what came back through the socketpair is byte-exact
(SHA-256, length), and the UNIX side's own features work beside skiff
(SCM_RIGHTS passing a pipe, SOCK_DGRAM socketpair). Prints one JSON line:
{"tcp_local": [ip, port], "tcp_peer": [...], "sent", "back", "sha_sent",
"sha_back", "unix_ok", "errors": [...]}; exit 0 when everything matched.
"""
import array
import hashlib
import json
import os
import random
import selectors
import socket
import sys
import threading
import time

peer, port, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
errors = []
result = {}

# -- the UNIX side on its own: SCM_RIGHTS and a datagram pair --------------
def unix_checks():
    ok = True
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = os.pipe()
    fds = array.array("i", [w])
    x.sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    msg, anc, _, _ = y.recvmsg(16, socket.CMSG_SPACE(4))
    got = array.array("i")
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            got.frombytes(data[: len(data) - (len(data) % got.itemsize)])
    if msg != b"fd" or len(got) != 1:
        errors.append("SCM_RIGHTS: got %r %r" % (msg, list(got)))
        ok = False
    else:
        os.write(got[0], b"through the passed pipe")
        if os.read(r, 64) != b"through the passed pipe":
            errors.append("passed pipe fd does not work")
            ok = False
        os.close(got[0])
    for f in (r, w):
        os.close(f)
    x.close(); y.close()
    d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    for n in (1, 100, 60000):
        d1.send(b"u" * n)
        if d2.recv(65536) != b"u" * n:
            errors.append("AF_UNIX SOCK_DGRAM %d B not preserved" % n)
            ok = False
    d1.close(); d2.close()
    return ok

result["unix_ok"] = unix_checks()

# -- the relay -------------------------------------------------------------
a, b = socket.socketpair()          # kernel AF_UNIX
t = socket.create_connection((peer, port), timeout=10)
result["tcp_local"] = list(t.getsockname())
result["tcp_peer"] = list(t.getpeername())
data = random.Random(1234).randbytes(nbytes)
back = bytearray()

def producer():
    try:
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
    except OSError as e:
        errors.append("producer: %r" % e)

def consumer():
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            back.extend(d)
    except OSError as e:
        errors.append("consumer: %r" % e)

threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for th in threads:
    th.start()

b.setblocking(False)
t.setblocking(False)
sel = selectors.DefaultSelector()   # epoll: a kernel fd and a skiff fd in one set
to_tcp, to_unix = bytearray(), bytearray()
eof = {b: False, t: False}
shut = {b: False, t: False}         # our write side shut down
registered = {}

def update(s, pending):
    ev = (0 if eof[s] else selectors.EVENT_READ) | (selectors.EVENT_WRITE if pending else 0)
    if registered.get(s) == ev:
        return
    if s in registered:
        sel.unregister(s)
        del registered[s]
    if ev:
        sel.register(s, ev)
        registered[s] = ev

deadline = time.monotonic() + 60
while not (shut[b] and shut[t]):
    update(b, to_unix)
    update(t, to_tcp)
    if time.monotonic() > deadline:
        errors.append("relay: not finished in 60 s (%d B back so far)" % len(back))
        break
    for key, ev in sel.select(timeout=5):
        s = key.fileobj
        if ev & selectors.EVENT_READ:
            try:
                d = s.recv(65536)
            except BlockingIOError:
                d = None
            if d == b"":
                eof[s] = True
            elif d:
                (to_tcp if s is b else to_unix).extend(d)
        if ev & selectors.EVENT_WRITE:
            buf = to_tcp if s is t else to_unix
            try:
                del buf[: s.send(buf)]
            except BlockingIOError:
                pass
    # an end that has said all it will say: pass its EOF on once its data is out
    if eof[b] and not to_tcp and not shut[t]:
        t.shutdown(socket.SHUT_WR)
        shut[t] = True
    if eof[t] and not to_unix and not shut[b]:
        b.shutdown(socket.SHUT_WR)
        shut[b] = True

for th in threads:
    th.join(30)
result.update(sent=len(data), back=len(back),
              sha_sent=hashlib.sha256(data).hexdigest(),
              sha_back=hashlib.sha256(back).hexdigest(), errors=errors)
print(json.dumps(result), flush=True)
ok = result["unix_ok"] and not errors and result["sha_sent"] == result["sha_back"]
sys.exit(0 if ok else 1)
