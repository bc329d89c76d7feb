# Echo client program — the IPv4 example of Python's socket documentation,
# with HOST and PORT from the command line.
import socket
import sys

HOST = sys.argv[1]        # The remote host
PORT = int(sys.argv[2])   # The same port as used by the server
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    print('Local', s.getsockname(), flush=True)
    s.sendall(b'Hello, world')
    data = s.recv(1024)
print('Received', repr(data))
