#!/usr/bin/env bash
# veth_tcp_bench.sh — the same TCP echo service on skiff and on the kernel, across
# a veth pair between two network namespaces this script creates and removes,
# driven by the same kernel-side client (bench/tcp_load), printed as one table
# with ratios: bulk echo throughput and the rate of short connections.
#
#   bench/veth_tcp_bench.sh [--echo PATH] [--load PATH] [--variants afxdp,dpdk-af_xdp,kernel]
#                           [--seconds N] [--concurrency C] [--rounds R]
#
# Flow: namespaces A (service) and B (client) joined by veth; vA carries the
# kernel's own 198.18.0.3/24, skiff takes 198.18.0.2 on the same interface; vB
# sends MTU-sized frames with finished checksums (tx/tso/gso off, as
# tests/netns/tcp_test.sh: skiff sees what a NIC would put on the wire), and B's
# ephemeral range is widened with tcp_tw_reuse on and room for 2 M TIME-WAITs
# (the client closes first, so the connection-rate runs leave theirs in B) → R rounds (default 1),
# each: for each variant: start
# skiff-echo --tcp (afxdp: AF_XDP on vA; dpdk-af_xdp: DPDK's net_af_xdp on vA;
# kernel: the same program on kernel sockets, on 198.18.0.3) pinned to CPU 1, on
# a port of its own (no TIME-WAIT left by an earlier variant on the same address
# can meet it) → `tcp_load bulk` from B pinned to CPU 0 for N seconds (one
# connection, 64 KiB writes, the echo checked byte by byte; MB/s echoed back) →
# `tcp_load connrate` for N seconds (C connections in flight: connect, 64 B,
# echo, close; conn/s, p50/p99 of connect → echo, every failure counted) → stop
# the service (its exit lines: connections, bytes, the stack's TCP counters and
# drops, shown under the table) → table: the median of the rounds (the variants
# take turns, so slow spells on a shared machine spread over all of them; one
# round's ratios can be off by 2x there — use --rounds 3 or more for ratios).
# Needs root (exit 2 otherwise). The kernel's numbers are from this same run on
# the same pair. Every client run is bounded (timeout N + 60 s); a service that
# does not stop on SIGTERM within 5 s, or does not get ready, is killed (SIGKILL).
# Exit 0 when every run succeeded, 1 when a run failed (the table still prints,
# with the failure), 2 usage / not root / not built.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/veth_pair.sh"
ECHO=${ECHO:-$HERE/../build/tools/skiff-echo}
LOAD=${LOAD:-}
VARIANTS=afxdp,dpdk-af_xdp,kernel
SECS=5
CONC=8
ROUNDS=1
usage() {
	echo "usage: $0 [--echo PATH] [--load PATH] [--variants afxdp,dpdk-af_xdp,kernel] [--seconds N] [--concurrency C] [--rounds R]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--echo) ECHO=$2; shift 2 ;;
	--load) LOAD=$2; shift 2 ;;
	--variants) VARIANTS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--concurrency) CONC=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	*) usage ;;
	esac
done
# tcp_load lives in the build dir next to tools/: the one beside --echo by default
[ -n "$LOAD" ] || LOAD=$(dirname "$ECHO")/../bench/tcp_load
case $SECS in '' | *[!0-9]* | 0) echo "veth_tcp_bench: --seconds wants a whole number > 0, got '$SECS'" >&2; exit 2 ;; esac
case $CONC in '' | *[!0-9]* | 0) echo "veth_tcp_bench: --concurrency wants a whole number > 0, got '$CONC'" >&2; exit 2 ;; esac
case $ROUNDS in '' | *[!0-9]* | 0) echo "veth_tcp_bench: --rounds wants a whole number > 0, got '$ROUNDS'" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "veth_tcp_bench: needs root (namespaces, XDP)" >&2; exit 2; }
[ -x "$ECHO" ] || { echo "veth_tcp_bench: $ECHO not built" >&2; exit 2; }
[ -x "$LOAD" ] || { echo "veth_tcp_bench: $LOAD not built (ninja builds bench/tcp_load; or pass --load)" >&2; exit 2; }
command -v ethtool >/dev/null || { echo "veth_tcp_bench: ethtool missing (apt-get install ethtool)" >&2; exit 2; }

id=$$
A=stbA$id B=stbB$id VA=tbA$id VB=tbB$id
LOG=$(mktemp -d /tmp/skiff-tcpbench.XXXXXX)
SRV=
ncpu=$(nproc)
CPU_SRV=$((ncpu > 1 ? 1 : 0))
cleanup() {
	[ -n "$SRV" ] && kill -9 "$SRV" 2>/dev/null
	veth_pair_down "$A" "$B"
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

veth_pair_up "$A" "$B" "$VA" "$VB" || { echo "cannot create network namespaces here" >&2; exit 2; }
# the client closes first: every connection leaves a TIME-WAIT in B. Past
# tcp_max_tw_buckets (131072 in a new namespace here) Linux closes an orphaned
# FIN-WAIT-2 at once, and a service that sends its ACK and its FIN apart (skiff
# does) gets an RST for the FIN: room for a few rounds of every variant
ip netns exec "$B" sysctl -q -w net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1 \
	net.ipv4.tcp_max_tw_buckets=2097152 >/dev/null

start() { # start VARIANT PORT → SRV
	local v=$1 port=$2 args
	case $v in
	afxdp) args=(--driver afxdp --iface "$VA" --ip 198.18.0.2/24) ;;
	dpdk-af_xdp) args=(--driver dpdk --dpdk-eal "--no-huge -m 512 --no-pci --no-shconf -l $CPU_SRV --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1" --dpdk-port net_af_xdp0 --ip 198.18.0.2/24) ;;
	kernel) args=(--driver kernel --ip 198.18.0.3/24) ;;
	esac
	ip netns exec "$A" taskset -c "$CPU_SRV" "$ECHO" "${args[@]}" --tcp --port "$port" --busy-poll 1000 \
		>"$LOG/srv-$v.out" 2>&1 &
	SRV=$!
	for _ in $(seq 100); do
		grep -q ready "$LOG/srv-$v.out" && return 0
		kill -0 "$SRV" 2>/dev/null || break
		sleep 0.1
	done
	echo "veth_tcp_bench: $v service did not start:" >&2
	sed 's/^/  /' "$LOG/srv-$v.out" >&2
	# half-started (still setting up, or hung): it must not outlive this attempt
	kill -KILL "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=
	return 1
}
stop() { # SIGTERM, 5 s grace, then SIGKILL
	kill -TERM "$SRV" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SRV" 2>/dev/null; then
		echo "veth_tcp_bench: the service ignored SIGTERM for 5 s: SIGKILL" >&2
		kill -KILL "$SRV" 2>/dev/null
	fi
	wait "$SRV" 2>/dev/null
	SRV=
}
field() { # field FILE KEY → the value of KEY=... on tcp_load's result line
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$1"
}
load() { # load NAME ARGS... → $LOG/NAME.out (the result line) and NAME.err; status of tcp_load
	local name=$1
	shift
	timeout -k 5 $((SECS + 60)) ip netns exec "$B" taskset -c 0 "$LOAD" "$@" >"$LOG/$name.out" 2>"$LOG/$name.err"
}

declare -A BULK CPS P50 P99 MODE NOTE STATS # per variant; the numbers: one value per round
failed=0
port=5300
RUN=()
for v in ${VARIANTS//,/ }; do
	case $v in afxdp | dpdk-af_xdp | kernel) ;; *) echo "veth_tcp_bench: unknown variant $v" >&2; exit 2 ;; esac
	if [ "$v" != kernel ] && ! "$ECHO" --list-drivers | grep -qw "${v%%-*}"; then
		echo "veth_tcp_bench: skiff-echo has no ${v%%-*} driver; skipping $v" >&2
		continue
	fi
	RUN+=("$v")
done
for ((r = 1; r <= ROUNDS; r++)); do
	for v in "${RUN[@]}"; do
		port=$((port + 1)) # a port per service: no TIME-WAIT in B from an earlier one can meet it
		ip_dst=198.18.0.2
		[ "$v" = kernel ] && ip_dst=198.18.0.3
		if ! start "$v" "$port"; then
			NOTE[$v]+="round $r: service did not start; "
			failed=1
			continue
		fi
		MODE[$v]=$(grep -oE "afxdp on .*|dpdk port .*" "$LOG/srv-$v.out" | head -1)
		[ "$v" = kernel ] && MODE[$v]="kernel sockets on 198.18.0.3"
		name=bulk-$v
		load "$name" bulk "$ip_dst" "$port" "$SECS" 65536
		rc=$?
		if [ $rc -ne 0 ] || [ "$(field "$LOG/$name.out" result)" != ok ]; then
			failed=1
			NOTE[$v]+="round $r: bulk FAILED (rc $rc): $(cat "$LOG/$name.out") $(tr '\n' ' ' <"$LOG/$name.err"); "
		else
			BULK[$v]+="$(field "$LOG/$name.out" mbyte_s) "
		fi
		name=conn-$v
		load "$name" connrate "$ip_dst" "$port" "$SECS" "$CONC"
		rc=$?
		if [ $rc -ne 0 ] || [ "$(field "$LOG/$name.out" fail)" != 0 ]; then
			failed=1
			NOTE[$v]+="round $r: connrate FAILED (rc $rc): $(cat "$LOG/$name.out") $(head -5 "$LOG/$name.err" | tr '\n' ' '); "
		else
			CPS[$v]+="$(field "$LOG/$name.out" cps) "
			P50[$v]+="$(field "$LOG/$name.out" p50_us) "
			P99[$v]+="$(field "$LOG/$name.out" p99_us) "
		fi
		stop
		STATS[$v]+=$(grep -E "tcp:|tcp in|drop|xdp steer" "$LOG/srv-$v.out" | sed "s/^skiff-echo:/    round $r:/")$'\n'
		echo "veth_tcp_bench: round $r $v done (${MODE[$v]}): $(cat "$LOG/bulk-$v.out") | $(cat "$LOG/conn-$v.out")" >&2
	done
done

median() { # median "v1 v2 ..." → the middle value (the mean of the two middle ones for an even count)
	[ -n "${1// /}" ] || return 0
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { m = int((NR + 1) / 2); print (NR % 2) ? a[m] : (a[m] + a[m + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
declare -A MB MC M50 M99
for v in "${RUN[@]}"; do
	MB[$v]=$(median "${BULK[$v]:-}")
	MC[$v]=$(median "${CPS[$v]:-}")
	M50[$v]=$(median "${P50[$v]:-}")
	M99[$v]=$(median "${P99[$v]:-}")
done
k=kernel
printf "\nTCP over veth, %s s per measurement, %s round(s)%s, tcp_load client in the peer namespace (CPU 0), service on CPU %s\n" \
	"$SECS" "$ROUNDS" "$([ "$ROUNDS" -gt 1 ] && echo ", variants interleaved, medians")" "$CPU_SRV"
printf "bulk: one connection, 64 KiB writes, MB/s echoed back and checked; connections: %s in flight, each connect + 64 B echo + close\n\n" "$CONC"
printf "| variant | bulk MB/s | conn/s | conn p50 (us) | conn p99 (us) | bulk / kernel | conn/s / kernel |\n"
printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
for v in "${RUN[@]}"; do
	printf "| %s | %s | %s | %s | %s | %s | %s |\n" "$v" "${MB[$v]:--}" "${MC[$v]:--}" "${M50[$v]:--}" "${M99[$v]:--}" \
		"$(ratio "${MB[$v]:-}" "${MB[$k]:-}")" "$(ratio "${MC[$v]:-}" "${MC[$k]:-}")"
done
for v in "${RUN[@]}"; do
	[ -n "${MODE[$v]:-}" ] && echo "  $v: ${MODE[$v]}"
	[ "$ROUNDS" -gt 1 ] && echo "    per round: bulk MB/s ${BULK[$v]:-}| conn/s ${CPS[$v]:-}| p99 us ${P99[$v]:-}"
	[ -n "${STATS[$v]:-}" ] && printf "%s" "${STATS[$v]}"
	[ -n "${NOTE[$v]:-}" ] && echo "  $v: ${NOTE[$v]}"
done
exit $failed
