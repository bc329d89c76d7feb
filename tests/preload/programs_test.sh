#!/usr/bin/env bash
# programs_test.sh PRELOAD_SO — real, unmodified programs on skiff through
# LD_PRELOAD (libskiff_preload.so), against the Linux kernel across a veth pair,
# in two namespaces this script creates and always removes.
#
# ns A: vA carries the kernel's own 198.18.0.3; skiff takes 198.18.0.2 on it
# (AF_XDP, from a config file). ns B: vB 198.18.0.1, the kernel peer. Every
# program under the preload runs in A on 198.18.0.2; its peer is an ordinary
# kernel program in B. Checks, on the programs' own reports:
#   sockperf  server on skiff: UDP and TCP ping-pong (observations, no drops/
#             dups/reordering), UDP and TCP throughput (the server's received
#             count); client on skiff: UDP and TCP ping-pong and throughput
#   iperf3    server on skiff (kernel client, and -R), client on skiff: bytes
#             received > 0 and equal to those sent (less iperf3's own
#             end-of-test in-flight shortfall, which kernel↔kernel shows too)
#   nginx     one worker on skiff: curl fetches 1 MiB and a small file, SHA-256
#             equal; wrk -t1 -c8: requests > 0, no socket errors, no non-2xx,
#             and at least 1/10 of the same nginx on A's kernel (a keepalive
#             connection that is never served again shows as no error at all);
#             it exits on SIGTERM
#   epoll ET  the arrival pattern nginx's keepalive depends on (et_edge.py)
#   signals   a handler run while skiff busy-polls still ends a blocking
#             recv/epoll_wait with EINTR (sig_edge.py, busy_poll_us = 1 s); a
#             signal the program blocks reaches its sigtimedwait
#   redis     redis-server on skiff: SET/GET round trip, redis-benchmark SET/GET
#   mixed     a Python program with an AF_UNIX socketpair (kernel) and a TCP
#             connection (skiff) relaying 8 MiB byte-exactly (mixed.py)
#   ports     three processes' connects do not all use one ephemeral port
# and that skiff carried the traffic, not A's kernel: A's kernel does not own
# 198.18.0.2, its TCP/UDP counters (/proc/net/snmp in A) stay still while a
# program runs, and where skiff is the client the kernel peer saw source
# 198.18.0.2 (its own report, or an AF_PACKET sample in B: peer.py sniff).
# Exit 0 all ok, 1 a check failed, 77 skipped (not root, no namespaces).
set -u
SO=${1:-}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -n "$SO" ] && [ -f "$SO" ] || { echo "skip: preload library '$SO' not built"; exit 77; }
SO=$(cd "$(dirname "$SO")" && pwd)/$(basename "$SO")

id=$$
A=ppA$id B=ppB$id VA=pA$id VB=pB$id
SK=198.18.0.2 KB=198.18.0.1
LOG=$(mktemp -d /tmp/skiff-programs.XXXXXX)
chmod 755 "$LOG" # nginx opens its files as root, but keep it readable
netns_run_setup "$A" "$B" "$LOG"
skip() { echo "skip $1"; }
have() { command -v "$1" >/dev/null 2>&1; }

# on_skiff NAME CMD... : CMD in A under the preload, in the background; $PID
on_skiff() {
	local name=$1
	shift
	ip netns exec "$A" env SKIFF_CONFIG="$LOG/skiff.conf" LD_PRELOAD="$SO" "$@" >"$LOG/$name" 2>&1 &
	PID=$!
	PIDS+=("$PID")
}
# on_kernel NS NAME CMD... : CMD in namespace NS (no preload), in the background; $PID
on_kernel() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" "$@" >"$LOG/$name" 2>&1 &
	PID=$!
	PIDS+=("$PID")
}
# run_in NS SECS NAME CMD... : CMD in NS in the foreground, bounded; output in $LOG/NAME
run_in() {
	local ns=$1 secs=$2 name=$3
	shift 3
	timeout -k 5 "$secs" ip netns exec "$ns" "$@" >"$LOG/$name" 2>&1
}
# run_skiff SECS NAME CMD... : CMD in A under the preload, in the foreground, bounded
run_skiff() {
	local secs=$1 name=$2
	shift 2
	timeout -k 5 "$secs" ip netns exec "$A" env SKIFF_CONFIG="$LOG/skiff.conf" LD_PRELOAD="$SO" "$@" \
		>"$LOG/$name" 2>&1
}
# wait_for FILE REGEX PID [TENTHS]: REGEX shows up in FILE while PID lives
wait_for() {
	for _ in $(seq "${4:-100}"); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -qE "$2" "$1" 2>/dev/null; return; }
		sleep 0.1
	done
	return 1
}
# wait_exit PID TENTHS: 0 when PID ended in time (its status in $RC)
wait_exit() {
	for _ in $(seq "$2"); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null
			RC=$?
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# stop PID [SIGNAL]: signal, 5 s to go, then SIGKILL (and status 1)
stop() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait_exit "$1" 50 && return 0
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}

# stop_skiff NAME PID SIGNAL [LOG...]: a program under the preload exits on SIGNAL
stop_skiff() {
	local name=$1 pid=$2 sig=$3
	shift 3
	stop "$pid" "$sig" || bad "$name: still running 5 s after SIG$sig (killed)" "$@"
}

# A's kernel TCP segments + UDP datagrams, in and out
a_kstat() {
	ip netns exec "$A" awk '$1 == "Tcp:" || $1 == "Udp:" {
		if (seen[$1]++) { for (i = 2; i <= NF; i++) v[$1 h[$1, i]] = $i }
		else for (i = 2; i <= NF; i++) h[$1, i] = $i }
		END { print v["Tcp:InSegs"] + v["Tcp:OutSegs"] + v["Udp:InDatagrams"] + v["Udp:OutDatagrams"] }' /proc/net/snmp
}
KSTAT0=0
mark() { KSTAT0=$(a_kstat); }
# via_skiff NAME: A's kernel moved (almost) nothing since `mark`
via_skiff() {
	local d=$(($(a_kstat) - KSTAT0))
	if [ "$d" -le 20 ]; then
		ok "$1: on skiff (A's kernel: $d TCP/UDP segments meanwhile)"
	else
		bad "$1: A's kernel carried $d TCP/UDP segments — not on skiff"
	fi
}

# sniff_start / sniff_check NAME: an AF_PACKET sample on vB shows skiff's source
sniff_start() {
	on_kernel "$B" sniff.out "$PY" "$HERE/peer.py" sniff "$VB" 3000 30
	SNIFF=$PID
	wait_for "$LOG/sniff.out" ready "$SNIFF" 50
}
sniff_check() {
	stop "$SNIFF" TERM
	if "$PY" - "$LOG/sniff.out" "$2" <<'EOF' >"$LOG/sniff.verdict" 2>&1; then
import json, sys
j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
f, proto = j["flows"], sys.argv[2]
ours = f.get("198.18.0.2>198.18.0.1/" + proto, 0)
kern = f.get("198.18.0.3>198.18.0.1/" + proto, 0)
print("B saw %d %s packets from 198.18.0.2, %d from 198.18.0.3 (sample of %d)" % (ours, proto, kern, j["packets"]))
sys.exit(0 if ours > 0 and kern == 0 else 1)
EOF
		ok "$1: $(cat "$LOG/sniff.verdict")"
	else
		bad "$1: the peer did not see source 198.18.0.2" "$LOG/sniff.verdict" "$LOG/sniff.out"
	fi
}

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = $SK/24   ; the kernel keeps 198.18.0.3
EOF
if ip -n "$A" -4 addr show | grep -q "$SK/"; then
	bad "A's kernel owns $SK: nothing below could tell skiff from the kernel"
else
	ok "A's kernel does not own $SK: only skiff can answer there"
fi

# ---------------------------------------------------------------- sockperf
# sockperf_pp NAME LOG: the ping-pong report has observations and no loss
sockperf_pp_ok() {
	local f=$1
	grep -q "Total [0-9]* observations" "$f" || return 1
	[ "$(grep -o 'Total [0-9]* observations' "$f" | grep -o '[0-9]*')" -gt 0 ] || return 1
	grep -q "# dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0" "$f" || return 1
	! grep -qiE "error|fail" "$f"
}
pp_summary() {
	echo "$(grep -o 'Total [0-9]* observations' "$1"), avg $(grep -o 'Latency is [0-9.]* usec' "$1" | grep -o '[0-9.]* usec')"
}

echo "== sockperf"
if have sockperf; then
	for proto in udp tcp; do
		opt=
		[ $proto = tcp ] && opt=--tcp
		port=11110
		[ $proto = tcp ] && port=11112
		on_skiff "sp-srv-$proto" sockperf sr $opt -i $SK -p $port
		srv=$PID
		if wait_for "$LOG/sp-srv-$proto" "using .* to block|Warmup" "$srv"; then
			mark
			if run_in "$B" 30 "sp-pp-$proto" sockperf ping-pong $opt -i $SK -p $port -t 2 &&
				sockperf_pp_ok "$LOG/sp-pp-$proto"; then
				ok "sockperf $proto ping-pong, kernel client → skiff server: $(pp_summary "$LOG/sp-pp-$proto")"
			else
				bad "sockperf $proto ping-pong, kernel client → skiff server" "$LOG/sp-pp-$proto" "$LOG/sp-srv-$proto"
			fi
			via_skiff "sockperf $proto server"
		else
			bad "sockperf $proto server under the preload did not start" "$LOG/sp-srv-$proto"
		fi
		stop_skiff "sockperf $proto server" "$srv" INT "$LOG/sp-srv-$proto"

		on_kernel "$B" "sp-ksrv-$proto" sockperf sr $opt -i $KB -p $port
		srv=$PID
		if wait_for "$LOG/sp-ksrv-$proto" "using .* to block|Warmup" "$srv"; then
			mark
			sniff_start
			if run_skiff 30 "sp-cli-$proto" sockperf ping-pong $opt -i $KB -p $port -t 2 &&
				sockperf_pp_ok "$LOG/sp-cli-$proto"; then
				ok "sockperf $proto ping-pong, skiff client → kernel server: $(pp_summary "$LOG/sp-cli-$proto")"
			else
				bad "sockperf $proto ping-pong, skiff client → kernel server" "$LOG/sp-cli-$proto" "$LOG/sp-ksrv-$proto"
			fi
			sniff_check "sockperf $proto client" $proto
			via_skiff "sockperf $proto client"
		else
			bad "kernel sockperf $proto server did not start" "$LOG/sp-ksrv-$proto"
		fi
		stop "$srv" INT
	done

	# UDP and TCP throughput: the sender's rate, and the receiver's count (printed at SIGINT)
	tp_check() { # tp_check NAME CLIENTLOG SERVERLOG
		local sent got
		sent=$(grep -o 'Total of [0-9]* messages sent' "$2" | grep -o '[0-9]*')
		got=$(grep -o 'Total [0-9]* messages received' "$3" | grep -o '[0-9]*')
		if [ -n "$sent" ] && [ -n "$got" ] && [ "$got" -gt 0 ] && ! grep -qi error "$2"; then
			ok "$1: $sent sent, $got received ($(grep -o 'Message Rate is [0-9]*' "$2" | grep -o '[0-9]*') msg/s sent)"
		else
			bad "$1 (sent '${sent:-?}', received '${got:-?}')" "$2" "$3"
		fi
	}
	for proto in udp tcp; do
		flag=() port=11120
		[ $proto = tcp ] && flag=(--tcp) port=11122
		on_skiff sp-srv-tp-$proto sockperf sr "${flag[@]}" -i $SK -p $port
		srv=$PID
		if wait_for "$LOG/sp-srv-tp-$proto" "using .* to block|Warmup" "$srv"; then
			mark
			run_in "$B" 30 sp-tp-$proto sockperf throughput "${flag[@]}" -i $SK -p $port -t 2
			sleep 0.3
			stop_skiff "sockperf $proto throughput server" "$srv" INT "$LOG/sp-srv-tp-$proto"
			tp_check "sockperf $proto throughput, kernel client → skiff server" "$LOG/sp-tp-$proto" "$LOG/sp-srv-tp-$proto"
			via_skiff "sockperf $proto throughput server"
		else
			bad "sockperf $proto throughput server under the preload did not start" "$LOG/sp-srv-tp-$proto"
			stop "$srv" INT
		fi
		on_kernel "$B" sp-ksrv-tp-$proto sockperf sr "${flag[@]}" -i $KB -p $((port + 1))
		srv=$PID
		if wait_for "$LOG/sp-ksrv-tp-$proto" "using .* to block|Warmup" "$srv"; then
			mark
			run_skiff 30 sp-cli-tp-$proto sockperf throughput "${flag[@]}" -i $KB -p $((port + 1)) -t 2
			sleep 0.3
			stop "$srv" INT
			tp_check "sockperf $proto throughput, skiff client → kernel server" "$LOG/sp-cli-tp-$proto" "$LOG/sp-ksrv-tp-$proto"
			via_skiff "sockperf $proto throughput client"
		else
			bad "kernel sockperf $proto throughput server did not start" "$LOG/sp-ksrv-tp-$proto"
			stop "$srv" INT
		fi
	done
else
	skip "sockperf: not installed"
fi

# ---------------------------------------------------------------- iperf3
# iperf_check NAME CLIENT_JSON: sent > 0, received > 0, received == sent less
# iperf3's end-of-test shortfall (the receiver stops counting at TEST_END, so
# what is still in flight then is not counted; kernel↔kernel shows up to ~1 %)
iperf_check() {
	"$PY" - "$2" <<'EOF' >"$LOG/iperf.verdict" 2>&1
import json, sys
j = json.load(open(sys.argv[1]))
if j.get("error"):
    sys.exit(print("iperf3 error:", j["error"]) or 1)
e = j["end"]
s, r = e["sum_sent"]["bytes"], e["sum_received"]["bytes"]
c = j["start"]["connected"][0]
gap = s - r
how = "exact" if gap == 0 else "short by %d B = %.3f %% (in flight at TEST_END)" % (gap, 100.0 * gap / max(s, 1))
print("%s:%d → %s:%d, sent %d B, received %d B (%s), %.2f Gbit/s" % (
    c["local_host"], c["local_port"], c["remote_host"], c["remote_port"], s, r, how,
    e["sum_received"]["bits_per_second"] / 1e9))
sys.exit(0 if s > 0 and r > 0 and 0 <= gap <= s * 0.02 else 1)
EOF
	local rc=$?
	if [ $rc -eq 0 ]; then ok "$1: $(cat "$LOG/iperf.verdict")"; else bad "$1" "$LOG/iperf.verdict" "${@:3}"; fi
	return $rc
}

echo "== iperf3"
if have iperf3; then
	for dir in fwd rev; do
		r= lbl=iperf3
		[ $dir = rev ] && r=-R lbl="iperf3 -R"
		on_skiff "ip-srv-$dir" iperf3 -s -B $SK -p 5201 -1 --forceflush
		srv=$PID
		if wait_for "$LOG/ip-srv-$dir" "Server listening" "$srv"; then
			mark
			run_in "$B" 30 "ip-cli-$dir.json" iperf3 -c $SK -p 5201 -t 3 $r -J
			iperf_check "$lbl: kernel client → skiff server" "$LOG/ip-cli-$dir.json" "$LOG/ip-srv-$dir"
			wait_exit "$srv" 50 || bad "iperf3 -s -1 under the preload did not exit after its test" "$LOG/ip-srv-$dir"
			via_skiff "$lbl server"
		else
			bad "iperf3 server under the preload did not start" "$LOG/ip-srv-$dir"
		fi
		stop "$srv"
	done
	on_kernel "$B" ip-ksrv iperf3 -s -B $KB -p 5202 -1 --forceflush
	srv=$PID
	if wait_for "$LOG/ip-ksrv" "Server listening" "$srv"; then
		mark
		run_skiff 30 ip-skcli.json iperf3 -c $KB -p 5202 -t 3 -J
		iperf_check "iperf3: skiff client → kernel server" "$LOG/ip-skcli.json" "$LOG/ip-ksrv"
		wait_exit "$srv" 50
		if grep -q "Accepted connection from $SK," "$LOG/ip-ksrv"; then
			ok "iperf3 client: the kernel server accepted it from $SK"
		else
			bad "iperf3 client: the kernel server did not see $SK" "$LOG/ip-ksrv"
		fi
		via_skiff "iperf3 client"
	else
		bad "kernel iperf3 server did not start" "$LOG/ip-ksrv"
	fi
	stop "$srv"
else
	skip "iperf3: not installed"
fi

# ---------------------------------------------------------------- nginx
echo "== nginx"
if have nginx; then
	W=$LOG/nginx
	mkdir -p "$W/www" "$W/tmp"
	head -c 1048576 /dev/urandom >"$W/www/big.bin"
	echo "small file from nginx on skiff $id" >"$W/www/small.txt"
	nginx_conf() { # nginx_conf ADDR NAME
		cat >"$W/$2.conf" <<EOF
master_process off;
daemon off;
worker_processes 1;
pid $W/$2.pid;
error_log $W/$2-error.log info;
events { worker_connections 1024; }
http {
    access_log $W/$2-access.log;
    client_body_temp_path $W/tmp/body;
    proxy_temp_path $W/tmp/proxy;
    fastcgi_temp_path $W/tmp/fastcgi;
    uwsgi_temp_path $W/tmp/uwsgi;
    scgi_temp_path $W/tmp/scgi;
    sendfile on;
    server {
        listen $1:8080;
        root $W/www;
    }
}
EOF
	}
	nginx_up() { # nginx_up ADDR PID: it answers curl from B
		for _ in $(seq 50); do
			timeout 2 ip netns exec "$B" curl -s -o /dev/null "http://$1:8080/small.txt" && return 0
			kill -0 "$2" 2>/dev/null || return 1
			sleep 0.1
		done
		return 1
	}
	wrk_n() { grep -o '[0-9]* requests in' "$1" | grep -o '[0-9]*'; }
	nginx_conf $SK nginx
	nginx_conf 198.18.0.3 knginx
	# the same nginx on A's kernel: the yardstick for wrk's rate below
	kreq=
	if have wrk; then
		on_kernel "$A" knginx.out nginx -p "$W" -c "$W/knginx.conf"
		srv=$PID
		if nginx_up 198.18.0.3 "$srv"; then
			run_in "$B" 20 kwrk.out wrk -t1 -c8 -d3s http://198.18.0.3:8080/small.txt
			kreq=$(wrk_n "$LOG/kwrk.out")
		fi
		stop "$srv"
		[ -n "$kreq" ] || bad "kernel nginx (the wrk yardstick) did not run" "$LOG/knginx.out" "$LOG/kwrk.out"
	fi
	on_skiff nginx.out nginx -p "$W" -c "$W/nginx.conf"
	srv=$PID
	if nginx_up $SK "$srv"; then
		mark
		for f in big.bin small.txt; do
			if run_in "$B" 20 "curl-$f" curl -sS -o "$W/got-$f" http://$SK:8080/$f &&
				[ "$(sha256sum <"$W/got-$f")" = "$(sha256sum <"$W/www/$f")" ]; then
				ok "nginx: curl $f ($(stat -c %s "$W/got-$f") B), SHA-256 equal"
			else
				bad "nginx: curl $f" "$LOG/curl-$f" "$W/nginx-error.log"
			fi
		done
		if have wrk && [ -n "$kreq" ]; then
			# requests > 0 is not enough: a connection whose next request is never
			# noticed just stops (wrk reports no error for it), so also want at
			# least a tenth of what the kernel's nginx did in the same 3 s
			run_in "$B" 20 wrk.out wrk -t1 -c8 -d3s http://$SK:8080/small.txt
			n=$(wrk_n "$LOG/wrk.out")
			if [ "${n:-0}" -gt 0 ] && ! grep -qE "Socket errors|Non-2xx" "$LOG/wrk.out" &&
				[ "$((n * 10))" -ge "$kreq" ]; then
				ok "nginx: wrk -t1 -c8 -d3s: $n requests (kernel nginx: $kreq), no errors"
			else
				bad "nginx: wrk -t1 -c8 -d3s: ${n:-no} requests in 3 s, the kernel's nginx $kreq (want > 0, no errors, ≥ 1/10 of the kernel's)" \
					"$LOG/wrk.out" "$W/nginx-error.log"
			fi
		else
			skip "wrk: not installed or no kernel yardstick"
		fi
		if tail -n 1 "$W/nginx-access.log" | grep -q "^$KB "; then
			ok "nginx: its access log has the kernel client $KB"
		else
			bad "nginx: access log without $KB" "$W/nginx-access.log"
		fi
		via_skiff "nginx"
	else
		bad "nginx under the preload never answered on $SK:8080" "$LOG/nginx.out" "$W/nginx-error.log"
	fi
	if stop "$srv"; then
		ok "nginx: exits on SIGTERM"
	else
		bad "nginx: still running 5 s after SIGTERM (killed)" "$W/nginx-error.log"
	fi
else
	skip "nginx: not installed"
fi

# the pattern nginx's keepalive relies on, in 40 lines of Python
echo "== epoll edge-triggered"
on_skiff et.out "$PY" "$HERE/et_edge.py" server $SK 9100 200
srv=$PID
if wait_for "$LOG/et.out" ready "$srv"; then
	run_in "$B" 30 et-cli.out "$PY" "$HERE/et_edge.py" client $SK 9100 200
	wait_exit "$srv" 100
	if grep -q "^ok" "$LOG/et.out"; then
		ok "epoll EPOLLET: data arriving between drain-to-EAGAIN and epoll_wait is a new edge (200 requests)"
	else
		bad "epoll EPOLLET: an arrival between drain-to-EAGAIN and epoll_wait gives no edge" "$LOG/et.out" "$LOG/et-cli.out"
	fi
else
	bad "et_edge.py server under the preload did not start" "$LOG/et.out"
fi
stop "$srv"

# a signal taken while skiff busy-polls must still end the blocking call
echo "== signals"
for m in recv epoll; do
	if timeout -k 2 5 ip netns exec "$A" env SKIFF_STACK_BUSY_POLL_US=1000000 SKIFF_CONFIG="$LOG/skiff.conf" \
		LD_PRELOAD="$SO" "$PY" "$HERE/sig_edge.py" $m $SK >"$LOG/sig-$m" 2>&1 && grep -q "^ok" "$LOG/sig-$m"; then
		ok "signals: $(cat "$LOG/sig-$m") (busy_poll_us = 1 s)"
	else
		echo "(no EINTR within 5 s: the handler ran in skiff's busy-poll, then the call slept on)" >>"$LOG/sig-$m"
		bad "signals: blocking $m on skiff not interrupted by SIGALRM taken during busy-poll" "$LOG/sig-$m"
	fi
done
# a process-directed signal the program blocks (to sigwait/signalfd it) must
# not be taken by skiff's progress thread
{ ip netns exec "$A" env SKIFF_CONFIG="$LOG/skiff.conf" LD_PRELOAD="$SO" timeout -k 2 10 "$PY" "$HERE/sig_edge.py" sigwait $SK \
	>"$LOG/sig-wait" 2>&1; } 2>/dev/null # (bash's own "User defined signal 1" line)
rc=$?
if [ $rc -eq 0 ] && grep -q "^ok" "$LOG/sig-wait"; then
	ok "signals: $(cat "$LOG/sig-wait")"
else
	echo "(exit status $rc$([ $rc -gt 128 ] && [ $rc -lt 160 ] && echo ": killed by signal $((rc - 128))"))" >>"$LOG/sig-wait"
	bad "signals: SIGUSR1 blocked by the program for sigtimedwait was taken by another thread" "$LOG/sig-wait"
fi

# ---------------------------------------------------------------- redis
echo "== redis"
if have redis-server && have redis-cli; then
	mkdir -p "$LOG/redis"
	on_skiff redis.out redis-server --bind $SK --port 6380 --save '' --appendonly no --daemonize no \
		--protected-mode no --dir "$LOG/redis"
	srv=$PID
	if wait_for "$LOG/redis.out" "Ready to accept connections" "$srv"; then
		mark
		val="skiff-$id-$RANDOM"
		run_in "$B" 10 rset redis-cli -h $SK -p 6380 SET k "$val"
		run_in "$B" 10 rget redis-cli -h $SK -p 6380 GET k
		if [ "$(cat "$LOG/rset")" = OK ] && [ "$(cat "$LOG/rget")" = "$val" ]; then
			ok "redis: SET k $val / GET k round trip"
		else
			bad "redis: SET/GET round trip (SET said '$(cat "$LOG/rset")', GET said '$(cat "$LOG/rget")')" "$LOG/redis.out"
		fi
		if have redis-benchmark; then
			run_in "$B" 60 rbench redis-benchmark -h $SK -p 6380 -n 20000 -q -t set,get
			set_rps=$(tr '\r' '\n' <"$LOG/rbench" | grep -o '^SET: [0-9.]* requests per second' | grep -o '[0-9.]*' | head -1)
			get_rps=$(tr '\r' '\n' <"$LOG/rbench" | grep -o '^GET: [0-9.]* requests per second' | grep -o '[0-9.]*' | head -1)
			if [ -n "$set_rps" ] && [ -n "$get_rps" ]; then
				ok "redis-benchmark -n 20000: SET $set_rps/s, GET $get_rps/s"
			else
				bad "redis-benchmark: no SET/GET requests-per-second lines" "$LOG/rbench" "$LOG/redis.out"
			fi
		else
			skip "redis-benchmark: not installed"
		fi
		run_in "$B" 10 rclients redis-cli -h $SK -p 6380 CLIENT LIST
		if grep -q "addr=$KB:.* laddr=$SK:6380" "$LOG/rclients"; then
			ok "redis: CLIENT LIST shows $KB → $SK:6380"
		else
			bad "redis: CLIENT LIST" "$LOG/rclients"
		fi
		via_skiff "redis"
	else
		bad "redis-server under the preload did not get ready" "$LOG/redis.out"
	fi
	stop_skiff "redis-server" "$srv" TERM "$LOG/redis.out"
else
	skip "redis: not installed"
fi

# ---------------------------------------------------------------- mixed
echo "== mixed AF_UNIX + TCP"
on_kernel "$B" echo.out "$PY" "$HERE/peer.py" echo $KB 7001
srv=$PID
if wait_for "$LOG/echo.out" ready "$srv"; then
	mark
	if run_skiff 90 mixed.out "$PY" "$HERE/mixed.py" $KB 7001 8388608; then
		ok "mixed.py: 8 MiB through socketpair → TCP (skiff) → kernel echo → TCP → socketpair, SHA-256 equal; SCM_RIGHTS and AF_UNIX dgram work"
	else
		bad "mixed.py" "$LOG/mixed.out"
	fi
	wait_exit "$srv" 50
	if "$PY" - "$LOG/echo.out" <<'EOF' >"$LOG/echo.verdict" 2>&1; then
import json, sys
j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print("the kernel echo peer saw %s:%d, %d B" % (j["peer"][0], j["peer"][1], j["bytes"]))
sys.exit(0 if j["peer"][0] == "198.18.0.2" and j["bytes"] == 8388608 else 1)
EOF
		ok "mixed.py: $(cat "$LOG/echo.verdict")"
	else
		bad "mixed.py: the kernel peer's view" "$LOG/echo.verdict" "$LOG/echo.out"
	fi
	via_skiff "mixed.py"
else
	bad "kernel echo peer did not start" "$LOG/echo.out"
fi
stop "$srv"

# each process under the preload is its own stack: its ephemeral ports (and the
# ISN secret drawn from the same generator) must not repeat from one process to
# the next (RFC 6056 / RFC 6528; the kernel's are random per boot and per connection)
on_kernel "$B" accept.out "$PY" "$HERE/peer.py" accept $KB 7002 3
srv=$PID
if wait_for "$LOG/accept.out" ready "$srv"; then
	for i in 1 2 3; do
		run_skiff 20 "conn-$i" "$PY" -c 'import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print(s.getsockname()[1])' $KB 7002
	done
	wait_exit "$srv" 50
	ports=$(cat "$LOG"/conn-[123] | tr '\n' ' ')
	if [ "$(cat "$LOG"/conn-[123] | sort -u | wc -l)" -gt 1 ]; then
		ok "three processes, three connects: ephemeral ports $ports"
	else
		bad "three processes under the preload all connected from the same ephemeral port: $ports" "$LOG/accept.out"
	fi
else
	bad "kernel accept peer did not start" "$LOG/accept.out"
fi
stop "$srv"

echo "== programs: $fails failure(s)"
[ "$fails" -eq 0 ]
