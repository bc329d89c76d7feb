# netns_check.sh — sourced (after veth_pair.sh) by the scripts that test or
# bench skiff in namespaces: the run's bookkeeping, written once.
#
#   netns_run_setup A B LOG   at exit (or INT/TERM): kill every pid in PIDS,
#                             remove namespaces A and B, remove LOG (kept when
#                             KEEP_LOG is set)
#   PIDS+=("$pid")            a background process to kill at exit
#   ok NAME                   one passed check
#   bad NAME [LOG...]         one failed check, with the last lines of each log;
#                             counts it in $fails
#   wait_ready FILE PID       until FILE says "ready" (15 s; 1 if PID died first)
#   finish PID SECONDS        wait for PID, kill it past SECONDS; its status

PIDS=()
fails=0

netns_run_setup() {
	_NC_A=$1 _NC_B=$2 _NC_LOG=$3
	trap _netns_cleanup EXIT
	trap 'exit 1' INT TERM
}

_netns_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	veth_pair_down "$_NC_A" "$_NC_B"
	[ -n "${KEEP_LOG:-}" ] || rm -rf "$_NC_LOG"
}

ok() { echo "ok   $1"; }

bad() {
	local f
	echo "FAIL $1"
	shift
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "     | == $(basename "$f")"
		tr '\r' '\n' <"$f" | grep -v '^[[:space:]]*$' | tail -n 12 | sed 's/^/     | /'
	done
	fails=$((fails + 1))
}

wait_ready() {
	local i
	for i in $(seq 150); do
		grep -q ready "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

finish() {
	local i
	for i in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
