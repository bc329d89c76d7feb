# Echo server program — the getaddrinfo example of Python's socket
# documentation (tries each address getaddrinfo returns), HOST/PORT from argv.
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])
s = None
for res in socket.getaddrinfo(HOST, PORT, socket.AF_UNSPEC,
                              socket.SOCK_STREAM, 0, socket.AI_PASSIVE):
    af, socktype, proto, canonname, sa = res
    try:
        s = socket.socket(af, socktype, proto)
    except OSError as msg:
        s = None
        continue
    try:
        s.bind(sa)
        s.listen(1)
    except OSError as msg:
        s.close()
        s = None
        continue
    break
if s is None:
    print('could not open socket')
    sys.exit(1)
print("ready", flush=True)
conn, addr = s.accept()
with conn:
    print('Connected by', addr, flush=True)
    while True:
        data = conn.recv(1024)
        if not data: break
        conn.send(data)
