# apps.py ROLE ARGS... — small Python programs for tests/preload/python_test.sh.
# The "skiff side" roles run under libskiff_preload.so; the "peer" roles run on
# the kernel in the other namespace. Every role checks what it can itself and
# exits non-zero with one line on a mismatch; servers print "ready" when
# listening. All waits are bounded.
import hashlib
import os
import select
import selectors
import socket
import sys
import threading
import time

def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)

def pattern(n, seed):
    out = bytearray()
    h = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        out += h
        h = hashlib.sha256(h).digest()
    return bytes(out[:n])

# ---- skiff side ----

def udp_server(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    s.settimeout(20)
    print("ready", flush=True)
    for _ in range(int(count)):
        data, addr = s.recvfrom(65535)
        s.sendto(data, addr)
    s.close()

def semantics(host, peer, closed_port):
    """Timeouts, non-blocking calls and getsockopt values as Python documents them."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, 0))
    if u.getsockname()[0] != host or u.getsockname()[1] == 0:
        fail("udp getsockname %r" % (u.getsockname(),))
    u.settimeout(0.3)
    t0 = time.monotonic()
    try:
        u.recvfrom(100)
        fail("recvfrom with nothing sent returned")
    except socket.timeout:
        pass
    dt = time.monotonic() - t0
    if not 0.25 <= dt < 3:
        fail("settimeout(0.3) waited %.3f s" % dt)
    u.setblocking(False)
    try:
        u.recv(10)
        fail("non-blocking recv returned")
    except BlockingIOError:
        pass
    if u.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) != socket.SOCK_DGRAM:
        fail("SO_TYPE udp")
    u.close()

    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, 0))
    l.listen(5)
    for opt, want in ((socket.SO_TYPE, socket.SOCK_STREAM), (socket.SO_DOMAIN, socket.AF_INET),
                      (socket.SO_PROTOCOL, socket.IPPROTO_TCP), (socket.SO_ACCEPTCONN, 1),
                      (socket.SO_ERROR, 0), (socket.SO_REUSEADDR, 1)):
        got = l.getsockopt(socket.SOL_SOCKET, opt)
        if got != want:
            fail("listener getsockopt %d = %r, want %r" % (opt, got, want))
    l.settimeout(0.2)
    try:
        l.accept()
        fail("accept with no client returned")
    except socket.timeout:
        pass
    l.close()

    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect((peer, int(closed_port)))
        fail("connect to a closed port succeeded")
    except ConnectionRefusedError:
        pass
    c.close()

    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    err = c.connect_ex((peer, int(closed_port)))
    if err not in (0, 115):  # EINPROGRESS
        fail("non-blocking connect_ex %d" % err)
    r, w, x = select.select([], [c], [], 5)
    if c not in w:
        fail("non-blocking connect never became writable")
    if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 111:  # ECONNREFUSED
        fail("SO_ERROR after a refused non-blocking connect")
    c.close()
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).getsockopt(socket.SOL_SOCKET, 12345)
        fail("unknown option accepted")
    except OSError as e:
        if e.errno != 92:  # ENOPROTOOPT
            fail("unknown option errno %d" % e.errno)
    print("semantics ok")

def serve_loop(kind, host, port, nclients):
    """Non-blocking echo server over selectors (epoll), select.select or select.poll."""
    nclients = int(nclients)
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, int(port)))
    l.listen(64)
    l.setblocking(False)
    print("ready", flush=True)
    conns, done = {}, 0
    deadline = time.monotonic() + 60
    sel = selectors.DefaultSelector() if kind == "selectors" else None
    pl = select.poll() if kind == "poll" else None
    if sel:
        sel.register(l, selectors.EVENT_READ)
    if pl:
        pl.register(l.fileno(), select.POLLIN)
    byfd = {l.fileno(): l}
    while done < nclients:
        if time.monotonic() > deadline:
            fail("%s server: %d of %d clients done in time" % (kind, done, nclients))
        if sel:
            ready = [k.fileobj for k, _ in sel.select(1)]
        elif pl:
            ready = [byfd[fd] for fd, _ in pl.poll(1000)]
        else:
            ready, _, _ = select.select([l] + list(conns), [], [], 1)
        for s in ready:
            if s is l:
                try:
                    c, _ = l.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                conns[c] = b""
                byfd[c.fileno()] = c
                if sel:
                    sel.register(c, selectors.EVENT_READ)
                if pl:
                    pl.register(c.fileno(), select.POLLIN)
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                if sel:
                    sel.unregister(s)
                if pl:
                    pl.unregister(s.fileno())
                del byfd[s.fileno()]
                del conns[s]
                s.close()
                done += 1
                continue
            s.setblocking(True)
            s.sendall(data)
            s.setblocking(False)
    print("%s server: %d clients served" % (kind, done))

def fork_case(host, peer, peer_port, port):
    """A skiff listener, then fork: the child's new sockets are the kernel's; the
    parent keeps serving on skiff."""
    l = socket.socket()
    l.bind((host, int(port)))
    l.listen(1)
    pid = os.fork()
    if pid == 0:
        c = socket.create_connection((peer, int(peer_port)), timeout=5)
        src = c.getsockname()[0]
        c.sendall(b"child")
        c.close()
        os._exit(0 if src != host else 3)  # the kernel's address, not skiff's
    _, st = os.waitpid(pid, 0)
    if os.WEXITSTATUS(st) != 0:
        fail("forked child: status %d" % os.WEXITSTATUS(st))
    print("ready", flush=True)
    l.settimeout(20)
    c, _ = l.accept()
    data = c.recv(100)
    c.sendall(data)
    c.close()
    print("fork ok")

def exit_flush(peer, port, size):
    """Send and exit at once: the data must still all arrive (the kernel's exit behaviour)."""
    c = socket.create_connection((peer, int(port)), timeout=10)
    c.sendall(pattern(int(size), 7))
    # no close, no wait: the process ends with the data still in flight

def families():
    """What the kernel answers for the families skiff never serves: printed, so
    a run under the preload can be compared with a run without it."""
    for name in ("AF_CAN", "AF_BLUETOOTH", "AF_ALG", "AF_VSOCK", "AF_PACKET", "AF_NETLINK", "AF_UNIX"):
        fam = getattr(socket, name, None)
        if fam is None:
            print(name, "absent")
            continue
        for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET):
            try:
                s = socket.socket(fam, typ)
                print(name, int(typ), "ok", s.family, s.type)
                s.close()
            except OSError as e:
                print(name, int(typ), "errno", e.errno)
    # SCM_RIGHTS over a UNIX socketpair: a pipe's read end crosses and still reads
    a, b = socket.socketpair()
    r, w = os.pipe()
    socket.send_fds(a, [b"fd"], [r])
    msg, fds, flags, addr = socket.recv_fds(b, 10, 1)
    os.write(w, b"through")
    print("scm_rights", msg, os.read(fds[0], 7))
    # AF_NETLINK: a route dump answers
    n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    n.bind((0, 0))
    import struct
    req = struct.pack("=LHHLLBxxx", 16 + 4, 18, 0x301, 1, 0, socket.AF_UNSPEC)  # RTM_GETLINK dump
    n.send(req)
    print("netlink", len(n.recv(65536)) > 0)

def exit_blocked(host):
    """Exit while daemon threads are blocked in skiff calls (recv, accept, epoll)
    or spinning through them:
    the process must end cleanly (status 0), not crash in skiff's teardown."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, 0))
    l = socket.socket()
    l.bind((host, 0))
    l.listen(1)
    ep = select.epoll()
    ep.register(u.fileno(), select.EPOLLIN)
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    v.bind((host, 0))
    v.setblocking(False)

    def spin():  # in and out of skiff without pause: busy in it when exit comes
        while True:
            try:
                v.recv(10)
            except BlockingIOError:
                pass

    for fn in (lambda: u.recv(10), lambda: l.accept(), lambda: ep.poll(60), spin, spin):
        threading.Thread(target=fn, daemon=True).start()
    time.sleep(0.3)  # three asleep inside skiff, two spinning through it
    print("exiting", flush=True)

# ---- kernel side ----

def udp_client(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for i in range(int(count)):
        msg = pattern(1 + (i * 97) % 1400, i)
        for attempt in range(5):
            s.sendto(msg, (host, int(port)))
            try:
                data, addr = s.recvfrom(65535)
                break
            except socket.timeout:
                continue
        else:
            fail("no echo for datagram %d" % i)
        if data != msg or addr != (host, int(port)):
            fail("datagram %d echoed wrong (%d bytes from %r)" % (i, len(data), addr))
    print("udp client: %d datagrams echoed" % int(count))

def multi_client(host, port, n, size):
    errors = []
    def one(i):
        try:
            msg = pattern(int(size), i)
            c = socket.create_connection((host, int(port)), timeout=20)
            got = bytearray()
            t = threading.Thread(target=c.sendall, args=(msg,))
            t.start()
            while len(got) < len(msg):
                d = c.recv(65536)
                if not d:
                    break
                got += d
            t.join()
            c.close()
            if bytes(got) != msg:
                errors.append("client %d: %d of %d bytes, equal=%s" % (i, len(got), len(msg), bytes(got) == msg[:len(got)]))
        except Exception as e:
            errors.append("client %d: %r" % (i, e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(int(n))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    if errors:
        fail("; ".join(errors))
    print("multi client: %s x %s bytes echoed" % (n, size))

def sink(host, port, size, count=1):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, int(port)))
    l.listen(4)
    l.settimeout(30)
    print("ready", flush=True)
    for _ in range(int(count)):
        c, addr = l.accept()
        c.settimeout(30)
        got = bytearray()
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
        c.close()
        if int(size) and bytes(got) != pattern(int(size), 7):
            fail("sink: %d of %s bytes from %r" % (len(got), size, addr))
        print("sink: %d bytes from %s" % (len(got), addr[0]), flush=True)

ROLES = {
    "udp-server": udp_server, "semantics": semantics, "families": families, "exit-blocked": exit_blocked, "fork": fork_case, "exit-flush": exit_flush,
    "udp-client": udp_client, "multi-client": multi_client, "sink": sink,
    "selectors-server": lambda *a: serve_loop("selectors", *a),
    "select-server": lambda *a: serve_loop("select", *a),
    "poll-server": lambda *a: serve_loop("poll", *a),
}

if __name__ == "__main__":
    ROLES[sys.argv[1]](*sys.argv[2:])
