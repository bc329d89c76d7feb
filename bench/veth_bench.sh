#!/usr/bin/env bash
# veth_bench.sh — the same UDP service on skiff and on the kernel, across a veth
# pair between two network namespaces this script creates and removes, driven by
# the same kernel-side client (sockperf), printed as one table with ratios.
#
#   bench/veth_bench.sh [--echo PATH] [--variants afxdp,dpdk-af_xdp,kernel] [--seconds N] [--size B]
#
# Flow: namespaces A (service) and B (client) joined by veth; vA carries the
# kernel's own 198.18.0.3/24, skiff takes 198.18.0.2 on the same interface →
# for each variant: start skiff-echo --sockperf (afxdp: AF_XDP on vA; dpdk-af_xdp:
# DPDK's net_af_xdp on vA; kernel: the same program on kernel sockets, on
# 198.18.0.3) pinned to CPU 1 → `sockperf ping-pong` from B pinned to CPU 0 for
# N seconds (latency p50/p99/p99.9; sockperf reports half the round trip) →
# restart the service → `sockperf throughput` (one way, B → A, at full speed)
# for N seconds; the rate is what the service counted received → table.
# Needs root. The kernel's numbers are from this same run on the same pair.
# Every client run is bounded (timeout N + 60 s); a service that does not stop
# on SIGTERM within 5 s, or does not get ready, is killed (SIGKILL).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/veth_pair.sh"
ECHO=${ECHO:-$HERE/../build/tools/skiff-echo}
VARIANTS=afxdp,dpdk-af_xdp,kernel
SECS=5
SIZE=64
while [ $# -gt 0 ]; do
	case $1 in
	--echo) ECHO=$2; shift 2 ;;
	--variants) VARIANTS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	*) echo "usage: $0 [--echo PATH] [--variants afxdp,dpdk-af_xdp,kernel] [--seconds N] [--size B]" >&2; exit 2 ;;
	esac
done
case $SECS in '' | *[!0-9]*) echo "veth_bench: --seconds wants a whole number, got '$SECS'" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "veth_bench: needs root (namespaces, XDP)" >&2; exit 2; }
[ -x "$ECHO" ] || { echo "veth_bench: $ECHO not built" >&2; exit 2; }
command -v sockperf >/dev/null || { echo "veth_bench: sockperf missing (apt-get install sockperf)" >&2; exit 2; }

id=$$
A=sbA$id B=sbB$id VA=vbA$id VB=vbB$id
LOG=$(mktemp -d /tmp/skiff-bench.XXXXXX)
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

start() { # start VARIANT → SRV
	local v=$1 args
	case $v in
	afxdp) args=(--driver afxdp --iface "$VA" --ip 198.18.0.2/24) ;;
	dpdk-af_xdp) args=(--driver dpdk --dpdk-eal "--no-huge -m 512 --no-pci --no-shconf -l $CPU_SRV --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1" --dpdk-port net_af_xdp0 --ip 198.18.0.2/24) ;;
	kernel) args=(--driver kernel --ip 198.18.0.3/24) ;;
	esac
	ip netns exec "$A" taskset -c "$CPU_SRV" "$ECHO" "${args[@]}" --port 11111 --sockperf --busy-poll 1000 \
		>"$LOG/srv.out" 2>&1 &
	SRV=$!
	for _ in $(seq 100); do
		grep -q ready "$LOG/srv.out" && return 0
		kill -0 "$SRV" 2>/dev/null || break
		sleep 0.1
	done
	echo "veth_bench: $v service did not start:" >&2
	sed 's/^/  /' "$LOG/srv.out" >&2
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
		echo "veth_bench: the service ignored SIGTERM for 5 s: SIGKILL" >&2
		kill -KILL "$SRV" 2>/dev/null
	fi
	wait "$SRV" 2>/dev/null
	SRV=
}
pct() { # pct FILE P → value (usec) of "percentile P" in sockperf output
	awk -v p="$2" '/percentile/ { for (i = 1; i <= NF; i++) if ($i == p) { print $(i + 2); exit } }' "$1"
}

declare -A P50 P99 P999 RATE MODE
for v in ${VARIANTS//,/ }; do
	if [ "$v" != kernel ] && ! "$ECHO" --list-drivers | grep -qw "${v%%-*}"; then
		echo "veth_bench: skiff-echo has no ${v%%-*} driver; skipping $v" >&2
		continue
	fi
	ip_dst=198.18.0.2
	[ "$v" = kernel ] && ip_dst=198.18.0.3
	start "$v" || continue
	MODE[$v]=$(grep -oE "afxdp on .*|dpdk port .*" "$LOG/srv.out" | head -1)
	timeout -k 5 $((SECS + 60)) ip netns exec "$B" taskset -c 0 sockperf ping-pong -i "$ip_dst" -p 11111 \
		-m "$SIZE" -t "$SECS" --full-rtt >"$LOG/pp.out" 2>&1
	stop
	P50[$v]=$(pct "$LOG/pp.out" 50.000)
	P99[$v]=$(pct "$LOG/pp.out" 99.000)
	P999[$v]=$(pct "$LOG/pp.out" 99.900)
	start "$v" || continue
	timeout -k 5 $((SECS + 60)) ip netns exec "$B" taskset -c 0 sockperf throughput -i "$ip_dst" -p 11111 \
		-m "$SIZE" -t "$SECS" >"$LOG/tp.out" 2>&1
	stop
	rx=$(grep -oE "rx [0-9]+ datagrams" "$LOG/srv.out" | awk '{print $2}')
	RATE[$v]=$(awk -v n="${rx:-0}" -v t="$SECS" 'BEGIN { printf "%.0f", n / t }')
	sent=$(grep -oE "Message Rate is [0-9]+" "$LOG/tp.out" | awk '{print $4}')
	echo "veth_bench: $v done (${MODE[$v]:-kernel sockets}); client sent ${sent:-?}/s" >&2
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
k=kernel
printf "\nUDP over veth, %s B datagrams, %s s per measurement, sockperf client in the peer namespace (round trips, --full-rtt)\n\n" "$SIZE" "$SECS"
printf "| service | RTT p50 (us) | RTT p99 (us) | RTT p99.9 (us) | one-way rate (dgrams/s) | p50 / kernel | p99.9 / kernel | rate / kernel |\n"
printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
for v in ${VARIANTS//,/ }; do
	[ -n "${P50[$v]:-}" ] || continue
	printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$v" "${P50[$v]}" "${P99[$v]}" "${P999[$v]}" "${RATE[$v]}" \
		"$(ratio "${P50[$v]}" "${P50[$k]:-}")" "$(ratio "${P999[$v]}" "${P999[$k]:-}")" \
		"$(ratio "${RATE[$v]}" "${RATE[$k]:-}")"
done
for v in ${VARIANTS//,/ }; do
	[ -n "${MODE[$v]:-}" ] && echo "  $v: ${MODE[$v]}"
done
exit 0
