# Shared helpers for the scripts that run a real Consul on 127.0.0.1
# (fixtures/make-fixtures.sh, scripts/interop.sh, scripts/interop-kv.sh).
# Source it; it defines functions only. Callers define log() and die().

# port_busy PORT: is something listening on or connected from PORT?
port_busy() {
  if command -v ss >/dev/null 2>&1; then
    ss -Htuan 2>/dev/null | awk -v p="$1" '$5 ~ ("[:.]" p "$") {found=1} END {exit !found}'
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# free_port VAR: a currently unused loopback port, never handed out twice in this run.
CONSUL_USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
    case "$CONSUL_USED_PORTS" in *" $p "*) continue ;; esac
    port_busy "$p" && continue
    CONSUL_USED_PORTS+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
}

# stop_agent PID: SIGINT (graceful leave), then SIGKILL after 10 s.
stop_agent() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  return 0
}

# start_single_server DIR DATACENTER NODE [EXTRA_HCL]: a fresh one-server
# datacenter on loopback with free ports and an empty data dir under DIR.
# Sets PID and HTTP, exports CONSUL_HTTP_ADDR, and waits for a leader.
start_single_server() {
  local dir=$1 dc=$2 node=$3 extra=${4:-}
  local DNS SERF_LAN SERF_WAN SERVER
  for v in HTTP DNS SERF_LAN SERF_WAN SERVER; do free_port "$v"; done
  mkdir -p "$dir/data"
  cat >"$dir/config.hcl" <<HCL
datacenter           = "$dc"
node_name            = "$node"
data_dir             = "$dir/data"
bind_addr            = "127.0.0.1"
client_addr          = "127.0.0.1"
advertise_addr       = "127.0.0.1"
server               = true
bootstrap_expect     = 1
log_level            = "INFO"
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
$extra
HCL
  "$CONSUL" agent -config-file="$dir/config.hcl" >"$dir/agent.log" 2>&1 &
  PID=$!
  export CONSUL_HTTP_ADDR="127.0.0.1:$HTTP" CONSUL_HTTP_TOKEN=""
  local deadline=$(( $(date +%s) + 60 )) l
  while :; do
    kill -0 "$PID" 2>/dev/null || { tail -n 20 "$dir/agent.log" >&2; die "consul exited"; }
    l=$(curl -sf "http://127.0.0.1:$HTTP/v1/status/leader" 2>/dev/null || true)
    if [ -n "$l" ] && [ "$l" != '""' ]; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 20 "$dir/agent.log" >&2; die "timed out waiting for the Consul leader"; }
    sleep 0.5
  done
}

# use_work_dir NAME: a temp dir in WORK, and traps that stop the agent in
# PID and remove WORK (unless KEEP_WORK=1) on every exit.
use_work_dir() {
  WORK="" PID=""
  trap _consul_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
}

_consul_cleanup() {
  local rc=$?
  set +e
  stop_agent "$PID"
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${KEEP_WORK:-0}" = 1 ]; then log "keeping $WORK"; else rm -rf "$WORK"; fi
  fi
  [ $rc -eq 0 ] || log "FAILED (exit $rc)"
  exit $rc
}
