#!/usr/bin/env bash
# raw6_test.sh SKIFF — IPv6 raw sockets and ICMPv6 ping sockets on skiff
# (AF_XDP) through `skiff run`, against the Linux kernel across a veth pair, in
# two namespaces this script creates and always removes.
#
# ns A (r6A*): vA; skiff serves 2001:2::2/64 (and 198.18.0.2) on it, DAD off
# ([stack] nd_dad_transmits = 0: every `skiff run` is a new stack, and ping
# picks its source at once). ns B (r6B*): vB 2001:2::1/64 (nodad), the kernel
# peer. SKIFF_BOOT_EARLY=1: the preload boots before main, because ping drops
# every capability but CAP_NET_RAW before it opens a socket. Checks, on the
# programs' own reports:
#   ping -6   iputils ping -6 -c 3 (unmodified) from skiff to B: exactly 3
#             transmitted, 3 received, 0% loss, 3 reply lines; B saw the echo
#             requests come from 2001:2::2 (AF_PACKET sample) and A's kernel
#             ICMPv6 echo counters did not move; on a raw socket (root,
#             ping_group_range "1 0"), on a ping socket (range opened), and as
#             user nobody (ping socket, capabilities only for AF_XDP)
#   ping -6 -I vA fe80::B   link-local with the interface as scope: 3 replies
#   ping -6 -s 3000         3 replies, fragmented both ways; with -M do ping's
#             report of the local EMSGSIZE (error queue, mtu 1500)
#   raw echo6 a Python SOCK_RAW/IPPROTO_ICMPV6 client with ICMP6_FILTER passing
#             only echo replies and IPV6_RECVHOPLIMIT: 3 replies without the
#             IPv6 header from 2001:2::1 with hop limit 64, no other type got
#             through, the filter reads back, IPV6_CHECKSUM at IPPROTO_IPV6 is
#             refused with EINVAL
#   nowhere   ping -6 to 2001:2::9 (nobody): ping reports "Destination
#             unreachable: Address unreachable" from 2001:2::2 (skiff's ND gave
#             up; the error reached ping's error queue)
#   peer ping B's kernel pings skiff (3 replies) while a raw ICMPv6 socket on
#             skiff sees the 3 requests without header, from 2001:2::1
# Exit 0 all ok, 1 a check failed, 77 skipped (not root, no namespaces).
set -u
SKIFF=${1:-}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CLIENT=$HERE/raw6_client.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -n "$SKIFF" ] && [ -x "$SKIFF" ] || { echo "skip: skiff command '$SKIFF' not built"; exit 77; }
PING=$(command -v ping) || { echo "skip: no ping (iputils)"; exit 77; }

id=$$
A=r6A$id B=r6B$id VA=r6a$id VB=r6b$id
SK=2001:2::2 KB=2001:2::1
LOG=$(mktemp -d /tmp/skiff-raw6.XXXXXX)
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
json() { # FILE EXPR: a Python expression over the last JSON line of FILE as j
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("{")]
j = json.loads(lines[-1]) if lines else {}
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
# A's kernel ICMPv6 echo traffic (skiff's must not move it)
a_icmp6() {
	ip netns exec "$A" awk '$1 ~ /^Icmp6(InEchos|InEchoReplies|OutEchos|OutEchoReplies)$/ { s += $2 } END { print s + 0 }' \
		/proc/net/snmp6
}
ICMP0=0
mark() { ICMP0=$(a_icmp6); }
via_skiff() {
	local d=$(($(a_icmp6) - ICMP0))
	if [ "$d" -eq 0 ]; then
		ok "$1: on skiff (A's kernel ICMPv6 echo counters did not move)"
	else
		bad "$1: A's kernel counted $d ICMPv6 echo messages meanwhile — not on skiff"
	fi
}
sniff_start() {
	ip netns exec "$B" "$PY" "$CLIENT" sniff6 "$VB" 30 >"$LOG/sniff.out" 2>&1 &
	SNIFF=$!
	PIDS+=("$SNIFF")
	wait_for "$LOG/sniff.out" ready "$SNIFF"
}
# sniff_check NAME SRC MIN: B saw at least MIN echo requests from SRC, none from another source
sniff_check() {
	sleep 0.3
	stop "$SNIFF"
	if json "$LOG/sniff.out" \
		"j['flows'].get('$2>$3/128', 0) >= $4 and all(k.startswith('$2>') for k in j['flows'] if k.endswith('/128'))"; then
		ok "$1: B saw the echo requests come from $2 ($(tail -1 "$LOG/sniff.out"))"
	else
		bad "$1: B did not see the echo requests come from $2" "$LOG/sniff.out"
	fi
}
# ping_ok FILE DST: exactly 3 sent, 3 received, 0% loss, 3 reply lines
ping_ok() {
	grep -qE "^3 packets transmitted, 3 received, 0% packet loss" "$1" || return 1
	[ "$(grep -cE "^64 bytes from $2(%[^:]+)?: icmp_seq=[123] ttl=[0-9]+ time=" "$1")" -eq 3 ]
}
have_strace() { command -v strace >/dev/null 2>&1; }

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
ip -n "$B" addr add $KB/64 dev "$VB" nodad
B_LL=
for _ in $(seq 50); do # the kernel's link-local leaves tentative after its DAD
	B_LL=$(ip -n "$B" -6 addr show dev "$VB" scope link | awk '/inet6/ && !/tentative/ {print $2}' | cut -d/ -f1)
	[ -n "$B_LL" ] && break
	sleep 0.1
done
cat >"$LOG/skiff.conf" <<EOF
[stack]
nd_dad_transmits = 0
[interface $VA]
driver = afxdp
address = 198.18.0.2/24
address = $SK/64
EOF
chmod 644 "$LOG/skiff.conf"
if ip -n "$A" -6 addr show | grep -q "$SK/"; then
	bad "A's kernel owns $SK: nothing below could tell skiff from the kernel"
else
	ok "A's kernel does not own $SK: only skiff can answer there"
fi

# ping leaves its XDP program behind when it cannot detach it (capabilities
# dropped); the next skiff reaps an orphan once it is 5 s old
settle() {
	if ip -n "$A" link show "$VA" | grep -q "prog/xdp"; then
		echo "     (ping left the XDP program attached: waiting for it to age into an orphan)"
		sleep 5.5
	fi
}

# one_ping NAME TYPE DST [ARGS...]: ping -6 -c 3 under skiff; strace (when there
# is one) shows that ping's ICMPv6 socket was a TYPE one
one_ping() {
	local name=$1 type=$2 dst=$3
	shift 3
	mark
	sniff_start
	TRACE=()
	have_strace && TRACE=(strace -f -qq -e trace=socket -o "$LOG/$name.strace")
	run_skiff 30 "$name" "$PING" -6 -c 3 -i 0.3 -W 2 "$@" "$dst"
	TRACE=()
	if [ -s "$LOG/$name.strace" ]; then
		if grep -qE "socket\(AF_INET6, $type, IPPROTO_ICMPV6\) = [0-9]+" "$LOG/$name.strace"; then
			ok "$name: ping's ICMPv6 socket is a $type one"
		else
			bad "$name: ping did not get a $type ICMPv6 socket" "$LOG/$name.strace"
		fi
	fi
	if ping_ok "$LOG/$name" "$dst"; then
		ok "$name: $(grep -E 'packets transmitted' "$LOG/$name")"
	else
		bad "$name: ping did not report 3 of 3 replies" "$LOG/$name"
	fi
	via_skiff "$name"
	if [ "$dst" = "$KB" ]; then
		sniff_check "$name" "$SK" "$KB" 3
	else
		stop "$SNIFF"
	fi
	settle
}
have_strace || echo "     (no strace: which ICMPv6 socket ping opened is not checked)"

echo "== iputils ping -6"
ip netns exec "$A" sysctl -qw net.ipv4.ping_group_range="1 0"
one_ping "ping -6 (raw socket)" SOCK_RAW $KB
ip netns exec "$A" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
one_ping "ping -6 (ping socket)" SOCK_DGRAM $KB
if [ -n "$B_LL" ]; then
	one_ping "ping -6 -I $VA (link-local)" SOCK_DGRAM "$B_LL" -I "$VA"
else
	bad "B has no link-local address to ping"
fi

# bigger than the MTU: fragments both ways; with -M do the local EMSGSIZE from
# the error queue (IPV6_RECVERR, SO_EE_ORIGIN_LOCAL, ee_info = MTU), as on Linux
mark
run_skiff 30 "ping -6 -s 3000" "$PING" -6 -c 3 -i 0.3 -W 2 -s 3000 $KB
if grep -qE "^3 packets transmitted, 3 received, 0% packet loss" "$LOG/ping -6 -s 3000" &&
	[ "$(grep -cE "^3008 bytes from $KB: icmp_seq=[123] " "$LOG/ping -6 -s 3000")" -eq 3 ]; then
	ok "ping -6 -s 3000 (fragmented both ways): $(grep -E 'packets transmitted' "$LOG/ping -6 -s 3000")"
else
	bad "ping -6 -s 3000: not 3 of 3 replies" "$LOG/ping -6 -s 3000"
fi
via_skiff "ping -6 -s 3000"
settle
run_skiff 30 "ping -6 -M do" "$PING" -6 -c 1 -M do -s 3000 -W 2 $KB
if grep -q "local error: message too long, mtu: 1500" "$LOG/ping -6 -M do" &&
	grep -qE "^1 packets transmitted, 0 received, \+1 errors" "$LOG/ping -6 -M do"; then
	ok "ping -6 -M do -s 3000: $(grep 'local error' "$LOG/ping -6 -M do")"
else
	bad "ping -6 -M do -s 3000: no local EMSGSIZE report" "$LOG/ping -6 -M do"
fi
settle

if command -v setpriv >/dev/null; then
	cp "$PING" "$LOG/ping-nocap" && chmod 755 "$LOG/ping-nocap"
	CAPS=+net_raw,+net_admin,+sys_admin,+bpf,+perfmon,+ipc_lock
	PING_SAVE=$PING
	PING=$LOG/ping-nocap
	mkdir -p "$LOG/run" && chmod 1777 "$LOG/run"
	PRE=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$CAPS" --ambient-caps="$CAPS"
		env SKIFF_RUN_DIR="$LOG/run")
	one_ping "ping -6 (user nobody)" SOCK_DGRAM $KB
	PRE=()
	PING=$PING_SAVE
else
	echo "skip ping -6 as user nobody: no setpriv"
fi

echo "== Python raw ICMPv6 socket"
mark
run_skiff 30 raw-echo6 "$PY" "$CLIENT" echo6 $KB
if json "$LOG/raw-echo6" "j['replies'] == 3 and j['no_header'] == 3 and j['srcs'] == {'$KB': 3} and \
j['hoplimits'] == [64, 64, 64] and j['other_types'] == 0 and j['filter_get'] and j['checksum_einval']"; then
	ok "raw echo6: 3 replies without the IPv6 header, ICMP6_FILTER, IPV6_HOPLIMIT ($(tail -1 "$LOG/raw-echo6"))"
else
	bad "raw echo6: the replies did not come back as Linux gives them" "$LOG/raw-echo6"
fi
via_skiff "raw echo6"

echo "== ping -6 to an address nobody has"
# ND gives up (3 solicitations): skiff's address unreachable to its own ping6
# socket, read from the error queue (IPV6_RECVERR, SO_EE_ORIGIN_ICMP6)
settle
run_skiff 40 "ping -6 nowhere" "$PING" -6 -c 1 -W 6 2001:2::9
if grep -qE "^From $SK icmp_seq=1 Destination unreachable: Address unreachable" "$LOG/ping -6 nowhere" &&
	grep -qE "^1 packets transmitted, 0 received, \+1 errors" "$LOG/ping -6 nowhere"; then
	ok "ping -6 2001:2::9: $(grep -E '^From' "$LOG/ping -6 nowhere")"
else
	bad "ping -6 2001:2::9: no address unreachable from $SK" "$LOG/ping -6 nowhere"
fi

echo "== kernel peer pings skiff"
settle
ip netns exec "$A" env SKIFF_BOOT_EARLY=1 "$SKIFF" run --config "$LOG/skiff.conf" -- "$PY" "$CLIENT" listen6 20 3 $SK \
	>"$LOG/listen6" 2>&1 &
LPID=$!
PIDS+=("$LPID")
if wait_for "$LOG/listen6" ready "$LPID"; then
	mark
	timeout -k 5 30 ip netns exec "$B" "$PING" -6 -c 3 -i 0.3 -W 2 $SK >"$LOG/peer-ping6" 2>&1
	if ping_ok "$LOG/peer-ping6" $SK; then
		ok "B pings skiff: $(grep -E 'packets transmitted' "$LOG/peer-ping6")"
	else
		bad "B pings skiff: not 3 of 3 replies" "$LOG/peer-ping6"
	fi
	via_skiff "B pings skiff"
	for _ in $(seq 100); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
	stop "$LPID"
	if json "$LOG/listen6" "j['requests'] == 3 and j['srcs'] == {'$KB': 3}"; then
		ok "raw ICMPv6 socket on skiff saw B's 3 echo requests ($(tail -1 "$LOG/listen6"))"
	else
		bad "raw ICMPv6 socket on skiff did not see B's echo requests" "$LOG/listen6"
	fi
else
	bad "raw ICMPv6 listener under skiff did not start" "$LOG/listen6"
	stop "$LPID"
fi

echo "raw6: $fails failed"
[ "$fails" -eq 0 ]
