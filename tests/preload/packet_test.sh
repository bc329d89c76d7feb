#!/usr/bin/env bash
# packet_test.sh SKIFF — AF_PACKET sockets on a bypass interface under `skiff run`
# (libskiff_preload.so, AF_XDP), checked against the kernel peer's own capture.
#
# ns A: vA, the kernel's 198.18.0.3; skiff serves 198.18.0.2 on it. ns B: vB
# 198.18.0.1, the kernel peer (UDP echo, TCP echo, a UDP sink: packet_capture.py
# peer) and `tcpdump -i vB -w` (never under the preload) for every check.
#
# skiff's stack is per process: a packet socket sees the frames of the process
# it lives in, so each capture below runs in the process that carries the traffic:
#   1. sockets: a Python program opens AF_PACKET SOCK_RAW (ETH_P_ALL, a classic
#      BPF "ip and (udp or tcp)" filter, PACKET_AUXDATA) and SOCK_DGRAM (ETH_P_IP)
#      sockets bound to vA, runs UDP and TCP echo with B: every frame both ways
#      with pkttype OUTGOING / HOST, byte for byte B's capture (as a multiset),
#      the DGRAM payloads equal the RAW frames less the header, auxdata on each,
#      PACKET_STATISTICS equal to what was read, getsockname; then a whole frame
#      sent on the RAW socket reaches B's UDP sink and B's capture.
#   2. ring: TPACKET_V3 PACKET_RX_RING mapped and walked as libpcap does (blocks
#      full and retired on the timeout, consecutive sequence numbers), the
#      frames equal to B's capture.
#   3. libpcap: pcap_create/activate/compile("udp or tcp")/dispatch/dump through
#      ctypes in the traffic's process: the file equals B's capture.
#   4. unmodified tcpdump under the preload: `tcpdump -i vA -w F 'udp or tcp'` is
#      itself the skiff process on vA; B sends UDP to a closed port and TCP SYNs,
#      skiff (in tcpdump's process) answers RSTs: F equals B's capture. (A
#      tcpdump in another process than the traffic's cannot see it: the stack
#      and its taps are per process.)
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
SKIFF=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CAP=$HERE/packet_capture.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$SKIFF" ] || { echo "skip: $SKIFF not built"; exit 77; }
command -v tcpdump >/dev/null || { echo "skip: tcpdump not installed (tools/deps.sh)"; exit 77; }

id=$$
A=pkA$id B=pkB$id VA=pkvA$id VB=pkvB$id
VA=${VA:0:15} VB=${VB:0:15}
LOG=$(mktemp -d /tmp/skiff-pktest.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"
PORT=7000

onskiff() { ip netns exec "$A" timeout -k 5 40 "$SKIFF" run --config "$LOG/skiff.conf" -- "$@"; }

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24   ; the kernel keeps 198.18.0.3
EOF

ip netns exec "$B" $PY "$CAP" peer 198.18.0.1 $PORT >"$LOG/peer.out" 2>&1 &
PIDS+=("$!")
wait_ready "$LOG/peer.out" "$!" || { bad "peer did not start" "$LOG/peer.out"; exit 1; }

# wait_exit PID TENTHS: 0 when PID ended in time
wait_exit() { for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }

# bcap_start NAME: tcpdump on vB ('udp or tcp') into $LOG/NAME.b.pcap; bcap_stop: flush it
bcap_start() {
	ip netns exec "$B" tcpdump -i "$VB" -U -w "$LOG/$1.b.pcap" 'udp or tcp' >"$LOG/$1.b.log" 2>&1 &
	BCAP=$!
	PIDS+=("$BCAP")
	for _ in $(seq 50); do grep -q listening "$LOG/$1.b.log" 2>/dev/null && return; sleep 0.1; done
}
bcap_stop() {
	sleep 0.3
	kill -INT "$BCAP" 2>/dev/null
	wait "$BCAP" 2>/dev/null
}

# 1. packet sockets
bcap_start sock
onskiff $PY "$CAP" sock "$VA" 198.18.0.2 198.18.0.1 $PORT "$LOG/sock.json" >"$LOG/sock.out" 2>&1
sleep 0.5
bcap_stop
if r=$($PY - "$LOG/sock.json" "$LOG/sock.b.pcap" "$LOG/peer.out" "$VA" <<'EOF' 2>&1
import collections, json, struct, sys
def pcap(path):
    b = open(path, "rb").read()
    off, out = 24, []
    while off + 16 <= len(b):
        incl = struct.unpack_from("<I", b, off + 8)[0]
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
j = json.load(open(sys.argv[1]))
bf = pcap(sys.argv[2])
frames = [(t, bytes.fromhex(h)) for t, h in j["frames"]]
out = [f for t, f in frames if t == 4]
inn = [f for t, f in frames if t == 0]
errs = []
if not (j["udp_ok"] == 20 and j["tcp_ok"]):
    errs.append("traffic: udp %d/20 tcp %s" % (j["udp_ok"], j["tcp_ok"]))
if len(out) + len(inn) != len(frames):
    errs.append("pkttypes other than HOST/OUTGOING: %s" % collections.Counter(t for t, _ in frames))
if not out or not inn:
    errs.append("one direction missing: %d out, %d in" % (len(out), len(inn)))
if any(not (f[12:14] == b"\x08\x00" and f[23] in (6, 17)) for _, f in frames):
    errs.append("the BPF filter let other frames through")
mac = bytes.fromhex(j["name"][4])
if any(f[6:12] != mac for f in out) or any(f[0:6] != mac for f in inn):
    errs.append("MACs do not match the direction")
raw = bytes.fromhex(j["sent_raw"]) if j["sent_raw"] else b""
cb, cs = collections.Counter(bf), collections.Counter(out + inn)
if not raw or cb[raw] != 1:
    errs.append("the frame sent on the RAW socket is not in B's capture")
cb[raw] -= 1
if +cb != cs:
    errs.append("capture differs from B's: %d only in skiff's, %d only in B's" %
                (sum((cs - cb).values()), sum((cb - cs).values())))
if ("sink 198.18.0.2:40000 %s" % raw[42:].hex()) not in open(sys.argv[3]).read():
    errs.append("B's UDP sink did not get the RAW frame's payload")
dg = collections.Counter(bytes.fromhex(h) for _, h in j["dgram"])
if any(dg[f[14:]] < n for f, n in collections.Counter(out + inn).items()):
    errs.append("SOCK_DGRAM payloads are not the frames less the link header")
if j["auxdata"] != len(frames):
    errs.append("PACKET_AUXDATA on %d of %d frames" % (j["auxdata"], len(frames)))
if j["stats"] != [len(frames), 0]:
    errs.append("PACKET_STATISTICS %s for %d frames read" % (j["stats"], len(frames)))
if j["name"][:4] != [sys.argv[4], 3, 0, 1]:
    errs.append("getsockname %s" % j["name"])
print("; ".join(errs) if errs else "%d frames (%d out, %d in) = B's capture; RAW frame delivered; %d DGRAM payloads"
      % (len(frames), len(out), len(inn), sum(dg.values())))
sys.exit(1 if errs else 0)
EOF
); then
	ok "packet sockets: $r"
else
	bad "packet sockets: $r" "$LOG/sock.out"
fi

# 2. TPACKET_V3 ring
bcap_start ring
onskiff $PY "$CAP" ring "$VA" 198.18.0.2 198.18.0.1 $PORT "$LOG/ring.json" >"$LOG/ring.out" 2>&1
sleep 0.5
bcap_stop
if r=$($PY - "$LOG/ring.json" "$LOG/ring.b.pcap" <<'EOF' 2>&1
import collections, json, struct, sys
def pcap(path):
    b = open(path, "rb").read()
    off, out = 24, []
    while off + 16 <= len(b):
        incl = struct.unpack_from("<I", b, off + 8)[0]
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
j = json.load(open(sys.argv[1]))
bf = pcap(sys.argv[2])
frames = [(t, bytes.fromhex(h), ln, maclen) for t, h, ln, maclen in j["frames"]]
l4 = [f for t, f, _, _ in frames if len(f) > 23 and f[12:14] == b"\x08\x00" and f[23] in (6, 17)]
errs = []
if not (j["udp_ok"] == 20 and j["tcp_ok"]):
    errs.append("traffic: udp %d/20 tcp %s" % (j["udp_ok"], j["tcp_ok"]))
if collections.Counter(l4) != collections.Counter(bf):
    errs.append("ring's UDP/TCP frames differ from B's capture (%d vs %d)" % (len(l4), len(bf)))
if any(t not in (0, 4) or ln != len(f) or maclen != 14 for t, f, ln, maclen in frames):
    errs.append("a record's pkttype, tp_len or tp_net - tp_mac is wrong")
if {t for t, _, _, _ in frames} != {0, 4}:
    errs.append("not both directions (HOST and OUTGOING): %s" % sorted({t for t, _, _, _ in frames}))
if j["blocks"] < 2 or j["tmo_blocks"] < 1 or j["seqs"] != list(range(1, j["blocks"] + 1)):
    errs.append("blocks %d (timed out %d), sequence %s" % (j["blocks"], j["tmo_blocks"], j["seqs"][:8]))
if j["stats"][:2] != [len(frames), 0]:
    errs.append("PACKET_STATISTICS %s for %d frames" % (j["stats"], len(frames)))
print("; ".join(errs) if errs else "%d frames in %d blocks (%d retired on the timeout) = B's capture"
      % (len(frames), j["blocks"], j["tmo_blocks"]))
sys.exit(1 if errs else 0)
EOF
); then
	ok "TPACKET_V3 ring: $r"
else
	bad "TPACKET_V3 ring: $r" "$LOG/ring.out"
fi

# cmp_pcaps NAME A.pcap B.pcap: same frames (as multisets), at least MIN of them
cmp_pcaps() {
	$PY - "$2" "$3" "$4" <<'EOF'
import collections, struct, sys
def pcap(path):
    b = open(path, "rb").read()
    off, out = 24, []
    while off + 16 <= len(b):
        incl = struct.unpack_from("<I", b, off + 8)[0]
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
a, b = pcap(sys.argv[1]), pcap(sys.argv[2])
same = collections.Counter(a) == collections.Counter(b)
print("%d frames, B's capture %d frames%s" % (len(a), len(b), "" if same else ": they differ"))
sys.exit(0 if same and len(a) >= int(sys.argv[3]) else 1)
EOF
}

# 3. libpcap in the traffic's process
bcap_start pcap
onskiff $PY "$CAP" pcap "$VA" 198.18.0.2 198.18.0.1 $PORT "$LOG/lp.pcap" >"$LOG/pcap.out" 2>&1
sleep 0.5
bcap_stop
if grep -q '"udp_ok": 20, "tcp_ok": true' "$LOG/pcap.out" && r=$(cmp_pcaps pcap "$LOG/lp.pcap" "$LOG/pcap.b.pcap" 60); then
	ok "libpcap (TPACKET_V3, filter \"udp or tcp\"): $r"
else
	bad "libpcap: ${r:-no capture}" "$LOG/pcap.out"
fi

# 4. unmodified tcpdump under the preload
bcap_start td
ip netns exec "$A" timeout -k 5 30 "$SKIFF" run --config "$LOG/skiff.conf" -- \
	tcpdump -i "$VA" -U -w "$LOG/td.a.pcap" -c 11 'udp or tcp' >"$LOG/td.a.log" 2>&1 &
TD=$!
PIDS+=("$TD")
for _ in $(seq 100); do grep -q listening "$LOG/td.a.log" 2>/dev/null && break; sleep 0.1; done
ip netns exec "$B" $PY - <<'EOF' >"$LOG/td.peer.log" 2>&1
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    u.sendto(b"to a closed port %d" % i, ("198.18.0.2", 9))
    time.sleep(0.05)
for i in range(3):  # SYN in, RST out (skiff in tcpdump's own process answers)
    try:
        socket.create_connection(("198.18.0.2", 9), timeout=2)
    except ConnectionRefusedError:
        print("refused")
EOF
wait_exit "$TD" 100 || kill -INT "$TD" 2>/dev/null
wait "$TD" 2>/dev/null
bcap_stop
if [ "$(grep -c refused "$LOG/td.peer.log")" -eq 3 ] && r=$(cmp_pcaps td "$LOG/td.a.pcap" "$LOG/td.b.pcap" 11); then
	ok "tcpdump -i $VA under the preload: $r"
else
	bad "tcpdump under the preload: ${r:-no capture}" "$LOG/td.a.log" "$LOG/td.peer.log"
fi

[ "$fails" -eq 0 ] && exit 0 || exit 1
