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

WORK="" PID=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$PID" ]; then
    kill -INT "$PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${KEEP_WORK:-0}" = 1 ]; then log "keeping $WORK"; else rm -rf "$WORK"; fi
  fi
  [ $rc -eq 0 ] || log "FAILED (exit $rc)"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/snaptool-interop-kv.XXXXXX")

USED=" "
port_busy() {
  if command -v ss >/dev/null 2>&1; then
    ss -Htuan 2>/dev/null | awk '{print $5}' | grep -Eq "[:.]$1\$"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
free_port() {
  local p
  while :; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
    case "$USED" in *" $p "*) continue ;; esac
    port_busy "$p" && continue
    USED+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
}

# start_server: a fresh single-server dc on loopback with an empty data dir.
start_server() {
  local dir=$1
  for v in HTTP DNS SERF_LAN SERF_WAN SERVER; do free_port "$v"; done
  mkdir -p "$dir/data"
  cat >"$dir/config.hcl" <<EOF
datacenter           = "interop"
node_name            = "interop-kv"
data_dir             = "$dir/data"
bind_addr            = "127.0.0.1"
client_addr          = "127.0.0.1"
advertise_addr       = "127.0.0.1"
server               = true
bootstrap_expect     = 1
log_level            = "WARN"
disable_update_check = true
disable_host_node_id = true
ui_config { enabled = false }
ports {
  http     = $HTTP
  https    = -1
  dns      = $DNS
  serf_lan = $SERF_LAN
  serf_wan = $SERF_WAN
  server   = $SERVER
  grpc     = -1
}
EOF
  "$CONSUL" agent -config-file="$dir/config.hcl" >"$dir/agent.log" 2>&1 &
  PID=$!
  export CONSUL_HTTP_ADDR="127.0.0.1:$HTTP" CONSUL_HTTP_TOKEN=""
  local deadline=$(( $(date +%s) + 60 )) l
  while :; do
    kill -0 "$PID" 2>/dev/null || { tail -n 20 "$dir/agent.log" >&2; die "consul exited"; }
    l=$(curl -sf "http://127.0.0.1:$HTTP/v1/status/leader" 2>/dev/null || true)
    if [ -n "$l" ] && [ "$l" != '""' ] && "$CONSUL" kv export >/dev/null 2>&1; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for the Consul leader"
    sleep 0.5
  done
}

stop_server() {
  kill -INT "$PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null || true
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
