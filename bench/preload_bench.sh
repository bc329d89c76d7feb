#!/usr/bin/env bash
# preload_bench.sh PRELOAD_SO [--seconds N] [--no-pin] — unmodified servers on
# the kernel and on skiff (LD_PRELOAD=libskiff_preload.so), same programs, same
# kernel clients, same durations, printed as one markdown table.
#
# Flow: namespaces A (servers) and B (clients) joined by a veth pair
# (tests/lib/veth_pair.sh); vA carries the kernel's own 198.18.0.3, skiff takes
# 198.18.0.2 on the same interface over AF_XDP. For each mode — kernel: the
# server binds 198.18.0.3, no preload; skiff: it binds 198.18.0.2 under the
# preload — run in turn:
#   sockperf sr (UDP)       ← sockperf ping-pong, N s: round trip avg/p99/p99.9
#   sockperf sr --tcp       ← sockperf ping-pong --tcp, N s: the same
#   sockperf sr (UDP)       ← sockperf throughput (14 B), N s: what the server
#                             counted received, per second (and the sender's rate)
#   iperf3 -s -1            ← iperf3 -c -t N (B → A) and -R (A → B): Gbit/s received
#   nginx, one worker       ← wrk -t1 -c8 -dN: requests/s (a 37 B file)
#   redis-server            ← redis-benchmark -n 50000 -t set,get: requests/s
# Servers run pinned to CPU 1, clients to CPU 0 (--no-pin: anywhere).
# Ratio column: skiff/kernel for rates, kernel/skiff for latencies — above 1
# means skiff is better in both. Needs root. About 80 s with the default 3 s.
set -u
SO=
SECS=3
PIN=1
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=$2; shift 2 ;;
	--no-pin) PIN=0; shift ;;
	-*) echo "usage: $0 PRELOAD_SO [--seconds N] [--no-pin]" >&2; exit 2 ;;
	*) SO=$1; shift ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/veth_pair.sh"
. "$HERE/../tests/lib/netns_check.sh"
case $SECS in '' | *[!0-9]*) echo "preload_bench: --seconds wants a whole number, got '$SECS'" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "preload_bench: needs root (namespaces, XDP)" >&2; exit 2; }
[ -n "$SO" ] && [ -f "$SO" ] || { echo "usage: $0 PRELOAD_SO [--seconds N] [--no-pin] ('$SO' not found)" >&2; exit 2; }
SO=$(cd "$(dirname "$SO")" && pwd)/$(basename "$SO")
for t in sockperf iperf3 nginx wrk redis-server redis-benchmark; do
	command -v $t >/dev/null || { echo "preload_bench: $t missing" >&2; exit 2; }
done

id=$$
A=pbA$id B=pbB$id VA=qA$id VB=qB$id
LOG=$(mktemp -d /tmp/skiff-pbench.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"
ncpu=$(nproc)
SRVCPU=() CLICPU=()
if [ $PIN -eq 1 ] && [ "$ncpu" -gt 1 ]; then
	SRVCPU=(taskset -c 1) CLICPU=(taskset -c 0)
fi

veth_pair_up "$A" "$B" "$VA" "$VB" || { echo "preload_bench: cannot create network namespaces here" >&2; exit 2; }
cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24
EOF
mkdir -p "$LOG/www" "$LOG/tmp" "$LOG/redis"
echo "small file for the preload benchmark" >"$LOG/www/small.txt"

# serve MODE NAME CMD... : the server in A (on skiff under the preload), pinned; $PID
serve() {
	local mode=$1 name=$2
	shift 2
	if [ "$mode" = skiff ]; then
		ip netns exec "$A" "${SRVCPU[@]}" env SKIFF_CONFIG="$LOG/skiff.conf" LD_PRELOAD="$SO" "$@" >"$LOG/$name" 2>&1 &
	else
		ip netns exec "$A" "${SRVCPU[@]}" "$@" >"$LOG/$name" 2>&1 &
	fi
	PID=$!
	PIDS+=("$PID")
}
# client SECS NAME CMD... : the client in B, pinned, bounded
client() {
	local secs=$1 name=$2
	shift 2
	timeout -k 5 "$secs" ip netns exec "$B" "${CLICPU[@]}" "$@" >"$LOG/$name" 2>&1
}
wait_for() { # FILE REGEX PID
	for _ in $(seq 100); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop() { # PID [SIGNAL]: 5 s to go, then SIGKILL
	kill -"${2:-TERM}" "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		echo "  (pid $1 ignored SIG${2:-TERM} for 5 s: killed)" >&2
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
}
declare -A R # R[metric,mode]
num() { grep -oE "$1" "$2" | head -1 | grep -oE '[0-9]+(\.[0-9]+)?' | tail -1; }

run_mode() {
	local mode=$1 ip=198.18.0.3 p
	[ "$mode" = skiff ] && ip=198.18.0.2
	echo "== $mode ($ip)" >&2

	for proto in udp tcp; do
		local opt=
		[ $proto = tcp ] && opt=--tcp
		serve "$mode" "sr-$proto-$mode" sockperf sr $opt -i $ip -p 11111
		p=$PID
		if wait_for "$LOG/sr-$proto-$mode" "using .* to block|Warmup" "$p"; then
			client $((SECS + 30)) "pp-$proto-$mode" sockperf ping-pong $opt --full-rtt -i $ip -p 11111 -t "$SECS"
			R[$proto-avg,$mode]=$(num 'avg-rtt=[0-9.]+' "$LOG/pp-$proto-$mode")
			R[$proto-p99,$mode]=$(num 'percentile 99.000 = *[0-9.]+' "$LOG/pp-$proto-$mode")
			R[$proto-p999,$mode]=$(num 'percentile 99.900 = *[0-9.]+' "$LOG/pp-$proto-$mode")
		fi
		stop "$p" INT
	done

	serve "$mode" "srtp-$mode" sockperf sr -i $ip -p 11112
	p=$PID
	if wait_for "$LOG/srtp-$mode" "using .* to block|Warmup" "$p"; then
		client $((SECS + 30)) "tp-$mode" sockperf throughput -i $ip -p 11112 -t "$SECS"
		sleep 0.3
		stop "$p" INT
		local got
		got=$(num 'Total [0-9]+ messages received' "$LOG/srtp-$mode")
		R[tp-rx,$mode]=$(awk -v n="${got:-}" -v t="$SECS" 'BEGIN { if (n != "") printf "%.0f", n / t }')
		R[tp-tx,$mode]=$(num 'Message Rate is [0-9]+' "$LOG/tp-$mode")
	else
		stop "$p" INT
	fi

	for dir in fwd rev; do
		local r=
		[ $dir = rev ] && r=-R
		serve "$mode" "ips-$dir-$mode" iperf3 -s -B $ip -p 5201 -1 --forceflush
		p=$PID
		if wait_for "$LOG/ips-$dir-$mode" "Server listening" "$p"; then
			client $((SECS + 30)) "ipc-$dir-$mode" iperf3 -c $ip -p 5201 -t "$SECS" $r -J
			R[iperf-$dir,$mode]=$(/usr/bin/python3 -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    pass' "$LOG/ipc-$dir-$mode")
		fi
		stop "$p"
	done

	cat >"$LOG/nginx-$mode.conf" <<EOF
master_process off;
daemon off;
worker_processes 1;
pid $LOG/nginx-$mode.pid;
error_log $LOG/nginx-$mode-error.log notice;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $LOG/tmp/body;
    proxy_temp_path $LOG/tmp/proxy;
    fastcgi_temp_path $LOG/tmp/fastcgi;
    uwsgi_temp_path $LOG/tmp/uwsgi;
    scgi_temp_path $LOG/tmp/scgi;
    sendfile on;
    server {
        listen $ip:8080;
        root $LOG/www;
    }
}
EOF
	serve "$mode" "nginx-$mode.out" nginx -p "$LOG" -c "$LOG/nginx-$mode.conf"
	p=$PID
	for _ in $(seq 50); do
		timeout 2 ip netns exec "$B" curl -s -o /dev/null http://$ip:8080/small.txt && break
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	client $((SECS + 30)) "wrk-$mode" wrk -t1 -c8 -d"${SECS}s" http://$ip:8080/small.txt
	R[wrk,$mode]=$(num 'Requests/sec: *[0-9.]+' "$LOG/wrk-$mode")
	stop "$p"

	serve "$mode" "redis-$mode.out" redis-server --bind $ip --port 6380 --save '' --appendonly no \
		--daemonize no --protected-mode no --dir "$LOG/redis"
	p=$PID
	if wait_for "$LOG/redis-$mode.out" "Ready to accept connections" "$p"; then
		client 60 "rb-$mode" redis-benchmark -h $ip -p 6380 -n 50000 -q -t set,get
		tr '\r' '\n' <"$LOG/rb-$mode" >"$LOG/rb-$mode.lines"
		R[redis-set,$mode]=$(num '^SET: [0-9.]+ requests per second' "$LOG/rb-$mode.lines")
		R[redis-get,$mode]=$(num '^GET: [0-9.]+ requests per second' "$LOG/rb-$mode.lines")
	fi
	stop "$p"
}

run_mode kernel
run_mode skiff

# row METRIC LABEL KIND(rate|lat)
row() {
	local k=${R[$1,kernel]:-} s=${R[$1,skiff]:-} ratio
	ratio=$(awk -v k="$k" -v s="$s" -v kind="$3" 'BEGIN {
		if (k == "" || s == "" || k == 0 || s == 0) { print "-"; exit }
		printf "%.2f", kind == "lat" ? k / s : s / k }')
	printf "| %s | %s | %s | %s |\n" "$2" "${k:--}" "${s:--}" "$ratio"
}
echo
echo "Unmodified programs, kernel vs skiff (LD_PRELOAD), veth between two namespaces, $SECS s per run;"
echo "servers in A$([ ${#SRVCPU[@]} -gt 0 ] && echo " on CPU 1"), kernel clients in B$([ ${#CLICPU[@]} -gt 0 ] && echo " on CPU 0")."
echo "ratio = skiff/kernel for rates, kernel/skiff for latencies: > 1 means skiff is better."
echo
echo "| metric | kernel | skiff | ratio |"
echo "| --- | ---: | ---: | ---: |"
row udp-avg "sockperf UDP ping-pong RTT avg (us)" lat
row udp-p99 "sockperf UDP ping-pong RTT p99 (us)" lat
row udp-p999 "sockperf UDP ping-pong RTT p99.9 (us)" lat
row tcp-avg "sockperf TCP ping-pong RTT avg (us)" lat
row tcp-p99 "sockperf TCP ping-pong RTT p99 (us)" lat
row tcp-p999 "sockperf TCP ping-pong RTT p99.9 (us)" lat
row tp-rx "sockperf UDP throughput 14 B, received (msg/s)" rate
row tp-tx "sockperf UDP throughput 14 B, sent by B (msg/s)" rate
row iperf-fwd "iperf3 TCP B → A (Gbit/s)" rate
row iperf-rev "iperf3 -R TCP A → B (Gbit/s)" rate
row wrk "nginx + wrk -t1 -c8, small file (requests/s)" rate
row redis-set "redis-benchmark SET (requests/s)" rate
row redis-get "redis-benchmark GET (requests/s)" rate
