#!/usr/bin/env bash
# interop-restore.sh: preflight's predictions against real restores, and
# rewritten and redacted snapshots restored into real servers.
#
#  1. The matrix: each fixture snapshot (1.12.9 after.snap, 1.13.9
#     before.snap with peering records, 1.14.11 after.snap, Consul's own
#     testdata backup.snap and backupWithKV.snap) is restored with `consul
#     snapshot restore` into a fresh single server of each built version
#     (1.12.9, 1.13.9, 1.14.11; a failed restore bricks the data dir, so
#     every restore gets a new temp dir). For every pair,
#     `snaptool preflight --target V --format json` must predict what
#     happened: "would restore" when the CLI succeeded and the server logged
#     no restore error; "would fail" when the restore failed and the
#     server's log holds preflight's consul_error word for word (Consul's
#     CLI only says EOF). The matrix is printed as a table; any
#     disagreement fails. The measured table must equal
#     preflight/testdata/restore-matrix.tsv, which preflight/matrix_test.go
#     asserts in `make test` (no Consul needed).
#  2. The 1.13.9 snapshot with peering records, which 1.12.9 refuses, is
#     rewritten with the command preflight printed for --target 1.12.9;
#     the result restores into a real 1.12.9, whose KV store, catalog
#     (nodes, services and their instances) and ACL tokens (accessor IDs,
#     descriptions, policies, roles) through the HTTP API equal those of
#     a 1.13.9 server restored from the original file. Left out of the
#     comparison, because they legitimately differ: each server's own node
#     and its "consul" service (different node IDs, ports, agent
#     versions); nodes with a serfHealth check (the snapshot's old agents,
#     reaped on each server's own schedule); nodes, services and checks
#     imported from a cluster peer (on 1.13.9 they stay under ?peer=dc2;
#     1.12.9 has no peering: the rewrite drops the Peering records, but the
#     Register records of imported nodes carry a PeerName that 1.12.9's
#     decoder ignores, so they register as local nodes; listed separately);
#     raft indexes.
#  3. A `--redact` rewrite of the same file restores into 1.13.9 with the
#     same KV store, catalog and ACL token accessors, and a fresh
#     `consul snapshot save` of that server holds none of the original
#     secrets (searched in its decompressed bytes, with their base64
#     forms).
# Servers run on 127.0.0.1 only, free ports, temp data dirs,
# disable_update_check (scripts/lib/consul.sh); all are stopped and the
# temp dir removed on every exit.
#
# Usage: bash scripts/interop-restore.sh
# Env: SNAPTOOL (default bin/snaptool, built if missing), KEEP_WORK=1 keeps
# the temp dir. Consul binaries: scripts/lib/consul.sh's ensure_consul
# (builds a missing version, several minutes each). Needs curl, jq, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SNAPTOOL=${SNAPTOOL:-$ROOT/bin/snaptool}

log() { printf 'interop-restore: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
for tool in curl jq python3; do command -v "$tool" >/dev/null || die "$tool is required"; done
if [ ! -x "$SNAPTOOL" ]; then
  log "building $SNAPTOOL"
  go build -o "$SNAPTOOL" ./cmd/snaptool
fi

# shellcheck source=lib/consul.sh
. scripts/lib/consul.sh
use_work_dir snaptool-interop-restore

declare -A BIN
for v in $CONSUL_VERSIONS; do
  ensure_consul "$v"
  BIN[$v]=$CONSUL
done

SNAPS="fixtures/consul-1.12.9/after.snap fixtures/consul-1.13.9/before.snap fixtures/consul-1.14.11/after.snap fixtures/consul-testdata/backup.snap fixtures/consul-testdata/backupWithKV.snap"
MGMT_TOKEN=5e1f0c3a-9d2b-4c7e-8a61-0f3b2d4c6e8a # the fixtures' throw-away initial management token (fixtures/consul-1.13.9/README.md)

# restore_into VERSION FILE DIR [EXTRA_HCL]: a fresh server of VERSION in DIR, then
# `consul snapshot restore FILE`. Sets RESTORED (yes/no), RESTORE_ERR (the server's
# restore error, from its log) and leaves the server running in PID (if alive).
restore_into() {
  local v=$1 file=$2 dir=$3 extra=${4:-} token=${5:-}
  CONSUL=${BIN[$v]}
  start_single_server "$dir" dc1 restore-target "$extra"
  [ -z "$token" ] || export CONSUL_HTTP_TOKEN=$token
  if "$CONSUL" snapshot restore "$file" >"$dir/restore.out" 2>&1; then RESTORED=yes; else RESTORED=no; fi
  sleep 1 # the FSM's error is logged as the restore returns; give the log a moment
  # e.g. `[ERROR] agent.server.raft: failed to restore snapshot: id=… error="Unrecognized msg type 35"`,
  # or the panic `failed to restore snapshot …: Unrecognized msg type 35`
  RESTORE_ERR=$(grep -a -m1 -E 'failed to restore snapshot|failed to restore' "$dir/agent.log" || true)
}

# --- 1. the matrix (INTEROP_MATRIX=0 skips it, for work on the steps after it) ---------
if [ "${INTEROP_MATRIX:-1}" != 0 ]; then
TABLE=$WORK/matrix.tsv
printf 'snapshot\ttarget\tpreflight\tconsul_error (preflight)\tconsul restore\tserver log\tagree\n' >"$TABLE"
disagree=0 n=0
for snap in $SNAPS; do
  for v in $CONSUL_VERSIONS; do
    n=$((n + 1))
    pred=$("$SNAPTOOL" preflight --target "$v" --format json "$snap" || true)
    want=$(jq -r '.files[0].verdict' <<<"$pred")
    want_err=$(jq -r '.files[0].consul_error // ""' <<<"$pred")
    restore_into "$v" "$snap" "$WORK/m$n"
    stop_agent "$PID"; PID=""
    if [ "$RESTORED" = yes ] && [ -z "$RESTORE_ERR" ]; then got=restored; else got=failed; fi
    agree=yes
    case "$want" in
      "would restore") [ "$got" = restored ] || agree=NO ;;
      "would fail") [ "$got" = failed ] && [ -n "$want_err" ] && grep -qaF -- "$want_err" <<<"$RESTORE_ERR" || agree=NO ;;
      *) agree=NO ;;
    esac
    logged=${RESTORE_ERR##*: } # the message after the last ": " (the panic's or error="…")
    logged=${logged#error=\"}; logged=${logged%\"}
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${snap#fixtures/}" "$v" "$want" "${want_err:--}" "$got" "${logged:--}" "$agree" >>"$TABLE"
    [ "$agree" = yes ] || { disagree=$((disagree + 1)); log "DISAGREE: $snap on $v: preflight '$want' ($want_err), Consul $got: $RESTORE_ERR"; tail -n 5 "$WORK/m$n/restore.out" >&2; }
    rm -rf "$WORK/m$n/data"
  done
done
column -t -s $'\t' "$TABLE"
[ "$disagree" = 0 ] || die "$disagree of $n pairs: preflight's prediction differs from the real restore"
log "ok: preflight predicted all $n restores (snapshot x Consul version)"

# The measured table is preflight/testdata/restore-matrix.tsv, which
# preflight/matrix_test.go asserts in make test: they must stay equal.
MATRIX_FILE=preflight/testdata/restore-matrix.tsv
got_table=$(awk -F'\t' 'NR > 1 {e = ($5 == "restored") ? "would restore" : "would fail"; print $1 "\t" $2 "\t" e "\t" $4}' "$TABLE")
want_table=$(grep -v '^#' "$MATRIX_FILE")
if [ "$want_table" != "$got_table" ]; then
  diff <(printf '%s\n' "$want_table") <(printf '%s\n' "$got_table") >&2 || true
  die "this run's matrix differs from $MATRIX_FILE (what make test asserts)"
fi
log "ok: the matrix equals $MATRIX_FILE"
fi

# --- 2. the peering snapshot rewritten for 1.12.9 -------------------------------------
IN=fixtures/consul-1.13.9/before.snap
cmd=$("$SNAPTOOL" preflight --target 1.12.9 --format json "$IN" | jq -r '.files[0].rewrite') || true
read -ra words <<<"$cmd"
[ "${words[0]:-}" = snaptool ] && [ "${#words[@]}" -ge 4 ] || die "preflight printed no rewrite command for $IN on 1.12.9: '$cmd'"
last=$((${#words[@]} - 1))
[ "${words[$((last - 1))]}" = "$IN" ] || die "preflight's command does not read $IN: $cmd"
FOR112=$WORK/for-1.12.9.snap
log "running preflight's command: $cmd (OUT in the temp dir)"
"$SNAPTOOL" "${words[@]:1:$((last - 1))}" "$FOR112"
"$SNAPTOOL" preflight --target 1.12.9 "$FOR112" >/dev/null || die "preflight still says the rewritten file fails on 1.12.9"

ACL_HCL="connect { enabled = false }
acl {
  enabled        = true
  default_policy = \"allow\"
  tokens { initial_management = \"$MGMT_TOKEN\" }
}"

# state NAME: KV store, catalog and ACL tokens of the running server, as JSON files in $WORK/NAME.*
wait_for_api() {
  local deadline=$(( $(date +%s) + 60 ))
  until curl -sf -H "X-Consul-Token: $MGMT_TOKEN" "http://127.0.0.1:$HTTP/v1/acl/tokens" >/dev/null 2>&1; do
    kill -0 "$PID" 2>/dev/null || die "consul exited after the restore"
    [ "$(date +%s)" -lt "$deadline" ] || die "the ACL API did not answer after the restore"
    sleep 0.5
  done
}
state() {
  local name=$1 api="http://127.0.0.1:$HTTP" h="X-Consul-Token: $MGMT_TOKEN"
  wait_for_api
  sleep 3 # let the leader's first reconcile run, so the reap of old agents is not half done
  "$CONSUL" kv export >"$WORK/$name.kv.json"
  # nodes without a serfHealth check (old agents are reaped on each server's own schedule) and not the server itself
  local nodes
  nodes=$(curl -sf -H "$h" "$api/v1/catalog/nodes" | jq -c '[.[] | {Node, Address, Datacenter, TaggedAddresses, Meta}] | sort_by(.Node)')
  : >"$WORK/$name.catalog.jsonl"
  for node in $(jq -r '.[].Node' <<<"$nodes"); do
    [ "$node" = restore-target ] && continue
    checks=$(curl -sf -H "$h" "$api/v1/health/node/$node")
    jq -e 'any(.[]; .CheckID == "serfHealth")' <<<"$checks" >/dev/null && continue
    jq -c --arg n "$node" '.[] | select(.Node == $n)' <<<"$nodes" >>"$WORK/$name.catalog.jsonl"
    curl -sf -H "$h" "$api/v1/catalog/node-services/$node" | jq -c '[.Services[] | {ID, Service, Tags, Address, Port, Meta, Kind, Proxy: (.Proxy | if . then {DestinationServiceName, LocalServicePort, Upstreams} else null end)}] | sort_by(.ID)' >>"$WORK/$name.catalog.jsonl"
    jq -c '[.[] | {CheckID, Name, Status, ServiceID, Type}] | sort_by(.CheckID)' <<<"$checks" >>"$WORK/$name.catalog.jsonl"
  done
  curl -sf -H "$h" "$api/v1/acl/tokens" | jq -c '[.[] | {AccessorID, Description, Local, Policies: ([.Policies[]?.Name] | sort), Roles: ([.Roles[]?.Name] | sort), ServiceIdentities, NodeIdentities}] | sort_by(.AccessorID)' >"$WORK/$name.tokens.json"
}
same() { # what file-a file-b
  if ! cmp -s "$2" "$3"; then
    diff -u "$2" "$3" | head -n 40 >&2 || true
    die "$1 differ"
  fi
  log "ok: $1 equal ($(wc -c <"$2") bytes of JSON)"
}

restore_into 1.13.9 "$IN" "$WORK/orig-1.13" "$ACL_HCL" "$MGMT_TOKEN"
[ "$RESTORED" = yes ] && [ -z "$RESTORE_ERR" ] || die "1.13.9 did not restore the original $IN: $RESTORE_ERR"
state orig
stop_agent "$PID"; PID=""

restore_into 1.12.9 "$FOR112" "$WORK/new-1.12" "$ACL_HCL" "$MGMT_TOKEN"
[ "$RESTORED" = yes ] && [ -z "$RESTORE_ERR" ] || die "1.12.9 did not restore the rewritten file: $RESTORE_ERR $(cat "$WORK/new-1.12/restore.out")"
state new
stop_agent "$PID"; PID=""
log "ok: Consul 1.12.9 restored the file preflight's command wrote"

# imported (peer) nodes: the input's Register records with a PeerName. 1.13.9 keeps them
# out of the local catalog; 1.12.9 registers them as local nodes (see the header).
peer_nodes=$("$SNAPTOOL" dump --type Register "$IN" | jq -r 'select(.id != null and (.id | startswith("node:")) and (.id | contains("?peer="))) | .data.Node' | sort -u)
log "imported from a peer in $IN: $(echo $peer_nodes); on 1.12.9 they are local nodes, left out of the comparison"
for pn in $peer_nodes; do
  if grep -q "\"Node\":\"$pn\"" "$WORK/orig.catalog.jsonl"; then die "imported node $pn is in 1.13.9's local catalog"; fi
  grep -q "\"Node\":\"$pn\"" "$WORK/new.catalog.jsonl" || die "imported node $pn is not in 1.12.9's catalog (expected as a local node)"
  python3 - "$WORK/new.catalog.jsonl" "$pn" <<'PY'
import json, sys
path, node = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
out, skip = [], 0
for l in lines:
    if skip:
        skip -= 1
        continue
    v = json.loads(l)
    if isinstance(v, dict) and v.get("Node") == node:
        skip = 2  # its services and checks lines
        continue
    out.append(l)
open(path, "w").write("".join(x + "\n" for x in out))
PY
done
same "KV stores (consul kv export) of 1.13.9 from the original and 1.12.9 from the rewrite" "$WORK/orig.kv.json" "$WORK/new.kv.json"
same "catalogs (nodes, their services and checks)" "$WORK/orig.catalog.jsonl" "$WORK/new.catalog.jsonl"
same "ACL tokens (accessor IDs, descriptions, policies, roles, identities)" "$WORK/orig.tokens.json" "$WORK/new.tokens.json"
log "ok: the KV store, catalog and ACL tokens survived the downgrade to 1.12.9 ($(jq length "$WORK/orig.kv.json") keys, $(grep -c '"Node"' "$WORK/orig.catalog.jsonl") nodes, $(jq length "$WORK/orig.tokens.json") tokens)"

# --- 3. --redact restores into 1.13.9, and Consul's own save holds no secret ----------
RED=$WORK/redacted.snap
"$SNAPTOOL" rewrite --redact "$IN" "$RED"
# the original's secrets, as the policy finds them (dump --show-secrets vs masked dump)
python3 - "$SNAPTOOL" "$IN" >"$WORK/secrets.txt" <<'PY'
import json, subprocess, sys
st, path = sys.argv[1], sys.argv[2]
shown = subprocess.run([st, "dump", "--show-secrets", path], capture_output=True, text=True, check=True).stdout.splitlines()
masked = subprocess.run([st, "dump", path], capture_output=True, text=True, check=True).stdout.splitlines()
out = set()
def walk(a, b):
    if isinstance(b, str) and b.startswith("<masked sha256:"):
        if isinstance(a, str): out.add(a)
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k in b: walk(a[k], b[k])
    elif isinstance(a, list) and isinstance(b, list):
        for x, y in zip(a, b): walk(x, y)
for x, y in zip(shown, masked):
    walk(json.loads(x), json.loads(y))
for s in sorted(out):
    print(json.dumps(s))
PY
nsec=$(wc -l <"$WORK/secrets.txt")
[ "$nsec" -ge 5 ] || die "only $nsec secrets found in $IN"
# ACLs off on this server: its own initial_management token would be the original secret,
# and with ACLs on the redacted snapshot replaces every token the API could be called with.
restore_into 1.13.9 "$RED" "$WORK/red-1.13"
[ "$RESTORED" = yes ] && [ -z "$RESTORE_ERR" ] || die "1.13.9 did not restore the redacted file: $RESTORE_ERR"
"$CONSUL" kv export >"$WORK/red.kv.json"
same "KV stores of 1.13.9 from the original and from the redacted file" "$WORK/orig.kv.json" "$WORK/red.kv.json"
"$CONSUL" snapshot save "$WORK/red-saved.snap" >&2
"$SNAPTOOL" verify "$WORK/red-saved.snap" >&2 || die "snaptool verify rejected Consul's save of the redacted restore"
stop_agent "$PID"; PID=""
python3 - "$WORK/red-saved.snap" "$WORK/secrets.txt" <<'PY' || die "Consul's save after restoring the redacted file holds an original secret"
import base64, gzip, json, sys
data = gzip.open(sys.argv[1]).read()
secrets = [json.loads(l) for l in open(sys.argv[2])]
bad = 0
for s in secrets:
    b = s.encode()
    forms = [b, base64.b64encode(b), base64.b64encode(b).rstrip(b"="), base64.urlsafe_b64encode(b).rstrip(b"=")]
    if any(f in data for f in forms):
        print(f"interop-restore: secret of {len(b)} bytes found ({s[:4]}…)", file=sys.stderr)
        bad += 1
print(f"interop-restore: searched {len(secrets)} secrets in {len(data)} decompressed bytes of Consul's save: {bad} found", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
log "ok: 1.13.9 restored the --redact rewrite; its fresh 'consul snapshot save' holds none of the $nsec original secrets"
log "PASS"
