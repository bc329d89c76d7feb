#!/usr/bin/env bash
# tcp_test.sh SKIFF_ECHO VARIANT — skiff's TCP against the Linux kernel's across a
# veth pair, in two network namespaces this script creates and always removes.
#
# VARIANT: afxdp | dpdk-af_xdp. ns A: vA, skiff 198.18.0.2 (the kernel's own
# 198.18.0.3 on the same interface); ns B: vB 198.18.0.1.
# Checks: a kernel client sends TCP_BYTES (default 64 MiB; 1 GiB by hand) to
# skiff's echo service and gets it back, SHA-256 equal, with a half-close at the
# end; skiff as the client does the same against a kernel echo server; a kernel
# connect to a port skiff does not listen on is refused (RST); several kernel
# clients at once. Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
ECHO=$1
VARIANT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=(/usr/bin/python3 "$HERE/udp_peer.py")
BYTES=${TCP_BYTES:-67108864}

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$ECHO" ] || { echo "skip: $ECHO not built"; exit 77; }
"$ECHO" --list-drivers | grep -qw "${VARIANT%%-*}" || { echo "skip: no ${VARIANT%%-*} driver"; exit 77; }

id=$$
A=stA$id B=stB$id VA=tA$id VB=tB$id
LOG=$(mktemp -d /tmp/skiff-tcp.XXXXXX)
PIDS=()
fails=0
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() {
	local what=$1
	shift
	if timeout -k 5 300 "$@" >"$LOG/check.out" 2>&1; then
		echo "ok   $what"
		sed 's/^/     | /' "$LOG/check.out" | grep -E "MB/s|refused" | head -3
	else
		echo "FAIL $what"
		sed 's/^/     | /' "$LOG/check.out" | tail -n 20
		fails=$((fails + 1))
	fi
}

wait_ready() { # wait_ready FILE PID
	for _ in $(seq 100); do
		grep -q ready "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "not ready:"
	sed 's/^/     | /' "$1"
	return 1
}

if ! ip netns add "$A" 2>/dev/null; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
ip netns add "$B" || exit 1
ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" addr add 198.18.0.3/24 dev "$VA"
ip -n "$B" addr add 198.18.0.1/24 dev "$VB"
ip -n "$A" link set "$VA" up
ip -n "$B" link set "$VB" up
# veth hands unfinished (CHECKSUM_PARTIAL) checksums to XDP and af_packet; have the
# kernel side fill them in, and keep its segments at the MTU (no GSO/TSO
# super-frames: skiff receives what a NIC would put on the wire)
ip netns exec "$B" ethtool -K "$VB" tx off tso off gso off >/dev/null 2>&1

case $VARIANT in
afxdp) ARGS=(--driver afxdp --iface "$VA") ;;
dpdk-af_xdp) ARGS=(--driver dpdk --dpdk-eal "--no-huge -m 512 --no-pci --no-shconf -l 0 --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1" --dpdk-port net_af_xdp0) ;;
*) echo "unknown variant $VARIANT"; exit 2 ;;
esac

echo "== tcp $VARIANT ($BYTES bytes per transfer)"
ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --port 5201 >"$LOG/skiff.out" 2>&1 &
SK=$!
PIDS+=("$SK")
wait_ready "$LOG/skiff.out" "$SK" || exit 1
check "kernel client -> skiff TCP echo, sha256 both ways" \
	ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5201 "$BYTES"
check "4 kernel clients at once" bash -c "
	pids=; for i in 1 2 3 4; do ip netns exec $B ${PEER[*]} tcp-client 198.18.0.2 5201 4194304 & pids=\"\$pids \$!\"; done
	rc=0; for p in \$pids; do wait \$p || rc=1; done; exit \$rc"
check "closed port: kernel connect refused by skiff's RST" \
	ip netns exec "$B" "${PEER[@]}" tcp-refused 198.18.0.2 5999
kill -TERM "$SK" 2>/dev/null
for _ in $(seq 50); do kill -0 "$SK" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SK" 2>/dev/null
wait "$SK" 2>/dev/null
grep -E "tcp:|stack frames|drop" "$LOG/skiff.out" | sed 's/^/     /' | head -12

# loss on skiff's side (the fault driver drops 2 % of what skiff sends)
ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --port 5203 --loss 20000 >"$LOG/skiff2.out" 2>&1 &
SK=$!
PIDS+=("$SK")
wait_ready "$LOG/skiff2.out" "$SK" || exit 1
check "kernel client -> skiff TCP echo with 2% loss on skiff's transmit side, sha256" \
	ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5203 16777216
kill -TERM "$SK" 2>/dev/null
for _ in $(seq 50); do kill -0 "$SK" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SK" 2>/dev/null
wait "$SK" 2>/dev/null
grep -E "stack frames|tcp in" "$LOG/skiff2.out" | sed 's/^/     /'

ip netns exec "$B" "${PEER[@]}" tcp-server 198.18.0.1 5202 120 >"$LOG/peer.out" 2>&1 &
PS=$!
PIDS+=("$PS")
wait_ready "$LOG/peer.out" "$PS" || exit 1
check "skiff TCP client -> kernel echo server, byte-exact" \
	ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --client 198.18.0.1:5202 --bytes "$BYTES"
kill "$PS" 2>/dev/null

# a kernel peer that stops reading for 3 s: skiff meets a zero window, probes
# it (persist timer), and carries on byte-exactly when the peer reads again
ip netns exec "$B" "${PEER[@]}" tcp-server 198.18.0.1 5204 60 3 >"$LOG/peer3.out" 2>&1 &
PS=$!
PIDS+=("$PS")
wait_ready "$LOG/peer3.out" "$PS" || exit 1
check "zero window: kernel peer stops reading 3 s, skiff probes and completes" \
	ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --client 198.18.0.1:5204 --bytes 8388608
kill "$PS" 2>/dev/null

echo "== tcp $VARIANT: $fails failure(s)"
[ "$fails" -eq 0 ]
