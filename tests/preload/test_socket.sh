#!/usr/bin/env bash
# test_socket.sh SKIFF — CPython's own test_socket suite, unmodified, on skiff:
# run under `skiff run` with [offload] loopback = on (its servers and clients
# talk over 127.0.0.1 inside one process, so skiff serves both ends), and the
# same suite on the kernel alone, in a namespace this script creates and
# removes (skiff needs an interface: a veth end with 198.18.0.2).
#
# Reports ran/failures/errors/skipped for both runs and how many packets the
# kernel's own lo carried in each (the preload run must carry a small fraction:
# the traffic really went through skiff). Fails when the preload run has a
# failure or error the kernel run does not, or lo carried more than a fifth of
# the kernel run's packets. VSOCK tests are left out of both (this machine's
# vsock transport hangs them, with or without skiff).
# Exit 0 ok, 1 failed, 77 skipped (not root, no test package).
set -u
SKIFF=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$HERE/../lib/veth_pair.sh"
. "$HERE/../lib/netns_check.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -x "$SKIFF" ] || { echo "skip: $SKIFF not built"; exit 77; }
$PY -c "import test.test_socket" 2>/dev/null || { echo "skip: CPython's test package is not installed (libpython3-testsuite)"; exit 77; }

id=$$
A=tsA$id B=tsB$id VA=tA$id VB=tB$id
LOG=$(mktemp -d /tmp/skiff-testsocket.XXXXXX)
netns_run_setup "$A" "$B" "$LOG"

if ! veth_pair_up "$A" "$B" "$VA" "$VB"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
cat >"$LOG/skiff.conf" <<EOF
[interface $VA]
driver = afxdp
address = 198.18.0.2/24
[offload]
loopback = on
EOF

lo_packets() { ip -n "$A" -s link show lo | awk '/RX:/ { getline; print $2 }'; }

# run NAME CMD...: the suite, verbose, each run bounded
run() {
	local name=$1
	shift
	local before
	before=$(lo_packets)
	ip netns exec "$A" timeout 600 "$@" $PY -m test -v --timeout 300 -i '*VSOCK*' test_socket >"$LOG/$name.out" 2>&1
	echo $? >"$LOG/$name.rc"
	echo $(($(lo_packets) - before)) >"$LOG/$name.lo"
}

# counts NAME: "ran failures errors skipped" from unittest's summary
counts() {
	local f=$LOG/$1.out ran fl er sk
	ran=$(sed -n 's/^Ran \([0-9]*\) tests.*/\1/p' "$f" | tail -1)
	fl=$(grep -o 'failures=[0-9]*' "$f" | tail -1 | cut -d= -f2)
	er=$(grep -o 'errors=[0-9]*' "$f" | tail -1 | cut -d= -f2)
	sk=$(grep -o 'skipped=[0-9]*' "$f" | tail -1 | cut -d= -f2)
	echo "${ran:-0} ${fl:-0} ${er:-0} ${sk:-0}"
}

run kernel
run skiff "$SKIFF" run --config "$LOG/skiff.conf" --
read -r kr kf ke ks <<<"$(counts kernel)"
read -r sr sf se ss <<<"$(counts skiff)"
klo=$(cat "$LOG/kernel.lo")
slo=$(cat "$LOG/skiff.lo")
printf 'test_socket on the kernel: ran %s, failures %s, errors %s, skipped %s; lo carried %s packets\n' \
	"$kr" "$kf" "$ke" "$ks" "$klo"
printf 'test_socket on skiff:      ran %s, failures %s, errors %s, skipped %s; lo carried %s packets\n' \
	"$sr" "$sf" "$se" "$ss" "$slo"

# the tests that failed or erred on skiff but not on the kernel
grep -E '\.\.\. (FAIL|ERROR)$' "$LOG/kernel.out" | sed 's/ \.\.\. .*//' | sort -u >"$LOG/kernel.bad"
grep -E '\.\.\. (FAIL|ERROR)$' "$LOG/skiff.out" | sed 's/ \.\.\. .*//' | sort -u >"$LOG/skiff.bad"
new=$(comm -13 "$LOG/kernel.bad" "$LOG/skiff.bad")
fails=0
if [ "$sr" -eq 0 ] || [ "$sr" -ne "$kr" ]; then
	echo "FAIL the skiff run ran $sr tests, the kernel run $kr"
	tail -n 20 "$LOG/skiff.out"
	fails=1
fi
if [ -n "$new" ]; then
	echo "FAIL on skiff only:"
	echo "$new" | sed 's/^/     /'
	fails=1
fi
if [ "$klo" -eq 0 ] || [ $((slo * 5)) -gt "$klo" ]; then
	echo "FAIL lo carried $slo packets under skiff vs $klo on the kernel: the traffic did not go through skiff"
	fails=1
fi
[ $fails -eq 0 ] && echo "ok   test_socket: no failure of skiff's own; lo traffic $slo vs $klo packets"
exit $fails
