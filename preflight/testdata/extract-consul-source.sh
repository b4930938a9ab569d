#!/usr/bin/env bash
# Regenerates consul-source.txt from Consul's own source, one block per
# module version: go mod download -json github.com/hashicorp/consul@vX.Y.Z
# fetches each tag from the Go module proxy (read only; nothing is built).
# Usage: bash preflight/testdata/extract-consul-source.sh > preflight/testdata/consul-source.txt
set -euo pipefail
versions="1.10.0 1.10.12 1.11.0 1.11.11 1.12.0 1.12.9 1.13.0 1.13.3 1.13.9 1.14.0 1.14.1 1.14.8 1.14.11
1.15.0 1.15.4 1.15.6 1.15.7 1.15.10 1.16.0 1.16.1 1.16.2 1.16.3 1.16.6 1.17.0 1.17.3 1.17.4
1.18.0 1.18.1 1.18.2 1.19.2 1.20.6 1.21.5 1.22.0 1.22.2 1.22.3"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod init x >/dev/null 2>&1)
for v in $versions; do
  dir=$(cd "$tmp" && go mod download -json "github.com/hashicorp/consul@v$v" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  fsm="$dir/agent/consul/fsm"
  snap=$(ls "$fsm"/snapshot_oss.go "$fsm"/snapshot_ce.go 2>/dev/null | head -1 || true)
  echo "version $v"
  echo "file $(basename "$snap")"
  # MessageType constants: name=number, from the const block that starts at RegisterRequestType.
  awk '/RegisterRequestType +MessageType = 0/{p=1} p&&/^\)/{exit} p' "$dir/agent/structs/structs.go" |
    sed -n 's/^[[:space:]]*\([A-Za-z]*\)[[:space:]]*\(MessageType \)\{0,1\}=[[:space:]]*\([0-9][0-9]*\).*/const \1 \3/p' || true
  grep -o 'registerRestorer(structs\.[A-Za-z]*' "$snap" | sed 's/registerRestorer(structs\./restorer /' || true
  awk '/^func \(c \*FSM\) Restore\(/,/^}/' "$fsm/fsm.go" > "$tmp/restore.go"
  grep -o 'case msg == structs\.[A-Za-z]*' "$tmp/restore.go" | sed 's/case msg == structs\./switch /' || true
  grep -o 'fmt.Errorf("[^"]*"' "$tmp/restore.go" | sed 's/fmt.Errorf(/error /' || true
  if grep -q 'structs.CEDowngrade && msg >= 64' "$tmp/restore.go"; then echo "downgrade"; fi
  if grep -q 'Decode(&ignore)' "$tmp/restore.go"; then echo "downgrade-consumes"; fi
  echo "raft $(sed -n 's/^[[:space:]]*github.com\/hashicorp\/raft \(v[0-9.]*\).*/\1/p' "$dir/go.mod")"
  echo
done
