#!/usr/bin/env bash
# Peak memory and time of every command on every crafted class of issue 11
# (internal/hostile, written by cmd/hostilegen) at growing sizes. For each
# class, scale (SCALES, default "1 4 16") and command it prints exit code,
# wall time and peak RSS (/usr/bin/time -v), then a verdict. It fails when
# a run exceeds LIMIT_MIB (default 256) of RSS, runs out of TIMEOUT seconds
# (default 300), is killed by a signal or panics, or when time grows
# super-linearly: time(16x)/time(4x) > RATIO (default 6) where time(16x)
# is at least FLOOR seconds (default 1; below it the ratio is noise).
# This is a measurement, not a timed test: `make test` runs the same
# classes at scale 1 for exit codes and output (TestHostileCorpus).
# CLASSES="reverse-order duplicate-keys" picks classes.
set -uo pipefail
cd "$(dirname "$0")/.."
LIMIT_MIB="${LIMIT_MIB:-256}"
TIMEOUT="${TIMEOUT:-300}"
RATIO="${RATIO:-6}"
FLOOR="${FLOOR:-1}"
SCALES="${SCALES:-1 4 16}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/snaptool" ./cmd/snaptool || exit 2
go build -o "$tmp/hostilegen" ./cmd/hostilegen || exit 2
CLASSES="${CLASSES:-$("$tmp/hostilegen" -list | cut -f1 | tr '\n' ' ')}"
commands=(inspect verify dump diff top kv-export kv-get report preflight rewrite)
fail=0
results="$tmp/results"
: >"$results"
printf '%-17s %5s %-10s %4s %9s %9s\n' class scale command exit "time(s)" "RSS(MiB)"
for class in $CLASSES; do
	for scale in $SCALES; do
		a="$tmp/$class-$scale-a.snap" b="$tmp/$class-$scale-b.snap"
		"$tmp/hostilegen" -class "$class" -scale "$scale" -side 0 -o "$a" || exit 2
		"$tmp/hostilegen" -class "$class" -scale "$scale" -side 1 -o "$b" || exit 2
		for cmd in "${commands[@]}"; do
			out="$tmp/out"
			rm -f "$out"
			case "$cmd" in
			diff) args=(diff "$a" "$b") ;;
			kv-export) args=(kv export "$b") ;;
			kv-get) args=(kv get "$b" no/such/key) ;;
			report) args=(report --html "$out" "$a" "$b") ;;
			preflight) args=(preflight --target 1.13 "$b") ;;
			rewrite) args=(rewrite "$b" "$out") ;;
			*) args=("$cmd" "$b") ;;
			esac
			# Address space capped at 16 x LIMIT_MIB (thread stacks count), so that a run that
			# would take gigabytes fails here instead of on the machine.
			/usr/bin/time -v -o "$tmp/time" bash -c 'ulimit -v "$1"; shift; exec timeout -s KILL "$@"' _ \
				"$((LIMIT_MIB * 16 * 1024))" "$TIMEOUT" "$tmp/snaptool" "${args[@]}" >/dev/null 2>"$tmp/stderr"
			code=$?
			secs="$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$tmp/time")"
			kib="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")"
			mib=$(( ${kib:-0} / 1024 ))
			note=""
			if [ "$code" -gt 3 ] || grep -q '^panic:\|^fatal error:\|^goroutine ' "$tmp/stderr"; then
				note="FAIL: exit $code"
				[ "$code" -eq 137 ] && note="FAIL: killed after ${TIMEOUT}s"
				grep -q '^fatal error:.*out of memory' "$tmp/stderr" && note="FAIL: out of memory (address space capped at $((LIMIT_MIB * 16)) MiB)"
				grep -q '^panic:' "$tmp/stderr" && note="FAIL: panic"
				fail=1
			fi
			if [ "$mib" -ge "$LIMIT_MIB" ]; then
				note="FAIL: RSS ${mib} MiB >= ${LIMIT_MIB} MiB"
				fail=1
			fi
			printf '%-17s %5s %-10s %4s %9.2f %9d %s\n' "$class" "${scale}x" "$cmd" "$code" "$secs" "$mib" "$note"
			echo "$class $scale $cmd $secs" >>"$results"
		done
		rm -f "$a" "$b"
	done
done
# Super-linear time: compare the two largest scales of each class and command.
read -r -a sc <<<"$SCALES"
if [ "${#sc[@]}" -ge 2 ]; then
	lo="${sc[${#sc[@]}-2]}" hi="${sc[${#sc[@]}-1]}"
	while read -r class cmd tlo thi; do
		if awk -v a="$tlo" -v b="$thi" -v r="$RATIO" -v f="$FLOOR" -v k="$((hi / lo))" \
			'BEGIN { exit !(b >= f && b > r * (a > 0.01 ? a : 0.01) * k / 4) }'; then
			echo "FAIL: $class $cmd: ${thi}s at ${hi}x vs ${tlo}s at ${lo}x (super-linear)"
			fail=1
		fi
	done < <(awk -v lo="$lo" -v hi="$hi" '$2==lo {t[$1" "$3]=$4} $2==hi && ($1" "$3) in t {print $1, $3, t[$1" "$3], $4}' "$results")
fi
if [ "$fail" -ne 0 ]; then
	echo "hostile-mem: FAIL (limit ${LIMIT_MIB} MiB, ratio ${RATIO} per 4x above ${FLOOR}s)"
	exit 1
fi
echo "hostile-mem: ok (limit ${LIMIT_MIB} MiB, ratio ${RATIO} per 4x above ${FLOOR}s)"
