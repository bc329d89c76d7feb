#!/usr/bin/python3
"""sig_edge.py recv|epoll|sigwait ADDR

recv, epoll: a blocking call on an idle socket must be
interrupted by a signal whose handler runs while it blocks (EINTR; Python then
runs the handler, PEP 475). SIGALRM fires after 0.3 s; the handler raises.
Under the preload with SKIFF_STACK_BUSY_POLL_US=1000000 the call is still in
skiff's busy-poll phase (user space) at 0.3 s, so this checks that a signal
taken there ends the call too (as it would in the kernel's epoll_wait/recv).
Exit 0 and "ok ..." when interrupted; the caller bounds the run (a hang fails).

sigwait: after a socket exists (skiff has booted, its progress thread runs),
the program blocks SIGUSR1, sends it to itself (kill(getpid())), and 0.2 s
later takes it with sigtimedwait. Linux delivers a process-directed signal only to a
thread that does not block it — here none of the program's — so sigtimedwait
returns it. A library thread that leaves it unblocked takes it instead, and
SIGUSR1's default action ends the process (status 138).
"""
import os
import select
import signal
import socket
import sys
import time


class Alarm(Exception):
    pass


def handler(*_):
    raise Alarm


mode, addr = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 0))
if mode == "sigwait":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    os.kill(os.getpid(), signal.SIGUSR1)
    time.sleep(0.2)  # pending for the process meanwhile (Linux: blocked everywhere, it waits)
    info = signal.sigtimedwait({signal.SIGUSR1}, 3)
    if info is None:
        print("FAIL: sigtimedwait saw no SIGUSR1 in 3 s")
        sys.exit(1)
    print("ok sigtimedwait got SIGUSR1 (%d) sent to the process" % info.si_signo, flush=True)
    sys.exit(0)
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN)
signal.signal(signal.SIGALRM, handler)
t0 = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    if mode == "recv":
        s.recv(100)
    else:
        ep.poll(-1)
    print("FAIL: %s returned without data or signal" % mode)
    sys.exit(1)
except Alarm:
    print("ok %s interrupted by SIGALRM after %.3f s" % (mode, time.monotonic() - t0), flush=True)
