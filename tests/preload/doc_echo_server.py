# Echo server program — the IPv4 example of Python's socket documentation
# (https://docs.python.org/3/library/socket.html#example), with HOST and PORT
# from the command line; prints "ready" once listening (for the test script).
import socket
import sys

HOST = sys.argv[1]             # the address skiff serves
PORT = int(sys.argv[2])        # Arbitrary non-privileged port
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind((HOST, PORT))
    s.listen(1)
    print("ready", flush=True)
    conn, addr = s.accept()
    with conn:
        print('Connected by', addr, flush=True)
        while True:
            data = conn.recv(1024)
            if not data: break
            conn.sendall(data)
