#!/usr/bin/env bash
# Runs every fuzz target in turn for $FUZZTIME each (default 30s).
# Crashers are written by go test to <pkg>/testdata/fuzz/<Target>/ and then
# run as regression cases in every `go test`. Usage: make fuzz FUZZTIME=2m
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-30s}"
# Keep the machine usable: one worker unless FUZZPARALLEL says otherwise.
PARALLEL="${FUZZPARALLEL:-1}"
# Inputs are whole snapshots (KBs); minimizing one for the default 60s
# stalls the run, and a crasher is saved either way. The test binaries use
# the same default without this flag (internal/fuzzopt, MinimizeLimit).
MINIMIZE="${FUZZMINIMIZETIME:-100x}"
status=0
# Every package that has fuzz targets (decode, diff, report, …).
for pkg in $(go list ./... | sed "s|^github.com/snaptool/snaptool|.|"); do
	[ -d "$pkg" ] || continue
	for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "== $pkg $target ($FUZZTIME)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" -parallel "$PARALLEL" "$pkg"; then
			echo "!! $pkg $target found a failure; the input is in $pkg/testdata/fuzz/$target/" >&2
			status=1
		fi
	done
done
exit $status
