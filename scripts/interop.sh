#!/usr/bin/env bash
# make interop: the real Consul reads what snaptool's writer (package encode,
# via cmd/snapgen) writes, and snaptool reads what Consul writes, with the
# same numbers.
#
#  1. Generate a snapshot (2000 KV under 18 prefixes, 50 nodes × 3 services ×
#     2 checks, sessions, ACL tokens, tombstones-free) with cmd/snapgen.
#  2. `consul snapshot inspect` of the generated file must equal
#     `snaptool inspect --format pretty` byte for byte (plain, -kvdetails,
#     -kvdetails -kvdepth 3).
#  3. Start a fresh single Consul server (127.0.0.1 only, free ports, temp
#     data dir, Connect off), `consul snapshot restore` the generated file,
#     wait until the leader has re-registered itself, `consul snapshot save`
#     a new one and compare `consul snapshot inspect -format json` of the
#     new save with `snaptool inspect --format json` of the generated file:
#       - KVS: count and size exact, and every KV prefix group (count, size)
#         exact: the server stores the entries as restored and re-encodes
#         them with the same keys;
#       - Session, ACLToken: count and size exact;
#       - Register: count = generated + 3 (the server's own node, its
#         "consul" service and serfHealth check, which reconcile adds after
#         the restore); generated nodes have no serfHealth check, so none is
#         reaped;
#       - Autopilot and ChunkingState: one each.
#     Index, CoordinateBatchUpdate, SystemMetadata and similar bookkeeping
#     records are Consul's own after a restore and are not compared.
#  4. Also `snaptool verify` the generated file and Consul's new save.
#  5. Then scripts/interop-kv.sh (kv export/import round trip), unless
#     INTEROP_KV=0; scripts/interop-rewrite.sh, unless INTEROP_REWRITE=0;
#     scripts/interop-restore.sh (preflight's restore matrix against
#     Consul 1.12.9, 1.13.9 and 1.14.11, a downgrade rewrite restored into
#     1.12.9, a --redact rewrite into 1.13.9), unless INTEROP_RESTORE=0.
# The server is stopped and the temp dir removed on every exit.
#
# Env: CONSUL (default fixtures/consul/bin/consul, built from fixtures/consul
# if missing), KEEP_WORK=1 keeps the temp dir. Needs go, curl, jq.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CONSUL=${CONSUL:-$ROOT/fixtures/consul/bin/consul}

log() { printf 'interop: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
for tool in go curl jq; do command -v "$tool" >/dev/null || die "$tool is required"; done

# shellcheck source=lib/consul.sh
. scripts/lib/consul.sh
use_work_dir snaptool-interop

if [ ! -x "$CONSUL" ]; then
  log "building Consul from fixtures/consul (first time: several minutes)"
  (cd fixtures/consul && go build -o bin/consul github.com/hashicorp/consul)
fi
log "$("$CONSUL" version | head -n 1)"
go build -o "$WORK/snaptool" ./cmd/snaptool
go build -o "$WORK/snapgen" ./cmd/snapgen
ST=$WORK/snaptool

GEN=$WORK/generated.snap
"$WORK/snapgen" -o "$GEN" --seed 42 --kv 2000 --nodes 50 --services-per-node 3 --checks-per-service 2 \
  --tokens 10 --sessions 5 --value-size 400
log "generated $(du -k "$GEN" | cut -f1) KiB: $GEN"

# --- 2. inspect of the generated file: Consul's text == ours, byte for byte
for flags in "" "-kvdetails" "-kvdetails -kvdepth 3"; do
  # shellcheck disable=SC2086
  "$CONSUL" snapshot inspect $flags "$GEN" >"$WORK/consul.txt" || die "consul snapshot inspect $flags rejected the generated file"
  # shellcheck disable=SC2086
  "$ST" inspect --format pretty $flags "$GEN" >"$WORK/snaptool.txt"
  if ! cmp -s "$WORK/consul.txt" "$WORK/snaptool.txt"; then
    diff -u "$WORK/consul.txt" "$WORK/snaptool.txt" >&2 || true
    die "snaptool inspect --format pretty $flags differs from consul snapshot inspect"
  fi
  log "ok: consul snapshot inspect $flags == snaptool inspect --format pretty $flags"
done
"$ST" verify "$GEN" >&2 || die "snaptool verify rejected the generated file"

# --- 3. restore into a real server, save again, compare
NODE=interop-server
start_single_server "$WORK" dc1 "$NODE" 'connect { enabled = false }'
API="http://127.0.0.1:$HTTP"

# wait_for WHAT SECONDS CMD...: retry CMD every 0.5 s
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$PID" 2>/dev/null || { tail -n 30 "$WORK/agent.log" >&2; die "consul exited while waiting for $what"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 30 "$WORK/agent.log" >&2; die "timed out waiting for $what"; }
    sleep 0.5
  done
}
leader() { local l; l=$(curl -sf "$API/v1/status/leader") && [ -n "$l" ] && [ "$l" != '""' ]; }
self_registered() { curl -sf "$API/v1/health/node/$NODE" | jq -e 'map(select(.CheckID == "serfHealth")) | length == 1'; }
wait_for "the leader" 60 leader
wait_for "the server's own registration" 60 self_registered

"$CONSUL" snapshot restore "$GEN" >&2 || die "consul snapshot restore rejected the generated file"
kv_restored() { [ "$(curl -sf "$API/v1/kv/?keys" | jq length)" = 2000 ]; }
wait_for "the restored KV store" 30 kv_restored
wait_for "the server's own registration after the restore" 90 self_registered
"$CONSUL" snapshot save "$WORK/saved.snap" >&2
"$ST" verify "$WORK/saved.snap" >&2 || die "snaptool verify rejected Consul's own save"

"$CONSUL" snapshot inspect -kvdetails -format json "$WORK/saved.snap" >"$WORK/consul.json"
"$ST" inspect --kv-details --format json "$GEN" >"$WORK/snaptool.json"
stat_of() { jq -c --arg n "$2" '[.Stats[] | select(.Name == $n)] | .[0] // {Name: $n, Count: 0, Sum: 0} | {Count, Sum}' "$1"; }
check() { # what got want
  if [ "$2" != "$3" ]; then die "$1: Consul's save has $2, the generated file $3"; fi
  log "ok: $1 $2"
}
for t in KVS Session ACLToken; do
  check "$t (count, size)" "$(stat_of "$WORK/consul.json" $t)" "$(stat_of "$WORK/snaptool.json" $t)"
done
check "KV prefix groups" "$(jq -c '.StatsKV' "$WORK/consul.json")" "$(jq -c '.StatsKV' "$WORK/snaptool.json")"
check "TotalSizeKV" "$(jq '.TotalSizeKV' "$WORK/consul.json")" "$(jq '.TotalSizeKV' "$WORK/snaptool.json")"
reg_saved=$(stat_of "$WORK/consul.json" Register | jq .Count)
reg_gen=$(stat_of "$WORK/snaptool.json" Register | jq .Count)
check "Register count (generated + the server's node, service and serfHealth check)" "$reg_saved" "$((reg_gen + 3))"
for t in Autopilot ChunkingState; do
  check "$t count" "$(stat_of "$WORK/consul.json" $t | jq .Count)" 1
done

log "PASS: Consul $("$CONSUL" version | head -n 1 | cut -d' ' -f2) restored and re-saved the generated snapshot with the same records"

# stop the server before the kv round trip starts its own
stop_agent "$PID"
PID=""

if [ "${INTEROP_KV:-1}" != 0 ] && [ -f scripts/interop-kv.sh ]; then
  SNAPTOOL=$ST CONSUL=$CONSUL bash scripts/interop-kv.sh
fi

if [ "${INTEROP_REWRITE:-1}" != 0 ] && [ -f scripts/interop-rewrite.sh ]; then
  SNAPTOOL=$ST CONSUL=$CONSUL bash scripts/interop-rewrite.sh
fi

if [ "${INTEROP_RESTORE:-1}" != 0 ] && [ -f scripts/interop-restore.sh ]; then
  SNAPTOOL=$ST bash scripts/interop-restore.sh
fi
