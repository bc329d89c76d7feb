#!/usr/bin/env bash
# python_test.sh SKIFF [afxdp|dpdk] — unmodified Python programs on skiff
# through `skiff run` (libskiff_preload.so) against the Linux kernel across a
# veth pair, in two namespaces this script creates and always removes.
#
# ns A: vA, the kernel's own 198.18.0.3; skiff serves 198.18.0.2 on it (AF_XDP,
# or DPDK's net_af_xdp: that PMD takes all of vA's traffic while it runs, so
# the checks that need A's kernel on vA — fork, no config — are AF_XDP's only).
# ns B: vB 198.18.0.1, the kernel peer. Checks:
#   the IPv4 and getaddrinfo echo examples of Python's socket documentation,
#     server on skiff / client on the kernel and the reverse (the peer sees
#     198.18.0.2: skiff's address, which the kernel in A does not own);
#   UDP echo of 200 datagrams of 1..1400 bytes;
#   timeouts, non-blocking calls, getsockopt values, refused connects (apps.py);
#   non-blocking servers over selectors (epoll), select.select and select.poll
#     with 8 concurrent 256 KiB echo clients;
#   fork: the child's new sockets are the kernel's, the parent serves on;
#   exit: 4 MiB sent just before the process ends all arrive; exit with
#     threads asleep inside skiff calls is clean;
#   no config: one warning line and the program runs on the kernel;
#   AF_CAN/BLUETOOTH/ALG/VSOCK/PACKET/NETLINK/UNIX: the kernel's answers, unchanged;
#   a bad config: `skiff run` stops with exit 2 and one line.
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
SKIFF=$1
DRIVER=${2:-afxdp}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
APPS=$HERE/apps.py
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$SKIFF" ] || { echo "skip: $SKIFF not built"; exit 77; }

id=$$
A=pyA$id B=pyB$id VA=yA$id VB=yB$id
LOG=$(mktemp -d /tmp/skiff-pytest.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"

onskiff() { ip netns exec "$A" "$SKIFF" run --config "$LOG/skiff.conf" -- "$@"; }
onpeer() { ip netns exec "$B" "$@"; }

# bg NAME CMD...: start in the background, output in $LOG/NAME.out; $BG = pid
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

# 1. the documentation's echo examples, both directions
for ex in echo gai; do
	bg "$ex-srv" onskiff $PY "$HERE/doc_${ex}_server.py" 198.18.0.2 50007
	srv=$BG
	if wait_ready "$LOG/$ex-srv.out" "$srv"; then
		onpeer timeout 20 $PY "$HERE/doc_${ex}_client.py" 198.18.0.2 50007 >"$LOG/$ex-cli.out" 2>&1
		finish "$srv" 10
		if grep -q "Received b'Hello, world'" "$LOG/$ex-cli.out" &&
			grep -q "Connected by ('198.18.0.1'" "$LOG/$ex-srv.out"; then
			ok "doc $ex example: server on skiff, kernel client"
		else
			bad "doc $ex example: server on skiff, kernel client" "$LOG/$ex-srv.out" "$LOG/$ex-cli.out"
		fi
	else
		bad "doc $ex example: server on skiff did not start" "$LOG/$ex-srv.out"
	fi

	bg "$ex-ksrv" onpeer $PY "$HERE/doc_${ex}_server.py" 198.18.0.1 50008
	srv=$BG
	if wait_ready "$LOG/$ex-ksrv.out" "$srv"; then
		onskiff timeout 20 $PY "$HERE/doc_${ex}_client.py" 198.18.0.1 50008 >"$LOG/$ex-scli.out" 2>&1
		finish "$srv" 10
		if grep -q "Received b'Hello, world'" "$LOG/$ex-scli.out" &&
			grep -q "Connected by ('198.18.0.2'" "$LOG/$ex-ksrv.out"; then
			ok "doc $ex example: client on skiff, kernel server"
		else
			bad "doc $ex example: client on skiff, kernel server" "$LOG/$ex-ksrv.out" "$LOG/$ex-scli.out"
		fi
	else
		bad "doc $ex example: kernel server did not start" "$LOG/$ex-ksrv.out"
	fi
done

# 2. UDP echo
bg udp-srv onskiff $PY "$APPS" udp-server 198.18.0.2 50010 200
srv=$BG
if wait_ready "$LOG/udp-srv.out" "$srv" &&
	onpeer timeout 60 $PY "$APPS" udp-client 198.18.0.2 50010 200 >"$LOG/udp-cli.out" 2>&1; then
	finish "$srv" 10
	ok "UDP echo: 200 datagrams of 1..1400 bytes"
else
	finish "$srv" 1
	bad "UDP echo" "$LOG/udp-srv.out" "$LOG/udp-cli.out"
fi

# 3. call semantics (a port nobody listens on at the peer: 50999)
if onskiff timeout 60 $PY "$APPS" semantics 198.18.0.2 198.18.0.1 50999 >"$LOG/sem.out" 2>&1 &&
	grep -q "semantics ok" "$LOG/sem.out"; then
	ok "timeouts, non-blocking calls, getsockopt values, refused connects"
else
	bad "call semantics" "$LOG/sem.out"
fi

# 4. event loops over epoll, select and poll with 8 concurrent clients
port=50020
for kind in selectors select poll; do
	bg "$kind-srv" onskiff $PY "$APPS" "$kind-server" 198.18.0.2 $port 8
	srv=$BG
	if wait_ready "$LOG/$kind-srv.out" "$srv" &&
		onpeer timeout 90 $PY "$APPS" multi-client 198.18.0.2 $port 8 262144 >"$LOG/$kind-cli.out" 2>&1; then
		finish "$srv" 10
		if grep -q "8 clients served" "$LOG/$kind-srv.out"; then
			ok "$kind echo server: 8 concurrent clients x 256 KiB"
		else
			bad "$kind echo server" "$LOG/$kind-srv.out" "$LOG/$kind-cli.out"
		fi
	else
		finish "$srv" 1
		bad "$kind echo server" "$LOG/$kind-srv.out" "$LOG/$kind-cli.out"
	fi
	port=$((port + 1))
done

# 5. fork: the child's sockets are the kernel's; the parent serves on skiff
if [ "$DRIVER" = afxdp ]; then
bg fork-sink onpeer $PY "$APPS" sink 198.18.0.1 50030 0
sink=$BG
wait_ready "$LOG/fork-sink.out" "$sink"
bg fork onskiff $PY "$APPS" fork 198.18.0.2 198.18.0.1 50030 50031
srv=$BG
if wait_ready "$LOG/fork.out" "$srv" &&
	onpeer timeout 20 $PY "$HERE/doc_echo_client.py" 198.18.0.2 50031 >"$LOG/fork-cli.out" 2>&1; then
	finish "$srv" 10
	finish "$sink" 5
	if grep -q "fork ok" "$LOG/fork.out" && grep -q "from 198.18.0.3" "$LOG/fork-sink.out"; then
		ok "fork: the child's new socket on the kernel (198.18.0.3), the parent serves on skiff"
	else
		bad "fork" "$LOG/fork.out" "$LOG/fork-sink.out" "$LOG/fork-cli.out"
	fi
else
	finish "$srv" 1
	finish "$sink" 1
	bad "fork" "$LOG/fork.out" "$LOG/fork-sink.out" "$LOG/fork-cli.out"
fi
fi

# 6. exit with data in flight: all 4 MiB arrive
bg exit-sink onpeer $PY "$APPS" sink 198.18.0.1 50040 4194304
sink=$BG
wait_ready "$LOG/exit-sink.out" "$sink"
onskiff timeout 30 $PY "$APPS" exit-flush 198.18.0.1 50040 4194304 >"$LOG/exit.out" 2>&1
finish "$sink" 20
if grep -q "sink: 4194304 bytes from 198.18.0.2" "$LOG/exit-sink.out"; then
	ok "exit: 4 MiB sent just before exit all delivered"
else
	bad "exit flush" "$LOG/exit.out" "$LOG/exit-sink.out"
fi

# 6b. exit while threads sleep inside skiff calls: a clean exit, twice (the
# second run finds the interface as the first left it)
for run in 1 2; do
	onskiff timeout 20 $PY "$APPS" exit-blocked 198.18.0.2 >"$LOG/exitb$run.out" 2>&1
	echo "rc=$?" >>"$LOG/exitb$run.out"
done
if grep -q "^rc=0" "$LOG/exitb1.out" && grep -q "^rc=0" "$LOG/exitb2.out"; then
	ok "exit with threads asleep in recv/accept/epoll and spinning through recv inside skiff: clean, twice"
else
	bad "exit with threads blocked inside skiff" "$LOG/exitb1.out" "$LOG/exitb2.out"
fi

# 7. no config: one warning line, the program runs on the kernel
if [ "$DRIVER" = afxdp ]; then
PRELOAD=$(dirname "$SKIFF")/../socketapi/libskiff_preload.so
bg nocfg-sink onpeer $PY "$APPS" sink 198.18.0.1 50050 0
sink=$BG
wait_ready "$LOG/nocfg-sink.out" "$sink"
ip netns exec "$A" env -u SKIFF_CONFIG -u SKIFF_INTERFACE LD_PRELOAD="$PRELOAD" timeout 20 \
	$PY -c "import socket; c = socket.create_connection(('198.18.0.1', 50050)); c.sendall(b'x'); c.close()" \
	>"$LOG/nocfg.out" 2>&1
rc=$?
finish "$sink" 5
if [ $rc -eq 0 ] && [ "$(grep -c '^skiff: no configuration' "$LOG/nocfg.out")" -eq 1 ] &&
	[ "$(wc -l <"$LOG/nocfg.out")" -eq 1 ] && grep -q "from 198.18.0.3" "$LOG/nocfg-sink.out"; then
	ok "no config: one warning line, the program ran on the kernel"
else
	bad "no config" "$LOG/nocfg.out" "$LOG/nocfg-sink.out"
fi
fi

# 8. families skiff never serves: the kernel's answers, unchanged (compared with
# the same program without the preload), SCM_RIGHTS and netlink working
ip netns exec "$A" $PY "$APPS" families >"$LOG/fam-kernel.out" 2>"$LOG/fam-kernel.err"
onskiff $PY "$APPS" families >"$LOG/fam-skiff.out" 2>"$LOG/fam-skiff.err" # (DPDK's own notes on stderr)
if cmp -s "$LOG/fam-kernel.out" "$LOG/fam-skiff.out" && grep -q "scm_rights b'fd' b'through'" "$LOG/fam-skiff.out" &&
	grep -q "netlink True" "$LOG/fam-skiff.out"; then
	ok "other families: the kernel's answers unchanged ($(grep -c errno "$LOG/fam-skiff.out") refusals), SCM_RIGHTS, netlink"
else
	bad "other families differ under the preload" "$LOG/fam-kernel.out" "$LOG/fam-skiff.out"
fi

# 9. a bad config: skiff run refuses with one line
printf '[interface %s]\ndriver = afxdp\naddres = 198.18.0.2/24\n' "$VA" >"$LOG/bad.conf"
"$SKIFF" run --config "$LOG/bad.conf" -- true >"$LOG/badcfg.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$LOG/badcfg.out")" -eq 1 ] && grep -q "bad.conf:3:" "$LOG/badcfg.out"; then
	ok "bad config: skiff run exits 2 with '$(cat "$LOG/badcfg.out")'"
else
	bad "bad config (rc $rc)" "$LOG/badcfg.out"
fi

echo "$fails failed"
[ $fails -eq 0 ]
