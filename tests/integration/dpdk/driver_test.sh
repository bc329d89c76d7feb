#!/bin/bash
# driver_test.sh — the dpdk driver against the Linux kernel, once per vdev.
#
# Usage: driver_test.sh <driver_test binary> <peer.py> [vdev...]
#   vdevs: tap af_packet af_xdp (default: all three)
# Flow: skip (77) unless root with ip(8) and the binary; then
#   errors: fresh processes that must fail with one line and exit 2, no crash:
#     unknown port, bad EAL args, no --no-huge without hugepages, not root;
#     then EAL args with a program name first, and a frame held across close
#     (eal_fini refuses while it is out, succeeds once it is freed).
#   Every vdev run also has net_null1 (after the vdev under test, so that stays
#   port 0): a second port whose frames tx must copy (--cross-port).
#   tap:       namespace A; DPDK creates tap sk0 there (kernel 198.18.1.1/24,
#              skiff 198.18.1.2); the kernel side is in the same namespace.
#   af_packet: veth vA (namespace A, DPDK's) <-> vB (namespace B, 198.18.0.1/24,
#              skiff 198.18.0.2); the peer's tx checksum offload is probed on,
#              then turned off.
#   af_xdp:    the same veth pair through net_af_xdp. No bpffs needed: without
#              one libxdp loads its XSK program alone (no dispatcher) and says so.
# Namespaces are named per pid and removed on exit. Addresses: 198.18.0.0/15
# only. Exit 0 if every vdev passed (a vdev that cannot run here is reported
# SKIP with the reason), 1 on any failure, 77 if nothing could run.
set -u

BIN=${1:-}
PEER_PY=${2:-}
shift 2 2>/dev/null || true
VDEVS=${*:-tap af_packet af_xdp}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, DPDK vdevs)"
command -v ip >/dev/null || skip "ip(8) missing"
[ -x "$BIN" ] || skip "test binary '$BIN' missing (DPDK not built?)"
[ -r "$PEER_PY" ] || skip "peer.py '$PEER_PY' missing"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 missing"

NSA=skdpdkA$$
NSB=skdpdkB$$
TMP=$(mktemp -d /tmp/skiff-dpdk-test.XXXXXX)
cleanup() {
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --in-memory would be the natural choice but DPDK 22.11 refuses it with
# --no-huge (which implies legacy memory); --no-shconf keeps processes apart.
EAL_BASE=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0) # two ports of 32767 mbufs (~75 MB each)
declare -A RESULT
FAILED=0

ns_reset() {
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	ip netns add "$NSA" || return 1
	ip -n "$NSA" link set lo up
	# No IPv6 (router solicitations, MLD) on interfaces created from here on.
	ip netns exec "$NSA" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

veth_setup() {
	ip netns add "$NSB" || return 1
	ip -n "$NSB" link set lo up
	ip netns exec "$NSB" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add vA netns "$NSA" type veth peer name vB netns "$NSB" || return 1
	ip -n "$NSB" addr add 198.18.0.1/24 dev vB
	ip -n "$NSA" link set vA up
	ip -n "$NSB" link set vB up
}

# run_vdev NAME -- driver_test args: runs in namespace A, keeps the log.
run_vdev() {
	local name=$1 rc
	shift
	echo "=== $name"
	timeout -k 5 60 ip netns exec "$NSA" "$BIN" "$@" >"$TMP/$name.log" 2>&1
	rc=$?
	sed 's/^/  /' "$TMP/$name.log"
	if grep -q 'frames still held' "$TMP/$name.log"; then
		echo "  FAIL close kept the pool although every frame was back"
		rc=1
	fi
	if [ $rc -eq 0 ]; then
		RESULT[$name]="PASS ($(grep -c '^PASS' "$TMP/$name.log") checks)"
	elif [ "$name" = af_xdp ] && grep -q "^FAIL open net_af_xdp0 (dpdk: no port" "$TMP/$name.log"; then
		# The vdev did not probe: this kernel/libxdp cannot do AF_XDP here.
		RESULT[$name]="SKIP (net_af_xdp0 did not probe: see the libxdp/libbpf lines above)"
		rc=0
	else
		RESULT[$name]="FAIL (exit $rc, $(grep -c '^FAIL' "$TMP/$name.log") failed checks)"
		FAILED=1
	fi
	return $rc
}

# expect_error NAME PATTERN cmd...: must exit 2 with exactly one "dpdk:" line
# on stderr matching PATTERN (extended regex), and not crash.
expect_error() {
	local name=$1 pat=$2 rc lines msg
	shift 2
	timeout -k 5 30 "$@" >"$TMP/err.out" 2>"$TMP/err.err"
	rc=$?
	lines=$(grep -c '^dpdk: ' "$TMP/err.err")
	msg=$(grep '^dpdk: ' "$TMP/err.err" | head -1)
	if [ $rc -eq 2 ] && [ "$lines" = 1 ] && grep -Eq "$pat" <<<"$msg"; then
		echo "PASS error $name: exit 2: $msg"
	else
		echo "FAIL error $name: exit $rc, $lines 'dpdk:' lines, wanted /$pat/"
		sed 's/^/  | /' "$TMP/err.err" | tail -5
		FAILED=1
		RESULT[errors]="FAIL"
	fi
}

echo "=== errors"
RESULT[errors]="PASS"
ns_reset || skip "cannot create a network namespace"
IN_A=(ip netns exec "$NSA")
expect_error "unknown port" "^dpdk: no port 'net_tap9' \(ports: net_null0\)$" \
	"${IN_A[@]}" "$BIN" --mode open --port net_tap9 -- "${EAL_BASE[@]}" --vdev=net_null0
expect_error "bad EAL args" "^dpdk: EAL init failed: .*bad EAL arguments" \
	"${IN_A[@]}" "$BIN" --mode open --port net_null0 -- "${EAL_BASE[@]}" --vdev=net_null0 --bogus-eal-flag
if [ "$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)" = 0 ]; then
	expect_error "no hugepages" "^dpdk: EAL init failed: .*--no-huge" \
		"${IN_A[@]}" "$BIN" --mode open --port net_null0 -- -m 64 --no-pci --no-shconf --no-telemetry -l 0 --vdev=net_null0
else
	echo "INFO error no-hugepages: hugepages are reserved here, case not run"
fi
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	cp "$BIN" "$TMP/driver_test" && chmod 755 "$TMP" "$TMP/driver_test"
	expect_error "not root" "^dpdk: .*(not root|Permission denied)" \
		"${IN_A[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$TMP/driver_test" --mode open --port net_tap0 -- "${EAL_BASE[@]}" --vdev=net_tap0,iface=skiffnr0
else
	echo "INFO error not-root: setpriv unavailable, case not run"
fi

# EAL args given as a whole argv (program name first) work too.
if timeout -k 5 30 "${IN_A[@]}" "$BIN" --mode open --port net_null0 -- my-program "${EAL_BASE[@]}" --vdev=net_null0 >"$TMP/argv0.log" 2>&1; then
	echo "PASS EAL args with a program name first"
else
	echo "FAIL EAL args with a program name first"
	sed 's/^/  | /' "$TMP/argv0.log" | tail -5
	FAILED=1
	RESULT[errors]="FAIL"
fi

# A frame held across close: the pool must stay (warning), eal_fini must refuse
# while the frame is out, freeing it later must not crash, fini then succeeds.
timeout -k 5 30 "${IN_A[@]}" "$BIN" --mode open --hold --port net_null0 -- "${EAL_BASE[@]}" --vdev=net_null0 >"$TMP/hold.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'closed with 1 frames still held' "$TMP/hold.log" && grep -q 'eal_fini meanwhile: -16' "$TMP/hold.log" &&
	grep -q 'held frame freed' "$TMP/hold.log" && grep -q 'eal_fini once it is back: 0' "$TMP/hold.log"; then
	echo "PASS close with a frame held: pool kept, eal_fini refused (-EBUSY) until the frame was freed"
else
	echo "FAIL close with a frame held (exit $rc)"
	sed 's/^/  | /' "$TMP/hold.log" | tail -5
	FAILED=1
	RESULT[errors]="FAIL"
fi

for v in $VDEVS; do
	case $v in
	tap)
		ns_reset || { RESULT[tap]="FAIL (netns)"; FAILED=1; continue; }
		run_vdev tap --port net_tap0 --local-ip 198.18.1.2 --peer-ip 198.18.1.1 --peer-if sk0 \
			--peer-setup "ip addr add 198.18.1.1/24 dev sk0 && ip link set sk0 up" \
			--peer-py "$PEER_PY" --probe-peer-csum --cross-port net_null1 \
			-- "${EAL_BASE[@]}" --vdev=net_tap0,iface=sk0 --vdev=net_null1
		;;
	af_packet)
		ns_reset && veth_setup || { RESULT[af_packet]="FAIL (netns/veth)"; FAILED=1; continue; }
		run_vdev af_packet --port net_af_packet0 --local-ip 198.18.0.2 --peer-ip 198.18.0.1 --peer-if vB \
			--peer-exec "ip netns exec $NSB" --peer-py "$PEER_PY" --probe-peer-csum --cross-port net_null1 \
			-- "${EAL_BASE[@]}" --vdev=net_af_packet0,iface=vA --vdev=net_null1
		;;
	af_xdp)
		ns_reset && veth_setup || { RESULT[af_xdp]="FAIL (netns/veth)"; FAILED=1; continue; }
		run_vdev af_xdp --port net_af_xdp0 --local-ip 198.18.0.2 --peer-ip 198.18.0.1 --peer-if vB \
			--peer-exec "ip netns exec $NSB" --peer-py "$PEER_PY" --probe-peer-csum --cross-port net_null1 \
			-- "${EAL_BASE[@]}" --vdev=net_af_xdp0,iface=vA,start_queue=0,queue_count=1 --vdev=net_null1
		;;
	*)
		echo "unknown vdev '$v'"
		FAILED=1
		;;
	esac
done

echo "=== summary"
for k in errors $VDEVS; do
	echo "$k: ${RESULT[$k]:-not run}"
done
exit $FAILED
