#!/usr/bin/env bash
# raw_test.sh SKIFF — raw IP sockets and ICMP ping sockets on skiff (AF_XDP)
# through `skiff run`, against the Linux kernel across a veth pair, in two
# namespaces this script creates and always removes.
#
# ns A (rwA*): vA carries the kernel's own 198.18.0.3; skiff takes 198.18.0.2 on
# it. ns B (rwB*): vB 198.18.0.1, the kernel peer. SKIFF_BOOT_EARLY=1: the
# preload boots before main, because ping drops every capability but
# CAP_NET_RAW before it opens a socket. Checks, on the programs' own reports:
#   ping      iputils ping -c 3 (unmodified) from skiff to B: its summary says
#             exactly 3 transmitted, 3 received, 0% loss, with 3 reply lines; B
#             saw the echoes come from 198.18.0.2 (AF_PACKET sample) and A's
#             kernel ICMP counters did not move; first on a raw socket (root,
#             ping_group_range "1 0"), then on a ping socket (ping_group_range
#             opened in A: /proc/net/icmp shows the socket while ping runs),
#             then as user nobody (ping sockets, capabilities only for AF_XDP);
#             ping -M do -s 3000 reports the local EMSGSIZE from the error queue
#   raw echo  a Python SOCK_RAW/IPPROTO_ICMP client with ICMP_FILTER: 3 replies,
#             each with its IP header, from 198.18.0.1
#   hdrincl   the same with IP_HDRINCL and source/id/length/checksum left 0: 3
#             replies, and B saw them come from 198.18.0.2
#   recverr   a ping socket with IP_RECVERR to an address nobody answers: POLLERR,
#             EHOSTUNREACH pending, then MSG_ERRQUEUE with SO_EE_ORIGIN_ICMP,
#             type 3 code 1, offender 198.18.0.2 (skiff's ARP gave up), the
#             quoted echo request
#   peer ping B's kernel pings skiff (3 replies) while a raw ICMP socket on
#             skiff sees the 3 requests with their headers
# Exit 0 all ok, 1 a check failed, 77 skipped (not root, no namespaces).
set -u
SKIFF=${1:-}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CLIENT=$HERE/raw_client.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -n "$SKIFF" ] && [ -x "$SKIFF" ] || { echo "skip: skiff command '$SKIFF' not built"; exit 77; }
PING=$(command -v ping) || { echo "skip: no ping (iputils)"; exit 77; }

id=$$
A=rwA$id B=rwB$id VA=rwa$id VB=rwb$id
SK=198.18.0.2 KB=198.18.0.1
LOG=$(mktemp -d /tmp/skiff-raw.XXXXXX)
chmod 755 "$LOG"
netns_run_setup "$A" "$B" "$LOG"

# run_skiff SECS NAME CMD... : CMD in A under `skiff run` (itself run by ${PRE[@]}),
# bounded; output in $LOG/NAME
PRE=() TRACE=()
run_skiff() {
	local secs=$1 name=$2
	shift 2
	timeout -k 5 "$secs" ip netns exec "$A" "${TRACE[@]}" "${PRE[@]}" env SKIFF_BOOT_EARLY=1 "$SKIFF" run \
		--config "$LOG/skiff.conf" -- "$@" >"$LOG/$name" 2>&1
}
# bg_in NS NAME CMD... : in the background; $PID
bg_in() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" "$@" >"$LOG/$name" 2>&1 &
	PID=$!
	PIDS+=("$PID")
}
wait_for() { # FILE REGEX PID
	for _ in $(seq 100); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# json FILE EXPR: evaluate a Python expression over the last JSON line of FILE as j
json() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("{")]
j = json.loads(lines[-1]) if lines else {}
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
# A's kernel ICMP messages in + out (skiff's traffic must not move them)
a_icmp() {
	ip netns exec "$A" awk '$1 == "Icmp:" { if (seen++) print $2 + $16 }' /proc/net/snmp
}
ICMP0=0
mark() { ICMP0=$(a_icmp); }
via_skiff() {
	local d=$(($(a_icmp) - ICMP0))
	if [ "$d" -eq 0 ]; then
		ok "$1: on skiff (A's kernel ICMP counters did not move)"
	else
		bad "$1: A's kernel counted $d ICMP messages meanwhile — not on skiff"
	fi
}
sniff_start() {
	bg_in "$B" sniff.out "$PY" "$HERE/peer.py" sniff "$VB" 3000 30
	SNIFF=$PID
	wait_for "$LOG/sniff.out" ready "$SNIFF"
}
# sniff_check NAME MIN: B saw at least MIN ICMP packets from 198.18.0.2, none from 198.18.0.3
sniff_check() {
	sleep 0.3 # the last frames reach the sampler before it stops
	stop "$SNIFF"
	if json "$LOG/sniff.out" \
		"j['flows'].get('198.18.0.2>198.18.0.1/icmp', 0) >= $2 and j['flows'].get('198.18.0.3>198.18.0.1/icmp', 0) == 0"; then
		ok "$1: B saw the echoes come from 198.18.0.2 ($(tail -1 "$LOG/sniff.out"))"
	else
		bad "$1: B did not see the echoes come from 198.18.0.2" "$LOG/sniff.out"
	fi
}
# ping_ok FILE DST: exactly 3 sent, 3 received, 0% loss, 3 reply lines
ping_ok() {
	grep -qE "^3 packets transmitted, 3 received, 0% packet loss" "$1" || return 1
	[ "$(grep -cE "^64 bytes from $2: icmp_seq=[123] ttl=[0-9]+ time=" "$1")" -eq 3 ]
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
chmod 644 "$LOG/skiff.conf"
if ip -n "$A" -4 addr show | grep -q "$SK/"; then
	bad "A's kernel owns $SK: nothing below could tell skiff from the kernel"
else
	ok "A's kernel does not own $SK: only skiff can answer there"
fi

# ---------------------------------------------------------------- ping
# settle: ping drops CAP_SYS_ADMIN/CAP_BPF before it exits, so its exit cannot
# detach skiff's XDP program, and the next skiff reaps an orphan only once it is
# 5 s old (drivers/xdp_steer.c STEER_ORPHAN_AGE_NS): wait that out
settle() {
	if ip -n "$A" link show "$VA" | grep -q "prog/xdp"; then
		echo "     (ping left the XDP program attached: waiting for it to age into an orphan)"
		sleep 5.5
	fi
}

# one_ping NAME TYPE: ping -c 3 under skiff; strace (when there is one) shows
# that ping's ICMP socket was a TYPE (SOCK_RAW or SOCK_DGRAM, a ping socket)
one_ping() {
	local name=$1 type=$2
	mark
	sniff_start
	TRACE=()
	have_strace && TRACE=(strace -f -qq -e trace=socket -o "$LOG/$name.strace")
	run_skiff 30 "$name" "$PING" -c 3 -i 0.3 -W 2 $KB
	TRACE=()
	if [ -s "$LOG/$name.strace" ]; then
		if grep -qE "socket\(AF_INET, $type, IPPROTO_ICMP\) = [0-9]+" "$LOG/$name.strace"; then
			ok "$name: ping's ICMP socket is a $type one ($(grep -E 'IPPROTO_ICMP\)' "$LOG/$name.strace" |
				sed 's/^[0-9]* //' | tr '\n' ';'))"
		else
			bad "$name: ping did not get a $type ICMP socket" "$LOG/$name.strace"
		fi
	fi
	if ping_ok "$LOG/$name" $KB; then
		ok "$name: $(grep -E 'packets transmitted' "$LOG/$name")"
	else
		bad "$name: ping did not report 3 of 3 replies" "$LOG/$name"
	fi
	via_skiff "$name"
	sniff_check "$name" 3
	settle
}

have_strace() { command -v strace >/dev/null 2>&1; }
have_strace || echo "     (no strace: which ICMP socket ping opened is not checked)"

echo "== iputils ping"
# the kernel's answer to socket(2) decides, as for any program: no group may
# open ping sockets, so ping (root) falls back to SOCK_RAW
ip netns exec "$A" sysctl -qw net.ipv4.ping_group_range="1 0"
one_ping "ping (raw socket)" SOCK_RAW
ip netns exec "$A" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
one_ping "ping (ping socket)" SOCK_DGRAM

# a datagram bigger than the MTU with DF forced: ping's own report of the
# error-queue entry (IP_RECVERR, SO_EE_ORIGIN_LOCAL, ee_info = MTU), as on Linux
run_skiff 30 "ping -M do" "$PING" -c 1 -M do -s 3000 -W 2 $KB
if grep -q "local error: message too long, mtu=1500" "$LOG/ping -M do" &&
	grep -qE "^1 packets transmitted, 0 received, \+1 errors" "$LOG/ping -M do"; then
	ok "ping -M do -s 3000: $(grep 'local error' "$LOG/ping -M do")"
else
	bad "ping -M do -s 3000: no local EMSGSIZE report" "$LOG/ping -M do"
fi
settle

# as user nobody: a copy of ping without its file capability (the loader would
# ignore LD_PRELOAD for it), the capabilities AF_XDP needs given as ambient ones
if command -v setpriv >/dev/null; then
	cp "$PING" "$LOG/ping-nocap" && chmod 755 "$LOG/ping-nocap"
	CAPS=+net_raw,+net_admin,+sys_admin,+bpf,+perfmon,+ipc_lock
	PING_SAVE=$PING
	PING=$LOG/ping-nocap
	# owner records where nobody may write them (/run/skiff is root's)
	mkdir -p "$LOG/run" && chmod 1777 "$LOG/run"
	PRE=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$CAPS" --ambient-caps="$CAPS"
		env SKIFF_RUN_DIR="$LOG/run")
	one_ping "ping (user nobody)" SOCK_DGRAM
	PRE=()
	PING=$PING_SAVE
else
	echo "skip ping as user nobody: no setpriv"
fi

# ---------------------------------------------------------------- Python raw sockets
echo "== Python raw sockets"
mark
run_skiff 30 raw-echo "$PY" "$CLIENT" echo $KB
if json "$LOG/raw-echo" "j['replies'] == 3 and j['with_header'] == 3 and j['src'] == '$KB' and j['filter'] == 0xfffffffe"; then
	ok "raw echo: 3 replies with their IP header ($(tail -1 "$LOG/raw-echo"))"
else
	bad "raw echo: the replies did not come back as Linux gives them" "$LOG/raw-echo"
fi
via_skiff "raw echo"

mark
sniff_start
run_skiff 30 raw-hdrincl "$PY" "$CLIENT" hdrincl $KB
if json "$LOG/raw-hdrincl" "j['replies'] == 3 and j['hdrincl'] and j['src'] == '$KB'"; then
	ok "IP_HDRINCL: 3 replies to our own headers ($(tail -1 "$LOG/raw-hdrincl"))"
else
	bad "IP_HDRINCL: no replies" "$LOG/raw-hdrincl"
fi
via_skiff "IP_HDRINCL"
sniff_check "IP_HDRINCL" 3

mark
run_skiff 40 raw-recverr "$PY" "$CLIENT" pingerr 198.18.0.9
if json "$LOG/raw-recverr" "j.get('pollerr') and j.get('recv_errno') == 113 and j.get('flags_errqueue') and \
j.get('errno') == 113 and j.get('origin') == 2 and j.get('type') == 3 and j.get('code') == 1 and \
j.get('offender') == '$SK' and j.get('addr') == '198.18.0.9' and j.get('quoted_type') == 8"; then
	ok "IP_RECVERR: host unreachable on the error queue ($(tail -1 "$LOG/raw-recverr"))"
else
	bad "IP_RECVERR: the error queue did not report host unreachable" "$LOG/raw-recverr"
fi
via_skiff "IP_RECVERR"

# ---------------------------------------------------------------- the kernel pings skiff
echo "== kernel peer pings skiff"
ip netns exec "$A" env SKIFF_BOOT_EARLY=1 "$SKIFF" run --config "$LOG/skiff.conf" -- "$PY" "$CLIENT" listen 20 3 \
	>"$LOG/listen" 2>&1 &
LPID=$!
PIDS+=("$LPID")
if wait_for "$LOG/listen" ready "$LPID"; then
	mark
	timeout -k 5 30 ip netns exec "$B" "$PING" -c 3 -i 0.3 -W 2 $SK >"$LOG/peer-ping" 2>&1
	if ping_ok "$LOG/peer-ping" $SK; then
		ok "B pings skiff: $(grep -E 'packets transmitted' "$LOG/peer-ping")"
	else
		bad "B pings skiff: not 3 of 3 replies" "$LOG/peer-ping"
	fi
	via_skiff "B pings skiff"
	for _ in $(seq 100); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
	stop "$LPID"
	if json "$LOG/listen" "j['requests'] == 3 and j['srcs'] == {'$KB': 3}"; then
		ok "raw socket on skiff saw B's 3 echo requests ($(tail -1 "$LOG/listen"))"
	else
		bad "raw socket on skiff did not see B's echo requests" "$LOG/listen"
	fi
else
	bad "raw listener under skiff did not start" "$LOG/listen"
	stop "$LPID"
fi

echo "raw: $fails failed"
[ "$fails" -eq 0 ]
