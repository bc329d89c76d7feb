#!/usr/bin/env bash
# tcp_test.sh SKIFF_ECHO VARIANT — skiff's TCP against the Linux kernel's across a
# veth pair, in two network namespaces this script creates and always removes.
#
# VARIANT: afxdp | dpdk-af_xdp. ns A: vA, skiff 198.18.0.2 (the kernel's own
# 198.18.0.3 on the same interface); ns B: vB 198.18.0.1.
# Checks: a kernel client sends TCP_BYTES (default 1 GiB) to skiff's echo service
# and gets it back, SHA-256 equal, with a half-close at the end; skiff as the client
# does the same against a kernel echo server; a kernel connect to a port skiff does
# not listen on is refused (RST); several kernel clients at once; an explicit
# half-close (the kernel sends, SHUT_WR, only then reads: all of it and EOF);
# 2 % loss on skiff's transmit side; a zero window; keepalive: a kernel client
# (1 s idle, 1 s interval, 3 probes) idle 6 s on skiff's echo is answered, a skiff
# client the same against a kernel server probes and is answered (both counted on
# the wire by tcp_probe.py in ns B), and a skiff client whose kernel peer goes
# silent (its address removed: frames to it are dropped without a word) gets
# ETIMEDOUT 3-4 s later after exactly 3 unanswered probes and a RST; a SYN flood
# from spoofed 198.18.0.0/24 sources (tcp_probe.py syn-flood, raw IP socket in
# ns B) while 4 legit kernel clients connect and echo.
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
ECHO=$1
VARIANT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=(/usr/bin/python3 "$HERE/udp_peer.py")
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"
BYTES=${TCP_BYTES:-1073741824}
FLOOD=${TCP_FLOOD:-20000}

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$ECHO" ] || { echo "skip: $ECHO not built"; exit 77; }
"$ECHO" --list-drivers | grep -qw "${VARIANT%%-*}" || { echo "skip: no ${VARIANT%%-*} driver"; exit 77; }

id=$$
A=stA$id B=stB$id VA=tA$id VB=tB$id
LOG=$(mktemp -d /tmp/skiff-tcp.XXXXXX)
export B VB HERE LOG
netns_run_setup "$A" "$B" "$LOG"

check() {
	local what=$1
	shift
	if timeout -k 5 300 "$@" >"$LOG/check.out" 2>&1; then
		echo "ok   $what"
		sed 's/^/     | /' "$LOG/check.out" | grep -E "MB/s|refused|half-close|keepalive|idle|syn flood|ETIMEDOUT|silent|counter" | head -10
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

stop_skiff() { # stop_skiff PID: SIGTERM (it prints its counters), SIGKILL after 5 s
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# The checks below that run several processes are these functions, run by check
# through `bash -c` (exported, with the scalars they use); each bounds and reaps
# what it starts.

# with_sniffer SNIFF_ARGS... -- CMD...: run CMD while tcp_probe.py keepalive-sniff
# watches vB (PORT PROBER SECONDS [expectations]); both must succeed.
with_sniffer() {
	local sargs=() rc src sp
	while [ "$1" != "--" ]; do sargs+=("$1"); shift; done
	shift
	ip netns exec "$B" /usr/bin/python3 "$HERE/tcp_probe.py" keepalive-sniff "$VB" "${sargs[@]}" >"$LOG/sniff.out" 2>&1 &
	sp=$!
	wait_ready "$LOG/sniff.out" "$sp" || { kill "$sp"; return 1; }
	"$@"
	rc=$?
	wait "$sp"
	src=$?
	grep -v ready "$LOG/sniff.out"
	[ "$rc" -eq 0 ] && [ "$src" -eq 0 ]
}

# dead_peer PORT CMD...: CMD is a skiff client with keepalive 1,1,3 that idles
# long; 2 s into its idle time the kernel peer (ns B) goes silent: its address is
# removed, so what skiff sends it is dropped without an answer. skiff must fail the
# connection with ETIMEDOUT 1 + 3 x 1 s after the last answer it had (3..4 s after
# the peer went silent; 2.5..6 s allowed), after exactly 3 unanswered probes and a RST.
dead_peer() {
	local port=$1 sp cp crc src t0 t1 ms
	shift
	ip netns exec "$B" /usr/bin/python3 "$HERE/tcp_probe.py" keepalive-sniff "$VB" "$port" 198.18.0.2 30 \
		--unanswered 3 --rst >"$LOG/sniff.out" 2>&1 &
	sp=$!
	wait_ready "$LOG/sniff.out" "$sp" || { kill "$sp"; return 1; }
	"$@" >"$LOG/dead.out" 2>&1 &
	cp=$!
	for _ in $(seq 100); do grep -q "idle [0-9]* ms" "$LOG/dead.out" && break; sleep 0.1; done
	sleep 2
	ip -n "$B" addr del 198.18.0.1/24 dev "$VB"
	t0=$(date +%s%N)
	echo "kernel peer silent (198.18.0.1 removed from $VB) at +2 s of idle"
	wait "$cp"
	crc=$?
	t1=$(date +%s%N)
	ip -n "$B" addr add 198.18.0.1/24 dev "$VB"
	wait "$sp"
	src=$?
	grep -v ready "$LOG/sniff.out"
	cat "$LOG/dead.out"
	ms=$(((t1 - t0) / 1000000))
	echo "skiff client ended ${ms} ms after the peer went silent (exit $crc; want 2500..6000 ms and ETIMEDOUT)"
	grep -q "idle: ETIMEDOUT" "$LOG/dead.out" && [ "$ms" -ge 2500 ] && [ "$ms" -le 6000 ] && [ "$src" -eq 0 ]
}

# syn_flood PORT COUNT: COUNT spoofed SYNs from ns B (tcp_probe.py syn-flood, at
# most 20 s) and, once it floods, 4 kernel clients that each echo 4 MiB; all 4 must succeed.
syn_flood() {
	local port=$1 count=$2 fp rc=0 pids=() i
	ip netns exec "$B" /usr/bin/python3 "$HERE/tcp_probe.py" syn-flood 198.18.0.2 "$port" "$count" 20 >"$LOG/flood.out" 2>&1 &
	fp=$!
	for _ in $(seq 100); do grep -q flooding "$LOG/flood.out" && break; sleep 0.05; done
	for i in 1 2 3 4; do
		ip netns exec "$B" /usr/bin/python3 "$HERE/udp_peer.py" tcp-client 198.18.0.2 "$port" 4194304 >"$LOG/legit$i.out" 2>&1 &
		pids+=($!)
	done
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || rc=1
	done
	wait "$fp" || rc=1
	grep -v flooding "$LOG/flood.out"
	cat "$LOG"/legit?.out
	return $rc
}
# counter_ge FILE NAME MIN: skiff-echo's closing counter NAME (the number after it) >= MIN
counter_ge() {
	local v
	v=$(grep -o "$2 [0-9]*" "$1" | head -1 | awk '{print $NF}')
	echo "skiff counter: $2 = ${v:-?} (want >= $3)"
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}
export -f wait_ready with_sniffer dead_peer syn_flood counter_ge
FN=(bash -c '"$@"' fn) # check "what" "${FN[@]}" FUNCTION ARGS...

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi

case $VARIANT in
afxdp) ARGS=(--driver afxdp --iface "$VA") ;;
dpdk-af_xdp) ARGS=(--driver dpdk --dpdk-eal "--no-huge -m 512 --no-pci --no-shconf -l 0 --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1" --dpdk-port net_af_xdp0) ;;
*) echo "unknown variant $VARIANT"; exit 2 ;;
esac

echo "== tcp $VARIANT ($BYTES bytes per transfer)"
T0=$SECONDS
ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --port 5201 >"$LOG/skiff.out" 2>&1 &
SK=$!
PIDS+=("$SK")
wait_ready "$LOG/skiff.out" "$SK" || exit 1
check "kernel client -> skiff TCP echo, sha256 both ways, half-close after the last byte" \
	ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5201 "$BYTES"
check "4 kernel clients at once" bash -c "
	pids=; for i in 1 2 3 4; do ip netns exec $B ${PEER[*]} tcp-client 198.18.0.2 5201 4194304 & pids=\"\$pids \$!\"; done
	rc=0; for p in \$pids; do wait \$p || rc=1; done; exit \$rc"
check "half-close: kernel sends 192 KiB, SHUT_WR, then reads: all echoed, then EOF" \
	ip netns exec "$B" "${PEER[@]}" tcp-halfclose 198.18.0.2 5201 196608
# the kernel probes (keepalive 1 s idle, 1 s apart, 3 probes) an idle connection to
# skiff for 6 s: unanswered it would die after ~4 s; skiff answers each probe
check "keepalive: kernel client idle 6 s, skiff answers its probes, then echo works" \
	"${FN[@]}" with_sniffer 5201 198.18.0.1 20 --answered-min 3 -- \
	ip netns exec "$B" "${PEER[@]}" tcp-keepalive-client 198.18.0.2 5201 6 1048576
check "closed port: kernel connect refused by skiff's RST" \
	ip netns exec "$B" "${PEER[@]}" tcp-refused 198.18.0.2 5999
stop_skiff "$SK"
grep -E "tcp:|tcp in|stack frames|drop" "$LOG/skiff.out" | sed 's/^/     /' | head -12
echo "     ($((SECONDS - T0)) s so far)"

# loss on skiff's side (the fault driver drops 2 % of what skiff sends)
ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --port 5203 --loss 20000 >"$LOG/skiff2.out" 2>&1 &
SK=$!
PIDS+=("$SK")
wait_ready "$LOG/skiff2.out" "$SK" || exit 1
check "kernel client -> skiff TCP echo with 2% loss on skiff's transmit side, sha256" \
	ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5203 16777216
stop_skiff "$SK"
grep -E "stack frames|tcp in" "$LOG/skiff2.out" | sed 's/^/     /'

# SYN flood: spoofed sources in 198.18.0.0/24 that never answer (skiff's SYN-ACKs
# wait on ARP that fails); skiff's SYN queue fills, it answers with SYN cookies, and
# the 4 real clients connect and echo
ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --port 5205 >"$LOG/skiff3.out" 2>&1 &
SK=$!
PIDS+=("$SK")
wait_ready "$LOG/skiff3.out" "$SK" || exit 1
check "SYN flood ($FLOOD spoofed SYNs) while 4 kernel clients connect and echo 4 MiB each" \
	"${FN[@]}" syn_flood 5205 "$FLOOD"
check "skiff still answers after the flood (kernel client, 1 MiB)" \
	ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5205 1048576
stop_skiff "$SK"
# the flood reached skiff's TCP (not lost on the way: steering, rings) and was
# answered: SYN-ACKs with cookies once the listener's SYN queue was full
check "skiff received the flood: tcp in >= $FLOOD / 2, syncookies sent >= $FLOOD / 4" \
	"${FN[@]}" eval "counter_ge $LOG/skiff3.out 'tcp in' $((FLOOD / 2)) && counter_ge $LOG/skiff3.out syncookies-sent $((FLOOD / 4))"
grep -E "tcp:|tcp in|stack frames|drop" "$LOG/skiff3.out" | sed 's/^/     /' | head -16
echo "     ($((SECONDS - T0)) s so far)"

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

# keepalive on skiff's side (1 s idle, 1 s apart, 3 probes): an idle skiff client
# probes a live kernel server, which answers; then one whose peer goes silent
ip netns exec "$B" "${PEER[@]}" tcp-server 198.18.0.1 5206 120 >"$LOG/peer4.out" 2>&1 &
PS=$!
PIDS+=("$PS")
wait_ready "$LOG/peer4.out" "$PS" || exit 1
check "keepalive: skiff client idle 6 s probes the kernel server, answered, then echo works" \
	"${FN[@]}" with_sniffer 5206 198.18.0.2 20 --answered-min 3 -- \
	ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --client 198.18.0.1:5206 --bytes 1048576 \
	--keepalive 1,1,3 --idle-ms 6000
check "keepalive: kernel peer goes silent, skiff client gets ETIMEDOUT after 3 probes" \
	"${FN[@]}" dead_peer 5206 ip netns exec "$A" "$ECHO" "${ARGS[@]}" --ip 198.18.0.2/24 --tcp --client 198.18.0.1:5206 \
	--bytes 1048576 --keepalive 1,1,3 --idle-ms 30000
kill "$PS" 2>/dev/null

echo "== tcp $VARIANT: $fails failure(s), $((SECONDS - T0)) s"
[ "$fails" -eq 0 ]
