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

# ---------------------------------------------------------------------------------------
# Consul versions: where each pinned version's binary lives and how it is built.
# ---------------------------------------------------------------------------------------
# The repository root (this file is scripts/lib/consul.sh).
CONSUL_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The Consul versions that `make fixtures` builds, oldest first.
CONSUL_VERSIONS="1.12.9 1.13.9 1.14.11"

# consul_dir VERSION: the (gitignored bin/) directory of a pinned Consul version.
#   1.13.9  fixtures/consul        a Go module that requires github.com/hashicorp/consul v1.13.9
#   1.14.11 fixtures/consul-1.14   the same for v1.14.11
#   1.12.9  fixtures/consul-1.12   built from a copy of the v1.12.9 module itself (see below)
consul_dir() {
  case "$1" in
    1.13.9) echo "$CONSUL_REPO_ROOT/fixtures/consul" ;;
    1.14.11) echo "$CONSUL_REPO_ROOT/fixtures/consul-1.14" ;;
    1.12.9) echo "$CONSUL_REPO_ROOT/fixtures/consul-1.12" ;;
    *) return 1 ;;
  esac
}

# consul_bin VERSION: path of that version's binary (it may not be built yet).
consul_bin() {
  local d
  d=$(consul_dir "$1") || return 1
  echo "$d/bin/consul"
}

# version_ge A B: is dotted version A >= B?
version_ge() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# ensure_consul VERSION: build that version's binary if it is missing, check that it
# reports that version, and set CONSUL to its path.
ensure_consul() {
  local v=$1 dir bin got
  dir=$(consul_dir "$v") || die "no pinned Consul $v (known: $CONSUL_VERSIONS)"
  bin="$dir/bin/consul"
  if [ ! -x "$bin" ]; then
    log "building Consul $v (several minutes)"
    case "$v" in
      1.12.9) _build_consul_from_module_copy "$v" "$dir" ;;
      *) (cd "$dir" && go build -o bin/consul github.com/hashicorp/consul) || die "building Consul $v failed" ;;
    esac
  fi
  got=$("$bin" version | sed -n 1p)  # sed reads it all: no SIGPIPE under pipefail
  [ "$got" = "Consul v$v" ] || die "$bin is '$got', not Consul v$v (delete $dir/bin to rebuild)"
  CONSUL=$bin
}

# _build_consul_from_module_copy VERSION DIR: build Consul from a copy of its own module.
# Consul 1.12.9 cannot be built as a dependency: its go.mod replaces
# github.com/hashicorp/consul/{api,sdk} with ./api and ./sdk, which are nested modules and
# so are not part of the module zip. The recipe: copy the module directory out of the
# module cache (fetched from the module proxy if missing), make it writable, delete the
# replace lines that point to local directories (the others, e.g. launchpad.net/gocheck,
# stay), let the go command add the go.sum lines of the api/sdk versions that go.mod
# requires (-mod=mod), and build there. The copy is removed afterwards.
_build_consul_from_module_copy() {
  local v=$1 dir=$2 src tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/consul-$v-src.XXXXXX")
  src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/consul@v$v" | jq -r .Dir) \
    || { rm -rf "$tmp"; die "go mod download github.com/hashicorp/consul@v$v failed"; }
  cp -R "$src" "$tmp/consul"
  chmod -R u+w "$tmp/consul"
  sed -i -E '/^replace[[:space:]].*=>[[:space:]]*\.\.?\//d' "$tmp/consul/go.mod"
  grep -q '=> \./' "$tmp/consul/go.mod" && { rm -rf "$tmp"; die "local replace lines left in $tmp/consul/go.mod"; }
  mkdir -p "$dir/bin"
  if ! (cd "$tmp/consul" && go build -mod=mod -o "$dir/bin/consul" .); then
    chmod -R u+w "$tmp"; rm -rf "$tmp"; die "building Consul $v failed"
  fi
  chmod -R u+w "$tmp"; rm -rf "$tmp"
}
