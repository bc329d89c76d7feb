#!/usr/bin/env bash
# ip6_bench.sh SKIFF UDP_BENCH [--seconds N] — IPv6 beside IPv4 and multicast
# receive rates, skiff vs the kernel on the same veth pair in one run, printed
# as one markdown table.
#
# Namespaces A (the measured side) and B (the kernel clients/senders), joined
# by a veth pair (tests/lib/veth_pair.sh). vA carries the kernel's own
# 198.18.0.3 and 2001:2::3; skiff takes 198.18.0.2 and 2001:2::2 on the same
# interface over AF_XDP. For each of IPv4 and IPv6, kernel then skiff (the same
# udp_bench binary, under `skiff run` for skiff):
#   echo server in A        ← pingpong client in B, 64 B, N s: RTT avg/p99/p99.9
#   sink in A               ← blast 64 B from B, N s: datagrams/s received
# Multicast: a sink with 1 and with 8 sockets on 239.1.2.3:7000 (SO_REUSEADDR,
# each joined) ← blast 64 B to the group from B: datagrams/s per socket.
# Ratio: skiff/kernel for rates, kernel/skiff for latencies (> 1: skiff better).
# Server side pinned to CPU 1, clients to CPU 0. Needs root.
set -u
SKIFF=$1
UB=$2
shift 2
SECS=3
[ "${1:-}" = --seconds ] && SECS=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/veth_pair.sh"
. "$HERE/../tests/lib/netns_check.sh"
[ "$(id -u)" -eq 0 ] || { echo "ip6_bench: needs root" >&2; exit 2; }

id=$$
A=i6bA$id B=i6bB$id VA=bA$id VB=bB$id
LOG=$(mktemp -d /tmp/skiff-ip6bench.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"
SRV=(taskset -c 1) CLI=(taskset -c 0)
[ "$(nproc)" -gt 1 ] || { SRV=(); CLI=(); }
veth_pair_up "$A" "$B" "$VA" "$VB" || { echo "ip6_bench: cannot create namespaces" >&2; exit 2; }
ip -n "$A" addr add 2001:2::3/64 dev "$VA" nodad
ip -n "$B" addr add 2001:2::1/64 dev "$VB" nodad
ip -n "$B" route add 224.0.0.0/4 dev "$VB"
cat >"$LOG/skiff.conf" <<CONF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24
address = 2001:2::2/64
CONF

run_a() { # MODE NAME CMD...: on A, kernel or skiff
	local mode=$1 name=$2
	shift 2
	if [ "$mode" = skiff ]; then
		ip netns exec "$A" "${SRV[@]}" "$SKIFF" run --config "$LOG/skiff.conf" -- "$@" >"$LOG/$name.out" 2>&1 &
	else
		ip netns exec "$A" "${SRV[@]}" "$@" >"$LOG/$name.out" 2>&1 &
	fi
	BG=$!
	PIDS+=("$BG")
}
onb() { ip netns exec "$B" "${CLI[@]}" "$@"; }

declare -A R
for fam in 4 6; do
	for mode in kernel skiff; do
		if [ $fam = 4 ]; then host=198.18.0.3; [ $mode = skiff ] && host=198.18.0.2; else host=2001:2::3; [ $mode = skiff ] && host=2001:2::2; fi
		run_a $mode echo$fam$mode "$UB" echo $host 7100 2
		wait_ready "$LOG/echo$fam$mode.out" "$BG"
		sleep 0.3
		R[pp$fam$mode]=$(onb "$UB" pingpong $host 7100 "$SECS" 64 2>&1 | awk '/^rtt/{print $2, $4, $5}')
		finish "$BG" 5
		run_a $mode sink$fam$mode "$UB" sink $host 7101 "$SECS"
		wait_ready "$LOG/sink$fam$mode.out" "$BG"
		onb "$UB" blast $host 7101 $((SECS + 1)) 64 >/dev/null 2>&1
		finish "$BG" 10
		R[rate$fam$mode]=$(awk '/^recv/{print $3}' "$LOG/sink$fam$mode.out")
	done
done
for n in 1 8; do
	for mode in kernel skiff; do
		ifa=198.18.0.3
		[ $mode = skiff ] && ifa=198.18.0.2
		run_a $mode mc$n$mode "$UB" sink 0.0.0.0 7000 "$SECS" $n 239.1.2.3 $ifa
		wait_ready "$LOG/mc$n$mode.out" "$BG"
		sleep 0.5
		onb "$UB" blast 239.1.2.3 7000 $((SECS + 1)) 64 >/dev/null 2>&1
		finish "$BG" 10
		R[mc$n$mode]=$(awk '/^recv/{print $3}' "$LOG/mc$n$mode.out")
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }
f() { echo "${1:--}"; }
echo "| measure | kernel | skiff | ratio (>1: skiff better) |"
echo "|---|---|---|---|"
for fam in 4 6; do
	read -r ka kp9 kp99 <<<"${R[pp${fam}kernel]:-0 0 0}"
	read -r sa sp9 sp99 <<<"${R[pp${fam}skiff]:-0 0 0}"
	echo "| IPv$fam UDP 64 B ping-pong RTT avg (µs) | $(f $ka) | $(f $sa) | $(ratio $ka $sa) |"
	echo "| IPv$fam UDP 64 B ping-pong RTT p99 (µs) | $(f $kp9) | $(f $sp9) | $(ratio $kp9 $sp9) |"
	echo "| IPv$fam UDP 64 B ping-pong RTT p99.9 (µs) | $(f $kp99) | $(f $sp99) | $(ratio $kp99 $sp99) |"
	echo "| IPv$fam UDP 64 B receive rate (datagrams/s) | $(f ${R[rate${fam}kernel]}) | $(f ${R[rate${fam}skiff]}) | $(ratio "${R[rate${fam}skiff]}" "${R[rate${fam}kernel]}") |"
done
for n in 1 8; do
	echo "| multicast 64 B, $n member socket(s): per-socket rate (datagrams/s) | $(f ${R[mc${n}kernel]}) | $(f ${R[mc${n}skiff]}) | $(ratio "${R[mc${n}skiff]}" "${R[mc${n}kernel]}") |"
done
