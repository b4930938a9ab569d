#!/usr/bin/env bash
# interop-kv.sh: `snaptool kv export` against the real Consul 1.13.9.
#
# For each fixture snapshot: snaptool kv export → `consul kv import` into a
# fresh single Consul server (127.0.0.1 only, free ports, temp data dir) →
# `consul kv export` back → the two files must be byte-identical (same keys,
# flags and values, same order, same JSON layout). Also checks that
# `snaptool kv get` prints the same bytes as `consul kv get` for every key.
# The server is stopped and the temp dir removed on every exit.
#
# Usage: bash scripts/interop-kv.sh [SNAPSHOT...]   (default: the 1.13.9 fixtures)
# Env: SNAPTOOL (default bin/snaptool, built if missing), CONSUL (default
# fixtures/consul/bin/consul), KEEP_WORK=1 keeps the temp dir.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SNAPTOOL=${SNAPTOOL:-$ROOT/bin/snaptool}
CONSUL=${CONSUL:-$ROOT/fixtures/consul/bin/consul}
if [ $# -gt 0 ]; then SNAPS=("$@"); else
  SNAPS=(fixtures/consul-1.13.9/before.snap fixtures/consul-1.13.9/after.snap fixtures/consul-testdata/backupWithKV.snap)
fi

log() { printf 'interop-kv: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[ -x "$CONSUL" ] || die "$CONSUL not found (run 'make fixtures' or build fixtures/consul first)"
if [ ! -x "$SNAPTOOL" ]; then
  log "building $SNAPTOOL"
  go build -o "$SNAPTOOL" ./cmd/snaptool
fi

# shellcheck source=lib/consul.sh
. scripts/lib/consul.sh
use_work_dir snaptool-interop-kv

# start_server DIR: a fresh single-server dc whose KV API answers.
start_server() {
  start_single_server "$1" interop interop-kv
  local deadline=$(( $(date +%s) + 60 ))
  until "$CONSUL" kv export >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for the KV API"
    sleep 0.5
  done
}

stop_server() {
  stop_agent "$PID"
  PID=""
}

i=0
for snap in "${SNAPS[@]}"; do
  i=$((i + 1))
  d="$WORK/$i"
  mkdir -p "$d"
  "$SNAPTOOL" kv export -o "$d/snaptool.json" "$snap"
  n=$(jq length "$d/snaptool.json")
  start_server "$d"
  "$CONSUL" kv import "@$d/snaptool.json" >"$d/import.out"
  "$CONSUL" kv export >"$d/consul.json"
  if ! cmp -s "$d/snaptool.json" "$d/consul.json"; then
    diff -u "$d/snaptool.json" "$d/consul.json" | head -40 >&2 || true
    die "$snap: consul kv export after import differs from snaptool kv export"
  fi
  # kv get: every key, raw bytes, against consul kv get (base64 to keep NULs and trailing newlines).
  while IFS= read -r key; do
    want=$(curl -sf "http://127.0.0.1:$HTTP/v1/kv/$(jq -rn --arg k "$key" '$k|@uri|gsub("%2F";"/")')?raw" | base64 -w0)
    got=$("$SNAPTOOL" kv get "$snap" "$key" | base64 -w0)
    [ "$got" = "$want" ] || die "$snap: kv get $key differs from Consul's value"
  done < <(jq -r '.[].key' "$d/snaptool.json")
  stop_server
  log "ok: $snap: $n keys round-trip byte for byte (import → export), kv get matches"
done
log "all ${#SNAPS[@]} snapshots ok"
