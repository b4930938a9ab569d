#!/usr/bin/env bash
# make demo: the main job on the shipped real fixtures — a backup check
# before a restore, then what changed between two backups.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=bin/snaptool
fix=fixtures/consul-1.13.9

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "$bin verify $fix/before.snap $fix/after.snap"
$bin verify "$fix/before.snap" "$fix/after.snap"

step "$bin inspect --kv-details $fix/after.snap"
$bin inspect --kv-details "$fix/after.snap"

step "$bin diff $fix/before.snap $fix/after.snap"
$bin diff "$fix/before.snap" "$fix/after.snap"
echo "(exit $? — 1 means the snapshots differ)"

step "$bin dump --type ACLToken $fix/after.snap | head -n 3"
$bin dump --type ACLToken "$fix/after.snap" | head -n 3

step "$bin report --html report.html $fix/before.snap $fix/after.snap"
if out=$($bin report --html report.html "$fix/before.snap" "$fix/after.snap"); then
  echo "HTML report written to: $out"
  echo "(open it in a browser; it is one self-contained file, readable printed and on a phone)"
else
  echo "report failed (exit $?)" >&2
  exit 1
fi
