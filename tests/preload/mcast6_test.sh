#!/usr/bin/env bash
# mcast6_test.sh SKIFF [afxdp|dpdk] — IPv6 multicast on skiff against the Linux
# kernel across a veth pair, in two namespaces (prefix m6) this script creates
# and always removes.
#
# ns A: vA (the kernel's own link-local); skiff serves 2001:2::2/64 on it.
# ns B: vB 2001:2::1/64, the kernel peer (tcpdump captures its MLD).
# Checks:
#   1. a feed handler under the preload (tests/preload/mcast6.py: two sockets,
#      SO_REUSEADDR, bind(('::', port)), IPV6_JOIN_GROUP(ff15::1234, vA)) receives
#      a kernel sender's datagrams on both sockets, byte-exact, right after the
#      peer flooded it with 20000 MLDv2 General Queries;
#   2. an SSM receiver (MCAST_JOIN_SOURCE_GROUP ff3e::4321, source 2001:2::1)
#      receives them too, and so does a receiver joining with interface 0 (the
#      kernel's route for the group leaves through vA); A's kernel UDP6
#      counters show it did not receive these feeds (skiff did);
#   3. a query sent to the group itself is answered (AF_XDP: MLD is never
#      steered to skiff, ebpf/steer.bpf.c, whatever its destination);
#      the peer saw MLDv2 reports for the groups (AF_XDP: from the kernel in A,
#      which joined skiff's groups, drivers/mcast_kernel.h, and lists them in
#      /proc/net/igmp6; DPDK: from skiff's own link-local address), the General
#      Query answered (IS_EX), and the solicited-node group of skiff's
#      2001:2::2 (ff02::1:ff00:2) reported (RFC 4861 7.2.1);
#   4. the reverse: skiff sends to a group a kernel socket in B joined;
#   5. AF_XDP only: a kernel socket in A on another group keeps receiving while
#      skiff runs, and skiff itself never speaks MLD (the kernel does);
#   6. when the feed handler exits, the group is left (TO_IN{} record).
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
SKIFF=$1
DRIVER=${2:-afxdp}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
MC=$HERE/mcast6.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$SKIFF" ] || { echo "skip: $SKIFF not built"; exit 77; }
command -v tcpdump >/dev/null || { echo "skip: no tcpdump"; exit 77; }

id=$$
A=m6A$id B=m6B$id VA=m6vA$id VB=m6vB$id
LOG=$(mktemp -d /tmp/skiff-m6test.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"

onskiff() { ip netns exec "$A" "$SKIFF" run --config "$LOG/skiff.conf" -- "$@"; }
onpeer() { ip netns exec "$B" "$@"; }
onkernA() { ip netns exec "$A" "$@"; }
# A's kernel UDP6 receive count (skiff's traffic must not reach it)
kudp6() { ip netns exec "$A" awk '$1=="Udp6InDatagrams"||$1=="Udp6InErrors"||$1=="Udp6NoPorts"{s+=$2} END{print s+0}' /proc/net/snmp6; }

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
ip -n "$B" addr add 2001:2::1/64 dev "$VB" nodad
if [ "$DRIVER" = dpdk ]; then
	cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = dpdk
dpdk_eal = --no-huge -m 512 --no-pci --no-shconf -l 0 --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1
dpdk_port = net_af_xdp0
address = 198.18.0.2/24
address = 2001:2::2/64
EOF
else
	cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24
address = 2001:2::2/64
EOF
fi
# the kernels' link-local addresses (DAD on them takes a moment)
A_LL= B_LL=
for i in $(seq 30); do
	A_LL=$(ip -n "$A" -6 addr show dev "$VA" scope link | awk '/inet6/ && !/tentative/{print $2}' | cut -d/ -f1)
	B_LL=$(ip -n "$B" -6 addr show dev "$VB" scope link | awk '/inet6/ && !/tentative/{print $2}' | cut -d/ -f1)
	[ -n "$A_LL" ] && [ -n "$B_LL" ] && break
	sleep 0.2
done

G1=ff15::1234 G2=ff15::5678 G3=ff15::9abc G4=ff15::4444 GS=ff3e::4321 N=300

# MLD as the peer sees it (ip6: MLD sits behind a Hop-by-Hop header)
bg tcpdump onpeer tcpdump -i "$VB" -n -l -vv ip6
cap=$BG
sleep 1

# 5 (setup): a kernel member in A on another group, before skiff starts
if [ "$DRIVER" = afxdp ]; then
	bg kmember onkernA timeout 60 $PY "$MC" recv $G3 5603 "$VA" 1 $N
	kmem=$BG
	wait_ready "$LOG/kmember.out" "$kmem" || bad "kernel member in A did not start" "$LOG/kmember.out"
fi

# 1. the feed handler on skiff: two sockets on one group and port; 2. an SSM receiver
# (one skiff process at a time: each brings up its own stack on vA)
bg feed onskiff timeout 60 $PY "$MC" recv $G1 5601 "$VA" 2 $N
feed=$BG
if wait_ready "$LOG/feed.out" "$feed"; then
	sleep 0.5
	if [ "$DRIVER" = afxdp ]; then
		onkernA cat /proc/net/igmp6 >"$LOG/igmp6A.out"
		if grep "$VA" "$LOG/igmp6A.out" | grep -qi "ff150000000000000000000000001234"; then
			ok "AF_XDP: the kernel in A joined skiff's group on $VA (/proc/net/igmp6)"
		else
			bad "AF_XDP: skiff's group not in A's /proc/net/igmp6" "$LOG/igmp6A.out"
		fi
		# RFC 4862 5.4.2: the join waits a random delay up to 1 s (the first DAD step)
		for i in $(seq 30); do
			grep "$VA" "$LOG/igmp6A.out" | grep -qi "ff0200000000000000000001ff000002" && break
			sleep 0.1
			onkernA cat /proc/net/igmp6 >"$LOG/igmp6A.out"
		done
		if grep "$VA" "$LOG/igmp6A.out" | grep -qi "ff0200000000000000000001ff000002"; then
			ok "AF_XDP: skiff's solicited-node group ff02::1:ff00:2 joined on the kernel side"
		else
			bad "AF_XDP: skiff's solicited-node group not joined" "$LOG/igmp6A.out"
		fi
	fi
	# a Multicast Address Specific Query, sent to the group itself: it is MLD, so
	# the program leaves it to the kernel (AF_XDP) though the group is steered
	sleep 1.5 # the join's state-change reports are done
	onpeer $PY "$MC" query "$VB" 1 $G1 >"$LOG/gquery.out" 2>&1
	sleep 1.5
	if grep "multicast listener report" "$LOG/tcpdump.out" | grep -v " $B_LL > " | grep -Eq "gaddr $G1 is_ex"; then
		ok "the Multicast Address Specific Query sent to $G1 was answered (IS_EX)"
	else
		bad "no answer to the query sent to $G1" "$LOG/tcpdump.out" "$LOG/gquery.out"
	fi
	# the peer as an MLDv2 querier, then a flood of 20000 queries; the feed must still flow
	onpeer $PY "$MC" query "$VB" >"$LOG/query.out" 2>&1
	sleep 1.5
	onpeer timeout 60 $PY "$MC" query "$VB" 20000 >"$LOG/flood.out" 2>&1
	sleep 1
	k0=$(kudp6)
	onpeer timeout 30 $PY "$MC" send $G1 5601 "$VB" $N >"$LOG/send1.out" 2>&1
	sleep 0.5
	k1=$(kudp6)
	if [ $((k1 - k0)) -lt $N ]; then
		ok "skiff carried the feed: A's kernel received $((k1 - k0)) UDP6 datagrams meanwhile"
	else
		bad "A's kernel received the feed ($((k1 - k0)) UDP6 datagrams)"
	fi
	if [ "$DRIVER" = afxdp ]; then
		onpeer timeout 30 $PY "$MC" send $G3 5603 "$VB" $N >"$LOG/send3.out" 2>&1
		finish "$kmem" 20
		if grep -q "socket 0: $N ok from 2001:2::1" "$LOG/kmember.out"; then
			ok "a kernel socket in A on another group receives its $N datagrams while skiff runs"
		else
			bad "kernel group in A" "$LOG/kmember.out" "$LOG/send3.out"
		fi
	fi
	finish "$feed" 30
	if grep -q "socket 0: $N ok from 2001:2::1" "$LOG/feed.out" &&
		grep -q "socket 1: $N ok from 2001:2::1" "$LOG/feed.out"; then
		ok "kernel sender → two skiff sockets on [$G1]:5601 (SO_REUSEADDR): $N datagrams each, byte-exact"
	else
		bad "kernel sender → two skiff sockets" "$LOG/feed.out" "$LOG/send1.out"
	fi
else
	bad "feed handler on skiff did not start" "$LOG/feed.out"
fi

# 2. an SSM receiver on skiff: only its source's datagrams
bg ssm onskiff timeout 60 $PY "$MC" recv $GS 5604 "$VA" 1 $N 2001:2::1
ssm=$BG
if wait_ready "$LOG/ssm.out" "$ssm"; then
	sleep 0.5
	k0=$(kudp6)
	onpeer timeout 30 $PY "$MC" send $GS 5604 "$VB" $N >"$LOG/sends.out" 2>&1
	sleep 0.5
	k1=$(kudp6)
	finish "$ssm" 30
	if grep -q "socket 0: $N ok from 2001:2::1" "$LOG/ssm.out" && [ $((k1 - k0)) -lt $N ]; then
		ok "SSM receiver on skiff (MCAST_JOIN_SOURCE_GROUP $GS from 2001:2::1): $N datagrams, byte-exact"
	else
		bad "SSM receiver on skiff (A's kernel took $((k1 - k0)))" "$LOG/ssm.out" "$LOG/sends.out"
	fi
else
	bad "SSM receiver on skiff did not start" "$LOG/ssm.out"
fi

# 2b. IPV6_JOIN_GROUP with interface 0: where the kernel's route for the group
# leaves (vA, the only link) the socket is skiff's
bg feed0 onskiff timeout 60 $PY "$MC" recv $G4 5605 0 1 $N
feed0=$BG
if wait_ready "$LOG/feed0.out" "$feed0"; then
	sleep 0.5
	k0=$(kudp6)
	onpeer timeout 30 $PY "$MC" send $G4 5605 "$VB" $N >"$LOG/send4.out" 2>&1
	sleep 0.5
	k1=$(kudp6)
	finish "$feed0" 30
	if grep -q "socket 0: $N ok from 2001:2::1" "$LOG/feed0.out" && [ $((k1 - k0)) -lt $N ]; then
		ok "IPV6_JOIN_GROUP with interface 0 on skiff: $N datagrams, byte-exact"
	else
		bad "interface-0 join on skiff (A's kernel took $((k1 - k0)))" "$LOG/feed0.out" "$LOG/send4.out"
	fi
else
	bad "interface-0 receiver on skiff did not start" "$LOG/feed0.out"
fi

# 4. the reverse: skiff sends, a kernel member in B receives
bg kpeer onpeer timeout 60 $PY "$MC" recv $G2 5602 "$VB" 1 $N
kpeer=$BG
if wait_ready "$LOG/kpeer.out" "$kpeer"; then
	onskiff timeout 30 $PY "$MC" send $G2 5602 "$VA" $N >"$LOG/send2.out" 2>&1
	finish "$kpeer" 20
	if grep -q "socket 0: $N ok from 2001:2::2" "$LOG/kpeer.out"; then
		ok "skiff sender (IPV6_MULTICAST_IF $VA) → kernel member in B: $N datagrams, byte-exact"
	else
		bad "skiff sender → kernel member" "$LOG/kpeer.out" "$LOG/send2.out"
	fi
else
	bad "kernel member in B did not start" "$LOG/kpeer.out"
fi

sleep 1
kill "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
# MLD reports from A's side (anyone but the peer itself)
grep "multicast listener report" "$LOG/tcpdump.out" | grep -v " $B_LL > " >"$LOG/reportsA.out"
if grep -Eq "gaddr $G1 (to_ex|is_ex)" "$LOG/reportsA.out"; then
	ok "the peer saw an MLDv2 report for $G1 from A"
else
	bad "no MLDv2 report for $G1 from A at the peer" "$LOG/tcpdump.out"
fi
if [ "$DRIVER" = dpdk ]; then # skiff's own report carries the source; the kernel joins skiff's groups whole
	if grep -Eq "gaddr $GS (allow|is_in|to_in) \{ 2001:2::1 \}" "$LOG/reportsA.out"; then
		ok "the peer saw an MLDv2 source record for $GS (2001:2::1)"
	else
		bad "no MLDv2 source record for $GS at the peer" "$LOG/tcpdump.out"
	fi
fi
if grep -Eq "gaddr $G1 is_ex" "$LOG/reportsA.out"; then
	ok "the peer's General Query was answered for $G1 (IS_EX)"
else
	bad "no answer to the General Query for $G1" "$LOG/tcpdump.out" "$LOG/query.out"
fi
if grep -Eq "gaddr ff02::1:ff00:2 " "$LOG/reportsA.out"; then
	ok "skiff's solicited-node group ff02::1:ff00:2 reported (RFC 4861 7.2.1)"
else
	bad "no report of skiff's solicited-node group" "$LOG/reportsA.out"
fi
if [ "$DRIVER" = afxdp ]; then
	if grep -v " $A_LL > " "$LOG/reportsA.out" | grep -q .; then
		bad "AF_XDP: MLD from another speaker than A's kernel ($A_LL)" "$LOG/reportsA.out"
	else
		ok "AF_XDP: only the kernel speaks MLD on $VA ($A_LL)"
	fi
else
	if grep -E "gaddr $G1 (to_ex|is_ex)" "$LOG/reportsA.out" | grep -q .; then
		if grep -E "gaddr $G1 (to_ex|is_ex)" "$LOG/reportsA.out" | grep -q " $A_LL > "; then
			bad "DPDK: A's kernel reported skiff's group" "$LOG/reportsA.out"
		else
			ok "DPDK: skiff sent the MLDv2 reports itself, from its own link-local address"
		fi
	else
		bad "DPDK: skiff's own MLD reports" "$LOG/reportsA.out"
	fi
fi
# 6. and the leave when the feed handler exited
if grep -Eq "gaddr $G1 to_in" "$LOG/reportsA.out"; then
	ok "the peer saw $G1 left when the feed handler exited"
else
	bad "no leave for $G1 at the peer" "$LOG/tcpdump.out"
fi

echo "$fails failed"
[ $fails -eq 0 ]
