#!/usr/bin/env bash
# mcast_test.sh SKIFF [afxdp|dpdk] — IPv4 multicast on skiff against the Linux
# kernel across a veth pair, in two namespaces (prefix mc) this script creates
# and always removes.
#
# ns A: vA, the kernel's own 198.18.0.3; skiff serves 198.18.0.2 on it.
# ns B: vB 198.18.0.1, the kernel peer (tcpdump captures its IGMP).
# Checks:
#   1. a feed handler under the preload (tests/preload/mcast.py: two sockets,
#      SO_REUSEADDR, bind(('', port)), IP_ADD_MEMBERSHIP(group, 198.18.0.2))
#      receives a kernel sender's 300 datagrams on both sockets, byte-exact,
#      right after the peer flooded it with 20000 IGMP General Queries;
#   2. the peer saw an IGMP membership report for the group (AF_XDP: the kernel
#      in A reports skiff's group, drivers/mcast_kernel.h; and /proc/net/igmp in
#      A lists it on vA; DPDK: skiff's own report, from 198.18.0.2);
#   1b. the same with IP_ADD_MEMBERSHIP(group, INADDR_ANY) (Python's documented
#      receiver), the kernel's route for 224/4 going through vA;
#   3. the reverse: skiff sends to a group a kernel socket in B joined;
#   4. AF_XDP only: a kernel socket in A joined to another group keeps receiving
#      while skiff runs (the steering program leaves the kernel's groups alone);
#   5. when the feed handler exits, the group is left (a leave / TO_IN record);
#   the peer's IGMPv3 General Query (raw socket) is answered for the group
#   (AF_XDP by the kernel in A, skiff silent; DPDK by skiff).
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
SKIFF=$1
DRIVER=${2:-afxdp}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
MC=$HERE/mcast.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$SKIFF" ] || { echo "skip: $SKIFF not built"; exit 77; }
command -v tcpdump >/dev/null || { echo "skip: no tcpdump"; exit 77; }

id=$$
A=mcA$id B=mcB$id VA=mcvA$id VB=mcvB$id
LOG=$(mktemp -d /tmp/skiff-mctest.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"

onskiff() { ip netns exec "$A" "$SKIFF" run --config "$LOG/skiff.conf" -- "$@"; }
onpeer() { ip netns exec "$B" "$@"; }
onkernA() { ip netns exec "$A" "$@"; }

bg() {
	local name=$1
	shift
	"$@" >"$LOG/$name.out" 2>&1 &
	BG=$!
	PIDS+=("$BG")
}

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
if [ "$DRIVER" = dpdk ]; then
	cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = dpdk
dpdk_eal = --no-huge -m 512 --no-pci --no-shconf -l 0 --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1
dpdk_port = net_af_xdp0
address = 198.18.0.2/24
EOF
else
	cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24   ; the kernel keeps 198.18.0.3
EOF
fi

G1=239.1.1.1 G2=239.2.2.2 G3=239.3.3.3 G4=239.4.4.4 N=300

# IGMP as the peer sees it
bg tcpdump onpeer tcpdump -i "$VB" -n -l -vv igmp
cap=$BG
sleep 1

# 4 (setup): a kernel member in A on another group, before skiff starts
if [ "$DRIVER" = afxdp ]; then
	bg kmember onkernA timeout 60 $PY "$MC" recv $G3 5403 198.18.0.3 1 $N
	kmem=$BG
	wait_ready "$LOG/kmember.out" "$kmem" || bad "kernel member in A did not start" "$LOG/kmember.out"
fi

# 1. the feed handler on skiff, two sockets on one group and port
bg feed onskiff timeout 60 $PY "$MC" recv $G1 5401 198.18.0.2 2 $N
feed=$BG
if wait_ready "$LOG/feed.out" "$feed"; then
	sleep 0.5
	if [ "$DRIVER" = afxdp ]; then
		# 2b. the kernel in A holds skiff's group on vA (it answers queries for it)
		onkernA cat /proc/net/igmp >"$LOG/igmpA.out"
		if grep -A20 "$VA" "$LOG/igmpA.out" | grep -qi "010101EF"; then
			ok "AF_XDP: the kernel in A joined skiff's group on $VA (/proc/net/igmp)"
		else
			bad "AF_XDP: group not in A's /proc/net/igmp" "$LOG/igmpA.out"
		fi
	fi
	# the peer as an IGMPv3 querier: the group's member answers within Max Resp (1 s)
	onpeer $PY "$MC" query 198.18.0.1 >"$LOG/query.out" 2>&1
	sleep 1.5
	# hostile input: a flood of 20000 queries, then the feed (it must still flow)
	onpeer timeout 60 $PY "$MC" query 198.18.0.1 20000 >"$LOG/flood.out" 2>&1
	sleep 1 # the flood drains first: vA's XDP ring (veth) would drop what arrives with it
	onpeer timeout 30 $PY "$MC" send $G1 5401 198.18.0.1 $N >"$LOG/send1.out" 2>&1
	onkernA ethtool -S "$VA" >"$LOG/ethtool-vA.out" 2>&1 # diagnostics: veth ring drops
	if [ "$DRIVER" = afxdp ]; then
		# 4. the kernel's own group keeps working while skiff's program is attached
		onpeer timeout 30 $PY "$MC" send $G3 5403 198.18.0.1 $N >"$LOG/send3.out" 2>&1
		finish "$kmem" 20
		if grep -q "socket 0: $N ok from 198.18.0.1" "$LOG/kmember.out"; then
			ok "a kernel socket in A on another group receives its $N datagrams while skiff runs"
		else
			bad "kernel group in A" "$LOG/kmember.out" "$LOG/send3.out"
		fi
	fi
	finish "$feed" 30
	if grep -q "socket 0: $N ok from 198.18.0.1" "$LOG/feed.out" &&
		grep -q "socket 1: $N ok from 198.18.0.1" "$LOG/feed.out"; then
		ok "kernel sender → two skiff sockets on $G1:5401 (SO_REUSEADDR): $N datagrams each, byte-exact"
	else
		bad "kernel sender → two skiff sockets" "$LOG/feed.out" "$LOG/send1.out"
	fi
else
	bad "feed handler on skiff did not start" "$LOG/feed.out"
fi

# 1b. Python's documented receiver: IP_ADD_MEMBERSHIP with INADDR_ANY; the
# kernel's route for the group leaves through vA, so the socket is skiff's
onkernA ip route add 224.0.0.0/4 dev "$VA"
bg feed4 onskiff timeout 60 $PY "$MC" recv $G4 5404 0.0.0.0 1 $N
feed4=$BG
if wait_ready "$LOG/feed4.out" "$feed4"; then
	sleep 0.5
	if [ "$DRIVER" = afxdp ] && command -v bpftool >/dev/null; then
		# skiff's, not the kernel's: the group is in skiff's steering map
		bpftool map dump name ip4_addrs >"$LOG/steer4.out" 2>&1
		if grep -Eqi "ef 04 04 04|\"key\": 67372271\b" "$LOG/steer4.out"; then # 239.4.4.4 (LE u32)
			ok "INADDR_ANY join: the socket is skiff's ($G4 in the steering map)"
		else
			bad "INADDR_ANY join stayed with the kernel" "$LOG/steer4.out"
		fi
	fi
	onpeer timeout 30 $PY "$MC" send $G4 5404 198.18.0.1 $N >"$LOG/send4.out" 2>&1
	finish "$feed4" 30
	if grep -q "socket 0: $N ok from 198.18.0.1" "$LOG/feed4.out"; then
		ok "IP_ADD_MEMBERSHIP with INADDR_ANY (route via $VA) on skiff: $N datagrams, byte-exact"
	else
		bad "INADDR_ANY join on skiff" "$LOG/feed4.out" "$LOG/send4.out"
	fi
else
	bad "INADDR_ANY feed handler did not start" "$LOG/feed4.out"
fi

# 3. the reverse: skiff sends, a kernel member in B receives
bg kpeer onpeer timeout 60 $PY "$MC" recv $G2 5402 198.18.0.1 1 $N
kpeer=$BG
if wait_ready "$LOG/kpeer.out" "$kpeer"; then
	onskiff timeout 30 $PY "$MC" send $G2 5402 198.18.0.2 $N >"$LOG/send2.out" 2>&1
	finish "$kpeer" 20
	if grep -q "socket 0: $N ok from 198.18.0.2" "$LOG/kpeer.out"; then
		ok "skiff sender (IP_MULTICAST_IF 198.18.0.2) → kernel member in B: $N datagrams, byte-exact"
	else
		bad "skiff sender → kernel member" "$LOG/kpeer.out" "$LOG/send2.out"
	fi
else
	bad "kernel member in B did not start" "$LOG/kpeer.out"
fi

sleep 1
kill "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
# 2. a report for G1 reached the peer (v3: a record for the group; v2: a report)
if [ "$DRIVER" = dpdk ]; then who=198.18.0.2; else who=198.18.0.3; fi
if grep -A3 "$who > " "$LOG/tcpdump.out" | grep -Eq "gaddr $G1 (to_ex|is_ex)|v2 report $G1"; then
	ok "the peer saw the membership report for $G1 from $who"
else
	bad "no IGMP report for $G1 from $who at the peer" "$LOG/tcpdump.out"
fi
# 2c. the General Query was answered with the group's current state
if grep -A3 "$who > " "$LOG/tcpdump.out" | grep -Eq "gaddr $G1 is_ex"; then
	ok "the peer's General Query was answered for $G1 by $who (IS_EX)"
else
	bad "no answer to the General Query for $G1 from $who" "$LOG/tcpdump.out" "$LOG/query.out"
fi
# 2d. one IGMP speaker per design: on AF_XDP skiff itself stays silent
if [ "$DRIVER" = afxdp ]; then
	if grep -q "198.18.0.2 > 2[23]" "$LOG/tcpdump.out"; then
		bad "AF_XDP: skiff sent IGMP itself beside the kernel" "$LOG/tcpdump.out"
	else
		ok "AF_XDP: only the kernel speaks IGMP on $VA"
	fi
fi
# 5. and the leave when the feed handler exited
if grep -A3 "$who > " "$LOG/tcpdump.out" | grep -Eq "gaddr $G1 to_in|leave $G1"; then
	ok "the peer saw $G1 left when the feed handler exited"
else
	bad "no leave for $G1 at the peer" "$LOG/tcpdump.out"
fi

echo "$fails failed"
[ $fails -eq 0 ]
