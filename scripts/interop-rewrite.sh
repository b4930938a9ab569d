#!/usr/bin/env bash
# interop-rewrite.sh: `snaptool rewrite` output against the real Consul.
#
# For each case, rewrites the 1.13.9 fixture before.snap (kept records byte
# for byte, meta.json and SHA256SUMS recomputed, gzip written by pgzip on
# every core), restores the result into a fresh single Consul server
# (127.0.0.1 only, free ports, temp data dir, disable_update_check), and
# compares through the HTTP API: the KV store must equal `snaptool kv
# export` of the rewritten file byte for byte (so exactly the selected
# keys), and dropped types must be gone (sessions). Then `consul snapshot
# save` of that server must hold the same KVS records as the rewritten file.
# The server is stopped and the temp dir removed on every exit.
#
# Usage: bash scripts/interop-rewrite.sh
# Env: SNAPTOOL (default bin/snaptool, built if missing), CONSUL (default
# fixtures/consul/bin/consul), KEEP_WORK=1 keeps the temp dir.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SNAPTOOL=${SNAPTOOL:-$ROOT/bin/snaptool}
CONSUL=${CONSUL:-$ROOT/fixtures/consul/bin/consul}
IN=fixtures/consul-1.13.9/before.snap

log() { printf 'interop-rewrite: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
for tool in curl jq; do command -v "$tool" >/dev/null || die "$tool is required"; done
[ -x "$CONSUL" ] || die "$CONSUL not found (run 'make fixtures' or build fixtures/consul first)"
if [ ! -x "$SNAPTOOL" ]; then
  log "building $SNAPTOOL"
  go build -o "$SNAPTOOL" ./cmd/snaptool
fi

# shellcheck source=lib/consul.sh
. scripts/lib/consul.sh
use_work_dir snaptool-interop-rewrite

kvs_stat() { "$SNAPTOOL" inspect --format json "$1" | jq -c '[.Stats[] | select(.Name == "KVS")] | .[0] // {Count: 0, Sum: 0} | {Count, Sum}'; }

n=0
while IFS='|' read -r name flags sessions; do
  n=$((n + 1))
  OUT=$WORK/rewritten-$n.snap
  # shellcheck disable=SC2086
  "$SNAPTOOL" rewrite $flags "$IN" "$OUT" || die "$name: snaptool rewrite $flags failed"
  start_single_server "$WORK/s$n" interop interop-rewrite
  API="http://127.0.0.1:$HTTP"
  "$CONSUL" snapshot restore "$OUT" >&2 || die "$name: consul snapshot restore rejected the rewritten file"
  "$CONSUL" kv export >"$WORK/consul-$n.json"
  "$SNAPTOOL" kv export "$OUT" >"$WORK/snaptool-$n.json"
  if ! cmp -s "$WORK/consul-$n.json" "$WORK/snaptool-$n.json"; then
    diff -u "$WORK/snaptool-$n.json" "$WORK/consul-$n.json" | head -n 40 >&2 || true
    die "$name: Consul's KV store after the restore differs from the rewritten file's"
  fi
  got=$(curl -sf "$API/v1/session/list" | jq length)
  [ "$got" = "$sessions" ] || die "$name: $got sessions after the restore, want $sessions"
  "$CONSUL" snapshot save "$WORK/saved-$n.snap" >&2
  [ "$(kvs_stat "$WORK/saved-$n.snap")" = "$(kvs_stat "$OUT")" ] || die "$name: Consul's save has KVS $(kvs_stat "$WORK/saved-$n.snap"), the rewritten file $(kvs_stat "$OUT")"
  log "ok: $name: restored; KV store ($(jq length "$WORK/consul-$n.json") keys) and $sessions session(s) as selected"
  stop_agent "$PID"
  PID=""
done <<'CASES'
no selection||3
KV under app/, no sessions|--kv-prefix app/ --drop-type Session|0
no app/blob/ values, no peering|--drop-kv-prefix app/blob/ --drop-type Peering --drop-type PeeringTrustBundle --drop-type PeeringSecret|3
CASES
log "PASS: Consul $("$CONSUL" version | head -n 1 | cut -d' ' -f2) restored every rewritten snapshot with exactly the selected records"
