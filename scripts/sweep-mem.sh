#!/usr/bin/env bash
# Peak memory of the hostile-input sweep (decode TestSweep), measured as the
# test process's maximum resident set size with /usr/bin/time -v, plus the
# peak Go heap from BenchmarkSweepPeakHeap. Fails if the RSS exceeds
# LIMIT_MIB (default 256). SWEEP_FULL=1 runs the exhaustive sweep (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT_MIB="${LIMIT_MIB:-256}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/decode.test" ./decode
args=(-test.run '^TestSweep$' -test.count=1 -test.v)
[ "${SWEEP_FULL:-0}" = 1 ] && args+=(-sweep.full)
(cd decode && /usr/bin/time -v "$tmp/decode.test" "${args[@]}") >"$tmp/out" 2>"$tmp/time" || {
	cat "$tmp/out" "$tmp/time" >&2
	exit 1
}
grep -E 'sweep: [0-9]+ cases' "$tmp/out" | sed 's/^ *//'
kib="$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tmp/time")"
mib=$((kib / 1024))
echo "sweep peak RSS: ${mib} MiB (${kib} KiB), limit ${LIMIT_MIB} MiB"
(cd decode && "$tmp/decode.test" -test.run '^$' -test.bench '^BenchmarkSweepPeakHeap$' -test.benchtime 1x) | grep -E 'peak-heap' || true
if [ "$mib" -ge "$LIMIT_MIB" ]; then
	echo "FAIL: peak RSS ${mib} MiB >= ${LIMIT_MIB} MiB" >&2
	exit 1
fi
