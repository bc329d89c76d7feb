#!/usr/bin/env bash
# config_test.sh SKIFF_ECHO — skiff brought up from a config file (socketapi/
# config.h + boot.c, through `skiff-echo --config`) against the Linux kernel
# across a veth pair, in two namespaces this script creates and always removes.
#
# ns A: vA (the kernel's own 198.18.0.3); ns B: vB 198.18.0.1. Checks: a config
# naming vA on afxdp with 198.18.0.2 serves TCP (4 MiB SHA-256 both ways) and
# UDP to a kernel client; SKIFF_INTERFACE/SKIFF_ADDRESS move it to 198.18.0.4
# and SKIFF_STACK_TCP_RCVBUF changes a stack field, on top of the same file; the
# same service on DPDK net_af_xdp from a [interface] with driver = dpdk; a bad
# key, a bad environment value and a missing interface each stop it with exit 2
# and one line naming the file:line, the variable or the interface.
# Exit 0 all ok, 1 a check failed, 77 skipped.
set -u
ECHO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=(/usr/bin/python3 "$HERE/udp_peer.py")
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$ECHO" ] || { echo "skip: $ECHO not built"; exit 77; }
"$ECHO" --list-drivers | grep -qw afxdp || { echo "skip: no afxdp driver"; exit 77; }

id=$$
A=cfA$id B=cfB$id VA=cA$id VB=cB$id
LOG=$(mktemp -d /tmp/skiff-config.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"

stop() { # stop PID
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# serve NAME CONF ARGS... : start skiff-echo --config CONF ARGS in ns A, wait for ready
serve() {
	local name=$1 conf=$2
	shift 2
	ip netns exec "$A" env "${ENVV[@]}" "$ECHO" --config "$conf" "$@" >"$LOG/$name.out" 2>&1 &
	SK=$!
	PIDS+=("$SK")
	wait_ready "$LOG/$name.out" "$SK"
}

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi

cat >"$LOG/afxdp.conf" <<EOF
# skiff on the veth end in namespace A
[interface $VA]
driver = afxdp
queues = 0
address = 198.18.0.2/24   ; the kernel keeps 198.18.0.3
[stack]
tcp_rcvbuf = 128k
busy_poll_us = 50
EOF

echo "== config: afxdp"
ENVV=(SKIFF_UNUSED=1)
if serve tcp "$LOG/afxdp.conf" --tcp --port 5201; then
	if timeout -k 5 120 ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5201 4194304 >"$LOG/c1" 2>&1; then
		ok "config file: TCP echo on 198.18.0.2 (4 MiB, sha256)"
	else
		bad "config file: TCP echo on 198.18.0.2" "$LOG/c1"
	fi
	grep -q "interface $VA (afxdp" "$LOG/tcp.out" && ok "the service says which interface and driver" ||
		bad "no interface line" "$LOG/tcp.out"
else
	bad "skiff-echo --config did not get ready" "$LOG/tcp.out"
fi
stop "$SK"

ENVV=(SKIFF_INTERFACE="$VA" SKIFF_ADDRESS=198.18.0.4/24 SKIFF_STACK_TCP_RCVBUF=64k)
if serve udp "$LOG/afxdp.conf" --port 7; then
	if timeout -k 5 60 ip netns exec "$B" "${PEER[@]}" client 198.18.0.4 7 1,1472,9000 >"$LOG/c2" 2>&1; then
		ok "SKIFF_INTERFACE + SKIFF_ADDRESS over the file: UDP echo on 198.18.0.4"
	else
		bad "environment override: UDP echo on 198.18.0.4" "$LOG/c2"
	fi
	if timeout -k 5 20 ip netns exec "$B" "${PEER[@]}" client 198.18.0.2 7 64 >"$LOG/c3" 2>&1; then
		bad "198.18.0.2 still answers: the environment did not replace the file's address" "$LOG/c3"
	else
		ok "the file's 198.18.0.2 is replaced, not added"
	fi
else
	bad "skiff-echo --config with environment overrides did not get ready" "$LOG/udp.out"
fi
stop "$SK"

if "$ECHO" --list-drivers | grep -qw dpdk; then
	echo "== config: dpdk net_af_xdp"
	cat >"$LOG/dpdk.conf" <<EOF
[interface dp0]
driver = dpdk
dpdk_eal = --no-huge -m 512 --no-pci --no-shconf -l 0 --vdev=net_af_xdp0,iface=$VA,start_queue=0,queue_count=1
dpdk_port = net_af_xdp0
address = 198.18.0.2/24
EOF
	ENVV=(SKIFF_UNUSED=1)
	if serve dpdk "$LOG/dpdk.conf" --tcp --port 5202; then
		if timeout -k 5 120 ip netns exec "$B" "${PEER[@]}" tcp-client 198.18.0.2 5202 4194304 >"$LOG/c4" 2>&1; then
			ok "config file, driver = dpdk: TCP echo (4 MiB, sha256)"
		else
			bad "config file, driver = dpdk: TCP echo" "$LOG/c4"
		fi
	else
		bad "skiff-echo --config (dpdk) did not get ready" "$LOG/dpdk.out"
	fi
	stop "$SK"
fi

echo "== config: errors"
# expect_err NAME PATTERN ENV... -- CONF: exit 2, one line matching PATTERN
expect_err() {
	local name=$1 pat=$2
	shift 2
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	timeout -k 5 30 ip netns exec "$A" env "${envs[@]}" "$ECHO" --config "$1" --tcp --port 5209 >"$LOG/e.out" 2>&1
	local rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$LOG/e.out")" -eq 1 ] && grep -qE "$pat" "$LOG/e.out"; then
		ok "$name: $(cat "$LOG/e.out")"
	else
		bad "$name (exit $rc, want 2 and one line matching '$pat')" "$LOG/e.out"
	fi
}
printf '[interface %s]\ndriver = afxdp\naddress = 198.18.0.2/24\n[stack]\ntcp_rcvbf = 1\n' "$VA" >"$LOG/typo.conf"
expect_err "misspelt key" "typo.conf:5: unknown key 'tcp_rcvbf' in \[stack\]" SKIFF_UNUSED=1 -- "$LOG/typo.conf"
expect_err "bad environment value" "environment SKIFF_STACK_TCP_RCVBUF: tcp_rcvbuf: want a number" \
	SKIFF_STACK_TCP_RCVBUF=plenty -- "$LOG/afxdp.conf"
printf '[interface nosuch%s]\ndriver = afxdp\naddress = 198.18.0.2/24\n' "$id" >"$LOG/noif.conf"
expect_err "missing interface" "interface nosuch$id: " SKIFF_UNUSED=1 -- "$LOG/noif.conf"
expect_err "missing file" "$LOG/none.conf: No such file" SKIFF_UNUSED=1 -- "$LOG/none.conf"

echo "== config: $fails failure(s)"
[ "$fails" -eq 0 ]
