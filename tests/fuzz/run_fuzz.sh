#!/usr/bin/env bash
# run_fuzz.sh FUZZER CORPUS [SEEDS...] — a time-bounded libFuzzer campaign.
# Copies the seed corpus into a scratch directory (the source tree is never
# written), runs FUZZER for FUZZ_SECONDS (default 60), and exits non-zero on a
# crash, leak or sanitizer report; the reproducer is left in the scratch dir
# whose path is printed.
set -euo pipefail
fuzzer=$(realpath "$1"); shift
secs=${FUZZ_SECONDS:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/skiff-fuzz.XXXXXX")
mkdir -p "$work/corpus"
for d in "$@"; do
  [ -d "$d" ] && cp -r "$d"/. "$work/corpus/" 2>/dev/null || true
done
echo "fuzz: ${secs}s, scratch $work, $(ls "$work/corpus" | wc -l) seeds"
cd "$work"
if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 corpus >"$work/log" 2>&1; then
  tail -n 12 "$work/log"
  rm -rf "$work"
  exit 0
fi
tail -n 60 "$work/log"
echo "fuzz: FAILED — reproducer and log in $work"
exit 1
