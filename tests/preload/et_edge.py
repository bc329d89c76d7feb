#!/usr/bin/python3
"""et_edge.py server ADDR PORT N | client ADDR PORT N — edge-triggered epoll's
promise: every arrival is an edge. The server accepts one connection, watches
it with EPOLLIN|EPOLLET, drains it to EAGAIN on each event, answers each
request, then sleeps GAP (2 ms) before its next epoll_wait, so the client's next
request arrives while nobody is waiting. Linux reports that arrival as a new
EPOLLIN edge (ep_poll_callback on every sk_data_ready); nginx's keepalive
handling relies on it. The client sends N requests, one at a time.
Exit 0: N requests answered; 1: an edge was missed (epoll_wait timed out).
"""
import os
import select
import socket
import sys
import time


def server(addr, port, n_req):
    gap = float(os.environ.get("GAP", "0.002"))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4)
    ls.settimeout(20)
    print("ready", flush=True)
    c, _ = ls.accept()
    c.setblocking(False)
    ep = select.epoll()
    ep.register(c.fileno(), select.EPOLLIN | select.EPOLLET)
    n = 0
    while n < n_req:
        if not ep.poll(3):
            try:
                waiting = c.recv(64, socket.MSG_PEEK)
            except BlockingIOError:
                waiting = b""
            print("FAIL: no EPOLLIN edge within 3 s for request %d (waiting in the socket: %r)"
                  % (n + 1, waiting), flush=True)
            return 1
        while True:  # drain to EAGAIN, as ET requires
            try:
                d = c.recv(4096)
            except BlockingIOError:
                break
            if not d:
                if n >= n_req:
                    break  # the client is done and closed: its last request was answered
                print("FAIL: peer closed after %d requests" % n, flush=True)
                return 1
            c.send(b"re:" + d)
            n += 1
        time.sleep(gap)  # the next request arrives in this gap
    print("ok %d requests, each arrival an edge" % n, flush=True)
    return 0


def client(addr, port, n_req):
    s = socket.create_connection((addr, port), timeout=5)
    for i in range(n_req):
        s.sendall(b"q%05d" % i)
        try:
            if not s.recv(64):
                print("client: closed at request %d" % (i + 1), flush=True)
                return 1
        except socket.timeout:
            print("client: no answer to request %d in 5 s" % (i + 1), flush=True)
            return 1
        except OSError as e:
            print("client: request %d: %s" % (i + 1, e), flush=True)
            return 1
    print("client: %d answers" % n_req, flush=True)
    return 0


if __name__ == "__main__":
    fn = {"server": server, "client": client}[sys.argv[1]]
    sys.exit(fn(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
