#!/usr/bin/env bash
# echo_test.sh SKIFF_ECHO VARIANT — skiff on a real interface against the Linux
# kernel, in network namespaces this script creates and always removes.
#
# VARIANT: afxdp | dpdk-af_packet | dpdk-af_xdp | dpdk-tap
#
# Topology (198.18.0.0/15 only):
#   ns A: veth vA — the kernel's own 198.18.0.3/24, skiff's 198.18.0.2 (same MAC)
#   ns B: veth vB 198.18.0.1/24, router (ip_forward) to ns C over vB2 198.18.3.1/24
#   ns C: vC 198.18.3.2/24, default route via 198.18.3.1
#   dpdk-tap: DPDK creates tap T in ns A; the kernel peer is T (198.18.1.1/24),
#   skiff is 198.18.1.2; no router part.
# Checks, each a line "ok"/"FAIL": kernel ping → skiff; kernel UDP client ↔ skiff
# echo, 1 B … 65507 B byte-exact; the kernel resolved skiff's MAC by ARP; the
# kernel's own address on the same interface still answers (steering, afxdp);
# skiff client → kernel echo server (skiff resolves the kernel's MAC by ARP); skiff
# reaches ns C through its default gateway; clean exit and no XDP program left
# (afxdp); error paths: missing interface, missing queue, no permission.
# Every foreground command is bounded (timeout 60, then SIGKILL); background
# processes (skiff, the kernel's echo servers) are recorded and killed on exit; a
# server is used only after it printed "ready". Nothing is mounted on the host:
# skiff mounts bpffs itself inside the mount namespace `ip netns exec` gives it.
# Exit 0 all ok, 1 a check failed, 77 skipped (not root, or the driver absent).
set -u
ECHO=$1
VARIANT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=(/usr/bin/python3 "$HERE/udp_peer.py")
SIZES=1,2,64,512,1472,1473,2000,4000,8972,9000,16384,30000,65000,65507

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (namespaces, XDP)"; exit 77; }
[ -x "$ECHO" ] || { echo "skip: $ECHO not built"; exit 77; }
"$ECHO" --list-drivers | grep -qw "${VARIANT%%-*}" || { echo "skip: skiff-echo built without ${VARIANT%%-*}"; exit 77; }

id=$$
A=skA$id B=skB$id C=skC$id
VA=vA$id VB=vB$id VB2=vR$id VC=vC$id TAP=skt$id
LOG=$(mktemp -d /tmp/skiff-it.XXXXXX)
SKIFF_PID=
PEER_PIDS=()
fails=0

cleanup() {
	[ -n "$SKIFF_PID" ] && kill -9 "$SKIFF_PID" 2>/dev/null
	for p in "${PEER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() { # check "what" command...
	local what=$1
	shift
	if "$@" >"$LOG/check.out" 2>&1; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		sed 's/^/     | /' "$LOG/check.out" | tail -n 25
		fails=$((fails + 1))
	fi
}

if ! ip netns add "$A" 2>/dev/null; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
ip netns add "$B" && ip netns add "$C" || exit 1
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$C" link set lo up
ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B"
ip link add "$VB2" netns "$B" type veth peer name "$VC" netns "$C"
ip -n "$A" addr add 198.18.0.3/24 dev "$VA"
ip -n "$B" addr add 198.18.0.1/24 dev "$VB"
ip -n "$B" addr add 198.18.3.1/24 dev "$VB2"
ip -n "$C" addr add 198.18.3.2/24 dev "$VC"
for l in "$A:$VA" "$B:$VB" "$B:$VB2" "$C:$VC"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
ip -n "$C" route add default via 198.18.3.1
ip netns exec "$B" sysctl -qw net.ipv4.ip_forward=1
# veth hands frames with a pending (CHECKSUM_PARTIAL) UDP checksum to XDP and
# af_packet; a NIC would have filled it in. Have the kernel side fill it.
ip netns exec "$B" ethtool -K "$VB" tx off >/dev/null 2>&1
ip netns exec "$B" ethtool -K "$VB2" tx off >/dev/null 2>&1
MAC_A=$(ip -n "$A" -br link show "$VA" | awk '{print $3}')

SKIFF_IP=198.18.0.2 PEER_IP=198.18.0.1 PEER_NS=$B PREFIX=24 GW=198.18.0.1 GW_SIZES=1,1472,4000,65507
EAL="--no-huge -m 512 --no-pci --no-shconf -l 0"
case $VARIANT in
afxdp) ARGS=(--driver afxdp --iface "$VA") ;;
dpdk-af_packet)
	ARGS=(--driver dpdk --dpdk-eal "$EAL --vdev=net_af_packet0,iface=$VA" --dpdk-port net_af_packet0)
	# DPDK 22.11's af_packet PMD always asks the kernel to reassemble IPv4
	# (PACKET_FANOUT_FLAG_DEFRAG; "defrag=0" arrives in DPDK 25.x): a fragmented
	# datagram reaches it as one frame larger than its 2 KiB ring slots and is cut.
	# Only unfragmented sizes can cross it inbound.
	SIZES=1,2,64,512,1000,1472 GW_SIZES=1,64,1472
	;;
dpdk-af_xdp) ARGS=(--driver dpdk --dpdk-eal "$EAL --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1" --dpdk-port net_af_xdp0) ;;
dpdk-tap)
	ARGS=(--driver dpdk --dpdk-eal "$EAL --vdev=net_tap0,iface=$TAP" --dpdk-port net_tap0)
	SKIFF_IP=198.18.1.2 PEER_IP=198.18.1.1 PEER_NS=$A GW=
	# a persistent tap: each skiff run attaches to it, the kernel's side keeps
	# its address between runs
	ip -n "$A" tuntap add mode tap multi_queue name "$TAP" || exit 1
	ip -n "$A" addr add 198.18.1.1/24 dev "$TAP"
	ip -n "$A" link set "$TAP" up
	ip netns exec "$A" ethtool -K "$TAP" tx off >/dev/null 2>&1
	;;
*) echo "unknown variant $VARIANT"; exit 2 ;;
esac

start_skiff() { # start_skiff ARGS... → SKIFF_PID, waits for "ready" (10 s)
	ip netns exec "$A" "$ECHO" "$@" >"$LOG/skiff.out" 2>&1 &
	SKIFF_PID=$!
	for _ in $(seq 100); do
		grep -q "ready" "$LOG/skiff.out" && return 0
		kill -0 "$SKIFF_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "skiff-echo did not start:"
	sed 's/^/     | /' "$LOG/skiff.out"
	return 1
}

stop_skiff() { # SIGTERM, wait up to 5 s, then SIGKILL; returns its exit status (137: killed)
	local rc
	kill -TERM "$SKIFF_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SKIFF_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SKIFF_PID" 2>/dev/null; then
		echo "skiff-echo ignored SIGTERM for 5 s: SIGKILL"
		kill -KILL "$SKIFF_PID" 2>/dev/null
	fi
	wait "$SKIFF_PID"
	rc=$?
	SKIFF_PID=
	return $rc
}

# start_peer NS IP PORT SECONDS LOG → PEER_PID: the kernel's echo server in NS,
# recorded for cleanup; returns once it printed "ready" (5 s), 1 otherwise.
start_peer() {
	local ns=$1 ip=$2 port=$3 secs=$4 log=$5
	# no timeout(1) in between: $! is the server itself (it stops after SECONDS)
	ip netns exec "$ns" "${PEER[@]}" server "$ip" "$port" "$secs" >"$log" 2>&1 &
	PEER_PID=$!
	PEER_PIDS+=("$PEER_PID")
	for _ in $(seq 50); do
		grep -q "ready" "$log" && return 0
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "udp_peer server in $ns did not start:"
	sed 's/^/     | /' "$log"
	return 1
}

stop_peer() { # stop_peer PID: the server is done with (it would stop by itself at its SECONDS)
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# kernel_own_udp: the kernel's own UDP service on 198.18.0.3 (ns A) answers ns B
kernel_own_udp() {
	local rc
	start_peer "$A" 198.18.0.3 9 10 "$LOG/own.out" || return 1
	timeout -k 5 60 ip netns exec "$B" "${PEER[@]}" client 198.18.0.3 9 1,1472,9000
	rc=$?
	stop_peer "$PEER_PID"
	return $rc
}

no_xdp_left() { ! ip -n "$A" link show "$VA" | grep -q "xdp"; }
kernel_knows_skiff() {
	local mac
	mac=$(ip netns exec "$PEER_NS" ip neigh show "$SKIFF_IP" | awk '/lladdr/ {print $5}')
	echo "kernel neighbour entry for $SKIFF_IP: ${mac:-none} (want ${SKIFF_MAC})"
	[ -n "$mac" ] && [ "$mac" = "$SKIFF_MAC" ]
}
counter_ge() { # counter_ge NAME MIN — from skiff-echo's closing counter line
	local v
	v=$(grep -o "$1 [0-9]*" "$LOG/skiff.out" | head -1 | awk '{print $NF}')
	echo "$1 = ${v:-?} (want >= $2)"
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

echo "== $VARIANT"
# ---- skiff as the service, the kernel as the client ----
if ! start_skiff "${ARGS[@]}" --ip "$SKIFF_IP/$PREFIX" --port 7; then
	exit 1
fi
grep -E "afxdp on|dpdk port" "$LOG/skiff.out" | sed 's/^/     /'
SKIFF_MAC=$(grep -oE '([0-9a-f]{2}:){5}[0-9a-f]{2} mtu' "$LOG/skiff.out" | head -1 | cut -d' ' -f1)
check "kernel ping reaches skiff ($SKIFF_IP)" timeout -k 5 60 ip netns exec "$PEER_NS" ping -c 3 -i 0.2 -W 2 "$SKIFF_IP"
check "kernel resolved skiff's MAC by ARP" kernel_knows_skiff
check "kernel UDP client <-> skiff echo, sizes $SIZES, byte-exact" \
	timeout -k 5 60 ip netns exec "$PEER_NS" "${PEER[@]}" client "$SKIFF_IP" 7 "$SIZES"
if [ "$VARIANT" = afxdp ]; then
	check "the kernel's own address on $VA still answers (steering)" \
		timeout -k 5 60 ip netns exec "$B" ping -c 2 -i 0.2 -W 2 198.18.0.3
	check "the kernel's own UDP on $VA still works" kernel_own_udp
fi
check "skiff exits cleanly on SIGTERM" stop_skiff
sed -n '/stack frames/,$p' "$LOG/skiff.out" | sed 's/^/     /'
[ "$VARIANT" = afxdp ] && check "no XDP program left on $VA" no_xdp_left

# ---- skiff as the client, the kernel as the echo server ----
ip netns exec "$PEER_NS" ip neigh flush dev "$([ "$VARIANT" = dpdk-tap ] && echo "$TAP" || echo "$VB")" 2>/dev/null
if start_peer "$PEER_NS" "$PEER_IP" 9 15 "$LOG/peer.out"; then
	check "skiff client -> kernel echo server, byte-exact" \
		timeout -k 5 60 ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip "$SKIFF_IP/$PREFIX" --client "$PEER_IP:9" --sizes "$SIZES"
	cp "$LOG/check.out" "$LOG/skiff.out"
	check "skiff resolved the kernel's MAC by ARP" counter_ge "req-out" 1
	stop_peer "$PEER_PID"
else
	echo "FAIL skiff client -> kernel echo server: no server"
	fails=$((fails + 1))
fi
if [ -n "$GW" ]; then
	if start_peer "$C" 198.18.3.2 9 15 "$LOG/peerc.out"; then
		check "skiff reaches 198.18.3.2 behind router ns $B via its default gateway" \
			timeout -k 5 60 ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip "$SKIFF_IP/$PREFIX" --gw "$GW" \
			--client 198.18.3.2:9 --sizes "$GW_SIZES"
		stop_peer "$PEER_PID"
	else
		echo "FAIL skiff via its default gateway: no server in ns $C"
		fails=$((fails + 1))
	fi
fi
[ "$VARIANT" = afxdp ] && check "no XDP program left after the clients" no_xdp_left

# ---- error paths: one line on stderr, exit 2, no crash ----
one_line_error() { # one_line_error NS ARGS... — expect exit 2 and exactly one stderr line
	local ns=$1 rc lines
	shift
	timeout -k 5 60 ip netns exec "$ns" "$@" >/dev/null 2>"$LOG/err"
	rc=$?
	lines=$(wc -l <"$LOG/err")
	cat "$LOG/err"
	echo "exit $rc, $lines line(s) on stderr"
	[ "$rc" -eq 2 ] && [ "$lines" -ge 1 ] && [ "$lines" -le 2 ]
}
case $VARIANT in
afxdp)
	check "error: missing interface" one_line_error "$A" "$ECHO" --driver afxdp --iface nosuch0 --ip 198.18.0.2/24
	check "error: queue that does not exist" one_line_error "$A" "$ECHO" --driver afxdp --iface "$VA" --queue 7 \
		--ip 198.18.0.2/24
	if command -v setpriv >/dev/null; then
		check "error: no permission" one_line_error "$A" setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all "$ECHO" --driver afxdp --iface "$VA" --ip 198.18.0.2/24
	fi
	check "no XDP program left after the errors" no_xdp_left
	;;
dpdk-*)
	check "error: missing port" one_line_error "$A" "$ECHO" --driver dpdk --dpdk-eal "$EAL" --dpdk-port net_nosuch0 \
		--ip 198.18.0.2/24
	;;
esac

echo "== $VARIANT: $fails failure(s)"
[ "$fails" -eq 0 ]
