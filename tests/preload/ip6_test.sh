#!/usr/bin/env bash
# ip6_test.sh SKIFF [afxdp|dpdk] — IPv6 on skiff against the Linux kernel across
# a veth pair, in namespaces this script creates and always removes; unmodified
# programs (iputils ping, Python) under `skiff run`.
#
# ns A: vA; skiff serves 2001:2::2/64 (and 198.18.0.2) with its own link-local
#   (RFC 7217 identifier: not the kernel's EUI-64 one on the same MAC).
# ns B: vB 2001:2::1/64 and 198.18.0.1, the kernel peer.
# ns R + C: B routes through router R to C (2001:2:0:2::2); the B–R link has
#   MTU 1280, R–C 1500 (C advertises a 1440-byte MSS): Packet Too Big from B.
# Checks:
#   DAD, then ND both ways: the kernel pings skiff (B solicits skiff's address,
#     skiff answers), skiff's UDP answer resolves B (skiff solicits);
#   UDP over IPv6 byte-exact both ways (1..1400 bytes and 2000..6000-byte
#     datagrams that travel as fragments both ways);
#   a dual-stack AF_INET6 socket on :: serving an IPv4 client (v4-mapped);
#   link-local with scope_id: skiff's client to B's fe80:: address;
#   IPV6_* socket options on a skiff socket;
#   PMTU: a 1400-byte datagram to C beyond the 1280 link gets through after B's
#     Packet Too Big (RFC 8201), fragmented;
#   A's kernel UDP6/ICMP6 counters did not move: skiff carried the traffic.
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
SKIFF=$1
DRIVER=${2:-afxdp}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
APPS=$HERE/ip6_apps.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$SKIFF" ] || { echo "skip: $SKIFF not built"; exit 77; }

id=$$
A=i6A$id B=i6B$id R=i6R$id C=i6C$id VA=6A$id VB=6B$id VBR=6b$id VRB=6r$id VRC=6R$id VC=6C$id
LOG=$(mktemp -d /tmp/skiff-ip6test.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"
trap 'ip netns del "$C" 2>/dev/null; ip netns del "$R" 2>/dev/null; _netns_cleanup' EXIT

onskiff() { ip netns exec "$A" "$SKIFF" run --config "$LOG/skiff.conf" -- "$@"; }
onpeer() { ip netns exec "$B" "$@"; }
bg() {
	local name=$1
	shift
	"$@" >"$LOG/$name.out" 2>&1 &
	BG=$!
	PIDS+=("$BG")
}
# A's kernel IPv6 counters: Udp6InDatagrams + Icmp6InMsgs + Ip6InReceives of its stack
kcount() { ip netns exec "$A" awk '$1=="Udp6InDatagrams"||$1=="Icmp6InEchos"||$1=="Udp6OutDatagrams"{s+=$2} END{print s+0}' /proc/net/snmp6; }

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
ip -n "$B" addr add 2001:2::1/64 dev "$VB" nodad
ip netns exec "$B" sysctl -qw net.ipv6.conf.all.forwarding=1
# the PMTU leg: B — C over a 1280-byte link
if ip netns add "$R" 2>/dev/null && ip netns add "$C" 2>/dev/null; then
	ip link add "$VBR" netns "$B" mtu 1280 type veth peer name "$VRB" netns "$R" mtu 1280
	ip link add "$VRC" netns "$R" type veth peer name "$VC" netns "$C"
	for n in "$R" "$C"; do ip -n "$n" link set lo up; done
	ip netns exec "$R" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$B" addr add 2001:2:0:1::1/64 dev "$VBR" nodad
	ip -n "$R" addr add 2001:2:0:1::2/64 dev "$VRB" nodad
	ip -n "$R" addr add 2001:2:0:2::1/64 dev "$VRC" nodad
	ip -n "$C" addr add 2001:2:0:2::2/64 dev "$VC" nodad
	for l in "$B $VBR" "$R $VRB" "$R $VRC" "$C $VC"; do
		set -- $l
		ip -n "$1" link set "$2" up
		ip netns exec "$1" ethtool -K "$2" tx off tso off gso off >/dev/null 2>&1
	done
	ip -n "$B" -6 route add 2001:2:0:2::/64 via 2001:2:0:1::2
	ip -n "$R" -6 route add default via 2001:2:0:1::1
	ip -n "$C" -6 route add default via 2001:2:0:2::1
fi
B_LL=$(ip -n "$B" -6 addr show dev "$VB" scope link | awk '/inet6/{print $2}' | cut -d/ -f1)

if [ "$DRIVER" = dpdk ]; then
	cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = dpdk
dpdk_eal = --no-huge -m 512 --no-pci --no-shconf -l 0 --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1
dpdk_port = net_af_xdp0
address = 198.18.0.2/24
address = 2001:2::2/64
gateway = 2001:2::1
EOF
else
	cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24
address = 2001:2::2/64
gateway = 2001:2::1
EOF
fi
cat >>"$LOG/skiff.conf" <<EOF
[offload]
ports = 50100-50108   ; the servers bind :: (dual stack): these ports are skiff's
EOF
k0=$(kcount)

# 1. DAD + ND (B solicits skiff) + echo: the kernel pings skiff, several rounds
#    while a skiff program runs (the stack lives in its process)
bg srv onskiff $PY "$APPS" udp-server :: 50100 206
srv=$BG
if wait_ready "$LOG/srv.out" "$srv"; then
	sleep 2.5 # DAD: one solicitation after up to 1 s, then RetransTimer
	if onpeer ping -6 -c 3 -i 0.2 -W 2 2001:2::2 >"$LOG/ping.out" 2>&1 &&
		grep -q " 3 received" "$LOG/ping.out"; then
		ok "ping -6 from the kernel: DAD done, B's NS answered, 3 echo replies"
	else
		bad "ping -6 from the kernel to skiff" "$LOG/ping.out" "$LOG/srv.out"
	fi
	if onpeer ping -6 -c 2 -i 0.2 -W 2 -s 3000 2001:2::2 >"$LOG/pingbig.out" 2>&1 &&
		grep -q " 2 received" "$LOG/pingbig.out"; then
		ok "ping -6 -s 3000: request reassembled, reply fragmented back (2 replies)"
	else
		bad "ping -6 -s 3000" "$LOG/pingbig.out"
	fi
	# 2. UDP over IPv6, kernel client → skiff server; replies resolve B (skiff's NS)
	if onpeer timeout 60 $PY "$APPS" udp-client 2001:2::2 50100 200 >"$LOG/cli.out" 2>&1 &&
		grep -q "echoed 203" "$LOG/cli.out"; then
		ok "UDP/IPv6 kernel → skiff: 203 datagrams echoed byte-exact (3 fragmented both ways)"
	else
		bad "UDP/IPv6 kernel → skiff" "$LOG/cli.out" "$LOG/srv.out"
	fi
	if onpeer ip -6 neigh show 2001:2::2 dev "$VB" | grep -qE "REACHABLE|STALE|DELAY|PROBE"; then
		ok "ND: the kernel resolved skiff's address"
	else
		bad "ND: B has no neighbour entry for 2001:2::2"
	fi
	# 3. dual stack: the :: socket serves IPv4 too (3 more datagrams to the 206)
	if onpeer timeout 20 $PY "$APPS" udp4-client 198.18.0.2 50100 >"$LOG/cli4.out" 2>&1 &&
		grep -q "echoed v4" "$LOG/cli4.out"; then
		ok "dual stack: an AF_INET6 socket on :: served an IPv4 client"
	else
		bad "dual stack IPv4 client" "$LOG/cli4.out" "$LOG/srv.out"
	fi
	onpeer timeout 20 $PY "$APPS" udp4-client 198.18.0.2 50100 >/dev/null 2>&1
	onpeer timeout 20 $PY "$APPS" udp4-client 198.18.0.2 50100 >/dev/null 2>&1
	finish "$srv" 10
	if grep -q "from ('::ffff:198.18.0.1'" "$LOG/srv.out" && grep -q "from ('2001:2::1'" "$LOG/srv.out"; then
		ok "dual stack: the server saw 2001:2::1 and ::ffff:198.18.0.1"
	else
		bad "dual stack source addresses" "$LOG/srv.out"
	fi
else
	bad "skiff UDP/IPv6 server did not start" "$LOG/srv.out"
fi

# 4. skiff client → kernel server: skiff solicits B, fragments both ways
bg ksrv onpeer $PY "$APPS" udp-server :: 50101 203
ksrv=$BG
if wait_ready "$LOG/ksrv.out" "$ksrv" &&
	onskiff timeout 60 $PY "$APPS" udp-client 2001:2::1 50101 200 >"$LOG/scli.out" 2>&1 &&
	grep -q "echoed 203" "$LOG/scli.out"; then
	finish "$ksrv" 10
	if grep -q "from ('2001:2::2'" "$LOG/ksrv.out"; then
		ok "UDP/IPv6 skiff → kernel: 203 datagrams, the peer saw 2001:2::2"
	else
		bad "UDP/IPv6 skiff → kernel: source" "$LOG/ksrv.out"
	fi
else
	finish "$ksrv" 1
	bad "UDP/IPv6 skiff → kernel" "$LOG/scli.out" "$LOG/ksrv.out"
fi

# 5. link-local with scope_id: skiff to B's fe80:: address on vA
bg llsrv onpeer $PY "$APPS" udp-server :: 50102 23
llsrv=$BG
if [ -n "$B_LL" ] && wait_ready "$LOG/llsrv.out" "$llsrv" &&
	onskiff timeout 60 $PY "$APPS" udp-client "$B_LL" 50102 20 "$VA" >"$LOG/llcli.out" 2>&1 &&
	grep -q "echoed 23" "$LOG/llcli.out"; then
	finish "$llsrv" 10
	A_LL=$(ip -n "$A" -6 addr show dev "$VA" scope link | awk '/inet6/{print $2}' | cut -d/ -f1)
	if grep -q "from ('fe80::" "$LOG/llsrv.out" && ! grep -q "from ('$A_LL'" "$LOG/llsrv.out"; then
		ok "link-local: skiff reached $B_LL%$VA with scope_id, from its own fe80:: address"
	else
		bad "link-local source" "$LOG/llsrv.out"
	fi
else
	finish "$llsrv" 1
	bad "link-local with scope_id" "$LOG/llcli.out" "$LOG/llsrv.out"
fi

# 6. socket options on a skiff socket
if onskiff timeout 20 $PY "$APPS" sockopts 2001:2::2 >"$LOG/opts.out" 2>&1 && grep -q "sockopts ok" "$LOG/opts.out"; then
	ok "IPV6_V6ONLY, IPV6_UNICAST_HOPS, SO_DOMAIN, names on a skiff socket"
else
	bad "IPv6 socket options" "$LOG/opts.out"
fi

# 9. TCP over IPv6 byte-exact both ways, the documentation's getaddrinfo example,
#    link-local, and a dual-stack listener taking IPv4
bg tsrv onskiff $PY "$APPS" tcp-server :: 50105 3
tsrv=$BG
if wait_ready "$LOG/tsrv.out" "$tsrv" &&
	onpeer timeout 60 $PY "$APPS" tcp-client 2001:2::2 50105 4194304 >"$LOG/tcli.out" 2>&1 &&
	grep -q "tcp echoed 4194304" "$LOG/tcli.out" &&
	onpeer timeout 60 $PY "$APPS" tcp-client 198.18.0.2 50105 65536 >"$LOG/tcli4.out" 2>&1 &&
	grep -q "tcp echoed 65536" "$LOG/tcli4.out" &&
	onpeer timeout 60 $PY "$APPS" tcp-client 2001:2::2 50105 1 >/dev/null 2>&1; then
	finish "$tsrv" 10
	if grep -q "peer ('2001:2::1'" "$LOG/tsrv.out" && grep -q "peer ('::ffff:198.18.0.1'" "$LOG/tsrv.out"; then
		ok "TCP/IPv6 kernel → skiff: 4 MiB echoed byte-exact; the dual-stack listener took IPv4 as ::ffff:198.18.0.1"
	else
		bad "TCP/IPv6 peers seen by the skiff listener" "$LOG/tsrv.out"
	fi
else
	finish "$tsrv" 1
	bad "TCP/IPv6 kernel → skiff" "$LOG/tcli.out" "$LOG/tcli4.out" "$LOG/tsrv.out"
fi
bg tksrv onpeer $PY "$APPS" tcp-server :: 50106 2
tksrv=$BG
if wait_ready "$LOG/tksrv.out" "$tksrv" &&
	onskiff timeout 60 $PY "$APPS" tcp-client 2001:2::1 50106 4194304 >"$LOG/tscli.out" 2>&1 &&
	grep -q "tcp echoed 4194304" "$LOG/tscli.out" &&
	onskiff timeout 60 $PY "$APPS" tcp-client "$B_LL" 50106 65536 "$VA" >"$LOG/tllcli.out" 2>&1 &&
	grep -q "tcp echoed 65536" "$LOG/tllcli.out"; then
	finish "$tksrv" 10
	if grep -q "peer ('2001:2::2'" "$LOG/tksrv.out" && grep -q "peer ('fe80::" "$LOG/tksrv.out"; then
		ok "TCP/IPv6 skiff → kernel: 4 MiB byte-exact from 2001:2::2, and over link-local with scope_id"
	else
		bad "TCP/IPv6 skiff → kernel: peers" "$LOG/tksrv.out"
	fi
else
	finish "$tksrv" 1
	bad "TCP/IPv6 skiff → kernel" "$LOG/tscli.out" "$LOG/tllcli.out" "$LOG/tksrv.out"
fi
bg gsrv onskiff $PY "$HERE/doc_gai_server.py" 2001:2::2 50107
gsrv=$BG
if wait_ready "$LOG/gsrv.out" "$gsrv" &&
	onpeer timeout 20 $PY "$HERE/doc_gai_client.py" 2001:2::2 50107 >"$LOG/gcli.out" 2>&1 &&
	grep -q "Received b'Hello, world'" "$LOG/gcli.out"; then
	finish "$gsrv" 10
	ok "the documentation's getaddrinfo echo example over IPv6, server on skiff"
else
	finish "$gsrv" 1
	bad "getaddrinfo example over IPv6" "$LOG/gcli.out" "$LOG/gsrv.out"
fi

# 8. hostile input (scapy from B), then legit traffic still flows
bg hsrv onskiff $PY "$APPS" udp-server :: 50104 24 # the 12-header datagram + 23 legit ones
hsrv=$BG
SKIFF_MAC=$(ip -n "$A" link show "$VA" | awk '/link\/ether/{print $2}')
if wait_ready "$LOG/hsrv.out" "$hsrv"; then
	onpeer timeout 120 $PY "$HERE/ip6_hostile.py" "$VB" 2001:2::2 "$SKIFF_MAC" 50104 >"$LOG/hostile.out" 2>&1
	hrc=$?
	sed 's/^/     /' "$LOG/hostile.out"
	if [ $hrc -eq 0 ] && onpeer timeout 60 $PY "$APPS" udp-client 2001:2::2 50104 20 >"$LOG/hcli.out" 2>&1 &&
		grep -q "echoed 23" "$LOG/hcli.out" && kill -0 "$hsrv" 2>/dev/null; then
		ok "hostile IPv6 input handled, legit traffic still flows"
	else
		bad "hostile IPv6 input" "$LOG/hostile.out" "$LOG/hcli.out" "$LOG/hsrv.out"
	fi
else
	bad "hostile: skiff server did not start" "$LOG/hsrv.out"
fi
finish "$hsrv" 10

# 7. PMTU through B to C over the 1280 link
if ip netns list | grep -q "^$C"; then
	bg csrv ip netns exec "$C" $PY "$APPS" udp-server :: 50103 8 # C's echo meets the 1280 link too (PTB to C)
	csrv=$BG
	if wait_ready "$LOG/csrv.out" "$csrv" &&
		onskiff timeout 30 $PY "$APPS" pmtu-client 2001:2:0:2::2 50103 1400 8 >"$LOG/pmtu.out" 2>&1 &&
		grep -q "echoed after" "$LOG/pmtu.out"; then
		finish "$csrv" 1
		ok "PMTU: a 1400-byte datagram crossed the 1280 link after Packet Too Big ($(grep -o 'after [0-9]*' "$LOG/pmtu.out") sends)"
	else
		finish "$csrv" 1
		bad "PMTU through the 1280-byte link" "$LOG/pmtu.out" "$LOG/csrv.out"
	fi
	# TCP: B's 1280 egress sends Packet Too Big for skiff's 1500-byte segments;
	# the connection lowers its MSS and goes on (RFC 8201)
	bg ctsrv ip netns exec "$C" $PY "$APPS" tcp-server :: 50108 1
	ctsrv=$BG
	if wait_ready "$LOG/ctsrv.out" "$ctsrv" &&
		onskiff timeout 60 $PY "$APPS" tcp-client 2001:2:0:2::2 50108 1048576 >"$LOG/ctcli.out" 2>&1 &&
		grep -q "tcp echoed 1048576" "$LOG/ctcli.out"; then
		finish "$ctsrv" 10
		ok "PMTU: TCP/IPv6 1 MiB through the 1280 link (MSS lowered by Packet Too Big)"
	else
		finish "$ctsrv" 1
		bad "PMTU: TCP/IPv6 through the 1280 link" "$LOG/ctcli.out" "$LOG/ctsrv.out"
	fi
fi

k1=$(kcount)
if [ "$DRIVER" = afxdp ] && [ "$k1" -ne "$k0" ]; then
	bad "A's kernel counted IPv6 traffic ($k0 → $k1): skiff did not carry it all"
else
	ok "A's kernel UDP6/ICMP6 echo counters unchanged ($k0): skiff carried it"
fi
[ "$fails" -eq 0 ] || exit 1
exit 0
