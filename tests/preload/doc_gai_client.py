# Echo client program — the getaddrinfo example of Python's socket
# documentation, HOST/PORT from argv.
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])
s = None
for res in socket.getaddrinfo(HOST, PORT, socket.AF_UNSPEC, socket.SOCK_STREAM):
    af, socktype, proto, canonname, sa = res
    try:
        s = socket.socket(af, socktype, proto)
    except OSError as msg:
        s = None
        continue
    try:
        s.connect(sa)
    except OSError as msg:
        s.close()
        s = None
        continue
    break
if s is None:
    print('could not open socket')
    sys.exit(1)
with s:
    print('Local', s.getsockname(), flush=True)
    s.sendall(b'Hello, world')
    data = s.recv(1024)
print('Received', repr(data))
